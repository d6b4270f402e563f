// Protocol text (DNS labels, DHCP strings, TFTP names) as one character per byte, so
// that any bytes a peer sends come back exactly as sent.

export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Writes `s` at `off`, one byte per character (characters must be below 256); returns the end offset. */
export function writeLatin1(buf: Uint8Array, off: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[off++] = s.charCodeAt(i);
  return off;
}
