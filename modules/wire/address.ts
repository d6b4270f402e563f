// Addresses as the stack handles them: IPv4 as an unsigned 32-bit number (cheap to
// compare and mask on XS), MAC as a 6-byte Uint8Array copy.

export type Ip4 = number;
export type Mac = Uint8Array;

export const BROADCAST_MAC: Mac = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ZERO_MAC: Mac = new Uint8Array(6);
export const IP_ANY: Ip4 = 0;
export const IP_BROADCAST: Ip4 = 0xffffffff;

/** 224.0.0.0/4 (RFC 5771). */
export function isMulticastIp(ip: Ip4): boolean {
  return ip >>> 28 === 0xe;
}

/** 127.0.0.0/8, which must never appear on a wire (RFC 1122 3.2.1.3). */
export function isLoopbackIp(ip: Ip4): boolean {
  return ip >>> 24 === 127;
}

export function readIp(b: Uint8Array, off: number): Ip4 {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export function writeIp(b: Uint8Array, off: number, ip: Ip4): void {
  b[off] = ip >>> 24;
  b[off + 1] = (ip >>> 16) & 0xff;
  b[off + 2] = (ip >>> 8) & 0xff;
  b[off + 3] = ip & 0xff;
}

export function ipToString(ip: Ip4): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** Parses dotted-quad text; returns undefined for anything else. */
export function parseIp(text: string): Ip4 | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let ip = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    ip = ip * 256 + n;
  }
  return ip;
}

export function readMac(b: Uint8Array, off: number): Mac {
  return b.slice(off, off + 6);
}

export function macToString(mac: Mac): string {
  let s = "";
  for (let i = 0; i < 6; i++) s += (i ? ":" : "") + (mac[i]! < 16 ? "0" : "") + mac[i]!.toString(16);
  return s;
}

export function parseMac(text: string): Mac | undefined {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return undefined;
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

export function macEqual(a: Mac, b: Mac): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when the 6 bytes of `b` at `off` are `mac`; compared from the last byte, where MACs usually differ. */
export function macAt(b: Uint8Array, off: number, mac: Mac): boolean {
  return b[off + 5] === mac[5] && b[off + 4] === mac[4] && b[off + 3] === mac[3] && b[off + 2] === mac[2] && b[off + 1] === mac[1] && b[off] === mac[0];
}

export function isMulticastMac(mac: Mac): boolean {
  return (mac[0]! & 1) === 1;
}
