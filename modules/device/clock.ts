// The device's Clock: milliseconds from Moddable's Time.ticks, timers from Moddable's `timer`.
// Time.ticks is a 32-bit millisecond counter that wraps after 49.7 days, so now() adds up the
// ticks between calls instead: it never goes backwards, however long the device runs.

import Timer from "timer";
import Time from "time";
import type { Clock, Timer as StackTimer } from "../platform.ts";

export class TickClock implements Clock {
  private last = Time.ticks >>> 0;
  private elapsed = 0;

  now(): number {
    const ticks = Time.ticks >>> 0;
    this.elapsed += (ticks - this.last) >>> 0;
    this.last = ticks;
    return this.elapsed;
  }

  setTimer(delayMs: number, cb: () => void): StackTimer {
    // A one-shot Moddable timer is gone once it fires; clearing it then is not allowed.
    let pending = true;
    const timer = Timer.set(
      () => {
        pending = false;
        cb();
      },
      Math.max(0, delayMs),
    );
    return {
      cancel: () => {
        if (pending) Timer.clear(timer);
        pending = false;
      },
    };
  }
}
