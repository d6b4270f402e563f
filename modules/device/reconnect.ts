// When to join the Wi-Fi network again after losing it: one attempt after a wait that starts at
// 5 s (as Moddable's own Wi-Fi example waits) and doubles up to a minute while attempts fail,
// back to the start once connected. Moddable's Wi-Fi module makes its own few quick retries
// before it reports a disconnection; this paces the attempts after those.

import type { Clock, Timer } from "../platform.ts";

export interface ReconnectOptions {
  /** Wait before the first attempt, ms. */
  firstMs: number;
  /** Longest wait, ms. */
  maxMs: number;
}

export const RECONNECT_DEFAULTS: ReconnectOptions = { firstMs: 5000, maxMs: 60_000 };

export class Reconnect {
  private waitMs: number;
  private timer: Timer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly connect: () => void,
    private readonly options: ReconnectOptions = RECONNECT_DEFAULTS,
  ) {
    this.waitMs = options.firstMs;
  }

  /** Disconnected: schedules one attempt (none if one is scheduled already) and returns its wait, ms. */
  lost(): number {
    if (this.timer) return this.waitMs;
    const wait = this.waitMs;
    this.timer = this.clock.setTimer(wait, () => {
      this.timer = undefined;
      this.waitMs = Math.min(wait * 2, this.options.maxMs);
      this.connect();
    });
    return wait;
  }

  /** Connected: no attempt pending, and the next loss waits the shortest time again. */
  connected(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.waitMs = this.options.firstMs;
  }
}
