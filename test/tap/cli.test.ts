// `npm start -- --tap`: the simulator's TAP mode, as a user runs it, and the one-line errors
// it gives for what a user can get wrong. (A lease from dnsmasq and the servers: cli-lan.test.ts.)

import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TapLink } from "../../host-sim/tap.ts";
import { Netns, run } from "../../bench/netns.ts";

const MAIN = fileURLToPath(new URL("../../host-sim/main.ts", import.meta.url));

test("without CAP_NET_ADMIN, --tap says TAP needs root or CAP_NET_ADMIN and exits non-zero", async (t) => {
  const r = await run("setpriv", ["--bounding-set=-net_admin", "--inh-caps=-net_admin", "--", process.execPath, "--import=tsx", MAIN, "--tap"], 30_000);
  t.not(r.code, 0);
  t.regex(r.stderr, /TAP needs root or CAP_NET_ADMIN/);
  failsWith(t, r, /^cannot attach to a TAP device: TAP needs root or CAP_NET_ADMIN/);
});

/** `npm start -- ARGS` to its end: exit code and output. */
const start = (...args: string[]) => run(process.execPath, ["--import=tsx", MAIN, ...args], 30_000);

/** The run failed with exactly one line on stderr, matching `pattern`. */
function failsWith(t: import("ava").ExecutionContext, r: Awaited<ReturnType<typeof start>>, pattern: RegExp): void {
  t.is(r.code, 1);
  t.is(r.stderr.trim().split("\n").length, 1, r.stderr);
  t.regex(r.stderr.trim(), pattern);
}

test("a TAP name another process holds: --tap says it is in use, in one line, and exits 1", async (t) => {
  const name = `mcubusy${process.pid % 10000}`;
  const held = TapLink.open(name);
  t.teardown(() => held.close());
  failsWith(t, await start("--tap", "--tap-name", name, "--static", "10.0.0.2/24"), new RegExp(`^TAP ${name} is already in use by another process`));
});

test("a --root that does not exist, or is a file: one line naming it, exit 1, before any TAP is opened", async (t) => {
  failsWith(t, await start("--tap", "--root", "/nonexistent/mcu-root"), /^--root \/nonexistent\/mcu-root: no such directory$/);
  failsWith(t, await start("--tap", "--root", MAIN), /: not a directory$/);
});

test("a --config that is not valid: one line naming the file and the field, exit 1", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cli-config-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "bad.json");
  writeFileSync(file, JSON.stringify({ config: { netstack: { hostname: "x", http: { root: "www", put: "yes" } } } }));
  failsWith(t, await start("--tap", "--config", file), new RegExp(`^--config ${file}: netstack\\.http\\.put: expected true or false$`));
  writeFileSync(file, JSON.stringify({ config: { netstack: { hostname: "x", tcp: { maxPcbs: 4, maxTimeWait: -1 } } } }));
  failsWith(t, await start("--tap", "--config", file), new RegExp(`^--config ${file}: netstack\\.tcp\\.maxTimeWait: expected a count from 0 to 64, got -1$`));
  writeFileSync(file, "{ not json");
  failsWith(t, await start("--tap", "--config", file), new RegExp(`^--config ${file}: .*JSON`));
  failsWith(t, await start("--tap", "--static", "10.0.0.2"), /^--static 10\.0\.0\.2: expected ADDR\/PREFIX or ADDR\/PREFIX,GATEWAY$/);
});

test("with root, --tap attaches, prints what to try, and answers the kernel's ping until interrupted", async (t) => {
  const name = `mcucli${process.pid % 10000}`;
  const child = spawn(process.execPath, ["--import=tsx", MAIN, "--tap", "--tap-name", name, "--static", "10.0.0.2/24,10.0.0.1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => child.kill("SIGKILL"));
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 20_000);
    child.stdout.on("data", () => {
      if (!out.includes("Ctrl-C")) return;
      clearTimeout(timer);
      resolve();
    });
  });
  t.regex(out, new RegExp(`attached to ${name}`));
  t.regex(out, /ping -c 3 10\.0\.0\.2/);
  const ns = await Netns.create(t);
  await ns.adopt(name);
  await ns.addAddress(name, "10.0.0.1/24");
  await ns.up(name);
  const ping = await ns.mustRun("ping", ["-c", "2", "-i", "0.2", "-W", "2", "10.0.0.2"], 15_000);
  t.regex(ping, /2 packets transmitted, 2 received/);
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  child.kill("SIGINT");
  t.is(await exited, 0);
  t.regex(out, /ICMP echo reply/);
  t.regex(out, /stats \{/);
});
