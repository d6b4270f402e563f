// Transfers through the HTTP server over a faulty link: the server's frames (both ways) are
// dropped, duplicated, reordered, delayed, corrupted and truncated from a seed, and every
// body must still arrive byte-exact, pipelined responses in order.

import test from "ava";
import { createHash } from "node:crypto";
import { FaultInjector } from "../../host-sim/faults.ts";
import { bytes, must, readAll, writeAll } from "../support/storage.ts";
import { setup, dec } from "../support/http-server-client.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

for (const seed of [11, 2024]) {
  test(`seed ${seed}: a 300 KB GET, chunked and sized PUTs of 200 KB, and a pipelined burst arrive byte-exact over a faulty link`, (t) => {
    let faults: FaultInjector | undefined;
    const env = setup(
      { allowPut: true, sendTimeoutMs: 120_000, requestTimeoutMs: 60_000 },
      undefined,
      (link, clock) => (faults = new FaultInjector(link, clock, { seed, rates: {} })),
      seed,
    );
    // ARP is settled before the faults begin: a corrupted ARP reply (no checksum) would poison the cache.
    faults!.rates = { drop: 0.08, duplicate: 0.03, reorder: 0.08, delay: 0.05, corrupt: 0.02, truncate: 0.01 };
    const big = bytes(300_000, seed);
    must(writeAll(env.storage, "big.bin", big));

    const got = env.exchange("GET /big.bin HTTP/1.1\r\nHost: d\r\n\r\n").responses[0]!;
    t.is(got.status, 200);
    t.is(sha(got.body), sha(big));

    const upload = bytes(200_000, seed + 1);
    const chunked = env.connect();
    chunked.send("PUT /up-chunked.bin HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (let i = 0; i < upload.length; i += 4321) {
      const part = upload.subarray(i, i + 4321);
      chunked.send(`${part.length.toString(16)}\r\n`);
      chunked.send(part);
      chunked.send("\r\n");
    }
    chunked.send("0\r\n\r\n");
    env.until(() => chunked.responses().length === 1, 600_000);
    t.is(chunked.responses()[0]?.status, 201);
    t.is(sha(readAll(env.storage, "up-chunked.bin")), sha(upload));

    const sized = env.exchange(
      new Uint8Array([...new TextEncoder().encode(`PUT /up.bin HTTP/1.1\r\nHost: d\r\nContent-Length: ${upload.length}\r\n\r\n`), ...upload]),
    );
    t.is(sized.responses[0]?.status, 201);
    t.is(sha(readAll(env.storage, "up.bin")), sha(upload));

    const burst = env.exchange(
      "GET /up.bin HTTP/1.1\r\nHost: d\r\nRange: bytes=1000-50999\r\n\r\n" +
        "HEAD /big.bin HTTP/1.1\r\nHost: d\r\n\r\n" +
        "GET /status HTTP/1.1\r\nHost: d\r\n\r\n" +
        "GET /big.bin HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n",
      { heads: [false, true, false, false], count: 4 },
    );
    t.deepEqual(
      burst.responses.map((r) => r.status),
      [206, 200, 200, 200],
    );
    t.is(sha(burst.responses[0]!.body), sha(upload.subarray(1000, 51000)));
    t.is(burst.responses[1]!.headers["content-length"], "300000");
    t.truthy(JSON.parse(dec(burst.responses[2]!.body)).counters["http.requests"]);
    t.is(sha(burst.responses[3]!.body), sha(big));

    const c = faults!.counts;
    t.true(c.drop > 20 && c.duplicate > 5 && c.reorder > 20 && c.corrupt > 3, JSON.stringify(c));
    t.true((env.counters.get("tcp.retransmits") ?? 0) > 10);
    t.log(`faults ${JSON.stringify(c)}; virtual time ${(env.clock.now() / 1000).toFixed(1)} s`);
  });
}
