// FTP data connections (RFC 959 3.2, RFC 2428): the address arguments of PORT and PASV
// (h1,h2,h3,h4,p1,p2) and of EPRT, the two ways a connection is opened (passive: the
// client connects to a port we listen on; active: we connect to the client from port 20),
// and the transfers over it. A transfer streams under TCP flow control: the next chunk of
// a file is read only when the send buffer has room, and received data is written to the
// store before the window is reopened, so no transfer ever holds a whole file.

import type { Clock, Timer } from "../platform.ts";
import type { Stack, StackContext } from "../stack/stack.ts";
import type { TcpListener, TcpPcb } from "../stack/tcp.ts";
import { type Ip4, ipToString, parseIp } from "../wire/address.ts";
import { type Result, ok, fail } from "../wire/result.ts";
import { type StorageError, type WriteHandle, storageError } from "../storage/storage.ts";
import type { FtpDataDrop } from "../stack/drops.ts";
import type { NetasciiDecoder } from "./netascii.ts";

/** How often a transfer looks for a stall, and for its FIN being acknowledged when no callback says so. */
const POLL_MS = 250;

/** Why PORT's or EPRT's argument was refused. */
export type FtpAddressError = "ftp-port-syntax" | "ftp-eprt-syntax" | "ftp-eprt-protocol";

export interface HostPort {
  ip: Ip4;
  port: number;
}

/** PORT's argument: six decimal numbers 0-255, the address and then the port's high and low byte. */
export function parseHostPort(arg: string): Result<HostPort, FtpAddressError> {
  const parts = arg.trim().split(",");
  if (parts.length !== 6 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return fail("ftp-port-syntax");
  const [h1, h2, h3, h4, p1, p2] = parts.map(Number) as [number, number, number, number, number, number];
  return ok({ ip: ((h1 << 24) | (h2 << 16) | (h3 << 8) | h4) >>> 0, port: p1 * 256 + p2 });
}

/** The same six numbers, as a PASV reply carries them. */
export function formatHostPort(ip: Ip4, port: number): string {
  return `${ipToString(ip).split(".").join(",")},${port >>> 8},${port & 0xff}`;
}

/**
 * EPRT's argument: a delimiter, the network protocol (1 is IPv4), the address, the port, and
 * the delimiter again, e.g. "|1|10.0.0.3|6446|". Another protocol fails with
 * "ftp-eprt-protocol" (answered with 522), anything malformed with "ftp-eprt-syntax".
 */
export function parseEprt(arg: string): Result<HostPort, FtpAddressError> {
  const d = arg.charCodeAt(0);
  if (!(d >= 33 && d <= 126)) return fail("ftp-eprt-syntax");
  const f = arg.split(arg[0]!);
  if (f.length !== 5 || f[0] !== "" || f[4] !== "") return fail("ftp-eprt-syntax");
  if (f[1] !== "1") return fail(/^\d+$/.test(f[1]!) ? "ftp-eprt-protocol" : "ftp-eprt-syntax");
  const ip = parseIp(f[2]!);
  const port = /^\d{1,5}$/.test(f[3]!) ? Number(f[3]) : 0;
  if (ip === undefined || port < 1 || port > 0xffff) return fail("ftp-eprt-syntax");
  return ok({ ip, port });
}

/** What a transfer reads from: a file (a ReadHandle is one), a listing, a converter. 0 means the end. */
export interface Source {
  read(buf: Uint8Array): Result<number>;
}

/** Writes queued bytes and sources into a pcb as its send buffer takes them, in order. */
export class Pump {
  private readonly queue: Array<Uint8Array | Source> = [];
  /** Bytes queued as arrays (sources not counted). */
  queued = 0;

  constructor(
    private readonly pcb: TcpPcb,
    private readonly scratch: Uint8Array,
  ) {}

  get empty(): boolean {
    return this.queue.length === 0;
  }

  /** True while a source is still queued. */
  get streaming(): boolean {
    return this.queue.some((item) => !(item instanceof Uint8Array));
  }

  push(item: Uint8Array | Source): void {
    this.queue.push(item);
    if (item instanceof Uint8Array) this.queued += item.length;
  }

  /** Writes what fits now; returns how many bytes came from sources, or a source's read error. */
  run(): Result<number, StorageError> {
    let fromSources = 0;
    while (this.queue.length && this.pcb.sndbuf > 0) {
      const head = this.queue[0]!;
      if (head instanceof Uint8Array) {
        const n = this.pcb.write(head);
        this.queued -= n;
        if (n < head.length) this.queue[0] = head.subarray(n);
        else this.queue.shift();
        continue;
      }
      const r = head.read(this.scratch.subarray(0, Math.min(this.scratch.length, this.pcb.sndbuf)));
      if (!r.ok) return fail(storageError(r.reason));
      if (r.value === 0) this.queue.shift();
      else fromSources += this.pcb.write(this.scratch.subarray(0, r.value));
    }
    return ok(fromSources);
  }
}

/** What a transfer needs from its server: the clock, how long it may make no progress, and the average rate it must keep. */
export interface TransferContext {
  clock: Clock;
  stallMs: number;
  /** Bytes per second, on average beyond the first stallMs. */
  minRate: number;
  scratch: Uint8Array;
}

/**
 * A transfer's pace, looked at every POLL_MS: it has stalled when nothing moved for stallMs,
 * and is too slow when it averages less than minRate beyond the first stallMs (a peer that
 * moves a few bytes now and then would hold its slot for good otherwise).
 */
class Pace {
  private last: number;
  private elapsed = 0;
  private bytes = 0;

  constructor(private readonly ctx: TransferContext) {
    this.last = ctx.clock.now();
  }

  moved(n: number): void {
    this.bytes += n;
    this.last = this.ctx.clock.now();
  }

  /** The reason to give up, if there is one. */
  check(): FtpDataDrop | undefined {
    this.elapsed += POLL_MS;
    if (this.ctx.clock.now() - this.last > this.ctx.stallMs) return "ftp-data-stalled";
    if (this.elapsed > this.ctx.stallMs + (this.bytes * 1000) / this.ctx.minRate) return "ftp-data-too-slow";
    return undefined;
  }
}

/** Why a transfer failed: its data connection ("ftp-data-...") or the store. */
export type TransferError = FtpDataDrop | StorageError;

/** A transfer's end: no error, or the reason. */
export type TransferDone = (error?: TransferError) => void;

/** One direction of bytes over a data connection; stop() ends it at once without calling back. */
export interface Transfer {
  readonly bytes: number;
  stop(): void;
}

/**
 * Sends a source, then FIN. It is done once the FIN is acknowledged (so is every byte
 * before it) or the client has closed after reading it all; then the server says 226.
 */
export class Sender implements Transfer {
  bytes = 0;
  private acked = 0;
  private shut = false;
  private finished = false;
  private readonly pace: Pace;
  private readonly pump: Pump;

  constructor(
    private readonly pcb: TcpPcb,
    source: Source,
    ctx: TransferContext,
    private readonly done: TransferDone,
  ) {
    this.pace = new Pace(ctx);
    this.pump = new Pump(pcb, ctx.scratch);
    this.pump.push(source);
    pcb.sent((n) => {
      this.acked += n;
      this.pace.moved(n);
      this.run();
    });
    pcb.recv((data) => (data ? pcb.recved(data.length) : this.check())); // nothing is expected from the client
    // A reset after every byte and the FIN were acknowledged loses nothing.
    pcb.err((e) => this.finish(this.shut && this.acked === this.bytes ? undefined : `ftp-data-${e}`));
    pcb.poll(() => this.tick(), POLL_MS);
    this.run();
  }

  stop(): void {
    if (this.finished) return;
    this.finished = true;
    this.pcb.abort();
  }

  private run(): void {
    if (this.finished) return;
    const r = this.pump.run();
    if (!r.ok) return this.finish(r.reason);
    this.bytes += r.value;
    if (this.pump.empty && !this.shut) {
      this.shut = true;
      this.pcb.shutdown();
    }
    this.check();
  }

  private tick(): void {
    const slow = this.pace.check();
    if (slow) return this.finish(slow);
    this.check();
  }

  /** Done when our FIN is acknowledged: the pcb has left fin-wait-1, closing and last-ack behind. */
  private check(): void {
    const s = this.pcb.state;
    if (this.shut && (s === "fin-wait-2" || s === "time-wait" || s === "closed")) this.finish();
  }

  private finish(error?: TransferError): void {
    if (this.finished) return;
    this.finished = true;
    if (error) this.pcb.abort();
    else this.pcb.close();
    this.done(error);
  }
}

/** Receives an upload into a write handle until the client's FIN, which finishes the file. */
export class Receiver implements Transfer {
  bytes = 0;
  private finished = false;
  private readonly pace: Pace;

  constructor(
    private readonly pcb: TcpPcb,
    private readonly sink: WriteHandle,
    private readonly decoder: NetasciiDecoder | undefined,
    ctx: TransferContext,
    private readonly done: TransferDone,
  ) {
    this.pace = new Pace(ctx);
    pcb.recv((data) => (data ? this.take(data) : this.complete()));
    pcb.err((e) => this.finish(`ftp-data-${e}`));
    pcb.poll(() => {
      const slow = this.pace.check();
      if (slow) this.finish(slow);
    }, POLL_MS);
  }

  /** The sink is left to the caller, who closes or aborts it. */
  stop(): void {
    if (this.finished) return;
    this.finished = true;
    this.pcb.abort();
  }

  private take(data: Uint8Array): void {
    if (this.finished) return;
    const w = this.sink.write(this.decoder ? this.decoder.decode(data) : data);
    if (!w.ok) return this.finish(storageError(w.reason));
    this.bytes += data.length;
    this.pace.moved(data.length);
    this.pcb.recved(data.length); // only now: the store has taken it
  }

  private complete(): void {
    if (this.finished) return;
    const tail = this.decoder?.end();
    const w = tail?.length ? this.sink.write(tail) : ok(undefined);
    if (!w.ok) return this.finish(storageError(w.reason));
    const c = this.sink.close();
    if (!c.ok) return this.finish(storageError(c.reason));
    this.finished = true;
    this.pcb.close();
    this.done();
  }

  private finish(error: TransferError): void {
    if (this.finished) return;
    this.stop();
    this.done(error);
  }
}

/** A data connection a session prepared with PASV/EPSV or PORT/EPRT, opened when a transfer asks for it. */
export interface DataChannel {
  /** Calls `cb` once with the connection, or with undefined and the reason it could not be had. */
  open(cb: (pcb: TcpPcb | undefined, reason?: FtpDataDrop) => void): void;
  /** Gives up whatever is not yet handed to a transfer. */
  close(): void;
  /** For STAT. */
  describe(): string;
}

/** Passive mode: a listener on a port of the configured range that takes one connection, from the control connection's peer only. */
export class PassiveChannel implements DataChannel {
  private pcb: TcpPcb | undefined;
  private broken: FtpDataDrop | undefined;
  private waiter: ((pcb: TcpPcb | undefined, reason?: FtpDataDrop) => void) | undefined;
  private timer: Timer | undefined;

  private constructor(
    private readonly listener: TcpListener,
    private readonly peer: Ip4,
    private readonly ctx: StackContext,
    private readonly timeoutMs: number,
  ) {
    listener.accept((pcb) => this.accepted(pcb));
  }

  /** Listens on a free port of [first, last], trying them from a random one on; undefined if none is free. */
  static listen(stack: Pick<Stack, "tcp" | keyof StackContext>, range: readonly [number, number], peer: Ip4, timeoutMs: number): PassiveChannel | undefined {
    const count = range[1] - range[0] + 1;
    const start = stack.random.u32() % count;
    for (let i = 0; i < count; i++) {
      const l = stack.tcp.listen(range[0] + ((start + i) % count), 1);
      if (l.ok) return new PassiveChannel(l.value, peer, stack, timeoutMs);
    }
    return undefined;
  }

  get port(): number {
    return this.listener.port;
  }

  open(cb: (pcb: TcpPcb | undefined, reason?: FtpDataDrop) => void): void {
    if (this.pcb || this.broken) return this.hand(cb);
    this.waiter = cb;
    this.timer = this.ctx.clock.setTimer(this.timeoutMs, () => {
      this.broken = "ftp-data-timeout";
      this.listener.close();
      this.hand(cb);
    });
  }

  close(): void {
    this.listener.close();
    this.timer?.cancel();
    this.waiter = undefined;
    const pcb = this.pcb;
    this.pcb = undefined;
    pcb?.abort();
  }

  describe(): string {
    return `passive on port ${this.port}${this.pcb ? ", connected" : ""}`;
  }

  private accepted(pcb: TcpPcb): void {
    if (pcb.remoteIp !== this.peer || this.pcb || this.broken) {
      // Anyone else who found the port (or a second connection) is turned away.
      this.ctx.stats.drop("ftp-data-foreign-peer");
      this.ctx.event("ftp", `data connection from ${ipToString(pcb.remoteIp)}:${pcb.remotePort} refused`);
      return pcb.abort();
    }
    this.pcb = pcb;
    this.listener.close();
    pcb.err((e) => {
      this.pcb = undefined;
      this.broken = `ftp-data-${e}`;
    });
    if (this.waiter) this.hand(this.waiter);
  }

  private hand(cb: (pcb: TcpPcb | undefined, reason?: FtpDataDrop) => void): void {
    this.timer?.cancel();
    this.waiter = undefined;
    const pcb = this.pcb;
    this.pcb = undefined; // the transfer owns it now
    if (pcb) cb(pcb);
    else cb(undefined, this.broken ?? "ftp-data-closed");
  }
}

/** Active mode: we connect to the address and port PORT or EPRT named, from `fromPort` (20). */
export class ActiveChannel implements DataChannel {
  private pcb: TcpPcb | undefined;
  private timer: Timer | undefined;
  private closed = false;

  constructor(
    private readonly stack: Pick<Stack, "tcp" | keyof StackContext>,
    readonly target: HostPort,
    private readonly fromPort: number,
    private readonly timeoutMs: number,
  ) {}

  open(cb: (pcb: TcpPcb | undefined, reason?: FtpDataDrop) => void): void {
    let timedOut = false;
    const opened = this.stack.tcp.connect(
      this.target.ip,
      this.target.port,
      (err) => {
        this.timer?.cancel();
        this.pcb = undefined;
        if (this.closed) return; // given up by close(), which aborted it
        if (err) cb(undefined, timedOut ? "ftp-data-timeout" : `ftp-data-${err}`);
        else cb(pcb);
      },
      this.fromPort,
    );
    if (!opened.ok) return cb(undefined, "ftp-data-no-pcb");
    const pcb = opened.value;
    this.pcb = pcb;
    this.timer = this.stack.clock.setTimer(this.timeoutMs, () => {
      timedOut = true;
      pcb.abort();
    });
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.pcb?.abort();
  }

  describe(): string {
    return `active to ${ipToString(this.target.ip)}:${this.target.port}`;
  }
}
