// Bundles a script for the host program (node side, esbuild): the device modules, with
// Moddable's modules answered by the stand-ins in js/, and resolved the way the firmware's
// manifests for an Ethernet board resolve them: wire/checksum.ts is the native checksum
// (modules/device/checksum.ts) and the app's ./network.ts is network-ethernet.ts.

import { build, type Plugin } from "esbuild";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const DEVICE = join(ROOT, "modules/device");
const WIRE = join(ROOT, "modules/wire");
export const OUT = join(ROOT, "build/host-device");

/** The host program's path. `npm test` builds it before ava starts (scripts/build-native.sh). */
export function hostDevicePath(): string {
  const bin = join(OUT, "host-device");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build:native\` (npm test does it first)`);
  return bin;
}

export interface Creation {
  chunk: { initial: number; incremental: number };
  heap: { initial: number; incremental: number };
  stack: number;
  keys: { initial: number; incremental: number; name: number; symbol: number };
}

/** The firmware's creation sizes (manifests/app/manifest_app.json's own, the Ethernet boards'; the Wi-Fi board's block overrides them), which the host program takes from NETSTACK_CREATION. */
export function appCreation(): Creation {
  return (JSON.parse(readFileSync(join(ROOT, "manifests/app/manifest_app.json"), "utf8")) as { creation: Creation }).creation;
}

/** The environment that runs a script on the host program with the firmware's creation sizes. */
export function creationEnv(c: Creation = appCreation()): { NETSTACK_CREATION: string } {
  const { chunk, heap, stack, keys } = c;
  return {
    NETSTACK_CREATION: [chunk.initial, chunk.incremental, heap.initial, heap.incremental, stack, keys.initial, keys.incremental, keys.name, keys.symbol].join(
      ",",
    ),
  };
}

const asOnTheDevice: Plugin = {
  name: "as-on-the-device",
  setup(b) {
    b.onResolve({ filter: /^\.\/checksum\.ts$/ }, (args) => (args.importer.startsWith(WIRE) ? { path: join(DEVICE, "checksum.ts") } : undefined));
    b.onResolve({ filter: /^\.\/network\.ts$/ }, (args) => (args.importer.startsWith(DEVICE) ? { path: join(DEVICE, "network-ethernet.ts") } : undefined));
  },
};

/** Bundles `entry` (a file under js/, or any module) into NAME.js in a fresh temporary folder of its own; returns the path and its size. */
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
    alias: { timer: shim("timer.ts"), time: shim("time.ts"), file: shim("file.ts"), "mc/config": shim("config.ts") },
    plugins: [asOnTheDevice],
  });
  const text = result.outputFiles[0]!.text;
  const path = join(mkdtempSync(join(tmpdir(), "host-device-js-")), `${name}.js`);
  writeFileSync(path, text);
  return { path, bytes: Buffer.byteLength(text) };
}
