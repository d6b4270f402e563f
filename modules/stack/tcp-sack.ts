// The sender's SACK scoreboard (RFC 6675): which bytes above SND.UNA the peer reported
// holding (RFC 2018), what of the rest counts as lost, how much is still in the network
// (pipe), and what to send next during loss recovery. Sequence numbers are absolute and
// compared modulo 2^32. At most SCOREBOARD_RANGES ranges are kept: beyond that the
// highest is forgotten, which only makes the sender resend more and count more in flight.

import type { SackBlock } from "../wire/tcp.ts";
import { seqDiff } from "./tcp-seq.ts";

export const SCOREBOARD_RANGES = 8;
const DUP_THRESH = 3; // RFC 6675's DupThresh

/** What nextSeg() chose. */
export const SEG_NONE = 0;
export const SEG_RESEND = 1; // a hole, rules (1) and (3): start and length in seq, len
export const SEG_NEW = 2; // data never sent, rule (2)
export const SEG_RESCUE = 3; // the highest hole's tail, rule (4)

interface Range {
  left: number;
  right: number; // just after the last byte SACKed
}

export class Scoreboard {
  /** SACKed ranges above SND.UNA: sorted, disjoint and never touching. */
  private readonly ranges: Range[] = [];
  /** RFC 6675's HighRxt and RescueRxt: the end of the highest byte resent in recovery, and of the rescue. */
  private highRxt = 0;
  private rescueRxt: number | undefined;
  /** nextSeg()'s segment. */
  seq = 0;
  len = 0;

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** Forgets every SACK (after a timeout, as the peer may have reneged: RFC 2018 section 8). */
  clear(): void {
    this.ranges.length = 0;
  }

  /**
   * Takes an ACK's blocks. Those at or below una (old news, or RFC 2883's duplicate reports)
   * are ignored; so are those reaching beyond max or ending before they start, which no
   * honest peer sends: returns how many of these there were.
   */
  update(blocks: readonly SackBlock[], una: number, max: number): number {
    let bad = 0;
    for (const b of blocks) {
      if (seqDiff(b.right, b.left) <= 0 || seqDiff(b.right, max) > 0) bad++;
      else if (seqDiff(b.right, una) > 0) this.insert(seqDiff(b.left, una) < 0 ? una : b.left, b.right);
    }
    return bad;
  }

  /** SND.UNA moved to `una`: drop what it covers. */
  advance(una: number): void {
    const r = this.ranges;
    while (r.length && seqDiff(r[0]!.right, una) <= 0) r.shift();
    if (r.length && seqDiff(r[0]!.left, una) < 0) r[0]!.left = una;
  }

  /** The end of the SACKed range holding `seq`, or `seq` when none does. */
  sackedEnd(seq: number): number {
    for (const r of this.ranges) if (seqDiff(seq, r.left) >= 0 && seqDiff(seq, r.right) < 0) return r.right;
    return seq;
  }

  /** The start of the first SACKed range above `seq`, or `limit`. */
  nextSacked(seq: number, limit: number): number {
    for (const r of this.ranges) if (seqDiff(r.left, seq) > 0) return seqDiff(r.left, limit) < 0 ? r.left : limit;
    return limit;
  }

  /** Bytes SACKed below `seq`. */
  sackedBelow(seq: number): number {
    let n = 0;
    for (const r of this.ranges) n += Math.max(0, seqDiff(seqDiff(r.right, seq) < 0 ? r.right : seq, r.left));
    return n;
  }

  /**
   * IsLost for unSACKed bytes: those below the returned edge have DupThresh SACKed ranges,
   * or more than (DupThresh - 1) * mss SACKed bytes, above them. `una` when none is lost.
   */
  lostEdge(una: number, mss: number): number {
    const r = this.ranges;
    let bytes = 0;
    for (let i = r.length - 1, count = 1; i >= 0; i--, count++) {
      bytes += seqDiff(r[i]!.right, r[i]!.left);
      if (bytes > (DUP_THRESH - 1) * mss || count >= DUP_THRESH) return r[i]!.left;
    }
    return una;
  }

  /** RFC 6675's loss recovery begins with `seq`..`end` resent: HighRxt and RescueRxt start there. */
  startRecovery(end: number): void {
    this.highRxt = end;
    this.rescueRxt = end;
  }

  /**
   * SetPipe: bytes between una and max still in the network: unSACKed and not lost, plus
   * once more for those resent during this recovery.
   */
  pipe(una: number, max: number, mss: number): number {
    const lost = this.lostEdge(una, mss);
    let pipe = 0;
    let from = una;
    for (let i = 0; i <= this.ranges.length; i++) {
      const to = i < this.ranges.length ? this.ranges[i]!.left : max;
      pipe += span(from, to, lost, max) + span(from, to, una, this.highRxt);
      if (i < this.ranges.length) from = this.ranges[i]!.right;
    }
    return pipe;
  }

  /**
   * NextSeg: the next segment of at most `mss` to send in recovery, in seq and len; `newLen`
   * is what rule (2) may send of new data (0 when none or the window is shut).
   */
  nextSeg(una: number, max: number, mss: number, newLen: number): number {
    const top = this.ranges[this.ranges.length - 1];
    if (top) {
      const lost = this.lostEdge(una, mss);
      const hole = this.holeFrom(seqDiff(this.highRxt, una) > 0 ? this.highRxt : una, top.left);
      if (hole !== undefined && seqDiff(hole, lost) < 0) return this.resend(hole, Math.min(mss, seqDiff(this.nextSacked(hole, max), hole)));
      if (newLen > 0) return SEG_NEW;
      if (hole !== undefined) return this.resend(hole, Math.min(mss, seqDiff(this.nextSacked(hole, max), hole)));
    } else if (newLen > 0) return SEG_NEW;
    // Rule (4), once per recovery after an ACK beyond the first resent segment: the tail.
    if (this.rescueRxt !== undefined && seqDiff(una, this.rescueRxt) <= 0) return SEG_NONE;
    const tailStart = top ? top.right : una;
    if (seqDiff(max, tailStart) <= 0) return SEG_NONE;
    this.rescueRxt = max;
    this.len = Math.min(mss, seqDiff(max, tailStart));
    this.seq = (max - this.len) >>> 0;
    return SEG_RESCUE;
  }

  /** Records that rule (1) or (3) resent seq..seq+len. */
  private resend(seq: number, len: number): number {
    this.seq = seq;
    this.len = len;
    this.highRxt = (seq + len) >>> 0;
    return SEG_RESEND;
  }

  /** The first unSACKed byte at or after `from` and before `below`. */
  private holeFrom(from: number, below: number): number | undefined {
    const seq = this.sackedEnd(from);
    return seqDiff(seq, below) < 0 ? seq : undefined;
  }

  /** Adds left..right, merging what it touches. */
  private insert(left: number, right: number): void {
    const r = this.ranges;
    let i = 0;
    while (i < r.length && seqDiff(r[i]!.right, left) < 0) i++;
    let j = i;
    while (j < r.length && seqDiff(r[j]!.left, right) <= 0) j++;
    const merged = { left, right };
    if (i < j) {
      if (seqDiff(r[i]!.left, left) < 0) merged.left = r[i]!.left;
      if (seqDiff(r[j - 1]!.right, right) > 0) merged.right = r[j - 1]!.right;
    }
    r.splice(i, j - i, merged);
    if (r.length > SCOREBOARD_RANGES) r.pop();
  }
}

/** Bytes of from..to that lie in lo..hi. */
function span(from: number, to: number, lo: number, hi: number): number {
  const a = seqDiff(from, lo) > 0 ? from : lo;
  const b = seqDiff(to, hi) < 0 ? to : hi;
  return Math.max(0, seqDiff(b, a));
}
