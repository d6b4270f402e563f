// Issue 10 item 11: ARP entries in use are refreshed before they expire (as lwIP does),
// our own address is never cached, and it is defended as RFC 5227 2.4 says.

import test from "ava";
import { unwrap } from "../../modules/wire/result.ts";
import { ARP_REPLY, ARP_REQUEST } from "../../modules/wire/arp.ts";
import { BROADCAST_MAC, macEqual } from "../../modules/wire/address.ts";
import { bench, ip, mac } from "../support/bench.ts";
import { arpFrame, arpOf, echoRequest } from "../support/frames.ts";

test("a TCP stream across four ARP expiry times never stalls: no retransmission, each burst delivered within 1 ms", (t) => {
  const b = bench();
  const a = b.host(2);
  const c = b.host(3);
  const lateness: number[] = [];
  let received = 0;
  let wanted = 0;
  let sentAt = 0;
  unwrap(c.tcp.listen(5001)).accept((pcb) =>
    pcb.recv((data) => {
      if (!data) return;
      received += data.length;
      pcb.recved(data.length);
      if (received === wanted) lateness.push(b.clock.now() - sentAt);
    }),
  );
  const pcb = unwrap(a.tcp.connect(ip("10.0.0.3"), 5001, () => {}));
  b.clock.runUntil(100);
  // A burst that fills the send buffer every 10 s, for 1250 s: the 300 s entries would expire four times.
  for (let at = 1000; at <= 1_250_000; at += 10_000) {
    b.clock.runUntil(at);
    sentAt = at;
    wanted += pcb.write(new Uint8Array(pcb.sndbuf));
  }
  b.clock.runUntil(1_260_000);
  t.is(received, wanted);
  t.is(lateness.length, 125);
  t.true(Math.max(...lateness) <= 1, `slowest burst took ${Math.max(...lateness)} ms`);
  for (const s of [a, c]) {
    t.is(s.stats.counters.get("tcp.retransmits"), undefined);
    t.is(s.stats.counters.get("tcp.timeouts"), undefined);
    t.is(s.stats.drops.get("arp-pending-overflow"), undefined);
  }
  // Each side asked the other again once per 270 s; the other's request refreshed its own entry.
  t.is((a.stats.counters.get("arp.refresh") ?? 0) + (c.stats.counters.get("arp.refresh") ?? 0), 4);
});

/** Host 2 alone with a raw port: what it sends, with virtual times. */
function alone() {
  const b = bench();
  const s = b.host(2);
  const tap = b.tap();
  const sent: Array<{ at: number; frame: Uint8Array }> = [];
  tap.link.setReceiver((frame) => sent.push({ at: b.clock.now(), frame }));
  /** A gratuitous ARP from mac(9) claiming 10.0.0.2 at absolute virtual time `at`. */
  const claim = (at: number, op = ARP_REQUEST) => {
    b.clock.runUntil(at);
    tap.link.transmit(arpFrame({ op, senderIp: US, targetIp: US }));
    b.clock.runUntil(at + 1);
  };
  return { b, s, sent, claim };
}

const US = ip("10.0.0.2");

test("our own address is never cached as another host's, and a first claim is answered by one announcement", (t) => {
  const { s, sent, claim } = alone();
  claim(1000);
  t.is(s.arp.lookup(US), undefined);
  t.is(sent.length, 1);
  const a = arpOf(sent[0]!.frame)!;
  t.true(a.op === ARP_REQUEST && a.senderIp === US && a.targetIp === US && macEqual(a.senderMac, mac(2)));
  t.true(macEqual(sent[0]!.frame.subarray(0, 6), BROADCAST_MAC));
  t.true(sent[0]!.at - 1000 <= 1);
  t.is(s.netif.ip, US);
  t.is(s.stats.counters.get("arp.defended"), 1);
});

test("RFC 5227 2.4: a second claim within 10 s gives the address up; one after 10 s is defended again", (t) => {
  const { s, sent, claim } = alone();
  claim(1000);
  claim(11_000, ARP_REPLY); // 10 s later: outside DEFEND_INTERVAL, defended again
  t.is(s.netif.ip, US);
  t.is(sent.length, 2);
  claim(20_999); // 9.999 s after the last defence
  t.is(s.netif.ip, 0);
  t.is(sent.length, 2, "no third announcement");
  t.is(s.stats.counters.get("arp.defended"), 2);
  t.is(s.stats.counters.get("arp.conflict-lost"), 1);
});

test("answers to eight spoofed neighbours that never resolve do not block a real one: it is reached at once", (t) => {
  const b = bench();
  const s = b.host(2);
  const c = b.host(3);
  const tap = b.tap();
  for (let n = 100; n < 108; n++) tap.link.transmit(echoRequest(ip(`10.0.0.${n}`), US, 8, 1, { srcMac: mac(n) }));
  b.clock.runUntil(10);
  const got: number[] = [];
  const sink = c.udp.pcb();
  sink.bind(9);
  sink.recv(() => got.push(b.clock.now()));
  s.udp.pcb().sendTo(new Uint8Array(4), ip("10.0.0.3"), 9);
  b.clock.runUntil(20);
  t.is(got.length, 1);
  t.true(got[0]! - 10 <= 1, `delivered at ${got[0]} ms`);
  t.is(s.stats.drops.get("arp-pending-evicted"), 1);
  t.is(s.stats.drops.get("arp-pending-overflow"), undefined);
});

test("a full cache evicts the oldest entry never sent to, not a neighbour in use", (t) => {
  const b = bench();
  const s = b.host(2, { arp: { cacheSize: 2 } });
  b.host(3);
  const tap = b.tap();
  s.udp.pcb().sendTo(new Uint8Array(1), ip("10.0.0.3"), 9); // 10.0.0.3: resolved and in use
  b.clock.runUntil(10);
  for (const n of [11, 12]) tap.link.transmit(arpFrame({ op: ARP_REQUEST, senderIp: ip(`10.0.0.${n}`), targetIp: US }, BROADCAST_MAC, mac(n)));
  b.clock.runUntil(20);
  t.deepEqual(s.arp.lookup(ip("10.0.0.3")), mac(3));
  t.is(s.arp.lookup(ip("10.0.0.11")), undefined);
  t.deepEqual(s.arp.lookup(ip("10.0.0.12")), mac(12));
});
