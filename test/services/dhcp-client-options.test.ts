// The options the client sends, and what it makes of the options it gets: the lease record,
// T1/T2 derived and corrected, values a renewal leaves out, and changes between renewals.

import test from "ava";
import fc from "fast-check";
import { dhcpLan, DNS, MASK, POOL, SERVER } from "../support/dhcp-client-lan.ts";
import { ip } from "../support/bench.ts";
import { holds } from "../support/helpers.ts";
import { DHCP_ACK, DHCP_DECLINE, DHCP_DISCOVER, DHCP_OFFER, DHCP_RELEASE, DHCP_REQUEST, type DhcpMessage } from "../../modules/wire/dhcp.ts";

const MAC = Uint8Array.of(2, 0, 0, 0, 0, 2); // the bench's host 2

test("DISCOVER and REQUEST carry the client id, parameter list and maximum size; DECLINE and RELEASE only what they need", (t) => {
  const lan = dhcpLan({ before: (b) => b.host(100) }); // so that one DECLINE goes out
  lan.client.start();
  lan.until("bound");
  lan.client.release();
  lan.b.clock.advance(1000); // the RELEASE waits for ARP to find the server
  const byType = (type: number) => lan.sent.filter((s) => s.m.options.messageType === type).map((s) => s.m.options);
  for (const o of [...byType(DHCP_DISCOVER), ...byType(DHCP_REQUEST)]) {
    t.deepEqual(o.clientId, Uint8Array.of(1, ...MAC));
    t.deepEqual(o.parameterRequestList, [1, 3, 6, 12, 15, 51, 58, 59]);
    t.is(o.maxMessageSize, 1500);
    t.is(o.hostName, undefined);
    t.is(o.vendorClass, undefined);
  }
  const [decline] = byType(DHCP_DECLINE);
  const [release] = byType(DHCP_RELEASE);
  t.deepEqual(decline, { messageType: DHCP_DECLINE, clientId: Uint8Array.of(1, ...MAC), requestedIp: POOL, serverId: SERVER });
  t.deepEqual(release, { messageType: DHCP_RELEASE, clientId: Uint8Array.of(1, ...MAC), serverId: SERVER });
  t.true(lan.sent.filter((s) => [DHCP_DECLINE, DHCP_RELEASE].includes(s.m.options.messageType!)).every((s) => s.m.secs === 0));
});

test("host name, vendor class, client id, parameter list and maximum size are configurable", (t) => {
  const clientId = Uint8Array.of(0, 0x65, 0x73, 0x70);
  const lan = dhcpLan({
    client: { hostName: "esp32-lab", vendorClass: "mcu-netstack 0.1", clientId, parameterRequestList: [1, 3], maxMessageSize: 300 },
  });
  lan.client.start();
  lan.until("bound");
  for (const s of lan.sent) {
    const o = s.m.options;
    t.deepEqual([o.hostName, o.vendorClass, o.clientId, o.parameterRequestList, o.maxMessageSize], ["esp32-lab", "mcu-netstack 0.1", clientId, [1, 3], 576]);
  }
  t.is(lan.server.binding(POOL)!.client, "id:00657370", "the server keys the lease on the client id");
});

test("the lease: mask, routers, DNS servers without 0.0.0.0 entries, host and domain name", (t) => {
  const dns2 = ip("10.0.0.54");
  const lan = dhcpLan({ server: { dnsServers: [0, DNS, 0, dns2], routers: [0, ip("10.0.0.254")], domainName: "lab.example" } });
  lan.server.alter = (r) => ({ ...r, options: { ...r.options, hostName: "device-7" } });
  lan.client.start();
  lan.until("bound");
  const lease = lan.client.lease!;
  t.deepEqual(lease.dnsServers, [DNS, dns2]);
  t.deepEqual(lease.routers, [ip("10.0.0.254")]);
  t.is(lease.gateway, ip("10.0.0.254"));
  t.is(lease.mask, MASK);
  t.is(lease.hostName, "device-7");
  t.is(lease.domainName, "lab.example");
  t.is(lan.device.netif.gateway, ip("10.0.0.254"));
});

// [lease, T1 sent, T2 sent] -> [T1, T2] used
const TIMES: Array<[number, number | undefined, number | undefined, number, number]> = [
  [100, undefined, undefined, 50, 87.5], // derived: half and seven eighths
  [100, 20, 40, 20, 40], // as sent
  [100, 90, 80, 50, 80], // T1 not below T2
  [100, 30, 120, 30, 87.5], // T2 not below the lease
  [100, undefined, 40, 20, 40], // half the lease would pass T2
  [100, 100, 100, 50, 87.5],
  [100, 0, 0, 50, 87.5], // zero is no time at all
  [60, undefined, undefined, 30, 52.5], // the shortest lease taken (see dhcp-client-hostile)
];

test("T1 and T2 are derived when missing and corrected unless T1 < T2 < lease; renewing and rebinding start at them", (t) => {
  for (const [leaseTime, renewalTime, rebindingTime, t1, t2] of TIMES) {
    const lan = dhcpLan({ server: { leaseTime, renewalTime, rebindingTime }, client: { probe: false, renewRetryMinMs: 1000 } });
    lan.client.start();
    lan.until("bound");
    const lease = lan.client.lease!;
    t.deepEqual([lease.leaseTime, lease.renewalTime, lease.rebindingTime], [leaseTime, t1, t2], `${leaseTime}/${renewalTime}/${rebindingTime}`);
    lan.server.alter = () => undefined;
    lan.until("renewing");
    t.is(lan.b.clock.now() - lease.acquiredAt, t1 * 1000);
    lan.until("rebinding");
    t.is(lan.b.clock.now() - lease.acquiredAt, t2 * 1000);
    lan.until("selecting");
    t.is(lan.b.clock.now() - lease.acquiredAt, leaseTime * 1000);
  }
});

test("property: whatever T1 and T2 a server sends, the client keeps 0 < T1 < T2 < lease", (t) => {
  const seconds = fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined });
  holds(
    t,
    fc.property(fc.integer({ min: 1, max: 0xfffffffe }), seconds, seconds, (leaseTime, renewalTime, rebindingTime) => {
      const lan = dhcpLan({ server: { leaseTime, renewalTime, rebindingTime }, client: { probe: false } });
      lan.client.start();
      lan.until("bound");
      const l = lan.client.lease!;
      return l.leaseTime === Math.max(60, leaseTime) && 0 < l.renewalTime && l.renewalTime < l.rebindingTime && l.rebindingTime < l.leaseTime;
    }),
    { numRuns: 100 },
  );
});

test("a renewal ACK without mask, router or DNS servers keeps the earlier values", (t) => {
  const lan = dhcpLan();
  lan.client.start();
  lan.until("bound");
  const first = lan.client.lease!;
  lan.server.alter = (r) => ({ ...r, options: { ...r.options, subnetMask: undefined, routers: undefined, dnsServers: undefined } });
  lan.until("renewing");
  lan.until("bound");
  const renewed = lan.client.lease!;
  t.deepEqual(lan.events, ["bound 10.0.0.100", "renewed 10.0.0.100"]);
  t.deepEqual([renewed.mask, renewed.routers, renewed.dnsServers], [first.mask, first.routers, first.dnsServers]);
  t.deepEqual([lan.device.netif.mask, lan.device.netif.gateway], [MASK, SERVER]);
});

test("changed: a renewal that brings other DNS servers or another router is reported with the lease it replaces", (t) => {
  const lan = dhcpLan();
  lan.client.start();
  lan.until("bound");
  lan.server.options.dnsServers = [ip("10.0.0.99")];
  lan.until("renewing");
  lan.until("bound");
  lan.server.options.routers = [ip("10.0.0.254")];
  lan.until("renewing");
  lan.until("bound");
  t.deepEqual(lan.events, ["bound 10.0.0.100", "changed 10.0.0.100 -> 10.0.0.100", "changed 10.0.0.100 -> 10.0.0.100"]);
  t.deepEqual(lan.leases[1]!.dnsServers, [ip("10.0.0.99")]);
  t.is(lan.device.netif.gateway, ip("10.0.0.254"));
  t.is(lan.leases[2]!.gateway, ip("10.0.0.254"));
});

test("changed: a renewal that moves the client to another address reconfigures the netif", (t) => {
  const lan = dhcpLan();
  lan.client.start();
  lan.until("bound");
  const moved = ip("10.0.0.120");
  lan.server.alter = (r) => (r.options.messageType === DHCP_ACK ? { ...r, yiaddr: moved } : r);
  lan.until("renewing");
  lan.until("bound");
  t.deepEqual(lan.events, ["bound 10.0.0.100", "changed 10.0.0.100 -> 10.0.0.120"]);
  t.is(lan.device.netif.ip, moved);
  t.is(lan.client.lease!.ip, moved);
});

test("without a mask from the server the address's class mask is used", (t) => {
  const lan = dhcpLan();
  const noMask = (r: DhcpMessage) => ({ ...r, options: { ...r.options, subnetMask: undefined } });
  lan.server.alter = (r) => ([DHCP_OFFER, DHCP_ACK].includes(r.options.messageType!) ? noMask(r) : r);
  lan.client.start();
  lan.until("bound");
  t.is(lan.device.netif.mask, ip("255.0.0.0"));
});

test("the offer's mask is used when the ACK has none", (t) => {
  const lan = dhcpLan();
  lan.server.alter = (r) => (r.options.messageType === DHCP_ACK ? { ...r, options: { ...r.options, subnetMask: undefined } } : r);
  lan.client.start();
  lan.until("bound");
  t.is(lan.device.netif.mask, MASK);
});

test("an infinite lease is never renewed", (t) => {
  const lan = dhcpLan({ server: { leaseTime: 0xffffffff } });
  lan.client.start();
  lan.until("bound");
  const requests = lan.sent.length;
  lan.b.clock.runUntil(lan.b.clock.now() + 30 * 86_400_000);
  t.is(lan.client.state, "bound");
  t.is(lan.sent.length, requests);
  t.is(lan.client.lease!.renewalTime, 0xffffffff);
});
