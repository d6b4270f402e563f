import test from "ava";
import { fileURLToPath } from "node:url";
import { withXsBundle } from "../../host-sim/xs.ts";
import { entryNames, vectors } from "./vectors.ts";
import { run } from "./stack-run.ts";

// The codecs bundled by esbuild run on the real XS engine (xsnap-worker from @agoric/xsnap)
// and must produce the very lines they produce on Node.

const SEED = 0x5eed;
const entry = (name: string) => fileURLToPath(new URL(name, import.meta.url));

test("codec vectors: XS produces the same lines as Node", async (t) => {
  const onNode = vectors(SEED);
  const onXs = await withXsBundle(entry("./vectors.ts"), async (xs) => (await xs.evaluateJson<string[]>(`entry.vectors(${SEED})`)).value);
  for (const name of entryNames)
    t.true(
      onNode.some((line) => line.startsWith(name)),
      `no lines from ${name}`,
    );
  t.is(onXs.length, onNode.length);
  const firstDifference = onNode.findIndex((line, i) => line !== onXs[i]);
  t.is(firstDifference, -1, `first difference at line ${firstDifference}:\nnode ${onNode[firstDifference]}\nxs   ${onXs[firstDifference]}`);
});

test("each codec's vectors include both decoded records and rejections", (t) => {
  const decodes = new Map<string, string[]>();
  for (const line of vectors(SEED)) {
    const codec = /^(\w+)#\d+ decode/.exec(line)?.[1];
    if (codec) decodes.set(codec, [...(decodes.get(codec) ?? []), line]);
  }
  t.true(decodes.size > 1);
  for (const [codec, lines] of decodes) {
    t.true(
      lines.some((line) => line.includes('{"ok":true')),
      `${codec} never decodes`,
    );
    t.true(
      lines.some((line) => line.includes('{"ok":false')),
      `${codec} never rejects`,
    );
  }
});

test("computrons per operation on XS are positive and repeat exactly", async (t) => {
  const names = await withXsBundle(entry("../../bench/codec-ops.ts"), async (xs) => {
    const { value } = await xs.evaluateJson<string[]>("Object.keys(entry.ops)");
    for (const name of value) {
      const fn = `entry.ops[${JSON.stringify(name)}]`;
      const first = await xs.computronsPerCall(fn, 20);
      t.true(first > 0, name);
      t.is(await xs.computronsPerCall(fn, 20), first, `${name}: metering is not deterministic`);
      t.log(`${name}: ${first} computrons`);
    }
    return value;
  });
  t.true(names.length > 1);
});

test("a simulated exchange with faults (ARP, ping, UDP, a 64 KB TCP transfer with SACK recovery) gives the same frames on XS as on Node", async (t) => {
  const onNode = run(SEED, 65536);
  t.regex(onNode.at(-1)!, /^received 65536 of 65536/);
  t.regex(onNode.at(-1)!, /client .*"tcp.sack-recoveries":[1-9]/, "the sender recovered by SACK, so both engines ran it");
  const onXs = await withXsBundle(entry("./stack-run.ts"), async (xs) => (await xs.evaluateJson<string[]>(`entry.run(${SEED}, 65536)`)).value);
  t.is(onXs.length, onNode.length);
  const firstDifference = onNode.findIndex((line, i) => line !== onXs[i]);
  t.is(firstDifference, -1, `first difference at line ${firstDifference}:\nnode ${onNode[firstDifference]}\nxs   ${onXs[firstDifference]}`);
  t.log(`${onNode.length - 1} frames identical on both engines`);
});
