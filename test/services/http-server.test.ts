// The HTTP server on the virtual LAN, driven by a client over our own TCP pcbs: routes and
// streaming handlers, static files (types, Last-Modified, 304, ranges), directories, PUT,
// the status route, keep-alive, pipelining, chunked bodies both ways and 100-continue.

import test from "ava";
import fc from "fast-check";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import { httpDate } from "../../modules/services/http-server.ts";
import type { HttpRequest, HttpResponse } from "../../modules/services/http-server.ts";
import type { Clock } from "../../modules/platform.ts";
import { bytes, must, readAll, writeAll } from "../support/storage.ts";
import { holds } from "../support/helpers.ts";
import { setup, dec, enc } from "../support/http-server-client.ts";

const MTIME = Date.UTC(2024, 4, 17, 10, 20, 30, 400); // a store whose files carry a real date
const fixedClock: Clock = { now: () => MTIME, setTimer: () => ({ cancel() {} }) };

function store(): MemoryStorage {
  return new MemoryStorage({ limit: 1 << 24, maxEntries: 1000, clock: fixedClock });
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: device\r\n${extra}\r\n`;

// ---- static files ----

test("GET serves a file byte-exact with Content-Length, a Content-Type by extension and Last-Modified", (t) => {
  const env = setup({}, store());
  const files: Record<string, string> = {
    "index.html": "text/html; charset=utf-8",
    "notes.TXT": "text/plain; charset=utf-8",
    "app.js": "text/javascript",
    "data.json": "application/json",
    "logo.png": "image/png",
    "photo.jpeg": "image/jpeg",
    "firmware.bin": "application/octet-stream",
    noext: "application/octet-stream",
  };
  for (const [i, name] of Object.keys(files).entries()) must(writeAll(env.storage, name, bytes(3000 + i * 1111, i)));
  for (const [i, [name, type]] of Object.entries(files).entries()) {
    const { responses } = env.exchange(get(`/${name}`));
    const r = responses[0]!;
    t.is(r.status, 200, name);
    t.deepEqual(r.body, bytes(3000 + i * 1111, i), name);
    t.is(r.headers["content-length"], String(3000 + i * 1111));
    t.is(r.headers["content-type"], type, name);
    t.is(r.headers["last-modified"], "Fri, 17 May 2024 10:20:30 GMT");
    t.is(r.headers["accept-ranges"], "bytes");
  }
  t.deepEqual(env.drops, new Map());
});

test("a missing file is 404; an empty file is 200 with Content-Length 0", (t) => {
  const env = setup({}, store());
  must(writeAll(env.storage, "empty", new Uint8Array(0)));
  const [missing] = env.exchange(get("/nope")).responses;
  t.is(missing!.status, 404);
  t.is(dec(missing!.body), "404 Not Found\n");
  const [empty] = env.exchange(get("/empty")).responses;
  t.is(empty!.status, 200);
  t.is(empty!.headers["content-length"], "0");
  t.is(env.drops.get("storage-not-found"), 1);
});

test("HEAD sends GET's header fields and no body: a GET pipelined behind it parses cleanly", (t) => {
  const env = setup({}, store());
  must(writeAll(env.storage, "f.txt", bytes(5000, 3)));
  const head = `HEAD /f.txt HTTP/1.1\r\nHost: d\r\n\r\n`;
  const { responses } = env.exchange(head + get("/f.txt") + head, { heads: [true, false, true], count: 3 });
  t.is(responses.length, 3);
  const [h, g, h2] = responses as [(typeof responses)[0] & {}, (typeof responses)[0] & {}, (typeof responses)[0] & {}];
  t.deepEqual(h.headers, g.headers);
  t.deepEqual(h2.headers, g.headers);
  t.is(h.body.length, 0);
  t.deepEqual(g.body, bytes(5000, 3));
});

test("If-Modified-Since in all three date forms: 304 when not newer, 200 when newer or unparsable", (t) => {
  const env = setup({}, store());
  must(writeAll(env.storage, "f", bytes(100)));
  const cases: Array<[string, number]> = [
    ["Fri, 17 May 2024 10:20:30 GMT", 304], // the same second as the file
    ["Sat, 18 May 2024 00:00:00 GMT", 304],
    ["Friday, 17-May-24 10:20:30 GMT", 304], // RFC 850
    ["Fri May 17 10:20:30 2024", 304], // asctime
    ["Fri, 17 May 2024 10:20:29 GMT", 200],
    ["yesterday", 200],
    ["Fri, 17 Foo 2024 10:20:30 GMT", 200],
  ];
  for (const [date, status] of cases) {
    const [r] = env.exchange(get("/f", `If-Modified-Since: ${date}\r\n`)).responses;
    t.is(r!.status, status, date);
    t.is(r!.body.length, status === 304 ? 0 : 100);
    t.is(r!.headers["last-modified"], "Fri, 17 May 2024 10:20:30 GMT");
    if (status === 304) t.is(r!.headers["content-length"], undefined);
  }
  // If-None-Match takes precedence, and this server has no entity tags to match.
  const [r] = env.exchange(get("/f", `If-Modified-Since: Sat, 18 May 2024 00:00:00 GMT\r\nIf-None-Match: "x"\r\n`)).responses;
  t.is(r!.status, 200);
});

test("Range: single byte ranges give 206 with Content-Range; beyond the end 416 with bytes */size; others the whole file", (t) => {
  const env = setup({}, store());
  const data = bytes(10_000, 5);
  must(writeAll(env.storage, "f.bin", data));
  const ranged = (range: string, extra = "") => env.exchange(get("/f.bin", `Range: ${range}\r\n${extra}`)).responses[0]!;
  const cases: Array<[string, number, number]> = [
    ["bytes=0-0", 0, 0],
    ["bytes=100-199", 100, 199],
    ["bytes=9000-", 9000, 9999],
    ["bytes=-500", 9500, 9999],
    ["bytes=-20000", 0, 9999],
    ["bytes=9990-20000", 9990, 9999],
    ["BYTES=5-6", 5, 6],
  ];
  for (const [range, start, end] of cases) {
    const r = ranged(range);
    t.is(r.status, 206, range);
    t.is(r.headers["content-range"], `bytes ${start}-${end}/10000`, range);
    t.is(r.headers["content-length"], String(end - start + 1));
    t.deepEqual(r.body, data.subarray(start, end + 1), range);
  }
  for (const range of ["bytes=10000-", "bytes=20000-30000", "bytes=-0"]) {
    const r = ranged(range);
    t.is(r.status, 416, range);
    t.is(r.headers["content-range"], "bytes */10000");
  }
  for (const range of ["bytes=0-1,5-6", "bytes=5-1", "bytes=abc", "items=0-5", "bytes=-"]) {
    const r = ranged(range);
    t.is(r.status, 200, range);
    t.deepEqual(r.body, data);
  }
  t.is(ranged("bytes=0-9", "If-Range: Fri, 17 May 2024 10:20:30 GMT\r\n").status, 206);
  t.is(ranged("bytes=0-9", "If-Range: Thu, 16 May 2024 10:20:30 GMT\r\n").status, 200);
  t.is(ranged("bytes=0-9", 'If-Range: "etag"\r\n').status, 200);
  const head = env.exchange(`HEAD /f.bin HTTP/1.1\r\nHost: d\r\nRange: bytes=0-9\r\n\r\n`, { heads: [true] }).responses[0]!;
  t.is(head.status, 200); // Range applies to GET only
});

test("property: any single range either gives exactly those bytes or 416", (t) => {
  const env = setup({}, store());
  const data = bytes(3000, 8);
  must(writeAll(env.storage, "r", data));
  holds(
    t,
    fc.property(fc.option(fc.nat(3500), { nil: undefined }), fc.option(fc.nat(3500), { nil: undefined }), (first, last) => {
      if (first === undefined && last === undefined) return true;
      const spec = `bytes=${first ?? ""}-${last ?? ""}`;
      const r = env.exchange(get("/r", `Range: ${spec}\r\n`)).responses[0]!;
      let start: number, end: number;
      if (first === undefined) [start, end] = [Math.max(0, 3000 - last!), 2999];
      else if (last !== undefined && last < first) return r.status === 200 && r.body.length === 3000;
      else [start, end] = [first, Math.min(last ?? 2999, 2999)];
      if ((first === undefined && last === 0) || start >= 3000) return r.status === 416 && r.headers["content-range"] === "bytes */3000";
      return r.status === 206 && r.headers["content-range"] === `bytes ${start}-${end}/3000` && Buffer.compare(r.body, data.subarray(start, end + 1)) === 0;
    }),
    { numRuns: 60 },
  );
});

// ---- directories ----

test("a directory redirects to its name with a slash, then serves index.html", (t) => {
  const env = setup({}, store());
  must(env.storage.mkdir("site"));
  must(writeAll(env.storage, "site/index.html", enc("<h1>hi</h1>")));
  const [redirect] = env.exchange(get("/site?x=1")).responses;
  t.is(redirect!.status, 301);
  t.is(redirect!.headers.location, "/site/?x=1");
  const [index] = env.exchange(get("/site/")).responses;
  t.is(index!.status, 200);
  t.is(dec(index!.body), "<h1>hi</h1>");
  t.is(index!.headers["content-type"], "text/html; charset=utf-8");
});

test("a directory's redirect is built from its canonical path, so its Location never names another host", (t) => {
  const env = setup({}, store());
  must(env.storage.mkdir("d"));
  must(env.storage.mkdir("sp ace"));
  const cases: Array<[string, string]> = [
    ["//evil.example/%2e%2e", "/"],
    ["/\\evil.example/..", "/"],
    ["//evil.example/../d?q=1", "/d/?q=1"],
    ["//d", "/d/"],
    ["/./d", "/d/"],
    ["/%64", "/d/"],
    ["/sp%20ace", "/sp%20ace/"],
  ];
  for (const [target, location] of cases) {
    const [r] = env.exchange(get(target)).responses;
    t.is(r!.status, 301, target);
    t.is(r!.headers.location, location, target);
    t.notRegex(r!.headers.location!, /^\/[/\\]/, target);
  }
});

test("a file named as a directory (a final / or /.) is 404; named as a file it is served", (t) => {
  const env = setup({}, store());
  must(writeAll(env.storage, "file.txt", enc("text")));
  must(env.storage.mkdir("d"));
  must(writeAll(env.storage, "d/in.txt", enc("in")));
  for (const target of ["/file.txt/", "/file.txt/.", "/file.txt%2F", "/file.txt\\", "/d/in.txt/"]) {
    t.is(env.exchange(get(target)).responses[0]!.status, 404, target);
  }
  t.is(dec(env.exchange(get("/file.txt")).responses[0]!.body), "text");
  t.is(dec(env.exchange(get("/d/./in.txt")).responses[0]!.body), "in");
});

test("a directory without an index is listed as HTML links, names escaped and encoded; a short listing goes whole", (t) => {
  const env = setup({}, store());
  must(env.storage.mkdir("d"));
  must(env.storage.mkdir("d/sub"));
  must(writeAll(env.storage, "d/a b.txt", bytes(12)));
  must(writeAll(env.storage, "d/<x>&.txt", bytes(3)));
  const [r] = env.exchange(get("/d/")).responses;
  t.is(r!.status, 200);
  t.is(r!.headers["content-length"], String(r!.body.length));
  const html = dec(r!.body);
  t.true(html.includes(`<a href="a%20b.txt">a b.txt</a> 12 bytes`), html);
  t.true(html.includes(`<a href="%3Cx%3E%26.txt">&#60;x&#62;&#38;.txt</a>`), html);
  t.true(html.includes(`<a href="sub/">sub/</a>`), html);
  t.true(html.includes(`<a href="../">../</a>`));
  t.true(html.startsWith("<!DOCTYPE html>") && html.endsWith("</html>\n"));
  const [root] = env.exchange(get("/")).responses;
  t.true(dec(root!.body).includes(`<a href="d/">d/</a>`));
  t.false(dec(root!.body).includes(`href="../"`));
});

test("a listing of 400 entries streams through a small send buffer with every entry present", (t) => {
  const env = setup({}, store(), undefined, 1, { sndbuf: 2920 });
  must(env.storage.mkdir("many"));
  for (let i = 0; i < 400; i++) must(writeAll(env.storage, `many/file-${String(i).padStart(3, "0")}.dat`, bytes(i)));
  const [r] = env.exchange(get("/many/")).responses;
  const html = dec(r!.body);
  for (let i = 0; i < 400; i++) t.true(html.includes(`href="file-${String(i).padStart(3, "0")}.dat"`), `${i}`);
  t.true(r!.chunks!.length > 5, "many chunks");
  t.true(html.length > 20_000);
  t.deepEqual(env.drops, new Map());
});

test("listings can be turned off (403), and so can index files", (t) => {
  const env = setup({ listDirectories: false, indexFile: "" }, store());
  must(env.storage.mkdir("d"));
  must(writeAll(env.storage, "d/index.html", enc("x")));
  t.is(env.exchange(get("/d/")).responses[0]!.status, 403);
});

// ---- PUT ----

test("PUT is 405 unless allowed; then 201 for a new file, 204 for a replaced one, byte-exact, with Content-Length or chunked", (t) => {
  const off = setup({}, store());
  const [refused] = off.exchange(`PUT /f HTTP/1.1\r\nHost: d\r\nContent-Length: 3\r\n\r\nabc`).responses;
  t.is(refused!.status, 405);
  t.is(refused!.headers.allow, "GET, HEAD");
  t.false(off.storage.stat("f").ok);

  const env = setup({ allowPut: true }, store());
  const data = bytes(50_000, 4);
  const put = (body: Uint8Array, chunked: boolean) => {
    const c = env.connect();
    if (chunked) {
      c.send(`PUT /up/f.bin HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n`);
      for (let i = 0; i < body.length; i += 7000) {
        const part = body.subarray(i, i + 7000);
        c.send(`${part.length.toString(16)};ext=1\r\n`);
        c.send(part);
        c.send("\r\n");
      }
      c.send("0\r\nX-Trailer: ignored\r\n\r\n");
    } else {
      c.send(`PUT /up/f.bin HTTP/1.1\r\nHost: d\r\nContent-Length: ${body.length}\r\n\r\n`);
      c.send(body);
    }
    env.until(() => c.responses().length === 1);
    return c.responses()[0]!;
  };
  must(env.storage.mkdir("up"));
  t.is(put(data, false).status, 201);
  t.deepEqual(readAll(env.storage, "up/f.bin"), data);
  const again = bytes(33_333, 6);
  t.is(put(again, true).status, 204);
  t.deepEqual(readAll(env.storage, "up/f.bin"), again);
  // Into a missing directory, or onto a directory: 409.
  t.is(env.exchange(`PUT /none/f HTTP/1.1\r\nHost: d\r\nContent-Length: 1\r\n\r\nx`).responses[0]!.status, 409);
  t.is(env.exchange(`PUT /up HTTP/1.1\r\nHost: d\r\nContent-Length: 1\r\n\r\nx`).responses[0]!.status, 409);
});

test("PUT beyond the storage's room: 507 before the body when the length is known, 507 mid-body when chunked; the old file stays", (t) => {
  const storage = new MemoryStorage({ limit: 20_000, clock: fixedClock });
  const env = setup({ allowPut: true }, storage);
  must(writeAll(storage, "keep", bytes(5000, 1)));
  const known = env.exchange(`PUT /keep HTTP/1.1\r\nHost: d\r\nContent-Length: 30000\r\nExpect: 100-continue\r\n\r\n`);
  t.deepEqual(
    known.responses.map((r) => r.status),
    [507],
  );
  t.is(known.responses[0]!.headers.connection, "close");
  const c = env.connect();
  c.send(`PUT /keep HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n`);
  for (let i = 0; i < 6; i++) c.send(`1000\r\n${"x".repeat(0x1000)}\r\n`);
  c.send("0\r\n\r\n");
  env.until(() => c.fin);
  t.deepEqual(
    c.responses().map((r) => r.status),
    [507],
  );
  t.deepEqual(readAll(storage, "keep"), bytes(5000, 1));
  t.is(env.drops.get("storage-full"), 2);
});

// ---- routes ----

test("routes: a handler sees method, decoded path, query, headers and peer; exact beats prefix, longer prefix beats shorter", (t) => {
  const env = setup({}, null);
  const seen: HttpRequest[] = [];
  const reply = (name: string) => (req: HttpRequest, res: HttpResponse) => {
    seen.push(req);
    res.setHeader("Content-Type", "text/plain");
    res.end(`${name} ${req.method} ${req.path} ?${req.query}`);
  };
  env.server.route("GET", "/api/*", reply("api"));
  env.server.route("GET", "/api/v2/*", reply("v2"));
  env.server.route("GET", "/api/exact", reply("exact"));
  env.server.route("POST", "/api/exact", reply("post"));
  const body = (req: string) => dec(env.exchange(req).responses[0]!.body);
  t.is(body(get("/api/x%20y?a=1&b=%20")), "api GET /api/x y ?a=1&b=%20");
  t.is(body(get("/api/v2/thing")), "v2 GET /api/v2/thing ?");
  t.is(body(get("/api/exact")), "exact GET /api/exact ?");
  t.is(body(`POST /api/exact HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n`), "post POST /api/exact ?");
  t.is(body(`GET http://device/api/abs?q HTTP/1.1\r\nHost: device\r\n\r\n`), "api GET /api/abs ?q");
  const req = seen[0]!;
  t.is(req.header("HOST"), "device");
  t.is(req.version, "HTTP/1.1");
  t.is(req.remotePort > 0 && req.remoteIp, 0x0a000003);
  t.is(env.exchange(get("/elsewhere")).responses[0]!.status, 404);
});

test("405 with Allow for a known method a route does not take; 501 for unknown methods; HEAD rides on GET; custom methods route", (t) => {
  const env = setup({}, null);
  env.server.route("GET", "/r", (_q, res) => res.end("body!"));
  env.server.route("DELETE", "/r", (_q, res) => res.end());
  env.server.route("PROPFIND", "/dav", (_q, res) => res.end("dav"));
  const status = (req: string, heads: boolean[] = []) => env.exchange(req, { heads }).responses[0]!;
  const put = status(`PUT /r HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\n\r\nhi`);
  t.is(put.status, 405);
  t.is(put.headers.allow, "GET, DELETE, HEAD");
  t.is(status(`BREW /r HTTP/1.1\r\nHost: d\r\n\r\n`).status, 501);
  t.is(status(`get /r HTTP/1.1\r\nHost: d\r\n\r\n`).status, 501); // methods are case-sensitive
  const head = status(`HEAD /r HTTP/1.1\r\nHost: d\r\n\r\n`, [true]);
  t.is(head.status, 200);
  t.is(head.headers["content-length"], "5");
  t.is(dec(status(`PROPFIND /dav HTTP/1.1\r\nHost: d\r\n\r\n`).body), "dav");
  t.is(status(`PROPFIND /r HTTP/1.1\r\nHost: d\r\n\r\n`).status, 405);
  t.is(env.drops.get("http-method-not-allowed"), 2);
  t.is(env.drops.get("http-unknown-method"), 2);
});

test("a handler or body reader that throws is answered 500 and the server goes on; once the response is under way, it is reset", (t) => {
  const env = setup({}, null);
  env.server.route("GET", "/boom", () => {
    throw new Error("bug");
  });
  env.server.route("GET", "/ok", (_q, res) => res.end("ok"));
  env.server.route("POST", "/reader", (req) =>
    req.recv(() => {
      throw new Error("reader bug");
    }),
  );
  env.server.route("GET", "/late", (_q, res) => {
    res.write("partial");
    throw new Error("late bug");
  });
  const post = `POST /reader HTTP/1.1\r\nHost: d\r\nContent-Length: 4\r\n\r\nbody`;
  const { responses } = env.exchange(get("/boom") + post + get("/ok"), { count: 3 });
  t.deepEqual(
    responses.map((r) => r.status),
    [500, 500, 200],
  );
  const late = env.exchange(get("/late"), { keep: true });
  env.until(() => late.client.error !== undefined);
  t.is(late.client.error, "reset", "a response under way can only be cut off");
  t.is(env.drops.get("http-handler-error"), 3);
  t.false(env.drops.has("internal-error"));
});

test("response header names and values with control characters are refused, so a handler can't split a response", (t) => {
  const env = setup({}, null);
  env.server.route("GET", "/h", (_q, res) => {
    res.setHeader("X-Ok", "fine");
    res.setHeader("X-Bad", "a\r\nSet-Cookie: evil=1");
    res.setHeader("Bad Name", "x");
    res.setHeader("X-Ok", "replaced");
    res.end("h");
  });
  const [r] = env.exchange(get("/h")).responses;
  t.is(r!.headers["x-ok"], "replaced");
  t.is(r!.headers["set-cookie"], undefined);
  t.is(r!.headers["x-bad"], undefined);
  t.is(env.drops.get("http-bad-response-header"), 2);
});

test("the status route reports the stack's counters and connection counts as JSON; it can move or go", (t) => {
  const env = setup({}, null);
  env.exchange(get("/nothing"));
  const [r] = env.exchange(get("/status")).responses;
  t.is(r!.headers["content-type"], "application/json");
  const s = JSON.parse(dec(r!.body));
  t.deepEqual(Object.keys(s).sort(), ["connections", "counters", "drops"]);
  t.is(s.counters["http.requests"], 2);
  t.is(s.counters["http.status.404"], 1);
  t.true(s.counters["tcp.rx"] > 0);
  t.is(s.drops["http-no-route"], 1);
  t.true(s.connections.http >= 1 && s.connections.tcp >= 1);
  const post = env.exchange(`POST /status HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n`).responses[0]!;
  t.is(post.status, 405);
  t.is(post.headers.allow, "GET, HEAD");
  const moved = setup({ statusPath: "/stats" }, null);
  t.is(moved.exchange(get("/stats")).responses[0]!.status, 200);
  t.is(moved.exchange(get("/status")).responses[0]!.status, 404);
  const none = setup({ statusPath: "" }, null);
  t.is(none.exchange(get("/status")).responses[0]!.status, 404);
});

test("a file body from a handler: sendFile with the handler's own fields, ranges included", (t) => {
  const env = setup({}, null);
  const other = store();
  must(writeAll(other, "fw.img", bytes(4000, 2)));
  env.server.route("GET", "/download", (_q, res) => {
    res.setHeader("Content-Disposition", 'attachment; filename="fw.img"');
    res.setHeader("Content-Type", "application/x-firmware");
    res.sendFile("fw.img", other);
  });
  const [r] = env.exchange(get("/download", "Range: bytes=1000-1999\r\n")).responses;
  t.is(r!.status, 206);
  t.is(r!.headers["content-type"], "application/x-firmware");
  t.is(r!.headers["content-disposition"], 'attachment; filename="fw.img"');
  t.deepEqual(r!.body, bytes(4000, 2).subarray(1000, 2000));
});

// ---- streaming with flow control ----

test("a streamed response of unknown length goes chunked, paced by writable/onDrain, never queueing past the send buffer", (t) => {
  const env = setup({}, null, undefined, 1, { sndbuf: 4380 });
  const data = bytes(300_000, 9);
  let refusals = 0;
  env.server.route("GET", "/stream", (_q, res) => {
    let off = 0;
    const more = () => {
      while (res.writable > 0 && off < data.length) {
        const n = Math.min(res.writable, 1000 + (off % 777), data.length - off);
        if (!res.write(data.subarray(off, off + n))) refusals++;
        off += n;
      }
      if (off === data.length) res.end();
    };
    res.onDrain(more);
    more();
  });
  const { responses } = env.exchange(get("/stream"));
  t.is(responses[0]!.headers["transfer-encoding"], "chunked");
  t.deepEqual(responses[0]!.body, data);
  t.true(refusals > 10, "write said to wait");
  t.deepEqual(env.drops, new Map());
});

test("a streamed response with Content-Length: overruns are cut and counted, a short body closes the connection", (t) => {
  const env = setup({}, null);
  env.server.route("GET", "/over", (_q, res) => {
    res.setHeader("Content-Length", 5);
    res.write("abc");
    res.write("defgh");
    res.end();
  });
  env.server.route("GET", "/short", (_q, res) => {
    res.setHeader("Content-Length", 10);
    res.end("abc");
  });
  const over = env.exchange(get("/over"));
  t.is(dec(over.responses[0]!.body), "abcde");
  t.is(env.drops.get("http-body-overrun"), 1);
  const short = env.exchange(get("/short") + get("/over"), { keep: true });
  env.until(() => short.client.fin);
  t.true(short.client.fin);
  t.true(short.client.text.endsWith("abc"));
  t.is(env.drops.get("http-body-short"), 1);
});

test("a request body streams to its handler; while the handler pauses, the client's window closes and its bytes wait", (t) => {
  const env = setup({ maxBodyBytes: 1 << 22 }, null);
  const data = bytes(200_000, 7);
  const got: Uint8Array[] = [];
  let req: HttpRequest | undefined;
  env.server.route("POST", "/sink", (q, res) => {
    req = q;
    q.recv((d) => {
      if (d === null) return res.end(`${got.reduce((n, p) => n + p.length, 0)}`);
      got.push(d.slice());
      q.pause();
    });
  });
  const c = env.connect();
  c.send(`POST /sink HTTP/1.1\r\nHost: d\r\nContent-Length: ${data.length}\r\n\r\n`);
  c.send(data);
  env.until(() => got.length > 0);
  env.clock.advance(5_000); // the handler sits on its pause
  const delivered = got.reduce((n, p) => n + p.length, 0);
  t.true(delivered < 2000, `${delivered}`);
  t.true(c.pcb.unacknowledged > 0 || c.pcb.sndbuf === 0, "the client is held back");
  t.false(env.drops.has("http-body-timeout"), "a paused body is the handler's choice, not a slow client");
  while (!c.responses().length && env.clock.now() < 600_000) {
    req!.resume();
    env.clock.advance(5);
  }
  t.is(dec(c.responses()[0]!.body), String(data.length));
  const all = new Uint8Array(data.length);
  let off = 0;
  for (const p of got) all.set(p, (off += p.length) - p.length);
  t.deepEqual(all, data);
  t.is(req!.length, data.length);
});

test("a chunked request body reaches the handler whole, extensions and trailers ignored; chunked both ways in one exchange", (t) => {
  const env = setup({}, null);
  const lengths: Array<number | undefined> = [];
  env.server.route("POST", "/echo", (req, res) => {
    lengths.push(req.length);
    req.recv((d) => (d ? res.write(d) : res.end()));
  });
  const c = env.connect();
  c.send(`POST /echo HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n`);
  const pieces = ["hello ", "chunked ", "world", "x".repeat(3000)];
  for (const p of pieces) c.send(`${p.length.toString(16)}; name="v"\r\n${p}\r\n`);
  c.send("000\r\nExpires: never\r\nX-Sum: 1\r\n\r\n");
  env.until(() => c.responses().length === 1);
  const r = c.responses()[0]!;
  t.is(r.headers["transfer-encoding"], "chunked");
  t.is(dec(r.body), pieces.join(""));
  t.is(r.chunks!.at(-1), 0);
  t.deepEqual(lengths, [undefined]);
});

// ---- connections ----

test("keep-alive: requests in turn on one connection; Connection: close ends it after the response", (t) => {
  const env = setup({}, store());
  must(writeAll(env.storage, "a", bytes(700, 1)));
  const c = env.connect();
  for (let i = 1; i <= 3; i++) {
    c.send(get("/a"));
    env.until(() => c.responses().length === i);
  }
  c.send(get("/a", "Connection: close\r\n"));
  env.until(() => c.fin);
  const rs = c.responses();
  t.is(rs.length, 4);
  t.true(rs.every((r) => r.status === 200 && r.body.length === 700));
  t.is(rs[2]!.headers.connection, undefined);
  t.is(rs[3]!.headers.connection, "close");
  t.is(env.counters.get("tcp.accepted"), 1);
  c.pcb.close();
  env.until(() => env.server.connections === 0);
  t.is(env.server.connections, 0);
});

test("a connection takes maxRequests requests: the last is answered with Connection: close", (t) => {
  const env = setup({ maxRequests: 3 }, store());
  must(writeAll(env.storage, "a", bytes(10, 1)));
  const c = env.connect();
  c.send(get("/a").repeat(5));
  env.until(() => c.fin);
  const rs = c.responses();
  t.deepEqual(
    rs.map((r) => [r.status, r.headers.connection]),
    [
      [200, undefined],
      [200, undefined],
      [200, "close"],
    ],
  );
  t.is(env.counters.get("http.requests"), 3);
});

test("pipelined requests are answered in order, even when an earlier one is slower", (t) => {
  const env = setup({}, store());
  must(writeAll(env.storage, "b.txt", bytes(9000, 2)));
  env.server.route("GET", "/slow", (_q, res) => {
    env.clock.setTimer(300, () => res.end("slow"));
  });
  env.server.route("GET", "/fast", (_q, res) => res.end("fast"));
  const { responses } = env.exchange(`${get("/slow") + get("/fast")}HEAD /b.txt HTTP/1.1\r\nHost: d\r\n\r\n${get("/b.txt")}${get("/fast")}`, {
    heads: [false, false, true, false, false],
    count: 5,
  });
  t.deepEqual(
    responses.map((r) => (r.body.length < 10 ? dec(r.body) : r.body.length)),
    ["slow", "fast", "", 9000, "fast"],
  );
});

test("HTTP/1.0: closed after the response without keep-alive; kept with it; a body of unknown length ends with the connection", (t) => {
  const env = setup({}, store());
  must(writeAll(env.storage, "a", bytes(100)));
  env.server.route("GET", "/gen", (_q, res) => {
    res.write("part one,");
    res.end("part two");
  });
  const plain = env.exchange(`GET /a HTTP/1.0\r\n\r\n`, { keep: true });
  env.until(() => plain.client.fin);
  t.true(plain.client.fin);
  t.is(plain.responses[0]!.headers.connection, "close");
  const kept = env.exchange(`GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`, { count: 2, keep: true });
  t.deepEqual(
    kept.responses.map((r) => r.headers.connection),
    ["keep-alive", "keep-alive"],
  );
  t.false(kept.client.fin);
  const gen = env.exchange(`GET /gen HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`, { keep: true });
  env.until(() => gen.client.fin);
  const r = gen.client.responses()[0]!;
  t.is(r.headers.connection, "close");
  t.is(r.headers["transfer-encoding"], undefined);
  t.is(dec(r.body), "part one,part two");
});

test("Expect: 100-continue: 100 once the handler reads the body; a final answer without it closes; other expectations 417", (t) => {
  const env = setup({ allowPut: true }, store());
  const c = env.connect();
  c.send(`PUT /f HTTP/1.1\r\nHost: d\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
  env.until(() => c.responses().length === 1);
  t.deepEqual(
    c.responses().map((r) => r.status),
    [100],
  );
  c.send("hello");
  env.until(() => c.responses().length === 2);
  t.deepEqual(
    c.responses().map((r) => r.status),
    [100, 201],
  );
  t.is(dec(readAll(env.storage, "f")), "hello");
  const refused = env.exchange(`POST /f HTTP/1.1\r\nHost: d\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`, { keep: true });
  env.until(() => refused.client.fin);
  t.deepEqual(
    refused.client.responses().map((r) => r.status),
    [405],
  );
  t.is(refused.responses[0]!.headers.connection, "close");
  const odd = env.exchange(`GET /f HTTP/1.1\r\nHost: d\r\nExpect: something-else\r\n\r\n`);
  t.is(odd.responses[0]!.status, 417);
});

test("bare LF ends lines as CR LF does (RFC 9112 2.2), and empty lines before a request are skipped", (t) => {
  const env = setup({}, store());
  must(writeAll(env.storage, "a", enc("AAA")));
  const { responses } = env.exchange(`\r\n\nGET /a HTTP/1.1\nHost: d\n\nGET /a HTTP/1.1\r\nHost: d\n\r\n`, { count: 2 });
  t.deepEqual(
    responses.map((r) => [r.status, dec(r.body)]),
    [
      [200, "AAA"],
      [200, "AAA"],
    ],
  );
});

test("a request split into one-byte segments is served like a whole one", (t) => {
  const env = setup({ allowPut: true }, store());
  const c = env.connect();
  const req = `PUT /one HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${get("/one")}`;
  c.pcb.nodelay = true;
  for (const ch of req) {
    c.send(ch);
    env.clock.advance(1);
  }
  env.until(() => c.responses().length === 2);
  t.deepEqual(
    c.responses().map((r) => [r.status, dec(r.body)]),
    [
      [201, ""],
      [200, "abc"],
    ],
  );
});

test("a Date field is sent only when the server is given the time", (t) => {
  const env = setup({}, null);
  t.is(env.exchange(get("/x")).responses[0]!.headers.date, undefined);
  const dated = setup({ date: () => Date.UTC(2025, 0, 2, 3, 4, 5) }, null);
  t.is(dated.exchange(get("/x")).responses[0]!.headers.date, "Thu, 02 Jan 2025 03:04:05 GMT");
  t.is(httpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
});
