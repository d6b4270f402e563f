// IPv4 header (RFC 791). Options are carried through as raw bytes: the stack does not
// act on any of them. The pseudo-header sum for UDP and TCP is checksum.ts's
// pseudoHeaderSum.

import { type Ip4, readIp, writeIp } from "./address.ts";
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

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;

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

export function decodeIpv4(b: Uint8Array): Result<Ipv4Decoded, Ipv4DecodeError> {
  if (b.length < IPV4_MIN_HEADER_LEN) return fail("ip-short");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const versionIhl = v.getUint8(0);
  if (versionIhl >>> 4 !== 4) return fail("ip-bad-version");
  const headerLength = (versionIhl & 0xf) * 4;
  if (headerLength < IPV4_MIN_HEADER_LEN) return fail("ip-bad-header-length");
  const totalLength = v.getUint16(IPV4_TOTAL_LENGTH_OFFSET);
  if (totalLength < headerLength) return fail("ip-bad-length");
  if (totalLength > b.length) return fail("ip-truncated");
  if (checksum(b, 0, headerLength) !== 0) return fail("ip-bad-checksum");
  const tos = v.getUint8(1);
  const frag = v.getUint16(IPV4_FLAGS_OFFSET);
  return ok({
    dscp: tos >>> 2,
    ecn: tos & 3,
    id: v.getUint16(IPV4_ID_OFFSET),
    df: (frag & FLAG_DF) !== 0,
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
  const v = new DataView(buf.buffer, buf.byteOffset + off, headerLength);
  v.setUint8(0, 0x40 | (headerLength >>> 2));
  v.setUint8(1, ((h.dscp & 0x3f) << 2) | (h.ecn & 3));
  v.setUint16(IPV4_TOTAL_LENGTH_OFFSET, headerLength + payloadLength);
  v.setUint16(IPV4_ID_OFFSET, h.id);
  v.setUint16(IPV4_FLAGS_OFFSET, (h.df ? FLAG_DF : 0) | (h.mf ? FLAG_MF : 0) | ((h.fragmentOffsetBytes >>> 3) & 0x1fff));
  v.setUint8(IPV4_TTL_OFFSET, h.ttl);
  v.setUint8(IPV4_PROTOCOL_OFFSET, h.protocol);
  v.setUint16(IPV4_CHECKSUM_OFFSET, 0);
  writeIp(buf, off + IPV4_SRC_OFFSET, h.src);
  writeIp(buf, off + IPV4_DST_OFFSET, h.dst);
  buf.set(h.options, off + IPV4_MIN_HEADER_LEN);
  buf.fill(0, off + IPV4_MIN_HEADER_LEN + h.options.length, off + headerLength);
  v.setUint16(IPV4_CHECKSUM_OFFSET, checksum(buf, off, off + headerLength));
  return headerLength;
}

/** Writes header and payload at `off`; returns the number of bytes written. */
export function encodeIpv4(p: Ipv4Packet, buf: Uint8Array, off = 0): number {
  const headerLength = encodeIpv4Header(p, p.payload.length, buf, off);
  buf.set(p.payload, off + headerLength);
  return headerLength + p.payload.length;
}
