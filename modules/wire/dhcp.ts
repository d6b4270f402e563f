// DHCP messages (RFC 2131) in their BOOTP frame, with the common options of RFC 2132
// typed and every other option carried through as raw bytes.
//
// Decoding follows option overload (option 52) into the file and sname fields, and
// joins repeated instances of one option into one value (RFC 3396), so an option longer
// than 255 bytes may arrive split. Encoding never overloads: it splits long options,
// ends with the end option and pads to the 300-byte BOOTP minimum as clients do.
// Strings are one character per byte (code 0-255). Every 32-bit field, xid included,
// goes through readIp/writeIp, which read and write any big-endian u32.

import { type Ip4, type Mac, readIp, writeIp } from "./address.ts";
import { type Result, ok, fail } from "./result.ts";
import { latin1 as text, writeLatin1 } from "./text.ts";
import { concat } from "./bytes.ts";

/** Why a decoder refused the bytes; the reason a dropped frame is counted under. */
export type DhcpDecodeError = "dhcp-short" | "dhcp-bad-cookie" | "dhcp-bad-hlen" | "dhcp-bad-option-length" | "dhcp-bad-overload";

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const BOOTP_REQUEST = 1;
export const BOOTP_REPLY = 2;
export const HTYPE_ETHERNET = 1;
/** The smallest message BOOTP relays and servers must accept. */
export const DHCP_MIN_LEN = 300;

// Message types (option 53).
export const DHCP_DISCOVER = 1;
export const DHCP_OFFER = 2;
export const DHCP_REQUEST = 3;
export const DHCP_DECLINE = 4;
export const DHCP_ACK = 5;
export const DHCP_NAK = 6;
export const DHCP_RELEASE = 7;
export const DHCP_INFORM = 8;

const SNAME_AT = 44;
const FILE_AT = 108;
const COOKIE_AT = 236;
const OPTIONS_AT = 240;
const COOKIE = 0x63825363;
const PAD = 0;
const END = 255;
const OVERLOAD = 52;

export interface DhcpOption {
  code: number;
  data: Uint8Array;
}

export interface DhcpOptions {
  messageType?: number; // 53
  subnetMask?: Ip4; // 1
  routers?: Ip4[]; // 3, not empty
  dnsServers?: Ip4[]; // 6, not empty
  hostName?: string; // 12
  domainName?: string; // 15
  broadcastAddress?: Ip4; // 28
  requestedIp?: Ip4; // 50
  leaseTime?: number; // 51, seconds
  serverId?: Ip4; // 54
  parameterRequestList?: number[]; // 55, option codes
  message?: string; // 56
  maxMessageSize?: number; // 57
  renewalTime?: number; // 58, T1 seconds
  rebindingTime?: number; // 59, T2 seconds
  vendorClass?: string; // 60
  clientId?: Uint8Array; // 61, type byte then identifier
  /** Every other option, in order; decoding sets it only when there is one. Codes 0, 52 and 255 are not allowed here. */
  other?: DhcpOption[];
}

export interface DhcpMessage {
  op: number; // BOOTP_REQUEST or BOOTP_REPLY
  htype: number;
  hops: number;
  xid: number;
  secs: number;
  broadcast: boolean; // the only defined bit of the flags field
  ciaddr: Ip4;
  yiaddr: Ip4;
  siaddr: Ip4;
  giaddr: Ip4;
  /** The client hardware address, hlen bytes (at most 16): the MAC on Ethernet. A copy. */
  chaddr: Uint8Array;
  /** Server host name and boot file name; "" when the field carries options instead. */
  sname: string;
  file: string;
  options: DhcpOptions;
}

type Kind = "u8" | "u16" | "u32" | "ip" | "ips" | "text" | "bytes" | "codes";
type TypedKey = Exclude<keyof DhcpOptions, "other">;

// The typed options, in the order they are encoded: what a client sends first, then what a server adds.
const TYPED: readonly (readonly [number, TypedKey, Kind])[] = [
  [53, "messageType", "u8"],
  [61, "clientId", "bytes"],
  [50, "requestedIp", "ip"],
  [54, "serverId", "ip"],
  [57, "maxMessageSize", "u16"],
  [55, "parameterRequestList", "codes"],
  [60, "vendorClass", "text"],
  [12, "hostName", "text"],
  [51, "leaseTime", "u32"],
  [58, "renewalTime", "u32"],
  [59, "rebindingTime", "u32"],
  [1, "subnetMask", "ip"],
  [28, "broadcastAddress", "ip"],
  [3, "routers", "ips"],
  [6, "dnsServers", "ips"],
  [15, "domainName", "text"],
  [56, "message", "text"],
];

/** A client's message with everything but the options zero, as DISCOVER and REQUEST start out. */
export function bootRequest(xid: number, mac: Mac, options: DhcpOptions): DhcpMessage {
  return {
    op: BOOTP_REQUEST,
    htype: HTYPE_ETHERNET,
    hops: 0,
    xid,
    secs: 0,
    broadcast: false,
    ciaddr: 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: 0,
    chaddr: mac.slice(0, 6),
    sname: "",
    file: "",
    options,
  };
}

// ---- decoding ----

export function decodeDhcp(b: Uint8Array): Result<DhcpMessage, DhcpDecodeError> {
  if (b.length < OPTIONS_AT) return fail("dhcp-short");
  if (readIp(b, COOKIE_AT) !== COOKIE) return fail("dhcp-bad-cookie");
  const hlen = b[2]!;
  if (hlen > 16) return fail("dhcp-bad-hlen");
  const found = new Map<number, Uint8Array>();
  if (!scan(b, OPTIONS_AT, b.length, found)) return fail("dhcp-bad-option-length");
  // Option 52 is only honoured in the options field; the file field is read before sname.
  const overload = found.get(OVERLOAD);
  if (overload && (overload.length !== 1 || overload[0]! < 1 || overload[0]! > 3)) return fail("dhcp-bad-overload");
  const ov = overload ? overload[0]! : 0;
  if (ov & 1 && !scan(b, FILE_AT, COOKIE_AT, found)) return fail("dhcp-bad-option-length");
  if (ov & 2 && !scan(b, SNAME_AT, FILE_AT, found)) return fail("dhcp-bad-option-length");
  found.delete(OVERLOAD);
  const options = typedOptions(found);
  if (!options) return fail("dhcp-bad-option-length");
  return ok({
    op: b[0]!,
    htype: b[1]!,
    hops: b[3]!,
    xid: readIp(b, 4),
    secs: (b[8]! << 8) | b[9]!,
    broadcast: (b[10]! & 0x80) !== 0,
    ciaddr: readIp(b, 12),
    yiaddr: readIp(b, 16),
    siaddr: readIp(b, 20),
    giaddr: readIp(b, 24),
    chaddr: b.slice(28, 28 + hlen),
    sname: ov & 2 ? "" : cString(b.subarray(SNAME_AT, FILE_AT)),
    file: ov & 1 ? "" : cString(b.subarray(FILE_AT, COOKIE_AT)),
    options,
  });
}

/**
 * Collects the options in [start, end) into `found`, joining repeats. Stops at the end
 * option or at `end` (a missing end option is tolerated). False if a length overruns.
 */
function scan(b: Uint8Array, start: number, end: number, found: Map<number, Uint8Array>): boolean {
  let p = start;
  while (p < end) {
    const code = b[p]!;
    if (code === END) return true;
    if (code === PAD) {
      p++;
      continue;
    }
    if (p + 2 > end || p + 2 + b[p + 1]! > end) return false;
    const data = b.subarray(p + 2, p + 2 + b[p + 1]!);
    const earlier = found.get(code);
    found.set(code, earlier ? concat([earlier, data]) : data);
    p += 2 + data.length;
  }
  return true;
}

/** Text up to the first NUL of a fixed-size field. */
function cString(field: Uint8Array): string {
  const nul = field.indexOf(0);
  return text(nul < 0 ? field : field.subarray(0, nul));
}

/** The typed view of the collected options, or undefined if a typed one has the wrong length. */
function typedOptions(found: Map<number, Uint8Array>): DhcpOptions | undefined {
  const options: Record<string, unknown> = {};
  const other: DhcpOption[] = [];
  for (const [code, data] of found) {
    const spec = TYPED.find((s) => s[0] === code);
    if (!spec) {
      other.push({ code, data });
      continue;
    }
    const value = decodeValue(spec[2], data);
    if (value === undefined) return undefined;
    options[spec[1]] = value;
  }
  if (other.length) options.other = other;
  return options as DhcpOptions;
}

function decodeValue(kind: Kind, d: Uint8Array): unknown {
  switch (kind) {
    case "u8":
      return d.length === 1 ? d[0] : undefined;
    case "u16":
      return d.length === 2 ? (d[0]! << 8) | d[1]! : undefined;
    case "u32":
    case "ip":
      return d.length === 4 ? readIp(d, 0) : undefined;
    case "ips": {
      if (d.length === 0 || d.length % 4) return undefined;
      const ips: Ip4[] = [];
      for (let i = 0; i < d.length; i += 4) ips.push(readIp(d, i));
      return ips;
    }
    case "text":
      return text(d);
    case "bytes":
      return d;
    case "codes":
      return Array.from(d);
  }
}

// ---- encoding ----

function encodeValue(kind: Kind, v: unknown): Uint8Array {
  switch (kind) {
    case "u8":
      return Uint8Array.of(v as number);
    case "u16":
      return Uint8Array.of((v as number) >>> 8, (v as number) & 0xff);
    case "u32":
    case "ip":
    case "ips": {
      const ips = kind === "ips" ? (v as Ip4[]) : [v as number];
      const d = new Uint8Array(4 * ips.length);
      for (const [i, ip] of ips.entries()) writeIp(d, 4 * i, ip);
      return d;
    }
    case "text":
      return bytesOf(v as string);
    case "bytes":
      return v as Uint8Array;
    case "codes":
      return Uint8Array.from(v as number[]);
  }
}

function bytesOf(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  writeLatin1(b, 0, s);
  return b;
}

/** The options in the order they go out, typed ones first. */
function optionList(o: DhcpOptions): DhcpOption[] {
  const list: DhcpOption[] = [];
  for (const [code, key, kind] of TYPED) if (o[key] !== undefined) list.push({ code, data: encodeValue(kind, o[key]) });
  return o.other ? list.concat(o.other) : list;
}

/** Wire size of one option: data over 255 bytes goes out as several instances (RFC 3396). */
function optionSize(o: DhcpOption): number {
  return o.data.length + 2 * Math.max(1, Math.ceil(o.data.length / 255));
}

function lengthOf(options: DhcpOption[]): number {
  let n = OPTIONS_AT + 1; // and the end option
  for (const o of options) n += optionSize(o);
  return Math.max(n, DHCP_MIN_LEN);
}

export function dhcpLength(m: DhcpMessage): number {
  return lengthOf(optionList(m.options));
}

/** Writes `m` at `off`, zero-padded to at least 300 bytes; returns the number of bytes written. */
export function encodeDhcp(m: DhcpMessage, buf: Uint8Array, off = 0): number {
  const options = optionList(m.options);
  const len = lengthOf(options);
  buf.fill(0, off, off + len);
  const hlen = Math.min(m.chaddr.length, 16);
  buf.set([m.op, m.htype, hlen, m.hops], off);
  writeIp(buf, off + 4, m.xid);
  buf[off + 8] = m.secs >>> 8;
  buf[off + 9] = m.secs & 0xff;
  if (m.broadcast) buf[off + 10] = 0x80;
  for (const [i, ip] of [m.ciaddr, m.yiaddr, m.siaddr, m.giaddr].entries()) writeIp(buf, off + 12 + 4 * i, ip);
  buf.set(m.chaddr.subarray(0, hlen), off + 28);
  buf.set(bytesOf(m.sname).subarray(0, FILE_AT - SNAME_AT), off + SNAME_AT);
  buf.set(bytesOf(m.file).subarray(0, COOKIE_AT - FILE_AT), off + FILE_AT);
  writeIp(buf, off + COOKIE_AT, COOKIE);
  let p = off + OPTIONS_AT;
  for (const o of options) {
    let i = 0;
    do {
      const chunk = o.data.subarray(i, i + 255);
      buf[p] = o.code;
      buf[p + 1] = chunk.length;
      buf.set(chunk, p + 2);
      p += 2 + chunk.length;
      i += 255;
    } while (i < o.data.length);
  }
  buf[p] = END;
  return len;
}
