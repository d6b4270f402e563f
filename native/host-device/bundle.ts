// Bundles a script for the host program (node side, esbuild): the device modules, with
// Moddable's modules answered by the stand-ins in js/, and resolved the way the firmware's
// manifests for an Ethernet board resolve them: wire/checksum.ts is the native checksum
// (modules/device/checksum.ts) and the app's ./network.ts is network-ethernet.ts.

import { build, type Plugin } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const DEVICE = join(ROOT, "modules/device");
const WIRE = join(ROOT, "modules/wire");
export const OUT = join(ROOT, "build/host-device");

/** Builds the host program (make: only what changed). Returns its path. */
export function buildHostDevice(): string {
  execFileSync("make", ["-s", "-j2", "-C", HERE], { stdio: ["ignore", "ignore", "pipe"] });
  return join(OUT, "host-device");
}

const asOnTheDevice: Plugin = {
  name: "as-on-the-device",
  setup(b) {
    b.onResolve({ filter: /^\.\/checksum\.ts$/ }, (args) => (args.importer.startsWith(WIRE) ? { path: join(DEVICE, "checksum.ts") } : undefined));
    b.onResolve({ filter: /^\.\/network\.ts$/ }, (args) => (args.importer.startsWith(DEVICE) ? { path: join(DEVICE, "network-ethernet.ts") } : undefined));
  },
};

/** Bundles `entry` (a file under js/, or any module) into build/host-device/NAME.js; returns the path and its size. */
export async function bundleForHost(entry: string, name: string, minify = false): Promise<{ path: string; bytes: number }> {
  const shim = (f: string) => join(HERE, "js", f);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    target: "es2022",
    platform: "neutral",
    minify,
    logLevel: "silent",
    alias: { timer: shim("timer.ts"), time: shim("time.ts"), file: shim("file.ts"), ethernet: shim("ethernet.ts"), "mc/config": shim("config.ts") },
    plugins: [asOnTheDevice],
  });
  const text = result.outputFiles[0]!.text;
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, `${name}.js`);
  writeFileSync(path, text);
  return { path, bytes: Buffer.byteLength(text) };
}
