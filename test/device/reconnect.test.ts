import test from "ava";
import { VirtualClock } from "../../host-sim/clock.ts";
import { RECONNECT_DEFAULTS, Reconnect } from "../../modules/device/reconnect.ts";

/** A Reconnect on a virtual clock, recording when it tries. */
function setup() {
  const clock = new VirtualClock();
  const attempts: number[] = [];
  const r = new Reconnect(clock, () => attempts.push(clock.now()));
  return { clock, attempts, r };
}

test("after a loss the first attempt waits 5 s, then each failure doubles the wait up to a minute", (t) => {
  const { clock, attempts, r } = setup();
  t.deepEqual(RECONNECT_DEFAULTS, { firstMs: 5000, maxMs: 60_000 });
  const waits: number[] = [];
  waits.push(r.lost());
  // Each attempt fails: Moddable's Wi-Fi module reports a disconnection again.
  for (let i = 0; i < 6; i++) {
    clock.advance(waits.at(-1)!);
    waits.push(r.lost());
  }
  t.deepEqual(waits, [5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
  t.deepEqual(attempts, [5000, 15_000, 35_000, 75_000, 135_000, 195_000]);
});

test("a disconnection while an attempt is scheduled schedules no other", (t) => {
  const { clock, attempts, r } = setup();
  t.is(r.lost(), 5000);
  clock.advance(2000);
  t.is(r.lost(), 5000);
  clock.advance(10_000);
  t.deepEqual(attempts, [5000]);
});

test("once connected, the pending attempt is dropped and the next loss waits 5 s again", (t) => {
  const { clock, attempts, r } = setup();
  r.lost();
  clock.advance(5000);
  r.lost(); // the attempt failed: the next waits 10 s
  clock.advance(3000);
  r.connected(); // Moddable's own retry got through
  clock.advance(20_000);
  t.deepEqual(attempts, [5000]);
  t.is(r.lost(), 5000);
});
