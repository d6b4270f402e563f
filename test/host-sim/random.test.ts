import test from "ava";
import fc from "fast-check";
import { SeededRandom } from "../../host-sim/random.ts";
import { holds, withinBinomial } from "../support/helpers.ts";

const draw = (r: SeededRandom, n: number) => Array.from({ length: n }, () => r.u32());

test("the same seed gives the same stream; another seed a different one", (t) => {
  t.deepEqual(draw(new SeededRandom(42), 100), draw(new SeededRandom(42), 100));
  t.notDeepEqual(draw(new SeededRandom(42), 100), draw(new SeededRandom(43), 100));
});

test("property: u32 is an unsigned 32-bit integer and seed 0 is not degenerate", (t) => {
  holds(
    t,
    fc.property(fc.integer(), (seed) => draw(new SeededRandom(seed), 50).every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff)),
  );
  t.true(new Set(draw(new SeededRandom(0), 1000)).size > 990);
});

test("int(n) stays in range and is uniform within a binomial bound", (t) => {
  const r = new SeededRandom(7);
  const n = 60_000;
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < n; i++) counts[r.int(6)]!++;
  for (const c of counts) t.true(withinBinomial(c, n, 1 / 6), `count ${c}`);
  holds(
    t,
    fc.property(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer(), (m, seed) => {
      const x = new SeededRandom(seed).int(m);
      return Number.isInteger(x) && x >= 0 && x < m;
    }),
  );
});

test("chance(p) happens at rate p; float stays in [0, 1)", (t) => {
  const r = new SeededRandom(99);
  const n = 20_000;
  for (const p of [0, 0.01, 0.3, 1]) {
    let hits = 0;
    for (let i = 0; i < n; i++) if (r.chance(p)) hits++;
    t.true(withinBinomial(hits, n, p), `p=${p} hits=${hits}`);
  }
  for (let i = 0; i < 1000; i++) {
    const f = r.float();
    t.true(f >= 0 && f < 1);
  }
});
