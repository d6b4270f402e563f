import test from "ava";
import { VirtualClock } from "../../host-sim/clock.ts";
import { type FaultKind, type FaultOptions, FaultInjector } from "../../host-sim/faults.ts";
import type { Link } from "../../modules/platform.ts";
import { toHex, withinBinomial } from "../support/helpers.ts";

interface Arrival {
  at: number;
  frame: Uint8Array;
}

/** An injector over a stub link; `wire` collects what goes down, `up` what reaches the host. */
function harness(options: FaultOptions) {
  const clock = new VirtualClock();
  const wire: Arrival[] = [];
  const up: Arrival[] = [];
  let fromWire: (frame: Uint8Array) => void = () => {};
  const inner: Link = {
    transmit: (frame) => wire.push({ at: clock.now(), frame }),
    setReceiver: (r) => (fromWire = r),
  };
  const injector = new FaultInjector(inner, clock, options);
  injector.setReceiver((frame) => up.push({ at: clock.now(), frame }));
  return { clock, injector, wire, up, fromWire: (frame: Uint8Array) => fromWire(frame) };
}

/** Frame i: 64 bytes starting with i (big-endian), the rest a pattern. */
function numbered(i: number): Uint8Array {
  const b = Uint8Array.from({ length: 64 }, (_, k) => (k * 7 + i) & 0xff);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}
const indexOf = (f: Uint8Array) => new DataView(f.buffer, f.byteOffset).getUint32(0);

const N = 5000;
const P = 0.1;

/** Transmits frames 0..N-1 one millisecond apart, then lets everything settle. */
function sendAll(h: ReturnType<typeof harness>, n = N): void {
  for (let i = 0; i < n; i++) {
    h.injector.transmit(numbered(i));
    h.clock.advance(1);
  }
  h.clock.runUntilIdle();
}

function only(kind: FaultKind, seed = 1) {
  const h = harness({ seed, rates: { [kind]: P }, direction: "transmit", delayMs: 20, reorderMs: 20 });
  sendAll(h);
  const others = (Object.keys(h.injector.counts) as (FaultKind | "frames")[]).filter((k) => k !== kind && k !== "frames");
  return { ...h, count: h.injector.counts[kind], othersZero: others.every((k) => h.injector.counts[k] === 0) };
}

test("drop: dropped frames never arrive, at about the configured rate", (t) => {
  const { wire, count, othersZero, injector } = only("drop");
  t.is(injector.counts.frames, N);
  t.true(othersZero);
  t.true(withinBinomial(count, N, P), `${count}`);
  t.is(wire.length, N - count);
});

test("duplicate: each duplicated frame arrives twice, back to back, at about the configured rate", (t) => {
  const { wire, count } = only("duplicate");
  t.true(withinBinomial(count, N, P), `${count}`);
  t.is(wire.length, N + count);
  let pairs = 0;
  for (let i = 1; i < wire.length; i++) if (toHex(wire[i]!.frame) === toHex(wire[i - 1]!.frame)) pairs++;
  t.is(pairs, count);
  t.not(wire[0]!.frame, wire[1]!.frame, "a duplicate is its own buffer");
});

test("truncate: cut frames are strict prefixes, at about the configured rate", (t) => {
  const { wire, count } = only("truncate");
  t.true(withinBinomial(count, N, P), `${count}`);
  t.is(wire.length, N);
  let cut = 0;
  wire.forEach(({ frame }, i) => {
    const original = numbered(i);
    if (frame.length < original.length) cut++;
    t.is(toHex(frame), toHex(original.subarray(0, frame.length)));
  });
  t.is(cut, count);
});

test("corrupt: a corrupted frame differs in exactly one bit, at about the configured rate", (t) => {
  const { wire, count } = only("corrupt");
  t.true(withinBinomial(count, N, P), `${count}`);
  let corrupted = 0;
  wire.forEach(({ frame }, i) => {
    const original = numbered(i);
    let bits = 0;
    for (let k = 0; k < frame.length; k++) for (let x = frame[k]! ^ original[k]!; x; x &= x - 1) bits++;
    t.true(bits <= 1);
    corrupted += bits;
  });
  t.is(corrupted, count);
});

test("delay: delayed frames arrive delayMs late, at about the configured rate", (t) => {
  const { wire, count } = only("delay");
  t.true(withinBinomial(count, N, P), `${count}`);
  t.is(wire.length, N);
  let late = 0;
  for (const { at, frame } of wire) {
    const lateness = at - indexOf(frame);
    t.true(lateness === 0 || lateness === 20);
    if (lateness === 20) late++;
  }
  t.is(late, count);
});

test("reorder: a held frame goes out right after the next one; one slot gives rate p/(1+p)", (t) => {
  const { wire, count } = only("reorder");
  t.true(withinBinomial(count, N, P / (1 + P)), `${count}`);
  const order = wire.map((a) => indexOf(a.frame));
  t.deepEqual(
    [...order].sort((a, b) => a - b),
    Array.from({ length: N }, (_, i) => i),
  );
  let swaps = 0;
  for (let i = 1; i < order.length; i++) if (order[i]! < order[i - 1]!) swaps++;
  t.is(swaps, count);
});

test("a held frame with no frame behind it is released after reorderMs", (t) => {
  const h = harness({ seed: 3, rates: { reorder: 1 }, reorderMs: 20 });
  h.injector.transmit(numbered(0));
  h.clock.advance(19.9);
  t.is(h.wire.length, 0);
  h.clock.advance(0.1);
  t.is(h.wire.length, 1);
  t.is(h.wire[0]!.at, 20);
});

/** Both directions under every fault: the sequence of (time, bytes) that comes out. */
function mixedRun(seed: number): string[] {
  const rates = { drop: 0.1, duplicate: 0.1, reorder: 0.1, delay: 0.1, corrupt: 0.1, truncate: 0.1 };
  const h = harness({ seed, rates });
  for (let i = 0; i < 1000; i++) {
    h.injector.transmit(numbered(i));
    h.fromWire(numbered(i + 1_000_000));
    h.clock.advance(0.5);
  }
  h.clock.runUntilIdle();
  return [...h.wire.map((a) => `down ${a.at} ${toHex(a.frame)}`), ...h.up.map((a) => `up ${a.at} ${toHex(a.frame)}`)];
}

test("the same seed repeats a run exactly; another seed does not", (t) => {
  const first = mixedRun(1234);
  t.deepEqual(mixedRun(1234), first);
  t.notDeepEqual(mixedRun(1235), first);
});

test("direction limits faults to one way; the other way passes untouched", (t) => {
  for (const direction of ["transmit", "receive"] as const) {
    const h = harness({ seed: 5, rates: { drop: 1 }, direction });
    h.injector.transmit(numbered(1));
    h.fromWire(numbered(2));
    h.clock.runUntilIdle();
    t.is(h.wire.length, direction === "transmit" ? 0 : 1, direction);
    t.is(h.up.length, direction === "receive" ? 0 : 1, direction);
    t.is(h.injector.counts.drop, 1);
  }
});

test("faults never touch the sender's buffer, and rates can be changed mid-run", (t) => {
  const h = harness({ seed: 9, rates: { corrupt: 1, truncate: 1 } });
  const frame = numbered(7);
  h.injector.transmit(frame);
  t.is(toHex(frame), toHex(numbered(7)));
  t.not(toHex(h.wire[0]!.frame), toHex(frame));
  h.injector.rates = {};
  h.injector.transmit(frame);
  h.fromWire(frame);
  t.is(toHex(h.wire[1]!.frame), toHex(frame));
  t.is(toHex(h.up[0]!.frame), toHex(frame));
  t.deepEqual(h.injector.counts, { frames: 3, drop: 0, duplicate: 0, reorder: 0, delay: 0, corrupt: 1, truncate: 1 });
});
