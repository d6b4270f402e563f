import type { ExecutionContext } from "ava";
import fc from "fast-check";

// Shared test helpers.

/** Bytes from hex text; whitespace and line breaks are ignored (test/vectors holds frames printed this way). */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not hex: ${text}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Runs a fast-check property and records it as an assertion, with the counterexample on failure. */
export function holds<Ts>(t: ExecutionContext, property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, params: fc.Parameters<Ts> = {}): void {
  const details = fc.check(property as fc.IProperty<Ts>, params) as fc.RunDetails<Ts>;
  t.false(details.failed, details.failed ? `counterexample ${fc.stringify(details.counterexample)}: ${String(details.errorInstance ?? "")}` : "");
}

/** Whether `count` successes in `n` trials lies within five standard deviations of probability p (for rate checks on seeded randomness). */
export function withinBinomial(count: number, n: number, p: number): boolean {
  return Math.abs(count - n * p) <= 5 * Math.sqrt(n * p * (1 - p)) + 1;
}

/** Whether `view` lies inside `outer`'s bytes: a decoder's views must never reach past its input. */
export function isViewWithin(view: Uint8Array, outer: Uint8Array): boolean {
  return view.buffer === outer.buffer && view.byteOffset >= outer.byteOffset && view.byteOffset + view.length <= outer.byteOffset + outer.length;
}

/** Damage to a valid encoding, for robustness properties: a few bytes overwritten, then a truncation. */
export const damage = fc.record({
  writes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  keep: fc.nat(),
});

/** A damaged copy of `b`: each write lands at index % length, then `keep % (length + 1)` bytes are kept. */
export function applyDamage(b: Uint8Array, d: { writes: Array<[number, number]>; keep: number }): Uint8Array {
  const copy = b.slice();
  for (const [i, v] of d.writes) if (copy.length) copy[i % copy.length] = v;
  return copy.subarray(0, d.keep % (copy.length + 1));
}
