// A stand-in for Moddable's `file` module on Node, for testing FileStorage off the device. It
// keeps the semantics of Moddable's ESP32 implementation (modules/files/file/esp32/modFile.c)
// over a real directory: open for writing creates, read of more than is left throws, an
// iterator lists regular files (with length) and directories (without), rename takes a full
// path or a name in the same directory, failures throw or answer false.

import * as fs from "node:fs";
import { dirname, join } from "node:path";
import type { FileModule, ModdableFile } from "../../modules/device/storage.ts";

class File implements ModdableFile {
  #fd: number | undefined;
  position = 0;

  constructor(path: string, write = false) {
    try {
      this.#fd = fs.openSync(path, write ? "r+" : "r");
    } catch {
      if (!write) throw new Error("file not found");
      this.#fd = fs.openSync(path, "w+");
    }
  }

  #open(): number {
    if (this.#fd === undefined) throw new Error("closed");
    return this.#fd;
  }

  read(_type: ArrayBufferConstructor, bytes?: number): ArrayBuffer {
    const n = bytes ?? this.length - this.position;
    const buf = Buffer.alloc(n);
    const got = fs.readSync(this.#open(), buf, 0, n, this.position);
    if (got !== n) throw new Error("file read failed");
    this.position += n;
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + n);
  }

  write(value: ArrayBuffer): void {
    const n = fs.writeSync(this.#open(), new Uint8Array(value), 0, value.byteLength, this.position);
    this.position += n;
  }

  close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  get length(): number {
    return fs.fstatSync(this.#open()).size;
  }

  static delete(path: string): boolean {
    try {
      fs.unlinkSync(path);
      return true;
    } catch {
      return false;
    }
  }

  static exists(path: string): boolean {
    return fs.existsSync(path);
  }

  static rename(from: string, to: string): boolean {
    try {
      fs.renameSync(from, to.startsWith("/") ? to : join(dirname(from), to));
      return true;
    } catch {
      return false;
    }
  }
}

class Iterator {
  readonly #entries: fs.Dirent[];
  readonly #path: string;

  constructor(path: string) {
    this.#entries = fs.readdirSync(path, { withFileTypes: true }).filter((e) => e.isFile() || e.isDirectory());
    this.#path = path;
  }

  next(): { name: string; length?: number } | undefined {
    const e = this.#entries.shift();
    if (!e) return undefined;
    return e.isFile() ? { name: e.name, length: fs.statSync(join(this.#path, e.name)).size } : { name: e.name };
  }
}

const Directory = {
  create(path: string): void {
    fs.mkdirSync(path);
  },
  delete(path: string): void {
    fs.rmdirSync(path);
  },
};

/** The file module, with System.info() reporting `total` bytes of which the files under `root` use some. */
export function moddableFile(root: string, total = 1 << 20): FileModule {
  const used = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => sum + (e.isDirectory() ? used(join(dir, e.name)) : fs.statSync(join(dir, e.name)).size), 0);
  return { File, Iterator, Directory, System: { info: () => ({ used: used(root), total }) } };
}
