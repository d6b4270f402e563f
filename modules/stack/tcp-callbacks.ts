// What a connection tells its application, as lwIP's raw API does: data in order and then
// the peer's FIN through recv, acknowledged bytes through sent, its death through err (or
// connect's callback while connecting), and a poll timer. Received data waits in a queue
// until a recv callback is there and the application may be called.

import type { Clock, Timer } from "../platform.ts";

/** Why a connection died, as err and connect callbacks report it. */
export type TcpError = "reset" | "refused" | "timeout" | "abort" | "address-changed";

export class TcpCallbacks {
  /** connect's callback, until the handshake ends. */
  connect: ((err?: TcpError) => void) | undefined;
  /** Bytes acknowledged since the sent callback was last called. */
  sentPending = 0;
  private recvCb: ((data: Uint8Array | null) => void) | undefined;
  private sentCb: ((n: number) => void) | undefined;
  private errCb: ((reason: TcpError) => void) | undefined;
  private pollTimer: Timer | undefined;
  private readonly rxQueue: Array<Uint8Array | null> = [];
  private rxFlush: Timer | undefined;

  constructor(
    private readonly clock: Clock,
    /** True while callbacks may be called: the application holds a live pcb. */
    private readonly callable: () => boolean,
  ) {}

  recv(cb: (data: Uint8Array | null) => void): void {
    this.recvCb = cb;
    if (this.rxQueue.length) this.scheduleFlush();
  }

  sent(cb: (n: number) => void): void {
    this.sentCb = cb;
  }

  err(cb: (reason: TcpError) => void): void {
    this.errCb = cb;
  }

  poll(cb: () => void, intervalMs: number): void {
    this.pollTimer?.cancel();
    const tick = () => {
      this.pollTimer = this.clock.setTimer(intervalMs, tick);
      if (this.callable()) cb();
    };
    this.pollTimer = this.clock.setTimer(intervalMs, tick);
  }

  stopPoll(): void {
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
  }

  /** Queues data in order for recv, or null for the peer's FIN. */
  queue(data: Uint8Array | null): void {
    this.rxQueue.push(data);
  }

  /** True while data received in order waits for the application. */
  get unread(): boolean {
    return this.rxQueue.some((d) => d !== null);
  }

  /** Forgets what waits for recv. */
  discard(): void {
    this.rxQueue.length = 0;
  }

  /** After a segment: the sent callback with what it acknowledged, then recv with what waits. */
  dispatch(): void {
    const n = this.sentPending;
    this.sentPending = 0;
    if (n && this.callable()) this.sentCb?.(n);
    this.flushRx();
  }

  /** The handshake is done: connect's callback, once. */
  connected(): void {
    const cb = this.connect;
    this.connect = undefined;
    if (this.callable()) cb?.();
  }

  /** The connection died: connect's callback if still connecting, else err. */
  died(reason: TcpError): void {
    const connecting = this.connect;
    this.connect = undefined;
    if (connecting) connecting(reason);
    else this.errCb?.(reason);
  }

  /** The connection is gone: no timer of ours may fire. */
  clear(): void {
    this.stopPoll();
    this.rxFlush?.cancel();
    this.rxQueue.length = 0;
  }

  private flushRx(): void {
    while (this.rxQueue.length && this.recvCb && this.callable()) this.recvCb(this.rxQueue.shift()!);
  }

  private scheduleFlush(): void {
    this.rxFlush ??= this.clock.setTimer(0, () => {
      this.rxFlush = undefined;
      this.flushRx();
    });
  }
}
