// A directory of a Storage seen as a Storage of its own: what the firmware hands each service
// for its root, on any store (the ESP32's files, a host directory, memory). Every path is
// confined first, then prefixed with the directory; the directory itself is the view's root,
// so, as at any store's root, it cannot be written, removed or moved.

import { type Result, fail, ok } from "../wire/result.ts";
import { confinePath } from "./path.ts";
import { type DirEntry, type FileStat, type ReadHandle, type Storage, type WriteHandle, type WriteMode, STORAGE_DENIED, STORAGE_EXISTS } from "./storage.ts";

export class Subtree implements Storage {
  /** `dir` must already be a canonical path ("a/b", no leading "/"). */
  constructor(
    private readonly base: Storage,
    private readonly dir: string,
  ) {}

  /** `dir` of `base`, confined; `base` itself for "". */
  static of(base: Storage, dir: string): Result<Storage> {
    const c = confinePath(dir);
    if (!c.ok) return c;
    return ok(c.value ? new Subtree(base, c.value) : base);
  }

  free(): number {
    return this.base.free();
  }

  openRead(path: string, offset?: number): Result<ReadHandle> {
    return this.at(path, (p) => this.base.openRead(p, offset));
  }

  openWrite(path: string, mode: WriteMode): Result<WriteHandle> {
    return this.below(path, (p) => this.base.openWrite(p, mode));
  }

  stat(path: string): Result<FileStat> {
    return this.at(path, (p) => this.base.stat(p));
  }

  list(path: string): Result<DirEntry[]> {
    return this.at(path, (p) => this.base.list(p));
  }

  mkdir(path: string): Result<void> {
    return this.below(path, (p) => this.base.mkdir(p));
  }

  rmdir(path: string): Result<void> {
    return this.below(path, (p) => this.base.rmdir(p));
  }

  delete(path: string): Result<void> {
    return this.below(path, (p) => this.base.delete(p));
  }

  rename(from: string, to: string): Result<void> {
    return this.below(from, (f) => this.below(to, (t) => this.base.rename(f, t)));
  }

  /** Runs `op` on the base's path for `path`, the view's root included. */
  private at<T>(path: string, op: (p: string) => Result<T>): Result<T> {
    const c = confinePath(path);
    if (!c.ok) return c;
    return op(c.value ? `${this.dir}/${c.value}` : this.dir);
  }

  /** Like at, but the view's root is refused, as a store refuses its own. */
  private below<T>(path: string, op: (p: string) => Result<T>): Result<T> {
    const c = confinePath(path);
    if (!c.ok) return c;
    if (!c.value) return fail(STORAGE_DENIED);
    return op(`${this.dir}/${c.value}`);
  }
}

/** Makes directory `dir` of `storage` and its parents where they are missing. */
export function makeDirs(storage: Storage, dir: string): Result<void> {
  const c = confinePath(dir);
  if (!c.ok) return c;
  const parts = c.value ? c.value.split("/") : [];
  for (let i = 1; i <= parts.length; i++) {
    const made = storage.mkdir(parts.slice(0, i).join("/"));
    if (!made.ok && made.reason !== STORAGE_EXISTS) return made;
  }
  return ok(undefined);
}
