// A listening TCP port: the half-open connections its SYNs created and the established
// ones waiting for the application, which together the backlog bounds.

import type { Clock, Timer } from "../platform.ts";
import type { Stats } from "./stats.ts";
import type { TcpAcceptQueue, TcpPcb } from "./tcp-pcb.ts";

/** What a listener needs from the TCP layer (Tcp). */
export interface ListenerHost {
  readonly clock: Clock;
  readonly stats: Stats;
  unlisten(l: TcpListener): void;
}

/** A listening pcb. Connections are offered to accept() once their handshake completes. */
export class TcpListener implements TcpAcceptQueue {
  private acceptCb: ((pcb: TcpPcb) => void) | undefined;
  private readonly halfOpen = new Set<TcpPcb>();
  private readonly queue: TcpPcb[] = []; // established, waiting for an accept callback
  private flush: Timer | undefined;
  private open = true;

  constructor(
    private readonly tcp: ListenerHost,
    readonly port: number,
    readonly backlog: number,
  ) {}

  get state(): "listen" | "closed" {
    return this.open ? "listen" : "closed";
  }

  /** Connections handshaking or waiting for the application, which the backlog limits. */
  get pending(): number {
    return this.halfOpen.size + this.queue.length;
  }

  accept(cb: (pcb: TcpPcb) => void): void {
    this.acceptCb = cb;
    if (this.queue.length) {
      this.flush ??= this.tcp.clock.setTimer(0, () => {
        this.flush = undefined;
        while (this.queue.length && this.acceptCb && this.open) this.give(this.queue.shift()!);
      });
    }
  }

  /** Stops listening; connections not yet accepted are reset. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.flush?.cancel();
    this.tcp.unlisten(this);
    for (const pcb of [...this.halfOpen, ...this.queue]) pcb.refuse();
  }

  /** @internal established connections waiting for the application */
  get queued(): number {
    return this.queue.length;
  }

  /** @internal drops the oldest half-open connection for a newcomer; false if there is none */
  evictHalfOpen(): boolean {
    const oldest = this.halfOpen.values().next();
    if (oldest.done) return false;
    oldest.value.evict();
    return true;
  }

  /** @internal */
  full(): boolean {
    return this.pending >= this.backlog;
  }

  /** @internal a SYN created a pcb for us */
  opened(pcb: TcpPcb): void {
    this.halfOpen.add(pcb);
  }

  /** @internal the pcb finished its handshake */
  ready(pcb: TcpPcb): void {
    this.halfOpen.delete(pcb);
    if (this.acceptCb && this.queue.length === 0) this.give(pcb);
    else this.queue.push(pcb);
  }

  /** @internal the pcb died before the application took it */
  lost(pcb: TcpPcb): void {
    this.halfOpen.delete(pcb);
    const i = this.queue.indexOf(pcb);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private give(pcb: TcpPcb): void {
    pcb.given = true;
    this.tcp.stats.count("tcp.accepted");
    this.acceptCb!(pcb);
  }
}
