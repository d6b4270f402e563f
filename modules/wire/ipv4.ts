// IPv4 header (RFC 791). Options are carried through as raw bytes: the stack does not
// act on any of them. The pseudo-header sum for UDP and TCP is checksum.ts's
// pseudoHeaderSum.

import { type Ip4, readIp } from "./address.ts";
import { checksum } from "./checksum.ts";
import { type Result, ok, fail } from "./result.ts";

/** Why a decoder refused the bytes; the reason a dropped frame is counted under. */
export type Ipv4DecodeError = "ip-short" | "ip-bad-version" | "ip-bad-header-length" | "ip-bad-length" | "ip-truncated" | "ip-bad-checksum";

export const IP_PROTO_ICMP = 1;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;
export const IPV4_MIN_HEADER_LEN = 20; // without options
export const IPV4_MAX_OPTIONS_LEN = 40;
// Field offsets, for code that reads or patches a header in place.
export const IPV4_TOTAL_LENGTH_OFFSET = 2;
export const IPV4_ID_OFFSET = 4;
export const IPV4_FLAGS_OFFSET = 6; // flags and fragment offset
export const IPV4_TTL_OFFSET = 8;
export const IPV4_PROTOCOL_OFFSET = 9;
export const IPV4_CHECKSUM_OFFSET = 10;
export const IPV4_SRC_OFFSET = 12;
export const IPV4_DST_OFFSET = 16;

export const IPV4_FLAG_DF = 0x4000; // in the flags field, as the stack sends it
const FLAG_MF = 0x2000;
/** In the flags field: MF and the fragment offset, all zero in a datagram that is no fragment. */
export const IPV4_FRAGMENT_BITS = FLAG_MF | 0x1fff;

export interface Ipv4Packet {
  dscp: number; // 6 bits
  ecn: number; // 2 bits
  id: number;
  df: boolean; // don't fragment
  mf: boolean; // more fragments follow
  /** Where this fragment's data sits in the original datagram, in bytes: a multiple of 8. */
  fragmentOffsetBytes: number;
  ttl: number;
  protocol: number;
  src: Ip4;
  dst: Ip4;
  /** Raw option bytes, at most 40; encode pads them with zeros (end of list) to 4 bytes. */
  options: Uint8Array;
  /** On decode, a view that ends at totalLength, so link-layer padding is left out. */
  payload: Uint8Array;
}

/** A decoded packet also reports the header values that encoding computes. */
export interface Ipv4Decoded extends Ipv4Packet {
  headerLength: number; // bytes
  totalLength: number; // bytes, header included
  checksum: number;
}

/**
 * Checks the header of `b` (version, lengths, checksum): its length, or why it is bad. The
 * receive path then reads the fields it needs in place (ipv4TotalLength, readIp...).
 */
export function ipv4HeaderCheck(b: Uint8Array): number | Ipv4DecodeError {
  if (b.length < IPV4_MIN_HEADER_LEN) return "ip-short";
  if (b[0]! >>> 4 !== 4) return "ip-bad-version";
  const headerLength = (b[0]! & 0xf) * 4;
  if (headerLength < IPV4_MIN_HEADER_LEN) return "ip-bad-header-length";
  const totalLength = ipv4TotalLength(b);
  if (totalLength < headerLength) return "ip-bad-length";
  if (totalLength > b.length) return "ip-truncated";
  if (checksum(b, 0, headerLength) !== 0) return "ip-bad-checksum";
  return headerLength;
}

export function ipv4TotalLength(b: Uint8Array): number {
  return (b[IPV4_TOTAL_LENGTH_OFFSET]! << 8) | b[IPV4_TOTAL_LENGTH_OFFSET + 1]!;
}

export function decodeIpv4(b: Uint8Array): Result<Ipv4Decoded, Ipv4DecodeError> {
  const headerLength = ipv4HeaderCheck(b);
  if (typeof headerLength === "string") return fail(headerLength);
  const totalLength = ipv4TotalLength(b);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const tos = v.getUint8(1);
  const frag = v.getUint16(IPV4_FLAGS_OFFSET);
  return ok({
    dscp: tos >>> 2,
    ecn: tos & 3,
    id: v.getUint16(IPV4_ID_OFFSET),
    df: (frag & IPV4_FLAG_DF) !== 0,
    mf: (frag & FLAG_MF) !== 0,
    fragmentOffsetBytes: (frag & 0x1fff) * 8,
    ttl: v.getUint8(IPV4_TTL_OFFSET),
    protocol: v.getUint8(IPV4_PROTOCOL_OFFSET),
    src: readIp(b, IPV4_SRC_OFFSET),
    dst: readIp(b, IPV4_DST_OFFSET),
    options: b.subarray(IPV4_MIN_HEADER_LEN, headerLength),
    payload: b.subarray(headerLength, totalLength),
    headerLength,
    totalLength,
    checksum: v.getUint16(IPV4_CHECKSUM_OFFSET),
  });
}

export function ipv4HeaderLength(p: Pick<Ipv4Packet, "options">): number {
  return IPV4_MIN_HEADER_LEN + ((p.options.length + 3) & ~3);
}

export function ipv4Length(p: Pick<Ipv4Packet, "options" | "payload">): number {
  return ipv4HeaderLength(p) + p.payload.length;
}

/**
 * Writes only the header, with its checksum, for a payload of `payloadLength` bytes that
 * the caller has already placed after it (no copy). Returns the header length.
 */
export function encodeIpv4Header(h: Omit<Ipv4Packet, "payload">, payloadLength: number, buf: Uint8Array, off = 0): number {
  const headerLength = ipv4HeaderLength(h);
  buf.set(h.options, off + IPV4_MIN_HEADER_LEN);
  buf.fill(0, off + IPV4_MIN_HEADER_LEN + h.options.length, off + headerLength);
  const flags = (h.df ? IPV4_FLAG_DF : 0) | (h.mf ? FLAG_MF : 0) | ((h.fragmentOffsetBytes >>> 3) & 0x1fff);
  const tos = ((h.dscp & 0x3f) << 2) | (h.ecn & 3);
  writeIpv4Header(buf, off, headerLength, headerLength + payloadLength, tos, h.id, flags, h.ttl, h.protocol, h.src, h.dst);
  return headerLength;
}

/**
 * encodeIpv4Header from the fields themselves, for the stack's own datagrams (no record per
 * packet): the fixed 20 bytes at `off`, then the checksum over `headerLength` bytes, so any
 * options must be in place already. `flags` is the 16-bit flags and fragment offset field.
 */
export function writeIpv4Header(
  buf: Uint8Array,
  off: number,
  headerLength: number,
  totalLength: number,
  tos: number,
  id: number,
  flags: number,
  ttl: number,
  protocol: number,
  src: Ip4,
  dst: Ip4,
): void {
  // Whole words through one DataView: on XS, a fraction of the cost of the bytes one by one.
  const v = new DataView(buf.buffer, buf.byteOffset + off, IPV4_MIN_HEADER_LEN);
  v.setUint32(0, ((0x40 | (headerLength >>> 2)) << 24) | ((tos & 0xff) << 16) | (totalLength & 0xffff));
  v.setUint32(IPV4_ID_OFFSET, ((id & 0xffff) << 16) | (flags & 0xffff));
  v.setUint32(IPV4_TTL_OFFSET, ((ttl & 0xff) << 24) | ((protocol & 0xff) << 16)); // checksum 0 while it is summed
  v.setUint32(IPV4_SRC_OFFSET, src);
  v.setUint32(IPV4_DST_OFFSET, dst);
  v.setUint16(IPV4_CHECKSUM_OFFSET, checksum(buf, off, off + headerLength));
}

/** Writes header and payload at `off`; returns the number of bytes written. */
export function encodeIpv4(p: Ipv4Packet, buf: Uint8Array, off = 0): number {
  const headerLength = encodeIpv4Header(p, p.payload.length, buf, off);
  buf.set(p.payload, off + headerLength);
  return headerLength + p.payload.length;
}
