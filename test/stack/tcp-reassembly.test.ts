import test from "ava";
import fc from "fast-check";
import { Reassembly } from "../../modules/stack/tcp-reassembly.ts";
import { holds } from "../support/helpers.ts";

/**
 * Plays a receiver: segments of `data` arrive in any order, duplicated and overlapping;
 * those at rcv.nxt are taken directly, the rest go to the reassembly. Returns the bytes
 * in the order they were delivered.
 */
function receive(data: Uint8Array, segments: Array<[number, number]>, capacity: number, maxRanges: number): Uint8Array {
  const r = new Reassembly(capacity, maxRanges);
  const out: number[] = [];
  for (const [start, end] of segments) {
    const next = out.length;
    if (end <= next) continue; // old
    const from = Math.max(start, next);
    const to = Math.min(end, next + capacity); // the window
    if (to <= from) continue;
    if (from > next) {
      r.insert(from - next, data.subarray(from, to));
      continue;
    }
    out.push(...data.subarray(from, to));
    const more = r.advance(to - from);
    if (more) out.push(...more);
  }
  return Uint8Array.from(out);
}

/** A stream, and segments [start, end) that cover it plus random overlapping extras, in a random order. */
const arrivals = fc.uint8Array({ minLength: 1, maxLength: 2000, size: "max" }).chain((data) =>
  fc
    .tuple(
      fc.uniqueArray(fc.integer({ min: 1, max: data.length }), { maxLength: 120, size: "max" }),
      fc.array(fc.tuple(fc.nat(data.length - 1), fc.integer({ min: 1, max: 200 })), { maxLength: 20 }),
    )
    .chain(([cuts, extras]) => {
      const edges = [0, ...cuts.filter((c) => c < data.length).sort((a, b) => a - b), data.length];
      const segs: Array<[number, number]> = edges.slice(1).map((end, i) => [edges[i]!, end]);
      for (const [s, n] of extras) segs.push([s, Math.min(data.length, s + n)]);
      return fc.tuple(fc.constant(data), fc.shuffledSubarray(segs, { minLength: segs.length }));
    }),
);

test("whatever order segments arrive in, the bytes delivered are the stream's start, in order", (t) => {
  holds(
    t,
    fc.property(arrivals, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 8, max: 400 }), ([data, segs], gaps, capacity) => {
      const got = receive(data, segs, capacity, gaps);
      return got.every((b, i) => b === data[i]);
    }),
  );
});

test("once every segment has also come in order, the whole stream is delivered", (t) => {
  holds(
    t,
    fc.property(arrivals, fc.integer({ min: 1, max: 6 }), ([data, segs], gaps) => {
      const inOrder: Array<[number, number]> = [];
      for (let i = 0; i < data.length; i += 100) inOrder.push([i, Math.min(data.length, i + 100)]);
      const got = receive(data, [...segs, ...inOrder], 4096, gaps);
      return got.length === data.length && got.every((b, i) => b === data[i]);
    }),
  );
});

test("ranges merge when they touch or overlap, and a new range beyond the limit is refused", (t) => {
  const r = new Reassembly(1000, 2);
  t.true(r.insert(10, new Uint8Array(10)));
  t.true(r.insert(30, new Uint8Array(10)));
  t.false(r.insert(50, new Uint8Array(10)), "a third range");
  t.true(r.insert(20, new Uint8Array(10)), "fills the gap between the two");
  t.deepEqual(r.held, [[10, 40]]);
  t.true(r.insert(50, new Uint8Array(10)));
  t.true(r.insert(35, new Uint8Array(20)), "overlaps both");
  t.deepEqual(r.held, [[10, 60]]);
});

test("bytes wrap around the ring and come back out intact", (t) => {
  const r = new Reassembly(8, 4);
  t.true(r.insert(5, Uint8Array.of(50, 51)));
  t.is(r.advance(3), undefined, "the hole before offset 2 is still open");
  t.true(r.insert(4, Uint8Array.of(60, 61, 62)), "lands on ring indexes 7, 0 and 1");
  t.deepEqual(r.held, [[2, 7]]);
  t.deepEqual(r.advance(2), Uint8Array.of(50, 51, 60, 61, 62));
  t.true(r.empty);
});
