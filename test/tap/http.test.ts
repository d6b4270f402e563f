// The HTTP server against curl and wget over TAP. The device (10.77.80.2) serves a
// host-directory store in a temp dir; the kernel side (10.77.80.1) lives in the test's own
// namespace. Big transfers (20 MB down, 5 MB up) are compared by SHA-256 and timed.

import test, { type ExecutionContext } from "ava";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, readdirSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { DirectoryStorage } from "../../host-sim/storage/directory.ts";
import { HttpServer } from "../../modules/services/http-server.ts";
import { deviceOnTap } from "../support/tap-device.ts";

const KERNEL = "10.77.80.1";
const DEVICE = "10.77.80.2";
const URL = `http://${DEVICE}`;
const MB = 1 << 20;

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The device on a TAP in a fresh namespace, serving `root` with PUT allowed; TCP buffers of 64 KiB for the big transfers. */
async function httpDevice(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), "http-tap-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  mkdirSync(root);
  const { ns, device } = await deviceOnTap(t, { kernel: KERNEL, device: DEVICE, seed: 80, stack: { tcp: { sndbuf: 65536, wnd: 65535 } } });
  const server = new HttpServer(device, new DirectoryStorage(root), { allowPut: true, maxBodyBytes: 8 * MB, date: () => Date.now() });
  if (!server.listen()) throw new Error("port 80 taken");
  t.teardown(() => server.close());
  const curl = (args: string[], timeoutMs = 30_000) => ns.run("curl", ["-sS", "--max-time", String(timeoutMs / 1000), ...args], timeoutMs + 5_000);
  return { dir, root, ns, device, server, curl };
}

test.serial("GET and HEAD with curl: body, type, length and Last-Modified; 404; 304 for curl -z", async (t) => {
  const { root, curl, device } = await httpDevice(t);
  writeFileSync(join(root, "hello.txt"), "hello, kernel\n");
  const get = await curl(["-D", "-", `${URL}/hello.txt`]);
  t.is(get.code, 0, get.stderr);
  const [fields, body] = get.stdout.split("\r\n\r\n") as [string, string];
  const head = `${fields}\r\n`;
  t.regex(head, /^HTTP\/1\.1 200 OK\r\n/);
  t.regex(head, /\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
  t.regex(head, /\r\nContent-Length: 14\r\n/);
  t.regex(head, /\r\nLast-Modified: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
  t.regex(head, /\r\nDate: /);
  t.is(body, "hello, kernel\n");
  const headOnly = await curl(["-I", `${URL}/hello.txt`]);
  t.regex(headOnly.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  t.regex(headOnly.stdout, /\r\nContent-Length: 14\r\n/);
  t.is(headOnly.stdout.split("\r\n\r\n")[1], "");
  const missing = await curl(["-o", "/dev/null", "-w", "%{http_code}", `${URL}/nope`]);
  t.is(missing.stdout, "404");
  const notModified = await curl(["-o", "/dev/null", "-w", "%{http_code}", "-z", new Date(Date.now() + 60_000).toUTCString(), `${URL}/hello.txt`]);
  t.is(notModified.stdout, "304");
  const escaped = await curl(["--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", `${URL}/../../etc/passwd`]);
  t.is(escaped.stdout, "403");
  t.deepEqual(
    [...device.netif.stats.drops.keys()].filter((d) => d.startsWith("tcp-")),
    [],
  );
});

test.serial("a 20 MB download and a 5 MB PUT upload with curl, SHA-256 equal both ways", async (t) => {
  const { dir, root, curl, device } = await httpDevice(t);
  const big = randomBytes(20 * MB);
  writeFileSync(join(root, "big.bin"), big);
  const out = join(dir, "big.out");
  const down = await curl(["-o", out, "-w", "%{http_code} %{size_download} %{time_total} %{speed_download}", `${URL}/big.bin`], 60_000);
  t.is(down.code, 0, down.stderr);
  const [code, size, time, speed] = down.stdout.split(" ");
  t.is(code, "200");
  t.is(Number(size), 20 * MB);
  t.is(sha(readFileSync(out)), sha(big));
  t.log(`20 MB download: ${Number(time).toFixed(2)} s, ${(Number(speed) / MB).toFixed(1)} MB/s`);

  const upload = randomBytes(5 * MB);
  const src = join(dir, "up.src");
  writeFileSync(src, upload);
  const up = await curl(["-T", src, "-o", "/dev/null", "-w", "%{http_code} %{size_upload} %{time_total} %{speed_upload}", `${URL}/uploaded.bin`], 60_000);
  t.is(up.code, 0, up.stderr);
  const [upCode, upSize, upTime, upSpeed] = up.stdout.split(" ");
  t.is(upCode, "201");
  t.is(Number(upSize), 5 * MB);
  t.is(sha(readFileSync(join(root, "uploaded.bin"))), sha(upload));
  t.log(`5 MB upload: ${Number(upTime).toFixed(2)} s, ${(Number(upSpeed) / MB).toFixed(1)} MB/s`);
  const again = await curl(["-T", src, "-o", "/dev/null", "-w", "%{http_code}", `${URL}/uploaded.bin`], 60_000);
  t.is(again.stdout, "204", "a replaced file");
  t.log(`device drops: ${JSON.stringify([...device.netif.stats.drops])}`);
});

test.serial("a download resumed with curl -C -, ranges with -r, and 416 past the end", async (t) => {
  const { dir, root, curl } = await httpDevice(t);
  const data = randomBytes(3 * MB + 123);
  writeFileSync(join(root, "resume.bin"), data);
  const out = join(dir, "partial.bin");
  writeFileSync(out, data.subarray(0, MB + 7)); // an interrupted earlier download
  const resumed = await curl(["-C", "-", "-o", out, "-w", "%{http_code} %{size_download}", `${URL}/resume.bin`], 30_000);
  t.is(resumed.code, 0, resumed.stderr);
  t.is(resumed.stdout, `206 ${data.length - (MB + 7)}`);
  t.is(sha(readFileSync(out)), sha(data));
  const range = await curl(["-r", "1000-1999", "-D", join(dir, "h"), "-o", join(dir, "r"), `${URL}/resume.bin`]);
  t.is(range.code, 0);
  t.deepEqual(readFileSync(join(dir, "r")), data.subarray(1000, 2000));
  t.regex(readFileSync(join(dir, "h"), "latin1"), new RegExp(`\r\nContent-Range: bytes 1000-1999/${data.length}\r\n`));
  const past = await curl(["-r", `${data.length}-`, "-D", "-", "-o", "/dev/null", `${URL}/resume.bin`]);
  t.regex(past.stdout, /^HTTP\/1\.1 416 /);
  t.regex(past.stdout, new RegExp(`\r\nContent-Range: bytes \\*/${data.length}\r\n`));
});

test.serial("two requests on one connection: curl re-uses it and leaves it intact", async (t) => {
  const { root, curl, device } = await httpDevice(t);
  writeFileSync(join(root, "a.txt"), "first\n");
  writeFileSync(join(root, "b.txt"), "second\n");
  const r = await curl(["-v", `${URL}/a.txt`, `${URL}/b.txt`]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, "first\nsecond\n");
  t.regex(r.stderr, /Re-using existing connection/);
  t.regex(r.stderr, /left intact/);
  t.is(device.netif.stats.counters.get("tcp.accepted"), 1);
  t.is(device.netif.stats.counters.get("http.requests"), 2);
});

test.serial("wget -r -np walks a directory listing and a page set; every file arrives equal", async (t) => {
  const { dir, root, ns } = await httpDevice(t);
  const files: Record<string, Buffer> = {
    "tree/a.txt": Buffer.from("alpha\n"),
    "tree/b c.bin": randomBytes(70_000),
    "tree/sub/deep.json": Buffer.from('{"deep":true}\n'),
    "tree/sub/more/x.dat": randomBytes(5_000),
    "tree/site/index.html": Buffer.from(`<html><body><a href="page2.html">2</a> <a href="img/pic.png">pic</a></body></html>\n`),
    "tree/site/page2.html": Buffer.from(`<html><body><a href="index.html">1</a></body></html>\n`),
    "tree/site/img/pic.png": randomBytes(9_999),
  };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, ".."), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  writeFileSync(join(root, "outside.txt"), "not below tree/");
  const out = join(dir, "wget");
  const r = await ns.run("wget", ["-r", "-np", "-nH", "-q", "--tries=1", "--timeout=10", "-P", out, `${URL}/tree/`], 60_000);
  t.is(r.code, 0, r.stderr);
  for (const [name, content] of Object.entries(files)) {
    const got = join(out, name);
    t.true(existsSync(got), name);
    if (existsSync(got)) t.is(sha(readFileSync(got)), sha(content), name);
  }
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [relative(out, join(d, n))]));
  const fetched = walk(out).sort();
  t.false(fetched.includes("outside.txt"), "-np kept wget below tree/");
  // Besides the files, only the listings wget saved as index.html of each listed directory.
  t.deepEqual(
    fetched.filter((f) => !(f in files)),
    ["tree/index.html", "tree/sub/index.html", "tree/sub/more/index.html"],
  );
});
