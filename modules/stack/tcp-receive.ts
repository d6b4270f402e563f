// The receive side of a connection: RCV.NXT and the window we announce, with receiver SWS
// avoidance (RFC 1122 4.2.3.3); the acceptability test (RFC 9293 3.10.7.4); taking a
// segment's text in order or into the out-of-order reassembly; and the SACK blocks that
// report what the reassembly holds (RFC 2018). The per-segment paths write the sequence
// arithmetic out ((a - b) | 0 is seqDiff, (a + n) >>> 0 seqAdd): on XS each call costs more
// than the sum.

import type { SackBlock } from "../wire/tcp.ts";
import type { Stats } from "./stats.ts";
import { Reassembly } from "./tcp-reassembly.ts";
import { seqAdd, seqDiff } from "./tcp-seq.ts";

export const MAX_WINDOW = 0xffff;
export const MAX_SHIFT = 14; // RFC 7323's largest window scale
const SACK_BLOCKS = 4; // what 40 option bytes hold (RFC 2018 section 3)
const SACK_OPTION_BASE = 4; // NOP NOP kind length
const SACK_BLOCK = 8;

/** The window scale we offer (RFC 7323): only when a window beyond 64 KiB is wanted either way. */
export function windowShift(wnd: number, sndbuf: number): number | undefined {
  if (Math.max(wnd, sndbuf) <= MAX_WINDOW) return undefined;
  let shift = 0;
  while (shift < MAX_SHIFT && wnd >>> shift > MAX_WINDOW) shift++;
  return shift;
}

/** What accept() found, as bits. */
export const RX_TAKEN = 1; // data or FIN, in order or not: it counts toward the delayed ACK
export const RX_ACK_NOW = 2; // a hole opened or filled: ACK at once (RFC 5681 4.2)
export const RX_FIN = 4; // the peer's FIN is reached in order

export class ReceiveWindow {
  /** RCV.NXT. */
  nxt = 0;
  /** The window scale we apply to the window field. */
  shift = 0;
  /** Bytes delivered (or waiting for delivery) that the application has not consumed. */
  unread = 0;
  private right = 0; // right edge of the window we announced; never moves left
  private mss = 536;
  private sws: number; // receiver SWS avoidance: the right edge moves by at least this much
  private maxRoom = MAX_WINDOW; // the largest window the field can say with our scale
  private finAt: number | undefined; // sequence of a FIN that arrived beyond a hole
  private readonly reasm: Reassembly;

  constructor(
    private readonly wnd: number,
    maxGaps: number,
    private readonly stats: Stats,
  ) {
    this.reasm = new Reassembly(wnd, maxGaps);
    this.sws = Math.min(wnd / 2, this.mss);
  }

  /** The peer's SYN arrived with sequence `irs`; `mss` is the segment size for SWS avoidance. */
  start(irs: number, shift: number, mss: number): void {
    this.nxt = seqAdd(irs, 1);
    this.shift = shift;
    this.mss = mss;
    this.sws = Math.min(this.wnd / 2, mss);
    this.maxRoom = MAX_WINDOW << shift;
    this.right = seqAdd(this.nxt, Math.min(this.wnd, MAX_WINDOW));
  }

  /** RCV.WND: what the window we announced still has room for. */
  get window(): number {
    return Math.max(0, (this.right - this.nxt) | 0);
  }

  /**
   * RFC 9293's acceptability test for `len` bytes of data and a FIN, which SEG.LEN counts
   * too (3.10.7.4); a FIN at the right edge is allowed (as Linux does).
   */
  acceptable(seq: number, len: number, fin = false): boolean {
    const wnd = Math.max(0, (this.right - this.nxt) | 0);
    const off = (seq - this.nxt) | 0;
    if (len === 0) return off >= 0 && off <= wnd;
    return wnd > 0 && off < wnd && off + len + (fin ? 1 : 0) > 0;
  }

  /** The window field to send: the right edge moves only by worthwhile steps. */
  advertise(): number {
    const right = (this.nxt + Math.min(this.wnd - this.unread, this.maxRoom)) >>> 0;
    if (((right - this.right) | 0) >= this.sws) this.right = right;
    return Math.max(0, (this.right - this.nxt) | 0) >>> this.shift;
  }

  /**
   * The application consumed `n` bytes. True when the window grew by a worthwhile step
   * while the peer is close to stalling, so reads don't cost an ACK each.
   */
  consumed(n: number): boolean {
    this.unread = Math.max(0, this.unread - n);
    const right = (this.nxt + Math.min(this.wnd - this.unread, this.maxRoom)) >>> 0;
    const announced = (this.right - this.nxt) | 0;
    return ((right - this.right) | 0) >= this.sws && announced < 2 * this.mss;
  }

  /** Takes a segment's data and FIN, in order or into the reassembly; `deliver` gets the bytes now in order. */
  accept(seq: number, data: Uint8Array, fin: boolean, deliver: (data: Uint8Array) => void): number {
    const early = (this.nxt - seq) | 0;
    if (early > 0) {
      if (early > data.length) fin = false; // that FIN was taken already
      data = data.subarray(Math.min(early, data.length));
      seq = this.nxt;
    }
    const room = (this.right - seq) | 0;
    if (data.length > room) {
      data = data.subarray(0, Math.max(0, room));
      fin = false;
      this.stats.count("tcp.rx-trimmed");
    }
    if (data.length === 0 && !fin) return 0;
    if (seq !== this.nxt) {
      const ok = this.reasm.insert(seqDiff(seq, this.nxt), data);
      if (!ok) this.stats.drop("tcp-ooo-full");
      else if (fin) this.finAt = seqAdd(seq, data.length);
      this.stats.count("tcp.rx-out-of-order");
      return RX_TAKEN | RX_ACK_NOW; // a duplicate ACK tells the sender about the hole
    }
    const hadGap = !this.reasm.empty;
    this.take(data, deliver);
    if (hadGap) {
      const more = this.reasm.advance(data.length);
      if (more) this.take(more, deliver);
    }
    return RX_TAKEN | (hadGap ? RX_ACK_NOW : 0) | (fin || this.nxt === this.finAt ? RX_FIN : 0);
  }

  /** True while data waits beyond a hole. */
  get outOfOrder(): boolean {
    return !this.reasm.empty;
  }

  /**
   * SACK blocks for what waits beyond a hole, newest first, as many as `room` bytes of
   * options hold (at most SACK_BLOCKS); undefined when none fit or nothing waits.
   */
  sackBlocks(room: number): SackBlock[] | undefined {
    const n = Math.min(SACK_BLOCKS, Math.floor((room - SACK_OPTION_BASE) / SACK_BLOCK));
    if (n <= 0 || this.reasm.empty) return undefined;
    return this.reasm.recent(n).map(([start, end]) => ({ left: seqAdd(this.nxt, start), right: seqAdd(this.nxt, end) }));
  }

  /** The FIN is taken: it occupies one sequence number. */
  takeFin(): void {
    this.nxt = seqAdd(this.nxt, 1);
    this.finAt = undefined;
  }

  private take(data: Uint8Array, deliver: (data: Uint8Array) => void): void {
    if (!data.length) return;
    this.nxt = (this.nxt + data.length) >>> 0;
    deliver(data);
  }
}
