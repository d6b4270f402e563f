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
// the connection limit. Those that leave the framing in doubt close the connection.
// Closing is lingering (RFC 9112 9.6): FIN first, then read until the client's FIN, so a
// client still sending is never answered with a reset that would destroy the response.

import type { Stack, StackContext } from "../stack/stack.ts";
import type { Netif } from "../stack/netif.ts";
import type { TcpListener, TcpPcb } from "../stack/tcp.ts";
import type { Timer } from "../platform.ts";
import { type Ip4, ipToString } from "../wire/address.ts";
import { utf8Encode, writeLatin1 } from "../wire/text.ts";
import {
  type Storage,
  type ReadHandle,
  type DirEntry,
  STORAGE_NOT_FOUND,
  STORAGE_NOT_DIRECTORY,
  STORAGE_DENIED,
  STORAGE_FULL,
  STORAGE_IS_DIRECTORY,
  STORAGE_EXISTS,
} from "../storage/storage.ts";
import { type HttpLimits, type RequestHead, RequestParser, isToken, isFieldValue, splitTarget, byteRange, parseHttpDate } from "./http-parser.ts";
import { concat } from "../wire/bytes.ts";

export interface HttpServerOptions extends HttpLimits {
  /** Default 80. */
  port: number;
  /** Connections handshaking or waiting to be accepted. Default 4. */
  backlog: number;
  /** Connections served at once; one more is answered 503 and closed. Default 4. */
  maxConnections: number;
  /** A request's head must arrive within this, its body must not stall longer, and a closing connection waits this long for the client's FIN. Default 10 s. */
  requestTimeoutMs: number;
  /** A kept-alive connection with no request is closed after this. Default 15 s. */
  idleTimeoutMs: number;
  /** A response the client stops acknowledging is aborted after this. Default 30 s. */
  sendTimeoutMs: number;
  /** How often a connection's timers are checked (TCP's poll). Default 500 ms. */
  pollMs: number;
  /** Response bytes a handler may queue beyond the TCP send buffer before the connection is aborted. Default 16 KiB. */
  maxQueuedBytes: number;
  /** The route that reports the stack's counters as JSON; "" for none. Default "/status". */
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

export type HttpHandler = (req: HttpRequest, res: HttpResponse) => void;

const EMPTY = new Uint8Array(0);
const CRLF = Uint8Array.of(13, 10);
const KNOWN_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
  507: "Insufficient Storage",
};

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  css: "text/css",
  js: "text/javascript",
  mjs: "text/javascript",
  json: "application/json",
  xml: "application/xml",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  ico: "image/x-icon",
  webp: "image/webp",
  wasm: "application/wasm",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
};

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
    this.options = {
      port: 80,
      backlog: 4,
      maxConnections: 4,
      maxRequestLine: 2048,
      maxHeaderBytes: 4096,
      maxHeaders: 32,
      maxBodyBytes: 1 << 20,
      requestTimeoutMs: 10_000,
      idleTimeoutMs: 15_000,
      sendTimeoutMs: 30_000,
      pollMs: 500,
      maxQueuedBytes: 16384,
      statusPath: "/status",
      allowPut: false,
      indexFile: "index.html",
      listDirectories: true,
      date: undefined,
      ...options,
    };
    this.readBuffer = new Uint8Array(stack.tcp.config.sndbuf);
    if (this.options.statusPath) {
      this.route("GET", this.options.statusPath, (_req, res) => {
        res.setHeader("Content-Type", "application/json");
        res.setHeader("Cache-Control", "no-store");
        res.end(JSON.stringify(this.status()));
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

  /** What the status route reports: the stack's counters and drops, and the connections. */
  status(): object {
    return { ...this.stack.stats.toJSON(), connections: { http: this.conns.size, tcp: this.stack.tcp.connections.length } };
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
    if (m === "GET" || m === "HEAD") return this.serve(req, res, this.storage);
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
    if (this.conns.size > this.options.maxConnections) c.refuse(503, "http-busy", "Retry-After: 1\r\n");
  }

  /** A file, or a directory as its index file or a listing; a directory named without its final "/" is redirected to it. */
  private serve(req: HttpRequest, res: HttpResponse, storage: Storage): void {
    const st = storage.stat(req.path);
    if (!st.ok) return res.fail(statusFor(st.reason), st.reason);
    if (!st.value.isDirectory) return res.sendFile(req.path, storage);
    if (!req.rawPath.endsWith("/")) {
      res.status = 301;
      res.setHeader("Location", `${req.rawPath}/${req.query ? `?${req.query}` : ""}`);
      return res.end();
    }
    const o = this.options;
    const index = o.indexFile ? storage.stat(req.path + o.indexFile) : undefined;
    if (index?.ok && !index.value.isDirectory) return res.sendFile(req.path + o.indexFile, storage);
    const list = o.listDirectories ? storage.list(req.path) : undefined;
    if (!list) return res.fail(403, "http-listing-disabled");
    if (!list.ok) return res.fail(statusFor(list.reason), list.reason);
    listing(req, res, list.value);
  }
}

/**
 * Streams a directory's entries as HTML links (directories with a final "/"), as the send
 * buffer allows, about a segment's worth of entries per write.
 */
function listing(req: HttpRequest, res: HttpResponse, entries: DirEntry[]): void {
  const title = escapeHtml(req.path);
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  let html = `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Index of ${title}</title></head>\n<body><h1>Index of ${title}</h1>\n<ul>\n`;
  if (req.path !== "/") html += `<li><a href="../">../</a></li>\n`;
  let i = 0;
  const more = () => {
    while (res.writable > 0 && !res.finished) {
      for (; i < entries.length && html.length < 1024; i++) {
        const e = entries[i]!;
        const slash = e.isDirectory ? "/" : "";
        const size = e.isDirectory ? "" : ` ${e.size} bytes`;
        html += `<li><a href="${encodeURIComponent(e.name)}${slash}">${escapeHtml(e.name)}${slash}</a>${size}</li>\n`;
      }
      if (i < entries.length) res.write(html);
      else res.end(`${html}</ul>\n</body></html>\n`);
      html = "";
    }
  };
  res.onDrain(more);
  more();
}

/** PUT: the body streams into a file that replaces the old one only once it is complete (201 new, 204 replaced). */
function upload(req: HttpRequest, res: HttpResponse, storage: Storage): void {
  const old = storage.stat(req.path);
  if (old.ok && old.value.isDirectory) return res.fail(409, STORAGE_IS_DIRECTORY);
  if (req.length !== undefined && req.length > storage.free()) return res.fail(507, STORAGE_FULL);
  const h = storage.openWrite(req.path, "replace");
  if (!h.ok) return res.fail(h.reason === STORAGE_NOT_FOUND || h.reason === STORAGE_NOT_DIRECTORY ? 409 : statusFor(h.reason), h.reason);
  const file = h.value;
  res.onAbort(() => file.abort());
  const failed = (reason: string) => {
    file.abort();
    res.setHeader("Connection", "close"); // the rest of the body is not worth reading
    res.fail(statusFor(reason), reason);
  };
  req.recv((data) => {
    if (res.finished) return;
    if (data) {
      const w = file.write(data);
      if (!w.ok) failed(w.reason);
      return;
    }
    const c = file.close();
    if (!c.ok) return failed(c.reason);
    res.status = old.ok ? 204 : 201;
    res.end();
  });
}

/** The status for a storage or path failure. */
function statusFor(reason: string): number {
  if (reason === STORAGE_NOT_FOUND || reason === STORAGE_NOT_DIRECTORY) return 404;
  if (reason === STORAGE_DENIED || reason === "path-escapes-root") return 403;
  if (reason === STORAGE_IS_DIRECTORY || reason === STORAGE_EXISTS) return 409;
  if (reason === STORAGE_FULL) return 507;
  if (reason === "path-too-long") return 414;
  return reason.startsWith("path-") ? 400 : 500;
}

/** A request as its handler sees it. The body is read with recv, which pause and resume throttle. */
export class HttpRequest {
  readonly method: string;
  /** The request target as sent. */
  readonly target: string;
  /** The path, percent-decoded. */
  readonly path: string;
  /** What follows "?" in the target, as sent ("" for none). */
  readonly query: string;
  /** "HTTP/1.0" or "HTTP/1.1". */
  readonly version: string;
  /** Field lines in order; names in lower case. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The body's length; undefined when it comes chunked and is known only at its end. */
  readonly length: number | undefined;
  readonly remoteIp: Ip4;
  readonly remotePort: number;
  /** @internal */ reader: ((data: Uint8Array | null) => void) | undefined;
  /** @internal */ paused = false;
  /** @internal the body has ended */ done = false;
  /** @internal the response ended first: the rest of the body is read and dropped */ discard = false;
  /** @internal the client waits for 100 Continue */ expecting = false;
  /** @internal when the body last moved */ progress: number;

  constructor(
    head: RequestHead,
    /** @internal the path as sent */ readonly rawPath: string,
    path: string,
    query: string,
    private readonly conn: Connection,
  ) {
    this.method = head.method;
    this.target = head.target;
    this.path = path;
    this.query = query;
    this.version = head.minor ? "HTTP/1.1" : "HTTP/1.0";
    this.headers = head.fields;
    this.length = head.body === "chunked" ? undefined : head.body;
    this.remoteIp = conn.pcb.remoteIp;
    this.remotePort = conn.pcb.remotePort;
    this.progress = conn.now();
  }

  /** A field's value; repeated fields joined with ", ". */
  header(name: string): string | undefined {
    const key = name.toLowerCase();
    const v = this.headers.filter(([n]) => n === key).map(([, v]) => v);
    return v.length ? v.join(", ") : undefined;
  }

  /** Called with the body in pieces (views: copy what you keep), then null at its end. Asking for the body sends 100 Continue if the client waits for it. */
  recv(cb: (data: Uint8Array | null) => void): void {
    this.reader = cb;
    this.conn.wanted(this);
  }

  /** Stops the body's pieces; the client's TCP window closes behind them. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.conn.wanted(this);
  }
}

/**
 * A response. The status line and header fields go out with the first write (or end); a
 * body whose length is not set with Content-Length before that is sent chunked (as far as
 * an HTTP/1.0 client goes, until the connection closes), unless end() carries all of it.
 */
export class HttpResponse {
  status = 200;
  private readonly fields: Array<[string, string]> = [];
  private length: number | undefined;
  private written = 0;
  private started = false;
  private ended = false;
  private aborted = false;
  private chunked = false;
  private bodyless = false;
  private drainCb: (() => void) | undefined;
  private abortCb: ((reason: string) => void) | undefined;

  constructor(
    private readonly conn: Connection,
    readonly request: HttpRequest,
  ) {}

  /**
   * Sets a field, replacing one of the same name. Content-Length fixes the body's length;
   * "Connection: close" closes the connection after this response. A name that is not a
   * token or a value with control characters is refused (and counted), so no handler can
   * be made to split a response.
   */
  setHeader(name: string, value: string | number): void {
    const v = String(value);
    if (this.started || !isToken(name) || !isFieldValue(v)) return this.conn.stats().drop("http-bad-response-header");
    const key = name.toLowerCase();
    if (key === "content-length" && /^\d+$/.test(v)) this.length = Number(v);
    else if (key === "connection" && /(^|,)\s*close\s*(,|$)/i.test(v)) this.conn.keepAlive = false;
    else if (key !== "content-length" && key !== "connection" && key !== "transfer-encoding") {
      const i = this.fields.findIndex(([n]) => n.toLowerCase() === key);
      if (i >= 0) this.fields.splice(i, 1);
      this.fields.push([name, v]);
    }
  }

  get headersSent(): boolean {
    return this.started;
  }

  /** end() was called, or the connection died. */
  get finished(): boolean {
    return this.ended || this.aborted;
  }

  /** Bytes write() passes straight to TCP; wait for onDrain when it is 0. */
  get writable(): number {
    return this.finished ? 0 : this.conn.room();
  }

  /** Queues `data` (strings as UTF-8); false means wait for onDrain before writing more. */
  write(data: Uint8Array | string): boolean {
    if (this.finished) return false;
    this.push(typeof data === "string" ? utf8Encode(data) : data);
    return this.writable > 0;
  }

  /** Ends the response, with `data` as its last (or only) piece of body. */
  end(data: Uint8Array | string = EMPTY): void {
    if (this.finished) return;
    const body = typeof data === "string" ? utf8Encode(data) : data;
    if (!this.started && this.length === undefined) this.length = body.length;
    this.push(body);
    if (this.chunked && !this.bodyless) this.conn.send(latin1Bytes("0\r\n\r\n"));
    if (this.length !== undefined && this.written < this.length && !this.bodyless) {
      this.conn.stats().drop("http-body-short");
      this.conn.keepAlive = false; // the client is left waiting for bytes that never come
    }
    this.ended = true;
    this.conn.responseEnded(this);
  }

  /** Called whenever acknowledgements make room while the response is unfinished. */
  onDrain(cb: () => void): void {
    this.drainCb = cb;
  }

  /** Called if the connection dies (or the request turns out bad) before the response ends. */
  onAbort(cb: (reason: string) => void): void {
    this.abortCb = cb;
  }

  /**
   * Ends the response with a file from `storage` (the server's by default): Content-Type by
   * extension unless set, Content-Length, Last-Modified, 304 for If-Modified-Since, and for
   * GET a single byte range (206, or 416 when it lies beyond the end), with If-Range.
   */
  sendFile(path: string, storage = this.conn.server.storage): void {
    if (this.finished) return;
    if (!storage) return this.fail(404, "http-no-storage");
    const req = this.request;
    const st = storage.stat(path);
    if (!st.ok) return this.fail(statusFor(st.reason), st.reason);
    if (st.value.isDirectory) return this.fail(403, STORAGE_IS_DIRECTORY);
    const { size, mtime } = st.value;
    const modified = httpDate(mtime);
    this.setHeader("Last-Modified", modified);
    this.setHeader("Accept-Ranges", "bytes");
    if (!this.fields.some(([n]) => n.toLowerCase() === "content-type")) this.setHeader("Content-Type", mimeType(path));
    const conditional = (req.method === "GET" || req.method === "HEAD") && req.header("if-none-match") === undefined;
    const since = conditional ? parseHttpDate(req.header("if-modified-since")) : undefined;
    if (since !== undefined && Math.floor(mtime / 1000) * 1000 <= since) {
      this.status = 304;
      return this.end();
    }
    const range = req.method === "GET" ? byteRange(req.header("range"), size, req.header("if-range"), modified) : undefined;
    if (range === "unsatisfiable") {
      this.setHeader("Content-Range", `bytes */${size}`);
      return this.fail(416, "http-range-not-satisfiable");
    }
    const start = range ? range.start : 0;
    const length = range ? range.end - range.start + 1 : size;
    const h = storage.openRead(path, start);
    if (!h.ok) return this.fail(statusFor(h.reason), h.reason);
    if (range) {
      this.status = 206;
      this.setHeader("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
    }
    this.length = length;
    // The head and the file's first bytes go out together, so a small file takes one segment.
    const head = this.head();
    const buf = this.conn.server.readBuffer;
    const room = Math.min(this.conn.room(), buf.length) - head.length;
    let first = 0;
    if (!this.bodyless && room > 0) {
      buf.set(head);
      const r = h.value.read(buf.subarray(head.length, head.length + Math.min(length, room)));
      first = r.ok ? r.value : 0; // a failed read fails again in the pump, which resets the connection
      this.conn.send(buf.subarray(0, head.length + first));
    } else this.conn.send(head);
    if (this.bodyless || first === length) h.value.close();
    else this.conn.sendFile(h.value, length - first);
    this.written = length;
    this.ended = true;
    this.conn.responseEnded(this);
  }

  /** Answers `status` with a short text body, counted under `reason`; once the head is out, it can only reset the connection. */
  fail(status: number, reason: string): void {
    if (this.finished) return;
    if (this.started) return this.conn.abort(reason);
    this.conn.stats().drop(reason);
    this.status = status;
    this.setHeader("Content-Type", "text/plain; charset=utf-8");
    this.end(errorText(status));
  }

  /** @internal the connection died, or the request was refused */
  kill(reason: string): void {
    if (this.finished) return;
    this.aborted = true;
    this.abortCb?.(reason);
  }

  /** @internal */
  drained(): void {
    if (this.started && !this.finished) this.drainCb?.();
  }

  private push(body: Uint8Array): void {
    const head = this.started ? undefined : this.head();
    if (this.bodyless) body = EMPTY;
    else if (this.length !== undefined && this.written + body.length > this.length) {
      this.conn.stats().drop("http-body-overrun");
      body = body.subarray(0, this.length - this.written);
    }
    this.written += body.length;
    const size = this.chunked && body.length ? latin1Bytes(`${body.length.toString(16)}\r\n`) : undefined;
    const parts = [head, size, body, size && CRLF].filter((p): p is Uint8Array => p !== undefined && p.length > 0);
    if (parts.length) this.conn.send(parts.length === 1 ? parts[0]! : concat(parts));
  }

  /** The status line and fields, with the framing and connection fields this response needs. */
  private head(): Uint8Array {
    this.started = true;
    const req = this.request;
    const c = this.conn;
    const s = this.status;
    const noContent = s < 200 || s === 204 || s === 304;
    this.bodyless = noContent || req.method === "HEAD";
    if (!noContent && this.length === undefined) {
      if (req.version === "HTTP/1.1") this.chunked = true;
      else c.keepAlive = false; // HTTP/1.0: the body ends where the connection does
    }
    if (req.expecting && !req.done) c.keepAlive = false; // the body may or may not follow: no telling where the next request starts
    let text = `HTTP/1.1 ${s} ${REASONS[s] ?? ""}\r\n`;
    for (const [n, v] of this.fields) text += `${n}: ${v}\r\n`;
    const date = c.server.options.date;
    if (date && !this.fields.some(([n]) => n.toLowerCase() === "date")) text += `Date: ${httpDate(date())}\r\n`;
    if (this.chunked) text += "Transfer-Encoding: chunked\r\n";
    else if (!noContent && this.length !== undefined) text += `Content-Length: ${this.length}\r\n`;
    if (!c.keepAlive) text += "Connection: close\r\n";
    else if (req.version === "HTTP/1.0") text += "Connection: keep-alive\r\n";
    c.server.stack.stats.count(`http.status.${s}`);
    c.server.stack.event("http", `${ipToString(req.remoteIp)}:${req.remotePort} ${req.method} ${req.target} ${s}`);
    return latin1Bytes(`${text}\r\n`);
  }
}

interface FileBody {
  handle: ReadHandle;
  left: number;
}

/** One TCP connection: its requests parsed in turn, its responses queued in order. */
class Connection {
  /** Whether the connection stays open after the current response. */
  keepAlive = true;
  private readonly parser: RequestParser;
  private readonly inq: Uint8Array[] = []; // received, not yet parsed (nor acknowledged to TCP)
  private readonly out: Array<Uint8Array | FileBody> = []; // what TCP's send buffer has no room for yet
  private queued = 0; // bytes in `out` arrays
  private res: HttpResponse | undefined; // the exchange in progress
  private requests = 0;
  private since: number; // start of the wait for a request, or of lingering
  private lastSent: number;
  private processing = false;
  private kick: Timer | undefined;
  private peerDone = false; // the client sent FIN
  private closing = false; // close once `out` is empty
  private lingering = false; // FIN sent, reading until the client's
  private closed = false;

  constructor(
    readonly server: HttpServer,
    readonly pcb: TcpPcb,
  ) {
    this.parser = new RequestParser(server.options);
    this.since = this.lastSent = this.now();
    pcb.nodelay = true; // responses are written whole: never hold their tail back for an ACK
    pcb.recv((d) => this.received(d));
    pcb.sent(() => {
      this.lastSent = this.now();
      const queued = this.out.length;
      this.pump();
      if (this.out.length) return;
      if (queued) this.process(); // a pipelined request may start now
      const res = this.res;
      if (res) this.safely(res, () => res.drained());
    });
    pcb.err((reason) => this.gone(`http-tcp-${reason}`));
    pcb.poll(() => this.tick(), server.options.pollMs);
  }

  now(): number {
    return this.server.stack.clock.now();
  }

  stats() {
    return this.server.stack.stats;
  }

  /** Bytes TCP takes at once: none while anything waits in the queue. */
  room(): number {
    return this.out.length ? 0 : this.pcb.sndbuf;
  }

  /** @internal queues bytes after what is queued; what TCP does not take now is copied */
  send(b: Uint8Array): void {
    if (this.closed) return;
    if (!this.out.length) b = b.subarray(this.pcb.write(b));
    if (!b.length) return;
    if (this.queued + b.length > this.server.options.maxQueuedBytes) return this.abort("http-output-overflow");
    this.out.push(b.slice());
    this.queued += b.length;
  }

  sendFile(handle: ReadHandle, left: number): void {
    if (this.closed) return handle.close();
    this.out.push({ handle, left });
    this.pump();
  }

  /** The handler wants the body (again): send 100 Continue if the client waits for it, and read on. */
  wanted(req: HttpRequest): void {
    if (req !== this.res?.request || this.closed) return;
    req.progress = this.now();
    if (req.expecting && !this.res.headersSent) {
      req.expecting = false;
      this.send(latin1Bytes("HTTP/1.1 100 Continue\r\n\r\n"));
    }
    if (!this.processing) this.kick ??= this.server.stack.clock.setTimer(0, () => this.process());
  }

  responseEnded(res: HttpResponse): void {
    if (this.closed) return;
    const req = res.request;
    if (!req.done) req.discard = true;
    if (req.done) this.finish();
    if (!this.keepAlive) this.close();
    this.pump();
    if (!this.processing) this.kick ??= this.server.stack.clock.setTimer(0, () => this.process());
  }

  /** Answers with an error and closes: the request can't be parsed on, or came too slowly. */
  refuse(status: number, reason: string, extra = ""): void {
    if (this.closed) return;
    const res = this.res;
    this.res = undefined;
    if (res?.finished) {
      this.stats().drop(reason); // the response is whole: just read no further
      return this.close();
    }
    if (res?.headersSent) {
      res.kill(reason);
      return this.abort(reason);
    }
    this.stats().drop(reason);
    this.server.stack.event("http", `${ipToString(this.pcb.remoteIp)}:${this.pcb.remotePort} refused ${status}: ${reason}`);
    res?.kill(reason);
    this.stats().count(`http.status.${status}`);
    const body = errorText(status);
    this.keepAlive = false;
    this.send(
      latin1Bytes(
        `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n${extra}\r\n${body}`,
      ),
    );
    this.close();
  }

  /** Resets the connection. */
  abort(reason: string): void {
    if (this.closed) return;
    this.stats().drop(reason);
    this.gone(reason);
    this.pcb.abort();
  }

  private received(d: Uint8Array | null): void {
    if (this.closed) return;
    if (this.closing) {
      // Nothing more is read: what still comes is acknowledged and dropped.
      if (d) return this.pcb.recved(d.length);
      this.peerDone = true;
      if (this.lingering) this.shut();
      return;
    }
    if (d === null) this.peerDone = true;
    else {
      if (!this.res && this.parser.idle && !this.inq.length) this.since = this.now(); // the first byte of a request
      this.inq.push(d);
    }
    this.process();
  }

  private process(): void {
    this.kick?.cancel();
    this.kick = undefined;
    if (this.processing || this.closed) return;
    this.processing = true;
    while (!this.closing && !this.closed && !this.blocked()) {
      const chunk = this.inq[0] ?? EMPTY;
      const { used, step } = this.parser.next(chunk);
      if (used) this.consume(used);
      if (step.kind === "more") {
        if (!this.inq.length) break;
      } else if (step.kind === "head") this.begin(step.head);
      else if (step.kind === "data") this.body(step.data);
      else if (step.kind === "end") this.bodyEnd();
      else this.refuse(step.status, step.reason);
    }
    this.processing = false;
    if (this.peerDone) this.peerClosed();
  }

  /**
   * Nothing more to parse until the handler reads the body, or the response ends; and no
   * next request while the last response is still queued, so one connection holds at most
   * one response's queue and one open file.
   */
  private blocked(): boolean {
    const req = this.res?.request;
    if (!req) return this.out.length > 0;
    return req.done || (!req.discard && (req.paused || !req.reader));
  }

  private consume(n: number): void {
    const rest = this.inq[0]!.subarray(n);
    if (rest.length) this.inq[0] = rest;
    else this.inq.shift();
    this.pcb.recved(n);
  }

  private begin(head: RequestHead): void {
    this.stats().count("http.requests");
    const target = splitTarget(head.target);
    let path: string | undefined;
    try {
      path = target && decodeURIComponent(target.path);
    } catch {
      path = undefined; // a malformed escape
    }
    const req = new HttpRequest(head, target?.path ?? "", path ?? "", target?.query ?? "", this);
    const res = (this.res = new HttpResponse(this, req));
    const tokens = (req.header("connection") ?? "")
      .toLowerCase()
      .split(",")
      .map((t) => t.trim());
    this.keepAlive = head.minor ? !tokens.includes("close") : tokens.includes("keep-alive");
    if (path === undefined) return res.fail(400, "http-bad-target");
    const expect = head.minor ? req.header("expect") : undefined;
    if (expect !== undefined && expect.toLowerCase() !== "100-continue") return res.fail(417, "http-bad-expectation");
    req.expecting = expect !== undefined && head.body !== 0;
    this.safely(res, () => this.server.dispatch(req, res));
  }

  private body(data: Uint8Array): void {
    const res = this.res!;
    res.request.progress = this.now();
    if (!res.request.discard) this.safely(res, () => res.request.reader!(data));
  }

  private bodyEnd(): void {
    const res = this.res!;
    res.request.done = true;
    if (res.finished) this.finish();
    else this.safely(res, () => res.request.reader!(null));
  }

  /** Runs handler code: a throw is answered 500, or resets a response already under way. */
  private safely(res: HttpResponse, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.server.stack.event("http", `handler error: ${String(e)}`);
      if (res.finished) this.stats().drop("http-handler-error");
      else res.fail(500, "http-handler-error");
    }
  }

  /** The exchange is over: wait for the next request. */
  private finish(): void {
    this.res = undefined;
    this.requests++;
    this.since = this.now();
  }

  /** The client will send nothing more: serve what is complete, then close. */
  private peerClosed(): void {
    if (this.closing || this.closed) return;
    const req = this.res?.request;
    if (!req) {
      if (this.inq.length) return; // a whole request may be waiting for the last response to go out
      if (!this.parser.idle) this.stats().drop("http-truncated-request");
      return this.close();
    }
    if (req.done || this.blocked()) {
      this.keepAlive = false;
      return;
    }
    this.res!.kill("http-truncated-body");
    if (this.res!.headersSent) return this.abort("http-truncated-body");
    this.stats().drop("http-truncated-body");
    this.close();
  }

  private tick(): void {
    if (this.closed) return;
    const o = this.server.options;
    const now = this.now();
    if (this.out.length || this.pcb.unacknowledged) {
      if (now - this.lastSent >= o.sendTimeoutMs) this.abort("http-send-timeout");
      return;
    }
    this.lastSent = now;
    if (this.lingering) {
      if (now - this.since >= o.requestTimeoutMs) this.shut();
      return;
    }
    const req = this.res?.request;
    if (req) {
      if (!req.done && !this.blocked() && now - req.progress >= o.requestTimeoutMs) this.refuse(408, "http-body-timeout");
    } else if (this.parser.idle && !this.inq.length && this.requests > 0) {
      if (now - this.since < o.idleTimeoutMs) return;
      this.stats().count("http.idle-closed");
      this.close();
    } else if (now - this.since >= o.requestTimeoutMs) this.refuse(408, "http-request-timeout");
  }

  /** Closes once the queue is empty. */
  private close(): void {
    this.closing = true;
    this.pump();
  }

  private pump(): void {
    const pcb = this.pcb;
    const buf = this.server.readBuffer;
    while (!this.closed && this.out.length && pcb.sndbuf > 0) {
      const item = this.out[0]!;
      if (item instanceof Uint8Array) {
        const n = pcb.write(item);
        this.queued -= n;
        if (n < item.length) {
          this.out[0] = item.subarray(n);
          return;
        }
      } else {
        const r = item.handle.read(buf.subarray(0, Math.min(pcb.sndbuf, item.left, buf.length)));
        if (!r.ok || r.value === 0) return this.abort(r.ok ? "http-file-shrank" : r.reason);
        pcb.write(buf.subarray(0, r.value));
        item.left -= r.value;
        if (item.left > 0) continue;
        item.handle.close();
      }
      this.out.shift();
    }
    if (this.closing && !this.out.length && !this.lingering && !this.closed) this.linger();
  }

  /** FIN, then read until the client's FIN (or a timeout) so that nothing it still sends resets the connection. */
  private linger(): void {
    if (this.peerDone) return this.shut();
    this.lingering = true;
    this.since = this.now();
    this.pcb.shutdown();
  }

  private shut(): void {
    this.closed = true;
    this.server.remove(this);
    this.pcb.close();
  }

  /** The connection is dead: release what it holds. */
  private gone(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.kick?.cancel();
    this.server.remove(this);
    for (const item of this.out) if (!(item instanceof Uint8Array)) item.handle.close();
    this.out.length = 0;
    this.res?.kill(reason);
  }
}

/** IMF-fixdate (RFC 9110 5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT". */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** The media type for a path's extension (application/octet-stream when unknown). */
export function mimeType(path: string): string {
  const dot = path.lastIndexOf(".");
  const ext = dot > path.lastIndexOf("/") ? path.slice(dot + 1).toLowerCase() : "";
  return TYPES[ext] ?? "application/octet-stream";
}

function errorText(status: number): string {
  return `${status} ${REASONS[status] ?? ""}\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  writeLatin1(b, 0, s);
  return b;
}
