// The retransmission timeout of RFC 6298: smoothed RTT and its variation from samples of
// one timed segment at a time (Karn's algorithm: the caller untimes it when it resends),
// doubled on each timeout until a fresh sample arrives, and kept between a floor and a ceiling.

import { seqDiff } from "./tcp-seq.ts";

const GRANULARITY_MS = 1;

export class RtoEstimator {
  private srtt = -1; // no sample yet
  private rttvar = 0;
  private base: number;
  private backoffs = 0;
  private timed = false; // a segment is being timed
  private timedSeq = 0;
  private timedAt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    initialMs: number,
  ) {
    this.base = initialMs;
  }

  /** The current timeout, backoff included. */
  get value(): number {
    return Math.min(this.maxMs, this.base * 2 ** this.backoffs);
  }

  /** The smoothed round-trip time, or undefined before the first sample. */
  get smoothed(): number | undefined {
    return this.srtt < 0 ? undefined : this.srtt;
  }

  /** True while a segment is being timed. */
  get timing(): boolean {
    return this.timed;
  }

  /** Times the segment that starts at `seq`, sent at `now`. */
  time(seq: number, now: number): void {
    this.timed = true;
    this.timedSeq = seq;
    this.timedAt = now;
  }

  /** Karn's algorithm: the ACK of a resent segment says nothing about the RTT. */
  untime(): void {
    this.timed = false;
  }

  /** Everything before `ack` is acknowledged at `now`: a sample if that covers the timed segment. */
  acked(ack: number, now: number): void {
    if (!this.timed || seqDiff(ack, this.timedSeq) <= 0) return;
    this.timed = false;
    this.sample(now - this.timedAt);
  }

  sample(rttMs: number): void {
    if (this.srtt < 0) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
    this.base = Math.min(this.maxMs, Math.max(this.minMs, this.srtt + Math.max(GRANULARITY_MS, 4 * this.rttvar)));
    this.backoffs = 0;
  }

  /** Starts again from `ms`, without backoff (RFC 6298 5.7). */
  restart(ms: number): void {
    this.base = ms;
    this.backoffs = 0;
  }

  /** Doubles the timeout after it expired (RFC 6298 5.5). */
  backoff(): void {
    if (this.value < this.maxMs) this.backoffs++;
  }
}
