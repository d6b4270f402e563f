import test from "ava";
import fc from "fast-check";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { DirectoryStorage } from "../../host-sim/storage/directory.ts";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import type { Storage } from "../../modules/storage/storage.ts";
import type { Result } from "../../modules/wire/result.ts";
import { holds } from "../support/helpers.ts";
import { storageContract } from "./contract.ts";
import { bytes, must, reason, readAll, writeAll, drain } from "../support/storage.ts";

const made: string[] = [];
test.after.always(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(join(tmpdir(), "storage-"));
  made.push(d);
  return d;
}

storageContract("directory", () => new DirectoryStorage(tempDir()));

/** A root with a secret next to it, and links in it that lead out and that stay in. */
function linked() {
  const base = tempDir();
  const root = join(base, "root");
  const out = join(base, "out");
  fs.mkdirSync(root);
  fs.mkdirSync(out);
  fs.writeFileSync(join(out, "secret"), "top secret");
  fs.writeFileSync(join(root, "f"), "inside");
  fs.mkdirSync(join(root, "sub"));
  fs.writeFileSync(join(root, "sub", "g"), "deeper");
  fs.symlinkSync(join(out, "secret"), join(root, "leak"));
  fs.symlinkSync("../out/secret", join(root, "relative-leak"));
  fs.symlinkSync(out, join(root, "door"));
  fs.symlinkSync(join(out, "created-through-link"), join(root, "dangling"));
  fs.symlinkSync("leak", join(root, "chain"));
  fs.symlinkSync("f", join(root, "alias"));
  fs.symlinkSync(join(root, "sub"), join(root, "subalias"));
  fs.symlinkSync("../f", join(root, "sub", "up"));
  return { root, out, s: new DirectoryStorage(root) };
}

test("links that lead out of the root are refused for every operation, and nothing outside changes", (t) => {
  const { out, s } = linked();
  for (const p of ["leak", "relative-leak", "chain", "door/secret", "door", "dangling", "sub/../door/secret"]) {
    t.is(reason(s.openRead(p)), "storage-denied", p);
    t.is(reason(s.stat(p)), "storage-denied", p);
    t.is(reason(s.delete(p)), "storage-denied", p);
    t.is(reason(s.rename(p, "x")), "storage-denied", p);
  }
  t.is(reason(s.list("door")), "storage-denied");
  for (const mode of ["create", "replace", "append"] as const) {
    t.is(reason(s.openWrite("dangling", mode)), "storage-denied", mode);
    t.is(reason(s.openWrite("door/new", mode)), "storage-denied", mode);
    t.is(reason(s.openWrite("leak", mode)), "storage-denied", mode);
  }
  t.is(reason(s.mkdir("door/x")), "storage-denied");
  t.is(reason(s.rmdir("door")), "storage-denied");
  t.is(reason(s.rename("f", "door/f")), "storage-denied");
  t.deepEqual(fs.readdirSync(out).sort(), ["secret"]);
  t.is(fs.readFileSync(join(out, "secret"), "utf8"), "top secret");
});

test("links that stay inside the root are followed", (t) => {
  const { s } = linked();
  t.is(new TextDecoder().decode(readAll(s, "alias")), "inside");
  t.is(new TextDecoder().decode(readAll(s, "subalias/g")), "deeper");
  t.is(new TextDecoder().decode(readAll(s, "sub/up")), "inside");
  t.is(reason(writeAll(s, "subalias/h", bytes(5))), "ok");
  t.deepEqual(readAll(s, "sub/h"), bytes(5));
});

test("a listing leaves out the links that lead out", (t) => {
  const { s } = linked();
  t.deepEqual(
    must(s.list("")).map((e) => e.name),
    ["alias", "f", "sub", "subalias"],
  );
  t.deepEqual(
    must(s.list("sub")).map((e) => e.name),
    ["g", "up"],
  );
});

test("FIFOs and other special files are refused at once, never waited on", (t) => {
  const root = tempDir();
  execFileSync("mkfifo", [join(root, "pipe")]);
  const s = new DirectoryStorage(root);
  t.is(reason(s.openRead("pipe")), "storage-denied");
  for (const mode of ["create", "replace", "append"] as const) t.is(reason(s.openWrite("pipe", mode)), "storage-denied", mode);
  t.false(must(s.stat("pipe")).isDirectory);
});

test("a root given through a link works, and stat reports host sizes and mtimes", (t) => {
  const base = tempDir();
  fs.mkdirSync(join(base, "real"));
  fs.symlinkSync(join(base, "real"), join(base, "via"));
  const s = new DirectoryStorage(join(base, "via"));
  must(writeAll(s, "x", bytes(77)));
  t.deepEqual(new Uint8Array(fs.readFileSync(join(base, "real", "x"))), bytes(77));
  const st = must(s.stat("x"));
  t.is(st.size, 77);
  t.is(st.mtime, fs.statSync(join(base, "real", "x")).mtimeMs);
});

test("a file being written lives under a hidden temporary name with the reserved prefix, which abort removes", (t) => {
  const root = tempDir();
  const s = new DirectoryStorage(root);
  const h = must(s.openWrite("upload.bin", "create"));
  must(h.write(bytes(10)));
  const names = fs.readdirSync(root);
  t.is(names.length, 1);
  t.regex(names[0]!, /^\.~upload\.bin\.[0-9a-f]{8}\.part$/);
  h.abort();
  t.deepEqual(fs.readdirSync(root), []);
  const done = must(s.openWrite("upload.bin", "replace"));
  must(done.write(bytes(3)));
  must(done.close());
  t.deepEqual(fs.readdirSync(root), ["upload.bin"]);
});

test("an upload's temporary file is neither listed nor served, nor can it be named at all", (t) => {
  const root = tempDir();
  const s = new DirectoryStorage(root);
  must(writeAll(s, "done.txt", bytes(4)));
  const h = must(s.openWrite("up.bin", "replace"));
  must(h.write(bytes(10)));
  const temp = fs.readdirSync(root).find((n) => n !== "done.txt")!;
  t.truthy(temp);
  t.deepEqual(
    must(s.list("")).map((e) => e.name),
    ["done.txt"],
  );
  t.is(reason(s.openRead(temp)), "path-reserved");
  t.is(reason(s.stat(temp)), "path-reserved");
  t.is(reason(s.delete(temp)), "path-reserved");
  t.is(reason(s.openWrite(temp, "append")), "path-reserved");
  must(h.close());
  t.deepEqual(fs.readdirSync(root).sort(), ["done.txt", "up.bin"]);
});

test("free space comes from the host file system", (t) => {
  const root = tempDir();
  const s = new DirectoryStorage(root);
  const st = fs.statfsSync(root);
  t.is(s.free(), st.bavail * st.bsize);
});

// ---- the directory store and the memory store agree on any sequence of operations ----

const name = fc.constantFrom("a", "b", "d", "d/a", "d/e", "d/e/f", "/a", "d/../b", "../a", "", "a/x");
const op = fc.oneof(
  fc.record({
    op: fc.constant("write" as const),
    path: name,
    mode: fc.constantFrom("create" as const, "replace" as const, "append" as const),
    size: fc.nat({ max: 3000 }),
    abort: fc.boolean(),
  }),
  fc.record({ op: fc.constant("read" as const), path: name, offset: fc.nat({ max: 3500 }) }),
  fc.record({ op: fc.constantFrom("stat" as const, "list" as const, "mkdir" as const, "rmdir" as const, "delete" as const), path: name }),
  fc.record({ op: fc.constant("rename" as const), path: name, to: name }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function show(r: Result<unknown>): unknown {
  if (!r.ok) return r.reason;
  const v = r.value;
  if (Array.isArray(v)) return v.map(({ name, size, isDirectory }) => ({ name, size, isDirectory }));
  if (v && typeof v === "object" && "isDirectory" in v) return { ...v, mtime: 0 };
  return v ?? "ok";
}

function apply(s: Storage, o: Op, seed: number): unknown {
  switch (o.op) {
    case "write": {
      const h = s.openWrite(o.path, o.mode);
      if (!h.ok) return h.reason;
      must(h.value.write(bytes(o.size, seed)));
      if (!o.abort) return show(h.value.close());
      h.value.abort();
      return "aborted";
    }
    case "read": {
      const h = s.openRead(o.path, o.offset);
      return h.ok ? Array.from(drain(h.value, 999)) : h.reason;
    }
    case "rename":
      return show(s.rename(o.path, o.to));
    default:
      return show(s[o.op](o.path));
  }
}

test("property: the directory store gives the same answers as the memory store", (t) => {
  holds(
    t,
    fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
      const root = fs.mkdtempSync(join(tmpdir(), "storage-diff-"));
      try {
        const disk = new DirectoryStorage(root);
        const memory = new MemoryStorage({ limit: 1 << 22 });
        return ops.every((o, i) => JSON.stringify(apply(disk, o, i)) === JSON.stringify(apply(memory, o, i)));
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    }),
    { numRuns: 150 },
  );
});
