// Moddable's `file` module on the host program, over the host functions in main.c that keep
// the behaviour of Moddable's Linux and ESP32 versions.

/// <reference path="../../../modules/device/xs-native.d.ts" />
import config from "./config.ts";

export class File extends Native("host_file_destructor") {
  constructor(path: string, write?: boolean) {
    super();
    native<(path: string, write?: boolean) => void>("host_file").call(this, path, write);
  }
  read(type: ArrayBufferConstructor, count?: number): ArrayBuffer {
    return native<(type: ArrayBufferConstructor, count?: number) => ArrayBuffer>("host_file_read").call(this, type, count);
  }
  write(value: ArrayBuffer): void {
    native<(value: ArrayBuffer) => void>("host_file_write").call(this, value);
  }
  close(): void {
    native<() => void>("host_file_close").call(this);
  }
  get length(): number {
    return native<() => number>("host_file_length").call(this);
  }
  get position(): number {
    return native<() => number>("host_file_get_position").call(this);
  }
  set position(to: number) {
    native<(to: number) => void>("host_file_set_position").call(this, to);
  }
  static delete(path: string): boolean {
    return native<(path: string) => boolean>("host_file_delete")(path);
  }
  static exists(path: string): boolean {
    return native<(path: string) => boolean>("host_file_exists")(path);
  }
  static rename(from: string, to: string): boolean {
    return native<(from: string, to: string) => boolean>("host_file_rename")(from, to);
  }
}

export class Iterator extends Native("host_iterator_destructor") {
  constructor(path: string) {
    super();
    native<(path: string) => void>("host_iterator").call(this, path);
  }
  next(): { name: string; length?: number } | undefined {
    return native<() => { name: string; length?: number } | undefined>("host_iterator_next").call(this);
  }
}

export const Directory = {
  create: native<(path: string) => void>("host_directory_create"),
  delete: native<(path: string) => void>("host_directory_delete"),
};

export const System = {
  info: () => native<(root: string) => { used: number; total: number }>("host_system_info")(config.file.root),
};
