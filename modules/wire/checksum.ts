// The Internet checksum (RFC 1071) and its incremental update (RFC 1624), shared by
// IPv4, ICMP, UDP and TCP. Sums are carried as unfolded 32-bit-safe partial sums so
// that a pseudo-header and a payload can be summed separately and then combined.

/** One's-complement partial sum of bytes [start, end), added to `sum`. Not folded. */
export function sum16(b: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  // Sum in 16-bit big-endian words; fold periodically so the number stays an exact integer.
  for (; i + 1 < end; i += 2) {
    sum += (b[i]! << 8) | b[i + 1]!;
    if (sum > 0x7fff0000) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += b[i]! << 8; // odd trailing byte is padded with zero
  return sum;
}

/** Folds a partial sum to 16 bits and complements it: the value to store in a header. */
export function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Checksum of bytes [start, end). Over a region that holds a correct checksum it is 0. */
export function checksum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  return finish(sum16(b, start, end, initial));
}

/** Partial sum of the IPv4 pseudo-header used by UDP and TCP. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/**
 * RFC 1624 eqn. 3: the new checksum after one 16-bit field changes from `oldWord`
 * to `newWord`, without summing the packet again: HC' = ~(~HC + ~m + m').
 */
export function updateChecksum(oldChecksum: number, oldWord: number, newWord: number): number {
  const sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return finish(sum);
}
