// The partition tables the firmware ships (boards/esp32/partitions*.csv), read as ESP-IDF's
// gen_esp32part.py reads them: each app manifest names its table for every board, the
// partitions are aligned, in order and within the 4 MB flash, the file system has most of it
// under the name Moddable's file module looks for (so mcconfig carves no 64 KB one), with the
// subtype of the file system that mounts it, and the README gives its size.

import test from "ava";
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "../../native/host-device/manifest-model.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const at = (p: string) => resolve(ROOT, p);
const FLASH = 4 << 20;
/** Where the bootloader and the table (at 0x8000, 0x1000 long) end. */
const FIRST_OFFSET = 0x9000;
/** Moddable's file manifests define file.partition as "#storage"; mcconfig adds a 64 KB one unless a data partition has that name. */
const STORAGE = "storage";

interface Partition {
  name: string;
  type: string;
  subtype: string;
  offset: number;
  size: number;
}

/** gen_esp32part.py's number forms: hex, decimal, or with a K or M suffix. */
function number(text: string): number {
  const m = /^(0x[0-9a-f]+|\d+)([KM]?)$/i.exec(text);
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * (m[2] === "K" ? 1024 : m[2] === "M" ? 1 << 20 : 1);
}

function table(path: string): Partition[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [name = "", type = "", subtype = "", offset = "", size = ""] = l.split(",").map((f) => f.trim());
      return { name, type, subtype, offset: number(offset), size: number(size) };
    });
}

const APPS = [
  { manifest: "manifests/app/manifest.json", csv: "boards/esp32/partitions.csv", subtype: "littlefs" },
  { manifest: "manifests/app/manifest_spiffs.json", csv: "boards/esp32/partitions_spiffs.csv", subtype: "spiffs" },
];

for (const app of APPS) {
  test(`${basename(app.csv)}: named by ${app.manifest} for every board; aligned, in order, within 4 MB; most of it the ${app.subtype} storage`, (t) => {
    for (const board of ["esp32", "esp32/wt32_eth01", "esp32/ethernet_kit"]) t.is(build(at(app.manifest), board).build.PARTITIONS_FILE, at(app.csv), board);
    const parts = table(at(app.csv));
    let end = FIRST_OFFSET;
    for (const p of parts) {
      const align = p.type === "app" ? 0x10000 : 0x1000;
      t.is(p.offset % align, 0, `${p.name} offset 0x${p.offset.toString(16)} aligned to 0x${align.toString(16)}`);
      t.is(p.size % 0x1000, 0, `${p.name} size in whole 4 KB sectors`);
      t.true(p.offset >= end, `${p.name} starts after the one before`);
      end = p.offset + p.size;
    }
    t.true(end <= FLASH, `ends at 0x${end.toString(16)}`);
    t.is(new Set(parts.map((p) => p.name)).size, parts.length, "names are unique");
    t.is(parts.filter((p) => p.type === "app").length, 1);
    const storage = parts.find((p) => p.name === STORAGE);
    t.is(storage?.type, "data");
    t.is(storage?.subtype, app.subtype);
    t.true((storage?.size ?? 0) > FLASH / 2, "the file system has most of the flash");
    t.true(
      parts.some((p) => p.type === "data" && p.subtype === "nvs" && p.size >= 0x3000),
      "NVS for Wi-Fi and PHY calibration, at least 3 pages",
    );
  });
}

test("the two tables differ only in the storage subtype, and the README gives the sizes", (t) => {
  const [lfs, spiffs] = APPS.map((a) => table(at(a.csv)));
  t.deepEqual(
    lfs?.map((p) => ({ ...p, subtype: p.name === STORAGE ? "" : p.subtype })),
    spiffs?.map((p) => ({ ...p, subtype: p.name === STORAGE ? "" : p.subtype })),
  );
  const readme = readFileSync(at("README.md"), "utf8");
  for (const p of lfs ?? [])
    if (p.type === "app" || p.name === STORAGE) t.true(readme.includes(`${p.size / 1024} KB`), `README: ${p.name} ${p.size / 1024} KB`);
});
