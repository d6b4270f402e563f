// Issue 10 item 16: a TTL with the top bit set counts as 0 (RFC 2181 8), so such an
// answer is used once and never cached, instead of being kept for maxTtl (a day).

import test from "ava";
import type { DnsRecord } from "../../modules/wire/dns.ts";
import { a, dnsBench, SOA } from "../support/dns-resolver-bench.ts";

for (const ttl of [0x80000000, 0xffffffff]) {
  test(`an A record with TTL ${ttl} is answered with TTL 0 and asked again 1 ms later`, (t) => {
    const d = dnsBench({ server: { records: [a("big.example.test", "10.0.0.90", ttl)] } });
    const first = d.lookup("big.example.test", "A");
    t.like(first.result, { source: "network", ttl: 0 });
    d.b.clock.advance(1);
    t.like(d.lookup("big.example.test", "A").result, { source: "network", ttl: 0 });
    t.is(d.queries(), 2);
  });
}

test("a CNAME with the top bit set in its TTL makes the chain's TTL 0", (t) => {
  const records = [
    { name: "alias.example.test", type: "CNAME" as const, class: 1, ttl: 0x80000001, target: "www.example.test" },
    a("www.example.test", "10.0.0.80", 300),
  ];
  const d = dnsBench({ server: { records } });
  t.like(d.lookup("alias.example.test", "A").result, { canonical: "www.example.test", ttl: 0 });
  d.b.clock.advance(1);
  t.like(d.lookup("alias.example.test", "A").result, { source: "network" });
});

test("an NXDOMAIN whose SOA MINIMUM has the top bit set is not cached", (t) => {
  const soa = { ...SOA, minimum: 0x90000000 } as DnsRecord;
  const d = dnsBench({ server: { records: [], soa } });
  t.is(d.lookup("none.example.test", "A").err?.code, "nxdomain");
  d.b.clock.advance(1);
  t.is(d.lookup("none.example.test", "A").err?.code, "nxdomain");
  t.is(d.queries(), 2);
});

test("a look-up has a bounded life: a silent server fails it at 30 s, and the slot goes to the next one at once", (t) => {
  const d = dnsBench({ resolver: { rounds: 100, maxInFlight: 1 } });
  d.server1.mode = "silent";
  const first = d.start("www.example.test", "A");
  d.b.clock.runUntil(15_000);
  const second = d.start("www.example.test", "AAAA"); // queued behind the first
  d.b.clock.runUntil(29_999);
  t.is(first.outcome, undefined);
  d.b.clock.runUntil(30_000);
  t.is(first.outcome?.err?.code, "timeout");
  t.is(first.outcome?.at, 30_000);
  d.server1.mode = "answer";
  d.b.clock.runUntil(() => second.outcome !== undefined);
  t.is(second.outcome?.err, undefined);
  t.true(second.outcome!.at - 30_000 <= 1, `the queued look-up answered at ${second.outcome?.at} ms`);
});
