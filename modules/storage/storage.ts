// The small file system the file servers (TFTP, FTP, HTTP) stand on. It is synchronous,
// as Moddable's `file` module is, and it streams: files are opened, then read or written a
// chunk at a time, so no server ever holds a whole file.
//
// Every path a method takes is a client's path, confined to the store's root by
// confinePath (path.ts) before anything else happens. Failures are Results whose reason
// is one of the STORAGE_* strings below or a "path-..." reason from confinePath.

import type { Result } from "../wire/result.ts";
import type { PathError } from "./path.ts";

export const STORAGE_NOT_FOUND = "storage-not-found";
export const STORAGE_EXISTS = "storage-exists";
export const STORAGE_IS_DIRECTORY = "storage-is-directory";
export const STORAGE_NOT_DIRECTORY = "storage-not-directory";
export const STORAGE_NOT_EMPTY = "storage-not-empty";
export const STORAGE_FULL = "storage-full";
/** The store refuses: the root itself, a link that leaves the root, a move into itself, too many entries. */
export const STORAGE_DENIED = "storage-denied";
/** A handle that is already closed. */
export const STORAGE_CLOSED = "storage-closed";
export const STORAGE_IO = "storage-io";

/** Every reason a Storage fails with. */
export type StorageError =
  | typeof STORAGE_NOT_FOUND
  | typeof STORAGE_EXISTS
  | typeof STORAGE_IS_DIRECTORY
  | typeof STORAGE_NOT_DIRECTORY
  | typeof STORAGE_NOT_EMPTY
  | typeof STORAGE_FULL
  | typeof STORAGE_DENIED
  | typeof STORAGE_CLOSED
  | typeof STORAGE_IO
  | PathError;

/**
 * The reason of a failed Storage result, typed. The interface below still says string, as
 * modules/device/file-store.ts declares its results so, but every store fails only with these.
 */
export function storageError(reason: string): StorageError {
  return reason as StorageError;
}

export interface FileStat {
  size: number;
  /** Milliseconds since the epoch of the store's clock. */
  mtime: number;
  isDirectory: boolean;
}

export interface DirEntry extends FileStat {
  name: string;
}

export interface ReadHandle {
  /** The file's size when it was opened. */
  readonly size: number;
  /** Reads up to `buf.length` bytes at the current position into `buf`; 0 means end of file. */
  read(buf: Uint8Array): Result<number>;
  close(): void;
}

/**
 * create: a new file; fails with storage-exists if the name is taken.
 * replace: a new file, or a new version of an existing one.
 * append: writes go to the end of the file (created if missing) as they are made.
 * With create and replace the file appears, whole, only when the handle closes.
 */
export type WriteMode = "create" | "replace" | "append";

export interface WriteHandle {
  /** Writes all of `data`, or nothing (storage-full when it does not fit). */
  write(data: Uint8Array): Result<void>;
  /** Finishes the file. With create, fails with storage-exists if the name was taken meanwhile. */
  close(): Result<void>;
  /** Gives up: with create and replace nothing changes; with append what was written stays. */
  abort(): void;
}

export interface Storage {
  /** Opens a file for reading, positioned at `offset` (default 0; past the end reads nothing). */
  openRead(path: string, offset?: number): Result<ReadHandle>;
  openWrite(path: string, mode: WriteMode): Result<WriteHandle>;
  stat(path: string): Result<FileStat>;
  /** A directory's entries, sorted by name. */
  list(path: string): Result<DirEntry[]>;
  /** Creates one directory; its parent must exist. */
  mkdir(path: string): Result<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Result<void>;
  /** Removes a file. */
  delete(path: string): Result<void>;
  /** Moves a file or directory; an existing file at `to` is replaced, a directory is not. */
  rename(from: string, to: string): Result<void>;
  /** Bytes that can still be written. */
  free(): number;
}
