// The host simulator's embedded default (`npm start`): the firmware core boots on a
// virtual LAN under a virtual clock, a scripted client talks to it, every frame is
// traced in tcpdump style and recorded to a pcap, drawn beside it as a ladder diagram
// (npm run ladder); both names are printed at the end.
//   npm start -- --replay FILE    replay a pcap/pcapng into the device instead
//   npm start -- --out FILE       where to write the pcap (default out/device.pcap)
//   npm start -- --tap            the firmware on a Linux TAP instead (root or CAP_NET_ADMIN),
//                                 DHCP unless --static ADDR/PREFIX[,GATEWAY]; --tap-name NAME,
//                                 --root DIR, --config FILE, --pcap FILE, --quiet (tap-mode.ts)

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { VirtualClock } from "./clock.ts";
import { VirtualLan } from "./lan.ts";
import { SeededRandom } from "./random.ts";
import { PcapRecorder, readCaptureFile, replay } from "./capture.ts";
import { noteLine, traceLine } from "./trace.ts";
import { writeLadder } from "./ladder/index.ts";
import { DEVICE_MAC, memoryStore } from "./firmware.ts";
import { serveOnTap } from "./tap-mode.ts";
import { createStack, type Stack } from "../modules/stack/stack.ts";
import type { Storage } from "../modules/storage/storage.ts";
import type { Link } from "../modules/platform.ts";
import type { NetEvent } from "../modules/stack/netif.ts";
import { startFirmware, type Firmware } from "../modules/firmware/firmware.ts";
import type { FirmwareConfig } from "../modules/firmware/config.ts";
import { DnsResolver } from "../modules/services/dns-resolver.ts";
import { DhcpServer } from "./peers/dhcp-server.ts";
import { DnsServer } from "./peers/dns-server.ts";
import { tftpGet, runTransfer } from "./clients/tftp-client.ts";
import { FtpClient } from "./clients/ftp-client.ts";
import { httpRequest } from "./clients/http-client.ts";
import { parseIp, parseMac, ipToString, macEqual, type Ip4 } from "../modules/wire/address.ts";

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        replay: { type: "string" },
        out: { type: "string", default: "out/device.pcap" },
        seed: { type: "string", default: "1" },
        tap: { type: "boolean", default: false },
        "tap-name": { type: "string", default: "" },
        static: { type: "string" },
        root: { type: "string" },
        config: { type: "string" },
        pcap: { type: "string" },
        quiet: { type: "boolean", default: false },
      },
      allowPositionals: true,
    });
  } catch (e) {
    fail((e as Error).message);
  }
})();
if (!/^\d+$/.test(values.seed)) fail(`--seed ${values.seed}: expected a whole number`);
if (!values.tap) for (const o of ["static", "root", "config", "pcap"] as const) if (values[o] !== undefined) fail(`--${o} goes with --tap`);

function addr(text: string): Ip4 {
  return parseIp(text)!;
}

/** What the demo device runs: the firmware core with echo, TFTP (read-only), FTP (anonymous, read-only, in pub/) and HTTP. */
const DEMO: FirmwareConfig = {
  hostname: "esp32-sim",
  tftp: { root: "", write: "none" },
  ftp: { root: "", users: [], anonymous: "pub" },
  http: { root: "", put: false },
  echo: true,
};
if (values.tap) {
  const { static: fixed, root, config, pcap, quiet } = values;
  const served = serveOnTap({ name: values["tap-name"], static: fixed, root, config, pcap, quiet, seed: Number(values.seed) });
  if (!served.ok) fail(served.reason);
  await new Promise<never>(() => {}); // serves until Ctrl-C
}

const clock = new VirtualClock();
const lan = new VirtualLan(clock);
mkdirSync(dirname(values.out), { recursive: true });
const recorder = new PcapRecorder(lan.attach("device"), clock, values.out, { epochMs: Date.UTC(2026, 0, 1) });
const seed = Number(values.seed);
const files = deviceFiles();
// The simulator's DHCP/DNS host and the client are on the LAN before the device boots.
const client = values.replay ? undefined : startPeers();
// The device boots with no address: DHCP gives it one (the replay's device has a fixed one).
const device = startServices(recorder, new SeededRandom(seed), files, values.replay ? { ...DEMO, address: "10.0.0.2/24,10.0.0.1" } : DEMO, (e) =>
  console.log(traceLine(clock.now(), e)),
);

if (values.replay) {
  const capture = readCaptureFile(values.replay);
  if (!capture.ok) fail(`cannot read ${values.replay}: ${capture.reason}`);
  // The device answers for itself: replay only what the other hosts sent.
  const theirs = capture.value.packets.filter((p) => !macEqual(p.data.subarray(6, 12), DEVICE_MAC));
  const started = replay(theirs, lan.attach("replay"), clock);
  if (!started.ok) fail(started.reason);
  clock.runUntilIdle();
} else {
  bootAndExercise(client!);
}
recorder.close();
console.log(`\nstats ${device.stack.netif.stats.json()}`);
console.log(`pcap: ${values.out} (${recorder.count} frames)`);
const ladder = writeLadder(values.out);
console.log(ladder.ok ? `ladder: ${ladder.value.htmlPath} (${ladder.value.svgPath})` : `ladder: not drawn: ${ladder.reason}`);

/** What the device serves: a small in-memory file system. */
function deviceFiles(): Storage {
  return memoryStore(
    {
      "pub/readme.txt": "Served by the simulated device.\n",
      "pub/firmware.bin": Uint8Array.from({ length: 20_000 }, (_, i) => (i * 31) & 0xff),
    },
    256 * 1024,
  );
}

/** The device: the firmware core (modules/firmware), as the ESP32 runs it, on the simulator's ports. */
function startServices(link: Link, random: SeededRandom, store: Storage, config: FirmwareConfig, onEvent: (e: NetEvent) => void): Firmware {
  const started = startFirmware({ link, mac: DEVICE_MAC, clock, random, storage: store, log: (text) => note("device", text) }, config, { onEvent });
  if (!started.ok) fail(started.reason);
  return started.value;
}

/** The embedded default's other hosts: an infrastructure host (DHCP and DNS) and a client; returns the client. */
function startPeers(): Stack {
  const infra = createStack(lan.attach("infra"), clock, new SeededRandom(seed + 2), { mac: parseMac("02:00:00:00:00:01")!, ...subnet("10.0.0.1") });
  new DhcpServer(infra, {
    poolStart: addr("10.0.0.100"),
    poolSize: 50,
    mask: addr("255.255.255.0"),
    leaseTime: 3600,
    routers: [addr("10.0.0.1")],
    dnsServers: [addr("10.0.0.1")],
    domainName: "lan",
  });
  new DnsServer(infra, {
    records: [
      { name: "infra.lan", class: 1, ttl: 300, type: "A", address: addr("10.0.0.1") },
      { name: "www.lan", class: 1, ttl: 300, type: "CNAME", target: "infra.lan" },
    ],
  });
  return createStack(lan.attach("client"), clock, new SeededRandom(seed + 1), { mac: parseMac("02:00:00:00:00:09")!, ...subnet("10.0.0.9") });
}

/**
 * The embedded default: the device leases an address, resolves a name and starts its
 * services; then the client, step by step, pings it, uses its echo service, knocks on a
 * closed port, fetches a file over TFTP and over FTP in passive and in active mode, and
 * gets a page over HTTP.
 */
function bootAndExercise(client: Stack): void {
  const dhcp = device.dhcp!;
  step("the device's lease", () => dhcp.lease !== undefined);
  const lease = dhcp.lease!;
  note("device", `bound to ${ipToString(lease.ip)} for ${lease.leaseTime} s, DNS ${lease.dnsServers.map(ipToString).join(", ")}`);
  const resolver = new DnsResolver(device.stack);
  resolver.setServers(lease.dnsServers);
  let resolved = false;
  resolver.resolve("www.lan", "A", (err, r) => {
    resolved = true;
    note(
      "device",
      err ? `www.lan: ${err.code}` : `www.lan is ${r!.type === "A" ? r!.addresses.map(ipToString).join(", ") : "?"} (canonical ${r!.canonical}, ttl ${r!.ttl})`,
    );
  });
  step("the name", () => resolved);
  exercise(client, lease.ip);
}

function subnet(ip: string) {
  return { ip: addr(ip), mask: addr("255.255.255.0"), gateway: addr("10.0.0.1") };
}

/** Runs the virtual clock until `done` holds (the lease's timers never let it go idle). */
function step(what: string, done: () => boolean): void {
  if (!clock.runUntil(done, 1_000_000)) fail(`the scripted run stalled waiting for ${what}`);
}

function exercise(client: Stack, target: Ip4): void {
  let replies = 0;
  client.icmp.onEchoReply = (src, _id, seq, data) => {
    replies++;
    note("client", `echo reply from ${ipToString(src)} seq ${seq}, ${data.length} bytes`);
  };
  for (let seq = 1; seq <= 3; seq++) clock.setTimer(seq * 1000, () => client.icmp.echo(target, 0x4242, seq, new Uint8Array(56).fill(seq)));
  step("3 echo replies", () => replies === 3);

  let echoed = false;
  const pcb = client.udp.pcb();
  pcb.recv((data) => {
    echoed = true;
    note("client", `echo service answered "${new TextDecoder().decode(data)}"`);
  });
  pcb.sendTo(new TextEncoder().encode("hello, device"), target, 7);
  step("the echo", () => echoed);
  pcb.sendTo(new Uint8Array([1]), target, 9);
  clock.advance(1000);

  const want = readAll(files, "pub/firmware.bin");
  const tftp = runTransfer(clock, (done) => tftpGet(client, target, "pub/firmware.bin", { options: { blksize: 1428, tsize: 0 } }, done));
  note(
    "client",
    tftp.error ? `TFTP get failed: ${JSON.stringify(tftp.error)}` : `TFTP got pub/firmware.bin, ${tftp.data.length} bytes, ${same(tftp.data, want)}`,
  );

  const ftp = new FtpClient(client, clock, target);
  note("client", `FTP login: ${ftp.login("anonymous", "guest@lan").lines.join(" ")}`);
  ftp.cmd("TYPE I");
  for (const line of ftp.list("LIST", "", "pasv").lines) note("client", `FTP LIST: ${line}`);
  for (const mode of ["pasv", "port"] as const) {
    const r = ftp.retr("firmware.bin", mode);
    note(
      "client",
      `FTP RETR in ${mode === "pasv" ? "passive" : "active"} mode: ${r.final?.code ?? r.first.code}, ${r.data.length} bytes, ${same(r.data, want)}`,
    );
  }
  note("client", `FTP QUIT: ${ftp.cmd("QUIT").lines.join(" ")}`);

  const page = httpRequest(client, clock, target, "/pub/readme.txt");
  note("client", `HTTP GET /pub/readme.txt: ${page.head.split("\r\n")[0]}, body "${page.text.trim()}"`);
  clock.advance(1000);
}

function same(a: Uint8Array, b: Uint8Array): string {
  return a.length === b.length && a.every((x, i) => x === b[i]) ? "identical" : "DIFFERENT";
}

function readAll(store: Storage, path: string): Uint8Array {
  const h = store.openRead(path);
  if (!h.ok) return new Uint8Array(0);
  const out = new Uint8Array(h.value.size);
  let n = 0;
  for (let r = h.value.read(out.subarray(n)); r.ok && r.value > 0; r = h.value.read(out.subarray(n))) n += r.value;
  h.value.close();
  return out;
}

function note(who: string, text: string): void {
  console.log(noteLine(clock.now(), who, text));
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
