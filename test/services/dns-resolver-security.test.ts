import test from "ava";
import { ip } from "../support/bench.ts";
import { dnsBench, addressesOf, a, SERVER1, SERVER2 } from "../support/dns-resolver-bench.ts";
import type { DnsServerQuery } from "../../host-sim/peers/dns-server.ts";
import { FaultInjector } from "../../host-sim/faults.ts";
import { type DnsMessage, dnsLength, encodeDns } from "../../modules/wire/dns.ts";

const EVIL = "6.6.6.6";

/** A reply to `q` that claims the name is at 6.6.6.6, with `change` applied. */
function forged(q: DnsServerQuery, change: Partial<DnsMessage> = {}): Uint8Array {
  const question = q.msg.questions[0]!;
  const m: DnsMessage = {
    ...q.msg,
    qr: true,
    ra: true,
    answers: [a(question.name, EVIL, 86400)],
    ...change,
  };
  const bytes = new Uint8Array(dnsLength(m));
  encodeDns(m, bytes);
  return bytes;
}

test("spoofed replies (wrong ID, question, source address or port, garbage) are dropped and counted; the real answer wins", (t) => {
  const d = dnsBench();
  const attacker = d.b.host(66);
  const fromServerIp = attacker.udp.pcb();
  fromServerIp.bind(53); // sends with the server's address forged as its source
  const fromOtherPort = attacker.udp.pcb();
  fromOtherPort.bind(5353);
  fromOtherPort.sendTo(Uint8Array.of(0), ip("10.0.0.2"), 9); // so the attacker knows the device's MAC
  d.b.clock.runUntilIdle();
  d.server1.delayMs = 50; // the forgeries get there first
  d.server1.onQuery = (q) => {
    const spoof = (data: Uint8Array, pcb = fromServerIp, src = SERVER1) => pcb.sendTo(data, ip("10.0.0.2"), q.port, src);
    spoof(forged(q, { id: (q.msg.id + 1) & 0xffff }));
    spoof(forged(q, { questions: [{ name: "evil.example.test", type: "A", class: 1 }] }));
    spoof(forged(q, { questions: [{ ...q.msg.questions[0]!, type: "AAAA" }] }));
    spoof(forged(q, { qr: false }));
    spoof(forged(q), fromServerIp, ip("10.0.0.66")); // its own address
    spoof(forged(q), fromOtherPort); // the server's address, from port 5353
    spoof(forged(q), fromServerIp, SERVER2); // a configured server that was not asked
    spoof(Uint8Array.of(0xde, 0xad)); // garbage
  };
  const o = d.lookup("www.example.test", "A");
  t.deepEqual(addressesOf(o), ["10.0.0.80", "10.0.0.81"]);
  t.true(o.at >= 50, "the answer is the server's, sent 50 ms late");
  const drops = d.device.netif.stats.drops;
  t.is(drops.get("dns-bad-id"), 2);
  t.is(drops.get("dns-bad-question"), 2);
  t.is(drops.get("dns-bad-source"), 3);
  t.is(drops.get("dns-short"), 1);
  t.is(d.device.netif.stats.counters.get("dns.answer"), 1);
  t.deepEqual(addressesOf(d.lookup("www.example.test", "A")), ["10.0.0.80", "10.0.0.81"], "the cache holds the real answer");
});

test("a forgery after the real answer finds the pcb closed", (t) => {
  const d = dnsBench();
  const attacker = d.b.host(66);
  const pcb = attacker.udp.pcb();
  pcb.bind(53);
  d.server1.onQuery = (q) => d.b.clock.setTimer(20, () => pcb.sendTo(forged(q), ip("10.0.0.2"), q.port, SERVER1));
  const o = d.lookup("www.example.test", "A");
  d.b.clock.runUntilIdle();
  t.deepEqual(addressesOf(o), ["10.0.0.80", "10.0.0.81"]);
  t.is(d.device.netif.stats.drops.get("udp-no-listener"), 1);
  t.deepEqual(addressesOf(d.lookup("www.example.test", "A")), ["10.0.0.80", "10.0.0.81"]);
});

test("every exchange has its own random ID and source port", (t) => {
  const d = dnsBench();
  for (let i = 0; i < 64; i++) d.lookup(`n${i}.example.test`, "A");
  const ids = new Set(d.server1.queries.map((q) => q.msg.id));
  const ports = new Set(d.server1.queries.map((q) => q.port));
  t.is(d.server1.queries.length, 64);
  t.true(ids.size >= 60, `${ids.size} distinct IDs`);
  t.true(ports.size >= 60, `${ports.size} distinct ports`);
  t.true([...ports].every((p) => p >= 49152 && p <= 65535));
});

test("under 10 % loss with reordering and duplication (seeded) every name still resolves", (t) => {
  let faults: FaultInjector | undefined;
  const d = dnsBench({
    seed: 3,
    resolver: { servers: [SERVER1, SERVER2], maxInFlight: 4, maxQueued: 64 },
    wrap: (link, clock) => (faults = new FaultInjector(link, clock, { seed: 11, rates: { drop: 0.1, reorder: 0.1, duplicate: 0.1 } })),
  });
  const names = Array.from({ length: 60 }, (_, i) => `host${i}.example.test`);
  for (const s of [d.server1, d.server2]) for (const [i, n] of names.entries()) s.records.push(a(n, `10.0.3.${i}`));
  const held = names.map((n) => d.start(n, "A"));
  d.b.clock.runUntilIdle();
  t.deepEqual(
    held.map((h) => h.outcome?.err?.code),
    names.map(() => undefined),
  );
  t.deepEqual(
    held.map((h) => addressesOf(h.outcome!)),
    names.map((_, i) => [`10.0.3.${i}`]),
  );
  const c = faults!.counts;
  t.true(c.drop > 0 && c.reorder > 0 && c.duplicate > 0, JSON.stringify(c));
  t.true(d.queries() > names.length, "some queries had to be sent again");
});
