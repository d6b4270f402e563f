import test from "ava";
import fc from "fast-check";
import { posix } from "node:path";
import { confinePath, splitPath, PATH_MAX_LENGTH } from "../../modules/storage/path.ts";
import { holds } from "../support/helpers.ts";

function confined(path: string): string {
  const r = confinePath(path);
  return r.ok ? r.value : r.reason;
}

test("paths are read relative to the root, with both separators, empty and dot segments dropped", (t) => {
  const cases: [string, string][] = [
    ["", ""],
    ["/", ""],
    ["file", "file"],
    ["/pxelinux.0", "pxelinux.0"],
    ["//a///b/", "a/b"],
    ["\\a\\b", "a/b"],
    ["a\\b/c", "a/b/c"],
    ["./a/./b/.", "a/b"],
    ["a/../b", "b"],
    ["a/b/../../c", "c"],
    ["a/..", ""],
    ["...", "..."],
    ["a/..../b", "a/..../b"],
    ["..a/b..", "..a/b.."],
    ["name with spaces", "name with spaces"],
    ["caf\u00e9", "caf\u00e9"],
  ];
  for (const [input, expected] of cases) t.is(confined(input), expected, JSON.stringify(input));
});

test("every way above the root is refused, absolute or relative, with either separator", (t) => {
  for (const input of [
    "..",
    "../",
    "/..",
    "../etc/passwd",
    "/../etc/passwd",
    "a/../../etc/passwd",
    "a/b/../../..",
    "..\\..\\windows\\win.ini",
    "\\..\\x",
    "./..",
    "a/./../..",
    "a/../../a",
    "//..//",
    "x/../../root/x",
  ]) {
    t.is(confined(input), "path-escapes-root", JSON.stringify(input));
  }
});

test("NUL, control characters, colons and overlong paths are refused", (t) => {
  t.is(confined("a\0b"), "path-nul");
  t.is(confined("file.txt\0.jpg"), "path-nul");
  t.is(confined("\0"), "path-nul");
  t.is(confined("a\nb"), "path-control");
  t.is(confined("a\x1bb"), "path-control");
  t.is(confined("a\x7fb"), "path-control");
  t.is(confined("C:\\Windows\\system.ini"), "path-colon");
  t.is(confined("file::$DATA"), "path-colon");
  t.is(confined("a".repeat(PATH_MAX_LENGTH)), "a".repeat(PATH_MAX_LENGTH));
  t.is(confined("a".repeat(PATH_MAX_LENGTH + 1)), "path-too-long");
  t.is(confined("/".repeat(PATH_MAX_LENGTH + 1)), "path-too-long");
  t.is(confinePath("abcd", 3).ok, false);
});

test("a name with the stores' reserved prefix is refused in any segment, even one that a later .. removes", (t) => {
  for (const p of [".~", ".~1", "a/.~b", "\\.~b\\c", ".~x/..", "a/./.~/b"]) t.is(confined(p), "path-reserved", p);
  for (const p of [".x~", "a~", "~", "a.~", "./~"]) t.not(confined(p), "path-reserved", p);
});

test("splitPath gives the parent and the last name", (t) => {
  t.deepEqual(splitPath("a/b/c"), { parent: "a/b", name: "c" });
  t.deepEqual(splitPath("c"), { parent: "", name: "c" });
});

// Paths built from the pieces that matter: traversal, separators, NUL, colons, odd names.
const piece = fc.constantFrom("..", ".", "", "a", "b", "...", ".a", " ", "\0", ":", "\u2215", "\u00e9", "..\\..", "\\", "/");
const sep = fc.constantFrom("/", "\\", "//", "/./");
const hostile = fc.tuple(fc.array(fc.tuple(piece, sep), { maxLength: 12 }), piece).map(([parts, last]) => parts.map(([p, s]) => p + s).join("") + last);
const anyPath = fc.oneof(
  hostile,
  fc.string({ maxLength: 40 }),
  fc.fullUnicodeString({ maxLength: 40 }),
  fc.stringOf(fc.constantFrom(".", "/", "\\", "a"), { maxLength: 60 }),
);

/** An independent model: node's POSIX resolution under a deep fake root, checked after every segment. */
function model(path: string): string {
  const root = `/${Array.from({ length: 100 }, (_, i) => `r${i}`).join("/")}`;
  const segments = path.replace(/\\/g, "/").split("/");
  let here = root;
  for (const s of segments) {
    here = posix.resolve(here, s || ".");
    if (here !== root && !here.startsWith(`${root}/`)) return "path-escapes-root";
  }
  return posix.relative(root, here);
}

test("property: on any path the result matches node's own resolution, or is refused for a reason", (t) => {
  holds(
    t,
    fc.property(anyPath, (path) => {
      const r = confinePath(path);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the property is about control characters
      if (/[\0-\x1f\x7f:]/.test(path) || path.length > PATH_MAX_LENGTH) return !r.ok && r.reason !== "path-escapes-root";
      if (/(^|[/\\])\.~/.test(path)) return !r.ok; // reserved, or above the root before it
      return confined(path) === model(path);
    }),
    { numRuns: 3000 },
  );
});

test("property: a confined path never leaves the root, is canonical, and confines to itself", (t) => {
  holds(
    t,
    fc.property(anyPath, (path) => {
      const r = confinePath(path);
      if (!r.ok) return true;
      const p = r.value;
      const inside = posix.resolve("/root", p);
      const segments = p === "" ? [] : p.split("/");
      return (
        (inside === "/root" || inside.startsWith("/root/")) &&
        segments.every((s) => s !== "" && s !== "." && s !== "..") &&
        !/[\\\0]/.test(p) &&
        p.length <= path.length &&
        confined(p) === p &&
        confined(`/${p}`) === p
      );
    }),
    { numRuns: 3000 },
  );
});

test("property: more '..' than a path has segments always escapes, whatever follows", (t) => {
  holds(
    t,
    fc.property(anyPath, fc.nat({ max: 3 }), fc.constantFrom("/", "\\"), fc.constantFrom("", "etc/passwd", "a"), (path, extra, s, tail) => {
      const r = confinePath(path);
      if (!r.ok) return true;
      const depth = r.value === "" ? 0 : r.value.split("/").length;
      const attack = [path, ...Array(depth + 1 + extra).fill(".."), tail].join(s);
      return attack.length > PATH_MAX_LENGTH || confined(attack) === "path-escapes-root";
    }),
    { numRuns: 2000 },
  );
});

test("property: joining a confined directory and a relative name confines like the joined raw text", (t) => {
  holds(
    t,
    fc.property(anyPath, anyPath, (dir, name) => {
      const d = confinePath(dir);
      const whole = `${dir}/${name}`;
      if (!d.ok || whole.length > PATH_MAX_LENGTH) return true;
      return confined(`${d.value}/${name}`) === confined(whole);
    }),
    { numRuns: 2000 },
  );
});
