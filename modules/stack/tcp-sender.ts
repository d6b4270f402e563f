// The sending side of one connection: the send sequence space and the peer's window
// (RFC 9293 3.3.1, 3.10.7.4), segments cut from a bounded buffer under that window and the
// congestion window, with Nagle and sender SWS avoidance (RFC 1122 4.2.3.4); retransmission
// on timeout (RFC 6298), fast retransmit and NewReno (RFC 5681, RFC 6582), or loss recovery
// by the peer's SACK blocks (RFC 6675) when both SYNs permitted them; and zero-window
// probes that back off. The pcb owns the state machine and tells it when it may send.

import type { Clock } from "../platform.ts";
import { ACK, FIN, PSH, type SackBlock, type TcpOptions as SegmentOptions } from "../wire/tcp.ts";
import type { Stats } from "./stats.ts";
import type { TcpConfig } from "./tcp-config.ts";
import { ACK_NORMAL, ACK_RESEND_KEEP_TIMER, type CongestionController, NewReno } from "./tcp-congestion.ts";
import type { Deadline } from "./tcp-deadline.ts";
import { MAX_SHIFT, windowShift } from "./tcp-receive.ts";
import { RtoEstimator } from "./tcp-rto.ts";
import { SEG_NEW, SEG_NONE, SEG_RESCUE, Scoreboard } from "./tcp-sack.ts";
import { SendBuffer } from "./tcp-sendbuf.ts";
import { seqAdd, seqDiff } from "./tcp-seq.ts";

const DEFAULT_MSS = 536; // RFC 9293: assumed when the peer sends no MSS option
const HEADERS = 40; // IPv4 and TCP headers without options, between the MTU and the MSS
const MIN_PMTU = 552; // Linux's floor, so a forged ICMP cannot make segments tiny
const PMTU_UNKNOWN = 576; // for a router that does not say its next hop's MTU
const EMPTY = new Uint8Array(0);

/** What the sender needs from its pcb's TCP layer. */
export interface SenderHost {
  readonly config: TcpConfig;
  readonly clock: Clock;
  readonly stats: Stats;
  /** Our MSS: the payload of a full-size frame. */
  readonly mss: number;
  /** The most payload one frame takes when the link cuts it into segments itself (TSO); 0 without. */
  readonly tsoPayload: number;
}

/** Sends one segment with the pcb's ports, its ACK and its window. */
export type Emit = (seq: number, flags: number, payload?: Uint8Array, options?: SegmentOptions) => void;

export class TcpSender {
  iss = 0;
  /** SND.UNA, SND.NXT, and the highest sequence sent, past nxt after a timeout rewinds it. */
  una = 0;
  nxt = 0;
  max = 0;
  /** The peer's window, scaled, and the largest it has offered. */
  wnd = 0;
  maxWnd = 0;
  wl1 = 0; // seq and ack of the segment that last updated wnd
  wl2 = 0;
  shift = 0; // the peer's window scale
  mss = DEFAULT_MSS;
  finQueued = false;
  /** Send short segments at once instead of holding one while another is unacknowledged (Nagle). */
  nodelay = false;
  readonly buf: SendBuffer;
  readonly cc: CongestionController = new NewReno();
  readonly rto: RtoEstimator;
  retries = 0; // consecutive timeouts of the same data
  persisting = false;
  probes = 0; // zero-window probes since the window was last open, for their backoff
  unanswered = 0; // zero-window probes since the peer was last heard from
  private shortEnd = 0; // end of the last segment shorter than the MSS (Minshall's Nagle)
  private readonly ourScale: number | undefined; // the window scale we offer
  private scaleSeen = false; // the peer's SYN offered window scale
  private sackSeen = false; // the peer's SYN permitted SACK
  /** Both SYNs permitted SACK: the peer's blocks fill the scoreboard, and ours go to it. */
  sackOk = false;
  private readonly board = new Scoreboard();

  constructor(
    private readonly host: SenderHost,
    /** Retransmission and persist timer, shared with the pcb's other uses of it. */
    private readonly rtx: Deadline,
    private readonly emit: Emit,
  ) {
    const c = host.config;
    this.rto = new RtoEstimator(c.minRtoMs, c.maxRtoMs, c.initialRtoMs);
    this.buf = new SendBuffer(c.sndbuf);
    this.ourScale = windowShift(c.wnd, c.sndbuf);
  }

  /** Our SYN takes sequence `iss`; data starts after it. */
  start(iss: number): void {
    this.iss = iss;
    this.una = iss;
    this.nxt = this.max = this.shortEnd = seqAdd(iss, 1);
    this.buf.seq = seqAdd(iss, 1);
  }

  /** Learns the peer's MSS, SACK and window scale from its SYN; returns the scale to apply to our window. */
  takeSyn(o: SegmentOptions): number {
    this.mss = Math.max(64, Math.min(o.mss ?? DEFAULT_MSS, this.host.mss));
    this.sackSeen = o.sackPermitted === true;
    this.sackOk = this.sackSeen && this.host.config.sack;
    this.scaleSeen = o.windowScale !== undefined;
    if (o.windowScale === undefined || this.ourScale === undefined) return 0;
    this.shift = Math.min(o.windowScale, MAX_SHIFT);
    return this.ourScale;
  }

  /** Our SYN (`flags` SYN) or SYN-ACK, timed for the first RTT sample. */
  sendSyn(flags: number): void {
    this.emitSyn(flags);
    this.rtx.set(this.rto.value);
    this.rto.time(this.iss, this.host.clock.now());
  }

  /** MSS always; SACK and window scale offered when we want them, and answered only when the peer offered them. */
  emitSyn(flags: number): void {
    const o: SegmentOptions = { mss: this.host.mss };
    const offer = !(flags & ACK);
    if (this.host.config.sack && (offer || this.sackSeen)) o.sackPermitted = true;
    if (this.ourScale !== undefined && (offer || this.scaleSeen)) o.windowScale = this.ourScale;
    this.emit(this.iss, flags, EMPTY, o);
  }

  /** The SYN's timer expired: send it again, or false when it is time to give up. */
  resendSyn(flags: number): boolean {
    if (++this.retries > this.host.config.synRetries) return false;
    this.rto.backoff();
    this.rto.untime();
    this.host.stats.count("tcp.retransmits");
    this.emitSyn(flags);
    this.rtx.set(this.rto.value);
    return true;
  }

  /** True once the FIN we queued is acknowledged. */
  get finAcked(): boolean {
    return this.finQueued && this.buf.offset(this.una) === this.buf.length + 1;
  }

  /**
   * The ACK of an acceptable segment: the window it carries (SND.WL1 and WL2 keep an old
   * segment from overriding a newer one), then new data acknowledged or a duplicate ACK,
   * and its SACK blocks. Returns the bytes of data newly acknowledged.
   */
  processAck(seq: number, ack: number, window: number, pure: boolean, sack: readonly SackBlock[] | undefined): number {
    let windowChanged = false;
    if (seqDiff(ack, this.una) >= 0 && (seqDiff(this.wl1, seq) < 0 || (this.wl1 === seq && seqDiff(this.wl2, ack) <= 0))) {
      const wnd = window << this.shift;
      windowChanged = wnd !== this.wnd;
      this.wnd = wnd;
      this.maxWnd = Math.max(this.maxWnd, wnd);
      if (wnd > 0) this.probes = 0;
      this.wl1 = seq;
      this.wl2 = ack;
    }
    const acked = seqDiff(ack, this.una);
    const data = acked > 0 ? this.newAck(ack) : 0;
    if (sack && this.sackOk && this.board.update(sack, this.una, this.max)) this.host.stats.count("tcp.sack-invalid");
    if (acked === 0 && pure && !windowChanged && this.max !== this.una && !this.persisting) this.dupAck();
    return data;
  }

  /** Everything before `ack` arrived; returns the bytes of data that covers. */
  newAck(ack: number): number {
    this.rto.acked(ack, this.host.clock.now());
    this.retries = 0;
    const data = Math.max(0, Math.min(this.buf.offset(ack), this.buf.length));
    this.buf.consume(data);
    this.una = ack;
    this.board.advance(ack);
    if (seqDiff(this.nxt, ack) < 0) this.nxt = ack;
    const cap = 2 * Math.max(this.host.config.sndbuf, this.maxWnd);
    const todo = this.cc.onAck(data, ack, this.max, cap);
    if (todo !== ACK_NORMAL) this.retransmitFirst();
    if (this.una === this.max) this.rtx.clear();
    else if (todo !== ACK_RESEND_KEEP_TIMER) this.rtx.set(this.rto.value);
    if (this.buf.length === 0 && this.una === this.max) this.persisting = false;
    return data;
  }

  private dupAck(): void {
    const b = this.board;
    const sack = this.sackOk && !b.empty;
    if (!this.cc.onDupAck(this.una, this.max, sack, seqDiff(this.una, b.lostEdge(this.una, this.mss)) < 0)) return;
    this.host.stats.count("tcp.fast-retransmits");
    if (!sack) return this.retransmitFirst();
    this.host.stats.count("tcp.sack-recoveries");
    // RFC 6675 5 (4.3): the first hole goes first, and HighRxt and RescueRxt start after it.
    const len = Math.min(this.mss, seqDiff(b.nextSacked(this.una, this.max), this.una));
    b.startRecovery(seqAdd(this.una, len));
    this.resend(this.una, len);
  }

  /** Sends what the windows, Nagle and sender SWS avoidance allow; in SACK recovery, what the scoreboard says. */
  output(): void {
    if (this.cc.sackRecovery) return this.recover();
    for (;;) {
      // Resending after a timeout: what the peer SACKed since is not sent again.
      if (seqDiff(this.nxt, this.max) < 0) this.nxt = this.board.sackedEnd(this.nxt);
      const sent = this.buf.offset(this.nxt);
      if (sent > this.buf.length) break; // FIN is out
      const unsent = this.buf.length - sent;
      const flight = seqDiff(this.nxt, this.una);
      // SACKed bytes have left the network, though they still fill the peer's window.
      const usable = Math.min(this.wnd - flight, this.cc.window - flight + this.board.sackedBelow(this.nxt));
      let full = Math.max(0, Math.min(unsent, this.segmentMax(), usable));
      if (full > this.mss) {
        const tail = full % this.mss; // beyond whole segments, which TSO sends together: it must be worth sending alone
        if (tail && !this.worthSending(tail, unsent - full + tail, flight + full - tail)) full -= tail;
      }
      // A hole the peer's SACKs end early is resent whole, however short.
      const len = seqDiff(this.nxt, this.max) < 0 ? seqDiff(this.board.nextSacked(this.nxt, seqAdd(this.nxt, full)), this.nxt) : full;
      const fin = this.finQueued && len === unsent;
      if (!fin && len === full && !this.worthSending(len, unsent, flight)) break;
      const seq = this.nxt;
      this.sendData(seq, len, fin);
      this.nxt = seqAdd(seq, len + (fin ? 1 : 0));
      if (seqDiff(this.nxt, this.max) > 0) {
        if (!this.rto.timing && seqDiff(seq, this.max) >= 0) this.rto.time(seq, this.host.clock.now());
        this.max = this.nxt;
      }
      if (this.persisting || !this.rtx.armed) {
        this.persisting = false;
        this.rtx.set(this.rto.value);
      }
      if (fin) break;
    }
    const waiting = this.buf.length - this.buf.offset(this.nxt) > 0;
    if (waiting && this.nxt === this.una && !this.rtx.armed) {
      // Nothing in flight to bring an ACK, yet the window keeps us from sending: probe it.
      this.persisting = true;
      this.rtx.set(this.persistInterval());
    }
  }

  /** RFC 6675's step (C): while the window has room beyond the bytes in the network, NextSeg. */
  private recover(): void {
    const b = this.board;
    let pipe = b.pipe(this.una, this.max, this.mss);
    while (this.cc.window - pipe >= this.mss) {
      const sent = this.buf.offset(this.max);
      const unsent = this.buf.length - sent;
      const room = this.wnd - seqDiff(this.max, this.una);
      const newLen = sent > this.buf.length ? 0 : Math.max(0, Math.min(unsent, this.mss, room));
      const fin = this.finQueued && newLen === unsent && sent <= this.buf.length;
      const what = b.nextSeg(this.una, this.max, this.mss, fin || this.worthSending(newLen, unsent, 1) ? newLen + (fin ? 1 : 0) : 0);
      if (what === SEG_NONE) break;
      if (what === SEG_NEW) {
        this.sendData(this.max, newLen, fin);
        this.nxt = this.max = seqAdd(this.max, newLen + (fin ? 1 : 0));
        pipe += newLen + (fin ? 1 : 0);
        continue;
      }
      if (what === SEG_RESCUE) this.host.stats.count("tcp.sack-rescues");
      this.resend(b.seq, b.len);
      pipe += b.len;
    }
    if (!this.rtx.armed) this.rtx.set(this.rto.value);
  }

  /** Resends `len` bytes of sequence space from `seq`: data, and the FIN if they reach it. */
  private resend(seq: number, len: number): void {
    const off = this.buf.offset(seq);
    const data = Math.max(0, Math.min(len, this.buf.length - off));
    this.rto.untime();
    this.host.stats.count("tcp.retransmits");
    this.sendData(seq, data, this.finQueued && off + len > this.buf.length);
  }

  /**
   * RFC 1122 4.2.3.4: full segments; the tail when Nagle allows; or half the peer's largest
   * window. Nagle as Minshall refined it (and Linux does): a short segment waits only while
   * an earlier short one is unacknowledged, so a reply of 1.5 segments is not held for the
   * peer's delayed ACK.
   */
  private worthSending(len: number, unsent: number, flight: number): boolean {
    if (len === 0) return false;
    if (len >= this.mss) return true;
    if (len === unsent && (this.nodelay || flight === 0 || seqDiff(this.shortEnd, this.una) <= 0)) return true;
    return len >= this.maxWnd / 2;
  }

  private sendData(seq: number, len: number, fin: boolean): void {
    const off = this.buf.offset(seq);
    const payload = len ? this.buf.bytes(off, len) : EMPTY;
    let flags = ACK;
    if (fin) flags |= FIN;
    if (len && off + len === this.buf.length) flags |= PSH;
    if (len % this.mss) this.shortEnd = seqAdd(seq, len);
    this.emit(seq, flags, payload);
  }

  /**
   * The most data one segment carries: the MSS, or as many whole MSSs as fit in a frame the
   * link cuts into segments itself (TSO), so that one frame carries many.
   */
  private segmentMax(): number {
    const mss = this.mss;
    return this.host.tsoPayload > mss ? mss * Math.floor(this.host.tsoPayload / mss) : mss;
  }

  /** Resends the first unacknowledged segment, leaving nxt where it is. */
  private retransmitFirst(): void {
    const len = Math.min(this.buf.length, this.mss);
    const fin = this.finQueued && len === this.buf.length && this.buf.offset(this.max) > this.buf.length;
    if (len === 0 && !fin) return;
    this.rto.untime();
    this.host.stats.count("tcp.retransmits");
    this.sendData(this.una, len, fin);
  }

  /**
   * The sequence number for a segment without data: the highest we sent, not nxt, which a
   * timeout rewinds below what the peer holds (it would drop the ACK as old), but never
   * beyond the peer's window, which a zero-window probe goes past.
   */
  ackSeq(): number {
    const edge = seqAdd(this.una, this.wnd);
    return seqDiff(this.max, edge) > 0 ? edge : this.max;
  }

  /** The retransmission timer expired: go back to the first hole. False when it is time to give up. */
  timeout(): boolean {
    if (++this.retries > this.host.config.maxRetries) return false;
    this.cc.onTimeout(this.una, this.max);
    this.rto.backoff();
    this.rto.untime();
    this.nxt = this.una;
    this.host.stats.count("tcp.timeouts");
    this.host.stats.count("tcp.retransmits");
    this.rtx.clear();
    this.board.clear(); // the peer may have dropped what it SACKed (RFC 2018 section 8)
    return true;
  }

  /** A zero-window probe: one byte beyond the window, or what a too-small window takes. False when it is time to give up. */
  probe(): boolean {
    const unsent = this.buf.length - this.buf.offset(this.nxt);
    if (unsent <= 0) {
      this.persisting = false;
      return true;
    }
    const usable = Math.min(this.wnd, this.cc.window) - seqDiff(this.nxt, this.una);
    if (usable > 0) {
      // The window is open but too small for the SWS rules: send what fits (RFC 1122's override).
      this.persisting = false;
      const len = Math.min(usable, unsent, this.mss);
      const seq = this.nxt;
      this.sendData(seq, len, false);
      this.nxt = seqAdd(seq, len);
      if (seqDiff(this.nxt, this.max) > 0) this.max = this.nxt;
      this.rtx.set(this.rto.value);
      return true;
    }
    if (this.unanswered >= this.host.config.maxRetries) return false; // lwIP's TCP_MAXRTX
    this.host.stats.count("tcp.window-probes");
    this.rto.untime();
    this.sendData(this.nxt, 1, false);
    const end = seqAdd(this.nxt, 1);
    if (seqDiff(end, this.max) > 0) this.max = end;
    this.probes++;
    this.unanswered++;
    this.rtx.set(this.persistInterval());
    return true;
  }

  private persistInterval(): number {
    return Math.min(this.host.config.maxRtoMs, this.rto.value * 2 ** this.probes);
  }

  /** RFC 1191: the path takes only `mtu`-byte datagrams (0: unknown); true when that lowers the MSS. */
  lowerMss(mtu: number): boolean {
    const mss = (mtu === 0 ? PMTU_UNKNOWN : Math.max(MIN_PMTU, mtu)) - HEADERS;
    if (mss >= this.mss) return false; // never raised by ICMP
    this.mss = mss;
    this.host.stats.count("tcp.pmtu-lowered");
    return true;
  }

  /** Sends everything unacknowledged again, as the window allows (in the new MSS after lowerMss). */
  rewind(): void {
    this.nxt = this.una;
    this.rto.untime();
  }
}
