// The firmware's files on LittleFS, the default (manifests/storage/manifest.json), through
// Moddable's `file` module (modules/files/file/littlefs/modLittlefs.c): a FileStore over a
// volume that LittleFS serves as it is. LittleFS has real directories, and its rename replaces
// an existing file in one metadata commit, so a finished upload takes its target's place with
// no moment, even across a power failure, when neither version is there.

import { type FileModule, FileStore, type Volume, entriesOf } from "./file-store.ts";

export type { FileModule, ModdableFile } from "./file-store.ts";

/** LFS_NAME_MAX: the module's rename copies both paths into buffers of this many bytes and a NUL. */
const LFS_PATH_MAX = 255;

export function littlefsVolume(fs: FileModule): Volume {
  return {
    maxPath: LFS_PATH_MAX,
    list: (dir) => entriesOf(new fs.Iterator(dir)),
    mkdir: (path) => fs.Directory.create(path),
    // On LittleFS, Directory.delete answers whether lfs_remove did it; the module's others throw.
    rmdir: (path) => (fs.Directory.delete(path) as unknown) !== false,
    move: (from, to) => fs.File.rename(from, to),
    replace: (from, to) => fs.File.rename(from, to),
  };
}

export class FileStorage extends FileStore {
  /** `root` is config.file.root ("/" with LittleFS on the ESP32). */
  constructor(fs: FileModule, root: string) {
    super(fs, root, littlefsVolume(fs));
  }
}
