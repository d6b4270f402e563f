// Sequence numbers are modulo 2^32 (RFC 9293 3.4).

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a - b as a signed distance: negative when a comes before b. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
