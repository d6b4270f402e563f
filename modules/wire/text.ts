// Protocol text: one character per byte (DNS labels, DHCP strings, TFTP names), so that
// any bytes a peer sends come back exactly as sent; and UTF-8 (FTP paths, HTTP bodies),
// since ES2022 on XS has no TextEncoder.

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

/** UTF-8 bytes of a string (ES2022 has no TextEncoder); a lone surrogate becomes U+FFFD, as TextEncoder has it. */
export function utf8Encode(s: string): Uint8Array {
  const b = new Uint8Array(s.length * 3);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    const d = s.charCodeAt(i + 1);
    if (c >= 0xd800 && c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
      c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      i++;
    } else if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
    if (c < 0x80) b[n++] = c;
    else if (c < 0x800) b[n++] = 0xc0 | (c >> 6);
    else if (c < 0x10000) b[n++] = 0xe0 | (c >> 12);
    else {
      b[n++] = 0xf0 | (c >> 18);
      b[n++] = 0x80 | ((c >> 12) & 63);
    }
    if (c >= 0x800) b[n++] = 0x80 | ((c >> 6) & 63);
    if (c >= 0x80) b[n++] = 0x80 | (c & 63);
  }
  return b.subarray(0, n);
}

/** The string UTF-8 bytes encode; undefined when they are not valid UTF-8 (overlong forms and surrogates included). */
export function utf8Decode(b: Uint8Array): string | undefined {
  let s = "";
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const extra = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (extra < 0 || (extra > 0 && i + extra >= b.length)) return undefined;
    let cp = extra ? c & (0x3f >> extra) : c;
    for (let k = 1; k <= extra; k++) {
      const t = b[i + k]!;
      if ((t & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (t & 63);
    }
    const min = [0, 0x80, 0x800, 0x10000][extra]!;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    s += String.fromCodePoint(cp);
    i += extra + 1;
  }
  return s;
}
