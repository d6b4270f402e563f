import test from "ava";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../support/netns.ts";
import { GLUE, GLUE_CFLAGS, ROOT } from "./glue-build.ts";

const dir = mkdtempSync(join(tmpdir(), "glue-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Every host function the device TypeScript names: the "xs_..." literals it hands native() and Native(). */
function nativeNames(): string[] {
  const names = new Set<string>();
  const device = join(ROOT, "modules/device");
  for (const f of readdirSync(device).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))) {
    for (const m of readFileSync(join(device, f), "utf8").matchAll(/"(xs_\w+)"/g)) names.add(m[1]!);
  }
  return [...names].sort();
}

test("the glue compiles with -Wall -Wextra -Werror against lwIP 2.1, the XS headers and our host header, and defines every host function the TypeScript names", async (t) => {
  const object = join(dir, "netstack.o");
  const cc = await run("gcc", [...GLUE_CFLAGS, "-c", GLUE, "-o", object], 60_000);
  t.is(cc.code, 0, cc.stderr);
  t.is(cc.stderr, "");
  const nm = await run("nm", ["--defined-only", "-g", object]);
  const defined = new Set(nm.stdout.split("\n").map((l) => l.split(" ").pop()!));
  const names = nativeNames();
  t.true(names.length >= 10, names.join(" "));
  t.deepEqual(
    names.filter((n) => !defined.has(n)),
    [],
  );
});

test("the glue's compile check fails on a warning", async (t) => {
  // The same flags on a copy with one unused variable: proof that warnings do stop the build.
  const copy = join(dir, "warned.c");
  const source = readFileSync(GLUE, "utf8").replace("static NetstackGlue gGlue;", "static NetstackGlue gGlue;\nstatic void unused(void) { int x; }");
  writeFileSync(copy, source);
  const cc = await run("gcc", [...GLUE_CFLAGS, "-c", copy, "-o", join(dir, "warned.o")], 60_000);
  t.not(cc.code, 0);
  t.regex(cc.stderr, /error:/);
});
