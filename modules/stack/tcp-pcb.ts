// One TCP connection (RFC 9293): its state machine; sending through tcp-sender.ts;
// receiving into a window the application reopens, with out-of-order reassembly and
// delayed ACKs; keepalive; RFC 5961's defences against blind RST, SYN and ACK injection;
// ICMP errors and path MTU discovery (RFC 1191); and a bound in time on every state a peer
// alone can keep it in (half-open, orphaned, probing a zero window). The application sees
// lwIP's raw-API callbacks (tcp-callbacks.ts).

import type { Ip4 } from "../wire/address.ts";
import { ACK, FIN, RST, SYN, type TcpDecoded, type TcpSegment, type TcpOptions as SegmentOptions } from "../wire/tcp.ts";
import type { Clock } from "../platform.ts";
import type { Stats } from "./stats.ts";
import type { TcpDrop } from "./drops.ts";
import type { TcpConfig } from "./tcp-config.ts";
import { TcpCallbacks, type TcpError } from "./tcp-callbacks.ts";
import { Deadline, type DeadlineOwner } from "./tcp-deadline.ts";
import { Keepalive, type KeepaliveOwner } from "./tcp-keepalive.ts";
import { MAX_WINDOW, RX_ACK_NOW, RX_FIN, RX_TAKEN, ReceiveWindow } from "./tcp-receive.ts";
import { TokenBucket } from "./token-bucket.ts";
import type { IcmpErrorKind, TransportError } from "./transport-error.ts";
import { TcpSender } from "./tcp-sender.ts";
import { seqAdd, seqDiff } from "./tcp-seq.ts";

export type { TcpError } from "./tcp-callbacks.ts";

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
const RTO_AFTER_SYN_LOSS_MS = 3000;

function drop(stats: Stats, reason: TcpDrop): false {
  stats.drop(reason);
  return false;
}

/** States where our SYN has been acknowledged and data may flow out. */
const SENDING = new Set<TcpState>(["established", "fin-wait-1", "close-wait", "closing", "last-ack"]);
/** States where the peer's data is still expected. */
const RECEIVING = new Set<TcpState>(["established", "fin-wait-1", "fin-wait-2"]);

export class TcpPcb implements DeadlineOwner, KeepaliveOwner {
  private current: TcpState = "closed";
  /** @internal the application holds the pcb (from connect, or once accepted) */
  given = false;
  private released = false; // close() or abort() was called: no more callbacks
  private announce = false; // just established: tell the listener or connect's callback
  private readonly app: TcpCallbacks;
  private readonly snd: TcpSender;
  private synLost = false; // the peer sent its SYN again: ours or its SYN-ACK was lost

  // Receive side.
  private irs = 0;
  private readonly rcv: ReceiveWindow;
  private readonly deliver = (data: Uint8Array) => this.take(data);
  private unacked = 0; // segments received since our last ACK
  private ackNow = false;

  private readonly rtx: Deadline; // retransmission, persist, FIN-WAIT-2 and TIME-WAIT
  private readonly limit: Deadline; // how long a peer may keep us half-open, or an orphan alive
  private readonly delack: Deadline;
  private readonly keep: Keepalive;
  private readonly challenges: TokenBucket; // RFC 5961 section 7

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
    this.rcv = new ReceiveWindow(c.wnd, c.maxGaps, tcp.stats);
    this.rtx = new Deadline(clock, this);
    this.snd = new TcpSender(tcp, this.rtx, (seq, flags, payload, options) => this.emit(seq, flags, payload, options));
    this.app = new TcpCallbacks(clock, () => this.callable());
    this.limit = new Deadline(clock, this);
    this.delack = new Deadline(clock, this);
    this.keep = new Keepalive(clock, c, c.keepalive, this);
    this.challenges = new TokenBucket(clock, c.challengeAcksPerSecond);
  }

  // ---- Application API ----

  get state(): TcpState {
    return this.current;
  }

  /** Send short segments at once instead of holding one while another is unacknowledged (Nagle). */
  get nodelay(): boolean {
    return this.snd.nodelay;
  }

  set nodelay(on: boolean) {
    this.snd.nodelay = on;
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
    return this.writable() ? this.snd.buf.capacity - this.snd.buf.length : 0;
  }

  /** The last soft ICMP error about this connection (RFC 1122 4.2.3.9), if any. */
  lastIcmpError: IcmpErrorKind | undefined;

  /** Bytes written and not yet acknowledged. */
  get unacknowledged(): number {
    return this.snd.buf.length;
  }

  /** Called with data in order, then null once when the peer has sent FIN. */
  recv(cb: (data: Uint8Array | null) => void): void {
    this.app.recv(cb);
  }

  /** Reopens the receive window by `n` bytes the application has consumed. */
  recved(n: number): void {
    if (this.rcv.consumed(n) && RECEIVING.has(this.state)) this.sendAck();
  }

  /** Copies up to `sndbuf` bytes of `data` for sending; returns how many it took. */
  write(data: Uint8Array): number {
    const n = Math.min(data.length, this.sndbuf);
    if (n === 0) return 0;
    this.snd.buf.write(data.subarray(0, n));
    this.output();
    return n;
  }

  /** Called with the number of bytes the peer acknowledged. */
  sent(cb: (n: number) => void): void {
    this.app.sent(cb);
  }

  /** Called once when the connection dies under the application: reset, timeout or abort. */
  err(cb: (reason: TcpError) => void): void {
    this.app.err(cb);
  }

  /** Calls `cb` every `intervalMs` while the connection lives (to retry writes, time out idle peers). */
  poll(cb: () => void, intervalMs: number): void {
    this.app.poll(cb, intervalMs);
  }

  /**
   * Sends FIN after the queued data and gives the pcb back to the stack: no callback is
   * called again. Unread received data makes it a reset instead (RFC 9293 3.10.4).
   */
  close(): void {
    if (this.released) return;
    this.released = true;
    this.app.forget(); // never called again: let the application's objects go
    this.app.stopPoll();
    if (this.app.unread) return this.reset();
    this.app.discard();
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
    if (this.snd.finQueued) return;
    if (this.state === "established") this.current = "fin-wait-1";
    else if (this.state === "close-wait") this.current = "last-ack";
    else if (this.state !== "syn-sent" && this.state !== "syn-received") return;
    this.snd.finQueued = true;
    this.output();
  }

  /** Sends RST and kills the connection; err("abort") is called, as in lwIP. */
  abort(): void {
    if (this.state === "closed") return;
    this.sendRst();
    this.fail("abort");
  }

  // ---- Opening ----

  /** @internal active open; `cb` is connect's callback */
  open(cb: (err?: TcpError) => void): void {
    this.app.connect = cb;
    this.current = "syn-sent";
    this.snd.start(this.tcp.isn(this));
    this.sendSyn();
  }

  /** @internal passive open from a listener's SYN */
  openFrom(seg: TcpDecoded): void {
    this.current = "syn-received";
    this.snd.start(this.tcp.isn(this));
    this.takeSyn(seg);
    this.snd.wnd = this.snd.maxWnd = seg.window; // a SYN's window is never scaled
    this.snd.wl1 = seg.seq;
    this.sendSyn();
    this.limit.set(this.tcp.config.synRcvdTimeoutMs);
  }

  /** @internal passive open from the ACK that returns our SYN cookie `iss`: the handshake is done */
  openFromCookie(seg: TcpDecoded, iss: number, mss: number): void {
    this.current = "syn-received";
    this.snd.start(iss);
    this.irs = seqAdd(seg.seq, -1);
    this.snd.mss = Math.max(64, Math.min(mss, this.tcp.mss));
    this.rcv.start(this.irs, 0, this.snd.mss); // a cookie keeps no window scale
    this.snd.wnd = this.snd.maxWnd = seg.window;
    this.snd.wl1 = seg.seq;
    this.input(seg); // as the ACK that ends SYN-RECEIVED
  }

  /** Learns the peer's sequence, MSS and window scale from its SYN. */
  private takeSyn(seg: TcpDecoded): void {
    this.irs = seg.seq;
    this.rcv.start(seg.seq, this.snd.takeSyn(seg.options), this.snd.mss);
  }

  private sendSyn(): void {
    this.snd.sendSyn(this.synFlags());
  }

  private synFlags(): number {
    return this.state === "syn-sent" ? SYN : SYN | ACK;
  }

  private established(): void {
    const snd = this.snd;
    this.current = snd.finQueued ? "fin-wait-1" : "established"; // shutdown() came first
    this.limit.clear();
    // RFC 6298 5.7: after a SYN timed out, data starts with an RTO of 3 s, not the backed-off one.
    if (snd.retries > 0) snd.rto.restart(Math.max(RTO_AFTER_SYN_LOSS_MS, this.tcp.config.initialRtoMs));
    snd.cc.start(snd.mss, snd.max, this.synLost || snd.retries > 0);
    snd.retries = 0;
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
    if (f & ACK && (seqDiff(seg.ack, this.snd.iss) <= 0 || seqDiff(seg.ack, this.snd.max) > 0)) {
      if (!(f & RST)) this.tcp.sendReset(this.localIp, this.localPort, this.remoteIp, this.remotePort, seg.ack, 0, RST);
      return stats.drop("tcp-bad-ack");
    }
    if (f & RST) {
      if (f & ACK) return this.fail("refused");
      return stats.drop("tcp-rst-without-ack");
    }
    if (!(f & SYN)) return stats.drop("tcp-no-syn");
    this.takeSyn(seg);
    this.snd.wnd = this.snd.maxWnd = seg.window;
    this.snd.wl1 = seg.seq;
    this.snd.wl2 = seg.ack;
    if (!(f & ACK)) {
      // Simultaneous open: answer with our SYN again, now acknowledging theirs.
      this.current = "syn-received";
      this.snd.emitSyn(this.synFlags());
      return;
    }
    this.snd.rto.acked(seg.ack, this.tcp.clock.now());
    this.snd.una = seg.ack;
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
          this.snd.rto.untime();
          this.snd.emitSyn(this.synFlags());
          return stats.count("tcp.syn-ack-resent");
        }
        if (seg.ack === this.snd.max) {
          // Simultaneous open: the peer's SYN-ACK acknowledges ours (accepted as Linux does).
          this.established();
          this.snd.wnd = this.snd.maxWnd = seg.window;
          this.app.sentPending += this.snd.newAck(seg.ack);
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
    const snd = this.snd;
    snd.unanswered = 0;
    if (this.state === "syn-received") {
      if (seqDiff(seg.ack, snd.una) <= 0 || seqDiff(seg.ack, snd.max) > 0) {
        this.tcp.sendReset(this.localIp, this.localPort, this.remoteIp, this.remotePort, seg.ack, 0, RST);
        return drop(stats, "tcp-bad-ack");
      }
      this.established();
    }
    if (seqDiff(seg.ack, snd.max) > 0) {
      this.challengeAck();
      return drop(stats, "tcp-ack-unsent");
    }
    if (seqDiff(seg.ack, snd.una) < -snd.maxWnd) {
      this.challengeAck(); // RFC 5961 5.2: too old to be a real ACK
      return drop(stats, "tcp-ack-too-old");
    }
    this.processAck(seg);
    return !this.dead;
  }

  private processAck(seg: TcpDecoded): void {
    const finWasAcked = this.snd.finAcked;
    const pure = seg.payload.length === 0 && !(seg.flags & (SYN | FIN));
    this.app.sentPending += this.snd.processAck(seg.seq, seg.ack, seg.window, pure, seg.options.sack);
    if (this.snd.finAcked && !finWasAcked) this.ourFinAcked();
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

  /** Takes the segment's data and FIN, in order or into the reassembly. */
  private processText(seg: TcpDecoded): void {
    const r = this.rcv.accept(seg.seq, seg.payload, (seg.flags & FIN) !== 0, this.deliver);
    if (!(r & RX_TAKEN)) return;
    const len = seg.payload.length;
    const mss = this.snd.mss;
    this.unacked += len > mss ? Math.ceil(len / mss) : 1; // a link's large receive counts as the segments it joined
    if (r & RX_ACK_NOW) this.ackNow = true;
    if (r & RX_FIN) this.finReceived();
  }

  /** Data now in order, for the application. */
  private take(data: Uint8Array): void {
    if (this.released) return this.stats.count("tcp.rx-discarded", data.length); // nobody reads any more
    this.rcv.unread += data.length;
    this.app.queue(data);
  }

  private finReceived(): void {
    this.rcv.takeFin();
    this.ackNow = true;
    if (!this.released) this.app.queue(null);
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
      if (this.listener) this.listener.ready(this);
      else this.app.connected();
      if (this.dead) return;
    }
    this.app.dispatch();
    if (this.dead) return;
    this.output();
    if (this.ackNow || this.unacked >= 2) this.sendAck();
    else if (this.unacked > 0 && !this.delack.armed) this.delack.set(this.tcp.config.delayedAckMs);
  }

  // ---- Output ----

  private output(): void {
    if (SENDING.has(this.state)) this.snd.output();
  }

  private sendAck(): void {
    if (this.state === "closed" || this.state === "syn-sent") return;
    this.emit(this.snd.ackSeq(), ACK);
  }

  private emit(seq: number, flags: number, payload: Uint8Array = EMPTY, options = NO_OPTIONS): void {
    let acks = (flags & ACK) !== 0; // the segment tells the peer all an ACK would
    if (acks && !(flags & SYN) && this.snd.sackOk && this.rcv.outOfOrder) {
      const sack = this.rcv.sackBlocks(this.snd.mss - payload.length); // RFC 6691: options and data within the MSS
      if (sack) options = { sack };
      else acks = false; // a full segment has no room for them: a pure ACK will carry them
    }
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
      this.snd.mss,
    );
    if (acks) {
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
    this.tcp.sendReset(this.localIp, this.localPort, this.remoteIp, this.remotePort, this.snd.ackSeq(), this.rcv.nxt, RST | ACK);
  }

  // ---- ICMP errors ----

  /** @internal an ICMP error about a segment of ours (RFC 1122 4.2.3.9, RFC 1191) */
  icmpError(e: TransportError): void {
    // RFC 5927 4.1: only for a sequence number in flight, which a blind attacker must guess.
    if (seqDiff(e.seq, this.snd.una) < 0 || seqDiff(e.seq, this.snd.max) >= 0) return this.stats.drop("tcp-icmp-out-of-window");
    this.stats.count("tcp.icmp-errors");
    if (e.kind === "fragmentation-needed") return this.lowerMss(e.nextHopMtu);
    if (e.hard && this.state === "syn-sent") return this.fail("refused");
    this.lastIcmpError = e.kind; // soft: the connection may still get through
  }

  /** RFC 1191: the path takes only `mtu`-byte datagrams; resend what went out in larger segments. */
  private lowerMss(mtu: number): void {
    if (!this.snd.lowerMss(mtu) || !SENDING.has(this.state)) return;
    this.snd.rewind();
    this.output();
  }

  // ---- Timers ----

  private onRtx(): void {
    const snd = this.snd;
    switch (this.state) {
      case "time-wait":
      case "fin-wait-2":
        return this.destroy();
      case "syn-sent":
      case "syn-received":
        if (!snd.resendSyn(this.synFlags())) this.fail("timeout");
        return;
    }
    if (snd.persisting) {
      if (!snd.probe()) this.fail("timeout");
      return;
    }
    if (!snd.timeout()) return this.fail("timeout");
    this.output();
    if (!this.rtx.armed) this.rtx.set(snd.rto.value);
  }

  /** @internal one of the pcb's deadlines is due */
  deadlineDue(d: Deadline): void {
    if (d === this.rtx) this.onRtx();
    else if (d === this.limit) this.onLimit();
    else this.sendAck();
  }

  /** @internal */
  keepaliveExpired(): void {
    this.fail("timeout");
  }

  /** @internal */
  sendKeepalive(): void {
    this.stats.count("tcp.keepalives");
    this.emit(seqAdd(this.snd.una, -1), ACK); // an old sequence number the peer must answer
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
    this.snd.buf.release(); // all of it was acknowledged, our FIN too
    this.limit.clear(); // 2 MSL bounds it
    this.delack.clear();
    this.keep.stop();
    this.rtx.set(this.timeWaitMs());
    this.tcp.timeWait(this);
  }

  /** Dies with a reason the application hears, through connect's callback or err. */
  private fail(reason: TcpError): void {
    const tell = this.callable();
    this.destroy();
    if (tell) this.app.died(reason);
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
    this.app.clear();
    this.snd.buf.release();
    this.tcp.remove(this);
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
      !this.snd.finQueued &&
      !this.released &&
      (this.state === "syn-sent" || this.state === "syn-received" || this.state === "established" || this.state === "close-wait")
    );
  }

  private get stats(): Stats {
    return this.tcp.stats;
  }
}
