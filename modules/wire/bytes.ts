// Joining byte chunks: reassembled options, queued writes, received streams; copying bytes
// into a frame with room for headers before them.

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * A new array of `headroom` bytes, for the caller to overwrite with headers, then a copy of
 * `b`. When `b` has that many bytes before it in its buffer, they are copied along: one
 * native copy, where a new array filled by set() costs a zero fill and, on XS, computrons
 * per byte. Never read the headroom before writing it: it may hold the old headers.
 */
export function copyAfterHeadroom(b: Uint8Array, headroom: number): Uint8Array {
  const start = b.byteOffset - headroom;
  if (start >= 0) return new Uint8Array((b.buffer as ArrayBuffer).slice(start, b.byteOffset + b.length));
  const out = new Uint8Array(headroom + b.length);
  out.set(b, headroom);
  return out;
}
