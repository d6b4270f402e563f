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
import { decodeTcp, encodeTcp, tcpLength, ACK, SYN, type TcpSegment } from "../modules/wire/tcp.ts";

const DEVICE = 0x0a000002;
const PEER = 0x0a000009;
const DEVICE_MAC = Uint8Array.of(2, 0, 0, 0, 0, 2);
const PEER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 9);

let sent = 0;
let last: Uint8Array = new Uint8Array(0);
const link: Link = {
  transmit: (f) => {
    sent++;
    last = f;
  },
  setReceiver: () => {},
};
const clock: Clock = { now: () => 0, setTimer: () => ({ cancel() {} }) };
const stack = createStack(link, clock, new SeededRandom(1), { mac: DEVICE_MAC, ip: DEVICE, mask: 0xffffff00, gateway: 0 });

function frame(ethertype: number, payload: Uint8Array, dst: Uint8Array = DEVICE_MAC): Uint8Array {
  const f = new Uint8Array(Math.max(60, 14 + payload.length));
  encodeEthernet({ dst, src: PEER_MAC, ethertype, payload }, f);
  return f;
}

function ipPacket(protocol: number, payload: Uint8Array): Uint8Array {
  const p = { dscp: 0, ecn: 0, id: 1, df: true, mf: false, fragmentOffsetBytes: 0, ttl: 64, protocol, src: PEER, dst: DEVICE, options: new Uint8Array(0), payload };
  const b = new Uint8Array(ipv4Length(p));
  encodeIpv4(p, b);
  return frame(ETHERTYPE_IPV4, b);
}

function ping(size: number): Uint8Array {
  const m = { kind: "echo-request" as const, code: 0, id: 1, seq: 1, data: new Uint8Array(size).fill(0x61) };
  const b = new Uint8Array(icmpLength(m));
  encodeIcmp(m, b);
  return ipPacket(IP_PROTO_ICMP, b);
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
  return ipPacket(IP_PROTO_UDP, b);
}

function tcp(seg: Partial<TcpSegment>): Uint8Array {
  const s: TcpSegment = { srcPort: 40000, dstPort: 9, seq: 0, ack: 0, flags: ACK, window: 65535, urgent: 0, options: {}, payload: new Uint8Array(0), ...seg };
  const b = new Uint8Array(tcpLength(s));
  encodeTcp(s, PEER, DEVICE, b);
  return ipPacket(6, b);
}

/** Opens a connection to the device's port 9 and prepares `count` in-order 1460-byte segments for it. */
function tcpSegments(count: number): Uint8Array[] {
  stack.tcp.listen(9, 1)!.accept((pcb) => pcb.recv((data) => data && pcb.recved(data.length)));
  const isn = 1000;
  stack.netif.input(tcp({ seq: isn, flags: SYN, options: { mss: 1460 } }));
  const synAck = decodeTcp(last.subarray(34), DEVICE, PEER);
  const ours = synAck.ok ? synAck.value.seq + 1 : 0;
  stack.netif.input(tcp({ seq: isn + 1, ack: ours }));
  const payload = new Uint8Array(1460).fill(0x63);
  return Array.from({ length: count }, (_, i) => tcp({ seq: (isn + 1 + i * 1460) >>> 0, ack: ours, payload }));
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

// Each call consumes the next segment, so every one is new, in order data (ACKed every second one).
const segments = tcpSegments(1200);
let next = 0;
ops["TCP 1460 B segment in order, delivered and ACKed"] = (n) => {
  for (let i = 0; i < n; i++) stack.netif.input(segments[next++]!);
};

/** Frames sent and bytes received so far, so a run can check the operations did their work. */
export function effects(): { sent: number; received: number } {
  return { sent, received };
}
