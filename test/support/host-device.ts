// The firmware on the host program (native/host-device: XS, Debian's lwIP's tapif and the
// device glue), on a TAP in a namespace of its own with the kernel as the peer
// (10.77.50.1/24) and dnsmasq serving DHCP, its files in a temporary root, run with the
// firmware's creation sizes. Needs root. The tests in test/device and bench/device.ts use it.
//
// The kernel's side of the TAP has an MTU of 576: Debian's liblwip (2.1.3+dfsg1-2) sizes its
// PBUF_POOL buffers for a 536-byte MSS (616 bytes with the header) in one file and fills them
// for a 1460-byte MSS in another, so tapif writes any frame longer than 592 bytes past its pbuf
// (AddressSanitizer: heap-buffer-overflow in pbuf_take on tapif's thread, then malloc aborts).
// Frames of at most 590 bytes stay inside it. Our glue and stack are not limited by this: the
// host simulator's TAP tests run full-size frames.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Creation, appCreation, bundleForHost, creationEnv, hostDevicePath } from "../../native/host-device/bundle.ts";
import type { FirmwareConfig } from "../../modules/firmware/config.ts";
import { build } from "../device/manifest-model.ts";
import { Netns, type Teardown } from "./netns.ts";

export const KERNEL = "10.77.50.1";
/** The kernel's side of the device's link, in the device's namespace. */
export const TAP = "tapdev0";

/** Output of a child process, and a way to wait for a line. */
export class Output {
  text = "";
  constructor(p: ChildProcess) {
    p.stdout?.setEncoding("utf8").on("data", (d: string) => (this.text += d));
    p.stderr?.setEncoding("utf8").on("data", (d: string) => (this.text += d));
  }
  async wait(pattern: RegExp, ms: number, what: string, from = 0): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.text.slice(from));
      if (m) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; output so far:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function spawnIn(t: Teardown, ns: Netns, args: string[], env: Record<string, string> = {}): { p: ChildProcess; out: Output } {
  const p = spawn("ip", ["netns", "exec", ns.name, "env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...args]);
  const out = new Output(p);
  const exited = new Promise<void>((resolve) => p.once("exit", () => resolve()));
  t.teardown(async () => {
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    await exited;
  });
  return { p, out };
}

/** What the host program reports on SIGUSR1 (native/host-device/preload.c), counted from the end of the preload. */
export interface DeviceMemory {
  /** Keys made at run time, and how many may be. */
  keys: number;
  keyLimit: number;
  /** Slots and chunk bytes in use after a full collection. */
  slots: number;
  chunks: number;
  /** Of the chunk bytes, those holding ArrayBuffers' data. */
  buffers: number;
  preloadedKeys: number;
  preloadedSlots: number;
  preloadedChunks: number;
  /** Bytes per slot on this host (the ESP32's are 16). */
  slotSize: number;
}

export interface Device {
  ns: Netns;
  ip: string;
  prefix: number;
  root: string;
  out: Output;
  process: ChildProcess;
  /** The memory in use now, after a full collection. */
  memory(): Promise<DeviceMemory>;
}

/** The documented boards, as mcconfig's -p names them. */
export const BOARDS = ["esp32", "esp32/wt32_eth01", "esp32/ethernet_kit"] as const;
export type Board = (typeof BOARDS)[number];

/** What the app's manifests give `board` (merged as mcconfig merges them): its config.netstack and its creation sizes. */
export function boardFirmware(board: Board): { netstack: FirmwareConfig; creation: Creation } {
  const b = build(new URL("../../manifests/app/manifest.json", import.meta.url).pathname, board);
  return { netstack: (b.config as { netstack: FirmwareConfig }).netstack, creation: b.creation as unknown as Creation };
}

/**
 * `netstack` is the firmware's config.netstack (default: TFTP, FTP user esp, HTTP on www), `creation` its sizes (default the
 * app's own, the Ethernet boards'). With a board's (boardFirmware) the program runs that board's firmware but its network
 * bring-up: the bundle's is always the Ethernet one (bundle.ts), as the host has no Wi-Fi.
 */
export async function startDevice(t: Teardown, netstack?: object, creation: Creation = appCreation()): Promise<Device> {
  const bin = hostDevicePath();
  const { path: script } = await bundleForHost("native/host-device/js/app.ts", "app");
  const root = mkdtempSync(join(tmpdir(), "host-device-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "www"));
  const ns = await Netns.create(t);
  await ns.mustRun("sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  const config = {
    file: { root: `${root}/` },
    netstack: netstack ?? {
      hostname: "netstack",
      tftp: { root: "tftp", write: "create" },
      ftp: { root: "", users: [{ name: "esp", password: "esp32" }] },
      http: { root: "www", put: false },
    },
  };
  const hd = spawnIn(t, ns, [bin, script], { PRECONFIGURED_TAPIF: TAP, NETSTACK_CONFIG: JSON.stringify(config), ...creationEnv(creation) });
  await hd.out.wait(/took ETH_DEF, MAC (\S+)/, 20_000, "the firmware to take the interface");
  await ns.addAddress(TAP, `${KERNEL}/24`);
  await ns.mustRun("ip", ["link", "set", "dev", TAP, "mtu", "576"]);
  await ns.up(TAP);
  const leases = join(root, "leases");
  spawnIn(t, ns, [
    "dnsmasq",
    "--no-daemon",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--pid-file=",
    "--port=0",
    `--interface=${TAP}`,
    "--bind-interfaces",
    `--dhcp-leasefile=${leases}`,
    "--no-ping",
    "--log-facility=-",
    "--dhcp-range=10.77.50.100,10.77.50.120,10m",
  ]);
  const [, ip, prefix] = await hd.out.wait(/address (\d+\.\d+\.\d+\.\d+)\/(\d+)/, 30_000, "a DHCP lease");
  const memory = async (): Promise<DeviceMemory> => {
    const from = hd.out.text.length;
    hd.p.kill("SIGUSR1");
    const [, json] = await hd.out.wait(/host-device: memory (\{.*\})\n/, 10_000, "the memory report", from);
    return JSON.parse(json!) as DeviceMemory;
  };
  return { ns, ip: ip!, prefix: Number(prefix), root, out: hd.out, process: hd.p, memory };
}
