// UDP (RFC 768) over IPv4. The checksum covers the IPv4 pseudo-header, so decode and
// encode take the source and destination addresses.

import type { Ip4 } from "./address.ts";
import { checksum, pseudoHeaderSum } from "./checksum.ts";
import { IP_PROTO_UDP } from "./ipv4.ts";
import { type Result, ok, fail } from "./result.ts";

/** Why a decoder refused the bytes; the reason a dropped frame is counted under. */
export type UdpDecodeError = "udp-short" | "udp-truncated" | "udp-bad-length" | "udp-bad-checksum";

export const UDP_HEADER_LEN = 8;
// Field offsets, for code that reads or patches a header in place.
export const UDP_LENGTH_OFFSET = 4;
export const UDP_CHECKSUM_OFFSET = 6;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  /** On decode, a view into the decoded bytes. At most 65527 bytes. */
  payload: Uint8Array;
}

/** A decoded datagram also reports the length and checksum fields it carried. */
export interface UdpDecoded extends UdpDatagram {
  length: number; // header included
  checksum: number; // 0 when the sender did not compute one
}

/** `b` is the whole IP payload; its length must match the UDP length field. */
export function decodeUdp(b: Uint8Array, src: Ip4, dst: Ip4): Result<UdpDecoded, UdpDecodeError> {
  if (b.length < UDP_HEADER_LEN) return fail("udp-short");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const length = v.getUint16(UDP_LENGTH_OFFSET);
  if (length > b.length) return fail("udp-truncated");
  if (length < UDP_HEADER_LEN || length < b.length) return fail("udp-bad-length");
  const sum = v.getUint16(UDP_CHECKSUM_OFFSET);
  // Zero means the sender skipped the checksum, which RFC 768 allows over IPv4.
  if (sum !== 0 && checksum(b, 0, length, pseudoHeaderSum(src, dst, IP_PROTO_UDP, length)) !== 0) {
    return fail("udp-bad-checksum");
  }
  return ok({ srcPort: v.getUint16(0), dstPort: v.getUint16(2), payload: b.subarray(UDP_HEADER_LEN, length), length, checksum: sum });
}

export function udpLength(d: Pick<UdpDatagram, "payload">): number {
  return UDP_HEADER_LEN + d.payload.length;
}

/** Writes header and payload at `off` with the checksum; returns the number of bytes written. */
export function encodeUdp(d: UdpDatagram, src: Ip4, dst: Ip4, buf: Uint8Array, off = 0): number {
  const length = udpLength(d);
  buf.set(d.payload, off + UDP_HEADER_LEN);
  const v = new DataView(buf.buffer, buf.byteOffset + off, UDP_HEADER_LEN);
  v.setUint16(0, d.srcPort);
  v.setUint16(2, d.dstPort);
  v.setUint16(UDP_LENGTH_OFFSET, length);
  v.setUint16(UDP_CHECKSUM_OFFSET, 0);
  // A computed zero goes out as 0xffff (the same value in one's complement): 0 means "none".
  v.setUint16(UDP_CHECKSUM_OFFSET, checksum(buf, off, off + length, pseudoHeaderSum(src, dst, IP_PROTO_UDP, length)) || 0xffff);
  return length;
}
