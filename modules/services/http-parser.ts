// HTTP/1.1 request parsing (RFC 9112): the request line and the field lines, a line at a
// time under limits, then the body, framed by Content-Length or by the chunked coding.
// Bytes come in whatever pieces TCP delivers them; body data goes out as views of those
// pieces, never copied. The request line and the fields may end in CR LF or in a bare LF
// (RFC 9112 2.2 lets a recipient accept it), a chunk's lines only in CR LF (7.1); a CR
// anywhere else makes the request invalid.
//
// Anything wrong ends parsing with the status the server should answer with and a short
// reason to count it under. The fields the server reads further (the target, Range, the
// HTTP-date of If-Modified-Since) have their parsers here too.

import { latin1 } from "../wire/text.ts";
import type { HttpParseDrop } from "../stack/drops.ts";

export interface HttpLimits {
  /** Characters (bytes) in the request line (414 beyond). Default 2048. */
  maxRequestLine: number;
  /** Bytes of the field section, line ends included (431 beyond); trailers have the same bound. Default 4096. */
  maxHeaderBytes: number;
  /** Field lines, count (431 beyond). Default 32. */
  maxHeaders: number;
  /** Bytes of a request body (413 beyond). Default 1 MiB. */
  maxBodyBytes: number;
}

export interface RequestHead {
  method: string;
  target: string;
  /** The minor version: 0 for HTTP/1.0; 1 for HTTP/1.1 and any later 1.x. */
  minor: number;
  /** Field lines in order; names in lower case, values without the whitespace around them. */
  fields: Array<[string, string]>;
  /** How the body is framed: its length (0 for none), or "chunked". */
  body: number | "chunked";
}

export type ParseStep =
  | { kind: "more" }
  | { kind: "head"; head: RequestHead }
  | { kind: "data"; data: Uint8Array }
  | { kind: "end" }
  | { kind: "error"; status: number; reason: HttpParseDrop };

type State = "start" | "fields" | "length" | "chunk-size" | "chunk-data" | "chunk-end" | "trailers" | "failed";

const LF = 10;
const MAX_BLANK_LINES = 4; // empty lines tolerated before a request line (RFC 9112 2.2)
const MAX_CHUNK_LINE = 256; // a chunk size with its extensions
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]+)[ \t]*(;.*)?$/;
const MORE: ParseStep = { kind: "more" };
const END: ParseStep = { kind: "end" };

/** Whether `s` is a token (RFC 9110 5.6.2): what methods, field names and codings are made of. */
export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

/** A value a field line may carry: no control characters but HTAB. */
export function isFieldValue(s: string): boolean {
  return FIELD_VALUE.test(s);
}

export class RequestParser {
  private state: State = "start";
  private partial = ""; // the line so far
  private blank = 0;
  private method = "";
  private target = "";
  private minor = 1;
  private fields: Array<[string, string]> = [];
  private headerBytes = 0;
  private left = 0; // body bytes (length) or chunk bytes (chunked) still to come
  private bodyBytes = 0;
  private failure: ParseStep | undefined;

  constructor(private readonly limits: HttpLimits) {}

  /** True between requests with nothing of the next one seen yet. */
  get idle(): boolean {
    return this.state === "start" && this.partial === "" && this.blank === 0;
  }

  /**
   * Parses from the start of `input` up to the next event: a complete head, a piece of body,
   * the body's end (every request has one, an empty body too), or an error. `used` says how
   * many bytes of `input` it took; "more" means all of them were taken and the next event
   * needs more input. An empty input is fine: it yields a body's end that needs no bytes.
   */
  next(input: Uint8Array): { used: number; step: ParseStep } {
    if (this.state === "failed") return { used: 0, step: this.failure! };
    if (this.state === "length" && this.left === 0) {
      this.state = "start";
      return { used: 0, step: END };
    }
    if (this.state === "length" || this.state === "chunk-data") {
      const n = Math.min(this.left, input.length);
      this.left -= n;
      if (this.state === "chunk-data" && this.left === 0) this.state = "chunk-end";
      return { used: n, step: n ? { kind: "data", data: input.subarray(0, n) } : MORE };
    }
    const limit = this.lineLimit();
    const lf = input.indexOf(LF);
    const end = lf < 0 ? input.length : lf;
    if (this.partial.length + end > limit) return { used: end, step: this.tooLong() };
    this.partial += latin1(input.subarray(0, end));
    if (lf < 0) return { used: input.length, step: MORE };
    let line = this.partial;
    this.partial = "";
    const crlf = line.endsWith("\r");
    if (crlf) line = line.slice(0, -1);
    // The leniency for a bare LF covers the start line and the fields only (RFC 9112 2.2, 7.1).
    const chunkLine = this.state === "chunk-size" || this.state === "chunk-end";
    const step = line.includes("\r") ? this.fail(400, "http-bare-cr") : chunkLine && !crlf ? this.fail(400, "http-chunk-bare-lf") : this.line(line);
    return { used: lf + 1, step };
  }

  /** The longest line the state allows, the CR of its CR LF counted. */
  private lineLimit(): number {
    const l = this.limits;
    switch (this.state) {
      case "start":
        return l.maxRequestLine + 1;
      case "fields":
      case "trailers":
        return Math.max(0, l.maxHeaderBytes - this.headerBytes);
      case "chunk-end":
        return 1;
      default:
        return MAX_CHUNK_LINE;
    }
  }

  private tooLong(): ParseStep {
    switch (this.state) {
      case "start":
        return this.fail(414, "http-request-line-too-long");
      case "fields":
      case "trailers":
        return this.fail(431, "http-header-too-large");
      case "chunk-end":
        return this.fail(400, "http-bad-chunk-end");
      default:
        return this.fail(400, "http-chunk-line-too-long");
    }
  }

  private line(line: string): ParseStep {
    switch (this.state) {
      case "start":
        return this.requestLine(line);
      case "fields":
        return this.field(line);
      case "chunk-size":
        return this.chunkSize(line);
      case "chunk-end":
        if (line !== "") return this.fail(400, "http-bad-chunk-end");
        this.state = "chunk-size";
        return MORE;
      default:
        return this.trailer(line);
    }
  }

  private requestLine(line: string): ParseStep {
    if (line === "") {
      if (++this.blank > MAX_BLANK_LINES) return this.fail(400, "http-bad-request-line");
      return MORE;
    }
    this.blank = 0;
    if (line.length > this.limits.maxRequestLine) return this.fail(414, "http-request-line-too-long"); // ended by a bare LF
    const parts = line.split(" ");
    if (parts.length !== 3) return this.fail(400, "http-bad-request-line");
    const [method, target, version] = parts as [string, string, string];
    if (!isToken(method) || !/^[\x21-\x7e]+$/.test(target)) return this.fail(400, "http-bad-request-line");
    const v = VERSION.exec(version);
    if (!v) return version.startsWith("HTTP/") ? this.fail(505, "http-bad-version") : this.fail(400, "http-bad-request-line");
    if (v[1] !== "1") return this.fail(505, "http-version-not-supported");
    this.method = method;
    this.target = target;
    this.minor = v[2] === "0" ? 0 : 1; // a later 1.x is answered as 1.1 (RFC 9110 6.2)
    this.fields = [];
    this.headerBytes = 0;
    this.state = "fields";
    return MORE;
  }

  private field(line: string): ParseStep {
    if (line === "") return this.endOfHead();
    this.headerBytes += line.length + 2;
    if (this.fields.length >= this.limits.maxHeaders) return this.fail(431, "http-too-many-headers");
    // A line that starts with whitespace folds onto the one before (obs-fold), or hides
    // itself between the request line and the fields: RFC 9112 5.2 and 2.2 allow rejecting both.
    if (line[0] === " " || line[0] === "\t") return this.fail(400, "http-obs-fold");
    const colon = line.indexOf(":");
    const name = line.slice(0, Math.max(0, colon));
    if (!isToken(name)) return this.fail(400, "http-bad-field-name");
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (!isFieldValue(value)) return this.fail(400, "http-bad-field-value");
    this.fields.push([name.toLowerCase(), value]);
    return MORE;
  }

  /** Validates the framing (RFC 9112 6) and the Host field (RFC 9112 3.2). */
  private endOfHead(): ParseStep {
    const head: RequestHead = { method: this.method, target: this.target, minor: this.minor, fields: this.fields, body: 0 };
    const values = (name: string) => this.fields.filter(([n]) => n === name).map(([, v]) => v);
    const hosts = values("host");
    if (this.minor === 1 && hosts.length !== 1) return this.fail(400, "http-bad-host");
    if (hosts.length > 1 || (hosts.length === 1 && !/^[^\s/@?#]*$/.test(hosts[0]!))) return this.fail(400, "http-bad-host");
    const te = values("transfer-encoding");
    const cl = values("content-length");
    if (te.length) {
      if (this.minor === 0) return this.fail(400, "http-te-in-http-1.0");
      if (cl.length) return this.fail(400, "http-te-and-content-length");
      const codings = te
        .join(",")
        .split(",")
        .map((c) => c.trim().toLowerCase());
      if (codings.some((c) => c !== "chunked")) return this.fail(501, "http-unknown-coding");
      if (codings.length !== 1) return this.fail(400, "http-bad-transfer-encoding");
      head.body = "chunked";
      this.bodyBytes = 0;
      this.state = "chunk-size";
      return { kind: "head", head };
    }
    if (cl.length) {
      // "5, 5" or two fields of 5 are one length; different lengths are an attack or a bug.
      const lengths = cl
        .join(",")
        .split(",")
        .map((c) => c.trim());
      if (!lengths.every((c) => /^\d+$/.test(c))) return this.fail(400, "http-bad-content-length");
      if (lengths.some((c) => Number(c) !== Number(lengths[0]))) return this.fail(400, "http-conflicting-content-length");
      const length = Number(lengths[0]);
      if (length > this.limits.maxBodyBytes) return this.fail(413, "http-body-too-large");
      head.body = length;
    }
    this.left = head.body as number;
    this.state = "length";
    return { kind: "head", head };
  }

  private chunkSize(line: string): ParseStep {
    const m = CHUNK_SIZE.exec(line);
    if (!m) return this.fail(400, "http-bad-chunk-size");
    const digits = m[1]!.replace(/^0+/, "");
    const size = digits.length > 12 ? Infinity : parseInt(digits || "0", 16);
    if (this.bodyBytes + size > this.limits.maxBodyBytes) return this.fail(413, "http-body-too-large");
    this.bodyBytes += size;
    this.left = size;
    this.state = size ? "chunk-data" : "trailers";
    this.headerBytes = 0;
    return MORE;
  }

  /** Trailer fields are read under the header limits and ignored. */
  private trailer(line: string): ParseStep {
    if (line !== "") {
      this.headerBytes += line.length + 2;
      return MORE;
    }
    this.state = "start";
    return END;
  }

  private fail(status: number, reason: HttpParseDrop): ParseStep {
    this.state = "failed";
    this.failure = { kind: "error", status, reason };
    return this.failure;
  }
}

/** The path and query of an origin-form or absolute-form target (RFC 9112 3.2); undefined for anything else. */
export function splitTarget(target: string): { path: string; query: string } | undefined {
  let t = target;
  if (!t.startsWith("/")) {
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(t);
    if (!m) return undefined;
    t = m[1]!.startsWith("/") ? m[1]! : `/${m[1]!}`;
  }
  if (t.includes("#")) return undefined;
  const q = t.indexOf("?");
  return q < 0 ? { path: t, query: "" } : { path: t.slice(0, q), query: t.slice(q + 1) };
}

/**
 * The range a Range field asks for within `size` bytes; undefined to send the whole file:
 * no field, an If-Range that does not match, another unit, several ranges or bad syntax
 * (RFC 9110 14.2 lets a server ignore those).
 */
export function byteRange(
  range: string | undefined,
  size: number,
  ifRange: string | undefined,
  modified: string,
): { start: number; end: number } | "unsatisfiable" | undefined {
  if (range === undefined || (ifRange !== undefined && ifRange !== modified)) return undefined;
  const m = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i.exec(range);
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === "" ? Infinity : Number(m[2]);
  if (last < start) return undefined;
  return start >= size ? "unsatisfiable" : { start, end: Math.min(last, size - 1) };
}

const MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

/** Milliseconds since 1970 from any of the three HTTP-date forms; undefined for anything else. */
export function parseHttpDate(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  let m = /^[A-Z][a-z]{2}, (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/.exec(s);
  let parts = m && [m[3]!, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!];
  if (!parts && (m = /^[A-Z][a-z]+, (\d\d)-([A-Z][a-z]{2})-(\d\d) (\d\d):(\d\d):(\d\d) GMT$/.exec(s))) {
    parts = [String((Number(m[3]) < 70 ? 2000 : 1900) + Number(m[3])), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!];
  }
  if (!parts && (m = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})$/.exec(s))) parts = [m[6]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5]!];
  if (!parts) return undefined;
  const month = MONTHS.indexOf(parts[1]!);
  if (month < 0 || month % 3) return undefined;
  const [y, , d, hh, mm, ss] = parts.map(Number) as number[];
  return Date.UTC(y!, month / 3, d, hh, mm, ss);
}
