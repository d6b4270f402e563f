// DNS messages (RFC 1035, AAAA from RFC 3596): header, questions and resource records.
//
// Names are dotted strings without the trailing dot; the root is "". Each label byte
// becomes one character (code 0-255), so the bytes come back exactly as they were
// written, case included. DNS compares names case-insensitively: use dnsNameEqual.
// A "." byte inside a label cannot be told apart from a separator (as in dns-packet).
//
// Record and question types that have a typed form are named by string ("A", "MX", ...);
// every other type stays a number and its record carries the raw rdata.

import { type Ip4, readIp, writeIp } from "./address.ts";
import { type Result, ok, fail } from "./result.ts";
import { latin1 } from "./text.ts";

/** Why a decoder refused the bytes; the reason a dropped frame is counted under. */
export type DnsDecodeError = "dns-short" | "dns-bad-pointer" | "dns-name-loop" | "dns-bad-label" | "dns-name-too-long" | "dns-bad-rdata";

export const DNS_PORT = 53;
export const DNS_HEADER_LEN = 12;
export const DNS_CLASS_IN = 1;
export const DNS_OPCODE_QUERY = 0;
export const DNS_RCODE_NOERROR = 0;
export const DNS_RCODE_FORMERR = 1;
export const DNS_RCODE_SERVFAIL = 2;
export const DNS_RCODE_NXDOMAIN = 3;
export const DNS_RCODE_REFUSED = 5;
/** Largest name on the wire, in octets, counting length bytes and the root. */
export const DNS_MAX_NAME = 255;
export const DNS_MAX_LABEL = 63;

const TYPE_CODES = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28 } as const;
export type DnsTypeName = keyof typeof TYPE_CODES;
/** A typed record type by name, or any other type by number. */
export type DnsType = DnsTypeName | number;

const TYPE_NAMES = new Map<number, DnsTypeName>(Object.entries(TYPE_CODES).map(([n, c]) => [c, n as DnsTypeName]));

export interface DnsQuestion {
  name: string;
  type: DnsType;
  class: number;
}

interface DnsRecordBase {
  name: string;
  class: number;
  ttl: number;
}

export type DnsRecord = DnsRecordBase &
  (
    | { type: "A"; address: Ip4 }
    | { type: "AAAA"; address: Uint8Array } // 16 bytes, a copy
    | { type: "NS" | "CNAME" | "PTR"; target: string }
    | { type: "MX"; preference: number; exchange: string }
    | { type: "TXT"; texts: Uint8Array[] } // character-strings, views
    | { type: "SOA"; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
    // A type without a typed form; use only numbers that are not in TYPE_CODES.
    | { type: number; rdata: Uint8Array } // view
  );

export interface DnsMessage {
  id: number;
  qr: boolean; // response
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean; // RFC 4035; the remaining Z bit is written as 0 and ignored on decode
  cd: boolean;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** A recursive query for one name, as a stub resolver sends it. */
export function dnsQuery(id: number, name: string, type: DnsType): DnsMessage {
  return {
    id,
    qr: false,
    opcode: DNS_OPCODE_QUERY,
    aa: false,
    tc: false,
    rd: true,
    ra: false,
    ad: false,
    cd: false,
    rcode: DNS_RCODE_NOERROR,
    questions: [{ name, type, class: DNS_CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

/** True if `name` can be encoded: labels of 1-63 octets (chars 0-255), at most 255 octets on the wire. */
export function dnsNameValid(name: string): boolean {
  if (name === "") return true;
  if (name.length + 2 > DNS_MAX_NAME) return false;
  for (const label of name.split(".")) {
    if (label.length === 0 || label.length > DNS_MAX_LABEL) return false;
    for (let i = 0; i < label.length; i++) if (label.charCodeAt(i) > 0xff) return false;
  }
  return true;
}

/** Name equality as DNS defines it: ASCII letters compare without case. */
export function dnsNameEqual(a: string, b: string): boolean {
  return a.length === b.length && a.replace(/[A-Z]/g, lower) === b.replace(/[A-Z]/g, lower);
}

function lower(c: string): string {
  return c.toLowerCase();
}

// ---- decoding ----

interface Decoded<T> {
  value: T;
  end: number;
}

export function decodeDns(b: Uint8Array): Result<DnsMessage, DnsDecodeError> {
  if (b.length < DNS_HEADER_LEN) return fail("dns-short");
  const flags = u16(b, 2);
  const msg: DnsMessage = {
    id: u16(b, 0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  let p = DNS_HEADER_LEN;
  for (let i = u16(b, 4); i > 0; i--) {
    const q = readQuestion(b, p);
    if (!q.ok) return q;
    msg.questions.push(q.value.value);
    p = q.value.end;
  }
  const sections = [msg.answers, msg.authorities, msg.additionals];
  for (let s = 0; s < 3; s++) {
    for (let i = u16(b, 6 + 2 * s); i > 0; i--) {
      const r = readRecord(b, p);
      if (!r.ok) return r;
      sections[s]!.push(r.value.value);
      p = r.value.end;
    }
  }
  return ok(msg);
}

function u16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

const u32 = readIp; // an IPv4 address is read as a big-endian unsigned 32-bit number

/**
 * Reads a possibly compressed name at `off`; `end` is just past its bytes at `off`.
 * Every pointer must lead strictly before the stretch of labels that holds it, so the
 * walk always moves backwards and cannot loop; the 255-octet limit bounds it as well.
 */
function readName(b: Uint8Array, off: number): Result<Decoded<string>, DnsDecodeError> {
  const labels: string[] = [];
  let octets = 1; // the root label
  let p = off;
  let stretch = off; // where the labels being read began
  let end = -1; // set at the first pointer
  for (;;) {
    if (p >= b.length) return fail("dns-short");
    const len = b[p]!;
    if (len === 0) break;
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= b.length) return fail("dns-short");
      const target = ((len & 0x3f) << 8) | b[p + 1]!;
      if (target >= b.length) return fail("dns-bad-pointer");
      if (target >= stretch) return fail("dns-name-loop");
      if (end < 0) end = p + 2;
      p = stretch = target;
      continue;
    }
    if (len > DNS_MAX_LABEL) return fail("dns-bad-label"); // 0x40 and 0x80 label types are not in use
    if (p + 1 + len > b.length) return fail("dns-short");
    octets += len + 1;
    if (octets > DNS_MAX_NAME) return fail("dns-name-too-long");
    labels.push(latin1(b.subarray(p + 1, p + 1 + len)));
    p += len + 1;
  }
  return ok({ value: labels.join("."), end: end < 0 ? p + 1 : end });
}

function readQuestion(b: Uint8Array, off: number): Result<Decoded<DnsQuestion>, DnsDecodeError> {
  const n = readName(b, off);
  if (!n.ok) return n;
  const p = n.value.end;
  if (p + 4 > b.length) return fail("dns-short");
  return ok({ value: { name: n.value.value, type: typeOf(u16(b, p)), class: u16(b, p + 2) }, end: p + 4 });
}

function typeOf(code: number): DnsType {
  return TYPE_NAMES.get(code) ?? code;
}

function readRecord(b: Uint8Array, off: number): Result<Decoded<DnsRecord>, DnsDecodeError> {
  const n = readName(b, off);
  if (!n.ok) return n;
  const p = n.value.end;
  if (p + 10 > b.length) return fail("dns-short");
  const start = p + 10;
  const end = start + u16(b, p + 8);
  if (end > b.length) return fail("dns-short");
  const base = { name: n.value.value, class: u16(b, p + 2), ttl: u32(b, p + 4) };
  const r = readRdata(b, base, typeOf(u16(b, p)), start, end);
  return r ? ok({ value: r, end }) : fail("dns-bad-rdata");
}

/** The record whose rdata is [start, end), or undefined if the typed rdata does not fill that span exactly. */
function readRdata(b: Uint8Array, base: DnsRecordBase, type: DnsType, start: number, end: number): DnsRecord | undefined {
  const len = end - start;
  switch (type) {
    case "A":
      return len === 4 ? { ...base, type, address: readIp(b, start) } : undefined;
    case "AAAA":
      return len === 16 ? { ...base, type, address: b.slice(start, end) } : undefined;
    case "NS":
    case "CNAME":
    case "PTR": {
      const n = readName(b, start);
      return n.ok && n.value.end === end ? { ...base, type, target: n.value.value } : undefined;
    }
    case "MX": {
      const n = readName(b, start + 2);
      return len > 2 && n.ok && n.value.end === end ? { ...base, type, preference: u16(b, start), exchange: n.value.value } : undefined;
    }
    case "TXT": {
      const texts: Uint8Array[] = [];
      for (let p = start; p < end; p += 1 + b[p]!) {
        if (p + 1 + b[p]! > end) return undefined;
        texts.push(b.subarray(p + 1, p + 1 + b[p]!));
      }
      return { ...base, type, texts };
    }
    case "SOA": {
      const m = readName(b, start);
      const r = m.ok ? readName(b, m.value.end) : m;
      if (!m.ok || !r.ok || r.value.end + 20 !== end) return undefined;
      const p = r.value.end;
      return {
        ...base,
        type,
        mname: m.value.value,
        rname: r.value.value,
        serial: u32(b, p),
        refresh: u32(b, p + 4),
        retry: u32(b, p + 8),
        expire: u32(b, p + 12),
        minimum: u32(b, p + 16),
      };
    }
    default:
      return { ...base, type, rdata: b.subarray(start, end) };
  }
}

// ---- encoding ----

/**
 * Writes a message, or only measures it when there is no buffer, so that encodeDns and
 * dnsLength take the same compression decisions. Names are compressed against every
 * earlier name suffix that matches byte for byte (so case is kept as written).
 */
class Writer {
  p: number;
  private readonly suffixes = new Map<string, number>();

  constructor(
    private readonly b: Uint8Array | undefined,
    private readonly start: number,
  ) {
    this.p = start;
  }

  u8(v: number): void {
    if (this.b) this.b[this.p] = v;
    this.p++;
  }

  u16(v: number): void {
    this.u8((v >>> 8) & 0xff);
    this.u8(v & 0xff);
  }

  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }

  bytes(d: Uint8Array): void {
    if (this.b) this.b.set(d, this.p);
    this.p += d.length;
  }

  set16(at: number, v: number): void {
    if (this.b) {
      this.b[at] = v >>> 8;
      this.b[at + 1] = v & 0xff;
    }
  }

  name(name: string): void {
    const labels = name === "" ? [] : name.split(".");
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join(".");
      const at = this.suffixes.get(suffix);
      if (at !== undefined) return this.u16(0xc000 | at);
      const rel = this.p - this.start;
      if (rel < 0x4000) this.suffixes.set(suffix, rel); // pointers have 14 bits
      const label = labels[i]!;
      this.u8(label.length);
      for (let c = 0; c < label.length; c++) this.u8(label.charCodeAt(c));
    }
    this.u8(0);
  }

  record(r: DnsRecord): void {
    this.name(r.name);
    this.u16(typeof r.type === "number" ? r.type : TYPE_CODES[r.type]);
    this.u16(r.class);
    this.u32(r.ttl);
    const at = this.p;
    this.u16(0); // rdlength, filled in below
    this.rdata(r);
    this.set16(at, this.p - at - 2);
  }

  private rdata(r: DnsRecord): void {
    if ("rdata" in r) return this.bytes(r.rdata);
    switch (r.type) {
      case "A":
        if (this.b) writeIp(this.b, this.p, r.address);
        this.p += 4;
        return;
      case "AAAA":
        return this.bytes(r.address.subarray(0, 16));
      case "NS":
      case "CNAME":
      case "PTR":
        return this.name(r.target);
      case "MX":
        this.u16(r.preference);
        return this.name(r.exchange);
      case "TXT":
        for (const t of r.texts) {
          this.u8(t.length);
          this.bytes(t);
        }
        return;
      case "SOA":
        this.name(r.mname);
        this.name(r.rname);
        for (const v of [r.serial, r.refresh, r.retry, r.expire, r.minimum]) this.u32(v);
    }
  }

  message(m: DnsMessage): void {
    this.u16(m.id);
    const bit = (f: boolean, mask: number) => (f ? mask : 0);
    this.u16(
      bit(m.qr, 0x8000) |
        ((m.opcode & 0xf) << 11) |
        bit(m.aa, 0x0400) |
        bit(m.tc, 0x0200) |
        bit(m.rd, 0x0100) |
        bit(m.ra, 0x0080) |
        bit(m.ad, 0x0020) |
        bit(m.cd, 0x0010) |
        (m.rcode & 0xf),
    );
    for (const list of [m.questions, m.answers, m.authorities, m.additionals]) this.u16(list.length);
    for (const q of m.questions) {
      this.name(q.name);
      this.u16(typeof q.type === "number" ? q.type : TYPE_CODES[q.type]);
      this.u16(q.class);
    }
    for (const list of [m.answers, m.authorities, m.additionals]) for (const r of list) this.record(r);
  }
}

/** Encoded size of `m`, with the same name compression encodeDns applies. */
export function dnsLength(m: DnsMessage): number {
  const w = new Writer(undefined, 0);
  w.message(m);
  return w.p;
}

/**
 * Writes `m` at `off`; returns the number of bytes written (dnsLength(m)). Names must
 * satisfy dnsNameValid, TXT strings be at most 255 bytes and rdata at most 65535.
 */
export function encodeDns(m: DnsMessage, buf: Uint8Array, off = 0): number {
  const w = new Writer(buf, off);
  w.message(m);
  return w.p - off;
}
