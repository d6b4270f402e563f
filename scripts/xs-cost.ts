// Prints what the wire operations in test/xs/ops.ts cost on the real XS engine, in
// computrons per call (deterministic, unlike time). Usage: npx tsx scripts/xs-cost.ts [repeats]

import { fileURLToPath } from "node:url";
import { withXsBundle } from "../host-sim/xs.ts";

const repeats = Number(process.argv[2] ?? 100);
await withXsBundle(fileURLToPath(new URL("../test/xs/ops.ts", import.meta.url)), async (xs) => {
  const { value: names } = await xs.evaluateJson<string[]>("Object.keys(entry.ops)");
  for (const name of names) {
    const perCall = await xs.computronsPerCall(`entry.ops[${JSON.stringify(name)}]`, repeats);
    console.log(`${String(perCall).padStart(10)}  ${name}`);
  }
});
