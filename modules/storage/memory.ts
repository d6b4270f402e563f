// A Storage held in RAM, with a limit on the bytes of file content and on the number of
// entries. Portable: a device without flash, and every test, can use it. File content
// lives in fixed-size chunks, so a growing file is never copied and a read at any offset
// finds its chunk at once.

import { type Result, ok, fail } from "../wire/result.ts";
import type { Clock } from "../platform.ts";
import { confinePath, splitPath } from "./path.ts";
import {
  type DirEntry,
  type FileStat,
  type ReadHandle,
  type Storage,
  type WriteHandle,
  type WriteMode,
  STORAGE_CLOSED,
  STORAGE_DENIED,
  STORAGE_EXISTS,
  STORAGE_FULL,
  STORAGE_IS_DIRECTORY,
  STORAGE_NOT_DIRECTORY,
  STORAGE_NOT_EMPTY,
  STORAGE_NOT_FOUND,
} from "./storage.ts";

const CHUNK = 1024;

export interface MemoryStorageOptions {
  /** Bytes of file content, files being written included. Default 64 KiB. */
  limit?: number;
  /** Files and directories, count, the root not counted. Default 256. */
  maxEntries?: number;
  /** Stamps mtimes; without it every mtime is 0. */
  clock?: Clock;
}

export const MEMORY_STORAGE_DEFAULTS: Required<Pick<MemoryStorageOptions, "limit" | "maxEntries">> = { limit: 65536, maxEntries: 256 };

interface FileNode {
  kind: "file";
  chunks: Uint8Array[];
  size: number;
  mtime: number;
  /** In the tree; an append handle stops when its file is deleted or replaced. */
  linked: boolean;
}

interface DirNode {
  kind: "dir";
  entries: Map<string, Node>;
  mtime: number;
}

type Node = FileNode | DirNode;

export class MemoryStorage implements Storage {
  private readonly root: DirNode;
  private readonly limit: number;
  private readonly maxEntries: number;
  private readonly clock: Clock | undefined;
  private used = 0;
  private entries = 0;

  constructor(options: MemoryStorageOptions = {}) {
    this.limit = options.limit ?? MEMORY_STORAGE_DEFAULTS.limit;
    this.maxEntries = options.maxEntries ?? MEMORY_STORAGE_DEFAULTS.maxEntries;
    this.clock = options.clock;
    this.root = { kind: "dir", entries: new Map(), mtime: this.now() };
  }

  free(): number {
    return this.limit - this.used;
  }

  openRead(path: string, offset = 0): Result<ReadHandle> {
    const r = this.find(path);
    if (!r.ok) return r;
    const node = r.value;
    if (node.kind === "dir") return fail(STORAGE_IS_DIRECTORY);
    let pos = Math.max(0, Math.min(offset, node.size));
    let closed = false;
    return ok({
      size: node.size,
      read: (buf) => {
        if (closed) return fail(STORAGE_CLOSED);
        const n = readAt(node, pos, buf);
        pos += n;
        return ok(n);
      },
      close: () => {
        closed = true;
      },
    });
  }

  openWrite(path: string, mode: WriteMode): Result<WriteHandle> {
    const c = confinePath(path);
    if (!c.ok) return c;
    const place = this.place(c.value);
    if (!place.ok) return place;
    const existing = place.value.dir.entries.get(place.value.name);
    if (existing?.kind === "dir") return fail(STORAGE_IS_DIRECTORY);
    if (existing && mode === "create") return fail(STORAGE_EXISTS);
    if (!existing && this.entries >= this.maxEntries) return fail(STORAGE_FULL);
    if (mode === "append") {
      const node = existing ?? this.newFile();
      if (!existing) this.link(place.value.dir, place.value.name, node);
      return ok(
        this.writer(
          node,
          () => ok(undefined),
          () => {},
        ),
      );
    }
    // A new node, linked in only when the handle closes; until then its bytes count as used.
    const node = this.newFile();
    const discard = () => {
      this.used -= node.size;
    };
    return ok(this.writer(node, () => this.commit(c.value, node, mode, discard), discard));
  }

  stat(path: string): Result<FileStat> {
    const r = this.find(path);
    return r.ok ? ok(statOf(r.value)) : r;
  }

  list(path: string): Result<DirEntry[]> {
    const r = this.find(path);
    if (!r.ok) return r;
    if (r.value.kind !== "dir") return fail(STORAGE_NOT_DIRECTORY);
    const dir = r.value;
    const names = [...dir.entries.keys()].sort();
    return ok(names.map((name) => ({ name, ...statOf(dir.entries.get(name)!) })));
  }

  mkdir(path: string): Result<void> {
    const c = confinePath(path);
    if (!c.ok) return c;
    const place = this.place(c.value);
    if (!place.ok) return place;
    const { dir, name } = place.value;
    if (dir.entries.has(name)) return fail(STORAGE_EXISTS);
    if (this.entries >= this.maxEntries) return fail(STORAGE_FULL);
    this.link(dir, name, { kind: "dir", entries: new Map(), mtime: this.now() });
    return ok(undefined);
  }

  rmdir(path: string): Result<void> {
    return this.remove(path, (node) => (node.kind !== "dir" ? STORAGE_NOT_DIRECTORY : node.entries.size ? STORAGE_NOT_EMPTY : undefined));
  }

  delete(path: string): Result<void> {
    return this.remove(path, (node) => (node.kind === "dir" ? STORAGE_IS_DIRECTORY : undefined));
  }

  rename(from: string, to: string): Result<void> {
    const f = confinePath(from);
    if (!f.ok) return f;
    const t = confinePath(to);
    if (!t.ok) return t;
    if (f.value === "" || t.value === "") return fail(STORAGE_DENIED);
    const src = this.place(f.value);
    if (!src.ok) return src;
    const node = src.value.dir.entries.get(src.value.name);
    if (!node) return fail(STORAGE_NOT_FOUND);
    if (t.value === f.value) return ok(undefined);
    if (t.value.startsWith(`${f.value}/`)) return fail(STORAGE_DENIED); // into itself
    const dst = this.place(t.value);
    if (!dst.ok) return dst;
    const old = dst.value.dir.entries.get(dst.value.name);
    if (old && (old.kind === "dir" || node.kind === "dir")) return fail(STORAGE_EXISTS);
    if (old) this.unlink(dst.value.dir, dst.value.name);
    src.value.dir.entries.delete(src.value.name);
    dst.value.dir.entries.set(dst.value.name, node);
    return ok(undefined);
  }

  // ---- internals ----

  private now(): number {
    return this.clock?.now() ?? 0;
  }

  private newFile(): FileNode {
    return { kind: "file", chunks: [], size: 0, mtime: this.now(), linked: false };
  }

  /** The node a client path names. */
  private find(path: string): Result<Node> {
    const c = confinePath(path);
    if (!c.ok) return c;
    if (c.value === "") return ok(this.root);
    const place = this.place(c.value);
    if (!place.ok) return place;
    const node = place.value.dir.entries.get(place.value.name);
    return node ? ok(node) : fail(STORAGE_NOT_FOUND);
  }

  /** The existing directory a canonical path would live in, and its last name; the root itself has no place. */
  private place(canonical: string): Result<{ dir: DirNode; name: string }> {
    if (canonical === "") return fail(STORAGE_DENIED);
    const { parent, name } = splitPath(canonical);
    let dir = this.root;
    for (const s of parent ? parent.split("/") : []) {
      const next = dir.entries.get(s);
      if (!next) return fail(STORAGE_NOT_FOUND);
      if (next.kind !== "dir") return fail(STORAGE_NOT_DIRECTORY);
      dir = next;
    }
    return ok({ dir, name });
  }

  private link(dir: DirNode, name: string, node: Node): void {
    dir.entries.set(name, node);
    if (node.kind === "file") node.linked = true;
    this.entries++;
  }

  private unlink(dir: DirNode, name: string): void {
    const node = dir.entries.get(name);
    if (node?.kind === "file") {
      this.used -= node.size;
      node.linked = false;
    }
    dir.entries.delete(name);
    this.entries--;
  }

  private remove(path: string, refuse: (node: Node) => string | undefined): Result<void> {
    const c = confinePath(path);
    if (!c.ok) return c;
    const place = this.place(c.value);
    if (!place.ok) return place;
    const node = place.value.dir.entries.get(place.value.name);
    if (!node) return fail(STORAGE_NOT_FOUND);
    const reason = refuse(node);
    if (reason) return fail(reason);
    this.unlink(place.value.dir, place.value.name);
    return ok(undefined);
  }

  /** Links a finished create/replace file at its path, as things stand now. */
  private commit(canonical: string, node: FileNode, mode: WriteMode, discard: () => void): Result<void> {
    const place = this.place(canonical);
    if (!place.ok) {
      discard();
      return place;
    }
    const { dir, name } = place.value;
    const old = dir.entries.get(name);
    const refusal =
      old?.kind === "dir"
        ? STORAGE_IS_DIRECTORY
        : old && mode === "create"
          ? STORAGE_EXISTS
          : !old && this.entries >= this.maxEntries
            ? STORAGE_FULL
            : undefined;
    if (refusal) {
      discard();
      return fail(refusal);
    }
    if (old) this.unlink(dir, name);
    this.link(dir, name, node);
    return ok(undefined);
  }

  private writer(node: FileNode, finish: () => Result<void>, discard: () => void): WriteHandle {
    const appending = node.linked;
    let closed = false;
    return {
      write: (data) => {
        if (closed) return fail(STORAGE_CLOSED);
        if (appending && !node.linked) return fail(STORAGE_NOT_FOUND);
        if (this.used + data.length > this.limit) return fail(STORAGE_FULL);
        append(node, data);
        node.mtime = this.now();
        this.used += data.length;
        return ok(undefined);
      },
      close: () => {
        if (closed) return fail(STORAGE_CLOSED);
        closed = true;
        return finish();
      },
      abort: () => {
        if (closed) return;
        closed = true;
        discard();
      },
    };
  }
}

function statOf(node: Node): FileStat {
  return node.kind === "dir" ? { size: 0, mtime: node.mtime, isDirectory: true } : { size: node.size, mtime: node.mtime, isDirectory: false };
}

function append(node: FileNode, data: Uint8Array): void {
  let i = 0;
  while (i < data.length) {
    const at = node.size % CHUNK;
    if (at === 0) node.chunks.push(new Uint8Array(CHUNK));
    const n = Math.min(CHUNK - at, data.length - i);
    node.chunks[node.chunks.length - 1]!.set(data.subarray(i, i + n), at);
    node.size += n;
    i += n;
  }
}

function readAt(node: FileNode, pos: number, buf: Uint8Array): number {
  const end = Math.min(node.size, pos + buf.length);
  let n = 0;
  while (pos + n < end) {
    const at = (pos + n) % CHUNK;
    const take = Math.min(CHUNK - at, end - pos - n);
    const chunk = node.chunks[Math.floor((pos + n) / CHUNK)]!;
    buf.set(take === CHUNK ? chunk : chunk.subarray(at, at + take), n); // a whole chunk needs no view
    n += take;
  }
  return n;
}
