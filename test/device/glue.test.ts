import test from "ava";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { run } from "../../bench/netns.ts";
import { GLUE_CFLAGS, GLUE_FILES, ROOT, glueObject } from "./glue-build.ts";

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

/** Compiles `source` (a path) with the glue's flags into the test's directory. */
function compile(source: string) {
  return run("gcc", [...GLUE_CFLAGS, "-c", source, "-o", join(dir, `${basename(source)}.o`)], 60_000);
}

/** A copy of a glue file with one change, in the test's directory. */
function variant(file: string, name: string, from: string, to: string): string {
  const text = readFileSync(file, "utf8");
  if (!text.includes(from)) throw new Error(`${basename(file)} has no ${JSON.stringify(from)}`);
  const copy = join(dir, name);
  writeFileSync(copy, text.replace(from, to));
  return copy;
}

test("the glue, built with warnings and implicit declarations as errors against lwIP 2.1, the XS headers and the stand-in headers, defines every host function the TypeScript names", async (t) => {
  t.true(GLUE_CFLAGS.includes("-Werror") && GLUE_CFLAGS.includes("-Werror=implicit-function-declaration"), GLUE_CFLAGS.join(" "));
  const defined = new Set<string>();
  for (const file of GLUE_FILES) {
    t.true(existsSync(glueObject(file)), `${glueObject(file)}: run npm run build:native`);
    const nm = await run("nm", ["--defined-only", "-g", glueObject(file)]);
    t.is(nm.code, 0, nm.stderr);
    for (const l of nm.stdout.split("\n")) defined.add(l.split(" ").pop()!);
  }
  const names = nativeNames();
  t.true(names.length >= 11, names.join(" "));
  t.deepEqual(
    names.filter((n) => !defined.has(n)),
    [],
  );
});

test("the glue's compile check fails on a warning", async (t) => {
  const copy = variant(GLUE_FILES[0]!, "warned.c", "static NetstackGlue gGlue;", "static NetstackGlue gGlue;\nstatic void unused(void) { int x; }");
  const cc = await compile(copy);
  t.not(cc.code, 0);
  t.regex(cc.stderr, /error:/);
});

test("a function whose header is not included fails, as the stand-in headers declare each function where ESP-IDF does", async (t) => {
  // esp_netif_get_netif_impl lives in esp_netif_net_stack.h, not in esp_netif.h.
  const copy = variant(GLUE_FILES[0]!, "unincluded.c", '#include "esp_netif_net_stack.h"\n', "");
  const cc = await compile(copy);
  t.not(cc.code, 0);
  t.regex(cc.stderr, /implicit declaration of function .esp_netif_get_netif_impl./);
});

test("lwIP 2.2's tcpip_callback_wait, which esp-lwip 2.1.3 (ESP-IDF 5.0 to 5.3) lacks, is refused though Debian's lwIP declares it", async (t) => {
  const header = readFileSync("/usr/include/lwip/lwip/tcpip.h", "utf8");
  t.regex(header, /tcpip_callback_wait/, "Debian's lwIP 2.1.3 declares it: the poison is what refuses it");
  const copy = variant(
    GLUE_FILES[0]!,
    "waits.c",
    "static NetstackGlue gGlue;",
    "static NetstackGlue gGlue;\nstatic void nop(void *c) { (void)c; }\nerr_t waits(void) { return tcpip_callback_wait(nop, NULL); }",
  );
  const cc = await compile(copy);
  t.not(cc.code, 0);
  t.regex(cc.stderr, /poisoned/);
});
