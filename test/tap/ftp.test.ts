// The FTP server against real clients over TAP: lftp, curl, inetutils ftp and the npm
// client basic-ftp, in passive and in active mode. The device's store is a directory of the
// host (DirectoryStorage) in a temporary directory; the clients run in the test's network
// namespace, where the kernel side of the TAP is 10.77.21.1 and the device 10.77.21.2.
// Every file that crosses is checked by its SHA-256.
//
// basic-ftp is a library, and the test process lives in the root namespace, which has no
// route to the device. So a small Node script that uses it runs inside the namespace
// (`ip netns exec ... node`), resolving basic-ftp from this repository, and prints JSON.

import test, { type ExecutionContext } from "ava";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DirectoryStorage } from "../../host-sim/storage/directory.ts";
import type { Stack } from "../../modules/stack/stack.ts";
import { FtpServer, type FtpTransferReport } from "../../modules/services/ftp-server.ts";
import type { Netns } from "../../bench/netns.ts";
import { deviceOnTap } from "../support/tap-device.ts";

const KERNEL = "10.77.21.1";
const DEVICE = "10.77.21.2";
const URL = `ftp://bob:secret@${DEVICE}`;

interface Env {
  ns: Netns;
  device: Stack;
  server: FtpServer;
  /** The store's root on the host: bob's files are under home/, anonymous ones under pub/. */
  root: string;
  /** A scratch directory for the clients' side. */
  local: string;
  reports: FtpTransferReport[];
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function fileHash(path: string): string {
  return sha256(fs.readFileSync(path));
}

/** A namespace, a TAP into it, our stack with an FTP server on a temporary directory. */
async function ftpOnTap(t: ExecutionContext, bigWindows = false): Promise<Env> {
  const window = bigWindows ? { sndbuf: 512 * 1024, wnd: 512 * 1024 } : {};
  const { ns, device } = await deviceOnTap(t, { kernel: KERNEL, device: DEVICE, seed: 21, stack: { tcp: { maxPcbs: 32, maxListeners: 12, ...window } } });
  const dir = fs.mkdtempSync(join(tmpdir(), "ftp-tap-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "store");
  const local = join(dir, "local");
  for (const d of [root, join(root, "home"), join(root, "pub"), local]) fs.mkdirSync(d);
  const reports: FtpTransferReport[] = [];
  const server = new FtpServer(device, new DirectoryStorage(root), {
    users: [{ name: "bob", password: "secret", root: "home" }],
    anonymousRoot: "pub",
    maxSessions: 8,
    maxDataConnections: 8,
    loginDelayMs: 100,
    chunkSize: 16384,
    onTransfer: (r) => reports.push(r),
  });
  if (!server.listen()) throw new Error("port 21 taken");
  t.teardown(() => server.close());
  return { ns, device, server, root, local, reports };
}

/** Files of random content under `dir`, returned as relative path -> hash. */
function makeTree(dir: string, files: Record<string, number>): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const [rel, size] of Object.entries(files)) {
    const path = join(dir, rel);
    fs.mkdirSync(join(path, ".."), { recursive: true });
    const data = randomBytes(size);
    fs.writeFileSync(path, data);
    hashes[rel] = sha256(data);
  }
  return hashes;
}

/** relative path -> hash of every file under `dir`. */
function treeHashes(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, treeHashes(join(dir, e.name), rel));
    else out[rel] = fileHash(join(dir, e.name));
  }
  return out;
}

const TREE = { "a.bin": 100_000, "empty.txt": 0, "sub/b.bin": 300_001, "sub/deeper/c.txt": 1234 };

async function lftp(env: Env, script: string, timeoutMs = 60_000): Promise<string> {
  const r = await env.ns.run("lftp", ["-c", `set net:max-retries 1; set net:timeout 15; set ftp:ssl-allow no; set cmd:fail-exit yes; ${script}`], timeoutMs);
  if (r.code !== 0) throw new Error(`lftp failed (${r.signal ?? r.code}): ${r.stderr}`);
  return r.stdout;
}

for (const passive of [true, false]) {
  test(`lftp in ${passive ? "passive" : "active"} mode: mirror down, mirror -R up, ls`, async (t) => {
    const env = await ftpOnTap(t);
    const tree = makeTree(join(env.root, "home", "tree"), TREE);
    const upTree = makeTree(join(env.local, "up"), { "x.bin": 200_000, "y/z.txt": 777 });
    const open = `set ftp:passive-mode ${passive ? "on" : "off"}; open -u bob,secret ${DEVICE}`;
    await lftp(env, `${open}; mirror /tree ${join(env.local, "down")}; mirror -R ${join(env.local, "up")} /up`);
    t.deepEqual(treeHashes(join(env.local, "down")), tree);
    t.deepEqual(treeHashes(join(env.root, "home", "up")), upTree);
    const ls = await lftp(env, `${open}; ls /tree`);
    t.regex(ls, /^-rw-r--r-- +1 ftp +ftp +100000 \w{3} [ \d]\d \d\d:\d\d a\.bin$/m);
    t.regex(ls, /^drwxr-xr-x .* sub$/m);
    t.is(env.reports.filter((r) => r.error).length, 0, JSON.stringify(env.reports.filter((r) => r.error)));
    const counters = env.device.netif.stats.counters;
    if (passive) t.true((counters.get("ftp.pasv") ?? 0) + (counters.get("ftp.epsv") ?? 0) > 0);
    else t.true((counters.get("ftp.port") ?? 0) + (counters.get("ftp.eprt") ?? 0) > 0);
  });
}

async function curl(env: Env, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return env.ns.run("curl", ["-sS", "--max-time", String(timeoutMs / 1000 - 5), ...args], timeoutMs);
}

test("curl: list, download, upload (-T), and active mode (-P -) with EPRT and with PORT", async (t) => {
  const env = await ftpOnTap(t);
  const tree = makeTree(join(env.root, "home", "tree"), TREE);
  const list = await curl(env, [`${URL}/tree/`]);
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /^drwxr-xr-x .* sub\r?$/m);
  t.regex(list.stdout, /^-rw-r--r-- +1 ftp +ftp +100000 .* a\.bin\r?$/m);
  const names = await curl(env, ["-l", `${URL}/tree/sub/`]);
  t.deepEqual(names.stdout.split(/\r?\n/).filter(Boolean), ["b.bin", "deeper"]);
  const down = join(env.local, "a.bin");
  const get = await curl(env, ["-o", down, `${URL}/tree/a.bin`]);
  t.is(get.code, 0, get.stderr);
  t.is(fileHash(down), tree["a.bin"]!);
  const up = makeTree(env.local, { "up.bin": 250_000 });
  const put = await curl(env, ["-T", join(env.local, "up.bin"), `${URL}/tree/`]);
  t.is(put.code, 0, put.stderr);
  t.is(fileHash(join(env.root, "home", "tree", "up.bin")), up["up.bin"]!);
  for (const extra of [[], ["--disable-eprt"]]) {
    const out = join(env.local, `active${extra.length}.bin`);
    const active = await curl(env, ["-P", "-", ...extra, "-o", out, `${URL}/tree/sub/b.bin`]);
    t.is(active.code, 0, active.stderr);
    t.is(fileHash(out), tree["sub/b.bin"]!);
    const upActive = await curl(env, ["-P", "-", ...extra, "-T", join(env.local, "up.bin"), `${URL}/active${extra.length}.bin`]);
    t.is(upActive.code, 0, upActive.stderr);
    t.is(fileHash(join(env.root, "home", `active${extra.length}.bin`)), up["up.bin"]!);
  }
  const counters = env.device.netif.stats.counters;
  t.is(counters.get("ftp.eprt"), 2);
  t.is(counters.get("ftp.port"), 2);
  t.true((counters.get("ftp.epsv") ?? 0) >= 4);
});

/** Runs `file` in the namespace with `input` on its standard input. */
function runWithInput(
  ns: Netns,
  file: string,
  args: string[],
  input: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", ns.name, file, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

for (const passive of [true, false]) {
  test(`inetutils ftp in ${passive ? "passive (-p)" : "active"} mode, driven by a script on stdin`, async (t) => {
    const env = await ftpOnTap(t);
    const tree = makeTree(join(env.root, "home", "tree"), TREE);
    const up = makeTree(env.local, { "in.bin": 123_457 });
    const script = [
      "user bob secret",
      "binary",
      "cd tree",
      `get a.bin ${join(env.local, "a.bin")}`,
      `put ${join(env.local, "in.bin")} in.bin`,
      "ls",
      "mkdir made",
      "pwd",
      "quit",
      "",
    ].join("\n");
    const r = await runWithInput(env.ns, "ftp", ["-n", "-v", ...(passive ? ["-p"] : []), DEVICE], script, 60_000);
    t.is(r.code, 0, r.stderr);
    t.is(fileHash(join(env.local, "a.bin")), tree["a.bin"]!);
    t.is(fileHash(join(env.root, "home", "tree", "in.bin")), up["in.bin"]!);
    t.true(fs.statSync(join(env.root, "home", "tree", "made")).isDirectory());
    t.regex(r.stdout, /^230 /m);
    t.regex(r.stdout, /^257 "\/tree" is the current directory/m);
    t.regex(r.stdout, /a\.bin\r?$/m);
    t.regex(r.stdout, /^221 /m);
    const counters = env.device.netif.stats.counters;
    t.is((counters.get("ftp.pasv") ?? 0) + (counters.get("ftp.epsv") ?? 0) > 0, passive);
    t.is((counters.get("ftp.port") ?? 0) + (counters.get("ftp.eprt") ?? 0) > 0, !passive);
  });
}

const BASIC_FTP = `
import { Client } from "basic-ftp";
const [host, down, up] = process.argv.slice(1);
const c = new Client(20000);
try {
  await c.access({ host, user: "bob", password: "secret", secure: false });
  const list = await c.list("/tree");
  await c.downloadTo(down, "/tree/sub/b.bin");
  await c.uploadFrom(up, "/tree/from-basic.bin");
  await c.ensureDir("/tree/made/by/basic");
  const size = await c.size("/tree/from-basic.bin");
  console.log(JSON.stringify({ list: list.map((f) => [f.name, f.size, f.isDirectory]), size, pwd: await c.pwd() }));
} finally {
  c.close();
}
`;

test("basic-ftp (npm) in a Node script inside the namespace: list, download, upload, mkdir, size", async (t) => {
  const env = await ftpOnTap(t);
  const tree = makeTree(join(env.root, "home", "tree"), TREE);
  const up = makeTree(env.local, { "b-up.bin": 400_000 });
  const down = join(env.local, "b.bin");
  const r = await env.ns.run("node", ["--input-type=module", "-e", BASIC_FTP, DEVICE, down, join(env.local, "b-up.bin")], 60_000);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { list: [string, number, boolean][]; size: number; pwd: string };
  t.deepEqual(out.list.sort(), [
    ["a.bin", 100_000, false],
    ["empty.txt", 0, false],
    ["sub", 0, true],
  ]);
  t.is(out.size, 400_000);
  t.is(out.pwd, "/tree/made/by/basic");
  t.is(fileHash(down), tree["sub/b.bin"]!);
  t.is(fileHash(join(env.root, "home", "tree", "from-basic.bin")), up["b-up.bin"]!);
});

test("refusals from real clients: traversal (550), bounce PORT to another address (504), anonymous STOR (550)", async (t) => {
  const env = await ftpOnTap(t);
  makeTree(join(env.root, "home"), { "mine.bin": 10 });
  fs.writeFileSync(join(env.root, "secret.txt"), "outside bob's root");
  const traversal = await curl(env, ["--path-as-is", "-v", `${URL}/../secret.txt`]);
  t.not(traversal.code, 0);
  t.regex(traversal.stderr, /< 550 /);
  const anon = await curl(env, ["-v", "-T", join(env.root, "home", "mine.bin"), `ftp://${DEVICE}/dropped.bin`]);
  t.not(anon.code, 0);
  t.regex(anon.stderr, /< 230 /);
  t.regex(anon.stderr, /< 550 /);
  t.false(fs.existsSync(join(env.root, "pub", "dropped.bin")));
  const py = await env.ns.run(
    "python3",
    [
      "-c",
      `
import ftplib
f = ftplib.FTP()
f.connect("${DEVICE}", 21, timeout=10)
f.login("bob", "secret")
def code(cmd):
    try:
        return f.sendcmd(cmd)[:3]
    except ftplib.all_errors as e:
        return str(e)[:3]
def retr(path):
    try:
        return f.retrbinary("RETR " + path, lambda b: None)[:3]
    except ftplib.all_errors as e:
        return str(e)[:3]
print(code("CWD ../.."), retr("../secret.txt"), retr("/../../secret.txt"), code("PORT 10,77,21,99,200,10"), code("PORT 10,77,21,1,0,25"), code("EPRT |1|10.77.21.99|5000|"))
f.quit()
a = ftplib.FTP()
a.connect("${DEVICE}", 21, timeout=10)
a.login()
try:
    a.storbinary("STOR x.bin", open("${join(env.root, "home", "mine.bin")}", "rb"))
    print("stored")
except ftplib.error_perm as e:
    print(str(e)[:3])
a.quit()
`,
    ],
    30_000,
  );
  t.is(py.code, 0, py.stderr);
  t.deepEqual(py.stdout.trim().split(/\s+/), ["550", "550", "550", "504", "504", "504", "550"]);
  t.is(env.device.netif.stats.drops.get("ftp-port-refused"), 3);
  t.true((env.device.netif.stats.drops.get("ftp-read-only") ?? 0) >= 2);
});

test("a 50 MB RETR and a 20 MB STOR with curl, hashes equal (larger TCP windows)", async (t) => {
  const env = await ftpOnTap(t, true);
  const big = makeTree(join(env.root, "home"), { "big.bin": 50 * 1024 * 1024 });
  const up = makeTree(env.local, { "up20.bin": 20 * 1024 * 1024 });
  let start = performance.now();
  const get = await curl(env, ["-o", join(env.local, "big.bin"), `${URL}/big.bin`], 120_000);
  const retrMs = performance.now() - start;
  t.is(get.code, 0, get.stderr);
  t.is(fileHash(join(env.local, "big.bin")), big["big.bin"]!);
  start = performance.now();
  const put = await curl(env, ["-T", join(env.local, "up20.bin"), `${URL}/up20.bin`], 120_000);
  const storMs = performance.now() - start;
  t.is(put.code, 0, put.stderr);
  t.is(fileHash(join(env.root, "home", "up20.bin")), up["up20.bin"]!);
  t.log(
    `50 MB RETR ${(retrMs / 1000).toFixed(1)} s (${(50 / (retrMs / 1000)).toFixed(1)} MB/s), 20 MB STOR ${(storMs / 1000).toFixed(1)} s (${(20 / (storMs / 1000)).toFixed(1)} MB/s)`,
  );
  t.deepEqual(
    env.reports.map((r) => [r.command, r.bytes, r.error]),
    [
      ["RETR", 50 * 1024 * 1024, undefined],
      ["STOR", 20 * 1024 * 1024, undefined],
    ],
  );
});
