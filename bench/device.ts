// `npx tsx bench/device.ts` (root: the host program opens a TAP): the device port's figures.
// - the esbuild-minified size of the firmware's JavaScript (modules/device/app.ts with every
//   module it imports, Moddable's own left out), for the Wi-Fi and the Ethernet boards;
// - computrons per ARP reply, ICMP echo and 1460-byte TCP segment: on xsnap-worker with the
//   TypeScript checksum, and on the host program's XS with the device's native checksum;
// - the XS heap the stack takes when idle, and per idle TCP connection, on the host program.
// Never a pass/fail test.

import { build, type Plugin } from "esbuild";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { withXsBundle } from "../host-sim/xs.ts";
import { hostDevicePath, bundleForHost } from "../native/host-device/bundle.ts";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const DEVICE = here("../modules/device");
const MODDABLE = ["timer", "time", "file", "wifi", "ethernet", "mc/config"];

async function firmwareBytes(network: string): Promise<number> {
  const device: Plugin = {
    name: "device",
    setup(b) {
      b.onResolve({ filter: /^\.\/checksum\.ts$/ }, (a) => (a.importer.includes("/modules/wire/") ? { path: join(DEVICE, "checksum.ts") } : undefined));
      b.onResolve({ filter: /^\.\/network\.ts$/ }, (a) => (a.importer.startsWith(DEVICE) ? { path: join(DEVICE, network) } : undefined));
    },
  };
  const r = await build({
    entryPoints: [join(DEVICE, "app.ts")],
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    minify: true,
    external: MODDABLE,
    plugins: [device],
    logLevel: "silent",
  });
  return r.outputFiles[0]!.contents.length;
}

console.log("firmware JavaScript, esbuild --minify (Moddable's modules excluded)");
for (const [board, network] of [
  ["esp32 (Wi-Fi)", "network.ts"],
  ["wt32_eth01 / ethernet_kit", "network-ethernet.ts"],
]) {
  console.log(`${String(await firmwareBytes(network!)).padStart(10)} B  ${board}`);
}

const portable = await withXsBundle(here("./stack-ops.ts"), async (xs) => {
  const { value: names } = await xs.evaluateJson<string[]>("Object.keys(entry.ops)");
  const out: Record<string, number> = {};
  for (const name of names) out[name] = await xs.computronsPerCall(`entry.ops[${JSON.stringify(name)}]`, 200);
  return out;
});

const bin = hostDevicePath();
const { path } = await bundleForHost(here("../native/host-device/js/measure.ts"), "measure");
const line = execFileSync(bin, [path], { env: { ...process.env, PRECONFIGURED_TAPIF: `tapms${process.pid}`.slice(0, 15) }, encoding: "utf8" })
  .trim()
  .split("\n")
  .pop()!;
const device = JSON.parse(line) as { computrons: Record<string, number>; heap: Record<string, number> };

console.log("\ncomputrons per operation (200 calls): xsnap-worker with the TypeScript checksum | host program's XS with the native checksum");
for (const name of Object.keys(portable))
  console.log(`${String(Math.round(portable[name]!)).padStart(10)} | ${String(Math.round(device.computrons[name]!)).padStart(8)}  ${name}`);

const h = device.heap;
const esp32 = (slots: number, chunks: number) =>
  `${slots} slots + ${chunks} chunk bytes (about ${Math.round((slots * 16 + chunks) / 102.4) / 10} KiB on the ESP32's 16-byte slots)`;
console.log(`\nXS heap on the host program (64-bit: ${h.slotSize}-byte slots; chunks hold pointers, so the ESP32's are somewhat smaller)`);
console.log(`  bare machine:          ${h.bareSlots} slots, ${h.bareChunks} chunk bytes`);
console.log(`  the stack, idle:       ${esp32(h.stackSlots!, h.stackChunks!)}`);
console.log(`  per idle TCP connection: ${esp32(Math.round(h.perConnectionSlots!), Math.round(h.perConnectionChunks!))}`);
