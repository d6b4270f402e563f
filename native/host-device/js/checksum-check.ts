// Runs the device's native checksum and the TypeScript one (modules/wire/checksum.ts) on the
// same inputs in the host program, and prints every input whose answers differ, as JSON.

/// <reference path="./host.d.ts" />
import "./prelude.ts";
import * as native from "../../../modules/device/checksum.ts";
import * as portable from "../../../modules/wire/checksum.ts";

let state = 12345;
function next(): number {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state;
}

const differences: unknown[] = [];
let cases = 0;
function same(what: string, a: number, b: number, input: unknown): void {
  cases++;
  if (!Object.is(a, b) && differences.length < 20) differences.push({ what, native: a, portable: b, input });
}

const initials = [0, 1, 0xffff, 0x7fff0000, 0x7fffffff, 0xffffffff, 2 ** 40, -1, 0.5];
for (let i = 0; i < 3000; i++) {
  const length = next() % 1600;
  const b = new Uint8Array(length);
  for (let j = 0; j < length; j++) b[j] = next() & 0xff;
  if (i % 7 === 0) b.fill(0xff);
  const start = length ? next() % (length + 1) : 0;
  const end = start + (length - start ? next() % (length - start + 1) : 0);
  const initial = i % 3 === 0 ? initials[i % initials.length]! : next() % 0x5ffff;
  const input = { length, start, end, initial, fill: i % 7 === 0 };
  same("sum16", native.sum16(b, start, end, initial), portable.sum16(b, start, end, initial), input);
  same("checksum", native.checksum(b, start, end, initial), portable.checksum(b, start, end, initial), input);
  same("checksum(b)", native.checksum(b), portable.checksum(b), input);
  const s = next() * 65536 + next();
  same("finish", native.finish(s), portable.finish(s), { s });
  const [src, dst, proto, len] = [next(), next(), next() % 256, next() % 65536];
  same("pseudoHeaderSum", native.pseudoHeaderSum(src, dst, proto, len), portable.pseudoHeaderSum(src, dst, proto, len), { src, dst, proto, len });
  const [c, o, n] = [next() & 0xffff, next() & 0xffff, next() & 0xffff];
  same("updateChecksum", native.updateChecksum(c, o, n), portable.updateChecksum(c, o, n), { c, o, n });
}
trace(`${JSON.stringify({ cases, differences })}\n`);
__exit(0);
