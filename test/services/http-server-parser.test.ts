// The request parser on its own: however TCP splits the bytes, the same events come out;
// no input makes it throw; and the field parsers (target, HTTP-date) and UTF-8 encoder
// against independent references.

import test from "ava";
import fc from "fast-check";
import { RequestParser, type HttpLimits, type ParseStep, splitTarget, parseHttpDate } from "../../modules/services/http-parser.ts";
import { httpDate, mimeType } from "../../modules/services/http-server.ts";
import { utf8Encode as utf8 } from "../../modules/wire/text.ts";
import { holds } from "../support/helpers.ts";

const LIMITS: HttpLimits = { maxRequestLine: 200, maxHeaderBytes: 400, maxHeaders: 8, maxBodyBytes: 5000 };
const enc = (s: string) => new TextEncoder().encode(s);

/** The events for `input` fed in pieces cut at `cuts`, body data merged per body, up to the first error. */
function events(input: Uint8Array, cuts: number[], limits = LIMITS): string[] {
  const p = new RequestParser(limits);
  const out: string[] = [];
  let body = "";
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, input.length]) {
    let piece = input.subarray(from, to);
    from = to;
    for (;;) {
      const { used, step } = p.next(piece);
      piece = piece.subarray(used);
      if (step.kind === "more" && !piece.length) break;
      if (step.kind === "data") body += String.fromCharCode(...step.data);
      else if (step.kind === "end") {
        out.push(`body ${JSON.stringify(body)}`);
        body = "";
      } else if (step.kind === "head") out.push(`head ${JSON.stringify(step.head)}`);
      else if (step.kind === "error") {
        out.push(`error ${step.status} ${step.reason}`);
        return out;
      }
    }
  }
  return out;
}

/** A request as text, with its body as the parser should hand it out (one character per byte). */
const request = fc
  .record({
    method: fc.constantFrom("GET", "POST", "PUT", "X-Y"),
    path: fc.stringMatching(/^\/[a-z0-9%./]{0,30}$/),
    minor: fc.constantFrom(0, 1),
    lf: fc.constantFrom("\r\n", "\n"),
    fields: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,10}$/), fc.stringMatching(/^[ -~]{0,30}$/)), { maxLength: 4 }),
    body: fc.string({ maxLength: 300 }), // printable ASCII: a character is a byte
    chunks: fc.option(fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 5 }), { nil: undefined }),
  })
  .map(({ method, path, minor, lf, fields, body, chunks }) => {
    const safe = fields.filter(([n]) => !/^(host|content-length|transfer-encoding)$/i.test(n));
    const head = `${method} ${path} HTTP/1.${minor}${lf}Host: h${lf}${safe.map(([n, v]) => `${n}: ${v}${lf}`).join("")}`;
    if (!chunks || minor === 0) return { text: `${head}Content-Length: ${body.length}${lf}${lf}${body}`, body };
    let text = "";
    let sent = "";
    for (const c of chunks) {
      const piece = body.slice(sent.length, sent.length + c).padEnd(c, "z");
      text += `${c.toString(16)};x=y\r\n${piece}\r\n`; // a chunk's lines take only CR LF
      sent += piece;
    }
    return { text: `${head}Transfer-Encoding: chunked${lf}${lf}${text}0\r\nTrailer: t${lf}${lf}`, body: sent };
  });

test("property: the same events whatever the pieces, for pipelined requests, valid or damaged", (t) => {
  const damaged = fc
    .tuple(fc.array(request, { minLength: 1, maxLength: 3 }), fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { nil: undefined }))
    .map(([reqs, hit]) => {
      const b = enc(reqs.map((r) => r.text).join(""));
      if (hit) b[hit[0] % b.length] = hit[1];
      return b;
    });
  holds(
    t,
    fc.property(damaged, fc.array(fc.nat(), { maxLength: 12 }), (input, cuts) => {
      const whole = events(input, []);
      const split = events(input, cuts);
      const bytewise = events(
        input,
        Array.from({ length: input.length }, (_, i) => i),
      );
      return JSON.stringify(whole) === JSON.stringify(split) && JSON.stringify(whole) === JSON.stringify(bytewise);
    }),
    { numRuns: 300 },
  );
});

test("property: undamaged requests come out whole: every head, and every body byte-exact", (t) => {
  holds(
    t,
    fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), (reqs) => {
      const ev = events(enc(reqs.map((r) => r.text).join("")), []);
      return ev.length === reqs.length * 2 && reqs.every((r, i) => ev[2 * i]!.startsWith("head ") && ev[2 * i + 1] === `body ${JSON.stringify(r.body)}`);
    }),
    { numRuns: 200 },
  );
});

test("property: no bytes make the parser throw, and every error carries one of the server's statuses", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 5 }), (input, cuts) => {
      const ev = events(input, cuts);
      const last = ev.at(-1);
      return !last?.startsWith("error") || /^error (400|413|414|431|501|505) http-/.test(last);
    }),
    { numRuns: 500 },
  );
});

test("a head records method, target, minor version, lower-cased fields with trimmed values, and the body framing", (t) => {
  const p = new RequestParser(LIMITS);
  let input = enc("PUT /x?y HTTP/1.0\r\nContent-Length: 3\r\nX-A: \t v a l \t\r\n\r\nabc");
  let step: ParseStep = { kind: "more" };
  while (step.kind === "more") {
    const r = p.next(input);
    input = input.subarray(r.used);
    step = r.step;
  }
  const head: ParseStep = {
    kind: "head",
    head: {
      method: "PUT",
      target: "/x?y",
      minor: 0,
      fields: [
        ["content-length", "3"],
        ["x-a", "v a l"],
      ],
      body: 3,
    },
  };
  t.deepEqual(step, head);
  t.false(p.idle);
  t.deepEqual(p.next(input).step, { kind: "data", data: enc("abc") });
  t.deepEqual(p.next(new Uint8Array(0)).step, { kind: "end" });
  t.true(p.idle);
});

test("targets: origin-form and absolute-form give path and query; anything else none", (t) => {
  t.deepEqual(splitTarget("/a/b?c=d?e"), { path: "/a/b", query: "c=d?e" });
  t.deepEqual(splitTarget("/"), { path: "/", query: "" });
  t.deepEqual(splitTarget("http://host:8080/p?q"), { path: "/p", query: "q" });
  t.deepEqual(splitTarget("http://host"), { path: "/", query: "" });
  t.deepEqual(splitTarget("http://host?q"), { path: "/", query: "q" });
  t.deepEqual(splitTarget("//x"), { path: "//x", query: "" });
  for (const bad of ["*", "host:80", "p", "/a#b"]) t.is(splitTarget(bad), undefined, bad);
});

test("property: an HTTP-date written by the server reads back to its second, in IMF, RFC 850 and asctime forms", (t) => {
  holds(
    t,
    fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2069, 11, 31) }), (ms) => {
      const second = Math.floor(ms / 1000) * 1000;
      const imf = httpDate(ms);
      const d = new Date(ms);
      const [wd, day, mon, year, time] = imf.split(" ") as [string, string, string, string, string];
      const weekday = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"][d.getUTCDay()]!;
      const rfc850 = `${weekday}, ${day}-${mon}-${year.slice(2)} ${time} GMT`;
      const asctime = `${wd.slice(0, 3)} ${mon} ${String(d.getUTCDate()).padStart(2, " ")} ${time} ${year}`;
      return (
        /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/.test(imf) &&
        parseHttpDate(imf) === second &&
        parseHttpDate(rfc850) === second &&
        parseHttpDate(asctime) === second &&
        Date.parse(imf) === second
      );
    }),
    { numRuns: 300 },
  );
  for (const bad of [
    "",
    "Sun, 06 Nov 1994 08:49:37 UTC",
    "Sun, 6 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 94 08:49:37 GMT",
    "06 Nov 1994",
    "Sun, 06 Xyz 1994 08:49:37 GMT",
    "Sun, 06 ovD 1994 08:49:37 GMT",
  ]) {
    t.is(parseHttpDate(bad), undefined, bad);
  }
});

test("property: utf8 encodes any string as TextEncoder does, lone surrogates included", (t) => {
  holds(
    t,
    fc.property(
      fc.oneof(fc.fullUnicodeString({ maxLength: 60 }), fc.string16bits({ maxLength: 60 })),
      (s) => Buffer.compare(utf8(s), new TextEncoder().encode(s)) === 0,
    ),
    { numRuns: 500 },
  );
});

test("media types by extension, case-insensitive, only from the last segment", (t) => {
  t.is(mimeType("a/b/c.HTML"), "text/html; charset=utf-8");
  t.is(mimeType("x.tar.gz"), "application/gzip");
  t.is(mimeType("dir.d/file"), "application/octet-stream");
  t.is(mimeType("style.css"), "text/css");
});

test("an extension that names an Object property is just unknown", (t) => {
  for (const ext of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) t.is(mimeType(`f.${ext}`), "application/octet-stream", ext);
});
