// Helpers for tests that use a Storage: deterministic file contents, unwrapping a Result, and
// whole-file reads and writes in chunks.

import { type ReadHandle, type Storage, type StorageError, storageError } from "../../modules/storage/storage.ts";
import type { Result } from "../../modules/wire/result.ts";
import { concat } from "../../modules/wire/bytes.ts";

export function bytes(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);
}

/** The value, or the reason as an Error (so a failing setup step says why). */
export function must<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

/** "ok", or the failure's reason: typed, so a misspelt expected reason does not compile. */
export function reason(r: Result<unknown>): StorageError | "ok" {
  return r.ok ? "ok" : storageError(r.reason);
}

/** Reads a handle to its end in chunks of `chunk` bytes. */
export function drain(h: ReadHandle, chunk = 100): Uint8Array {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(chunk);
  for (let n = must(h.read(buf)); n > 0; n = must(h.read(buf))) parts.push(buf.slice(0, n));
  h.close();
  return concat(parts);
}

export function readAll(s: Storage, path: string, offset?: number): Uint8Array {
  return drain(must(s.openRead(path, offset)));
}

/** Writes `data` in chunks of `chunk` bytes and closes. */
export function writeAll(s: Storage, path: string, data: Uint8Array, mode: "create" | "replace" | "append" = "create", chunk = 700): Result<void> {
  const h = s.openWrite(path, mode);
  if (!h.ok) return h;
  for (let i = 0; i < data.length; i += chunk) {
    const w = h.value.write(data.subarray(i, i + chunk));
    if (!w.ok) {
      h.value.abort();
      return w;
    }
  }
  return h.value.close();
}
