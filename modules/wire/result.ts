// Decoders never throw on bad bytes: they return a Result whose failure names the reason.
// The reason strings are the keys the stack counts dropped frames under.

export type Result<T, R extends string = string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: R };

export function ok<T, R extends string = never>(value: T): Result<T, R> {
  return { ok: true, value };
}

export function fail<T = never, R extends string = string>(reason: R): Result<T, R> {
  return { ok: false, reason };
}

/** The value of a Result that cannot fail but by a bug (in tests and tools): throws the reason otherwise. */
export function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}
