// The host program's measuring script: bench/stack-ops.ts with the device's native checksum,
// metered by this XS build. Prints one JSON line and exits.

/// <reference path="./host.d.ts" />
import "./prelude.ts";
import { baseline } from "./baseline.ts";
import { ops, openConnections } from "../../../bench/stack-ops.ts";

const computrons = native<() => number>("host_computrons");
const heap = native<() => [number, number, number]>("host_heap");
const REPEATS = 200;

function perCall(op: (n: number) => void): number {
  const a = computrons();
  op(0);
  const base = computrons() - a;
  const b = computrons();
  op(REPEATS);
  return (computrons() - b - base) / REPEATS;
}

const result: Record<string, unknown> = { computrons: {} };
for (const [name, op] of Object.entries(ops)) (result.computrons as Record<string, number>)[name] = perCall(op);
const [slots0, chunks0, slotSize] = heap();
const CONNECTIONS = 16;
openConnections(CONNECTIONS);
const [slots1, chunks1] = heap();
result.heap = {
  slotSize,
  bareSlots: baseline[0],
  bareChunks: baseline[1],
  stackSlots: slots0 - baseline[0],
  stackChunks: chunks0 - baseline[1],
  perConnectionSlots: (slots1 - slots0) / CONNECTIONS,
  perConnectionChunks: (chunks1 - chunks0) / CONNECTIONS,
};
trace(`${JSON.stringify(result)}\n`);
__exit(0);
