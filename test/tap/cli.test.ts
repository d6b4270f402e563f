// `npm start -- --tap`: the simulator's TAP mode, as a user runs it.

import test from "ava";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Netns, run } from "../netns.ts";

const MAIN = fileURLToPath(new URL("../../host-sim/main.ts", import.meta.url));

test("without CAP_NET_ADMIN, --tap says TAP needs root or CAP_NET_ADMIN and exits non-zero", async (t) => {
  const r = await run("setpriv", ["--bounding-set=-net_admin", "--inh-caps=-net_admin", "--", process.execPath, "--import=tsx", MAIN, "--tap"], 30_000);
  t.not(r.code, 0);
  t.regex(r.stderr, /TAP needs root or CAP_NET_ADMIN/);
});

test("with root, --tap attaches, prints what to try, and answers the kernel's ping until interrupted", async (t) => {
  const name = `mcucli${process.pid % 10000}`;
  const child = spawn(process.execPath, ["--import=tsx", MAIN, "--tap", "--tap-name", name], { stdio: ["ignore", "pipe", "pipe"] });
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
