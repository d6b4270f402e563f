// Issue 10 items 11 and 16 for the DHCP client: an address another host keeps claiming
// is declined and a new lease sought; a lease of 0 s (or a few) is taken as 60 s, so the
// client never binds and drops its address in a loop. A host that claims every address
// probed slows the client to one address a minute after 10 conflicts (RFC 5227 2.1.1).

import test from "ava";
import { ARP_REPLY, ARP_REQUEST } from "../../modules/wire/arp.ts";
import { IP_BROADCAST } from "../../modules/wire/address.ts";
import { arpFrame, arpOf } from "../support/frames.ts";
import { dhcpLan, kinds, POOL } from "../support/dhcp-client-lan.ts";

for (const granted of [0, 1, 59]) {
  test(`a lease of ${granted} s is taken as 60 s: T1 30 s, T2 52.5 s, one renewal every 30 s`, (t) => {
    const lan = dhcpLan({ server: { leaseTime: 3600 } });
    // The server keeps the binding; only what it grants is short.
    lan.server.alter = (reply) => ({ ...reply, options: { ...reply.options, leaseTime: granted } });
    lan.client.start();
    t.true(lan.until("bound"));
    const lease = lan.client.lease!;
    t.deepEqual([lease.leaseTime, lease.renewalTime, lease.rebindingTime], [60, 30, 52.5]);
    const boundAt = lease.acquiredAt;
    t.true(lan.b.clock.runUntil(boundAt + 600_500));
    const renewals = lan.sent.filter((s) => s.at > boundAt + 1000);
    t.is(renewals.length, 20, "one REQUEST per 30 s for 600 s");
    const first = renewals[0]!.at - boundAt;
    t.true(first >= 30_000 && first <= 30_001, `first renewal after ${first} ms`);
    t.deepEqual(lan.events, ["bound 10.0.0.100", ...Array(20).fill("renewed 10.0.0.100")]);
    t.is(lan.device.netif.ip, POOL);
  });
}

test("an address another host claims twice within 10 s goes back to the server: DECLINE, then a new lease 10 s later", (t) => {
  const lan = dhcpLan({ server: { leaseTime: 3600 } });
  const tap = lan.b.tap();
  lan.client.start();
  t.true(lan.until("bound"));
  t.is(lan.device.netif.ip, POOL);
  const claim = (at: number) => {
    lan.b.clock.runUntil(at);
    tap.link.transmit(arpFrame({ op: ARP_REQUEST, senderIp: POOL, targetIp: POOL }));
  };
  const start = lan.b.clock.now();
  claim(start + 1000);
  lan.b.clock.runUntil(start + 2000);
  t.is(lan.device.netif.ip, POOL, "the first claim is only answered");
  claim(start + 5000);
  lan.b.clock.runUntil(start + 5001);
  t.is(lan.device.netif.ip, 0);
  t.is(lan.client.state, "init");
  const decline = lan.sent.at(-1)!;
  t.is(kinds([decline])[0], "decline");
  t.true(decline.at - (start + 5000) <= 1);
  t.is(decline.m.options.requestedIp, POOL);
  t.is(decline.to, IP_BROADCAST);
  t.true(lan.until("bound"));
  const discover = lan.sent.find((s) => s.at > decline.at)!;
  t.is(kinds([discover])[0], "discover");
  t.true(discover.at - decline.at >= 10_000 && discover.at - decline.at <= 10_001);
  t.is(lan.device.netif.ip, POOL + 1);
  t.deepEqual(lan.events, ["bound 10.0.0.100", "lost conflict", "bound 10.0.0.101"]);
});

test("a host that claims every address probed: after 10 conflicts the client tries at most one address a minute", (t) => {
  const lan = dhcpLan({ server: { poolSize: 40, leaseTime: 3600 } });
  const tap = lan.b.tap();
  // Answers every RFC 5227 probe as the address's holder.
  tap.link.setReceiver((f) => {
    const a = arpOf(f);
    if (a && a.op === ARP_REQUEST && a.senderIp === 0) tap.link.transmit(arpFrame({ op: ARP_REPLY, senderIp: a.targetIp, targetIp: 0 }, f.subarray(6, 12)));
  });
  lan.client.start();
  lan.b.clock.runUntil(20 * 60_000);
  const waits: number[] = [];
  for (const [i, s] of lan.sent.entries()) {
    const next = lan.sent[i + 1];
    if (kinds([s])[0] === "decline" && next) waits.push(Math.round((next.at - s.at) / 1000));
  }
  t.deepEqual(waits.slice(0, 12), [10, 10, 10, 10, 10, 10, 10, 10, 10, 60, 60, 60]);
  t.true(waits.every((w, i) => w === (i < 9 ? 10 : 60)));
  t.is(lan.device.netif.ip, 0, "never bound to a taken address");
});
