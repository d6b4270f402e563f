import test from "ava";
import fc from "fast-check";
import { RealClock, VirtualClock } from "../../host-sim/clock.ts";
import { holds } from "../support/helpers.ts";

test("timers fire in due order, equal due times in insertion order, each at its own time", (t) => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  const at = (name: string, delay: number) => clock.setTimer(delay, () => fired.push(`${name}@${clock.now()}`));
  at("late", 30_000);
  at("a", 5);
  at("b", 5);
  at("first", 1);
  at("c", 5);
  t.is(clock.advance(60_000), 5);
  t.deepEqual(fired, ["first@1", "a@5", "b@5", "c@5", "late@30000"]);
  t.is(clock.now(), 60_000);
});

test("cancelled timers never fire, even when cancelled by a timer due at the same time", (t) => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  const doomed = clock.setTimer(10, () => fired.push("doomed"));
  clock.setTimer(5, () => fired.push("kept"));
  const sameTime = clock.setTimer(5, () => fired.push("same-time"));
  clock.setTimer(5, () => {}); // inserted after sameTime, so it fires after sameTime
  clock.setTimer(4, () => sameTime.cancel());
  doomed.cancel();
  doomed.cancel(); // twice is harmless
  t.is(clock.pending(), 4);
  t.is(clock.runUntilIdle(), 3);
  t.deepEqual(fired, ["kept"]);
  t.is(clock.pending(), 0);
});

test("a timer scheduled from a callback with zero delay fires after those already due then", (t) => {
  const clock = new VirtualClock(100);
  const fired: string[] = [];
  clock.setTimer(10, () => {
    fired.push("a");
    clock.setTimer(0, () => fired.push(`nested@${clock.now()}`));
  });
  clock.setTimer(10, () => fired.push("b"));
  clock.setTimer(-5, () => fired.push(`negative@${clock.now()}`)); // clamped to now
  clock.advance(10);
  t.deepEqual(fired, ["negative@100", "a", "b", "nested@110"]);
});

test("advance stops at its target and leaves later timers pending", (t) => {
  const clock = new VirtualClock();
  let fired = 0;
  clock.setTimer(30_000, () => fired++);
  clock.advance(29_999);
  t.is(fired, 0);
  t.is(clock.nextDue(), 30_000);
  clock.advance(1);
  t.is(fired, 1);
  t.is(clock.nextDue(), undefined);
});

test("runUntil a predicate jumps timer to timer and stops as soon as it holds", (t) => {
  const clock = new VirtualClock();
  let ticks = 0;
  const tick = () => {
    ticks++;
    clock.setTimer(1000, tick);
  };
  clock.setTimer(1000, tick);
  t.true(clock.runUntil(() => ticks === 30));
  t.is(clock.now(), 30_000);
  // A periodic timer never goes idle: the step bound ends the run.
  t.false(clock.runUntil(() => false, 50));
  t.is(ticks, 80);
});

test("runUntil a predicate returns false when the clock goes idle first", (t) => {
  const clock = new VirtualClock();
  let done = false;
  clock.setTimer(5, () => {});
  t.false(clock.runUntil(() => done));
  t.is(clock.now(), 5);
  clock.setTimer(5, () => (done = true));
  t.true(clock.runUntil(() => done));
});

test("runUntil a time fires what is due and moves the clock there", (t) => {
  const clock = new VirtualClock();
  const fired: number[] = [];
  for (const d of [300, 100, 200, 400]) clock.setTimer(d, () => fired.push(clock.now()));
  t.true(clock.runUntil(250));
  t.deepEqual(fired, [100, 200]);
  t.is(clock.now(), 250);
  t.is(clock.pending(), 2);
});

test("runUntilIdle and advance throw on a runaway zero-delay loop", (t) => {
  const clock = new VirtualClock();
  const loop = () => clock.setTimer(0, loop);
  clock.setTimer(0, loop);
  t.throws(() => clock.runUntilIdle(1000), { message: /still busy after 1000/ });
  t.throws(() => clock.advance(1, 1000), { message: /1000 timers fired/ });
});

test("property: fire order is (due, insertion) order, cancelled timers excluded", (t) => {
  holds(
    t,
    fc.property(fc.array(fc.record({ delay: fc.integer({ min: 0, max: 20 }), cancel: fc.boolean() }), { maxLength: 60 }), (specs) => {
      const clock = new VirtualClock();
      const fired: number[] = [];
      const timers = specs.map((s, i) => clock.setTimer(s.delay, () => fired.push(i)));
      for (const [i, s] of specs.entries()) if (s.cancel) timers[i]!.cancel();
      clock.runUntilIdle();
      const expected = specs
        .map((s, i) => ({ ...s, i }))
        .filter((s) => !s.cancel)
        .sort((a, b) => a.delay - b.delay || a.i - b.i)
        .map((s) => s.i);
      return JSON.stringify(fired) === JSON.stringify(expected);
    }),
  );
});

test("RealClock reads the epoch in ms, never goes backwards, fires timers and honours cancel", async (t) => {
  const clock = new RealClock();
  const a = clock.now();
  t.true(Math.abs(a - Date.now()) < 60_000); // same epoch as Date (a sanity bound, not a timing assertion)
  t.true(clock.now() >= a);
  let cancelledFired = false;
  clock.setTimer(0, () => (cancelledFired = true)).cancel();
  // The clock's timers don't hold the process open (a link does, in TAP mode), so the test holds it.
  const hold = setInterval(() => {}, 1000);
  await new Promise<void>((resolve) => clock.setTimer(5, resolve));
  clearInterval(hold);
  t.false(cancelledFired);
});
