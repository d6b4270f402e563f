// A fault injector that wraps a Link: it drops, duplicates, reorders, delays, corrupts and
// truncates frames, each at its own probability. Every decision comes from one seeded random
// source and every wait from the clock, so a failing run repeats exactly from its seed.

import type { Clock, Link, Timer } from "../modules/platform.ts";
import { SeededRandom } from "./random.ts";

export type FaultKind = "drop" | "duplicate" | "reorder" | "delay" | "corrupt" | "truncate";

/** Probability of each fault per frame, 0..1; a missing kind never happens. */
export type FaultRates = Partial<Record<FaultKind, number>>;

export interface FaultOptions {
  seed: number;
  rates: FaultRates;
  /** Which frames are faulted: those the wrapped host transmits, those it receives, or both. Default "both". */
  direction?: "both" | "transmit" | "receive";
  /** Extra latency of a delayed frame, in ms. Default 20. */
  delayMs?: number;
  /** A held-back frame goes out right after the next frame that passes, or after this many ms. Default 20. */
  reorderMs?: number;
}

/** How many frames entered the faulted directions, and how often each fault was applied. */
export type FaultCounts = Record<FaultKind | "frames", number>;

/** One direction's state: where frames go out, and the frames (an original and maybe its duplicate) held back. */
interface Path {
  out: (frame: Uint8Array) => void;
  held?: Uint8Array[];
  timer?: Timer;
}

export class FaultInjector implements Link {
  /** Mutable: set new rates mid-run, e.g. to let a transfer finish cleanly. */
  rates: FaultRates;
  readonly counts: FaultCounts = { frames: 0, drop: 0, duplicate: 0, reorder: 0, delay: 0, corrupt: 0, truncate: 0 };
  readonly #inner: Link;
  readonly #clock: Clock;
  readonly #random: SeededRandom;
  readonly #delayMs: number;
  readonly #reorderMs: number;
  readonly #tx?: Path;
  readonly #rx?: Path;
  #receiver?: (frame: Uint8Array) => void;

  constructor(inner: Link, clock: Clock, options: FaultOptions) {
    this.#inner = inner;
    this.#clock = clock;
    this.rates = options.rates;
    this.#random = new SeededRandom(options.seed);
    this.#delayMs = options.delayMs ?? 20;
    this.#reorderMs = options.reorderMs ?? 20;
    const direction = options.direction ?? "both";
    if (direction !== "receive") this.#tx = { out: (f) => inner.transmit(f) };
    if (direction !== "transmit") this.#rx = { out: (f) => this.#receiver?.(f) };
    inner.setReceiver((frame) => (this.#rx ? this.#fault(this.#rx, frame) : this.#receiver?.(frame)));
  }

  transmit(frame: Uint8Array): void {
    if (this.#tx) this.#fault(this.#tx, frame);
    else this.#inner.transmit(frame);
  }

  setReceiver(receiver: (frame: Uint8Array) => void): void {
    this.#receiver = receiver;
  }

  #fault(path: Path, frame: Uint8Array): void {
    const r = this.#random;
    const rates = this.rates;
    this.counts.frames++;
    // Every decision is drawn for every frame, so one rate's setting never shifts another's.
    const drop = r.chance(rates.drop ?? 0);
    const duplicate = r.chance(rates.duplicate ?? 0);
    const reorder = r.chance(rates.reorder ?? 0);
    const delay = r.chance(rates.delay ?? 0);
    const corrupt = r.chance(rates.corrupt ?? 0);
    const truncate = r.chance(rates.truncate ?? 0);
    if (drop) {
      this.counts.drop++;
      return;
    }
    let f = frame.slice(); // never alter the sender's buffer
    if (truncate && f.length) {
      f = f.slice(0, r.int(f.length));
      this.counts.truncate++;
    }
    if (corrupt && f.length) {
      const bit = r.int(f.length * 8);
      f[bit >>> 3]! ^= 1 << (bit & 7);
      this.counts.corrupt++;
    }
    const frames = [f];
    if (duplicate) {
      frames.push(f.slice());
      this.counts.duplicate++;
    }
    if (delay) {
      this.counts.delay++;
      this.#clock.setTimer(this.#delayMs, () => frames.forEach(path.out));
    } else if (reorder && !path.held) {
      // Only one slot: a frame arriving while another is held goes out first, then releases it.
      this.counts.reorder++;
      path.held = frames;
      path.timer = this.#clock.setTimer(this.#reorderMs, () => this.#release(path));
    } else {
      frames.forEach(path.out);
      this.#release(path);
    }
  }

  #release(path: Path): void {
    const held = path.held;
    if (!held) return;
    path.timer?.cancel();
    path.held = path.timer = undefined; // cleared first: out() may re-enter with a new frame
    held.forEach(path.out);
  }
}
