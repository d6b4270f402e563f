// A deadline that moves often but rarely touches the clock. Moving it later leaves the
// scheduled timer alone; when that timer fires early it re-arms itself for the rest. TCP
// pushes its retransmission deadline back on every ACK, so this saves a timer per segment.
// A deadline tells its owner, rather than calling a closure of its own: on XS every closure
// costs its function and its environment, in every connection.

import type { Clock, Timer } from "../platform.ts";

/** What a deadline tells when it is due; an owner of several tells them apart by identity. */
export interface DeadlineOwner {
  deadlineDue(deadline: Deadline): void;
}

export class Deadline {
  private at = Infinity;
  private timer: Timer | undefined;
  private timerAt = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly owner: DeadlineOwner,
  ) {}

  get armed(): boolean {
    return this.at !== Infinity;
  }

  /** Fires `delayMs` from now, replacing any earlier setting. */
  set(delayMs: number): void {
    this.at = this.clock.now() + delayMs;
    if (this.at < this.timerAt) this.schedule();
  }

  clear(): void {
    this.at = Infinity;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private schedule(): void {
    this.timer?.cancel();
    this.timerAt = this.at;
    this.timer = this.clock.setTimer(this.at - this.clock.now(), () => this.due());
  }

  private due(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.at === Infinity) return;
    if (this.at - this.clock.now() > 1e-6) return this.schedule(); // moved later meanwhile
    this.at = Infinity;
    this.owner.deadlineDue(this);
  }
}
