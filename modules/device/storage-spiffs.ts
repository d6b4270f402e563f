// The firmware's files on SPIFFS, the option (manifests/storage/manifest_spiffs.json), through
// Moddable's `file` module (modules/files/file/esp32/modFile.c over ESP-IDF's SPIFFS). SPIFFS
// has flat names: "/mod/www/index.html" is one name with slashes in it, mkdir and rmdir fail,
// and the module's Iterator finds names only at the mount point, where it gives all of them,
// slashes and all (below it, it matches none). This volume builds directories over that:
// - a directory exists while a name under it does: "www" is there for "www/index.html";
// - mkdir writes an empty marker, "dir/.~d", so that an empty directory lasts until rmdir;
// - a directory's listing is the names under it, one level down;
// - renaming a directory renames every name under it, one at a time: a power failure on the
//   way leaves both directories, each with part of the files.
// SPIFFS's rename fails over an existing name, so a replace renames the finished file to
// "dir/.~cNAME", deletes NAME, then renames "dir/.~cNAME" to NAME. A power failure between
// leaves the ".~c" file, whole: the store finishes the move when it is next made.

import { RESERVED_PREFIX, splitPath } from "../storage/path.ts";
import { type FileModule, FileStore, type ModdableEntry, type Volume, asDirectory, attempt, entriesOf, pathBytes } from "./file-store.ts";

export type { FileModule, ModdableFile } from "./file-store.ts";

const MARKER = `${RESERVED_PREFIX}d`;
const PENDING = `${RESERVED_PREFIX}c`;
/** What the volume's own names add to a path: "/.~d" after a directory's, ".~c" before a file's. */
const OWN_NAMES = 4;

/** The entries one level below `dir` ("" or "a/b/"), from every name of the file system; throws if none is below it. */
function below(names: ModdableEntry[], dir: string): ModdableEntry[] {
  const out = new Map<string, ModdableEntry>();
  for (const e of names) {
    if (!e.name.startsWith(dir) || e.name.length === dir.length) continue;
    const rest = e.name.slice(dir.length);
    const slash = rest.indexOf("/");
    const name = slash < 0 ? rest : rest.slice(0, slash);
    if (!out.has(name)) out.set(name, slash < 0 ? { name, length: e.length ?? 0 } : { name });
  }
  if (dir !== "" && out.size === 0) throw new Error("no such directory");
  return [...out.values()];
}

/** Where a file waits for its target, `to`, to be deleted. */
function pendingOf(to: string): string {
  const slash = to.lastIndexOf("/");
  return `${to.slice(0, slash + 1)}${PENDING}${to.slice(slash + 1)}`;
}

/** `mount` is the file system's mount point with its trailing "/" (config.file.root). */
export function spiffsVolume(fs: FileModule, mount: string): Volume {
  /** The module's rename copies `to` into a buffer of this many bytes and a NUL. */
  const limit = fs.System.config().maxPathLength;
  const names = () => entriesOf(new fs.Iterator(mount));
  const rel = (path: string) => path.slice(mount.length);
  const moveAll = (from: string, to: string): boolean => {
    const prefix = `${rel(from)}/`;
    const moving = names().filter((e) => e.name.startsWith(prefix));
    const dest = (name: string) => `${to}/${name.slice(prefix.length)}`;
    if (!moving.length || moving.some((e) => pathBytes(dest(e.name)) > limit)) return false;
    let all = true;
    for (const e of moving) all = fs.File.rename(mount + e.name, dest(e.name)) && all;
    return all;
  };
  return {
    maxPath: limit - OWN_NAMES,
    list: (dir) => below(names(), rel(dir)),
    mkdir: (path) => new fs.File(`${path}/${MARKER}`, true).close(),
    rmdir: (path) => {
      fs.File.delete(`${path}/${MARKER}`);
      return !names().some((e) => e.name.startsWith(`${rel(path)}/`));
    },
    move: (from, to) => (fs.File.exists(from) ? fs.File.rename(from, to) : moveAll(from, to)),
    replace: (from, to) => {
      const pending = pendingOf(to);
      if (!fs.File.rename(from, pending)) return false;
      if (fs.File.delete(to)) return fs.File.rename(pending, to); // if this fails, finishPending does it
      fs.File.rename(pending, from);
      return false;
    },
  };
}

/** Finishes the replaces a power failure cut short: each ".~cNAME" takes NAME's place. */
export function finishPending(fs: FileModule, mount: string): void {
  for (const e of entriesOf(new fs.Iterator(mount))) {
    const { parent, name } = splitPath(e.name);
    if (!name.startsWith(PENDING) || name.length === PENDING.length) continue;
    const target = `${mount}${parent ? `${parent}/` : ""}${name.slice(PENDING.length)}`;
    fs.File.delete(target);
    fs.File.rename(mount + e.name, target);
  }
}

export class FileStorage extends FileStore {
  /** `root` is config.file.root, the mount point ("/mod/" on the ESP32). */
  constructor(fs: FileModule, root: string) {
    const mount = asDirectory(root);
    super(fs, mount, spiffsVolume(fs, mount));
    attempt(() => finishPending(fs, mount));
  }
}
