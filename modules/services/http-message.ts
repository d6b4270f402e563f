// The request and the response of an HTTP exchange as a handler sees them: the request's
// fields and its body, read as it arrives; the response's status, fields and body, framed
// by length or in chunks, and a file sent from a Storage.

import type { Ip4 } from "../wire/address.ts";
import { ipToString } from "../wire/address.ts";
import { utf8Encode, writeLatin1 } from "../wire/text.ts";
import { concat } from "../wire/bytes.ts";
import { STORAGE_IS_DIRECTORY, type StorageError, storageError } from "../storage/storage.ts";
import type { HttpDrop } from "../stack/drops.ts";
import { type RequestHead, isToken, isFieldValue, byteRange, parseHttpDate } from "./http-parser.ts";
import { mimeType, statusFor } from "./http-files.ts";
import type { Connection } from "./http-connection.ts";

export const EMPTY = new Uint8Array(0);
const CRLF = Uint8Array.of(13, 10);

const REASONS = new Map<number, string>([
  [100, "Continue"],
  [200, "OK"],
  [201, "Created"],
  [204, "No Content"],
  [206, "Partial Content"],
  [301, "Moved Permanently"],
  [304, "Not Modified"],
  [400, "Bad Request"],
  [403, "Forbidden"],
  [404, "Not Found"],
  [405, "Method Not Allowed"],
  [408, "Request Timeout"],
  [409, "Conflict"],
  [413, "Content Too Large"],
  [414, "URI Too Long"],
  [416, "Range Not Satisfiable"],
  [417, "Expectation Failed"],
  [431, "Request Header Fields Too Large"],
  [500, "Internal Server Error"],
  [501, "Not Implemented"],
  [503, "Service Unavailable"],
  [505, "HTTP Version Not Supported"],
  [507, "Insufficient Storage"],
]);

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
  /** @internal body bytes received, and the time spent waiting for them while the handler read */ received = 0;
  /** @internal */ waited = 0;

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
    if (!st.ok) return this.fail(statusFor(storageError(st.reason)), storageError(st.reason));
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
    if (!h.ok) return this.fail(statusFor(storageError(h.reason)), storageError(h.reason));
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
  fail(status: number, reason: HttpDrop | StorageError): void {
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
    let text = `HTTP/1.1 ${s} ${reasonPhrase(s)}\r\n`;
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

/** IMF-fixdate (RFC 9110 5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT". */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function errorText(status: number): string {
  return `${status} ${reasonPhrase(status)}\n`;
}

/** The reason phrase of a status this server sends ("" for others). */
export function reasonPhrase(status: number): string {
  return REASONS.get(status) ?? "";
}

export function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  writeLatin1(b, 0, s);
  return b;
}
