// A Storage (storage/storage.ts) over Moddable's `file` module: SPIFFS by default, LittleFS as
// an option, rooted at config.file.root. The module object is handed in, so this file has no
// run-time import that only the device resolves, and tests drive it over a stand-in.
//
// What the file module does not give, this adapter builds:
// - stat comes from the parent directory's listing (the module has no stat); mtimes are 0
//   because the module reports none.
// - create and replace write to a temporary file in the root, renamed over the target at
//   close, so the file appears whole or not at all. Temporary names start with ".~" and are
//   left out of listings.
// - storage-full is decided from System.info() before each write.

import { type Result, ok, fail } from "../wire/result.ts";
import { RESERVED_PREFIX, confinePath, splitPath } from "../storage/path.ts";
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

/** The parts of Moddable's `file` module this adapter uses (its default export has them all). */
export interface FileModule {
  File: {
    /** Opens for reading, or with `write` for reading and writing, creating the file if missing. Throws if it cannot. */
    new (path: string, write?: boolean): ModdableFile;
    delete(path: string): boolean;
    exists(path: string): boolean;
    /** `to` is a full path when it starts with "/". */
    rename(from: string, to: string): boolean;
  };
  /** A directory's entries; `path` ends with "/". A directory's entry has no length. */
  Iterator: new (
    path: string,
  ) => { next(): { name: string; length?: number } | undefined };
  Directory: { create(path: string): void; delete(path: string): void };
  System: { info(): { used: number; total: number } };
}

const ROOT_STAT: FileStat = { size: 0, mtime: 0, isDirectory: true };

export class FileStorage implements Storage {
  private readonly root: string;
  private temps = 0;

  /** `root` is an absolute path such as config.file.root ("/mod/" on the ESP32). */
  constructor(
    private readonly fs: FileModule,
    root: string,
  ) {
    this.root = root.endsWith("/") ? root : `${root}/`;
  }

  free(): number {
    const { used, total } = this.fs.System.info();
    return Math.max(0, total - used);
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
    let closed = false;
    return ok({
      size,
      read: (buf) => {
        if (closed) return fail(STORAGE_CLOSED);
        return attempt(() => {
          const n = Math.min(buf.length, file.length - file.position);
          if (n > 0) buf.set(new Uint8Array(file.read(ArrayBuffer, n)));
          return Math.max(0, n);
        });
      },
      close: () => {
        if (!closed) file.close();
        closed = true;
      },
    });
  }

  openWrite(path: string, mode: WriteMode): Result<WriteHandle> {
    const c = confinePath(path);
    if (!c.ok) return c;
    const place = this.place(c.value);
    if (!place.ok) return place;
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
    const temp = `${this.root}${RESERVED_PREFIX}${++this.temps}`;
    this.fs.File.delete(temp); // a leftover from before a reset
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
    const place = this.place(c.value);
    if (!place.ok) return place;
    if (this.entry(c.value).ok) return fail(STORAGE_EXISTS);
    return attempt(() => this.fs.Directory.create(this.full(c.value)));
  }

  rmdir(path: string): Result<void> {
    const c = confinePath(path);
    if (!c.ok) return c;
    if (c.value === "") return fail(STORAGE_DENIED);
    const st = this.entry(c.value);
    if (!st.ok) return st;
    if (!st.value.isDirectory) return fail(STORAGE_NOT_DIRECTORY);
    if (this.entries(c.value).length) return fail(STORAGE_NOT_EMPTY);
    return attempt(() => this.fs.Directory.delete(this.full(c.value)));
  }

  delete(path: string): Result<void> {
    const c = confinePath(path);
    if (!c.ok) return c;
    if (c.value === "") return fail(STORAGE_DENIED);
    const st = this.entry(c.value);
    if (!st.ok) return st;
    if (st.value.isDirectory) return fail(STORAGE_IS_DIRECTORY);
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
    const place = this.place(t.value);
    if (!place.ok) return place;
    const old = this.entry(t.value);
    if (old.ok && (old.value.isDirectory || src.value.isDirectory)) return fail(STORAGE_EXISTS);
    if (old.ok && !this.fs.File.delete(this.full(t.value))) return fail(STORAGE_IO);
    return this.fs.File.rename(this.full(f.value), this.full(t.value)) ? ok(undefined) : fail(STORAGE_IO);
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

  /** Where a new entry at a canonical path would go must be an existing directory; the root itself has no place. */
  private place(canonical: string): Result<void> {
    if (canonical === "") return fail(STORAGE_DENIED);
    const parent = this.entry(splitPath(canonical).parent);
    if (!parent.ok) return parent;
    return parent.value.isDirectory ? ok(undefined) : fail(STORAGE_NOT_DIRECTORY);
  }

  /** A directory's entries, unsorted, without temporary files. Throws what the file module throws. */
  private entries(canonical: string): DirEntry[] {
    const dir = canonical === "" ? this.root : `${this.full(canonical)}/`;
    const out: DirEntry[] = [];
    const it = new this.fs.Iterator(dir);
    for (let e = it.next(); e; e = it.next()) {
      if (e.name === "." || e.name === ".." || e.name.startsWith(RESERVED_PREFIX)) continue;
      const isDirectory = e.length === undefined;
      out.push({ name: e.name, size: e.length ?? 0, mtime: 0, isDirectory });
    }
    return out;
  }

  /** Renames a finished temporary file to its target, as things stand now. */
  private commit(canonical: string, temp: string, mode: WriteMode): Result<void> {
    const place = this.place(canonical);
    if (!place.ok) return place;
    const old = this.entry(canonical);
    if (old.ok && old.value.isDirectory) return fail(STORAGE_IS_DIRECTORY);
    if (old.ok && mode === "create") return fail(STORAGE_EXISTS);
    const target = this.full(canonical);
    if (old.ok && !this.fs.File.delete(target)) return fail(STORAGE_IO);
    return this.fs.File.rename(temp, target) ? ok(undefined) : fail(STORAGE_IO);
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
function attempt<T>(f: () => T): Result<T> {
  try {
    return ok(f());
  } catch {
    return fail(STORAGE_IO);
  }
}
