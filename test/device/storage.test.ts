import test from "ava";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStorage } from "../../modules/device/storage.ts";
import { storageContract } from "../storage/contract.ts";
import { bytes, must, reason, readAll, writeAll } from "../support/storage.ts";
import { moddableFile } from "./moddable-file.ts";

const made: string[] = [];
test.after.always(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function tempRoot(): string {
  const d = fs.mkdtempSync(join(tmpdir(), "device-storage-"));
  made.push(d);
  return d;
}

function make(total?: number): { storage: FileStorage; root: string } {
  const root = tempRoot();
  return { storage: new FileStorage(moddableFile(root, total), `${root}/`), root };
}

storageContract("file module", () => make().storage);

test("the root is config.file.root with or without its trailing slash, and files land under it", (t) => {
  const root = tempRoot();
  const s = new FileStorage(moddableFile(root), root);
  must(s.mkdir("www"));
  must(writeAll(s, "www/index.html", bytes(40)));
  t.deepEqual(new Uint8Array(fs.readFileSync(join(root, "www", "index.html"))), bytes(40));
  t.deepEqual(readAll(new FileStorage(moddableFile(root), `${root}/www/`), "/index.html"), bytes(40));
});

test("create and replace leave no temporary file behind, whether closed or aborted", (t) => {
  const { storage, root } = make();
  must(writeAll(storage, "a", bytes(10)));
  must(writeAll(storage, "a", bytes(12, 2), "replace"));
  const h = must(storage.openWrite("b", "create"));
  must(h.write(bytes(3)));
  t.is(fs.readdirSync(root).length, 2, "the temporary file exists while writing");
  h.abort();
  t.deepEqual(fs.readdirSync(root), ["a"]);
  t.deepEqual(readAll(storage, "a"), bytes(12, 2));
});

test("a write that does not fit in what System.info() reports is refused as storage-full, and nothing is written", (t) => {
  const { storage } = make(1000);
  t.is(storage.free(), 1000);
  must(writeAll(storage, "a", bytes(600)));
  t.is(storage.free(), 400);
  const h = must(storage.openWrite("a", "append"));
  t.is(reason(h.write(bytes(401))), "storage-full");
  t.is(reason(h.write(bytes(400))), "ok");
  t.is(reason(h.close()), "ok");
  t.is(must(storage.stat("a")).size, 1000);
});

test("an append handle stops with storage-not-found once its file is deleted", (t) => {
  const { storage } = make();
  const h = must(storage.openWrite("log", "append"));
  must(h.write(bytes(5)));
  must(storage.delete("log"));
  t.is(reason(h.write(bytes(5))), "storage-not-found");
});
