import test from "ava";
import { XsWorker } from "../../host-sim/xs.ts";

// The XS harness itself: replies, exceptions, print, issueCommand, and both limits.

async function withWorker<T>(use: (xs: XsWorker) => Promise<T>, xs = new XsWorker()): Promise<T> {
  try {
    return await use(xs);
  } finally {
    await xs.close();
  }
}

test("an expression's value comes back through JSON, with its computrons", async (t) => {
  await withWorker(async (xs) => {
    const { value, computrons } = await xs.evaluateJson<number[]>("[1, 2, 3].map((x) => x * 7)");
    t.deepEqual(value, [7, 14, 21]);
    t.true(computrons > 0);
  });
});

test("the machine keeps state between evaluations and has no Node globals", async (t) => {
  await withWorker(async (xs) => {
    await xs.evaluate("globalThis.counter = 40");
    t.is((await xs.evaluateJson<number>("counter + 2")).value, 42);
    t.deepEqual((await xs.evaluateJson<string[]>("[typeof process, typeof Buffer, typeof require]")).value, ["undefined", "undefined", "undefined"]);
  });
});

test("an exception rejects with its text and the machine survives it", async (t) => {
  await withWorker(async (xs) => {
    await t.throwsAsync(xs.evaluate("throw new RangeError('out of range')"), { message: /RangeError: out of range/ });
    t.is((await xs.evaluateJson<number>("1 + 1")).value, 2);
  });
});

test("print() lines and issueCommand() requests reach the host", async (t) => {
  const requests: string[] = [];
  const xs = new XsWorker({
    onCommand: (request) => {
      requests.push(new TextDecoder().decode(request));
      return new TextEncoder().encode("pong");
    },
  });
  const { value } = await withWorker(
    () => xs.evaluateJson<string>("print('hello', 42), new TextDecoder().decode(issueCommand(new TextEncoder().encode('ping').buffer))"),
    xs,
  );
  t.is(value, "pong");
  t.deepEqual(requests, ["ping"]);
  t.deepEqual(xs.printed, ["hello 42"]);
});

test("the metering limit stops a runaway script", async (t) => {
  await withWorker(
    async (xs) => {
      await t.throwsAsync(xs.evaluate("for (;;);"), { message: /metering limit exceeded/ });
      await t.throwsAsync(xs.evaluate("1"), { message: /metering limit exceeded/ });
    },
    new XsWorker({ meteringLimit: 100_000 }),
  );
});

test("the timeout kills a worker that does not answer", async (t) => {
  await withWorker(
    async (xs) => {
      await t.throwsAsync(xs.evaluate("for (;;);"), { message: /timed out after 200 ms/ });
    },
    new XsWorker({ timeoutMs: 200, meteringLimit: 2 ** 31 - 1 }),
  );
});

test("computronsPerCall subtracts the cost of the call itself", async (t) => {
  await withWorker(async (xs) => {
    await xs.evaluate("globalThis.loop = (n) => { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }");
    const per = await xs.computronsPerCall("loop", 1000);
    t.true(per > 0);
    t.true(per < (await xs.evaluate("loop(1000)")).computrons / 1000);
  });
});
