import test from "ava";
import fc from "fast-check";
import { dnsBench, addressesOf, a, SERVER1, SERVER2, type DnsBench } from "../support/dns-resolver-bench.ts";
import { DnsStreamReader, dnsTcpFrame } from "../../modules/services/dns-resolver.ts";
import { FaultInjector } from "../../host-sim/faults.ts";
import { holds } from "../support/helpers.ts";

const MANY = 40; // 40 A records: about 670 bytes, over UDP's 512

function many(d: DnsBench, name = "many.example.test"): string[] {
  const expected: string[] = [];
  for (let i = 1; i <= MANY; i++) {
    for (const s of [d.server1, d.server2]) s.records.push(a(name, `10.0.2.${i}`, 120));
    expected.push(`10.0.2.${i}`);
  }
  return expected.sort();
}

test("a truncated UDP answer is fetched whole over TCP port 53 from the same server", (t) => {
  const d = dnsBench();
  const expected = many(d);
  const o = d.lookup("many.example.test", "A");
  t.is(o.err, undefined);
  t.deepEqual(addressesOf(o), expected);
  t.like(o.result, { ttl: 120, source: "network" });
  t.deepEqual(
    d.server1.queries.map((q) => q.tcp),
    [false, true],
  );
  const [udp, tcp] = d.server1.queries;
  t.is(udp!.msg.id, tcp!.msg.id);
  t.deepEqual(udp!.msg.questions, tcp!.msg.questions);
  t.is(d.device.netif.stats.counters.get("dns.tcp"), 1);
  d.b.clock.runUntilIdle();
  t.deepEqual(
    d.device.tcp.connections.map((c) => c.state),
    [],
    "the connection is closed and gone",
  );
  t.is(d.lookup("many.example.test", "A").result?.source, "cache");
});

test("the partial answer in a truncated reply is never used: without TCP the look-up fails as truncated", (t) => {
  const d = dnsBench({ server: { tcp: false }, resolver: { rounds: 2 } });
  many(d);
  const o = d.lookup("many.example.test", "A");
  t.is(o.err?.code, "truncated");
  t.is(o.result, undefined);
  t.deepEqual(
    d.server1.queries.map((q) => q.tcp),
    [false, false],
    "each UDP round tried, TCP refused each time",
  );
  t.is(d.device.netif.stats.counters.get("dns.tcp"), 2);
});

test("a server that accepts TCP but never answers is given up after tcpTimeoutMs; the next server answers", (t) => {
  const d = dnsBench({ resolver: { servers: [SERVER1, SERVER2], tcpTimeoutMs: 3000 } });
  const expected = many(d);
  d.server1.onQuery = (q) => {
    if (q.tcp) d.server1.mode = "silent";
  };
  const o = d.lookup("many.example.test", "A");
  t.deepEqual(addressesOf(o), expected);
  t.true(o.at >= 3000 && o.at < 3200, `answered at ${o.at} ms`);
  t.deepEqual(
    d.server2.queries.map((q) => q.tcp),
    [false, true],
  );
});

test("a TCP answer longer than maxTcpMessage is refused", (t) => {
  const d = dnsBench({ resolver: { maxTcpMessage: 600, rounds: 1 } });
  many(d);
  const o = d.lookup("many.example.test", "A");
  t.is(o.err?.code, "truncated");
  d.b.clock.runUntilIdle();
  t.deepEqual(
    d.device.tcp.connections.map((c) => c.state),
    [],
  );
});

test("concurrent look-ups that both need TCP each get their whole answer", (t) => {
  const d = dnsBench();
  const first = many(d, "one.example.test");
  const second = many(d, "two.example.test");
  const held = [d.start("one.example.test", "A"), d.start("two.example.test", "A")];
  d.b.clock.runUntilIdle();
  t.deepEqual(
    held.map((h) => addressesOf(h.outcome!)),
    [first, second],
  );
  t.is(d.device.netif.stats.counters.get("dns.tcp"), 2);
});

test("TCP fallback under seeded 10 % loss with reordering and duplication", (t) => {
  let faults: FaultInjector | undefined;
  const d = dnsBench({
    seed: 5,
    resolver: { servers: [SERVER1, SERVER2] },
    wrap: (link, clock) => (faults = new FaultInjector(link, clock, { seed: 21, rates: { drop: 0.1, reorder: 0.1, duplicate: 0.1 } })),
  });
  const names = ["big1", "big2", "big3", "big4", "big5", "big6"].map((n) => `${n}.example.test`);
  const expected = names.map((n) => many(d, n));
  const held = names.map((n) => d.start(n, "A"));
  d.b.clock.runUntilIdle();
  t.deepEqual(
    held.map((h) => h.outcome?.err?.code),
    names.map(() => undefined),
  );
  t.deepEqual(
    held.map((h) => addressesOf(h.outcome!)),
    expected,
  );
  t.true((d.device.netif.stats.counters.get("dns.tcp") ?? 0) >= names.length);
  t.true(faults!.counts.drop > 0 && faults!.counts.reorder > 0 && faults!.counts.duplicate > 0, JSON.stringify(faults!.counts));
});

test("DnsStreamReader: length-prefixed messages come out whole however the stream is cut", (t) => {
  const messages = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 });
  holds(
    t,
    fc.property(messages, fc.array(fc.nat(), { maxLength: 10 }), (msgs, cuts) => {
      const stream = Uint8Array.from(msgs.flatMap((m) => [...dnsTcpFrame(m)]));
      const out: Uint8Array[] = [];
      const reader = new DnsStreamReader(300, (m) => out.push(m));
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
      let from = 0;
      for (const p of [...points, stream.length]) {
        if (!reader.push(stream.subarray(from, p))) return false;
        from = p;
      }
      return out.length === msgs.length && out.every((m, i) => m.length === msgs[i]!.length && m.every((b, j) => b === msgs[i]![j]));
    }),
  );
});

test("DnsStreamReader: a length over the limit stops the stream", (t) => {
  const out: Uint8Array[] = [];
  const reader = new DnsStreamReader(100, (m) => out.push(m));
  t.true(reader.push(dnsTcpFrame(new Uint8Array(100))));
  t.false(reader.push(dnsTcpFrame(new Uint8Array(101))));
  t.deepEqual(
    out.map((m) => m.length),
    [100],
  );
  t.deepEqual([...dnsTcpFrame(Uint8Array.of(7, 8, 9))], [0, 3, 7, 8, 9]);
});
