// Stand-ins for Moddable's `file` module on Node, for testing FileStorage off the device. Each
// keeps its files in memory and behaves as the module does on the ESP32 over its file system,
// quirks included:
// - littlefs(): modules/files/file/littlefs/modLittlefs.c. Real directories. An iterator gives
//   "." and ".." first. A file's new size and bytes reach listings and other handles only when
//   its writer closes (the module never syncs). rename replaces an existing file, or an empty
//   directory, in one step, fails between a file and a directory, and throws for a path over
//   255 bytes (its buffers). File.delete and Directory.delete are both lfs_remove: a file or an
//   empty directory, answered with a boolean. A removed file's blocks are free for reuse: a
//   handle still open on it reads zeros here, as if they had been reused at once.
// - spiffs(): modules/files/file/esp32/modFile.c over ESP-IDF's SPIFFS, mounted at /mod. Flat
//   names of at most 31 bytes after the mount. Directory.create and Directory.delete throw. An
//   iterator below the mount lists nothing; at the mount it lists every name, slashes and all.
//   rename fails over an existing name, and throws for a `to` over 32 bytes (its buffer).
//   Deleting a file closes the descriptors open on it (reads throw, lengths are garbage: 0
//   here). At most 5 files are open at once (MODDEF_FILE_MAXOPEN).
// Both count space as their file system does, in blocks (LittleFS, 4096 bytes) or pages (SPIFFS,
// 256), and can be cut off at any moment: image() is what the flash holds now, and a stand-in
// made from an image is the device after a reset. `changed` is called after every change that
// reaches the flash.

import type { FileModule, ModdableEntry, ModdableFile } from "../../modules/device/file-store.ts";

export interface StandIn extends FileModule {
  /** What the flash holds now: pass it to the factory to reset the device. */
  image(): unknown;
  changed: () => void;
  /** Every call that changes the file system, in order ("rename /a /b", "delete /a", ...). */
  readonly calls: string[];
}

const bytesOf = (s: string) => Buffer.byteLength(s);

/** Moddable's module reads a whole rest, or `bytes` of it, and throws at the end. */
function readFrom(data: Uint8Array, position: number, bytes: number | undefined): Uint8Array<ArrayBuffer> {
  let n = bytes ?? -1;
  if (n === -1 || data.length < position + n) {
    if (position >= data.length) throw new Error("read past end of file");
    n = data.length - position;
  }
  return data.slice(position, position + n);
}

function writeAt(data: Uint8Array, position: number, value: ArrayBuffer): Uint8Array {
  const bytes = new Uint8Array(value);
  const out = new Uint8Array(Math.max(data.length, position + bytes.length));
  out.set(data);
  out.set(bytes, position);
  return out;
}

/** `to` is a full path, or a name in `from`'s directory; `buffer` is the module's buffer size for it. */
function renameTarget(from: string, to: string, buffer: number): string {
  const full = to.startsWith("/") ? to : `${from.slice(0, from.lastIndexOf("/") + 1)}${to}`;
  if (!to.startsWith("/") && to.slice(1).includes("/")) throw new Error("invalid to");
  if (bytesOf(full) + 1 > buffer) throw new RangeError("cannot buffer string");
  return full;
}

// ---- LittleFS ----

interface LfsFile {
  kind: "file";
  data: Uint8Array;
  removed: boolean;
}
interface LfsDir {
  kind: "dir";
  entries: Map<string, LfsNode>;
}
type LfsNode = LfsFile | LfsDir;

const LFS_BLOCK = 4096;
/** Moddable's cache_size: files this small live inline in their directory's metadata. */
const LFS_INLINE = 16;
const LFS_NAME_MAX = 255;
const lfsBlocks = (size: number) => (size <= LFS_INLINE ? 0 : Math.ceil(size / LFS_BLOCK));

function copyTree(d: LfsDir): LfsDir {
  const entries = new Map<string, LfsNode>();
  for (const [k, v] of d.entries) entries.set(k, v.kind === "dir" ? copyTree(v) : { kind: "file", data: v.data.slice(), removed: false });
  return { kind: "dir", entries };
}

/** Moddable's file module over LittleFS on a partition of `blocks` blocks of 4096 bytes. */
export function littlefs(blocks = 256, from?: unknown): StandIn {
  const root = from ? copyTree(from as LfsDir) : ({ kind: "dir", entries: new Map() } as LfsDir);
  const dirty = new Set<{ file: LfsFile; data: Uint8Array }>();
  const m = { changed: () => {}, calls: [] as string[] };
  const change = (call: string) => {
    m.calls.push(call);
    m.changed();
  };

  const segments = (path: string): string[] => {
    const parts = path.split("/").filter((s) => s !== "");
    for (const s of parts) {
      if (s === "." || s === "..") throw new Error("the store never names . or ..");
      if (bytesOf(s) > LFS_NAME_MAX) throw new Error("File name too long");
    }
    return parts;
  };
  /** The directory and name of `path`, which need not exist; throws if its parent is missing or no directory. */
  const place = (path: string): { dir: LfsDir; name: string } => {
    const parts = segments(path);
    const name = parts.pop();
    if (name === undefined) throw new Error("Invalid parameter");
    let dir = root;
    for (const s of parts) {
      const next = dir.entries.get(s);
      if (!next) throw new Error("No directory entry");
      if (next.kind !== "dir") throw new Error("Entry is not a dir");
      dir = next;
    }
    return { dir, name };
  };
  const find = (path: string): LfsNode | undefined => {
    if (segments(path).length === 0) return root;
    const { dir, name } = place(path);
    return dir.entries.get(name);
  };
  const used = (): number => {
    const count = (d: LfsDir): number => {
      let n = 2; // a metadata pair
      for (const e of d.entries.values()) n += e.kind === "dir" ? count(e) : lfsBlocks(e.data.length);
      return n;
    };
    let n = count(root);
    for (const w of dirty) n += Math.max(0, lfsBlocks(w.data.length) - (w.file.removed ? 0 : lfsBlocks(w.file.data.length)));
    return n;
  };
  /** lfs_remove: a file, or an empty directory. */
  const remove = (path: string): boolean => {
    try {
      const { dir, name } = place(path);
      const node = dir.entries.get(name);
      if (!node || (node.kind === "dir" && node.entries.size > 0)) return false;
      dir.entries.delete(name);
      if (node.kind === "file") node.removed = true;
      change(`delete ${path}`);
      return true;
    } catch {
      return false;
    }
  };

  class File implements ModdableFile {
    position = 0;
    readonly #file: LfsFile;
    #work: { file: LfsFile; data: Uint8Array } | undefined;
    #closed = false;

    constructor(path: string, write = false) {
      let node = find(path);
      if (!node && write) {
        const { dir, name } = place(path);
        node = { kind: "file", data: new Uint8Array(0), removed: false };
        dir.entries.set(name, node);
        change(`create ${path}`);
      }
      if (!node) throw new Error("No directory entry");
      if (node.kind === "dir") throw new Error("Entry is a dir");
      this.#file = node;
    }
    #data(): Uint8Array {
      if (this.#closed) throw new Error("closed");
      if (this.#work) return this.#work.data;
      return this.#file.removed ? new Uint8Array(this.#file.data.length) : this.#file.data;
    }
    read(_type: ArrayBufferConstructor, bytes?: number): ArrayBuffer {
      const out = readFrom(this.#data(), this.position, bytes);
      this.position += out.length;
      return out.buffer;
    }
    write(value: ArrayBuffer): void {
      const work = this.#work ?? { file: this.#file, data: this.#data() };
      const was = work.data;
      work.data = writeAt(was, this.position, value);
      dirty.add(work);
      if (used() > blocks) {
        work.data = was;
        if (!this.#work) dirty.delete(work);
        throw new Error("No space left on device");
      }
      this.#work = work;
      this.position += value.byteLength;
    }
    close(): void {
      if (this.#closed) return;
      this.#closed = true;
      if (!this.#work) return;
      dirty.delete(this.#work);
      if (this.#file.removed) return; // lfs_file_sync has no directory entry to update
      this.#file.data = this.#work.data;
      change("sync");
    }
    get length(): number {
      return this.#data().length;
    }
    static delete(path: string): boolean {
      return remove(path);
    }
    static exists(path: string): boolean {
      try {
        return find(path) !== undefined;
      } catch {
        return false;
      }
    }
    static rename(from: string, to: string): boolean {
      if (bytesOf(from) + 1 > LFS_NAME_MAX + 1) throw new RangeError("cannot buffer string");
      const target = renameTarget(from, to, LFS_NAME_MAX + 1);
      try {
        const src = place(from);
        const node = src.dir.entries.get(src.name);
        if (!node) return false;
        const dst = place(target);
        const old = dst.dir.entries.get(dst.name);
        if (old === node) return true;
        if (old && (old.kind !== node.kind || (old.kind === "dir" && old.entries.size > 0))) return false;
        if (node.kind === "dir" && `${target}/`.startsWith(`${from}/`)) {
          throw new Error("stand-in: moving a directory into itself orphans it on LittleFS");
        }
        if (old?.kind === "file") old.removed = true;
        src.dir.entries.delete(src.name);
        dst.dir.entries.set(dst.name, node);
        change(`rename ${from} ${target}`);
        return true;
      } catch (e) {
        if ((e as Error).message.startsWith("stand-in")) throw e;
        return false;
      }
    }
  }

  class Iterator {
    readonly #entries: ModdableEntry[];
    constructor(path: string) {
      const node = find(path);
      if (!node) throw new Error("No directory entry");
      if (node.kind !== "dir") throw new Error("Entry is not a dir");
      this.#entries = [{ name: "." }, { name: ".." }];
      for (const [name, e] of node.entries) this.#entries.push(e.kind === "dir" ? { name } : { name, length: e.data.length });
    }
    next(): ModdableEntry | undefined {
      return this.#entries.shift();
    }
  }

  const Directory = {
    create(path: string): void {
      const { dir, name } = place(path);
      if (dir.entries.has(name)) return; // LFS_ERR_EXIST is not an error to the module
      if (used() + 2 > blocks) throw new Error("No space left on device");
      dir.entries.set(name, { kind: "dir", entries: new Map() });
      change(`mkdir ${path}`);
    },
    delete(path: string): boolean {
      return remove(path);
    },
  };

  const System = {
    info: () => ({ total: blocks * LFS_BLOCK, used: used() * LFS_BLOCK }),
    config: () => ({ maxPathLength: LFS_NAME_MAX }),
  };

  return Object.assign(m, { File, Iterator, Directory, System, image: () => copyTree(root) });
}

// ---- SPIFFS ----

interface SpiffsObject {
  data: Uint8Array;
  deleted: boolean;
}

const MOUNT = "/mod";
const SPIFFS_PAGE = 256;
/** A page's header takes 5 of its bytes. */
const SPIFFS_PAYLOAD = SPIFFS_PAGE - 5;
/** SPIFFS_OBJ_NAME_LEN: a name and its NUL. */
const SPIFFS_NAME = 32;
const MAXOPEN = 5;
/** An object's pages: its index header and its data. */
const spiffsPages = (size: number) => 1 + Math.ceil(size / SPIFFS_PAYLOAD);

/** Moddable's file module over SPIFFS mounted at /mod, `total` bytes as esp_spiffs_info reports them. */
export function spiffs(total = 1 << 20, from?: unknown): StandIn {
  const names = new Map<string, SpiffsObject>();
  for (const [k, v] of (from as Map<string, Uint8Array> | undefined) ?? []) names.set(k, { data: v.slice(), deleted: false });
  const m = { changed: () => {}, calls: [] as string[] };
  const change = (call: string) => {
    m.calls.push(call);
    m.changed();
  };
  let open = 0;

  /** The SPIFFS name of a path under the mount ("/www/index.html"), or undefined (ENOENT, ENAMETOOLONG). */
  const nameOf = (path: string): string | undefined => {
    if (!path.startsWith(`${MOUNT}/`)) return undefined;
    const name = path.slice(MOUNT.length);
    return bytesOf(name) + 1 > SPIFFS_NAME ? undefined : name;
  };
  const used = () => [...names.values()].reduce((n, o) => n + spiffsPages(o.data.length), 0) * SPIFFS_PAGE;

  class File implements ModdableFile {
    position = 0;
    readonly #object: SpiffsObject;
    #closed = false;

    constructor(path: string, write = false) {
      const name = nameOf(path);
      if (name === undefined || open >= MAXOPEN) throw new Error("file not found");
      let o = names.get(name);
      if (!o && write) {
        if (used() + SPIFFS_PAGE > total) throw new Error("file not found");
        o = { data: new Uint8Array(0), deleted: false };
        names.set(name, o);
        change(`create ${path}`);
      }
      if (!o) throw new Error("file not found");
      this.#object = o;
      open++;
    }
    #live(): SpiffsObject {
      if (this.#closed) throw new Error("closed");
      return this.#object;
    }
    read(_type: ArrayBufferConstructor, bytes?: number): ArrayBuffer {
      const o = this.#live();
      if (o.deleted) throw new Error("file read failed");
      const out = readFrom(o.data, this.position, bytes);
      this.position += out.length;
      return out.buffer;
    }
    write(value: ArrayBuffer): void {
      const o = this.#live();
      if (o.deleted) throw new Error("file write failed");
      const data = writeAt(o.data, this.position, value);
      if (used() + (spiffsPages(data.length) - spiffsPages(o.data.length)) * SPIFFS_PAGE > total) throw new Error("file write failed");
      o.data = data;
      this.position += value.byteLength;
      change("write"); // the module flushes after every write
    }
    close(): void {
      if (this.#closed) return;
      this.#closed = true;
      open--;
    }
    get length(): number {
      const o = this.#live();
      return o.deleted ? 0 : o.data.length;
    }
    static delete(path: string): boolean {
      const name = nameOf(path);
      const o = name === undefined ? undefined : names.get(name);
      if (name === undefined || !o) return false;
      names.delete(name);
      o.deleted = true;
      change(`delete ${path}`);
      return true;
    }
    static exists(path: string): boolean {
      const name = nameOf(path);
      return name !== undefined && names.has(name);
    }
    static rename(from: string, to: string): boolean {
      const target = renameTarget(from, to, SPIFFS_NAME + 1);
      const a = nameOf(from);
      const b = nameOf(target);
      const o = a === undefined ? undefined : names.get(a);
      if (a === undefined || b === undefined || !o || names.has(b)) return false;
      names.delete(a);
      names.set(b, o);
      change(`rename ${from} ${target}`);
      return true;
    }
  }

  class Iterator {
    readonly #entries: ModdableEntry[] = [];
    constructor(path: string) {
      const dir = path.endsWith("/") ? path : `${path}/`;
      if (!dir.startsWith(`${MOUNT}/`)) throw new Error("failed to open directory");
      // ESP-IDF's readdir: below the mount, a name must start with the directory and go on with
      // a "/" right after it; Moddable's trailing "/" is part of the directory, so none does.
      const prefix = dir.slice(MOUNT.length);
      const plen = prefix.length;
      for (const [name, o] of names) {
        if (plen > 1 && (name.slice(0, plen).toLowerCase() !== prefix.toLowerCase() || name[plen] !== "/" || name.length === plen + 1)) continue;
        this.#entries.push({ name: plen > 1 ? name.slice(plen + 1) : name.slice(1), length: o.data.length });
      }
    }
    next(): ModdableEntry | undefined {
      return this.#entries.shift();
    }
  }

  const Directory = {
    create(_path: string): void {
      throw new Error("failed"); // mkdir: ENOTSUP
    },
    delete(_path: string): void {
      throw new Error("failed"); // rmdir: ENOTSUP
    },
  };

  const System = {
    info: () => ({ total, used: used() }),
    config: () => ({ maxPathLength: SPIFFS_NAME }),
  };

  const image = () => new Map([...names].map(([k, v]) => [k, v.data.slice()]));
  return Object.assign(m, { File, Iterator, Directory, System, image });
}
