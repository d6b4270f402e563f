// The TFTP server on our stack over TAP, against the real clients Linux has: tftp-hpa, curl
// and atftp, in a namespace of the test's own. The device runs on RealClock and serves a
// host directory in a temporary folder. Needs root (CI is).

import test, { type ExecutionContext } from "ava";
import * as fs from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DirectoryStorage } from "../../host-sim/storage/directory.ts";
import { TftpServer, type TftpServerOptions, type TftpTransferReport } from "../../modules/services/tftp-server.ts";
import type { Netns } from "../../bench/netns.ts";
import { deviceOnTap } from "../support/tap-device.ts";

const KERNEL = "10.77.69.1";
const DEVICE = "10.77.69.2";
const SIZES = [0, 511, 512, 513, 5 << 20];
const RUN_MS = 60_000;

interface Env {
  ns: Netns;
  server: TftpServer;
  /** The server's root. */
  root: string;
  /** The client's folder. */
  work: string;
  reports: TftpTransferReport[];
}

async function tftpOnTap(t: ExecutionContext, options: Partial<TftpServerOptions> = {}): Promise<Env> {
  const { ns, device } = await deviceOnTap(t, { kernel: KERNEL, device: DEVICE, seed: 69 });
  const base = fs.mkdtempSync(join(tmpdir(), "tftp-tap-"));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = join(base, "root");
  const work = join(base, "work");
  fs.mkdirSync(root);
  fs.mkdirSync(work);
  const reports: TftpTransferReport[] = [];
  const server = new TftpServer(device, new DirectoryStorage(root), { allowWrite: true, onTransfer: (r) => reports.push(r), ...options });
  if (!server.listen()) throw new Error("port 69 taken");
  t.teardown(() => server.close());
  return { ns, server, root, work, reports };
}

function sha256(path: string): string {
  return createHash("sha256").update(fs.readFileSync(path)).digest("hex");
}

/** A file of random bytes of each size, in `dir`, named by size. */
function makeFiles(dir: string, prefix: string): void {
  for (const size of SIZES) fs.writeFileSync(join(dir, `${prefix}${size}`), randomBytes(size));
}

/** Runs a client in the namespace; returns its output and how long it took. */
async function client(env: Env, file: string, args: string[]): Promise<{ out: string; code: number | null; ms: number }> {
  const start = performance.now();
  const r = await env.ns.run(file, args, RUN_MS);
  return { out: r.stdout + r.stderr, code: r.code, ms: performance.now() - start };
}

test("tftp-hpa: get and put of 0, 511, 512, 513 bytes and 5 MB in binary mode, hashes equal", async (t) => {
  const env = await tftpOnTap(t);
  makeFiles(env.root, "srv");
  makeFiles(env.work, "cli");
  for (const size of SIZES) {
    const local = join(env.work, `got${size}`);
    const get = await client(env, "tftp", ["-m", "binary", DEVICE, "-c", "get", `srv${size}`, local]);
    t.is(get.out.trim(), "", `get ${size}: ${get.out}`);
    t.is(sha256(local), sha256(join(env.root, `srv${size}`)), `get ${size}`);
    const put = await client(env, "tftp", ["-m", "binary", DEVICE, "-c", "put", join(env.work, `cli${size}`), `up${size}`]);
    t.is(put.out.trim(), "", `put ${size}: ${put.out}`);
    t.is(sha256(join(env.root, `up${size}`)), sha256(join(env.work, `cli${size}`)), `put ${size}`);
    if (size === 5 << 20) t.log(`tftp-hpa 5 MB, blksize 512: get ${get.ms.toFixed(0)} ms, put ${put.ms.toFixed(0)} ms`);
  }
  t.deepEqual(
    env.reports.map((r) => [r.op, r.bytes, r.error]),
    SIZES.flatMap((n) => [
      ["read", n, undefined],
      ["write", n, undefined],
    ]),
  );
  t.deepEqual(env.reports[0]!.options, {}, "tftp-hpa asks for no options");
});

test("tftp-hpa: netascii both ways turns the host's LF into CR LF on the wire and back", async (t) => {
  const env = await tftpOnTap(t);
  const text = `first line\nsecond line\n${"x".repeat(510)}\n${"y".repeat(2000)}\nlast line\n`;
  fs.writeFileSync(join(env.root, "text"), text);
  fs.writeFileSync(join(env.work, "text"), text);
  const got = join(env.work, "got");
  t.is((await client(env, "tftp", ["-m", "ascii", DEVICE, "-c", "get", "text", got])).out.trim(), "");
  t.is(fs.readFileSync(got, "utf8"), text);
  t.is((await client(env, "tftp", ["-m", "ascii", DEVICE, "-c", "put", join(env.work, "text"), "text-up"])).out.trim(), "");
  t.is(fs.readFileSync(join(env.root, "text-up"), "utf8"), text);
  t.deepEqual(
    env.reports.map((r) => [r.op, r.mode, r.bytes, r.error]),
    [
      ["read", "netascii", text.length + text.split("\n").length - 1, undefined],
      ["write", "netascii", text.length + text.split("\n").length - 1, undefined],
    ],
  );
});

for (const blksize of [undefined, 1468]) {
  test(`curl: get and put of 0, 511, 512, 513 bytes and 5 MB, ${blksize ? `--tftp-blksize ${blksize}` : "default block size"}, hashes equal`, async (t) => {
    const env = await tftpOnTap(t);
    makeFiles(env.root, "srv");
    makeFiles(env.work, "cli");
    const opts = ["-sS", "--max-time", "50", ...(blksize ? ["--tftp-blksize", String(blksize)] : [])];
    for (const size of SIZES) {
      const local = join(env.work, `got${size}`);
      const get = await client(env, "curl", [...opts, "-o", local, `tftp://${DEVICE}/srv${size}`]);
      t.is(get.code, 0, get.out);
      t.is(sha256(local), sha256(join(env.root, `srv${size}`)), `get ${size}`);
      const put = await client(env, "curl", [...opts, "-T", join(env.work, `cli${size}`), `tftp://${DEVICE}/up${size}`]);
      t.is(put.code, 0, put.out);
      t.is(sha256(join(env.root, `up${size}`)), sha256(join(env.work, `cli${size}`)), `put ${size}`);
      if (size === 5 << 20) t.log(`curl 5 MB, blksize ${blksize ?? 512}: get ${get.ms.toFixed(0)} ms, put ${put.ms.toFixed(0)} ms`);
    }
    t.true(env.reports.every((r) => r.error === undefined && r.options.blksize === (blksize ?? 512)));
    t.is(env.reports.length, 2 * SIZES.length);
    t.is(env.reports[2]!.options.tsize, 511, "the read told curl the size");
    t.is(env.reports[0]!.options.tsize, undefined, "but not for an empty file, which curl would refuse");
  });
}

test("atftp: windowsize 8 with blksize 1468, get and put of 513 bytes and 5 MB, hashes equal", async (t) => {
  const env = await tftpOnTap(t);
  makeFiles(env.root, "srv");
  makeFiles(env.work, "cli");
  const opts = ["--option", "windowsize 8", "--option", "blksize 1468"];
  for (const size of [513, 5 << 20]) {
    const local = join(env.work, `got${size}`);
    const get = await client(env, "atftp", [...opts, "-g", "-r", `srv${size}`, "-l", local, DEVICE]);
    t.is(get.code, 0, get.out);
    t.is(sha256(local), sha256(join(env.root, `srv${size}`)), `get ${size}`);
    const put = await client(env, "atftp", [...opts, "-p", "-l", join(env.work, `cli${size}`), "-r", `up${size}`, DEVICE]);
    t.is(put.code, 0, put.out);
    t.is(sha256(join(env.root, `up${size}`)), sha256(join(env.work, `cli${size}`)), `put ${size}`);
    if (size === 5 << 20) t.log(`atftp 5 MB, blksize 1468, windowsize 8: get ${get.ms.toFixed(0)} ms, put ${put.ms.toFixed(0)} ms`);
  }
  t.deepEqual(
    env.reports.map((r) => [r.op, r.options.windowsize, r.options.blksize, r.error]),
    [
      ["read", 8, 1468, undefined],
      ["write", 8, 1468, undefined],
      ["read", 8, 1468, undefined],
      ["write", 8, 1468, undefined],
    ],
  );
});

test("traversal out of the root is refused with an access violation by all three clients; nothing outside is read or written", async (t) => {
  const env = await tftpOnTap(t);
  const outside = join(env.root, "..", "canary");
  fs.writeFileSync(outside, "do not serve me");
  fs.symlinkSync(outside, join(env.root, "link-out"));
  const local = join(env.work, "loot");
  for (const name of ["../canary", "../../../../etc/passwd", "/../canary", "..\\canary", "link-out"]) {
    const hpa = await client(env, "tftp", ["-m", "binary", DEVICE, "-c", "get", name, local]);
    t.regex(hpa.out, /Error code 2: access violation/, `tftp-hpa get ${name}`);
    const a = await client(env, "atftp", ["-g", "-r", name, "-l", local, DEVICE]);
    t.regex(a.out, /access violation/, `atftp get ${name}`);
  }
  const put = await client(env, "tftp", ["-m", "binary", DEVICE, "-c", "put", outside, "../escaped"]);
  t.regex(put.out, /Error code 2: access violation/);
  const c = await client(env, "curl", ["-sS", "-o", local, `tftp://${DEVICE}/..%2fcanary`]);
  t.is(c.code, 69, "curl's TFTP permission error");
  t.false(fs.existsSync(join(env.root, "..", "escaped")));
  t.true(!fs.existsSync(local) || fs.readFileSync(local, "utf8") !== "do not serve me");
  // An absolute path is read under the root: the host's /etc/passwd is not there.
  const abs = await client(env, "tftp", ["-m", "binary", DEVICE, "-c", "get", "/etc/passwd", local]);
  t.regex(abs.out, /Error code 1: file not found/);
  t.is(env.reports.length, 0, "no transfer ever started");
});
