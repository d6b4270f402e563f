// Decoders never throw on bad bytes: they return a Result whose failure names the reason.
// The reason strings are the keys the stack counts dropped frames under.

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(reason: string): Result<T> {
  return { ok: false, reason };
}
