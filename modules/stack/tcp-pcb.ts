// One TCP connection (RFC 9293): its state machine; sending from a bounded buffer with
// retransmission (RFC 6298), fast retransmit and NewReno congestion control (RFC 5681,
// RFC 6582) and zero-window probes; receiving into a window the application reopens, with
// out-of-order reassembly and delayed ACKs; keepalive; RFC 5961's defences against blind
// RST, SYN and ACK injection; ICMP errors and path MTU discovery (RFC 1191); and a bound in
// time on every state a peer alone can keep it in (half-open, orphaned, probing a zero
// window). The application sees lwIP's raw-API callbacks.

import type { Ip4 } from "../wire/address.ts";
import { ACK, FIN, PSH, RST, SYN, type TcpDecoded, type TcpSegment, type TcpOptions as SegmentOptions } from "../wire/tcp.ts";
import type { Clock, Timer } from "../platform.ts";
import type { Stats } from "./stats.ts";
import type { TcpDrop } from "./drops.ts";
import type { TcpConfig } from "./tcp-config.ts";
import { ACK_NORMAL, ACK_RESEND_KEEP_TIMER, type CongestionController, NewReno } from "./tcp-congestion.ts";
import { Deadline } from "./tcp-deadline.ts";
import { Keepalive } from "./tcp-keepalive.ts";
import { MAX_SHIFT, MAX_WINDOW, RX_ACK_NOW, RX_FIN, RX_TAKEN, ReceiveWindow, windowShift } from "./tcp-receive.ts";
import { TokenBucket } from "./token-bucket.ts";
import type { IcmpErrorKind, TransportError } from "./transport-error.ts";
import { RtoEstimator } from "./tcp-rto.ts";
import { SendBuffer } from "./tcp-sendbuf.ts";
import { seqAdd, seqDiff } from "./tcp-seq.ts";

export type TcpState =
  | "closed"
  | "syn-sent"
  | "syn-received"
  | "established"
  | "fin-wait-1"
  | "fin-wait-2"
  | "close-wait"
  | "closing"
  | "last-ack"
  | "time-wait";

/** Why a connection died, as err and connect callbacks report it. */
export type TcpError = "reset" | "refused" | "timeout" | "abort" | "address-changed";

/** What a pcb needs from the TCP layer that owns it (Tcp). */
export interface TcpHost {
  readonly config: TcpConfig;
  readonly clock: Clock;
  readonly stats: Stats;
  /** Our MSS: the payload of a full-size frame. */
  readonly mss: number;
  /** The most payload one frame takes when the link cuts it into segments itself (TSO); 0 without. */
  readonly tsoPayload: number;
  /** The initial sequence number for a new connection (RFC 6528). */
  isn(pcb: TcpPcb): number;
  /** `mss`: the segments' size, should the link cut this one up (TSO). */
  transmit(pcb: TcpPcb, seg: TcpSegment, mss: number): void;
  /** A RST with the given numbers; flags are RST or RST|ACK. */
  sendReset(localIp: Ip4, localPort: number, remoteIp: Ip4, remotePort: number, seq: number, ack: number, flags: number): void;
  /** The pcb entered TIME-WAIT. */
  timeWait(pcb: TcpPcb): void;
  /** The pcb is closed. */
  remove(pcb: TcpPcb): void;
}

/** What a passive pcb tells the listener it came from. */
export interface TcpAcceptQueue {
  /** The handshake completed. */
  ready(pcb: TcpPcb): void;
  /** The pcb died before the application took it. */
  lost(pcb: TcpPcb): void;
}

const EMPTY = new Uint8Array(0);
const NO_OPTIONS: SegmentOptions = {};
const DEFAULT_MSS = 536; // RFC 9293: assumed when the peer sends no MSS option
const RTO_AFTER_SYN_LOSS_MS = 3000;
const HEADERS = 40; // IPv4 and TCP headers without options, between the MTU and the MSS
const MIN_PMTU = 552; // Linux's floor, so a forged ICMP cannot make segments tiny
const PMTU_UNKNOWN = 576; // for a router that does not say its next hop's MTU

function drop(stats: Stats, reason: TcpDrop): false {
  stats.drop(reason);
  return false;
}

/** States where our SYN has been acknowledged and data may flow out. */
const SENDING = new Set<TcpState>(["established", "fin-wait-1", "close-wait", "closing", "last-ack"]);
/** States where the peer's data is still expected. */
const RECEIVING = new Set<TcpState>(["established", "fin-wait-1", "fin-wait-2"]);

export class TcpPcb {
  private current: TcpState = "closed";
  /** Send short segments at once instead of holding one while another is unacknowledged (Nagle). */
  nodelay = false;

  private recvCb: ((data: Uint8Array | null) => void) | undefined;
  private sentCb: ((n: number) => void) | undefined;
  private errCb: ((reason: TcpError) => void) | undefined;
  private pollCb: (() => void) | undefined;
  private pollTimer: Timer | undefined;
  /** @internal connect's callback, until the handshake ends */
  connectCb: ((err?: TcpError) => void) | undefined;
  /** @internal the application holds the pcb (from connect, or once accepted) */
  given = false;
  private released = false; // close() or abort() was called: no more callbacks
  private announce = false; // just established: tell the listener or connect's callback

  // Send side.
  private iss = 0;
  private sndUna = 0;
  private sndNxt = 0;
  private sndMax = 0; // highest sequence sent, past sndNxt after a timeout rewinds it
  private sndWnd = 0;
  private maxSndWnd = 0;
  private wl1 = 0; // seq and ack of the segment that last updated sndWnd
  private wl2 = 0;
  private sndShift = 0;
  private readonly sbuf: SendBuffer;
  private finQueued = false;
  private shortEnd = 0; // end of the last segment shorter than the MSS (Minshall's Nagle)
  private scaleSeen = false; // the peer's SYN offered window scale
  private mss = DEFAULT_MSS;
  private readonly cc: CongestionController = new NewReno();
  // Retransmission.
  private readonly rto: RtoEstimator;
  private retries = 0;
  private synLost = false; // the peer sent its SYN again: ours or its SYN-ACK was lost
  private persisting = false;
  private probes = 0; // zero-window probes since the window was last open, for their backoff
  private unanswered = 0; // zero-window probes since the peer was last heard from

  // Receive side.
  private irs = 0;
  private readonly rcv: ReceiveWindow;
  private readonly deliver = (data: Uint8Array) => this.take(data);
  private readonly rxQueue: Array<Uint8Array | null> = [];
  private rxFlush: Timer | undefined;
  private unacked = 0; // segments received since our last ACK
  private ackNow = false;
  private sentPending = 0; // bytes acknowledged, for the sent callback

  private readonly rtx: Deadline; // retransmission, persist, FIN-WAIT-2 and TIME-WAIT
  private readonly limit: Deadline; // how long a peer may keep us half-open, or an orphan alive
  private readonly delack: Deadline;
  private readonly keep: Keepalive;
  private readonly challenges: TokenBucket; // RFC 5961 section 7
  private readonly ourScale: number | undefined; // the window scale we offer

  constructor(
    private readonly tcp: TcpHost,
    readonly localIp: Ip4,
    readonly localPort: number,
    readonly remoteIp: Ip4,
    readonly remotePort: number,
    /** @internal the listener a passive pcb came from */
    readonly listener?: TcpAcceptQueue,
  ) {
    const c = tcp.config;
    const clock = tcp.clock;
    this.rto = new RtoEstimator(c.minRtoMs, c.maxRtoMs, c.initialRtoMs);
    this.rcv = new ReceiveWindow(c.wnd, c.maxGaps, tcp.stats);
    this.sbuf = new SendBuffer(c.sndbuf);
    this.rtx = new Deadline(clock, () => this.onRtx());
    this.limit = new Deadline(clock, () => this.onLimit());
    this.delack = new Deadline(clock, () => this.sendAck());
    this.keep = new Keepalive(
      clock,
      c,
      c.keepalive,
      () => this.sendKeepalive(),
      () => this.fail("timeout"),
    );
    this.challenges = new TokenBucket(clock, c.challengeAcksPerSecond);
    this.ourScale = windowShift(c.wnd, c.sndbuf);
  }

  // ---- Application API ----

  get state(): TcpState {
    return this.current;
  }

  /** Probe an idle connection (config.keepIdleMs) and give up after config.keepCount silent probes. */
  get keepalive(): boolean {
    return this.keep.on;
  }

  set keepalive(on: boolean) {
    this.keep.on = on;
    if (on && this.state !== "closed" && this.state !== "time-wait") this.keep.restart();
    else this.keep.stop();
  }

  /** Bytes write() accepts now. */
  get sndbuf(): number {
    return this.writable() ? this.sbuf.capacity - this.sbuf.length : 0;
  }

  /** The last soft ICMP error about this connection (RFC 1122 4.2.3.9), if any. */
  lastIcmpError: IcmpErrorKind | undefined;

  /** Bytes written and not yet acknowledged. */
  get unacknowledged(): number {
    return this.sbuf.length;
  }

  /** Called with data in order, then null once when the peer has sent FIN. */
  recv(cb: (data: Uint8Array | null) => void): void {
    this.recvCb = cb;
    if (this.rxQueue.length) this.scheduleFlush();
  }

  /** Reopens the receive window by `n` bytes the application has consumed. */
  recved(n: number): void {
    if (this.rcv.consumed(n) && RECEIVING.has(this.state)) this.sendAck();
  }

  /** Copies up to `sndbuf` bytes of `data` for sending; returns how many it took. */
  write(data: Uint8Array): number {
    const n = Math.min(data.length, this.sndbuf);
    if (n === 0) return 0;
    this.sbuf.write(data.subarray(0, n));
    this.output();
    return n;
  }

  /** Called with the number of bytes the peer acknowledged. */
  sent(cb: (n: number) => void): void {
    this.sentCb = cb;
  }

  /** Called once when the connection dies under the application: reset, timeout or abort. */
  err(cb: (reason: TcpError) => void): void {
    this.errCb = cb;
  }

  /** Calls `cb` every `intervalMs` while the connection lives (to retry writes, time out idle peers). */
  poll(cb: () => void, intervalMs: number): void {
    this.pollTimer?.cancel();
    this.pollCb = cb;
    const tick = () => {
      this.pollTimer = this.tcp.clock.setTimer(intervalMs, tick);
      if (this.callable()) this.pollCb?.();
    };
    this.pollTimer = this.tcp.clock.setTimer(intervalMs, tick);
  }

  /**
   * Sends FIN after the queued data and gives the pcb back to the stack: no callback is
   * called again. Unread received data makes it a reset instead (RFC 9293 3.10.4).
   */
  close(): void {
    if (this.released) return;
    this.released = true;
    this.stopPoll();
    if (this.rxQueue.some((d) => d !== null)) return this.reset();
    this.rxQueue.length = 0;
    switch (this.state) {
      case "syn-sent":
        return this.destroy();
      case "syn-received":
        return this.reset();
      case "fin-wait-2":
        this.rtx.set(this.tcp.config.finWait2Ms);
        break;
      default:
        this.shutdown();
    }
    // An orphan: nobody can abort it any more, so its time is bounded whatever the peer does.
    if (this.state !== "closed" && this.state !== "time-wait") this.limit.set(this.tcp.config.orphanTimeoutMs);
  }

  /** Half-close: sends FIN after the queued data (once established, if need be) and keeps receiving. */
  shutdown(): void {
    if (this.finQueued) return;
    if (this.state === "established") this.current = "fin-wait-1";
    else if (this.state === "close-wait") this.current = "last-ack";
    else if (this.state !== "syn-sent" && this.state !== "syn-received") return;
    this.finQueued = true;
    this.output();
  }

  /** Sends RST and kills the connection; err("abort") is called, as in lwIP. */
  abort(): void {
    if (this.state === "closed") return;
    this.sendRst();
    this.fail("abort");
  }

  // ---- Opening ----

  /** @internal active open */
  open(): void {
    this.current = "syn-sent";
    this.initSend();
    this.sendSyn();
  }

  /** @internal passive open from a listener's SYN */
  openFrom(seg: TcpDecoded): void {
    this.current = "syn-received";
    this.initSend();
    this.takeSyn(seg);
    this.sndWnd = this.maxSndWnd = seg.window; // a SYN's window is never scaled
    this.wl1 = seg.seq;
    this.sendSyn();
    this.limit.set(this.tcp.config.synRcvdTimeoutMs);
  }

  /** @internal passive open from the ACK that returns our SYN cookie `iss`: the handshake is done */
  openFromCookie(seg: TcpDecoded, iss: number, mss: number): void {
    this.current = "syn-received";
    this.initSend(iss);
    this.irs = seqAdd(seg.seq, -1);
    this.mss = Math.max(64, Math.min(mss, this.tcp.mss));
    this.rcv.start(this.irs, 0, this.mss); // a cookie keeps no window scale
    this.sndWnd = this.maxSndWnd = seg.window;
    this.wl1 = seg.seq;
    this.input(seg); // as the ACK that ends SYN-RECEIVED
  }

  private initSend(iss = this.tcp.isn(this)): void {
    this.iss = iss;
    this.sndUna = this.iss;
    this.sndNxt = this.sndMax = this.shortEnd = seqAdd(this.iss, 1);
    this.sbuf.seq = seqAdd(this.iss, 1);
  }

  /** Learns the peer's sequence, MSS and window scale from its SYN. */
  private takeSyn(seg: TcpDecoded): void {
    this.irs = seg.seq;
    this.mss = Math.max(64, Math.min(seg.options.mss ?? DEFAULT_MSS, this.tcp.mss));
    const scale = seg.options.windowScale;
    this.scaleSeen = scale !== undefined;
    const ours = this.ourScale;
    const scaled = scale !== undefined && ours !== undefined;
    if (scaled) this.sndShift = Math.min(scale, MAX_SHIFT);
    this.rcv.start(seg.seq, scaled ? ours : 0, this.mss);
  }

  private sendSyn(): void {
    this.emitSyn();
    this.rtx.set(this.rto.value);
    this.rto.time(this.iss, this.tcp.clock.now());
  }

  /** MSS always; window scale offered when we want it, and answered only when the peer offered it. */
  private emitSyn(): void {
    this.emit(this.iss, this.state === "syn-sent" ? SYN : SYN | ACK, EMPTY, this.synOptions());
  }

  private synOptions(): SegmentOptions {
    const o: SegmentOptions = { mss: this.tcp.mss };
    if (this.ourScale !== undefined && (this.state === "syn-sent" || this.scaleSeen)) o.windowScale = this.ourScale;
    return o;
  }

  private established(): void {
    this.current = this.finQueued ? "fin-wait-1" : "established"; // shutdown() came first
    this.limit.clear();
    // RFC 6298 5.7: after a SYN timed out, data starts with an RTO of 3 s, not the backed-off one.
    if (this.retries > 0) this.rto.restart(Math.max(RTO_AFTER_SYN_LOSS_MS, this.tcp.config.initialRtoMs));
    this.cc.start(this.mss, this.sndMax, this.synLost || this.retries > 0);
    this.retries = 0;
    this.tcp.stats.count("tcp.established");
    this.announce = true;
    this.keep.restart();
  }

  // ---- Input ----

  /** @internal a segment for this connection, checksummed and demultiplexed */
  input(seg: TcpDecoded): void {
    if (this.state === "closed") return;
    if (this.state === "syn-sent") this.inputSynSent(seg);
    else this.inputSynchronized(seg);
    if (!this.dead) this.finishInput();
  }

  private inputSynSent(seg: TcpDecoded): void {
    const f = seg.flags;
    const stats = this.stats;
    if (f & ACK && (seqDiff(seg.ack, this.iss) <= 0 || seqDiff(seg.ack, this.sndMax) > 0)) {
      if (!(f & RST)) this.tcp.sendReset(this.localIp, this.localPort, this.remoteIp, this.remotePort, seg.ack, 0, RST);
      return stats.drop("tcp-bad-ack");
    }
    if (f & RST) {
      if (f & ACK) return this.fail("refused");
      return stats.drop("tcp-rst-without-ack");
    }
    if (!(f & SYN)) return stats.drop("tcp-no-syn");
    this.takeSyn(seg);
    this.sndWnd = this.maxSndWnd = seg.window;
    this.wl1 = seg.seq;
    this.wl2 = seg.ack;
    if (!(f & ACK)) {
      // Simultaneous open: answer with our SYN again, now acknowledging theirs.
      this.current = "syn-received";
      this.emitSyn();
      return;
    }
    this.rto.acked(seg.ack, this.tcp.clock.now());
    this.sndUna = seg.ack;
    this.rtx.clear();
    this.established();
    this.ackNow = true;
  }

  private inputSynchronized(seg: TcpDecoded): void {
    const f = seg.flags;
    const stats = this.stats;
    if (f & RST) {
      if (!this.rcv.acceptable(seg.seq, 0)) return stats.drop("tcp-out-of-window"); // its text is ignored: a zero window takes it too
      if (seg.seq === this.rcv.nxt) return this.resetReceived();
      this.challengeAck();
      return stats.drop("tcp-rst-not-exact");
    }
    if (f & SYN) {
      if (this.state === "syn-received" && seg.seq === this.irs) {
        if (!(f & ACK)) {
          // The peer lost our SYN-ACK and sent its SYN again.
          this.synLost = true;
          this.rto.untime();
          this.emitSyn();
          return stats.count("tcp.syn-ack-resent");
        }
        if (seg.ack === this.sndMax) {
          // Simultaneous open: the peer's SYN-ACK acknowledges ours (accepted as Linux does).
          this.established();
          this.sndWnd = this.maxSndWnd = seg.window;
          this.newAck(seg.ack);
          this.ackNow = true;
          return;
        }
      }
      this.challengeAck(); // RFC 5961 4.2: whatever its sequence number
      return stats.drop("tcp-syn-in-window");
    }
    if (!this.rcv.acceptable(seg.seq, seg.payload.length, (f & FIN) !== 0)) {
      if (this.rcv.window === 0 && seg.seq === this.rcv.nxt && f & ACK) {
        // RFC 9293 3.10.7.4: a zero window takes no text, but the ACK still counts.
        this.ackNow = true;
        stats.drop("tcp-out-of-window");
        this.takeAck(seg);
        return;
      }
      if (this.state === "time-wait" && f & FIN) this.rtx.set(this.timeWaitMs()); // the peer missed our last ACK
      // Data or FIN already received: the peer missed our ACK, so answer. Anything else
      // answers only within the challenge budget, so two confused stacks can't ACK forever.
      if (seg.payload.length || f & FIN) this.ackNow = true;
      else this.challengeAck();
      const old = seqDiff(seg.seq, this.rcv.nxt) < 0;
      return stats.drop(old ? "tcp-duplicate" : "tcp-out-of-window");
    }
    if (!this.takeAck(seg)) return;
    if (RECEIVING.has(this.state)) this.processText(seg);
    else if (seg.payload.length) stats.drop("tcp-data-after-fin");
  }

  /** The ACK of a segment in the window; false when the segment goes no further. */
  private takeAck(seg: TcpDecoded): boolean {
    const stats = this.stats;
    if (!(seg.flags & ACK)) return drop(stats, "tcp-no-ack");
    this.keep.restart();
    this.unanswered = 0;
    if (this.state === "syn-received") {
      if (seqDiff(seg.ack, this.sndUna) <= 0 || seqDiff(seg.ack, this.sndMax) > 0) {
        this.tcp.sendReset(this.localIp, this.localPort, this.remoteIp, this.remotePort, seg.ack, 0, RST);
        return drop(stats, "tcp-bad-ack");
      }
      this.established();
    }
    if (seqDiff(seg.ack, this.sndMax) > 0) {
      this.challengeAck();
      return drop(stats, "tcp-ack-unsent");
    }
    if (seqDiff(seg.ack, this.sndUna) < -this.maxSndWnd) {
      this.challengeAck(); // RFC 5961 5.2: too old to be a real ACK
      return drop(stats, "tcp-ack-too-old");
    }
    this.processAck(seg);
    return !this.dead;
  }

  private processAck(seg: TcpDecoded): void {
    const ack = seg.ack;
    let windowChanged = false;
    if (seqDiff(ack, this.sndUna) >= 0 && (seqDiff(this.wl1, seg.seq) < 0 || (this.wl1 === seg.seq && seqDiff(this.wl2, ack) <= 0))) {
      const wnd = seg.window << this.sndShift;
      windowChanged = wnd !== this.sndWnd;
      this.sndWnd = wnd;
      this.maxSndWnd = Math.max(this.maxSndWnd, wnd);
      if (wnd > 0) this.probes = 0;
      this.wl1 = seg.seq;
      this.wl2 = ack;
    }
    const acked = seqDiff(ack, this.sndUna);
    if (acked > 0) return this.newAck(ack);
    const pure = seg.payload.length === 0 && !(seg.flags & (SYN | FIN));
    if (acked === 0 && pure && !windowChanged && this.sndMax !== this.sndUna && !this.persisting) this.dupAck();
  }

  private newAck(ack: number): void {
    this.rto.acked(ack, this.tcp.clock.now());
    this.retries = 0;
    const intoBuffer = this.sbuf.offset(ack);
    const data = Math.max(0, Math.min(intoBuffer, this.sbuf.length));
    const finAcked = this.finQueued && intoBuffer === this.sbuf.length + 1;
    this.sbuf.consume(data);
    this.sndUna = ack;
    if (seqDiff(this.sndNxt, ack) < 0) this.sndNxt = ack;
    this.sentPending += data;
    const cap = 2 * Math.max(this.tcp.config.sndbuf, this.maxSndWnd);
    const todo = this.cc.onAck(data, ack, this.sndMax, cap);
    if (todo !== ACK_NORMAL) this.retransmitFirst();
    if (this.sndUna === this.sndMax) this.rtx.clear();
    else if (todo !== ACK_RESEND_KEEP_TIMER) this.rtx.set(this.rto.value);
    if (this.sbuf.length === 0 && this.sndUna === this.sndMax) this.persisting = false;
    if (finAcked) this.ourFinAcked();
  }

  private ourFinAcked(): void {
    switch (this.state) {
      case "fin-wait-1":
        this.current = "fin-wait-2";
        if (this.released) this.rtx.set(this.tcp.config.finWait2Ms); // an orphan must not wait forever
        break;
      case "closing":
        this.enterTimeWait();
        break;
      case "last-ack":
        this.destroy();
        break;
    }
  }

  private dupAck(): void {
    if (!this.cc.onDupAck(this.sndUna, this.sndMax)) return;
    this.stats.count("tcp.fast-retransmits");
    this.retransmitFirst();
  }

  /** Takes the segment's data and FIN, in order or into the reassembly. */
  private processText(seg: TcpDecoded): void {
    const r = this.rcv.accept(seg.seq, seg.payload, (seg.flags & FIN) !== 0, this.deliver);
    if (!(r & RX_TAKEN)) return;
    this.unacked += Math.max(1, Math.ceil(seg.payload.length / this.mss)); // a link's large receive counts as the segments it joined
    if (r & RX_ACK_NOW) this.ackNow = true;
    if (r & RX_FIN) this.finReceived();
  }

  /** Data now in order, for the application. */
  private take(data: Uint8Array): void {
    if (this.released) return this.stats.count("tcp.rx-discarded", data.length); // nobody reads any more
    this.rcv.unread += data.length;
    this.rxQueue.push(data);
  }

  private finReceived(): void {
    this.rcv.takeFin();
    this.ackNow = true;
    if (!this.released) this.rxQueue.push(null);
    if (this.state === "established") this.current = "close-wait";
    else if (this.state === "fin-wait-1") this.current = "closing";
    else if (this.state === "fin-wait-2") this.enterTimeWait();
  }

  private resetReceived(): void {
    this.stats.count("tcp.rst-received");
    if (this.state === "syn-received" && this.listener) return this.destroy(); // back to listening
    this.fail(this.state === "syn-received" ? "refused" : "reset");
  }

  /** Application callbacks, then whatever the segment asks us to send. */
  private finishInput(): void {
    if (this.announce) {
      this.announce = false;
      const cb = this.connectCb;
      this.connectCb = undefined;
      if (this.listener) this.listener.ready(this);
      else if (this.callable()) cb?.();
      if (this.dead) return;
    }
    const n = this.sentPending;
    this.sentPending = 0;
    if (n && this.callable()) this.sentCb?.(n);
    if (this.dead) return;
    this.flushRx();
    if (this.dead) return;
    this.output();
    if (this.ackNow || this.unacked >= 2) this.sendAck();
    else if (this.unacked > 0 && !this.delack.armed) this.delack.set(this.tcp.config.delayedAckMs);
  }

  private flushRx(): void {
    while (this.rxQueue.length && this.recvCb && this.callable()) this.recvCb(this.rxQueue.shift()!);
  }

  private scheduleFlush(): void {
    this.rxFlush ??= this.tcp.clock.setTimer(0, () => {
      this.rxFlush = undefined;
      if (this.state === "closed") return;
      this.flushRx();
    });
  }

  // ---- Output ----

  /** Sends what the windows, Nagle and sender SWS avoidance allow. */
  private output(): void {
    if (!SENDING.has(this.state)) return;
    for (;;) {
      const sent = this.sbuf.offset(this.sndNxt);
      if (sent > this.sbuf.length) break; // FIN is out
      const unsent = this.sbuf.length - sent;
      const flight = seqDiff(this.sndNxt, this.sndUna);
      const usable = Math.min(this.sndWnd, this.cc.window) - flight;
      let len = Math.max(0, Math.min(unsent, this.segmentMax(), usable));
      const tail = len % this.mss; // beyond whole segments, which TSO sends together: it must be worth sending alone
      if (len > this.mss && tail && !this.worthSending(tail, unsent - len + tail, flight + len - tail)) len -= tail;
      const fin = this.finQueued && len === unsent;
      if (!fin && !this.worthSending(len, unsent, flight)) break;
      const seq = this.sndNxt;
      this.sendData(seq, len, fin);
      this.sndNxt = seqAdd(seq, len + (fin ? 1 : 0));
      if (seqDiff(this.sndNxt, this.sndMax) > 0) {
        if (!this.rto.timing && seqDiff(seq, this.sndMax) >= 0) this.rto.time(seq, this.tcp.clock.now());
        this.sndMax = this.sndNxt;
      }
      if (this.persisting || !this.rtx.armed) {
        this.persisting = false;
        this.rtx.set(this.rto.value);
      }
      if (fin) break;
    }
    const waiting = this.sbuf.length - this.sbuf.offset(this.sndNxt) > 0;
    if (waiting && this.sndNxt === this.sndUna && !this.rtx.armed) {
      // Nothing in flight to bring an ACK, yet the window keeps us from sending: probe it.
      this.persisting = true;
      this.rtx.set(this.persistInterval());
    }
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
    if (len === unsent && (this.nodelay || flight === 0 || seqDiff(this.shortEnd, this.sndUna) <= 0)) return true;
    return len >= this.maxSndWnd / 2;
  }

  private sendData(seq: number, len: number, fin: boolean): void {
    const off = this.sbuf.offset(seq);
    const payload = len ? this.sbuf.bytes(off, len) : EMPTY;
    let flags = ACK;
    if (fin) flags |= FIN;
    if (len && off + len === this.sbuf.length) flags |= PSH;
    if (len % this.mss) this.shortEnd = seqAdd(seq, len);
    this.emit(seq, flags, payload);
  }

  /** Resends the first unacknowledged segment, leaving sndNxt where it is. */
  private retransmitFirst(): void {
    const len = Math.min(this.sbuf.length, this.mss);
    const fin = this.finQueued && len === this.sbuf.length && this.sbuf.offset(this.sndMax) > this.sbuf.length;
    if (len === 0 && !fin) return;
    this.rto.untime();
    this.stats.count("tcp.retransmits");
    this.sendData(this.sndUna, len, fin);
  }

  private sendAck(): void {
    if (this.state === "closed" || this.state === "syn-sent") return;
    this.emit(this.ackSeq(), ACK);
  }

  /**
   * The sequence number for a segment without data: the highest we sent, not sndNxt, which a
   * timeout rewinds below what the peer holds (it would drop the ACK as old), but never
   * beyond the peer's window, which a zero-window probe goes past.
   */
  private ackSeq(): number {
    const edge = seqAdd(this.sndUna, this.sndWnd);
    return seqDiff(this.sndMax, edge) > 0 ? edge : this.sndMax;
  }

  /**
   * The most data one segment carries: the MSS, or as many whole MSSs as fit in a frame the
   * link cuts into segments itself (TSO), so that one frame carries many.
   */
  private segmentMax(): number {
    const mss = this.mss;
    return this.tcp.tsoPayload > mss ? mss * Math.floor(this.tcp.tsoPayload / mss) : mss;
  }

  private emit(seq: number, flags: number, payload: Uint8Array = EMPTY, options = NO_OPTIONS): void {
    const window = flags & SYN ? Math.min(this.tcp.config.wnd, MAX_WINDOW) : this.rcv.advertise();
    this.tcp.transmit(
      this,
      {
        srcPort: this.localPort,
        dstPort: this.remotePort,
        seq,
        ack: flags & ACK ? this.rcv.nxt : 0,
        flags,
        window,
        urgent: 0,
        options,
        payload,
      },
      this.mss,
    );
    if (flags & ACK) {
      this.unacked = 0;
      this.ackNow = false;
      this.delack.clear();
    }
  }

  private challengeAck(): void {
    if (!this.challenges.take()) return this.stats.drop("tcp-challenge-ack-limited");
    this.stats.count("tcp.challenge-acks");
    this.sendAck();
  }

  /** Sends RST and forgets the connection without a callback. */
  private reset(): void {
    this.sendRst();
    this.destroy();
  }

  private sendRst(): void {
    if (this.state === "syn-sent" || this.state === "time-wait" || this.state === "closed") return;
    this.stats.count("tcp.resets-sent");
    this.tcp.sendReset(this.localIp, this.localPort, this.remoteIp, this.remotePort, this.ackSeq(), this.rcv.nxt, RST | ACK);
  }

  // ---- ICMP errors ----

  /** @internal an ICMP error about a segment of ours (RFC 1122 4.2.3.9, RFC 1191) */
  icmpError(e: TransportError): void {
    // RFC 5927 4.1: only for a sequence number in flight, which a blind attacker must guess.
    if (seqDiff(e.seq, this.sndUna) < 0 || seqDiff(e.seq, this.sndMax) >= 0) return this.stats.drop("tcp-icmp-out-of-window");
    this.stats.count("tcp.icmp-errors");
    if (e.kind === "fragmentation-needed") return this.lowerMss(e.nextHopMtu);
    if (e.hard && this.state === "syn-sent") return this.fail("refused");
    this.lastIcmpError = e.kind; // soft: the connection may still get through
  }

  /** RFC 1191: the path takes only `mtu`-byte datagrams; resend what went out in larger segments. */
  private lowerMss(mtu: number): void {
    const mss = (mtu === 0 ? PMTU_UNKNOWN : Math.max(MIN_PMTU, mtu)) - HEADERS;
    if (mss >= this.mss) return; // never raised by ICMP
    this.mss = mss;
    this.stats.count("tcp.pmtu-lowered");
    if (!SENDING.has(this.state)) return;
    this.sndNxt = this.sndUna;
    this.rto.untime();
    this.output();
  }

  // ---- Timers ----

  private onRtx(): void {
    const c = this.tcp.config;
    switch (this.state) {
      case "time-wait":
      case "fin-wait-2":
        return this.destroy();
      case "syn-sent":
      case "syn-received":
        if (++this.retries > c.synRetries) return this.fail("timeout");
        this.rto.backoff();
        this.rto.untime();
        this.stats.count("tcp.retransmits");
        this.emitSyn();
        this.rtx.set(this.rto.value);
        return;
    }
    if (this.persisting) return this.probe();
    if (++this.retries > c.maxRetries) return this.fail("timeout");
    this.cc.onTimeout(this.sndUna, this.sndMax);
    this.rto.backoff();
    this.rto.untime();
    this.sndNxt = this.sndUna;
    this.stats.count("tcp.timeouts");
    this.stats.count("tcp.retransmits");
    this.rtx.clear();
    this.output();
    if (!this.rtx.armed) this.rtx.set(this.rto.value);
  }

  /** A zero-window probe: one byte beyond the window, or what a too-small window takes. */
  private probe(): void {
    const unsent = this.sbuf.length - this.sbuf.offset(this.sndNxt);
    if (unsent <= 0) {
      this.persisting = false;
      return;
    }
    const usable = Math.min(this.sndWnd, this.cc.window) - seqDiff(this.sndNxt, this.sndUna);
    if (usable > 0) {
      // The window is open but too small for the SWS rules: send what fits (RFC 1122's override).
      this.persisting = false;
      const len = Math.min(usable, unsent, this.mss);
      const seq = this.sndNxt;
      this.sendData(seq, len, false);
      this.sndNxt = seqAdd(seq, len);
      if (seqDiff(this.sndNxt, this.sndMax) > 0) this.sndMax = this.sndNxt;
      this.rtx.set(this.rto.value);
      return;
    }
    if (this.unanswered >= this.tcp.config.maxRetries) return this.fail("timeout"); // lwIP's TCP_MAXRTX
    this.stats.count("tcp.window-probes");
    this.rto.untime();
    this.sendData(this.sndNxt, 1, false);
    const end = seqAdd(this.sndNxt, 1);
    if (seqDiff(end, this.sndMax) > 0) this.sndMax = end;
    this.probes++;
    this.unanswered++;
    this.rtx.set(this.persistInterval());
  }

  private persistInterval(): number {
    return Math.min(this.tcp.config.maxRtoMs, this.rto.value * 2 ** this.probes);
  }

  private sendKeepalive(): void {
    this.stats.count("tcp.keepalives");
    this.emit(seqAdd(this.sndUna, -1), ACK); // an old sequence number the peer must answer
  }

  private timeWaitMs(): number {
    return 2 * this.tcp.config.mslMs;
  }

  /**
   * A half-open connection the peer never completed is dropped without a word, as it may be
   * spoofed; an orphan that did not finish in time is reset.
   */
  private onLimit(): void {
    if (this.released) {
      this.stats.count("tcp.orphan-timeouts");
      return this.reset();
    }
    this.stats.count("tcp.syn-received-timeouts");
    this.destroy();
  }

  // ---- Endings ----

  private enterTimeWait(): void {
    this.current = "time-wait";
    this.limit.clear(); // 2 MSL bounds it
    this.delack.clear();
    this.keep.stop();
    this.rtx.set(this.timeWaitMs());
    this.tcp.timeWait(this);
  }

  /** Dies with a reason the application hears, through connect's callback or err. */
  private fail(reason: TcpError): void {
    const connecting = this.connectCb;
    const tell = this.callable();
    this.connectCb = undefined;
    this.destroy();
    if (!tell) return;
    if (connecting) connecting(reason);
    else this.errCb?.(reason);
  }

  /** @internal the stack drops the connection (address change, TIME_WAIT recycling, listener closed) */
  kill(reason?: TcpError): void {
    if (reason) return this.fail(reason);
    this.destroy();
  }

  /** @internal a pcb that has not earned its place or has given it up: half-open from a listener, or orphaned */
  get reclaimable(): boolean {
    if (this.state === "syn-received") return this.listener !== undefined && !this.given;
    return this.released && this.state !== "time-wait" && this.state !== "closed";
  }

  /** @internal the stack takes the pcb back for a newcomer: silently if half-open, with RST if orphaned */
  evict(): void {
    this.stats.count("tcp.evicted");
    if (this.released) this.reset();
    else this.destroy();
  }

  /** @internal the listener closed before the application accepted this pcb */
  refuse(): void {
    this.reset();
  }

  private destroy(): void {
    if (this.state === "closed") return;
    this.current = "closed";
    this.rtx.clear();
    this.limit.clear();
    this.delack.clear();
    this.keep.stop();
    this.stopPoll();
    this.rxFlush?.cancel();
    this.rxQueue.length = 0;
    this.sbuf.release();
    this.tcp.remove(this);
  }

  private stopPoll(): void {
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
  }

  /** True while callbacks may be called: the application holds a live pcb. */
  private callable(): boolean {
    return this.given && !this.released && !this.dead;
  }

  /** A getter, so TypeScript does not assume callbacks left the state alone. */
  private get dead(): boolean {
    return this.state === "closed";
  }

  /** write() takes data until FIN is queued, from the first SYN on. */
  private writable(): boolean {
    return (
      !this.finQueued &&
      !this.released &&
      (this.state === "syn-sent" || this.state === "syn-received" || this.state === "established" || this.state === "close-wait")
    );
  }

  private get stats(): Stats {
    return this.tcp.stats;
  }
}
