// A test client for the HTTP server on the virtual LAN: raw request bytes go out through our
// own TCP pcbs, and the bytes that come back are split into responses by a parser written
// here, independently of the server's code.

import { bench, ip } from "./bench.ts";
import { HttpServer, type HttpServerOptions } from "../../modules/services/http-server.ts";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import type { Storage } from "../../modules/storage/storage.ts";
import type { Stack, StackOptions } from "../../modules/stack/stack.ts";
import type { TcpPcb } from "../../modules/stack/tcp.ts";
import type { Link } from "../../modules/platform.ts";
import type { VirtualClock } from "../../host-sim/clock.ts";
import { concat } from "../../modules/wire/bytes.ts";

export const SERVER = ip("10.0.0.2");
export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);

export interface ParsedResponse {
  status: number;
  reason: string;
  /** Names in lower case; repeated fields joined with ", ". */
  headers: Record<string, string | undefined>;
  body: Uint8Array;
  /** Sizes of the chunks of a chunked body, the last (0) one included. */
  chunks?: number[];
}

/** Splits `bytes` into the responses it holds whole; `heads[i]` says response i answers a HEAD. `closed`: the server has closed, so a body without framing ends here. */
export function parseResponses(bytes: Uint8Array, heads: boolean[] = [], closed = false): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let at = 0;
  const text = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  const lineEnd = (from: number) => {
    for (let i = from; i + 1 < bytes.length; i++) if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
    return -1;
  };
  for (;;) {
    const headEnd = (() => {
      for (let i = at; i + 3 < bytes.length; i++) if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
      return -1;
    })();
    if (headEnd < 0) return out;
    const lines = text(at, headEnd).split("\r\n");
    const m = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(lines[0]!);
    if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string | undefined> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      const name = l.slice(0, c).toLowerCase();
      const value = l.slice(c + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(m[1]);
    let p = headEnd + 4;
    if (status >= 100 && status < 200) {
      out.push({ status, reason: m[2]!, headers, body: new Uint8Array(0) });
      at = p;
      continue;
    }
    const r: ParsedResponse = { status, reason: m[2]!, headers, body: new Uint8Array(0) };
    if (heads[out.filter((x) => x.status >= 200).length] || status === 204 || status === 304) {
      // no body
    } else if (headers["transfer-encoding"] === "chunked") {
      const parts: Uint8Array[] = [];
      r.chunks = [];
      for (;;) {
        const e = lineEnd(p);
        if (e < 0) return out;
        const size = parseInt(text(p, e), 16);
        r.chunks.push(size);
        p = e + 2;
        if (size === 0) {
          if (lineEnd(p) !== p) return out; // no trailers from this server: the empty line ends it
          p += 2;
          break;
        }
        if (p + size + 2 > bytes.length) return out;
        parts.push(bytes.subarray(p, p + size));
        p += size + 2;
      }
      r.body = concat(parts);
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      if (p + n > bytes.length) return out;
      r.body = bytes.subarray(p, p + n);
      p += n;
    } else {
      if (!closed) return out;
      r.body = bytes.subarray(p);
      p = bytes.length;
    }
    out.push(r);
    at = p;
  }
}

/** A connection from the client stack: writes what it is given as the window allows, and keeps what arrives. */
export class Client {
  readonly pcb: TcpPcb;
  readonly parts: Uint8Array[] = [];
  established = false;
  /** The server's FIN arrived. */
  fin = false;
  error: string | undefined;
  /** Bytes received so far. */
  received = 0;
  /** While false, what arrives is kept but the window is not reopened: a client that does not read. */
  reading = true;
  private unread = 0;
  private pending: Uint8Array[] = [];

  constructor(stack: Stack, port = 80, to = SERVER) {
    const opened = stack.tcp.connect(to, port, (err) => {
      if (err) this.error = err;
      else this.established = true;
      this.flush();
    });
    if (!opened.ok) throw new Error(`no pcb: ${opened.reason}`);
    const pcb = opened.value;
    this.pcb = pcb;
    pcb.recv((d) => {
      if (d === null) this.fin = true;
      else {
        this.parts.push(d.slice());
        this.received += d.length;
        if (this.reading) pcb.recved(d.length);
        else this.unread += d.length;
      }
    });
    pcb.sent(() => this.flush());
    pcb.err((e) => (this.error = e));
  }

  /** Everything received so far. */
  get bytes(): Uint8Array {
    return concat(this.parts);
  }

  get text(): string {
    return String.fromCharCode(...this.bytes);
  }

  /** Starts reading again, reopening the window by what arrived meanwhile. */
  read(): void {
    this.reading = true;
    this.pcb.recved(this.unread);
    this.unread = 0;
  }

  send(data: string | Uint8Array): void {
    this.pending.push(typeof data === "string" ? enc(data) : data);
    this.flush();
  }

  responses(heads: boolean[] = []): ParsedResponse[] {
    return parseResponses(this.bytes, heads, this.fin);
  }

  private flush(): void {
    while (this.established && this.pending.length && this.pcb.sndbuf > 0) {
      const b = this.pending[0]!;
      const n = this.pcb.write(b);
      if (n < b.length) this.pending[0] = b.subarray(n);
      else this.pending.shift();
    }
  }
}

export interface Env {
  clock: VirtualClock;
  device: Stack;
  client: Stack;
  server: HttpServer;
  /** The server's store; a detached one when it has none. */
  storage: Storage;
  connect(port?: number): Client;
  /** Another host on the LAN, at 10.0.0.n. */
  host(n: number, options?: Partial<StackOptions>): Stack;
  /** Runs the virtual clock until `done` holds (or `limitMs` pass); returns whether it held. */
  until(done: () => boolean, limitMs?: number): boolean;
  /**
   * Sends `request` on a fresh connection and returns its responses once the server closes or
   * `count` are whole; then the client closes, unless `keep` (to watch the server's FIN).
   */
  exchange(request: string | Uint8Array, options?: { heads?: boolean[]; count?: number; keep?: boolean }): { client: Client; responses: ParsedResponse[] };
  drops: ReadonlyMap<string, number>;
  counters: ReadonlyMap<string, number>;
}

/** A server at 10.0.0.2 over `storage` (null: none), its TCP configured by `tcp`, and a client stack at 10.0.0.3; they already know each other's MAC. */
export function setup(
  options: Partial<HttpServerOptions> = {},
  storage: Storage | null = new MemoryStorage({ limit: 1 << 24, maxEntries: 1000 }),
  wrap?: (link: Link, clock: VirtualClock) => Link,
  seed = 1,
  tcp = {},
): Env {
  const b = bench(seed);
  const device = b.host(2, { tcp }, wrap && ((link) => wrap(link, b.clock)));
  const client = b.host(3);
  const server = new HttpServer(device, storage ?? undefined, options);
  if (!server.listen()) throw new Error("port taken");
  client.icmp.echo(SERVER, 1, 1, new Uint8Array(0));
  b.clock.advance(10);
  const until = (done: () => boolean, limitMs = 120_000) => {
    const end = b.clock.now() + limitMs;
    return b.clock.runUntil(() => done() || b.clock.now() >= end) && done();
  };
  return {
    clock: b.clock,
    device,
    client,
    server,
    storage: storage ?? new MemoryStorage(),
    connect: (port = 80) => new Client(client, port),
    host: (n, o) => b.host(n, o),
    until,
    exchange(request, { heads = [], count = 1, keep = false } = {}) {
      const c = new Client(client);
      c.send(request);
      until(() => c.fin || c.error !== undefined || c.responses(heads).filter((r) => r.status >= 200).length >= count);
      const responses = c.responses(heads);
      if (!keep) c.pcb.close();
      return { client: c, responses };
    },
    drops: device.netif.stats.drops,
    counters: device.netif.stats.counters,
  };
}
