// The retransmission timeout of RFC 6298: smoothed RTT and its variation from samples
// (Karn's algorithm is the caller's: it only samples segments sent once), doubled on each
// timeout until a fresh sample arrives, and kept between a floor and a ceiling.

const GRANULARITY_MS = 1;

export class RtoEstimator {
  private srtt = -1; // no sample yet
  private rttvar = 0;
  private base: number;
  private backoffs = 0;

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

  /** Doubles the timeout after it expired (RFC 6298 5.5). */
  backoff(): void {
    if (this.value < this.maxMs) this.backoffs++;
  }
}
