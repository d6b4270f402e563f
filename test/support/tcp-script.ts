// Scripted TCP tests in the manner of smoltcp's: one stack on a link we hold, driven with
// hand-built frames from a peer at virtual times, and every segment it sends written as
// one tcpdump-like line. Sequence numbers are relative to each side's ISN, as Wireshark
// shows them: the stack's ISN is learned from its SYN, the peer's is `peerIss`.

import { VirtualClock } from "../../host-sim/clock.ts";
import { SeededRandom } from "../../host-sim/random.ts";
import { createStack, type Stack } from "../../modules/stack/stack.ts";
import type { TcpConfig, TcpPcb } from "../../modules/stack/tcp.ts";
import { BROADCAST_MAC, ZERO_MAC } from "../../modules/wire/address.ts";
import { ARP_REQUEST, encodeArp } from "../../modules/wire/arp.ts";
import { decodeEthernet, encodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "../../modules/wire/ethernet.ts";
import { encodeIcmp, icmpLength, type IcmpMessage } from "../../modules/wire/icmp.ts";
import { decodeIpv4, encodeIpv4, IP_PROTO_ICMP, IP_PROTO_TCP } from "../../modules/wire/ipv4.ts";
import { ACK, FIN, PSH, RST, SYN, type TcpDecoded, type TcpOptions, decodeTcp, encodeTcp, tcpLength } from "../../modules/wire/tcp.ts";
import { ip, mac } from "./bench.ts";
import { unwrap } from "../../modules/wire/result.ts";

export const US = ip("10.0.0.2");
export const PEER = ip("10.0.0.9");
export const PEER_PORT = 40000;
export const SERVER_PORT = 80;

const FLAG_LETTERS: Array<[number, string]> = [
  [SYN, "S"],
  [FIN, "F"],
  [PSH, "P"],
  [RST, "R"],
  [ACK, "."],
];

function flagsFrom(text: string): number {
  let f = 0;
  for (const [bit, letter] of FLAG_LETTERS) if (text.includes(letter)) f |= bit;
  return f;
}

function flagsText(f: number): string {
  return FLAG_LETTERS.filter(([bit]) => f & bit)
    .map(([, l]) => l)
    .join("");
}

export interface PeerSegment {
  /** tcpdump letters: S F P R and "." for ACK, e.g. "S", "S.", ".", "P.", "F.", "R". */
  flags: string;
  seq?: number; // relative to the peer's ISN; default: what the peer would send next
  ack?: number; // relative to the stack's ISN
  window?: number;
  data?: Uint8Array | string;
  options?: TcpOptions;
  srcPort?: number;
  dstPort?: number;
}

/** The peer's SYN options: MSS (1460 by default), and SACK-permitted when asked for. */
function synOptions(o: { mss?: number; sack?: boolean }): TcpOptions {
  return o.sack ? { mss: o.mss ?? 1460, sackPermitted: true } : { mss: o.mss ?? 1460 };
}

export class Script {
  readonly clock = new VirtualClock();
  readonly stack: Stack;
  readonly lines: string[] = [];
  readonly segments: TcpDecoded[] = [];
  /** The IPv4 datagrams of `segments`, for ICMP errors to quote. */
  readonly datagrams: Uint8Array[] = [];
  /** The stack's port for segments we send (learned from its SYN when it is the client). */
  stackPort = SERVER_PORT;
  private readonly isn = new Map<string, number>(); // the stack's ISN, by "stackPort:peerPort"
  private receiver: ((frame: Uint8Array) => void) | undefined;
  private taken = 0;
  private next = 0; // the peer's next relative sequence number

  /** What the application saw, in order: "accept", "recv 100", "fin", "sent 100", "err reset", "connected"... */
  readonly events: string[] = [];

  constructor(
    tcp: Partial<TcpConfig> = {},
    readonly peerIss = 1000,
    seed = 7,
  ) {
    const link = {
      transmit: (frame: Uint8Array) => this.capture(frame),
      setReceiver: (r: (frame: Uint8Array) => void) => (this.receiver = r),
    };
    this.stack = createStack(link, this.clock, new SeededRandom(seed), {
      mac: mac(2),
      ip: US,
      mask: ip("255.255.255.0"),
      gateway: ip("10.0.0.1"),
      tcp,
    });
    this.introducePeer();
  }

  get tcp() {
    return this.stack.tcp;
  }

  get stats() {
    return this.stack.netif.stats;
  }

  /** Delivers a segment from the peer now; seq defaults to the peer's next byte and advances past what this sends. */
  send(s: PeerSegment): void {
    const flags = flagsFrom(s.flags);
    const payload = typeof s.data === "string" ? new TextEncoder().encode(s.data) : (s.data ?? new Uint8Array(0));
    const rel = s.seq ?? this.next;
    this.next = rel + payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    const dstPort = s.dstPort ?? this.stackPort;
    const srcPort = s.srcPort ?? PEER_PORT;
    const iss = this.isn.get(`${dstPort}:${srcPort}`) ?? 0;
    const seg = {
      srcPort,
      dstPort,
      seq: (this.peerIss + rel) >>> 0,
      ack: flags & ACK ? ((s.ack ?? 0) + iss) >>> 0 : 0,
      flags,
      window: s.window ?? 8192,
      urgent: 0,
      options: s.options ?? {},
      payload,
    };
    const tcp = new Uint8Array(tcpLength(seg));
    encodeTcp(seg, PEER, US, tcp);
    this.receiver!(this.ipFrame(tcp));
  }

  /** A SACK option for blocks [left, right) relative to the stack's ISN, as `ack` is. */
  sack(...blocks: Array<[number, number]>): TcpOptions {
    const iss = this.isn.get(`${this.stackPort}:${PEER_PORT}`) ?? 0;
    return { sack: blocks.map(([left, right]) => ({ left: (iss + left) >>> 0, right: (iss + right) >>> 0 })) };
  }

  /** Delivers an ICMP message to the stack from `from` (a router on the path, or the peer). */
  sendIcmp(m: IcmpMessage, from = PEER): void {
    const icmp = new Uint8Array(icmpLength(m));
    encodeIcmp(m, icmp);
    this.receiver!(this.ipFrame(icmp, IP_PROTO_ICMP, from));
  }

  /** What an ICMP error quotes of the stack's `i`-th segment: its IPv4 header and 8 bytes more. */
  quote(i = this.datagrams.length - 1): Uint8Array {
    return this.datagrams[i]!.subarray(0, 28);
  }

  /** Delivers raw TCP bytes (already encoded) from the peer. */
  sendRaw(tcp: Uint8Array): void {
    this.receiver!(this.ipFrame(tcp));
  }

  /** Runs the clock for `ms` (timers fire at their exact times). */
  run(ms: number): void {
    this.clock.runUntil(this.clock.now() + ms);
  }

  /** The stack's segments since the last call, one line each: "1200 [P.] seq=1 ack=6 win=5840 len=100". */
  take(): string[] {
    const out = this.lines.slice(this.taken);
    this.taken = this.lines.length;
    return out;
  }

  /** Records a pcb's callbacks in `events`; recv calls recved at once unless `hold`. */
  watch(pcb: TcpPcb, hold = false): TcpPcb {
    pcb.recv((d) => {
      this.events.push(d ? `recv ${d.length}` : "fin");
      if (d) this.received.push(...d);
      if (d && !hold) pcb.recved(d.length);
    });
    pcb.sent((n) => this.events.push(`sent ${n}`));
    pcb.err((reason) => this.events.push(`err ${reason}`));
    return pcb;
  }

  /** Bytes the watched pcbs received. */
  readonly received: number[] = [];

  /** Listens on SERVER_PORT and completes a handshake from the peer; returns the accepted pcb, watched. */
  accept(options: { window?: number; mss?: number; hold?: boolean; ackAt?: number; sack?: boolean } = {}): TcpPcb {
    const l = unwrap(this.tcp.listen(SERVER_PORT, 4));
    let accepted: TcpPcb | undefined;
    l.accept((pcb) => {
      accepted = pcb;
      this.events.push("accept");
      this.watch(pcb, options.hold);
    });
    this.send({ flags: "S", window: options.window, options: synOptions(options) });
    this.run(options.ackAt ?? 0);
    this.send({ flags: ".", ack: 1, window: options.window });
    if (!accepted) throw new Error("no connection was accepted");
    return accepted;
  }

  /** Opens a connection to the peer and answers it with SYN-ACK; returns the pcb, watched. */
  connect(options: { window?: number; mss?: number; hold?: boolean; sack?: boolean } = {}): TcpPcb {
    const pcb = unwrap(this.tcp.connect(PEER, PEER_PORT, (err) => this.events.push(err ? `connect ${err}` : "connected")));
    this.watch(pcb, options.hold);
    this.send({ flags: "S.", ack: 1, window: options.window, options: synOptions(options) });
    return pcb;
  }

  /** Peer data as bytes of a given length, distinct per offset so misordering shows. */
  static bytes(length: number, from = 0): Uint8Array {
    return Uint8Array.from({ length }, (_, i) => (from + i) * 7 + 3);
  }

  private capture(frame: Uint8Array): void {
    const eth = decodeEthernet(frame);
    if (!eth.ok || eth.value.ethertype !== ETHERTYPE_IPV4) return;
    const p = decodeIpv4(eth.value.payload);
    if (!p.ok || p.value.protocol !== IP_PROTO_TCP) return;
    const r = decodeTcp(p.value.payload, p.value.src, p.value.dst);
    if (!r.ok) throw new Error(`the stack sent a bad segment: ${r.reason}`);
    const seg = r.value;
    if (seg.flags & SYN && !(seg.flags & ACK)) this.stackPort = seg.srcPort;
    if (seg.flags & SYN) this.isn.set(`${seg.srcPort}:${seg.dstPort}`, seg.seq);
    this.segments.push(seg);
    this.datagrams.push(eth.value.payload.slice());
    this.lines.push(this.describe(seg));
  }

  private describe(seg: TcpDecoded): string {
    const iss = this.isn.get(`${seg.srcPort}:${seg.dstPort}`);
    const seq = iss === undefined ? seg.seq : (seg.seq - iss) | 0;
    let s = `${this.clock.now()} [${flagsText(seg.flags)}]`;
    if (seg.srcPort !== this.stackPort || seg.dstPort !== PEER_PORT) s += ` ${seg.srcPort}>${seg.dstPort}`;
    s += ` seq=${seq}`;
    if (seg.flags & ACK) s += ` ack=${(seg.ack - this.peerIss) | 0}`;
    s += ` win=${seg.window}`;
    if (seg.options.mss !== undefined) s += ` mss=${seg.options.mss}`;
    if (seg.options.windowScale !== undefined) s += ` ws=${seg.options.windowScale}`;
    if (seg.options.sackPermitted) s += " sackOK";
    if (seg.options.sack) s += ` sack=${seg.options.sack.map((b) => `${(b.left - this.peerIss) | 0}-${(b.right - this.peerIss) | 0}`).join(",")}`;
    if (seg.payload.length) s += ` len=${seg.payload.length}`;
    return s;
  }

  private ipFrame(tcp: Uint8Array, protocol = IP_PROTO_TCP, src = PEER): Uint8Array {
    const ipBytes = new Uint8Array(20 + tcp.length);
    encodeIpv4(
      {
        dscp: 0,
        ecn: 0,
        id: 1,
        df: true,
        mf: false,
        fragmentOffsetBytes: 0,
        ttl: 64,
        protocol,
        src,
        dst: US,
        options: new Uint8Array(0),
        payload: tcp,
      },
      ipBytes,
    );
    const frame = new Uint8Array(14 + ipBytes.length);
    encodeEthernet({ dst: mac(2), src: mac(9), ethertype: ETHERTYPE_IPV4, payload: ipBytes }, frame);
    return frame;
  }

  /** An ARP request from the peer for our address, so the stack knows its MAC. */
  private introducePeer(): void {
    const arp = new Uint8Array(28);
    encodeArp({ op: ARP_REQUEST, senderMac: mac(9), senderIp: PEER, targetMac: ZERO_MAC, targetIp: US }, arp);
    const frame = new Uint8Array(60);
    encodeEthernet({ dst: BROADCAST_MAC, src: mac(9), ethertype: ETHERTYPE_ARP, payload: arp }, frame);
    this.receiver!(frame);
  }
}
