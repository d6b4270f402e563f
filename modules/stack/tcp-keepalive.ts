// Keepalive (RFC 1122 4.2.3.6): once a connection has been idle for a while, probe it at
// an interval and give up when a number of probes in a row go unanswered.

import type { Clock } from "../platform.ts";
import type { TcpConfig } from "./tcp-config.ts";
import { Deadline, type DeadlineOwner } from "./tcp-deadline.ts";

/** What keepalive asks of its connection. */
export interface KeepaliveOwner {
  /** Sends a probe. */
  sendKeepalive(): void;
  /** The probes went unanswered. */
  keepaliveExpired(): void;
}

export class Keepalive implements DeadlineOwner {
  private probes = 0;
  private readonly timer: Deadline;

  constructor(
    clock: Clock,
    private readonly config: Pick<TcpConfig, "keepIdleMs" | "keepIntervalMs" | "keepCount">,
    /** Whether idle connections are probed. */
    public on: boolean,
    private readonly owner: KeepaliveOwner,
  ) {
    this.timer = new Deadline(clock, this);
  }

  /** The peer was heard from: the idle time starts again. */
  restart(): void {
    this.probes = 0;
    if (this.on) this.timer.set(this.config.keepIdleMs);
  }

  stop(): void {
    this.timer.clear();
  }

  /** @internal its timer is due */
  deadlineDue(): void {
    if (this.probes >= this.config.keepCount) return this.owner.keepaliveExpired();
    this.probes++;
    this.owner.sendKeepalive();
    this.timer.set(this.config.keepIntervalMs);
  }
}
