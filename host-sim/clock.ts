// Clocks for the host simulator. VirtualClock owns time outright: it jumps straight to the
// next due timer, so a 30-second exchange runs in a few milliseconds and always in the same
// order. RealClock is wall time for TAP mode.

import type { Clock, Timer } from "../modules/platform.ts";

/** Default bound on timers fired by one run call; reaching it means a runaway timer loop. */
export const DEFAULT_MAX_STEPS = 1_000_000;

interface Entry {
  due: number;
  seq: number; // insertion order breaks ties between equal due times
  cb: () => void;
  live: boolean; // false once fired or cancelled
}

function before(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #live = 0;
  #heap: Entry[] = []; // binary min-heap on (due, seq); cancelled entries are discarded when they surface

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, cb: () => void): Timer {
    const entry: Entry = { due: this.#now + (Math.max(0, delayMs) || 0), seq: this.#seq++, cb, live: true };
    this.#push(entry);
    this.#live++;
    return {
      cancel: () => {
        if (!entry.live) return;
        entry.live = false;
        this.#live--;
      },
    };
  }

  /** Number of timers that are scheduled and not cancelled. */
  pending(): number {
    return this.#live;
  }

  /** Due time of the next live timer, or undefined when idle. */
  nextDue(): number | undefined {
    return this.#peek()?.due;
  }

  /** Fires every timer due within `ms` (including ones they schedule), then moves time to now + ms. Returns how many fired. */
  advance(ms: number, maxSteps = DEFAULT_MAX_STEPS): number {
    const target = this.#now + Math.max(0, ms);
    let fired = 0;
    for (let next = this.#peek(); next && next.due <= target; next = this.#peek()) {
      if (fired === maxSteps) throw new Error(`VirtualClock.advance: ${maxSteps} timers fired before ${target} ms`);
      this.#fire(next);
      fired++;
    }
    this.#now = target;
    return fired;
  }

  /**
   * With a time: fires timers due up to that absolute time and moves the clock there.
   * With a predicate: fires timers one at a time until it holds.
   * Returns false if the clock went idle or `maxSteps` timers fired first.
   */
  runUntil(until: number | (() => boolean), maxSteps = DEFAULT_MAX_STEPS): boolean {
    if (typeof until === "number") {
      let steps = 0;
      for (let next = this.#peek(); next && next.due <= until; next = this.#peek()) {
        if (steps++ === maxSteps) return false;
        this.#fire(next);
      }
      this.#now = Math.max(this.#now, until);
      return true;
    }
    for (let steps = 0; !until(); steps++) {
      const next = this.#peek();
      if (!next || steps === maxSteps) return false;
      this.#fire(next);
    }
    return true;
  }

  /** Fires timers until none are left; returns how many fired. Throws if `maxSteps` is reached first. */
  runUntilIdle(maxSteps = DEFAULT_MAX_STEPS): number {
    let fired = 0;
    for (let next = this.#peek(); next; next = this.#peek()) {
      if (fired === maxSteps) throw new Error(`VirtualClock.runUntilIdle: still busy after ${maxSteps} timers`);
      this.#fire(next);
      fired++;
    }
    return fired;
  }

  #fire(entry: Entry): void {
    this.#pop();
    entry.live = false;
    this.#live--;
    this.#now = entry.due;
    entry.cb();
  }

  /** The earliest live entry, dropping cancelled ones on the way. */
  #peek(): Entry | undefined {
    while (this.#heap.length && !this.#heap[0]!.live) this.#pop();
    return this.#heap[0];
  }

  #push(entry: Entry): void {
    const h = this.#heap;
    let i = h.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (!h.length) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** Wall time for TAP mode: milliseconds since the Unix epoch from the monotonic performance clock. */
export class RealClock implements Clock {
  now(): number {
    return performance.timeOrigin + performance.now();
  }

  /** The stack's timers (TIME-WAIT, ARP aging) never keep the process alive on their own: the link does. */
  setTimer(delayMs: number, cb: () => void): Timer {
    const handle = setTimeout(cb, delayMs).unref();
    return { cancel: () => clearTimeout(handle) };
  }
}
