// ARP (RFC 826) for Ethernet hardware and IPv4 protocol addresses only; any other
// combination is rejected, since the stack cannot use it.

import { type Ip4, type Mac, readIp, readMac, writeIp } from "./address.ts";
import { ETHERTYPE_IPV4 } from "./ethernet.ts";
import { type Result, ok, fail } from "./result.ts";

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
export function decodeArp(b: Uint8Array): Result<ArpPacket> {
  if (b.length < ARP_LEN) return fail("arp-short");
  if (((b[0]! << 8) | b[1]!) !== HTYPE_ETHERNET || b[4] !== 6) return fail("arp-bad-hardware");
  if (((b[2]! << 8) | b[3]!) !== ETHERTYPE_IPV4 || b[5] !== 4) return fail("arp-bad-protocol");
  return ok({
    op: (b[6]! << 8) | b[7]!,
    senderMac: readMac(b, 8),
    senderIp: readIp(b, 14),
    targetMac: readMac(b, 18),
    targetIp: readIp(b, 24),
  });
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
  buf[off] = 0;
  buf[off + 1] = HTYPE_ETHERNET;
  buf[off + 2] = ETHERTYPE_IPV4 >>> 8;
  buf[off + 3] = ETHERTYPE_IPV4 & 0xff;
  buf[off + 4] = 6;
  buf[off + 5] = 4;
  buf[off + 6] = op >>> 8;
  buf[off + 7] = op & 0xff;
  buf.set(senderMac.subarray(0, 6), off + 8);
  writeIp(buf, off + 14, senderIp);
  buf.set(targetMac.subarray(0, 6), off + 18);
  writeIp(buf, off + 24, targetIp);
  return ARP_LEN;
}
