// ARP (RFC 826) for Ethernet hardware and IPv4 protocol addresses only; any other
// combination is rejected, since the stack cannot use it.

import { type Ip4, type Mac, readMac } from "./address.ts";
import { ETHERTYPE_IPV4 } from "./ethernet.ts";
import { type Result, ok, fail } from "./result.ts";

/** Why a decoder refused the bytes; the reason a dropped frame is counted under. */
export type ArpDecodeError = "arp-short" | "arp-bad-hardware" | "arp-bad-protocol";

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
/** Size of an Ethernet/IPv4 ARP packet, without link-layer padding. */
export const ARP_LEN = 28;

const HTYPE_ETHERNET = 1;

export interface ArpPacket {
  op: number;
  senderMac: Mac;
  senderIp: Ip4;
  targetMac: Mac;
  targetIp: Ip4;
}

/** Decodes the first 28 bytes; anything after them (Ethernet padding) is ignored. */
export function decodeArp(b: Uint8Array): Result<ArpPacket, ArpDecodeError> {
  const v = arpView(b);
  return typeof v === "string" ? fail(v) : ok(readArp(b, v));
}

// Field offsets, for code that reads a packet in place.
export const ARP_OP_OFFSET = 6;
export const ARP_SENDER_MAC_OFFSET = 8;
export const ARP_SENDER_IP_OFFSET = 14;
export const ARP_TARGET_MAC_OFFSET = 18;
export const ARP_TARGET_IP_OFFSET = 24;

/**
 * A view of packet `b`'s 28 bytes, to read it in place through, or why it is no
 * Ethernet/IPv4 ARP. One DataView: on XS, its words cost a fraction of the bytes one by one.
 */
export function arpView(b: Uint8Array): DataView | ArpDecodeError {
  if (b.length < ARP_LEN) return "arp-short";
  const v = new DataView(b.buffer, b.byteOffset, ARP_LEN);
  // Hardware and protocol type, then their address lengths: Ethernet's 6 bytes and IPv4's 4.
  if (v.getUint32(0) === ((HTYPE_ETHERNET << 16) | ETHERTYPE_IPV4) && v.getUint16(4) === 0x0604) return v;
  return v.getUint16(0) !== HTYPE_ETHERNET || b[4] !== 6 ? "arp-bad-hardware" : "arp-bad-protocol";
}

/** decodeArp of a packet through its arpView `v`; the MACs are copies. */
export function readArp(b: Uint8Array, v: DataView): ArpPacket {
  return {
    op: v.getUint16(ARP_OP_OFFSET),
    senderMac: readMac(b, ARP_SENDER_MAC_OFFSET),
    senderIp: v.getUint32(ARP_SENDER_IP_OFFSET),
    targetMac: readMac(b, ARP_TARGET_MAC_OFFSET),
    targetIp: v.getUint32(ARP_TARGET_IP_OFFSET),
  };
}

export function arpLength(): number {
  return ARP_LEN;
}

/** Writes the 28-byte packet at `off` (no padding); returns the number of bytes written. */
export function encodeArp(p: ArpPacket, buf: Uint8Array, off = 0): number {
  return writeArp(buf, off, p.op, p.senderMac, p.senderIp, p.targetMac, p.targetIp);
}

/** encodeArp from the fields themselves, for the stack's replies: no record per packet. */
export function writeArp(buf: Uint8Array, off: number, op: number, senderMac: Mac, senderIp: Ip4, targetMac: Mac, targetIp: Ip4): number {
  const v = new DataView(buf.buffer, buf.byteOffset + off, ARP_LEN);
  v.setUint32(0, (HTYPE_ETHERNET << 16) | ETHERTYPE_IPV4);
  v.setUint32(4, (6 << 24) | (4 << 16) | op);
  buf.set(senderMac.length === 6 ? senderMac : senderMac.subarray(0, 6), off + 8);
  v.setUint32(14, senderIp);
  buf.set(targetMac.length === 6 ? targetMac : targetMac.subarray(0, 6), off + 18);
  v.setUint32(24, targetIp);
  return ARP_LEN;
}
