// A Storage over a directory of the host, for the simulator and the TAP tests. Paths go
// through confinePath first; then the real location (every symlink resolved) must still lie
// inside the root, so a link that leads out of it is refused, and so is a dangling one,
// since creating through it would land wherever it points. Created and replaced files are
// written to a temporary name beside the target and renamed over it on close; that name
// starts with the reserved prefix, so no client can list, read or touch it (path.ts).

import * as fs from "node:fs";
import { dirname, join, sep } from "node:path";
import { randomBytes } from "node:crypto";
import { type Result, ok, fail } from "../../modules/wire/result.ts";
import { RESERVED_PREFIX, confinePath, splitPath } from "../../modules/storage/path.ts";
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
} from "../../modules/storage/storage.ts";

const ERRNO: Record<string, string> = {
  ENOENT: STORAGE_NOT_FOUND,
  EEXIST: STORAGE_EXISTS,
  EISDIR: STORAGE_IS_DIRECTORY,
  ENOTDIR: STORAGE_NOT_DIRECTORY,
  ENOTEMPTY: STORAGE_NOT_EMPTY,
  ENOSPC: STORAGE_FULL,
  EDQUOT: STORAGE_FULL,
  EFBIG: STORAGE_FULL,
  EACCES: STORAGE_DENIED,
  EPERM: STORAGE_DENIED,
  ELOOP: STORAGE_DENIED,
};

/** Runs a file-system call, turning a thrown error into a failure named after its errno. */
function attempt<T>(f: () => T): Result<T> {
  try {
    return ok(f());
  } catch (e) {
    return fail(ERRNO[(e as NodeJS.ErrnoException).code ?? ""] ?? STORAGE_IO);
  }
}

function statOf(s: fs.Stats): FileStat {
  return { size: s.isDirectory() ? 0 : s.size, mtime: s.mtimeMs, isDirectory: s.isDirectory() };
}

export class DirectoryStorage implements Storage {
  /** The root with its own symlinks resolved. */
  readonly root: string;

  /** `root` must be an existing directory. */
  constructor(root: string) {
    this.root = fs.realpathSync(root);
  }

  free(): number {
    const s = fs.statfsSync(this.root);
    return s.bavail * s.bsize;
  }

  openRead(path: string, offset = 0): Result<ReadHandle> {
    const p = this.locate(path);
    if (!p.ok) return p;
    // Non-blocking, so that a FIFO cannot stall the server; only regular files are served.
    const fd = attempt(() => fs.openSync(p.value, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
    if (!fd.ok) return fd;
    const st = attempt(() => fs.fstatSync(fd.value));
    if (!st.ok || !st.value.isFile()) {
      fs.closeSync(fd.value);
      return st.ok ? fail(st.value.isDirectory() ? STORAGE_IS_DIRECTORY : STORAGE_DENIED) : st;
    }
    let pos = Math.max(0, offset);
    let closed = false;
    return ok({
      size: st.value.size,
      read: (buf) => {
        if (closed) return fail(STORAGE_CLOSED);
        const n = attempt(() => fs.readSync(fd.value, buf, 0, buf.length, pos));
        if (n.ok) pos += n.value;
        return n;
      },
      close: () => {
        if (!closed) fs.closeSync(fd.value);
        closed = true;
      },
    });
  }

  openWrite(path: string, mode: WriteMode): Result<WriteHandle> {
    const p = this.locateEntry(path);
    if (!p.ok) return p;
    const target = p.value;
    const existing = attempt(() => fs.statSync(target));
    if (existing.ok && existing.value.isDirectory()) return fail(STORAGE_IS_DIRECTORY);
    if (existing.ok && !existing.value.isFile()) return fail(STORAGE_DENIED); // a FIFO, socket or device
    if (existing.ok && mode === "create") return fail(STORAGE_EXISTS);
    if (mode === "append") {
      const fd = attempt(() => fs.openSync(target, "a"));
      return fd.ok
        ? ok(
            this.writer(
              fd.value,
              () => ok(undefined),
              () => {},
            ),
          )
        : fd;
    }
    const temp = join(dirname(target), `${RESERVED_PREFIX}${splitPath(target).name}.${randomBytes(4).toString("hex")}.part`);
    const fd = attempt(() => fs.openSync(temp, "wx")); // exclusive: never through a link
    if (!fd.ok) return fd;
    const discard = () => void attempt(() => fs.unlinkSync(temp));
    const commit = (): Result<void> => {
      // create must not replace a file that appeared meanwhile: link() fails if the name is taken
      const moved = attempt(() => (mode === "create" ? fs.linkSync(temp, target) : fs.renameSync(temp, target)));
      if (!moved.ok || mode === "create") discard();
      return moved;
    };
    return ok(this.writer(fd.value, commit, discard));
  }

  stat(path: string): Result<FileStat> {
    const p = this.locate(path);
    if (!p.ok) return p;
    const s = attempt(() => fs.statSync(p.value));
    return s.ok ? ok(statOf(s.value)) : s;
  }

  list(path: string): Result<DirEntry[]> {
    const p = this.locate(path);
    if (!p.ok) return p;
    const names = attempt(() => fs.readdirSync(p.value));
    if (!names.ok) return names;
    const rel = p.value.slice(this.root.length + 1);
    const entries: DirEntry[] = [];
    for (const name of names.value.sort()) {
      const s = this.stat(rel ? `${rel}/${name}` : name); // entries that lead out of the root are left out
      if (s.ok) entries.push({ name, ...s.value });
    }
    return ok(entries);
  }

  mkdir(path: string): Result<void> {
    const p = this.locateEntry(path);
    if (!p.ok) return p;
    return attempt(() => void fs.mkdirSync(p.value));
  }

  rmdir(path: string): Result<void> {
    const p = this.locateEntry(path);
    if (!p.ok) return p;
    return attempt(() => fs.rmdirSync(p.value));
  }

  delete(path: string): Result<void> {
    const p = this.locateEntry(path);
    if (!p.ok) return p;
    const s = attempt(() => fs.statSync(p.value));
    if (s.ok && s.value.isDirectory()) return fail(STORAGE_IS_DIRECTORY);
    return attempt(() => fs.unlinkSync(p.value));
  }

  rename(from: string, to: string): Result<void> {
    const f = this.locate(from);
    if (!f.ok) return f;
    const t = this.locate(to);
    if (!t.ok) return t;
    if (f.value === this.root || t.value === this.root) return fail(STORAGE_DENIED);
    const src = attempt(() => fs.statSync(f.value));
    if (!src.ok) return src;
    if (t.value === f.value) return ok(undefined);
    if (t.value.startsWith(f.value + sep)) return fail(STORAGE_DENIED);
    const dst = attempt(() => fs.statSync(t.value));
    if (dst.ok && (dst.value.isDirectory() || src.value.isDirectory())) return fail(STORAGE_EXISTS);
    return attempt(() => fs.renameSync(f.value, t.value));
  }

  /**
   * The host path for a client path, once its real location is known to be inside the root:
   * the path itself if it exists, otherwise its nearest existing ancestor.
   */
  private locate(path: string): Result<string> {
    const c = confinePath(path);
    if (!c.ok) return c;
    const full = c.value ? join(this.root, c.value) : this.root;
    for (let probe = full; ; probe = dirname(probe)) {
      const real = attempt(() => fs.realpathSync(probe));
      if (real.ok) return real.value === this.root || real.value.startsWith(this.root + sep) ? ok(full) : fail(STORAGE_DENIED);
      if (real.reason !== STORAGE_NOT_FOUND && real.reason !== STORAGE_NOT_DIRECTORY) return real;
      if (attempt(() => fs.lstatSync(probe)).ok) return fail(STORAGE_DENIED); // a dangling link
      if (probe === this.root) return fail(STORAGE_NOT_FOUND);
    }
  }

  /** Like locate, for operations on an entry: the root itself is refused. */
  private locateEntry(path: string): Result<string> {
    const p = this.locate(path);
    return p.ok && p.value === this.root ? fail(STORAGE_DENIED) : p;
  }

  private writer(fd: number, finish: () => Result<void>, discard: () => void): WriteHandle {
    let closed = false;
    const close = () => {
      closed = true;
      fs.closeSync(fd);
    };
    return {
      write: (data) => {
        if (closed) return fail(STORAGE_CLOSED);
        for (let done = 0; done < data.length; ) {
          const n = attempt(() => fs.writeSync(fd, data, done, data.length - done));
          if (!n.ok) return n;
          done += n.value;
        }
        return ok(undefined);
      },
      close: () => {
        if (closed) return fail(STORAGE_CLOSED);
        close();
        return finish();
      },
      abort: () => {
        if (closed) return;
        close();
        discard();
      },
    };
  }
}
