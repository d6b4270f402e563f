import test from "ava";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import { Subtree, makeDirs } from "../../modules/storage/subtree.ts";
import { storageContract } from "./contract.ts";
import { bytes, must, reason, readAll, writeAll } from "../support/storage.ts";

storageContract("subtree", () => {
  const base = new MemoryStorage({ limit: 1 << 20 });
  must(makeDirs(base, "a/b"));
  return must(Subtree.of(base, "a/b"));
});

test("a subtree is its directory of the base: files land there, and nothing outside it can be named", (t) => {
  const base = new MemoryStorage({ limit: 1 << 20 });
  must(makeDirs(base, "www"));
  must(writeAll(base, "secret", bytes(5)));
  const www = must(Subtree.of(base, "/www/"));
  must(writeAll(www, "/index.html", bytes(10)));
  t.deepEqual(readAll(base, "www/index.html"), bytes(10));
  t.is(reason(www.stat("../secret")), "path-escapes-root");
  t.is(reason(www.openRead("/../secret")), "path-escapes-root");
  t.deepEqual(
    must(www.list("")).map((e) => e.name),
    ["index.html"],
  );
  t.true(must(www.stat("/")).isDirectory);
});

test("a subtree's root cannot be written, removed or moved, as a store's own root cannot", (t) => {
  const base = new MemoryStorage({ limit: 1 << 20 });
  must(makeDirs(base, "www"));
  const www = must(Subtree.of(base, "www"));
  t.is(reason(www.rmdir("/")), "storage-denied");
  t.is(reason(www.delete("")), "storage-denied");
  t.is(reason(www.rename("", "x")), "storage-denied");
  t.is(reason(www.rename("x", ".")), "storage-denied");
  t.is(reason(www.openWrite("", "replace")), "storage-denied");
  t.true(must(base.stat("www")).isDirectory, "the directory is still there");
});

test("Subtree.of refuses a directory outside the store and gives the store itself for its root", (t) => {
  const base = new MemoryStorage();
  t.is(reason(Subtree.of(base, "../up")), "path-escapes-root");
  t.is(must(Subtree.of(base, "/")), base);
});

test("makeDirs makes missing parents, keeps existing ones, and says why it cannot", (t) => {
  const base = new MemoryStorage();
  must(makeDirs(base, "a/b/c"));
  must(makeDirs(base, "a/b"));
  t.true(must(base.stat("a/b/c")).isDirectory);
  must(writeAll(base, "f", bytes(1)));
  t.is(reason(makeDirs(base, "f/g")), "storage-not-directory");
});
