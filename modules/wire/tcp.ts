// TCP header (RFC 9293) over IPv4, with the options the stack negotiates: MSS, window
// scale and timestamps (RFC 7323), SACK (RFC 2018). Unknown options are skipped by
// their length; a length that does not fit is an error, never a read past the header.

import type { Ip4 } from "./address.ts";
import { checksum, finish, pseudoHeaderSum } from "./checksum.ts";
import { IP_PROTO_TCP } from "./ipv4.ts";
import { type Result, ok, fail } from "./result.ts";

/** Why a decoder refused the bytes; the reason a dropped frame is counted under. */
export type TcpDecodeError = "tcp-short" | "tcp-bad-header-length" | "tcp-bad-checksum" | "tcp-bad-option";

// Bits of TcpSegment.flags.
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

export const TCP_MIN_HEADER_LEN = 20;
export const TCP_MAX_OPTIONS_LEN = 40;
// Field offsets, for code that reads or patches a header in place.
export const TCP_SEQ_OFFSET = 4;
export const TCP_ACK_OFFSET = 8;
export const TCP_FLAGS_OFFSET = 13;
export const TCP_WINDOW_OFFSET = 14;
export const TCP_CHECKSUM_OFFSET = 16;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WINDOW_SCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMP = 8;

export interface SackBlock {
  left: number; // first sequence number of the block
  right: number; // sequence number just after it
}

/** Options present in a segment; an absent key means the option was not there. */
export interface TcpOptions {
  mss?: number;
  windowScale?: number; // the raw shift count; RFC 7323 says to treat more than 14 as 14
  sackPermitted?: true;
  /** Encode writes the first blocks that fit in 40 option bytes (at most 4). */
  sack?: SackBlock[];
  timestamp?: { tsval: number; tsecr: number };
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number; // unsigned 32-bit
  ack: number; // unsigned 32-bit; meaningful only with ACK set
  flags: number; // FIN | SYN | ...
  window: number; // as on the wire, before any scaling
  urgent: number;
  options: TcpOptions;
  /** On decode, a view into the decoded bytes. */
  payload: Uint8Array;
}

/** A decoded segment also reports the header values that encoding computes. */
export interface TcpDecoded extends TcpSegment {
  headerLength: number; // bytes: data offset times 4
  checksum: number;
}

/** `b` is the whole IP payload: its length is the TCP length in the pseudo-header. */
export function decodeTcp(b: Uint8Array, src: Ip4, dst: Ip4): Result<TcpDecoded, TcpDecodeError> {
  const s = tcpSegment(b, src, dst);
  return typeof s === "string" ? fail(s) : ok(s);
}

/** decodeTcp for the receive path: the segment, or why it is bad, with no Result around it. */
export function tcpSegment(b: Uint8Array, src: Ip4, dst: Ip4): TcpDecoded | TcpDecodeError {
  if (b.length < TCP_MIN_HEADER_LEN) return "tcp-short";
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const words = v.getUint32(12); // data offset, flags and window
  const headerLength = (words >>> 28) * 4;
  if (headerLength < TCP_MIN_HEADER_LEN) return "tcp-bad-header-length";
  if (headerLength > b.length) return "tcp-short";
  if (checksum(b, 0, b.length, pseudoHeaderSum(src, dst, IP_PROTO_TCP, b.length)) !== 0) return "tcp-bad-checksum";
  // Most segments carry no options: no parse, no Result for them, one shared empty set.
  let options = NO_OPTIONS;
  if (headerLength > TCP_MIN_HEADER_LEN) {
    const r = decodeOptions(v, TCP_MIN_HEADER_LEN, headerLength);
    if (!r.ok) return r.reason;
    options = r.value;
  }
  const ports = v.getUint32(0);
  const last = v.getUint32(TCP_CHECKSUM_OFFSET);
  return {
    srcPort: ports >>> 16,
    dstPort: ports & 0xffff,
    seq: v.getUint32(TCP_SEQ_OFFSET),
    ack: v.getUint32(TCP_ACK_OFFSET),
    flags: (words >>> 16) & 0xff,
    window: words & 0xffff,
    urgent: last & 0xffff,
    options,
    payload: b.subarray(headerLength),
    headerLength,
    checksum: last >>> 16,
  };
}

/** The options of a segment that has none, shared by every decoded one and the stack's own: never written to. */
export const NO_OPTIONS: TcpOptions = Object.freeze({});

function decodeOptions(v: DataView, start: number, end: number): Result<TcpOptions, TcpDecodeError> {
  const o: TcpOptions = {};
  let i = start;
  while (i < end) {
    const kind = v.getUint8(i);
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 2 > end) return fail("tcp-bad-option");
    const len = v.getUint8(i + 1);
    if (len < 2 || i + len > end) return fail("tcp-bad-option");
    switch (kind) {
      case OPT_MSS:
        if (len !== 4) return fail("tcp-bad-option");
        o.mss = v.getUint16(i + 2);
        break;
      case OPT_WINDOW_SCALE:
        if (len !== 3) return fail("tcp-bad-option");
        o.windowScale = v.getUint8(i + 2);
        break;
      case OPT_SACK_PERMITTED:
        if (len !== 2) return fail("tcp-bad-option");
        o.sackPermitted = true;
        break;
      case OPT_SACK:
        // 40 option bytes bound this to at most 4 blocks.
        if (len < 10 || (len - 2) % 8 !== 0) return fail("tcp-bad-option");
        o.sack = [];
        for (let p = i + 2; p < i + len; p += 8) o.sack.push({ left: v.getUint32(p), right: v.getUint32(p + 4) });
        break;
      case OPT_TIMESTAMP:
        if (len !== 10) return fail("tcp-bad-option");
        o.timestamp = { tsval: v.getUint32(i + 2), tsecr: v.getUint32(i + 6) };
        break;
    }
    i += len;
  }
  return ok(o);
}

// Encoded sizes, each option aligned to 4 bytes with leading NOPs.
const MSS_LEN = 4;
const SACK_PERMITTED_LEN = 4; // NOP NOP kind len
const TIMESTAMP_LEN = 12; // NOP NOP kind len tsval tsecr
const WINDOW_SCALE_LEN = 4; // NOP kind len shift
const SACK_BASE_LEN = 4; // NOP NOP kind len, then 8 bytes per block

function lengthWithoutSack(o: TcpOptions): number {
  return (
    (o.mss !== undefined ? MSS_LEN : 0) +
    (o.sackPermitted ? SACK_PERMITTED_LEN : 0) +
    (o.timestamp ? TIMESTAMP_LEN : 0) +
    (o.windowScale !== undefined ? WINDOW_SCALE_LEN : 0)
  );
}

/** How many of o.sack's blocks fit; RFC 2018 lets a sender report fewer than it has. */
function sackBlocksToSend(o: TcpOptions): number {
  if (!o.sack) return 0;
  const room = Math.floor((TCP_MAX_OPTIONS_LEN - lengthWithoutSack(o) - SACK_BASE_LEN) / 8);
  return Math.max(0, Math.min(o.sack.length, 4, room));
}

export function tcpOptionsLength(o: TcpOptions): number {
  const base = lengthWithoutSack(o);
  if (!o.sack) return base;
  const blocks = sackBlocksToSend(o);
  return base + (blocks ? SACK_BASE_LEN + 8 * blocks : 0);
}

export function tcpHeaderLength(s: Pick<TcpSegment, "options">): number {
  return s.options === NO_OPTIONS ? TCP_MIN_HEADER_LEN : TCP_MIN_HEADER_LEN + tcpOptionsLength(s.options);
}

export function tcpLength(s: Pick<TcpSegment, "options" | "payload">): number {
  return tcpHeaderLength(s) + s.payload.length;
}

/**
 * Writes header, options and payload at `off` with the checksum; returns the bytes written.
 * `offload`: the link finishes the checksum, so the field gets only the pseudo-header's sum
 * (what Linux calls CHECKSUM_PARTIAL), and the payload is never summed here.
 */
export function encodeTcp(s: TcpSegment, src: Ip4, dst: Ip4, buf: Uint8Array, off = 0, offload = false): number {
  const headerLength = tcpHeaderLength(s);
  buf.set(s.payload, off + headerLength);
  return encodeTcpHeader(s, headerLength, s.payload.length, src, dst, buf, off, offload);
}

/**
 * encodeTcp for a payload of `payloadLength` bytes that the caller has already placed after
 * the header's `headerLength` bytes (tcpHeaderLength): no copy. Returns the segment's length.
 */
export function encodeTcpHeader(
  s: TcpSegment,
  headerLength: number,
  payloadLength: number,
  src: Ip4,
  dst: Ip4,
  buf: Uint8Array,
  off = 0,
  offload = false,
): number {
  const length = headerLength + payloadLength;
  // Whole words: on XS, each DataView call costs about what a field written byte by byte does.
  const v = new DataView(buf.buffer, buf.byteOffset + off, headerLength);
  v.setUint32(0, ((s.srcPort & 0xffff) << 16) | (s.dstPort & 0xffff));
  v.setUint32(TCP_SEQ_OFFSET, s.seq);
  v.setUint32(TCP_ACK_OFFSET, s.ack);
  v.setUint32(12, ((headerLength << 26) | ((s.flags & 0xff) << 16) | (s.window & 0xffff)) >>> 0);
  v.setUint32(TCP_CHECKSUM_OFFSET, s.urgent & 0xffff); // the checksum is 0 while it is summed
  if (headerLength > TCP_MIN_HEADER_LEN) writeOptions(s.options, v, TCP_MIN_HEADER_LEN);
  const pseudo = pseudoHeaderSum(src, dst, IP_PROTO_TCP, length);
  v.setUint16(TCP_CHECKSUM_OFFSET, offload ? ~finish(pseudo) & 0xffff : checksum(buf, off, off + length, pseudo));
  return length;
}

/** Writes `nops` NOPs, then an option's kind and length, at `p`; returns where its value goes. */
function head(v: DataView, p: number, nops: number, kind: number, len: number): number {
  for (let k = 0; k < nops; k++) v.setUint8(p++, OPT_NOP);
  v.setUint8(p, kind);
  v.setUint8(p + 1, len);
  return p + 2;
}

function writeOptions(o: TcpOptions, v: DataView, p: number): void {
  if (o.mss !== undefined) {
    p = head(v, p, 0, OPT_MSS, 4);
    v.setUint16(p, o.mss);
    p += 2;
  }
  if (o.sackPermitted) p = head(v, p, 2, OPT_SACK_PERMITTED, 2);
  if (o.timestamp) {
    p = head(v, p, 2, OPT_TIMESTAMP, 10);
    v.setUint32(p, o.timestamp.tsval);
    v.setUint32(p + 4, o.timestamp.tsecr);
    p += 8;
  }
  if (o.windowScale !== undefined) {
    p = head(v, p, 1, OPT_WINDOW_SCALE, 3);
    v.setUint8(p++, o.windowScale);
  }
  const blocks = sackBlocksToSend(o);
  if (o.sack && blocks) {
    p = head(v, p, 2, OPT_SACK, 2 + 8 * blocks);
    for (let k = 0; k < blocks; k++) {
      v.setUint32(p, o.sack[k]!.left);
      v.setUint32(p + 4, o.sack[k]!.right);
      p += 8;
    }
  }
}
