import test from "ava";
import fc from "fast-check";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import { VirtualClock } from "../../host-sim/clock.ts";
import { holds } from "../support/helpers.ts";
import { storageContract } from "./contract.ts";
import { bytes, must, reason, readAll, writeAll } from "../support/storage.ts";

storageContract("memory", () => new MemoryStorage({ limit: 1 << 20 }));

test("the byte limit counts files being written, and a write that does not fit writes nothing", (t) => {
  const s = new MemoryStorage({ limit: 1000 });
  t.is(s.free(), 1000);
  must(writeAll(s, "a", bytes(600)));
  t.is(s.free(), 400);
  const h = must(s.openWrite("b", "create"));
  must(h.write(bytes(300)));
  t.is(s.free(), 100);
  t.is(reason(h.write(bytes(101))), "storage-full");
  t.is(s.free(), 100);
  must(h.write(bytes(100)));
  t.is(s.free(), 0);
  t.is(reason(h.write(bytes(1))), "storage-full");
  h.abort();
  t.is(s.free(), 400);
  t.is(reason(s.stat("b")), "storage-not-found");
  t.is(reason(writeAll(s, "c", bytes(401))), "storage-full");
  t.is(s.free(), 400, "the failed file's bytes are released");
  must(s.delete("a"));
  t.is(s.free(), 1000);
});

test("replacing a file frees the old version's bytes when the new one lands", (t) => {
  const s = new MemoryStorage({ limit: 1000 });
  must(writeAll(s, "a", bytes(600)));
  t.is(reason(writeAll(s, "a", bytes(500), "replace")), "storage-full", "old and new do not both fit");
  t.is(reason(writeAll(s, "a", bytes(400), "replace")), "ok");
  t.is(s.free(), 600);
  must(writeAll(s, "b", bytes(100)));
  must(s.rename("b", "a"));
  t.is(s.free(), 900);
  t.deepEqual(readAll(s, "a"), bytes(100));
});

test("the entry limit refuses new files and directories with storage-full", (t) => {
  const s = new MemoryStorage({ maxEntries: 3 });
  must(s.mkdir("d"));
  must(writeAll(s, "d/a", bytes(1)));
  const pending = must(s.openWrite("d/b", "create"));
  must(writeAll(s, "c", bytes(1)));
  t.is(reason(pending.close()), "storage-full");
  t.is(reason(s.mkdir("e")), "storage-full");
  t.is(reason(s.openWrite("e", "append")), "storage-full");
  t.is(reason(writeAll(s, "c", bytes(2), "replace")), "ok", "replacing needs no new entry");
  must(s.delete("c"));
  t.is(reason(s.mkdir("e")), "ok");
});

test("an append handle stops once its file is deleted, and the store's count stays right", (t) => {
  const s = new MemoryStorage({ limit: 100 });
  const h = must(s.openWrite("log", "append"));
  must(h.write(bytes(10)));
  must(s.delete("log"));
  t.is(reason(h.write(bytes(10))), "storage-not-found");
  t.is(s.free(), 100);
});

test("mtimes come from the clock", (t) => {
  const clock = new VirtualClock(5000);
  const s = new MemoryStorage({ clock });
  must(s.mkdir("d"));
  clock.advance(250);
  must(writeAll(s, "d/f", bytes(3)));
  t.is(must(s.stat("d")).mtime, 5000);
  t.is(must(s.stat("d/f")).mtime, 5250);
  t.is(must(new MemoryStorage().stat("")).mtime, 0, "no clock, no time");
});

test("property: free space is always the limit less the files' sizes, and never negative", (t) => {
  const op = fc.record({
    name: fc.constantFrom("a", "b", "c"),
    size: fc.nat({ max: 700 }),
    kind: fc.constantFrom("create" as const, "replace" as const, "append" as const, "delete" as const, "abort" as const),
  });
  holds(
    t,
    fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const s = new MemoryStorage({ limit: 1500 });
      for (const o of ops) {
        if (o.kind === "delete") s.delete(o.name);
        else if (o.kind === "abort") {
          const h = s.openWrite(o.name, "replace");
          if (h.ok) {
            h.value.write(bytes(o.size));
            h.value.abort();
          }
        } else writeAll(s, o.name, bytes(o.size), o.kind, 64);
        const sizes = must(s.list("")).reduce((a, e) => a + e.size, 0);
        if (s.free() !== 1500 - sizes || s.free() < 0) return false;
      }
      return true;
    }),
  );
});
