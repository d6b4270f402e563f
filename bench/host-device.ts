// The firmware on the host program (native/host-device), as a LAN device for tests: XS, lwIP,
// the glue and its ESP-IDF stand-ins on a TAP in a namespace of the test's own, the kernel as
// the peer at 10.77.50.1/24 and dnsmasq serving DHCP, its files in a temporary root, run with
// the firmware's creation sizes. Commands
// written to the device's stdin unplug and plug the cable and stop and start the driver.
// Needs root.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Creation, appCreation, bundleForHost, creationEnv, hostDevicePath } from "../native/host-device/bundle.ts";
import { Child } from "./child.ts";
import type { FirmwareConfig } from "../modules/firmware/config.ts";
import { build } from "../native/host-device/manifest-model.ts";
import { Netns, type Teardown } from "./netns.ts";

export const KERNEL = "10.77.50.1";

let count = 0;

export interface HostDevice {
  ns: Netns;
  /** The TAP's name, in `ns`. */
  tap: string;
  /** The address the firmware's DHCP client took. */
  ip: string;
  prefix: number;
  /** The firmware's file root. */
  root: string;
  /** The host program: its log (the firmware's trace and the stand-ins' lines). */
  device: Child;
  /** dnsmasq, logging every DHCP message it gets and sends. */
  dhcp: Child;
  /** Writes one command to the host program (unplug, plug, stop, start, stats). */
  command(line: string): void;
  /** The memory in use now, after a full collection. */
  memory(): Promise<DeviceMemory>;
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

/** The documented boards, as mcconfig's -p names them. */
export const BOARDS = ["esp32", "esp32/wt32_eth01", "esp32/ethernet_kit"] as const;
export type Board = (typeof BOARDS)[number];

/** What the app's manifests give `board` (merged as mcconfig merges them): its config.netstack and its creation sizes. */
export function boardFirmware(board: Board): { netstack: FirmwareConfig; creation: Creation } {
  const b = build(new URL("../manifests/app/manifest.json", import.meta.url).pathname, board);
  return { netstack: (b.config as { netstack: FirmwareConfig }).netstack, creation: b.creation as unknown as Creation };
}

/**
 * `netstack` is the firmware's config.netstack (default: TFTP, FTP user esp, HTTP on www), `creation` its sizes (default the
 * app's own, the Ethernet boards'). With a board's (boardFirmware) the program runs that board's firmware but its network
 * bring-up: the bundle's is always the Ethernet one (bundle.ts), as the host has no Wi-Fi.
 */
export async function startHostDevice(t: Teardown, netstack?: object, creation: Creation = appCreation()): Promise<HostDevice> {
  const { path: script } = await bundleForHost("native/host-device/js/app.ts", "app");
  const root = mkdtempSync(join(tmpdir(), "host-device-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "www"));
  const ns = await Netns.create(t);
  const tap = `hd${process.pid}x${++count}`.slice(0, 15);
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
  const env = [
    `PRECONFIGURED_TAPIF=${tap}`,
    `NETSTACK_CONFIG=${JSON.stringify(config)}`,
    ...Object.entries(creationEnv(creation)).map(([k, v]) => `${k}=${v}`),
  ];
  const device = new Child(t, spawn("ip", ["netns", "exec", ns.name, "env", ...env, hostDevicePath(), script], { stdio: ["pipe", "pipe", "pipe"] }));
  await device.wait(/took ETH_DEF, MAC (\S+)/, 20_000, "the firmware to take the interface");
  await ns.addAddress(tap, `${KERNEL}/24`);
  await ns.up(tap);
  const dhcp = Child.spawn(t, "ip", [
    ...["netns", "exec", ns.name, "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=", "--port=0"],
    ...[
      `--interface=${tap}`,
      "--bind-interfaces",
      `--dhcp-leasefile=${join(root, "leases")}`,
      "--no-ping",
      "--log-facility=-",
      "--dhcp-range=10.77.50.100,10.77.50.120,10m",
    ],
  ]);
  const [, ip, prefix] = await device.wait(/address (\d+\.\d+\.\d+\.\d+)\/(\d+)/, 30_000, "a DHCP lease");
  const memory = async (): Promise<DeviceMemory> => {
    const from = device.text.length;
    device.process.kill("SIGUSR1");
    const [, json] = await device.wait(/host-device: memory (\{.*\})\n/, 10_000, "the memory report", from);
    return JSON.parse(json!) as DeviceMemory;
  };
  const command = (line: string) => device.process.stdin!.write(`${line}\n`);
  return { ns, tap, ip: ip!, prefix: Number(prefix), root, device, dhcp, command, memory };
}

export function pingSummary(out: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m) throw new Error(`no ping summary in: ${out}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}
