// Every limit and every malformed request gets its status, is counted under its reason and,
// where the framing is in doubt, closes the connection; slow and idle clients time out;
// the connection limit answers 503; no path leaves the static root; garbage never crashes.

import test, { type ExecutionContext } from "ava";
import fc from "fast-check";
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DirectoryStorage } from "../../host-sim/storage/directory.ts";
import { bytes, must, writeAll } from "../support/storage.ts";
import { holds } from "../support/helpers.ts";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import type { Storage } from "../../modules/storage/storage.ts";
import { setup, dec, enc, SERVER, Client, type Env } from "../support/http-server-client.ts";
import { unwrap } from "../../modules/wire/result.ts";

/** Sends `request` and expects one response with `status`, counted under `reason`; `closes`: with Connection: close and a FIN. */
function refused(t: ExecutionContext, env: Env, request: string | Uint8Array, status: number, reason: string, closes = true): void {
  const before = env.drops.get(reason) ?? 0;
  const { client, responses } = env.exchange(request, { keep: true });
  const label = JSON.stringify(typeof request === "string" ? request.slice(0, 80) : "bytes");
  t.is(responses[0]?.status, status, label);
  t.is(env.drops.get(reason), before + 1, `${label} counted under ${reason}: ${JSON.stringify([...env.drops])}`);
  if (closes) {
    env.until(() => client.fin);
    t.is(responses[0]?.headers.connection, "close", label);
    t.true(client.fin, `${label} closed`);
    t.is(responses.length, 1, `${label}: nothing after the error`);
  }
  client.pcb.close();
}

const ok = (t: ExecutionContext, env: Env, request: string, status = 404) => t.is(env.exchange(request).responses[0]?.status, status, request.slice(0, 60));

test("414 for a request line over the limit; one at the limit is read", (t) => {
  const env = setup({ maxRequestLine: 100 });
  const line = (n: number) => `GET /${"a".repeat(n - 14)} HTTP/1.1`; // n characters
  t.is(line(100).length, 100);
  ok(t, env, `${line(100)}\r\nHost: d\r\n\r\n`);
  refused(t, env, `${line(101)}\r\nHost: d\r\n\r\n`, 414, "http-request-line-too-long");
  ok(t, env, `${line(100)}\nHost: d\n\n`);
  refused(t, env, `${line(101)}\nHost: d\n\n`, 414, "http-request-line-too-long");
  // Without any line end at all, the limit still holds: the server stops reading at it.
  refused(t, env, `GET /${"b".repeat(5000)}`, 414, "http-request-line-too-long");
});

test("431 for a header section over its bytes or its count of fields; at the limits it is read", (t) => {
  const env = setup({ maxHeaderBytes: 200, maxHeaders: 5 });
  const fields = (n: number, size: number) => Array.from({ length: n }, (_, i) => `X-${i}: ${"v".repeat(size)}\r\n`).join("");
  ok(t, env, `GET / HTTP/1.1\r\nHost: d\r\n${fields(4, 30)}\r\n`, 200);
  refused(t, env, `GET / HTTP/1.1\r\nHost: d\r\n${fields(5, 1)}\r\n`, 431, "http-too-many-headers");
  refused(t, env, `GET / HTTP/1.1\r\nHost: d\r\nX-Big: ${"v".repeat(300)}\r\n\r\n`, 431, "http-header-too-large");
  refused(t, env, `GET / HTTP/1.1\r\nHost: d\r\n${fields(4, 45)}\r\n`, 431, "http-header-too-large");
  // Trailers of a chunked body have the same bound.
  env.server.route("POST", "/sink", (req, res) => req.recv((d) => d === null && res.end("ok")));
  refused(
    t,
    env,
    `POST /sink HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nT: ${"t".repeat(300)}\r\n\r\n`,
    431,
    "http-header-too-large",
  );
});

test("413 for a body over the limit, by Content-Length before any of it, and chunked as the chunks add up", (t) => {
  const env = setup({ maxBodyBytes: 1000 });
  let got = 0;
  env.server.route("POST", "/sink", (req, res) =>
    req.recv((d) => {
      if (d) got += d.length;
      else res.end(String(got));
    }),
  );
  const post = (headers: string, body: string) => `POST /sink HTTP/1.1\r\nHost: d\r\n${headers}\r\n${body}`;
  t.is(dec(env.exchange(post("Content-Length: 1000\r\n", "x".repeat(1000))).responses[0]!.body), "1000");
  refused(t, env, post("Content-Length: 1001\r\n", ""), 413, "http-body-too-large");
  refused(t, env, post("Content-Length: 99999999999999999999999\r\n", ""), 413, "http-body-too-large");
  got = 0;
  t.is(
    dec(env.exchange(post("Transfer-Encoding: chunked\r\n", `1f4\r\n${"y".repeat(500)}\r\n1f4\r\n${"y".repeat(500)}\r\n0\r\n\r\n`)).responses[0]!.body),
    "1000",
  );
  got = 0;
  refused(t, env, post("Transfer-Encoding: chunked\r\n", `1f4\r\n${"y".repeat(500)}\r\n1f5\r\n`), 413, "http-body-too-large");
  refused(t, env, post("Transfer-Encoding: chunked\r\n", `fffffffffffffffffffffffff\r\n`), 413, "http-body-too-large");
  t.is(got, 500, "the first chunk reached the handler, the second never did");
});

const MALFORMED: Array<[string, string, string]> = [
  ["no version", "GET /\r\n\r\n", "http-bad-request-line"],
  ["two spaces", "GET  / HTTP/1.1\r\nHost: d\r\n\r\n", "http-bad-request-line"],
  ["trailing space", "GET / HTTP/1.1 \r\nHost: d\r\n\r\n", "http-bad-request-line"],
  ["tab separator", "GET\t/ HTTP/1.1\r\nHost: d\r\n\r\n", "http-bad-request-line"],
  ["method not a token", "GE(T / HTTP/1.1\r\nHost: d\r\n\r\n", "http-bad-request-line"],
  ["control in target", "GET /a\x01b HTTP/1.1\r\nHost: d\r\n\r\n", "http-bad-request-line"],
  ["not HTTP", "GET / FTP/1.1\r\nHost: d\r\n\r\n", "http-bad-request-line"],
  ["five blank lines first", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: d\r\n\r\n", "http-bad-request-line"],
  ["space in field name", "GET / HTTP/1.1\r\nHost: d\r\nBad Name: x\r\n\r\n", "http-bad-field-name"],
  ["space before colon", "GET / HTTP/1.1\r\nHost : d\r\n\r\n", "http-bad-field-name"],
  ["empty field name", "GET / HTTP/1.1\r\nHost: d\r\n: v\r\n\r\n", "http-bad-field-name"],
  ["no colon", "GET / HTTP/1.1\r\nHost: d\r\nNoColon\r\n\r\n", "http-bad-field-name"],
  ["control in value", "GET / HTTP/1.1\r\nHost: d\r\nX: a\x01b\r\n\r\n", "http-bad-field-value"],
  ["NUL in value", "GET / HTTP/1.1\r\nHost: d\r\nX: a\x00b\r\n\r\n", "http-bad-field-value"],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: d\r\nX: a\r\n  folded\r\n\r\n", "http-obs-fold"],
  ["whitespace before the first field", "GET / HTTP/1.1\r\n Host: d\r\n\r\n", "http-obs-fold"],
  ["bare CR", "GET / HTTP/1.1\r\nHost: d\r\nX: a\rb\r\n\r\n", "http-bare-cr"],
  ["bare CR in request line", "GET /\r HTTP/1.1\r\nHost: d\r\n\r\n", "http-bare-cr"],
  [
    "Content-Length and Transfer-Encoding",
    "POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "http-te-and-content-length",
  ],
  ["conflicting Content-Length list", "POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 5, 6\r\n\r\nabcde", "http-conflicting-content-length"],
  ["conflicting Content-Length fields", "POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde", "http-conflicting-content-length"],
  ["negative Content-Length", "POST / HTTP/1.1\r\nHost: d\r\nContent-Length: -1\r\n\r\n", "http-bad-content-length"],
  ["signed Content-Length", "POST / HTTP/1.1\r\nHost: d\r\nContent-Length: +5\r\n\r\nabcde", "http-bad-content-length"],
  ["hex Content-Length", "POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 0x5\r\n\r\nabcde", "http-bad-content-length"],
  ["empty Content-Length", "POST / HTTP/1.1\r\nHost: d\r\nContent-Length:\r\n\r\n", "http-bad-content-length"],
  ["no Host in HTTP/1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n", "http-bad-host"],
  ["two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "http-bad-host"],
  ["Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "http-bad-host"],
  ["Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "http-te-in-http-1.0"],
  ["chunked twice", "POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", "http-bad-transfer-encoding"],
  ["bad chunk size", "POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "http-bad-chunk-size"],
  ["negative chunk size", "POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "http-bad-chunk-size"],
  ["chunk without its CRLF", "POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", "http-bad-chunk-end"],
  ["chunk size ended by a bare LF", "POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", "http-chunk-bare-lf"],
  ["chunk data ended by a bare LF", "POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", "http-chunk-bare-lf"],
  ["last chunk ended by a bare LF", "POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n0\n\r\n", "http-chunk-bare-lf"],
  ["chunk line too long", `POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n1;${"e".repeat(300)}\r\n`, "http-chunk-line-too-long"],
];

for (const [name, request, reason] of MALFORMED) {
  test(`400 and close: ${name}`, (t) => {
    const env = setup();
    // Routes that read, so a body error is found while the body is read.
    env.server.route("POST", "/", (req, res) => req.recv((d) => d === null && res.end()));
    refused(t, env, request, 400, reason);
  });
}

test("a Content-Length repeated with the same value is one length", (t) => {
  const env = setup();
  env.server.route("POST", "/", (req, res) => req.recv((d) => (d ? res.write(d) : res.end())));
  const r = env.exchange("POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nabcde").responses[0]!;
  t.is(dec(r.body), "abcde");
});

test("501 for a transfer coding other than chunked; 505 for HTTP/2 and later, 0.9 and garbage versions; 1.x is served as 1.1", (t) => {
  const env = setup();
  refused(t, env, "POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "http-unknown-coding");
  for (const v of ["HTTP/2.0", "HTTP/3.0", "HTTP/0.9"]) refused(t, env, `GET / ${v}\r\nHost: d\r\n\r\n`, 505, "http-version-not-supported");
  for (const v of ["HTTP/1.10", "HTTP/one", "HTTP/1", "HTTP/1.1.1"]) refused(t, env, `GET / ${v}\r\nHost: d\r\n\r\n`, 505, "http-bad-version");
  const r = env.exchange("GET /status HTTP/1.7\r\nHost: d\r\n\r\n").responses[0]!;
  t.is(r.status, 200);
});

test("a target that is not a path, or has a bad escape, is 400 without closing", (t) => {
  const env = setup();
  for (const target of ["*", "relative", "/a%zzb", "/%", "/a#frag", "%2f"])
    refused(t, env, `GET ${target} HTTP/1.1\r\nHost: d\r\n\r\n`, 400, "http-bad-target", false);
});

// ---- time ----

test("408: a connection that sends nothing, a slowly dribbled head, a body that stalls; all closed", (t) => {
  const env = setup({ requestTimeoutMs: 5_000 });
  env.server.route("POST", "/sink", (req, res) => req.recv((d) => d === null && res.end()));
  const silent = env.connect();
  env.until(() => silent.fin, 60_000);
  t.deepEqual(
    silent.responses().map((r) => r.status),
    [408],
  );
  t.is(env.drops.get("http-request-timeout"), 1);

  const slow = env.connect();
  const start = env.clock.now();
  const head = `GET / HTTP/1.1\r\nHost: d\r\nX-Slow: ${"s".repeat(100)}`;
  slow.pcb.nodelay = true;
  for (let i = 0; !slow.fin && i < head.length; i++) {
    slow.send(head[i]!);
    env.clock.advance(500);
  }
  t.deepEqual(
    slow.responses().map((r) => r.status),
    [408],
  );
  const took = env.clock.now() - start;
  t.true(took >= 5_000 && took <= 6_500, `${took} ms of virtual time`);
  t.is(env.drops.get("http-request-timeout"), 2);

  const stall = env.connect();
  stall.send(`POST /sink HTTP/1.1\r\nHost: d\r\nContent-Length: 1000\r\n\r\n${"x".repeat(10)}`);
  env.until(() => stall.fin, 60_000);
  t.deepEqual(
    stall.responses().map((r) => r.status),
    [408],
  );
  t.is(env.drops.get("http-body-timeout"), 1);
  env.until(() => env.server.connections === 0, 60_000);
  t.is(env.server.connections, 0);
});

test("the unread rest of a body is dropped for at most discardTimeoutMs in all, however slowly it dribbles in", (t) => {
  const env = setup({ discardTimeoutMs: 30_000, requestTimeoutMs: 10_000, pollMs: 500 });
  env.server.route("POST", "/early", (_req, res) => res.end("no")); // answers without reading
  const c = env.connect();
  c.pcb.nodelay = true;
  c.send("POST /early HTTP/1.1\r\nHost: d\r\nContent-Length: 1000000\r\n\r\n");
  env.until(() => c.responses().length === 1);
  const answered = env.clock.now();
  // One byte every 9 s: never long enough apart for the per-byte timeout.
  while (!c.fin && env.clock.now() - answered < 120_000) {
    c.send("x");
    env.until(() => c.fin, 9_000);
  }
  const took = env.clock.now() - answered;
  t.true(c.fin, "the server closed");
  t.true(Math.round(took) >= 30_000 && took <= 30_600, `closed ${took} ms of virtual time after the response`);
  t.deepEqual(
    c.responses().map((r) => r.status),
    [200],
  );
  t.is(env.drops.get("http-discard-timeout"), 1);
  c.pcb.close();
  env.until(() => env.server.connections === 0, 20_000);
  t.is(env.server.connections, 0);
});

test("a body read by its handler must average minBodyRate: one byte every 5 s is cut off with 408, a steady one goes through", (t) => {
  const env = setup({ minBodyRate: 500, requestTimeoutMs: 10_000, pollMs: 500 });
  let got = 0;
  env.server.route("POST", "/sink", (req, res) =>
    req.recv((d) => {
      if (d) got += d.length;
      else res.end(String(got));
    }),
  );
  const c = env.connect();
  c.pcb.nodelay = true;
  c.send("POST /sink HTTP/1.1\r\nHost: d\r\nContent-Length: 100000\r\n\r\n");
  env.until(() => env.counters.get("http.requests") === 1);
  const start = env.clock.now();
  while (!c.fin && env.clock.now() - start < 120_000) {
    c.send("x");
    env.until(() => c.fin, 5_000);
  }
  const took = env.clock.now() - start;
  t.deepEqual(
    c.responses().map((r) => r.status),
    [408],
  );
  t.true(took >= 10_000 && took <= 11_000, `cut off after ${took} ms of virtual time`);
  t.is(env.drops.get("http-body-too-slow"), 1);
  // 1000 bytes a second (twice the rate) for 60 s is fine.
  got = 0;
  const d = env.connect();
  d.send("POST /sink HTTP/1.1\r\nHost: d\r\nContent-Length: 60000\r\n\r\n");
  for (let i = 0; i < 60; i++) {
    d.send("y".repeat(1000));
    env.clock.advance(1_000);
  }
  env.until(() => d.responses().length === 1);
  t.is(dec(d.responses()[0]!.body), "60000");
});

test("a kept-alive connection left idle is closed quietly after the idle timeout, not before", (t) => {
  const env = setup({ idleTimeoutMs: 15_000 });
  const c = env.connect();
  c.send("GET /status HTTP/1.1\r\nHost: d\r\n\r\n");
  env.until(() => c.responses().length === 1);
  const served = c.bytes.length;
  env.clock.advance(14_000);
  t.false(c.fin);
  c.send("GET /status HTTP/1.1\r\nHost: d\r\n\r\n"); // the idle clock starts again after this one
  env.until(() => c.responses().length === 2);
  env.clock.advance(14_000);
  t.false(c.fin);
  env.until(() => c.fin, 5_000);
  t.true(c.fin);
  t.is(c.responses().length, 2, "no 408 on a connection that was only idle");
  t.true(c.bytes.length > served);
  t.is(env.counters.get("http.idle-closed"), 1);
});

test("a client that stops reading a response is aborted after the send timeout", (t) => {
  const env = setup({ sendTimeoutMs: 20_000 });
  must(writeAll(env.storage, "big", bytes(300_000)));
  const pcb = unwrap(env.client.tcp.connect(SERVER, 80, () => pcb!.write(enc("GET /big HTTP/1.1\r\nHost: d\r\n\r\n"))));
  let received = 0;
  let error: string | undefined;
  pcb.recv((d) => (received += d ? d.length : 0)); // never recved(): the window closes
  pcb.err((e) => (error = e));
  env.until(() => error !== undefined, 120_000);
  t.is(error, "reset");
  t.true(received > 0 && received < 300_000);
  t.is(env.drops.get("http-send-timeout"), 1);
  t.is(env.server.connections, 0);
});

test("a client that reads only a little now and then is reset once it averages below minSendRate", (t) => {
  const env = setup({ sendTimeoutMs: 20_000, minSendRate: 500, pollMs: 500 });
  must(writeAll(env.storage, "big", bytes(300_000)));
  const pcb = unwrap(env.client.tcp.connect(SERVER, 80, () => pcb.write(enc("GET /big HTTP/1.1\r\nHost: d\r\n\r\n"))));
  let received = 0;
  let unread = 0;
  let error: string | undefined;
  pcb.recv((d) => {
    received += d ? d.length : 0;
    unread += d ? d.length : 0;
  });
  pcb.err((e) => (error = e));
  env.until(() => received > 0);
  const start = env.clock.now();
  while (error === undefined && env.clock.now() - start < 600_000) {
    const n = Math.min(unread, 100); // 100 bytes a second: every ACK in time, the average far too low
    pcb.recved(n);
    unread -= n;
    env.until(() => error !== undefined, 1_000);
  }
  const took = env.clock.now() - start;
  t.is(error, "reset");
  t.is(env.drops.get("http-send-too-slow"), 1);
  // Cut off when the time spent sending passed sendTimeoutMs plus what was acknowledged at 500 B/s.
  const due = 20_000 + (received * 1000) / 500;
  t.true(took >= due - 1_000 && took <= due + 1_500, `reset after ${took} ms, due at ${due} ms (${received} bytes read)`);
  t.log(`reset after ${Math.round(took)} ms, due at ${due} ms (${received} bytes read)`);
  t.is(env.server.connections, 0);
});

test("a handler that ignores backpressure is cut off at maxQueuedBytes", (t) => {
  const env = setup({ maxQueuedBytes: 8192 });
  const aborts: string[] = [];
  env.server.route("GET", "/flood", (_q, res) => {
    res.onAbort((r) => aborts.push(r));
    for (let i = 0; i < 100; i++) res.write(bytes(1000, i));
    res.end();
  });
  const c = env.connect();
  c.send("GET /flood HTTP/1.1\r\nHost: d\r\n\r\n");
  env.until(() => c.error !== undefined);
  t.is(c.error, "reset");
  t.is(env.drops.get("http-output-overflow"), 1);
  t.deepEqual(aborts, ["http-output-overflow"]);
});

test("pipelined requests wait while a response is still queued: a client that does not read holds one open file, not fifty", (t) => {
  const storage = new MemoryStorage({ limit: 1 << 22 });
  let open = 0;
  let most = 0;
  const counted: Storage = Object.assign(Object.create(storage) as Storage, {
    openRead(path: string, offset?: number) {
      const h = storage.openRead(path, offset);
      if (!h.ok) return h;
      most = Math.max(most, ++open);
      const close = h.value.close.bind(h.value);
      return {
        ok: true as const,
        value: Object.assign(Object.create(h.value), {
          read: h.value.read.bind(h.value),
          close: () => {
            open--;
            close();
          },
        }),
      };
    },
  });
  const env = setup({}, counted);
  must(writeAll(storage, "f", bytes(100_000, 3)));
  const c = env.connect();
  c.reading = false;
  c.send("GET /f HTTP/1.1\r\nHost: d\r\n\r\n".repeat(50));
  env.clock.advance(20_000); // the client reads nothing: its window closes
  t.true(most <= 1, `${most} files open at once`);
  t.is(env.counters.get("http.requests"), 1);
  c.read();
  env.until(() => c.received >= 50 * 100_000, 600_000);
  env.clock.advance(5_000);
  const rs = c.responses();
  t.is(rs.length, 50);
  t.true(rs.every((r) => r.status === 200 && Buffer.compare(r.body, bytes(100_000, 3)) === 0));
  t.true(most <= 1, `${most} files open at once`);
  t.is(open, 0);
});

// ---- connections ----

test("beyond maxConnections, when none waits for a request head, a connection is answered 503 with Retry-After and closed; a freed slot serves again", (t) => {
  const env = setup({ maxConnections: 2 });
  env.server.route("GET", "/hold", () => {}); // a response that never ends keeps each busy
  const held = [env.connect(), env.connect()];
  for (const c of held) c.send("GET /hold HTTP/1.1\r\nHost: d\r\n\r\n");
  env.until(() => env.server.connections === 2 && env.counters.get("http.requests") === 2);
  const { client, responses } = env.exchange("GET /status HTTP/1.1\r\nHost: d\r\n\r\n", { keep: true });
  env.until(() => client.fin);
  t.is(responses[0]!.status, 503);
  t.is(responses[0]!.headers["retry-after"], "1");
  t.is(responses[0]!.headers.connection, "close");
  t.true(client.fin);
  t.is(env.drops.get("http-busy"), 1);
  client.pcb.close();
  held[0]!.pcb.abort();
  env.until(() => env.server.connections === 1);
  t.is(env.exchange("GET /status HTTP/1.1\r\nHost: d\r\n\r\n").responses[0]!.status, 200);
});

test("twelve slowloris clients dribbling heads: a real client is served within 5 s, taking the slot of the one that waited longest", (t) => {
  const env = setup({ maxConnections: 4 });
  must(writeAll(env.storage, "f", enc("real")));
  const attacker = env.host(5, { tcp: { maxPcbs: 32 } });
  const open = () => {
    const c = new Client(attacker);
    c.pcb.nodelay = true;
    c.send("GET / HTTP/1.1\r\nX-Slow: ");
    return c;
  };
  const loris = Array.from({ length: 12 }, open);
  // Each sends one more byte a second and, once cut off, comes back at once.
  const dribble = () => {
    for (let i = 0; i < loris.length; i++) {
      const c = loris[i]!;
      if (c.error !== undefined || c.fin) {
        c.pcb.abort();
        loris[i] = open();
      } else c.send("s");
    }
  };
  for (let s = 0; s < 20; s++) {
    dribble();
    env.clock.advance(1_000);
  }
  t.true(env.server.connections <= 5, `${env.server.connections} connections`);
  const real = env.connect();
  real.send("GET /f HTTP/1.1\r\nHost: d\r\n\r\n");
  const asked = env.clock.now();
  while (real.responses().length === 0 && env.clock.now() - asked < 30_000) {
    dribble();
    env.until(() => real.responses().length > 0, 1_000);
  }
  const took = env.clock.now() - asked;
  const [r] = real.responses();
  t.is(r?.status, 200);
  t.is(dec(r!.body), "real");
  t.true(took <= 5_000, `served after ${took} ms of virtual time`);
  t.log(`served after ${Math.round(took)} ms of virtual time`);
  t.true((env.drops.get("http-evicted") ?? 0) > 0);
  t.is(env.drops.get("http-busy"), undefined, "no one was refused");
});

test("a connection lingering after its last response, all of it acknowledged, gives its slot to a newcomer", (t) => {
  const env = setup({ maxConnections: 2, requestTimeoutMs: 10_000 });
  const lingering = [env.connect(), env.connect()];
  for (const c of lingering) c.send("GET /status HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n");
  env.until(() => lingering.every((c) => c.fin)); // answered and FIN received; the clients never close
  env.clock.advance(1_000);
  t.is(env.server.connections, 2);
  const [r] = env.exchange("GET /status HTTP/1.1\r\nHost: d\r\n\r\n").responses;
  t.is(r?.status, 200);
  t.is(env.drops.get("http-evicted"), 1);
  t.is(env.drops.get("http-busy"), undefined);
});

test("when TCP itself has no pcb left, the SYN is dropped and counted", (t) => {
  const env = setup({ maxConnections: 8 }, undefined, undefined, 1, { maxPcbs: 2 });
  const held = [env.connect(), env.connect()];
  env.until(() => env.server.connections === 2);
  const third = env.connect();
  env.clock.advance(3_000);
  t.false(third.established);
  t.true((env.drops.get("tcp-pcb-limit") ?? 0) >= 1);
  held[0]!.pcb.close();
  env.until(() => third.established, 60_000);
  t.true(third.established);
});

// ---- confinement ----

test("no path leaves the static root: dot-dot, encoded, backslashes, NUL, absolute-form, links out; PUT neither", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "http-root-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  mkdirSync(join(root, "pub"), { recursive: true });
  writeFileSync(join(dir, "secret.txt"), "SECRET");
  writeFileSync(join(root, "pub", "ok.txt"), "public");
  symlinkSync(join(dir, "secret.txt"), join(root, "pub", "link.txt"));
  symlinkSync(dir, join(root, "up"));
  const env = setup({ allowPut: true }, new DirectoryStorage(root));
  const targets = [
    "/../secret.txt",
    "/pub/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/pub/..%2f..%2fsecret.txt",
    "/..%5csecret.txt",
    "/..\\secret.txt",
    "/pub\\..\\..\\secret.txt",
    "/%2e%2e%5c%2e%2e%5csecret.txt",
    "/secret.txt%00.html",
    "/%00/../secret.txt",
    "//../secret.txt",
    "http://device/../secret.txt",
    "/pub/link.txt",
    "/up/secret.txt",
    "/up/",
  ];
  for (const target of targets) {
    const r = env.exchange(`GET ${target} HTTP/1.1\r\nHost: d\r\n\r\n`).responses[0]!;
    t.true([400, 403, 404].includes(r.status), `${target}: ${r.status}`);
    t.false(dec(r.body).includes("SECRET"), target);
  }
  t.is(dec(env.exchange("GET /pub/./x/../ok.txt HTTP/1.1\r\nHost: d\r\n\r\n").responses[0]!.body), "public");
  for (const target of ["/../evil.txt", "/%2e%2e/evil.txt", "/..\\evil.txt", "/up/evil.txt"]) {
    const r = env.exchange(`PUT ${target} HTTP/1.1\r\nHost: d\r\nContent-Length: 4\r\n\r\nevil`).responses[0]!;
    t.true([400, 403].includes(r.status), `${target}: ${r.status}`);
  }
  t.false(existsSync(join(dir, "evil.txt")));
  t.true((env.drops.get("path-escapes-root") ?? 0) >= 5);
  t.true((env.drops.get("path-nul") ?? 0) >= 2);
  t.true((env.drops.get("storage-denied") ?? 0) >= 3);
});

// ---- garbage ----

test("10 000 distinct bogus methods, header names and extensions: each answered, and the server still serves", (t) => {
  const env = setup();
  must(writeAll(env.storage, "f.txt", enc("still here")));
  const batch = 50; // pipelined on one connection, well within maxRequests
  let answered = 0;
  for (let i = 0; i < 10_000; i += batch) {
    let text = "";
    for (let j = i; j < i + batch; j++) text += `BOGUS${j} /f.x${j} HTTP/1.1\r\nHost: d\r\nX-Bogus-${j}: v\r\n\r\n`;
    const { responses } = env.exchange(text, { count: batch });
    answered += responses.filter((r) => r.status === 501).length;
  }
  t.is(answered, 10_000);
  t.is(env.drops.get("http-unknown-method"), 10_000);
  const [r] = env.exchange("GET /f.txt HTTP/1.1\r\nHost: d\r\nX-Other-Name: 1\r\n\r\n").responses;
  t.is(dec(r!.body), "still here");
});

test("property: any bytes at all never crash the server; it answers a status line or nothing, and frees the connection", (t) => {
  const reqLike = fc.array(
    fc.oneof(
      fc.constantFrom(
        "GET ",
        "POST ",
        "/",
        " HTTP/1.1",
        "\r\n",
        "\n",
        "\r",
        ":",
        " ",
        "Host: d\r\n",
        "Content-Length: 5\r\n",
        "Transfer-Encoding: chunked\r\n",
        "0\r\n",
        "ff\r\n",
        "%2e",
        "Expect: 100-continue\r\n",
      ),
      fc.string({ maxLength: 20 }),
    ),
    { maxLength: 30 },
  );
  const raw = fc.uint8Array({ maxLength: 400 });
  holds(
    t,
    fc.property(
      fc.oneof(
        reqLike.map((parts) => enc(parts.join(""))),
        raw,
      ),
      (input) => {
        const env = setup({ requestTimeoutMs: 2_000, maxHeaderBytes: 300 });
        const c = env.connect();
        c.send(input);
        env.until(() => c.fin || c.error !== undefined, 30_000);
        c.pcb.close();
        env.until(() => env.server.connections === 0, 30_000);
        const text = c.text;
        const lines = text.split("\r\n").filter((l) => /^HTTP\//.test(l));
        return (
          !env.drops.has("internal-error") &&
          (text === "" || /^HTTP\/1\.1 \d{3} /.test(text)) &&
          lines.every((l) => /^HTTP\/1\.1 \d{3} /.test(l)) &&
          env.server.connections === 0
        );
      },
    ),
    { numRuns: 150 },
  );
});
