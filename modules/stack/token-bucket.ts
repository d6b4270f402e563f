// A token bucket: `perSecond` tokens a second, at most `burst` saved up. Rate limits on
// answers a peer can provoke (RFC 5961 challenge ACKs, ICMP errors) are made of these.

import type { Clock } from "../platform.ts";

export class TokenBucket {
  private tokens: number;
  private refilled: number;

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number,
    private readonly burst = perSecond,
  ) {
    this.tokens = burst;
    this.refilled = clock.now();
  }

  /** Takes a token if there is one. */
  take(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilled) * this.perSecond) / 1000);
    this.refilled = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
