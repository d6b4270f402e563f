// On XS a string used as a property key becomes a key for the machine's life, and the
// firmware's key table does not grow (creation.keys, incremental 0): a peer that could make
// keys could stop the device. The firmware runs on the host program with its own creation
// sizes (bench/host-device.ts); a peer in its namespace (keys-peer.ts) sends 10 000
// invented FTP verbs before logging in, HTTP methods, HTTP header names and TFTP option names.
// The keys made at run time must not move, and the firmware must still serve files over
// HTTP, FTP and TFTP. Needs root.

import test from "ava";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type HostDevice, startHostDevice } from "../../bench/host-device.ts";

const PEER = fileURLToPath(new URL("./keys-peer.ts", import.meta.url));
const COUNT = 10_000;

/** Fetches the same file over HTTP, FTP (logged in) and TFTP; each must be `content`. */
async function servesFiles(t: import("ava").ExecutionContext, d: HostDevice, content: Buffer): Promise<void> {
  for (const url of [`http://${d.ip}/page.bin`, `ftp://esp:esp32@${d.ip}/www/page.bin`, `tftp://${d.ip}/page.bin`]) {
    const got = await d.ns.mustRun("curl", ["-sS", "--fail", "-m", "20", url, "-o", "-", "--output-dir", "/", "-w", ""], 30_000);
    t.is(got, content.toString("latin1"), url);
  }
}

test("10 000 invented FTP verbs, HTTP methods, header names and TFTP options make no key, and the firmware still serves", async (t) => {
  const d = await startHostDevice(t, {
    hostname: "netstack",
    tftp: { root: "www", write: "none" },
    ftp: { root: "", users: [{ name: "esp", password: "esp32" }] },
    http: { root: "www", put: false },
  });
  mkdirSync(join(d.root, "www"), { recursive: true });
  const content = Buffer.from(randomBytes(3000).toString("hex").slice(0, 3000), "latin1");
  writeFileSync(join(d.root, "www", "page.bin"), content);
  await servesFiles(t, d, content); // every path the floods take has run once
  const before = await d.memory();
  t.log(`keys made at run time before the floods: ${before.keys} of ${before.keyLimit}; ${before.preloadedKeys} preloaded`);

  for (const kind of ["ftp", "http-method", "http-header", "tftp"]) {
    const out = await d.ns.mustRun(process.execPath, ["--import", "tsx", PEER, d.ip, kind, String(COUNT)], 300_000);
    const { answered } = JSON.parse(out) as { answered: number };
    t.is(answered, COUNT, `${kind}: every invented name was answered`);
  }

  const status = JSON.parse(await d.ns.mustRun("curl", ["-sS", "--fail", "-m", "10", `http://${d.ip}/status`], 20_000)) as {
    drops: Record<string, number>;
  };
  t.true((status.drops["ftp-unknown-command"] ?? 0) >= COUNT, JSON.stringify(status.drops));
  t.true((status.drops["http-unknown-method"] ?? 0) >= COUNT, JSON.stringify(status.drops));
  const after = await d.memory();
  t.is(after.keys, before.keys, "no key was made");
  await servesFiles(t, d, content);
  t.is(d.device.process.exitCode, null, "the host program is still running");
});
