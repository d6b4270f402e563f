// A Storage (storage/storage.ts) over Moddable's `file` module, rooted at config.file.root. The
// module object is handed in, so nothing here imports what only the device resolves, and tests
// drive it over stand-ins (test/device/moddable-file.ts). What differs between the file systems
// under the module is a Volume: storage.ts gives LittleFS's (the default), storage-spiffs.ts
// SPIFFS's, and each of the two is the module netstack/device/storage in its manifest.
//
// What the file module does not give, this class builds:
// - stat comes from the parent directory's listing (the module has no stat); mtimes are 0
//   because the module reports none.
// - create and replace write to a temporary file in the root (".~w1", ...), which the volume
//   moves to the target at close, so the file appears whole or not at all. Temporary files a
//   reset left behind are deleted when the store is made. Names that start with ".~" are never
//   listed.
// - a reader whose file is deleted or replaced through the store ends with storage-not-found:
//   on flash the old version cannot be read on (LittleFS reuses its blocks, SPIFFS closes the
//   descriptor), and a reader must never return bytes of neither version.
// - storage-full is decided from System.info() before each write; a full path longer than the
//   volume takes is path-too-long.

import { type Result, ok, fail } from "../wire/result.ts";
import { utf8Encode } from "../wire/text.ts";
import { PATH_TOO_LONG, RESERVED_PREFIX, confinePath, splitPath } from "../storage/path.ts";
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
  STORAGE_IO,
  STORAGE_IS_DIRECTORY,
  STORAGE_NOT_DIRECTORY,
  STORAGE_NOT_EMPTY,
  STORAGE_NOT_FOUND,
} from "../storage/storage.ts";

/** An open file of Moddable's `file` module. */
export interface ModdableFile {
  read(type: ArrayBufferConstructor, bytes?: number): ArrayBuffer;
  write(value: ArrayBuffer): void;
  close(): void;
  readonly length: number;
  position: number;
}

/** A directory entry of Moddable's `file` module: a directory's has no length. */
export interface ModdableEntry {
  name: string;
  length?: number;
}

/** The parts of Moddable's `file` module the store uses (its default export has them all). */
export interface FileModule {
  File: {
    /** Opens for reading, or with `write` for reading and writing, creating the file if missing. Throws if it cannot. */
    new (path: string, write?: boolean): ModdableFile;
    delete(path: string): boolean;
    exists(path: string): boolean;
    /** `to` is a full path when it starts with "/". */
    rename(from: string, to: string): boolean;
  };
  /** A directory's entries; `path` ends with "/". */
  Iterator: new (
    path: string,
  ) => { next(): ModdableEntry | undefined };
  Directory: { create(path: string): void; delete(path: string): void };
  System: { info(): { used: number; total: number }; config(): { maxPathLength: number } };
}

/** What differs between the file systems under the file module. Every path is a full path. */
export interface Volume {
  /** The longest full path the store may name, in UTF-8 bytes, leaving room for the volume's own names. */
  readonly maxPath: number;
  /** A directory's entries ("." and ".." may be among them); `dir` ends with "/". Throws if it is no directory. */
  list(dir: string): ModdableEntry[];
  /** Makes a directory whose parent exists; throws if it cannot. */
  mkdir(path: string): void;
  /** Removes an empty directory. */
  rmdir(path: string): boolean;
  /** Moves a file or a directory to a name that is free. */
  move(from: string, to: string): boolean;
  /** Moves a file over an existing file, which it replaces. */
  replace(from: string, to: string): boolean;
}

/** The entries an iterator of the file module gives, all of them. */
export function entriesOf(it: { next(): ModdableEntry | undefined }): ModdableEntry[] {
  const out: ModdableEntry[] = [];
  for (let e = it.next(); e; e = it.next()) out.push(e);
  return out;
}

/** A full path's length as the file module counts it: UTF-8 bytes. */
export function pathBytes(path: string): number {
  return utf8Encode(path).length;
}

/** A directory's path as the file module takes it: with a trailing "/". */
export function asDirectory(path: string): string {
  return path.endsWith("/") ? path : `${path}/`;
}

/** The names of the store's temporary files, in the root: ".~w" and a number. */
const TEMP = `${RESERVED_PREFIX}w`;
const ROOT_STAT: FileStat = { size: 0, mtime: 0, isDirectory: true };

/** An open read handle, known to the store so that it can end it when its file goes. */
interface Reader {
  path: string;
  gone: boolean;
}

export class FileStore implements Storage {
  private readonly root: string;
  private temps = 0;
  private readonly readers = new Set<Reader>();

  /** `root` is an absolute path such as config.file.root. */
  constructor(
    private readonly fs: FileModule,
    root: string,
    private readonly volume: Volume,
  ) {
    this.root = asDirectory(root);
    const left = attempt(() => volume.list(this.root));
    for (const e of left.ok ? left.value : []) if (e.name.startsWith(TEMP)) fs.File.delete(this.root + e.name);
  }

  free(): number {
    const info = attempt(() => this.fs.System.info());
    return info.ok ? Math.max(0, info.value.total - info.value.used) : 0;
  }

  openRead(path: string, offset = 0): Result<ReadHandle> {
    const c = confinePath(path);
    if (!c.ok) return c;
    const st = this.entry(c.value);
    if (!st.ok) return st;
    if (st.value.isDirectory) return fail(STORAGE_IS_DIRECTORY);
    const opened = attempt(() => new this.fs.File(this.full(c.value)));
    if (!opened.ok) return opened;
    const file = opened.value;
    const size = file.length;
    file.position = Math.max(0, Math.min(offset, size));
    const reader: Reader = { path: c.value, gone: false };
    this.readers.add(reader);
    let closed = false;
    return ok({
      size,
      read: (buf) => {
        if (closed) return fail(STORAGE_CLOSED);
        if (reader.gone) return fail(STORAGE_NOT_FOUND);
        return attempt(() => {
          const n = Math.min(buf.length, file.length - file.position);
          if (n > 0) buf.set(new Uint8Array(file.read(ArrayBuffer, n)));
          return Math.max(0, n);
        });
      },
      close: () => {
        if (!closed) file.close();
        closed = true;
        this.readers.delete(reader);
      },
    });
  }

  openWrite(path: string, mode: WriteMode): Result<WriteHandle> {
    const c = confinePath(path);
    if (!c.ok) return c;
    const room = this.room(c.value);
    if (!room.ok) return room;
    const existing = this.entry(c.value);
    if (existing.ok && existing.value.isDirectory) return fail(STORAGE_IS_DIRECTORY);
    if (existing.ok && mode === "create") return fail(STORAGE_EXISTS);
    const target = this.full(c.value);
    if (mode === "append") {
      const opened = attempt(() => new this.fs.File(target, true));
      if (!opened.ok) return opened;
      const file = opened.value;
      return ok(
        this.writer(
          file,
          () => file.close(),
          () => file.close(),
          () => this.fs.File.exists(target),
        ),
      );
    }
    const temp = `${this.root}${TEMP}${++this.temps}`;
    const opened = attempt(() => new this.fs.File(temp, true));
    if (!opened.ok) return opened;
    const file = opened.value;
    const discard = () => {
      file.close();
      this.fs.File.delete(temp);
    };
    const finish = (): Result<void> => {
      file.close();
      const committed = this.commit(c.value, temp, mode);
      if (!committed.ok) this.fs.File.delete(temp);
      return committed;
    };
    return ok(this.writer(file, finish, discard, () => true));
  }

  stat(path: string): Result<FileStat> {
    const c = confinePath(path);
    return c.ok ? this.entry(c.value) : c;
  }

  list(path: string): Result<DirEntry[]> {
    const c = confinePath(path);
    if (!c.ok) return c;
    const st = this.entry(c.value);
    if (!st.ok) return st;
    if (!st.value.isDirectory) return fail(STORAGE_NOT_DIRECTORY);
    return attempt(() => this.entries(c.value).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  }

  mkdir(path: string): Result<void> {
    const c = confinePath(path);
    if (!c.ok) return c;
    const room = this.room(c.value);
    if (!room.ok) return room;
    if (this.entry(c.value).ok) return fail(STORAGE_EXISTS);
    return attempt(() => this.volume.mkdir(this.full(c.value)));
  }

  rmdir(path: string): Result<void> {
    const c = confinePath(path);
    if (!c.ok) return c;
    if (c.value === "") return fail(STORAGE_DENIED);
    const st = this.entry(c.value);
    if (!st.ok) return st;
    if (!st.value.isDirectory) return fail(STORAGE_NOT_DIRECTORY);
    if (this.entries(c.value).length) return fail(STORAGE_NOT_EMPTY);
    const removed = attempt(() => this.volume.rmdir(this.full(c.value)));
    return removed.ok && removed.value ? ok(undefined) : fail(STORAGE_IO);
  }

  delete(path: string): Result<void> {
    const c = confinePath(path);
    if (!c.ok) return c;
    if (c.value === "") return fail(STORAGE_DENIED);
    const st = this.entry(c.value);
    if (!st.ok) return st;
    if (st.value.isDirectory) return fail(STORAGE_IS_DIRECTORY);
    this.retire(c.value);
    return this.fs.File.delete(this.full(c.value)) ? ok(undefined) : fail(STORAGE_IO);
  }

  rename(from: string, to: string): Result<void> {
    const f = confinePath(from);
    if (!f.ok) return f;
    const t = confinePath(to);
    if (!t.ok) return t;
    if (f.value === "" || t.value === "") return fail(STORAGE_DENIED);
    const src = this.entry(f.value);
    if (!src.ok) return src;
    if (t.value === f.value) return ok(undefined);
    if (t.value.startsWith(`${f.value}/`)) return fail(STORAGE_DENIED); // into itself
    const room = this.room(t.value);
    if (!room.ok) return room;
    const old = this.entry(t.value);
    if (old.ok && (old.value.isDirectory || src.value.isDirectory)) return fail(STORAGE_EXISTS);
    const moved = this.move(this.full(f.value), t.value, old.ok);
    if (moved.ok) this.follow(f.value, t.value);
    return moved;
  }

  // ---- internals ----

  private full(canonical: string): string {
    return this.root + canonical;
  }

  /** The stat of a canonical path, read from its parent's listing. */
  private entry(canonical: string): Result<FileStat> {
    if (canonical === "") return ok(ROOT_STAT);
    const { parent, name } = splitPath(canonical);
    const p = this.entry(parent);
    if (!p.ok) return p;
    if (!p.value.isDirectory) return fail(STORAGE_NOT_DIRECTORY);
    const found = attempt(() => this.entries(parent).find((e) => e.name === name));
    if (!found.ok) return found;
    return found.value ? ok(found.value) : fail(STORAGE_NOT_FOUND);
  }

  /**
   * Whether a new entry may go at a canonical path: its parent must be an existing directory,
   * and its full path short enough. The root itself has no place.
   */
  private room(canonical: string): Result<void> {
    if (canonical === "") return fail(STORAGE_DENIED);
    const parent = this.entry(splitPath(canonical).parent);
    if (!parent.ok) return parent;
    if (!parent.value.isDirectory) return fail(STORAGE_NOT_DIRECTORY);
    return pathBytes(this.full(canonical)) > this.volume.maxPath ? fail(PATH_TOO_LONG) : ok(undefined);
  }

  /** A directory's entries, unsorted, without the store's own files. Throws what the file module throws. */
  private entries(canonical: string): DirEntry[] {
    const dir = canonical === "" ? this.root : `${this.full(canonical)}/`;
    const out: DirEntry[] = [];
    for (const e of this.volume.list(dir)) {
      if (e.name === "." || e.name === ".." || e.name.startsWith(RESERVED_PREFIX)) continue;
      out.push({ name: e.name, size: e.length ?? 0, mtime: 0, isDirectory: e.length === undefined });
    }
    return out;
  }

  /** Moves a finished temporary file to its target, as things stand now. */
  private commit(canonical: string, temp: string, mode: WriteMode): Result<void> {
    const room = this.room(canonical);
    if (!room.ok) return room;
    const old = this.entry(canonical);
    if (old.ok && old.value.isDirectory) return fail(STORAGE_IS_DIRECTORY);
    if (old.ok && mode === "create") return fail(STORAGE_EXISTS);
    return this.move(temp, canonical, old.ok);
  }

  /** Moves the file or directory at the full path `from` to `to` (canonical), over the file there if `replacing`. */
  private move(from: string, to: string, replacing: boolean): Result<void> {
    if (replacing) this.retire(to);
    const target = this.full(to);
    const moved = attempt(() => (replacing ? this.volume.replace(from, target) : this.volume.move(from, target)));
    return moved.ok && moved.value ? ok(undefined) : fail(STORAGE_IO);
  }

  /** Ends the readers of a file that is about to be deleted or replaced. */
  private retire(canonical: string): void {
    for (const r of this.readers) if (r.path === canonical) r.gone = true;
  }

  /** Readers follow their file, or a directory above it, to its new name. */
  private follow(from: string, to: string): void {
    for (const r of this.readers) {
      if (r.path === from) r.path = to;
      else if (r.path.startsWith(`${from}/`)) r.path = to + r.path.slice(from.length);
    }
  }

  private writer(file: ModdableFile, finish: () => Result<void> | void, discard: () => void, present: () => boolean): WriteHandle {
    let closed = false;
    return {
      write: (data) => {
        if (closed) return fail(STORAGE_CLOSED);
        if (!present()) return fail(STORAGE_NOT_FOUND);
        if (data.length > this.free()) return fail(STORAGE_FULL);
        return attempt(() => {
          file.position = file.length;
          file.write(data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? (data.buffer as ArrayBuffer) : data.slice().buffer);
        });
      },
      close: () => {
        if (closed) return fail(STORAGE_CLOSED);
        closed = true;
        return finish() ?? ok(undefined);
      },
      abort: () => {
        if (closed) return;
        closed = true;
        discard();
      },
    };
  }
}

/** The file module reports failures by throwing; a Storage answers with a Result. */
export function attempt<T>(f: () => T): Result<T> {
  try {
    return ok(f());
  } catch {
    return fail(STORAGE_IO);
  }
}
