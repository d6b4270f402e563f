// Stack operations whose cost the benchmark measures on XS (computrons per call) and on
// Node: a frame goes into netif.input and the answer comes out on the link. Portable:
// bundled for XS, so no Node APIs here. Timers never fire during a measurement.

import { createStack } from "../modules/stack/stack.ts";
import type { Clock, Link } from "../modules/platform.ts";
import { SeededRandom } from "../host-sim/random.ts";
import { BROADCAST_MAC, ZERO_MAC } from "../modules/wire/address.ts";
import { encodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "../modules/wire/ethernet.ts";
import { encodeArp, ARP_REQUEST } from "../modules/wire/arp.ts";
import { encodeIpv4, ipv4Length, IP_PROTO_ICMP, IP_PROTO_UDP } from "../modules/wire/ipv4.ts";
import { encodeIcmp, icmpLength } from "../modules/wire/icmp.ts";
import { encodeUdp, udpLength } from "../modules/wire/udp.ts";

const DEVICE = 0x0a000002;
const PEER = 0x0a000009;
const DEVICE_MAC = Uint8Array.of(2, 0, 0, 0, 0, 2);
const PEER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 9);

let sent = 0;
const link: Link = { transmit: () => void sent++, setReceiver: () => {} };
const clock: Clock = { now: () => 0, setTimer: () => ({ cancel() {} }) };
const stack = createStack(link, clock, new SeededRandom(1), { mac: DEVICE_MAC, ip: DEVICE, mask: 0xffffff00, gateway: 0 });

function frame(ethertype: number, payload: Uint8Array, dst: Uint8Array = DEVICE_MAC): Uint8Array {
  const f = new Uint8Array(Math.max(60, 14 + payload.length));
  encodeEthernet({ dst, src: PEER_MAC, ethertype, payload }, f);
  return f;
}

function ip(protocol: number, payload: Uint8Array): Uint8Array {
  const p = { dscp: 0, ecn: 0, id: 1, df: true, mf: false, fragmentOffsetBytes: 0, ttl: 64, protocol, src: PEER, dst: DEVICE, options: new Uint8Array(0), payload };
  const b = new Uint8Array(ipv4Length(p));
  encodeIpv4(p, b);
  return frame(ETHERTYPE_IPV4, b);
}

function ping(size: number): Uint8Array {
  const m = { kind: "echo-request" as const, code: 0, id: 1, seq: 1, data: new Uint8Array(size).fill(0x61) };
  const b = new Uint8Array(icmpLength(m));
  encodeIcmp(m, b);
  return ip(IP_PROTO_ICMP, b);
}

function arpRequest(): Uint8Array {
  const b = new Uint8Array(28);
  encodeArp({ op: ARP_REQUEST, senderMac: PEER_MAC, senderIp: PEER, targetMac: ZERO_MAC, targetIp: DEVICE }, b);
  return frame(ETHERTYPE_ARP, b, BROADCAST_MAC);
}

function udp(size: number): Uint8Array {
  const d = { srcPort: 40000, dstPort: 7, payload: new Uint8Array(size).fill(0x62) };
  const b = new Uint8Array(udpLength(d));
  encodeUdp(d, PEER, DEVICE, b);
  return ip(IP_PROTO_UDP, b);
}

// Teach the device the peer's MAC, so replies go straight out instead of waiting on ARP.
stack.netif.input(arpRequest());
const sink = stack.udp.pcb();
sink.bind(7);
let received = 0;
sink.recv((data) => void (received += data.length));

const inputs: Record<string, Uint8Array> = {
  "ARP request in, reply out": arpRequest(),
  "ICMP echo 56 B in, reply out": ping(56),
  "ICMP echo 1472 B in, reply out": ping(1472),
  "UDP 1472 B datagram delivered": udp(1472),
};

export const ops: Record<string, (n: number) => void> = {};
for (const [name, f] of Object.entries(inputs)) {
  ops[name] = (n) => {
    for (let i = 0; i < n; i++) stack.netif.input(f);
  };
}

/** Frames sent and bytes received so far, so a run can check the operations did their work. */
export function effects(): { sent: number; received: number } {
  return { sent, received };
}
