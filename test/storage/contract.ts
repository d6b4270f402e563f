// What every Storage must do, as ava tests any store's test file registers with its own factory.

import test from "ava";
import type { Storage } from "../../modules/storage/storage.ts";
import { bytes, drain, must, readAll, reason, writeAll } from "../support/storage.ts";

export interface ContractOptions {
  /**
   * What a reader opened before its file is replaced reads next: the old version ("old", as
   * POSIX keeps it), or nothing but storage-not-found ("ended", where the old version's blocks
   * are freed). Never bytes of the new one.
   */
  replacedReader?: "old" | "ended";
}

export function storageContract(name: string, make: () => Storage, options: ContractOptions = {}): void {
  const replacedReader = options.replacedReader ?? "old";

  test(`${name}: a file written in chunks reads back whole, in any chunk size, and from an offset`, (t) => {
    const s = make();
    const data = bytes(5000);
    t.is(reason(writeAll(s, "f.bin", data)), "ok");
    for (const chunk of [1, 512, 1024, 4999, 8192]) t.deepEqual(drain(must(s.openRead("f.bin")), chunk), data, `chunk ${chunk}`);
    t.deepEqual(readAll(s, "f.bin", 1234), data.subarray(1234));
    t.deepEqual(readAll(s, "f.bin", 5000), new Uint8Array(0));
    t.deepEqual(readAll(s, "f.bin", 9999), new Uint8Array(0));
    t.is(must(s.openRead("f.bin")).size, 5000);
    const st = must(s.stat("/f.bin"));
    t.is(st.size, 5000);
    t.false(st.isDirectory);
    t.is(reason(writeAll(s, "empty", new Uint8Array(0))), "ok");
    t.is(must(s.stat("empty")).size, 0);
    t.deepEqual(readAll(s, "empty"), new Uint8Array(0));
  });

  test(`${name}: create and replace show the file only when closed; abort leaves the old one`, (t) => {
    const s = make();
    const h = must(s.openWrite("new", "create"));
    must(h.write(bytes(10)));
    t.is(reason(s.stat("new")), "storage-not-found");
    t.is(reason(h.close()), "ok");
    t.deepEqual(readAll(s, "new"), bytes(10));
    t.is(reason(s.openWrite("new", "create")), "storage-exists");

    const reader = must(s.openRead("new"));
    const r = must(s.openWrite("new", "replace"));
    must(r.write(bytes(20, 2)));
    t.deepEqual(readAll(s, "new"), bytes(10), "old content until close");
    t.is(reason(r.close()), "ok");
    t.deepEqual(readAll(s, "new"), bytes(20, 2));
    if (replacedReader === "old") t.deepEqual(drain(reader), bytes(10), "a reader opened before keeps the old version");
    else t.is(reason(reader.read(new Uint8Array(4))), "storage-not-found", "a reader opened before ends");
    reader.close();

    const a = must(s.openWrite("new", "replace"));
    must(a.write(bytes(5, 3)));
    a.abort();
    t.deepEqual(readAll(s, "new"), bytes(20, 2));
    const gone = must(s.openWrite("never", "create"));
    must(gone.write(bytes(5)));
    gone.abort();
    t.is(reason(s.stat("never")), "storage-not-found");
    t.deepEqual(
      must(s.list("")).map((e) => e.name),
      ["new"],
    );
  });

  test(`${name}: create fails at close if the name was taken meanwhile, and the other file stays`, (t) => {
    const s = make();
    const slow = must(s.openWrite("race", "create"));
    must(slow.write(bytes(7)));
    t.is(reason(writeAll(s, "race", bytes(3, 9))), "ok");
    t.is(reason(slow.close()), "storage-exists");
    t.deepEqual(readAll(s, "race"), bytes(3, 9));
    t.deepEqual(
      must(s.list("")).map((e) => e.name),
      ["race"],
    );
  });

  test(`${name}: append creates, then adds to the end as it writes`, (t) => {
    const s = make();
    t.is(reason(writeAll(s, "log", bytes(3), "append")), "ok");
    const h = must(s.openWrite("log", "append"));
    must(h.write(bytes(4, 5)));
    t.is(reason(h.close()), "ok");
    t.is(must(s.stat("log")).size, 7, "at the latest when the handle closes (LittleFS shows it no sooner)");
    t.deepEqual(readAll(s, "log"), Uint8Array.of(...bytes(3), ...bytes(4, 5)));
  });

  test(`${name}: closed handles refuse further use`, (t) => {
    const s = make();
    must(writeAll(s, "f", bytes(10)));
    const r = must(s.openRead("f"));
    r.close();
    r.close();
    t.is(reason(r.read(new Uint8Array(4))), "storage-closed");
    const w = must(s.openWrite("g", "create"));
    t.is(reason(w.close()), "ok");
    t.is(reason(w.write(bytes(1))), "storage-closed");
    t.is(reason(w.close()), "storage-closed");
    w.abort();
    t.is(must(s.stat("g")).size, 0);
  });

  test(`${name}: directories: mkdir, list with stats sorted by name, rmdir only when empty`, (t) => {
    const s = make();
    t.is(reason(s.mkdir("d")), "ok");
    t.is(reason(s.mkdir("d/e")), "ok");
    t.is(reason(s.mkdir("d")), "storage-exists");
    t.is(reason(s.mkdir("x/y")), "storage-not-found");
    must(writeAll(s, "d/b.txt", bytes(3)));
    must(writeAll(s, "d/a.txt", bytes(12)));
    t.is(reason(s.mkdir("d/a.txt/z")), "storage-not-directory");
    const list = must(s.list("/d/"));
    t.deepEqual(
      list.map((e) => [e.name, e.isDirectory, e.size]),
      [
        ["a.txt", false, 12],
        ["b.txt", false, 3],
        ["e", true, 0],
      ],
    );
    t.true(must(s.stat("d")).isDirectory);
    t.is(reason(s.list("d/a.txt")), "storage-not-directory");
    t.is(reason(s.list("nope")), "storage-not-found");
    t.is(reason(s.rmdir("d")), "storage-not-empty");
    t.is(reason(s.rmdir("d/a.txt")), "storage-not-directory");
    t.is(reason(s.delete("d/e")), "storage-is-directory");
    t.is(reason(s.openRead("d")), "storage-is-directory");
    t.is(reason(s.openWrite("d", "replace")), "storage-is-directory");
    t.is(reason(s.openWrite("d/a.txt/f", "create")), "storage-not-directory");
    t.is(reason(s.stat("d/a.txt/f")), "storage-not-directory");
    t.is(reason(s.delete("d/a.txt")), "ok");
    t.is(reason(s.delete("d/a.txt")), "storage-not-found");
    t.is(reason(s.delete("d/b.txt")), "ok");
    t.is(reason(s.rmdir("d/e")), "ok");
    t.is(reason(s.rmdir("d")), "ok");
    t.is(reason(s.rmdir("d")), "storage-not-found");
    t.deepEqual(must(s.list("")), []);
  });

  test(`${name}: rename moves files and directories, replaces files, never a directory, never into itself`, (t) => {
    const s = make();
    must(writeAll(s, "a", bytes(4)));
    must(writeAll(s, "b", bytes(6, 2)));
    must(s.mkdir("d"));
    must(writeAll(s, "d/inner", bytes(2, 3)));
    t.is(reason(s.rename("a", "c")), "ok");
    t.is(reason(s.stat("a")), "storage-not-found");
    t.deepEqual(readAll(s, "c"), bytes(4));
    t.is(reason(s.rename("c", "b")), "ok");
    t.deepEqual(readAll(s, "b"), bytes(4));
    t.is(reason(s.rename("b", "d")), "storage-exists");
    t.is(reason(s.rename("d", "b")), "storage-exists");
    t.is(reason(s.rename("d", "d/sub")), "storage-denied");
    t.is(reason(s.rename("d", "d")), "ok");
    t.is(reason(s.rename("missing", "x")), "storage-not-found");
    t.is(reason(s.rename("b", "nodir/x")), "storage-not-found");
    t.is(reason(s.rename("d", "e")), "ok");
    t.deepEqual(readAll(s, "e/inner"), bytes(2, 3));
    t.is(reason(s.rename("e/inner", "top")), "ok");
    t.deepEqual(
      must(s.list("")).map((e) => e.name),
      ["b", "e", "top"],
    );
  });

  test(`${name}: every method refuses paths above the root, NUL and the root itself as an entry`, (t) => {
    const s = make();
    must(writeAll(s, "f", bytes(3)));
    for (const bad of ["../f", "a/../../f", "..\\f", "/../f", "f\0"]) {
      const expected = bad.includes("\0") ? "path-nul" : "path-escapes-root";
      t.is(reason(s.openRead(bad)), expected, bad);
      t.is(reason(s.openWrite(bad, "replace")), expected, bad);
      t.is(reason(s.stat(bad)), expected, bad);
      t.is(reason(s.list(bad)), expected, bad);
      t.is(reason(s.mkdir(bad)), expected, bad);
      t.is(reason(s.rmdir(bad)), expected, bad);
      t.is(reason(s.delete(bad)), expected, bad);
      t.is(reason(s.rename(bad, "g")), expected, bad);
      t.is(reason(s.rename("f", bad)), expected, bad);
    }
    for (const root of ["", "/", "a/.."]) {
      t.is(reason(s.openWrite(root, "replace")), "storage-denied");
      t.is(reason(s.mkdir(root)), "storage-denied");
      t.is(reason(s.rmdir(root)), "storage-denied");
      t.is(reason(s.delete(root)), "storage-denied");
      t.is(reason(s.rename(root, "x")), "storage-denied");
      t.is(reason(s.rename("f", root)), "storage-denied");
      t.is(reason(s.openRead(root)), "storage-is-directory");
      t.true(must(s.stat(root)).isDirectory);
    }
    t.deepEqual(readAll(s, "/./f"), bytes(3));
    t.true(s.free() > 0);
  });

  test(`${name}: no client can name the stores' reserved names (".~..."), and an unfinished upload is never listed`, (t) => {
    const s = make();
    must(writeAll(s, "f", bytes(3)));
    must(s.mkdir("d"));
    const h = must(s.openWrite("d/up", "replace"));
    must(h.write(bytes(10)));
    const g = must(s.openWrite("up", "create"));
    must(g.write(bytes(10)));
    for (const bad of [".~", ".~1", ".~f", "d/.~up.0000.part", "/.~x/..", "\\.~x"]) {
      t.is(reason(s.openRead(bad)), "path-reserved", bad);
      t.is(reason(s.openWrite(bad, "replace")), "path-reserved", bad);
      t.is(reason(s.openWrite(bad, "append")), "path-reserved", bad);
      t.is(reason(s.stat(bad)), "path-reserved", bad);
      t.is(reason(s.list(bad)), "path-reserved", bad);
      t.is(reason(s.mkdir(bad)), "path-reserved", bad);
      t.is(reason(s.rmdir(bad)), "path-reserved", bad);
      t.is(reason(s.delete(bad)), "path-reserved", bad);
      t.is(reason(s.rename(bad, "g")), "path-reserved", bad);
      t.is(reason(s.rename("f", bad)), "path-reserved", bad);
    }
    t.deepEqual(
      must(s.list("")).map((e) => e.name),
      ["d", "f"],
    );
    t.deepEqual(must(s.list("d")), []);
    must(h.close());
    g.abort();
    t.deepEqual(
      must(s.list("d")).map((e) => e.name),
      ["up"],
    );
    t.is(reason(s.stat(".x~")), "storage-not-found", "only the prefix is reserved");
  });
}
