// HTTP/1.1 server (RFC 9110, RFC 9112) on the stack's TCP. Applications route a method and
// a path to a handler that streams its response; what no route takes is served from a
// Storage: files with Content-Type, Last-Modified, If-Modified-Since and single byte
// ranges, directories as their index.html or a listing, and PUT as an upload when allowed.
//
// A connection answers its requests one at a time and in order: bytes of a pipelined
// request wait, unacknowledged (their TCP window stays closed), until the response before
// it has ended and been handed to TCP whole. A request body streams to its handler as it arrives and stops arriving
// when the handler pauses; a response goes out as the send buffer drains, and a file is
// read from storage only as fast as the peer acknowledges it.
//
// Every limit has a status: 414, 431 and 413 for sizes, 400 for malformed requests, 501
// and 505 for what the server does not implement, 408 for clients too slow, 503 beyond
// the connection limit when no connection can give up its slot (one that is still waiting
// for a request head can). Those that leave the framing in doubt close the connection.
// Closing is lingering (RFC 9112 9.6): FIN first, then read until the client's FIN, so a
// client still sending is never answered with a reset that would destroy the response.
//
// This file is the server and its routes. The request and response are in http-message.ts,
// a connection in http-connection.ts, serving a Storage in http-files.ts.

import type { Stack, StackContext } from "../stack/stack.ts";
import type { Netif } from "../stack/netif.ts";
import type { TcpListener, TcpPcb } from "../stack/tcp.ts";
import type { Storage } from "../storage/storage.ts";
import { type HttpLimits, isToken } from "./http-parser.ts";
import type { HttpRequest, HttpResponse } from "./http-message.ts";
import { Connection } from "./http-connection.ts";
import { serveStorage, upload } from "./http-files.ts";

export { HttpRequest, HttpResponse, httpDate } from "./http-message.ts";
export { mimeType } from "./http-files.ts";

export interface HttpServerOptions extends HttpLimits {
  /** TCP port. Default 80. */
  port: number;
  /** Connections handshaking or waiting to be accepted, count. Default 4. */
  backlog: number;
  /** Connections served at once, count. One more takes the slot of the one that has waited longest for a complete request head; when none waits, it is answered 503 and closed. Default 4. */
  maxConnections: number;
  /** A request's head must arrive within this, its body must not stall longer, and a closing connection waits this long for the client's FIN. Default 10 s. */
  requestTimeoutMs: number;
  /** Bytes per second a request body must average while its handler reads it, beyond the first requestTimeoutMs; slower is answered 408. Default 500. */
  minBodyRate: number;
  /** The unread rest of a request body is read and dropped after the response for at most this long in all, then the connection closes. Default 30 s. */
  discardTimeoutMs: number;
  /** Requests one connection may make, count; the last is answered with "Connection: close". Default 100. */
  maxRequests: number;
  /** A kept-alive connection with no request is closed after this. Default 15 s. */
  idleTimeoutMs: number;
  /** A response the client stops acknowledging is aborted after this. Default 30 s. */
  sendTimeoutMs: number;
  /** Bytes per second the client must acknowledge on average while responses wait to be acknowledged, beyond the first sendTimeoutMs; slower is reset. Default 500. */
  minSendRate: number;
  /** How often a connection's timers are checked (TCP's poll). Default 500 ms. */
  pollMs: number;
  /** Response bytes a handler may queue beyond the TCP send buffer before the connection is aborted. Default 16 KiB. */
  maxQueuedBytes: number;
  /** The path of the route that reports the stack's counters as JSON; "" for none. Default "/status". */
  statusPath: string;
  /** PUT stores the body as a file in the storage. Default false. */
  allowPut: boolean;
  /** Served for a directory that has it. Default "index.html"; "" for none. */
  indexFile: string;
  /** A directory without an index file is answered with a listing (else 403). Default true. */
  listDirectories: boolean;
  /** The time as milliseconds since 1970 for the Date field; without a clock that knows it, no Date is sent (RFC 9110 6.6.1). */
  date: (() => number) | undefined;
}

export const HTTP_SERVER_DEFAULTS: HttpServerOptions = {
  port: 80,
  backlog: 4,
  maxConnections: 4,
  maxRequestLine: 2048,
  maxHeaderBytes: 4096,
  maxHeaders: 32,
  maxBodyBytes: 1 << 20,
  requestTimeoutMs: 10_000,
  discardTimeoutMs: 30_000,
  minBodyRate: 500,
  maxRequests: 100,
  idleTimeoutMs: 15_000,
  sendTimeoutMs: 30_000,
  minSendRate: 500,
  pollMs: 500,
  maxQueuedBytes: 16384,
  statusPath: "/status",
  allowPut: false,
  indexFile: "index.html",
  listDirectories: true,
  date: undefined,
};

export type HttpHandler = (req: HttpRequest, res: HttpResponse) => void;

const KNOWN_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

export class HttpServer {
  readonly options: HttpServerOptions;
  readonly netif: Netif;
  private listener: TcpListener | undefined;
  private readonly routes = new Map<string, Map<string, HttpHandler>>();
  private readonly methods = new Set(KNOWN_METHODS);
  private readonly conns = new Set<Connection>();
  /** @internal file reads go through it straight into a send buffer; one serves every connection */
  readonly readBuffer: Uint8Array;

  constructor(
    readonly stack: Pick<Stack, "netif" | "tcp" | keyof StackContext>,
    readonly storage: Storage | undefined,
    options: Partial<HttpServerOptions> = {},
  ) {
    this.netif = stack.netif;
    this.options = { ...HTTP_SERVER_DEFAULTS, ...options };
    this.readBuffer = new Uint8Array(stack.tcp.config.sndbuf);
    if (this.options.statusPath) {
      this.route("GET", this.options.statusPath, (_req, res) => {
        res.setHeader("Content-Type", "application/json");
        res.setHeader("Cache-Control", "no-store");
        res.end(this.status());
      });
    }
  }

  /** Starts listening; false if the port is taken or TCP has no listener left. */
  listen(): boolean {
    const l = this.stack.tcp.listen(this.options.port, this.options.backlog);
    this.listener = l.ok ? l.value : undefined;
    this.listener?.accept((pcb) => this.accept(pcb));
    return this.listener !== undefined;
  }

  /** Stops listening and aborts every connection. */
  close(): void {
    this.listener?.close();
    this.listener = undefined;
    for (const c of [...this.conns]) c.abort("http-server-closed");
  }

  /**
   * Sends requests for `method` on `path` to `handler`. A path ending in "/*" takes every
   * path under it; an exact path wins over those, a longer prefix over a shorter one. A GET
   * route answers HEAD too, with the same header fields and no body. A method that is not a
   * token is ignored; any other becomes known, so it is answered 405 where it has no route.
   */
  route(method: string, path: string, handler: HttpHandler): void {
    if (!isToken(method)) return;
    this.methods.add(method);
    let r = this.routes.get(path);
    if (!r) this.routes.set(path, (r = new Map()));
    r.set(method, handler);
  }

  /** Connections open now, lingering ones included. */
  get connections(): number {
    return this.conns.size;
  }

  /** What the status route reports, as JSON text: the stack's counters and drops, and the connections. */
  status(): string {
    return `${this.stack.stats.json().slice(0, -1)},"connections":{"http":${this.conns.size},"tcp":${this.stack.tcp.connections.length}}}`;
  }

  /** @internal */
  remove(c: Connection): void {
    this.conns.delete(c);
  }

  /** @internal a parsed request goes to its route, or to the storage */
  dispatch(req: HttpRequest, res: HttpResponse): void {
    const m = req.method;
    if (!this.methods.has(m)) return res.fail(501, "http-unknown-method");
    const r = this.match(req.path);
    if (r) {
      const h = r.get(m) ?? (m === "HEAD" ? r.get("GET") : undefined);
      if (h) return h(req, res);
      const allow = [...r.keys()];
      if (r.has("GET") && !r.has("HEAD")) allow.push("HEAD");
      res.setHeader("Allow", allow.join(", "));
      return res.fail(405, "http-method-not-allowed");
    }
    if (!this.storage) return res.fail(404, "http-no-route");
    if (m === "GET" || m === "HEAD") return serveStorage(req, res, this.storage, this.options);
    if (m === "PUT" && this.options.allowPut) return upload(req, res, this.storage);
    res.setHeader("Allow", this.options.allowPut ? "GET, HEAD, PUT" : "GET, HEAD");
    res.fail(405, "http-method-not-allowed");
  }

  private match(path: string): Map<string, HttpHandler> | undefined {
    const exact = this.routes.get(path);
    if (exact) return exact;
    let best: string | undefined;
    for (const p of this.routes.keys()) {
      if (p.endsWith("/*") && path.startsWith(p.slice(0, -1)) && (!best || p.length > best.length)) best = p;
    }
    return best === undefined ? undefined : this.routes.get(best);
  }

  private accept(pcb: TcpPcb): void {
    const c = new Connection(this, pcb);
    this.conns.add(c);
    this.stack.stats.count("http.connections");
    if (this.conns.size <= this.options.maxConnections) return;
    let oldest: Connection | undefined;
    let since = Infinity;
    for (const other of this.conns) {
      const s = other === c ? undefined : other.waitingSince();
      if (s !== undefined && s < since) [oldest, since] = [other, s];
    }
    if (oldest) oldest.abort("http-evicted");
    else c.refuse(503, "http-busy", "Retry-After: 1\r\n");
  }
}
