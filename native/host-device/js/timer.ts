// Moddable's `timer` module on the host program: set, repeat, schedule, clear, delay.

/// <reference path="./host.d.ts" />
import Time from "./time.ts";

let nextId = 1;
// The armed timers by id (the host program keeps ids and due times), made at the first timer:
// a Map made while the script's preloaded part runs would be frozen. No closure per timer, so
// that a timer costs about what Moddable's host object and its callback do on the device.
let timers: Map<number, Timer> | undefined;

(globalThis as Record<string, unknown>).__timerFire = (id: number) => timers?.get(id)?.fire();

class Timer {
  private constructor(
    readonly id: number,
    private interval: number,
    private repeat: number,
    private readonly callback: (timer: Timer) => void,
  ) {}

  private arm(): void {
    (timers ??= new Map()).set(this.id, this);
    __timerSet(this.id, this.interval);
  }

  /** @internal the host program says it is due */
  fire(): void {
    if (this.repeat) __timerSet(this.id, this.repeat);
    else timers?.delete(this.id);
    this.callback(this);
  }

  static set(callback: (timer: Timer) => void, interval = 0, repeat = 0): Timer {
    const t = new Timer(nextId++, interval, repeat, callback);
    t.arm();
    return t;
  }

  static repeat(callback: (timer: Timer) => void, interval: number): Timer {
    return Timer.set(callback, interval, interval);
  }

  static schedule(timer: Timer, interval = 0, repeat = 0): void {
    Timer.clear(timer);
    timer.interval = interval;
    timer.repeat = repeat;
    timer.arm();
  }

  static clear(timer: Timer | undefined | null): void {
    if (!timer) return;
    __timerClear(timer.id);
    timers?.delete(timer.id);
  }

  static delay(ms: number): void {
    const until = Time.ticks + ms;
    while (Time.ticks < until);
  }
}

export default Timer;
