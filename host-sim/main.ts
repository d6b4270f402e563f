// The host simulator's embedded default (`npm start`): the device's stack boots on a
// virtual LAN under a virtual clock, a scripted client talks to it, every frame is
// traced in tcpdump style and recorded to a pcap whose name is printed at the end.
//   npm start -- --replay FILE    replay a pcap/pcapng into the device instead
//   npm start -- --out FILE       where to write the pcap (default out/device.pcap)
//   npm start -- --tap [NAME]     attach the device to a Linux TAP instead (root or
//                                 CAP_NET_ADMIN), print what to try, serve until Ctrl-C

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { VirtualClock } from "./clock.ts";
import { VirtualLan } from "./lan.ts";
import { SeededRandom } from "./random.ts";
import { PcapRecorder, readCaptureFile, replay } from "./capture.ts";
import { describeFrame } from "./trace.ts";
import { createStack, type Stack } from "../modules/stack/stack.ts";
import { parseIp, parseMac, ipToString, macEqual, type Ip4 } from "../modules/wire/address.ts";
import type { NetEvent } from "../modules/stack/netif.ts";

const { values } = parseArgs({
  options: {
    replay: { type: "string" },
    out: { type: "string", default: "out/device.pcap" },
    seed: { type: "string", default: "1" },
    tap: { type: "boolean", default: false },
    "tap-name": { type: "string", default: "" },
  },
  allowPositionals: true,
});

function addr(text: string): Ip4 {
  return parseIp(text)!;
}

const DEVICE_MAC = parseMac("02:00:00:00:00:02")!;
if (values.tap) await serveOnTap(values["tap-name"]);

const clock = new VirtualClock();
const lan = new VirtualLan(clock);
mkdirSync(dirname(values.out), { recursive: true });
const recorder = new PcapRecorder(lan.attach("device"), clock, values.out, { epochMs: Date.UTC(2026, 0, 1) });
const seed = Number(values.seed);
const device = createStack(recorder, clock, new SeededRandom(seed), {
  mac: DEVICE_MAC,
  ip: addr("10.0.0.2"),
  mask: addr("255.255.255.0"),
  gateway: addr("10.0.0.1"),
});
device.netif.onEvent = (e) => console.log(traceLine(e));
startEchoService(device);

if (values.replay) {
  const capture = readCaptureFile(values.replay);
  if (!capture.ok) fail(`cannot read ${values.replay}: ${capture.reason}`);
  // The device answers for itself: replay only what the other hosts sent.
  const theirs = capture.value.packets.filter((p) => !macEqual(p.data.subarray(6, 12), device.netif.mac));
  const started = replay(theirs, lan.attach("replay"), clock);
  if (!started.ok) fail(started.reason);
  clock.runUntilIdle();
} else {
  runClient();
}
recorder.close();
console.log(`\nstats ${JSON.stringify(device.netif.stats)}`);
console.log(`pcap: ${values.out} (${recorder.count} frames)`);

function traceLine(e: NetEvent): string {
  const t = (clock.now() / 1000).toFixed(6).padStart(11);
  if (e.kind === "event") return `${t}   -- ${e.layer}: ${e.text}`;
  return `${t} ${e.kind === "rx" ? "<" : ">"} ${describeFrame(e.frame)}`;
}

/** UDP echo (RFC 862) on port 7, the simplest service to show a round trip. */
function startEchoService(s: Stack): void {
  const pcb = s.udp.pcb();
  pcb.bind(7);
  pcb.recv((data, from, port) => pcb.sendTo(data, from, port));
}

/** A client host on the same LAN: pings the device, uses its echo service, and knocks on a closed port. */
function runClient(): void {
  const client = createStack(lan.attach("client"), clock, new SeededRandom(seed + 1), {
    mac: parseMac("02:00:00:00:00:09")!,
    ip: addr("10.0.0.9"),
    mask: addr("255.255.255.0"),
    gateway: addr("10.0.0.1"),
  });
  const target = device.netif.ip;
  client.icmp.onEchoReply = (src, _id, seq, data) => note(`echo reply from ${ipToString(src)} seq ${seq}, ${data.length} bytes`);
  for (let seq = 1; seq <= 3; seq++) {
    clock.setTimer(seq * 1000, () => client.icmp.echo(target, 0x4242, seq, new Uint8Array(56).fill(seq)));
  }
  const pcb = client.udp.pcb();
  pcb.recv((data) => note(`echo service answered "${new TextDecoder().decode(data)}"`));
  clock.setTimer(4000, () => pcb.sendTo(new TextEncoder().encode("hello, device"), target, 7));
  clock.setTimer(5000, () => pcb.sendTo(new Uint8Array([1]), target, 9));
  clock.runUntilIdle();
}

function note(text: string): void {
  console.log(`${(clock.now() / 1000).toFixed(6).padStart(11)}   -- client: ${text}`);
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** TAP mode: the kernel and its tools are the peer; runs until interrupted. */
async function serveOnTap(name: string): Promise<never> {
  const { TapLink } = await import("./tap.ts");
  const { RealClock } = await import("./clock.ts");
  let tap: ReturnType<typeof TapLink.open>;
  try {
    tap = TapLink.open(name);
  } catch (e) {
    fail(`cannot attach to a TAP device: ${(e as Error).message}`);
  }
  const real = new RealClock();
  const stack = createStack(tap, real, new SeededRandom(Number(values.seed)), {
    mac: DEVICE_MAC,
    ip: addr("10.0.0.2"),
    mask: addr("255.255.255.0"),
    gateway: addr("10.0.0.1"),
  });
  const started = real.now();
  stack.netif.onEvent = (e) => {
    const t = ((real.now() - started) / 1000).toFixed(6).padStart(11);
    console.log(e.kind === "event" ? `${t}   -- ${e.layer}: ${e.text}` : `${t} ${e.kind === "rx" ? "<" : ">"} ${describeFrame(e.frame)}`);
  };
  startEchoService(stack);
  console.log(`device 10.0.0.2 attached to ${tap.name}. In another shell, as root:
  ip addr add 10.0.0.1/24 dev ${tap.name} && ip link set ${tap.name} up
then try:
  ping -c 3 10.0.0.2
  ping -s 1472 -c 3 10.0.0.2
  arping -c 3 -i ${tap.name} 10.0.0.2
  echo hello | nc -u -w1 10.0.0.2 7
Ctrl-C stops it.`);
  process.on("SIGINT", () => {
    tap.close();
    console.log(`\nstats ${JSON.stringify(stack.netif.stats)}`);
    process.exit(0);
  });
  return new Promise<never>(() => {});
}
