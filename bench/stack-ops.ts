// What the benchmarks measure, portable so the same bundle runs on Node, on xsnap-worker
// (the TypeScript checksum) and on the device's host program (the native checksum): one
// frame in and its answer out for ARP, ICMP echo, UDP and an in-order 1460-byte TCP
// segment (bulk receive), one 1460-byte segment read from storage, sent and acknowledged
// (bulk send), and idle TCP connections held open, for the heap. A peer made of the wire
// encoders drives the device's stack; the frames are built before they are measured, so
// the peer's own cost stays out. Timers never fire.

import { createStack } from "../modules/stack/stack.ts";
import type { Clock, Link } from "../modules/platform.ts";
import { SeededRandom } from "../host-sim/random.ts";
import { BROADCAST_MAC, ZERO_MAC } from "../modules/wire/address.ts";
import { updateChecksum } from "../modules/wire/checksum.ts";
import { decodeEthernet, encodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_HEADER_LEN } from "../modules/wire/ethernet.ts";
import { encodeArp, ARP_LEN, ARP_REQUEST } from "../modules/wire/arp.ts";
import { decodeIpv4, encodeIpv4, ipv4Length, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, IPV4_MIN_HEADER_LEN } from "../modules/wire/ipv4.ts";
import { encodeIcmp, icmpLength } from "../modules/wire/icmp.ts";
import { encodeUdp, udpLength } from "../modules/wire/udp.ts";
import { ACK, SYN, decodeTcp, encodeTcp, tcpLength, type TcpSegment, TCP_ACK_OFFSET, TCP_CHECKSUM_OFFSET, TCP_SEQ_OFFSET } from "../modules/wire/tcp.ts";
import { unwrap } from "../modules/wire/result.ts";
import { MemoryStorage } from "../modules/storage/memory.ts";
import type { TcpPcb } from "../modules/stack/tcp.ts";

const DEVICE = 0x0a000002;
const PEER = 0x0a000009;
const DEVICE_MAC = Uint8Array.of(2, 0, 0, 0, 0, 2);
const PEER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 9);
const MSS = 1460;

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
// Room for the connections the heap measurement holds open (the default is 8).
const stack = createStack(link, clock, new SeededRandom(1), { mac: DEVICE_MAC, ip: DEVICE, mask: 0xffffff00, gateway: 0, tcp: { maxPcbs: 32 } });

function frame(ethertype: number, payload: Uint8Array, dst: Uint8Array = DEVICE_MAC): Uint8Array {
  const f = new Uint8Array(Math.max(60, ETH_HEADER_LEN + payload.length));
  encodeEthernet({ dst, src: PEER_MAC, ethertype, payload }, f);
  return f;
}

function ipPacket(protocol: number, payload: Uint8Array): Uint8Array {
  const p = {
    dscp: 0,
    ecn: 0,
    id: 1,
    df: true,
    mf: false,
    fragmentOffsetBytes: 0,
    ttl: 64,
    protocol,
    src: PEER,
    dst: DEVICE,
    options: new Uint8Array(0),
    payload,
  };
  const b = new Uint8Array(ipv4Length(p));
  encodeIpv4(p, b);
  return frame(ETHERTYPE_IPV4, b);
}

function arpRequest(): Uint8Array {
  const b = new Uint8Array(ARP_LEN);
  encodeArp({ op: ARP_REQUEST, senderMac: PEER_MAC, senderIp: PEER, targetMac: ZERO_MAC, targetIp: DEVICE }, b);
  return frame(ETHERTYPE_ARP, b, BROADCAST_MAC);
}

function ping(size: number): Uint8Array {
  const m = { kind: "echo-request" as const, code: 0, id: 1, seq: 1, data: new Uint8Array(size).fill(0x61) };
  const b = new Uint8Array(icmpLength(m));
  encodeIcmp(m, b);
  return ipPacket(IP_PROTO_ICMP, b);
}

function udp(size: number): Uint8Array {
  const d = { srcPort: 40000, dstPort: 7, payload: new Uint8Array(size).fill(0x62) };
  const b = new Uint8Array(udpLength(d));
  encodeUdp(d, PEER, DEVICE, b);
  return ipPacket(IP_PROTO_UDP, b);
}

function tcp(s: Partial<TcpSegment> & Pick<TcpSegment, "srcPort" | "dstPort" | "seq" | "ack" | "flags">): Uint8Array {
  const seg: TcpSegment = { window: 65535, urgent: 0, options: {}, payload: new Uint8Array(0), ...s };
  const b = new Uint8Array(tcpLength(seg));
  encodeTcp(seg, PEER, DEVICE, b);
  return ipPacket(IP_PROTO_TCP, b);
}

/** The device's last TCP segment out. */
function answer(): TcpSegment {
  const eth = decodeEthernet(last);
  const p = eth.ok ? decodeIpv4(eth.value.payload) : undefined;
  const t = p?.ok ? decodeTcp(p.value.payload, p.value.src, p.value.dst) : undefined;
  if (!t?.ok) throw new Error("the device sent no TCP segment");
  return t.value;
}

/** Opens a connection from `srcPort` to `port` by the three-way handshake; returns the peer's next seq and the device's. */
function connect(srcPort: number, port: number): { seq: number; ack: number } {
  const isn = 1000;
  stack.netif.input(tcp({ srcPort, dstPort: port, seq: isn, ack: 0, flags: SYN, options: { mss: MSS } }));
  const synAck = answer();
  if (!(synAck.flags & SYN)) throw new Error(`no SYN-ACK: ${JSON.stringify([...stack.netif.stats.drops])}`);
  const ack = (synAck.seq + 1) >>> 0;
  stack.netif.input(tcp({ srcPort, dstPort: port, seq: isn + 1, ack, flags: ACK }));
  return { seq: isn + 1, ack };
}

// Teach the device the peer's MAC, so answers go straight out instead of waiting on ARP.
stack.netif.input(arpRequest());
let received = 0;
const echoSink = stack.udp.pcb();
echoSink.bind(7);
echoSink.recv((data) => void (received += data.length));
unwrap(stack.tcp.listen(9, 4)).accept((pcb) =>
  pcb.recv((data) => {
    if (!data) return;
    received += data.length;
    pcb.recved(data.length);
  }),
);

// One in-order segment, rewritten in place after each use: its sequence number advanced and
// its checksum updated incrementally (RFC 1624), so every call is new data at little cost.
const flow = connect(40000, 9);
const segment = tcp({ srcPort: 40000, dstPort: 9, seq: flow.seq, ack: flow.ack, flags: ACK, payload: new Uint8Array(MSS).fill(0x63) });
const TCP_AT = ETH_HEADER_LEN + IPV4_MIN_HEADER_LEN;
const SEQ_AT = TCP_AT + TCP_SEQ_OFFSET;
const SUM_AT = TCP_AT + TCP_CHECKSUM_OFFSET;
/** Advances the 32-bit field at `at` (the sequence number by default) by one MSS. */
function advance(f: Uint8Array, at = SEQ_AT): void {
  const v = new DataView(f.buffer, f.byteOffset);
  const old = v.getUint32(at);
  const next = (old + MSS) >>> 0;
  const sum = updateChecksum(updateChecksum(v.getUint16(SUM_AT), old >>> 16, next >>> 16), old & 0xffff, next & 0xffff);
  v.setUint32(at, next);
  v.setUint16(SUM_AT, sum);
}

// The send path, as a file server's: a segment's worth read from a file into the
// application's buffer, written to the connection, sent, and acknowledged by the peer with
// an ACK rewritten in place as the segment is. The file is opened again at its end.
const storage = new MemoryStorage();
const FILE = "/bulk";
const chunk = new Uint8Array(MSS);
const w = unwrap(storage.openWrite(FILE, "create"));
unwrap(w.write(new Uint8Array(MSS * 40).fill(0x64)));
unwrap(w.close());
let file = unwrap(storage.openRead(FILE));
let sender: TcpPcb | undefined;
unwrap(stack.tcp.listen(10, 1)).accept((pcb) => void (sender = pcb));
const out = connect(40001, 10);
const peerAck = tcp({ srcPort: 40001, dstPort: 10, seq: out.seq, ack: out.ack, flags: ACK });
function sendFromStorage(): void {
  let n = unwrap(file.read(chunk));
  if (n === 0) {
    file.close();
    file = unwrap(storage.openRead(FILE));
    n = unwrap(file.read(chunk));
  }
  if (sender!.write(chunk.subarray(0, n)) !== n) throw new Error("the send buffer is full");
  advance(peerAck, TCP_AT + TCP_ACK_OFFSET);
  stack.netif.input(peerAck);
}

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
ops["TCP 1460 B segment in order, delivered (ACK per two)"] = (n) => {
  for (let i = 0; i < n; i++) {
    stack.netif.input(segment);
    advance(segment);
  }
};
ops["TCP 1460 B segment read from storage, sent, acknowledged"] = (n) => {
  for (let i = 0; i < n; i++) sendFromStorage();
};

/** Frames sent and bytes delivered so far, so a run can check the operations did their work. */
export function effects(): { sent: number; received: number; drops: Record<string, number> } {
  return { sent, received, drops: Object.fromEntries(stack.netif.stats.drops) };
}

/** Holds `n` more idle connections open to a listener on port 80 (each accepted, with a recv callback, as a server would). */
let nextPort = 41000;
const held: unknown[] = [];
unwrap(stack.tcp.listen(80, 64)).accept((pcb) => {
  held.push(pcb);
  pcb.recv((data) => data && pcb.recved(data.length));
});
export function openConnections(n: number): number {
  for (let i = 0; i < n; i++) connect(nextPort++, 80);
  return held.length;
}
