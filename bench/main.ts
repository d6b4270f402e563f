// `npm run bench`: figures that do not depend on the clock (XS computrons per operation,
// frames, the firmware's size and XS heap) and ratios measured within one run. Never a pass/fail test.
// `npm run bench -- [REPEATS] [--svg FILE] [--compare] [--no-offload]`: XS calls per operation
// (default 200); FILE gets the same-run comparison as an SVG bar chart (when it could run) and the
// goodput-under-loss curves; --compare runs only that comparison (ours, lwIP, kernel);
// --no-offload opens our TAPs without checksum and segmentation offload, as an ESP32's link would be.

import * as fs from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { withXsBundle } from "../host-sim/xs.ts";
import { chart } from "./chart.ts";
import { compare } from "./compare.ts";
import { deviceFigures, printHeap } from "./device.ts";
import { benchDeviceMemory } from "./device-memory.ts";
import { kernelTables } from "./kernel.ts";
import { withBenchNet } from "./net.ts";
import { lossCurves, printLossTable } from "./sack.ts";
import { printSizes, sizes } from "./size.ts";
import * as stackOps from "./stack-ops.ts";

const args = parseArgs({
  allowPositionals: true,
  options: { svg: { type: "string" }, compare: { type: "boolean" }, "no-offload": { type: "boolean" } },
});
const offload = !args.values["no-offload"];
const repeats = Number(args.positionals[0] ?? 200);

async function xsCosts(entry: string): Promise<Map<string, number>> {
  const costs = new Map<string, number>();
  await withXsBundle(fileURLToPath(new URL(entry, import.meta.url)), async (xs) => {
    const { value: names } = await xs.evaluateJson<string[]>("Object.keys(entry.ops)");
    for (const name of names) costs.set(name, await xs.computronsPerCall(`entry.ops[${JSON.stringify(name)}]`, repeats));
  });
  return costs;
}

const cell = (c: number | undefined, width: number) => (c === undefined ? "-" : String(Math.round(c))).padStart(width);

/** Node: the cost of each stack operation relative to an ICMP echo, measured in one run. */
function nodeRatios(): void {
  const perOp = new Map<string, number>();
  for (const [name, op] of Object.entries(stackOps.ops)) {
    op(2000); // warm up
    const start = process.hrtime.bigint();
    op(20000);
    perOp.set(name, Number(process.hrtime.bigint() - start) / 20000);
  }
  const base = perOp.get("ICMP echo 56 B in, reply out")!;
  console.log("\nstack operations on Node, relative to one 56-byte ICMP echo (same run)");
  for (const [name, ns] of perOp) console.log(`${(ns / base).toFixed(2).padStart(10)}x  ${name}`);
  const e = stackOps.effects();
  console.log(`(frames sent ${e.sent}, bytes delivered ${e.received}, drops ${JSON.stringify(e.drops)})`);
}

let loss: ReturnType<typeof lossCurves> = [];
if (!args.values.compare) {
  const codecs = await xsCosts("./codec-ops.ts");
  console.log(`\nwire codecs (XS computrons per call, ${repeats} calls)`);
  for (const [name, c] of codecs) console.log(`${cell(c, 10)}  ${name}`);
  // The stack's operations on xsnap-worker (the TypeScript checksum) and on the host program
  // (the device's native checksum, 200 calls), as root.
  const portable = await xsCosts("./stack-ops.ts");
  const device = await deviceFigures();
  console.log(`\nstack: one frame in, its answer out (XS computrons per call): TypeScript checksum | native checksum`);
  for (const [name, c] of portable) console.log(`${cell(c, 10)} | ${cell(device?.computrons[name], 8)}  ${name}`);
  if (device) printHeap(device.heap);
  else console.log("(the native checksum's column and the heap need root: the host program opens a TAP)");
  printSizes(await sizes());
  nodeRatios();
  loss = lossCurves();
  printLossTable(loss);
}
const comparison = await withBenchNet(async (net) => {
  const c = await compare(net, offload);
  if (!args.values.compare) await kernelTables(net, offload);
  return c;
});
if (!args.values.compare) await benchDeviceMemory();
if (args.values.svg) {
  const file = resolve(process.env.INIT_CWD ?? ".", args.values.svg); // npm runs us in the package root, not where it was called
  fs.writeFileSync(file, chart(comparison, loss));
  console.log(`\nwrote the ${comparison ? "comparison chart and the " : ""}loss curves to ${file}`);
}
