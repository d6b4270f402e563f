// A seeded random source, so every simulated run (and every injected fault) repeats exactly.
// The generator walks a Weyl sequence (adding the golden-ratio constant) and scrambles each
// step with the MurmurHash3 32-bit finaliser: any seed, zero included, gives a full-period stream.

import type { Random } from "../modules/platform.ts";

export class SeededRandom implements Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  u32(): number {
    this.#state = (this.#state + 0x9e3779b9) | 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n) for 1 <= n <= 2^32, without modulo bias. */
  int(n: number): number {
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n); // largest multiple of n that fits
    let x = this.u32();
    while (x >= limit) x = this.u32();
    return x % n;
  }

  /** True with probability p. Always draws once, so changing one rate does not shift other decisions. */
  chance(p: number): boolean {
    return this.float() < p;
  }
}
