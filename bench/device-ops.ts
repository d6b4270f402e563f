// What the device benchmark measures, portable so that the same bundle runs on xsnap-worker
// (the TypeScript checksum) and on the host program (the device's native checksum): one frame
// in and its answer out for ARP, ICMP echo and a 1460-byte TCP segment on an established
// connection, and idle TCP connections held open, for the heap. A peer made of the wire
// encoders drives the device's stack; timers never fire.

import { createStack } from "../modules/stack/stack.ts";
import type { Clock, Link } from "../modules/platform.ts";
import { SeededRandom } from "../host-sim/random.ts";
import { BROADCAST_MAC, ZERO_MAC } from "../modules/wire/address.ts";
import { decodeEthernet, encodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "../modules/wire/ethernet.ts";
import { encodeArp, ARP_REQUEST } from "../modules/wire/arp.ts";
import { decodeIpv4, encodeIpv4, ipv4Length, IP_PROTO_ICMP, IP_PROTO_TCP } from "../modules/wire/ipv4.ts";
import { encodeIcmp, icmpLength } from "../modules/wire/icmp.ts";
import { ACK, SYN, decodeTcp, encodeTcp, tcpLength, type TcpSegment } from "../modules/wire/tcp.ts";

const DEVICE = 0x0a000002;
const PEER = 0x0a000009;
const DEVICE_MAC = Uint8Array.of(2, 0, 0, 0, 0, 2);
const PEER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 9);
const MSS = 1460;

let last: Uint8Array | undefined;
const link: Link = { transmit: (f) => void (last = f), setReceiver: () => {} };
const clock: Clock = { now: () => 0, setTimer: () => ({ cancel() {} }) };
// Room for the connections the heap measurement holds open (the default is 8).
export const stack = createStack(link, clock, new SeededRandom(1), { mac: DEVICE_MAC, ip: DEVICE, mask: 0xffffff00, gateway: 0, tcp: { maxPcbs: 32 } });

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

function arpRequest(): Uint8Array {
  const b = new Uint8Array(28);
  encodeArp({ op: ARP_REQUEST, senderMac: PEER_MAC, senderIp: PEER, targetMac: ZERO_MAC, targetIp: DEVICE }, b);
  return frame(ETHERTYPE_ARP, b, BROADCAST_MAC);
}

function ping(size: number): Uint8Array {
  const m = { kind: "echo-request" as const, code: 0, id: 1, seq: 1, data: new Uint8Array(size).fill(0x61) };
  const b = new Uint8Array(icmpLength(m));
  encodeIcmp(m, b);
  return ip(IP_PROTO_ICMP, b);
}

function tcp(s: Partial<TcpSegment> & Pick<TcpSegment, "srcPort" | "dstPort" | "seq" | "ack" | "flags">): Uint8Array {
  const seg: TcpSegment = { window: 65535, urgent: 0, options: {}, payload: new Uint8Array(0), ...s };
  const b = new Uint8Array(tcpLength(seg));
  encodeTcp(seg, PEER, DEVICE, b);
  return ip(IP_PROTO_TCP, b);
}

/** The device's last TCP segment out. */
function answer(): TcpSegment {
  const eth = decodeEthernet(last!);
  if (!eth.ok) throw new Error(eth.reason);
  const p = decodeIpv4(eth.value.payload);
  if (!p.ok) throw new Error(p.reason);
  const t = decodeTcp(p.value.payload, p.value.src, p.value.dst);
  if (!t.ok) throw new Error(t.reason);
  return t.value;
}

/** Opens a connection from `srcPort` to `port` by the three-way handshake; returns the peer's next seq and the device's. */
function connect(srcPort: number, port: number): { seq: number; ack: number } {
  const isn = 1000;
  stack.netif.input(tcp({ srcPort, dstPort: port, seq: isn, ack: 0, flags: SYN, options: { mss: MSS } }));
  const synAck = answer();
  if (!(synAck.flags & SYN)) throw new Error(`no SYN-ACK: ${JSON.stringify(stack.netif.stats.drops)}`);
  const ack = (synAck.seq + 1) >>> 0;
  stack.netif.input(tcp({ srcPort, dstPort: port, seq: isn + 1, ack, flags: ACK }));
  return { seq: isn + 1, ack };
}

// Teach the device the peer's MAC, so answers go straight out.
stack.netif.input(arpRequest());

// A sink on port 9 that reads everything and reopens the window at once.
const sink = stack.tcp.listen(9, 4)!;
sink.accept((pcb) => pcb.recv((data) => data && pcb.recved(data.length)));
const flow = connect(40000, 9);
const segment = new Uint8Array(MSS).fill(0x62);

const arp = arpRequest();
const echo = ping(56);

export const ops: Record<string, (n: number) => void> = {
  "ARP request in, reply out": (n) => {
    for (let i = 0; i < n; i++) stack.netif.input(arp);
  },
  "ICMP echo 56 B in, reply out": (n) => {
    for (let i = 0; i < n; i++) stack.netif.input(echo);
  },
  "TCP segment 1460 B in, delivered (ACK per two)": (n) => {
    for (let i = 0; i < n; i++) {
      stack.netif.input(tcp({ srcPort: 40000, dstPort: 9, seq: flow.seq, ack: flow.ack, flags: ACK, payload: segment }));
      flow.seq = (flow.seq + MSS) >>> 0;
    }
  },
};

/** Holds `n` more idle connections open to a listener on port 80 (each accepted, with a recv callback, as a server would). */
let nextPort = 41000;
const held: unknown[] = [];
const server = stack.tcp.listen(80, 64)!;
server.accept((pcb) => {
  held.push(pcb);
  pcb.recv((data) => data && pcb.recved(data.length));
});
export function openConnections(n: number): number {
  for (let i = 0; i < n; i++) connect(nextPort++, 80);
  return held.length;
}
