// Ethernet II framing, with an optional 802.1Q VLAN tag recognised and skipped on decode.

import { type Mac, readMac } from "./address.ts";
import { type Result, ok, fail } from "./result.ts";

/** Why a decoder refused the bytes; the reason a dropped frame is counted under. */
export type EthernetDecodeError = "eth-short" | "eth-not-ethernet-ii";

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETH_HEADER_LEN = 14;
// Field offsets, for code that writes a header in place (netif.send).
export const ETH_DST_OFFSET = 0;
export const ETH_SRC_OFFSET = 6;
export const ETH_TYPE_OFFSET = 12;

export interface Vlan {
  pcp: number; // priority code point, 3 bits
  dei: number; // drop eligible, 1 bit
  id: number; // 12 bits
}

export interface EthernetFrame {
  dst: Mac;
  src: Mac;
  ethertype: number;
  vlan?: Vlan;
  /** View into the decoded bytes (no copy); may include link-layer padding. */
  payload: Uint8Array;
}

/**
 * Where the payload of frame `b` starts (after a VLAN tag, if any), or why `b` is no
 * Ethernet II frame. Its ethertype is the two bytes just before. The receive path reads
 * the header in place with it, and builds no record.
 */
export function ethernetPayloadOffset(b: Uint8Array): number | "eth-short" | "eth-not-ethernet-ii" {
  if (b.length < ETH_HEADER_LEN) return "eth-short";
  let off = ETH_HEADER_LEN;
  if (((b[ETH_TYPE_OFFSET]! << 8) | b[ETH_TYPE_OFFSET + 1]!) === ETHERTYPE_VLAN) {
    if (b.length < ETH_HEADER_LEN + 4) return "eth-short";
    off += 4;
  }
  if (((b[off - 2]! << 8) | b[off - 1]!) < 0x0600) return "eth-not-ethernet-ii"; // an 802.3 length field, not a type
  return off;
}

export function decodeEthernet(b: Uint8Array): Result<EthernetFrame> {
  const off = ethernetPayloadOffset(b);
  if (typeof off === "string") return fail(off);
  const frame: EthernetFrame = {
    dst: readMac(b, ETH_DST_OFFSET),
    src: readMac(b, ETH_SRC_OFFSET),
    ethertype: (b[off - 2]! << 8) | b[off - 1]!,
    payload: b.subarray(off),
  };
  if (off > ETH_HEADER_LEN) {
    const tci = (b[14]! << 8) | b[15]!;
    frame.vlan = { pcp: tci >>> 13, dei: (tci >>> 12) & 1, id: tci & 0xfff };
  }
  return ok(frame);
}

export function ethernetHeaderLength(f: Pick<EthernetFrame, "vlan">): number {
  return f.vlan ? ETH_HEADER_LEN + 4 : ETH_HEADER_LEN;
}

export function ethernetLength(f: EthernetFrame): number {
  return ethernetHeaderLength(f) + f.payload.length;
}

/** Writes header and payload at `off`; returns the number of bytes written. */
export function encodeEthernet(f: EthernetFrame, buf: Uint8Array, off = 0): number {
  buf.set(f.dst.subarray(0, 6), off + ETH_DST_OFFSET);
  buf.set(f.src.subarray(0, 6), off + ETH_SRC_OFFSET);
  let p = off + ETH_TYPE_OFFSET;
  if (f.vlan) {
    const tci = ((f.vlan.pcp & 7) << 13) | ((f.vlan.dei & 1) << 12) | (f.vlan.id & 0xfff);
    buf[p] = ETHERTYPE_VLAN >>> 8;
    buf[p + 1] = ETHERTYPE_VLAN & 0xff;
    buf[p + 2] = tci >>> 8;
    buf[p + 3] = tci & 0xff;
    p += 4;
  }
  buf[p] = f.ethertype >>> 8;
  buf[p + 1] = f.ethertype & 0xff;
  p += 2;
  buf.set(f.payload, p);
  return p + f.payload.length - off;
}
