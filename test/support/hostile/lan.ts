// The hostile-LAN suite's device and clients: our stack with its default limits (8 pcbs,
// backlog 4) on a TAP in a namespace of the test's own, serving HTTP, FTP and TFTP from
// one temporary directory. The kernel side is 10.77.66.1, the legitimate client's address;
// the attackers speak from addresses of their own on the same interface, so that no
// per-address limit of a server shuts the legitimate client out with them.

import type { ExecutionContext } from "ava";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DirectoryStorage } from "../../../host-sim/storage/directory.ts";
import type { TapLink } from "../../../host-sim/tap.ts";
import { FtpServer } from "../../../modules/services/ftp-server.ts";
import { HttpServer } from "../../../modules/services/http-server.ts";
import { TftpServer } from "../../../modules/services/tftp-server.ts";
import type { Stack } from "../../../modules/stack/stack.ts";
import type { Netns } from "../../../bench/netns.ts";
import { deviceOnTap } from "../tap-device.ts";

export const KERNEL = "10.77.66.1";
export const DEVICE = "10.77.66.2";
/** The MAC deviceOnTap gives the device. */
export const DEVICE_MAC = "02:00:0a:4d:01:02";
/** The small file every legitimate client fetches. */
export const HELLO = "hello, legitimate client\n";
/** The path of a helper script of this folder. */
export const script = (name: string): string => new URL(name, import.meta.url).pathname;

/** Attacker number i speaks from 10.77.66.(10 + i). */
export const attackers = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.77.66.${10 + i}`);

export interface HostileLan {
  ns: Netns;
  tap: TapLink;
  device: Stack;
  /** A scratch directory for the clients. */
  work: string;
}

/** The device with its three servers, and `attackerCount` attacker addresses on the kernel's side. */
export async function hostileLan(t: ExecutionContext, attackerCount = 0): Promise<HostileLan> {
  const { ns, tap, device } = await deviceOnTap(t, { kernel: KERNEL, device: DEVICE, seed: 66 });
  for (const a of attackers(attackerCount)) await ns.addAddress(tap.name, `${a}/24`);
  const dir = fs.mkdtempSync(join(tmpdir(), "hostile-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  const work = join(dir, "work");
  fs.mkdirSync(root);
  fs.mkdirSync(work);
  fs.writeFileSync(join(root, "hello.txt"), HELLO);
  fs.writeFileSync(join(root, "big.bin"), randomBytes(1 << 20));
  const storage = new DirectoryStorage(root);
  const http = new HttpServer(device, storage, { date: () => Date.now() });
  const ftp = new FtpServer(device, storage, { users: [{ name: "bob", password: "secret" }] });
  const tftp = new TftpServer(device, storage);
  if (!http.listen() || !ftp.listen() || !tftp.listen()) throw new Error("a server could not listen");
  t.teardown(() => {
    http.close();
    ftp.close();
    tftp.close();
  });
  return { ns, tap, device, work };
}

/** One attempt of a legitimate client; true when it got HELLO. Each has a bound of its own. */
export type Attempt = (lan: HostileLan) => Promise<boolean>;

export const httpGet: Attempt = async ({ ns }) => {
  const r = await ns.run("curl", ["-sS", "--max-time", "3", `http://${DEVICE}/hello.txt`], 5_000);
  return r.code === 0 && r.stdout === HELLO;
};

export const ftpGet: Attempt = async ({ ns }) => {
  const r = await ns.run("curl", ["-sS", "--max-time", "4", `ftp://bob:secret@${DEVICE}/hello.txt`], 6_000);
  return r.code === 0 && r.stdout === HELLO;
};

let gets = 0;
export const tftpGet: Attempt = async ({ ns, work }) => {
  const local = join(work, `tftp-${++gets}`);
  // tftp-hpa retransmits for 25 s; a request the server does not answer is given up after 4.
  await ns.run("tftp", ["-m", "binary", DEVICE, "-c", "get", "hello.txt", local], 4_000);
  return fs.existsSync(local) && fs.readFileSync(local, "utf8") === HELLO;
};

export interface Outcome {
  /** From `since` to the end of the first successful attempt; undefined when none succeeded in time. */
  ms: number | undefined;
  attempts: number;
  successes: number;
}

/** Attempts until one succeeds (or, given `until`, as long as it holds), a pause between them, for at most `limitMs` after `since`. */
export async function attempts(lan: HostileLan, attempt: Attempt, o: { since: number; limitMs: number; until?: () => boolean }): Promise<Outcome> {
  const out: Outcome = { ms: undefined, attempts: 0, successes: 0 };
  while (performance.now() - o.since < o.limitMs && (o.until ? o.until() : out.successes === 0)) {
    out.attempts++;
    if (await attempt(lan)) {
      out.successes++;
      out.ms ??= performance.now() - o.since;
    }
    await sleep(200);
  }
  return out;
}

/** "3.2 s" for a time, "not within 60 s" for none. */
export const seconds = (ms: number | undefined, limitMs: number): string =>
  ms === undefined ? `not within ${(limitMs / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`;

export interface Attacker {
  /** Everything it printed so far. */
  readonly output: () => string;
  readonly running: () => boolean;
  /** Asks it to stop (SIGTERM) and waits at most 5 s for it, then kills it. */
  stop(): Promise<void>;
}

/** Starts `file` in the namespace (a script of this folder when it ends in .py); the test's teardown ends it if still running. */
export function attack(t: ExecutionContext, ns: Netns, file: string, args: readonly string[]): Attacker {
  const program = file.endsWith(".py") ? ["python3", script(file)] : [file];
  const child: ChildProcess = spawn("ip", ["netns", "exec", ns.name, ...program, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let running = true;
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (output += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (output += d));
  const done = new Promise<void>((resolve) =>
    child.on("close", () => {
      running = false;
      resolve();
    }),
  );
  const stop = async () => {
    if (!running) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await done;
    clearTimeout(timer);
  };
  t.teardown(stop);
  return { output: () => output, running: () => running, stop };
}

/** Waits until the attacker prints "ready" (or ends), at most `limitMs`; true when it did. */
export async function ready(a: Attacker, limitMs = 10_000): Promise<boolean> {
  const start = performance.now();
  while (!/^ready/m.test(a.output()) && a.running() && performance.now() - start < limitMs) await sleep(50);
  return /^ready/m.test(a.output());
}
