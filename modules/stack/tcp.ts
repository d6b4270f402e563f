// TCP (RFC 9293) for the stack: listeners with a backlog, active opens, and the
// demultiplexing of segments and ICMP errors to connections (tcp-pcb.ts). A segment for no
// connection is answered with RST. Limits on listeners, connections and TIME-WAIT pcbs
// bound the memory peers can make us spend: over a backlog SYNs get SYN cookies, and a
// full table gives up a pcb that has not earned its place (half-open or orphaned).

import type { Ip4 } from "../wire/address.ts";
import { fail, ok } from "../wire/result.ts";
import { IP_PROTO_TCP } from "../wire/ipv4.ts";
import { copyAfterHeadroom } from "../wire/bytes.ts";
import {
  ACK,
  FIN,
  NO_OPTIONS,
  RST,
  SYN,
  TCP_MIN_HEADER_LEN,
  type TcpDecoded,
  type TcpSegment,
  encodeTcp,
  encodeTcpHeader,
  tcpLength,
  tcpOptionsLength,
  tcpHeaderLength,
  tcpSegment,
} from "../wire/tcp.ts";
import type { Clock } from "../platform.ts";
import { type Datagram, type Ipv4, HEADROOM } from "./ipv4.ts";
import type { Netif } from "./netif.ts";
import { ephemeralPort, type OpenResult, validPort } from "./ports.ts";
import type { Stats } from "./stats.ts";
import { TCP_DEFAULTS, type TcpConfig } from "./tcp-config.ts";
import { SequenceKey } from "./tcp-isn.ts";
import type { TransportError } from "./transport-error.ts";
import { TcpListener, type ListenerHost } from "./tcp-listener.ts";
import { TcpPcb, type TcpError, type TcpHost } from "./tcp-pcb.ts";

export { TCP_DEFAULTS, type TcpConfig } from "./tcp-config.ts";
export { TcpListener } from "./tcp-listener.ts";
export { TcpPcb, type TcpError, type TcpState } from "./tcp-pcb.ts";

export class Tcp implements TcpHost, ListenerHost {
  readonly config: TcpConfig;
  readonly netif: Netif;
  // The netif's, as fields: pcbs read them per segment, and on XS a getter costs a call.
  readonly clock: Clock;
  readonly stats: Stats;
  private readonly pcbs: TcpPcb[] = []; // connections, TIME-WAIT ones included
  private readonly listeners = new Map<number, TcpListener>();
  private readonly seqKey: SequenceKey;
  /** The most payload one frame takes when the link cuts it into segments itself (TSO); 0 without. */
  readonly tsoPayload: number;
  private tsoFrame: Uint8Array | undefined; // see sendOffloaded()

  constructor(
    private readonly ip: Ipv4,
    config: Partial<TcpConfig> = {},
  ) {
    this.config = { ...TCP_DEFAULTS, ...config };
    this.netif = ip.netif;
    this.clock = this.netif.clock;
    this.stats = this.netif.stats;
    this.seqKey = new SequenceKey(this.netif.random);
    const frame = this.netif.tsoMaxFrame;
    this.tsoPayload = frame && frame - HEADROOM - TCP_MIN_HEADER_LEN;
    ip.register(IP_PROTO_TCP, (d) => this.input(d));
    this.netif.onAddressChange((old) => {
      if (old === this.netif.ip) return;
      for (const pcb of [...this.pcbs]) if (pcb.localIp === old) pcb.kill("address-changed");
    });
  }

  /** Our MSS: the payload of a full-size frame. */
  get mss(): number {
    return this.ip.maxPayload - TCP_MIN_HEADER_LEN;
  }

  /** Live connections, for inspection. */
  get connections(): readonly TcpPcb[] {
    return this.pcbs;
  }

  /** Listens on `port` for any local address. */
  listen(port: number, backlog = 4): OpenResult<TcpListener> {
    if (!validPort(port)) return fail("bad-port");
    if (this.listeners.has(port)) return fail("port-in-use");
    if (this.listeners.size >= this.config.maxListeners) return fail("no-pcb");
    const l = new TcpListener(this, port, Math.max(1, backlog));
    this.listeners.set(port, l);
    return ok(l);
  }

  /**
   * Opens a connection from `fromPort`, or by default from a random ephemeral port (FTP's
   * active mode connects from port 20). `cb` is called once: with no argument when
   * established, or with the reason it failed. Fails at once when the interface has no
   * address, no pcb is free, or a connection with the same addresses and ports exists.
   */
  connect(addr: Ip4, port: number, cb: (err?: TcpError) => void, fromPort?: number): OpenResult<TcpPcb> {
    const localIp = this.netif.ip;
    if (localIp === 0) return fail("no-address");
    if (!unicastSource(addr) || this.netif.isSubnetBroadcast(addr)) return fail("bad-address");
    if (!this.room()) return fail("no-pcb");
    if (!validPort(port)) return fail("bad-port");
    const localPort = fromPort ?? this.ephemeral(); // 0 when every ephemeral port is taken
    if (!validPort(localPort)) return fail(fromPort === undefined ? "port-in-use" : "bad-port");
    if (this.find(localIp, localPort, addr >>> 0, port)) return fail("port-in-use");
    const pcb = new TcpPcb(this, localIp, localPort, addr >>> 0, port);
    pcb.given = true;
    this.pcbs.push(pcb);
    pcb.open(cb);
    return ok(pcb);
  }

  /** @internal an ICMP error about a segment we sent */
  icmpError(e: TransportError): void {
    const pcb = this.find(e.localIp, e.localPort, e.remoteIp, e.remotePort);
    if (!pcb) return this.netif.stats.drop("tcp-icmp-no-pcb");
    pcb.icmpError(e);
  }

  /** @internal */
  unlisten(l: TcpListener): void {
    if (this.listeners.get(l.port) === l) this.listeners.delete(l.port);
  }

  /** @internal */
  isn(pcb: TcpPcb): number {
    return this.seqKey.isn(pcb.localIp, pcb.localPort, pcb.remoteIp, pcb.remotePort, this.clock.now());
  }

  /** @internal */
  transmit(pcb: TcpPcb, seg: TcpSegment, mss: number): void {
    this.send(pcb.localIp, pcb.remoteIp, seg, mss);
  }

  /** @internal a RST with the given numbers; flags are RST or RST|ACK */
  sendReset(localIp: Ip4, localPort: number, remoteIp: Ip4, remotePort: number, seq: number, ack: number, flags: number): void {
    this.netif.stats.count("tcp.rst-tx");
    this.send(localIp, remoteIp, { srcPort: localPort, dstPort: remotePort, seq, ack, flags, window: 0, urgent: 0, options: NO_OPTIONS, payload: EMPTY });
  }

  /** @internal the pcb entered TIME-WAIT: make room if too many wait */
  timeWait(pcb: TcpPcb): void {
    this.pcbs.splice(this.pcbs.indexOf(pcb), 1);
    this.pcbs.push(pcb); // so the first one waiting is the one that has waited longest
    const waiting = this.pcbs.filter((p) => p.state === "time-wait");
    if (waiting.length > this.config.maxTimeWait) {
      this.netif.stats.count("tcp.time-wait-recycled");
      waiting[0]!.kill();
    }
  }

  /** @internal the pcb is closed */
  remove(pcb: TcpPcb): void {
    const i = this.pcbs.indexOf(pcb);
    if (i >= 0) this.pcbs.splice(i, 1);
    if (!pcb.given) pcb.listener?.lost(pcb);
  }

  /** The payload is copied once, with room for every header before it (on XS, one native copy not metered per byte). */
  private send(src: Ip4, dst: Ip4, seg: TcpSegment, mss = this.mss): void {
    this.netif.stats.count("tcp.tx");
    if (this.tsoPayload) return this.sendOffloaded(src, dst, seg, mss);
    const headerLength = tcpHeaderLength(seg);
    const frame = copyAfterHeadroom(seg.payload, HEADROOM + headerLength);
    encodeTcpHeader(seg, headerLength, seg.payload.length, src, dst, frame, HEADROOM);
    this.ip.output(frame, dst, IP_PROTO_TCP, { src });
  }

  /**
   * Over a link with TSO the link sums the segment and cuts it into `mss`-sized ones, options
   * counted; and every frame is built in the same bytes, which the link is done with once sent
   * (Link.tso): a fresh 64 KiB frame per segment costs more than the rest of its sending.
   */
  private sendOffloaded(src: Ip4, dst: Ip4, seg: TcpSegment, mss: number): void {
    const length = HEADROOM + tcpLength(seg);
    const max = this.netif.tsoMaxFrame;
    const frame = length <= max ? (this.tsoFrame ??= new Uint8Array(max)).subarray(0, length) : new Uint8Array(length);
    encodeTcp(seg, src, dst, frame, HEADROOM, true); // the payload is copied into the reused frame
    this.ip.output(frame, dst, IP_PROTO_TCP, { src, segment: mss - tcpOptionsLength(seg.options) });
  }

  private input(d: Datagram): void {
    const stats = this.netif.stats;
    if (d.broadcast) return stats.drop("tcp-broadcast");
    const seg = tcpSegment(d.payload, d.src, d.dst);
    if (typeof seg === "string") return stats.drop(seg);
    stats.count("tcp.rx"); // IPv4 has dropped sources no single host holds (ip-bad-source)
    const pcb = this.find(d.dst, seg.dstPort, d.src, seg.srcPort);
    if (pcb) return pcb.input(seg);
    const l = this.listeners.get(seg.dstPort);
    if (l) return this.passiveOpen(l, d, seg);
    stats.drop("tcp-no-listener");
    this.refuse(d, seg);
  }

  private passiveOpen(l: TcpListener, d: Datagram, seg: TcpDecoded): void {
    const stats = this.netif.stats;
    const f = seg.flags;
    if (f & RST) return stats.drop("tcp-listen-rst");
    if (f & ACK) {
      if (!(f & SYN) && this.cookieAck(l, d, seg)) return;
      stats.drop("tcp-listen-ack"); // an ACK for a connection we don't have
      return this.refuse(d, seg);
    }
    if (!(f & SYN)) return stats.drop("tcp-listen-no-syn");
    if (l.full()) {
      if (this.config.synCookies) return this.sendCookie(d, seg);
      if (!l.evictHalfOpen()) return stats.drop("tcp-backlog-full");
    }
    if (!this.room()) return stats.drop("tcp-pcb-limit");
    const pcb = new TcpPcb(this, d.dst, seg.dstPort, d.src, seg.srcPort, l);
    this.pcbs.push(pcb);
    l.opened(pcb);
    pcb.openFrom(seg);
  }

  /**
   * A SYN-ACK that keeps no state (a SYN cookie, as Linux's): its sequence number signs the
   * 4-tuple, the peer's ISN and the time, and keeps the peer's MSS in its two low bits.
   */
  private sendCookie(d: Datagram, seg: TcpDecoded): void {
    const iss = this.seqKey.cookie(d.dst, seg.dstPort, d.src, seg.srcPort, seg.seq, seg.options.mss ?? 536, this.clock.now());
    this.netif.stats.count("tcp.syn-cookies-sent");
    const options = { mss: this.mss };
    this.send(d.dst, d.src, {
      srcPort: seg.dstPort,
      dstPort: seg.srcPort,
      seq: iss,
      ack: (seg.seq + 1) >>> 0,
      flags: SYN | ACK,
      window: Math.min(this.config.wnd, 0xffff),
      urgent: 0,
      options,
      payload: EMPTY,
    });
  }

  /** An ACK for a listener: true if it returns a SYN cookie of the last two slots, and then it is taken. */
  private cookieAck(l: TcpListener, d: Datagram, seg: TcpDecoded): boolean {
    if (!this.config.synCookies) return false;
    const iss = (seg.ack - 1) >>> 0;
    const mss = this.seqKey.cookieMss(d.dst, seg.dstPort, d.src, seg.srcPort, (seg.seq - 1) >>> 0, iss, this.clock.now());
    if (mss === 0) return false;
    const stats = this.netif.stats;
    if (l.queued >= l.backlog) {
      stats.drop("tcp-backlog-full");
      return true;
    }
    if (l.full()) l.evictHalfOpen(); // the returned cookie has earned the place
    if (!this.room()) {
      stats.drop("tcp-pcb-limit");
      return true;
    }
    stats.count("tcp.syn-cookies-accepted");
    const pcb = new TcpPcb(this, d.dst, seg.dstPort, d.src, seg.srcPort, l);
    this.pcbs.push(pcb);
    l.opened(pcb);
    pcb.openFromCookie(seg, iss, mss);
    return true;
  }

  /** True if a new pcb fits, once the oldest that has not earned its place is dropped if need be. */
  private room(): boolean {
    if (this.active() < this.config.maxPcbs) return true;
    const victim = this.pcbs.find((p) => p.reclaimable);
    victim?.evict();
    return victim !== undefined;
  }

  /** RST for a segment nobody takes (RFC 9293 3.10.7.1); never in answer to a RST. */
  private refuse(d: Datagram, seg: TcpDecoded): void {
    if (seg.flags & RST) return;
    if (seg.flags & ACK) return this.sendReset(d.dst, seg.dstPort, d.src, seg.srcPort, seg.ack, 0, RST);
    const len = seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
    this.sendReset(d.dst, seg.dstPort, d.src, seg.srcPort, 0, (seg.seq + len) >>> 0, RST | ACK);
  }

  private find(localIp: Ip4, localPort: number, remoteIp: Ip4, remotePort: number): TcpPcb | undefined {
    const pcbs = this.pcbs;
    for (let i = 0; i < pcbs.length; i++) {
      const p = pcbs[i]!; // an index, not for-of: on XS an iterator per segment costs more than the compares
      if (p.localPort === localPort && p.remotePort === remotePort && p.remoteIp === remoteIp && p.localIp === localIp) return p;
    }
    return undefined;
  }

  private active(): number {
    let n = 0;
    for (const p of this.pcbs) if (p.state !== "time-wait") n++;
    return n;
  }

  private ephemeral(): number {
    return ephemeralPort(this.netif.random, (port) => this.listeners.has(port) || this.pcbs.some((p) => p.localPort === port));
  }
}

const EMPTY = new Uint8Array(0);

/** Never answer or connect to a broadcast, multicast or unset address. */
function unicastSource(ip: Ip4): boolean {
  return ip !== 0 && ip !== 0xffffffff && ip >>> 28 !== 0xe;
}
