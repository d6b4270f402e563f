// What the simulator hands the firmware core (modules/firmware/) besides a link and a clock:
// the device's MAC, the firmware's own configuration from the ESP32 app's manifest, a
// configuration file a user names, and an in-memory file system filled from a plain object.

import { readFileSync } from "node:fs";
import { checkConfig, type FirmwareConfig } from "../modules/firmware/config.ts";
import { MemoryStorage } from "../modules/storage/memory.ts";
import { splitPath } from "../modules/storage/path.ts";
import { makeDirs } from "../modules/storage/subtree.ts";
import { parseMac } from "../modules/wire/address.ts";
import { type Result, fail } from "../modules/wire/result.ts";

export const DEVICE_MAC = parseMac("02:00:00:00:00:02")!;

const MANIFEST = new URL("../manifests/app/manifest_app.json", import.meta.url);

/** A configuration as JSON holds it: a bare `config.netstack` object, or a manifest with one. */
function netstackOf(json: unknown): unknown {
  const inner = (json as { config?: { netstack?: unknown } } | null)?.config?.netstack;
  return inner ?? json;
}

/** The ESP32 firmware's configuration: `config.netstack` of manifests/app/manifest_app.json. */
export function manifestConfig(): FirmwareConfig {
  const checked = checkConfig(netstackOf(JSON.parse(readFileSync(MANIFEST, "utf8"))));
  if (!checked.ok) throw new Error(`${MANIFEST.pathname}: ${checked.reason}`);
  return checked.value;
}

/** A --config file, checked; a failure is one line that names the file and what is wrong. */
export function readConfig(path: string): Result<FirmwareConfig> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    return fail(`${path}: ${(e as Error).message}`);
  }
  const checked = checkConfig(netstackOf(json));
  return checked.ok ? checked : fail(`${path}: ${checked.reason}`);
}

/** An in-memory store holding `files` (path to contents; directories are made as needed). */
export function memoryStore(files: Record<string, string | Uint8Array> = {}, limit = 1 << 20): MemoryStorage {
  const store = new MemoryStorage({ limit });
  for (const [path, contents] of Object.entries(files)) {
    makeDirs(store, splitPath(path).parent);
    const w = store.openWrite(path, "replace");
    const data = typeof contents === "string" ? new TextEncoder().encode(contents) : contents;
    const written = w.ok ? w.value.write(data) : w;
    const closed = written.ok && w.ok ? w.value.close() : written;
    if (!closed.ok) throw new Error(`cannot store ${path}: ${closed.reason}`);
  }
  return store;
}
