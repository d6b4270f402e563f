import test from "ava";
import { dhcpLan, kinds, observe, DNS, MASK, POOL, SERVER, type Seen } from "../support/dhcp-client-lan.ts";
import { ip } from "../support/bench.ts";
import { DhcpServer } from "../../host-sim/peers/dhcp-server.ts";
import { DhcpClient } from "../../modules/services/dhcp-client.ts";
import { IP_BROADCAST } from "../../modules/wire/address.ts";
import { decodeEthernet, ETHERTYPE_ARP } from "../../modules/wire/ethernet.ts";
import { decodeArp, ARP_REQUEST } from "../../modules/wire/arp.ts";
import { DHCP_ACK, DHCP_NAK } from "../../modules/wire/dhcp.ts";

const FAST_RENEW = { renewRetryMinMs: 1000 };

/** The ARP requests among raw frames: [senderIp, targetIp]. */
function arpRequests(frames: Uint8Array[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const f of frames) {
    const e = decodeEthernet(f);
    if (!e.ok || e.value.ethertype !== ETHERTYPE_ARP) continue;
    const a = decodeArp(e.value.payload);
    if (a.ok && a.value.op === ARP_REQUEST) out.push([a.value.senderIp, a.value.targetIp]);
  }
  return out;
}

function states(lan: { states: { state: string }[] }): string[] {
  return lan.states.map((s) => s.state);
}

test("INIT to BOUND: DISCOVER, OFFER, REQUEST with the same xid, ACK, an ARP probe, then the netif is configured and announced", (t) => {
  const lan = dhcpLan();
  const raw = lan.b.tap();
  t.true(lan.client.start());
  t.true(lan.until("bound"));
  lan.b.clock.advance(1);
  t.deepEqual(states(lan), ["selecting", "requesting", "probing", "bound"]);
  t.deepEqual(kinds(lan.seen), ["discover", "request"]);
  const [discover, request] = lan.seen as [Seen, Seen];
  t.is(discover.to, IP_BROADCAST);
  t.is(discover.m.ciaddr, 0);
  t.is(request.to, IP_BROADCAST);
  t.is(request.m.xid, discover.m.xid);
  t.is(request.m.options.requestedIp, POOL);
  t.is(request.m.options.serverId, SERVER);

  const netif = lan.device.netif;
  t.deepEqual([netif.ip, netif.mask, netif.gateway], [POOL, MASK, SERVER]);
  t.deepEqual(lan.events, ["bound 10.0.0.100"]);
  const lease = lan.client.lease!;
  t.deepEqual(lease.dnsServers, [DNS]);
  t.is(lease.serverId, SERVER);
  t.true(lan.server.binding(POOL)?.acked);

  // Three probes from 0.0.0.0, then one announcement of the bound address, and nothing from
  // the address before the probe was over.
  const arp = arpRequests(raw.frames);
  t.deepEqual(arp, [
    [0, POOL],
    [0, POOL],
    [0, POOL],
    [POOL, POOL],
  ]);
  const probing = lan.states[2]!.at;
  t.true(lan.states[3]!.at - probing >= 4000, "three probes a second apart, then two seconds of waiting");
});

test("DISCOVER retransmissions wait 4, 8, 16, 32, 64, 64 s, each moved by at most 1 s, and keep one xid", (t) => {
  const offsets = new Set<number>();
  for (let seed = 1; seed <= 10; seed++) {
    const lan = dhcpLan({ seed });
    lan.server.alter = () => undefined; // a server that never answers
    lan.client.start();
    lan.b.clock.runUntil(200_000);
    const sent = lan.sent.slice(0, 7);
    const times = sent.map((s) => s.at);
    t.deepEqual(kinds(sent), Array(7).fill("discover"), `seed ${seed}`);
    t.true(lan.sent.every((s) => s.m.xid === sent[0]!.m.xid));
    const nominal = [4000, 8000, 16000, 32000, 64000, 64000];
    nominal.forEach((n, i) => {
      const gap = times[i + 1]! - times[i]!;
      t.true(Math.abs(gap - n) <= 1000, `seed ${seed}: gap ${i} is ${gap} ms`);
      offsets.add(Math.round(gap - n));
    });
    // secs counts from the exchange's start
    t.is(sent[6]!.m.secs, Math.floor((times[6]! - times[0]!) / 1000));
  }
  t.true(offsets.size > 20, "the waits are randomised");
});

test("REQUESTING gives up after four unanswered REQUESTs and starts over with a new xid", (t) => {
  const lan = dhcpLan();
  lan.server.alter = (reply) => (reply.options.messageType === DHCP_ACK ? undefined : reply);
  lan.client.start();
  lan.b.clock.runUntil(() => lan.seen.filter((s) => s.m.options.messageType === 1).length === 2, 10_000);
  t.deepEqual(kinds(lan.seen), ["discover", "request", "request", "request", "request", "discover"]);
  const first = lan.seen[0]!.m.xid;
  t.true(lan.seen.slice(0, 5).every((s) => s.m.xid === first));
  t.not(lan.seen[5]!.m.xid, first);
  lan.server.alter = undefined;
  t.true(lan.until("bound"));
  t.deepEqual(lan.events, ["bound 10.0.0.100"]);
});

test("RENEWING at T1: REQUEST unicast to the server with ciaddr, then BOUND again with T1 counted from the renewal", (t) => {
  const lan = dhcpLan({ server: { leaseTime: 60 } });
  lan.client.start();
  lan.until("bound");
  const acquired = lan.client.lease!.acquiredAt;
  t.true(lan.until("renewing"));
  t.is(lan.b.clock.now(), acquired + 30_000);
  t.true(lan.until("bound"));
  const renew = lan.seen[2]!;
  t.is(kinds([renew])[0], "request");
  t.is(renew.to, SERVER);
  t.is(renew.m.ciaddr, POOL);
  t.is(renew.m.options.requestedIp, undefined);
  t.is(renew.m.options.serverId, undefined);
  t.deepEqual(lan.events, ["bound 10.0.0.100", "renewed 10.0.0.100"]);
  t.is(lan.client.lease!.acquiredAt, acquired + 30_000);
  t.true(lan.until("renewing"));
  t.is(lan.b.clock.now(), acquired + 60_000);
  t.deepEqual(lan.device.netif.stats.drops, new Map());
});

test("REBINDING at T2 when the server does not answer unicast: the broadcast REQUEST is answered", (t) => {
  const lan = dhcpLan({ client: FAST_RENEW });
  lan.client.start();
  lan.until("bound");
  const acquired = lan.client.lease!.acquiredAt;
  lan.server.alter = (reply, request) => (request.ciaddr !== 0 && lan.client.state === "renewing" ? undefined : reply);
  t.true(lan.until("rebinding"));
  t.is(lan.b.clock.now(), acquired + 52_500);
  t.true(lan.until("bound"));
  const renewals = lan.sent.slice(2);
  // At T1 (once ARP has found the server), then half the time left to T2 each time (RFC
  // 2131 4.4.5), here down to a 1 s floor.
  t.true(renewals[0]!.at - acquired - 30_000 < 1);
  t.deepEqual(
    renewals.slice(1).map((s) => s.at - acquired),
    [41_250, 46_875, 49_687.5, 51_093.75, 52_093.75, 52_500],
  );
  t.true(renewals.slice(0, 6).every((s) => s.to === SERVER && s.m.xid === renewals[0]!.m.xid));
  const rebind = renewals[6]!;
  t.is(rebind.to, IP_BROADCAST);
  t.is(rebind.m.ciaddr, POOL);
  t.not(rebind.m.xid, renewals[0]!.m.xid);
  t.deepEqual(lan.events, ["bound 10.0.0.100", "renewed 10.0.0.100"]);
  t.deepEqual(states(lan).slice(-3), ["renewing", "rebinding", "bound"]);
});

test("expiry: nobody answers after T1, so at the lease's end the address is removed and the client starts over", (t) => {
  const lan = dhcpLan({ client: FAST_RENEW });
  lan.client.start();
  lan.until("bound");
  const acquired = lan.client.lease!.acquiredAt;
  lan.server.alter = () => undefined;
  t.true(lan.until("rebinding"));
  t.is(lan.device.netif.ip, POOL, "still usable while rebinding");
  t.true(lan.until("selecting"));
  t.is(lan.b.clock.now(), acquired + 60_000);
  t.is(lan.device.netif.ip, 0);
  t.is(lan.client.lease, undefined);
  t.deepEqual(lan.events, ["bound 10.0.0.100", "lost expired"]);
  const last = lan.sent.at(-1)!;
  t.deepEqual([kinds([last])[0], last.at, last.to, last.m.ciaddr], ["discover", acquired + 60_000, IP_BROADCAST, 0]);
  t.not(last.m.xid, lan.sent.at(-2)!.m.xid);
  lan.server.alter = undefined;
  t.true(lan.until("bound"));
});

test("NAK while renewing (the server was replaced and knows nothing of the lease): lost, then a new lease", (t) => {
  const lan = dhcpLan();
  lan.client.start();
  lan.until("bound");
  lan.server.close();
  const other = new DhcpServer(lan.serverHost, { poolStart: ip("10.0.0.150"), poolSize: 2, mask: MASK, leaseTime: 60 });
  const nak: number[] = [];
  other.alter = (reply) => {
    if (reply.options.messageType === DHCP_NAK) nak.push(lan.b.clock.now());
    return reply;
  };
  t.true(lan.until("renewing"));
  t.true(lan.until("bound"));
  t.is(nak.length, 1);
  t.deepEqual(lan.events, ["bound 10.0.0.100", "lost nak", "bound 10.0.0.150"]);
  t.deepEqual(states(lan), ["selecting", "requesting", "probing", "bound", "renewing", "selecting", "requesting", "probing", "bound"]);
  t.is(lan.device.netif.ip, ip("10.0.0.150"));
  t.is(lan.device.netif.gateway, 0, "the new server names no router");
});

test("NAK in REQUESTING sends the client back to SELECTING", (t) => {
  const lan = dhcpLan();
  let naks = 1;
  lan.server.alter = (reply) => {
    if (reply.options.messageType !== DHCP_ACK || naks-- <= 0) return reply;
    return { ...reply, yiaddr: 0, options: { messageType: DHCP_NAK, serverId: SERVER } };
  };
  lan.client.start();
  t.true(lan.until("bound"));
  t.deepEqual(states(lan), ["selecting", "requesting", "selecting", "requesting", "probing", "bound"]);
  t.deepEqual(kinds(lan.seen), ["discover", "request", "discover", "request"]);
  t.not(lan.seen[2]!.m.xid, lan.seen[0]!.m.xid);
  t.deepEqual(lan.events, ["bound 10.0.0.100"]);
});

test("DECLINE: another host already holds the offered address; the client waits 10 s and takes another", (t) => {
  const lan = dhcpLan({ before: (b) => b.host(100) }); // 10.0.0.100, the first address of the pool
  const history: number[] = [];
  lan.device.netif.onAddressChange(() => history.push(lan.device.netif.ip));
  lan.client.start();
  t.true(lan.until("bound"));
  t.deepEqual(kinds(lan.seen), ["discover", "request", "decline", "discover", "request"]);
  const decline = lan.seen[2]!;
  t.is(decline.m.options.requestedIp, POOL);
  t.is(decline.m.options.serverId, SERVER);
  t.is(decline.m.ciaddr, 0);
  t.is(decline.to, IP_BROADCAST);
  t.true(lan.seen[3]!.at - decline.at >= 10_000);
  t.deepEqual(states(lan), ["selecting", "requesting", "probing", "init", "selecting", "requesting", "probing", "bound"]);
  t.is(lan.device.netif.ip, POOL + 1);
  t.deepEqual(history, [POOL + 1], "the taken address was never configured");
  t.deepEqual(lan.events, ["bound 10.0.0.101"]);
  t.is(lan.device.netif.stats.counters.get("dhcp.tx.decline"), 1);
});

test("release: DHCPRELEASE unicast to the server, the address is removed and free for another client", (t) => {
  const lan = dhcpLan({ server: { poolSize: 1 } });
  lan.client.start();
  lan.until("bound");
  lan.client.release();
  lan.b.clock.advance(1000);
  t.is(lan.client.state, "stopped");
  t.is(lan.device.netif.ip, 0);
  t.deepEqual(lan.events, ["bound 10.0.0.100", "lost released"]);
  const release = lan.seen.at(-1)!;
  t.deepEqual([kinds([release])[0], release.to, release.m.ciaddr, release.m.options.serverId], ["release", SERVER, POOL, SERVER]);
  t.is(lan.server.binding(POOL), undefined);

  const otherHost = lan.b.host(3, { ip: 0, mask: 0, gateway: 0 });
  const other = observe(lan.b, lan.serverHost, lan.server, otherHost, new DhcpClient(otherHost), lan.seen);
  other.client.start();
  t.true(other.until("bound"));
  t.is(otherHost.netif.ip, POOL);
  t.is(lan.b.clock.pending() > 0, true);
  lan.b.clock.runUntil(lan.b.clock.now() + 120_000);
  t.is(lan.client.state, "stopped", "a released client stays quiet");
  t.deepEqual(kinds(lan.seen.filter((s) => s.m.chaddr[5] === 2)), ["discover", "request", "release"]);
});

test("INIT-REBOOT: a client started with a remembered lease asks for that address again, without a server id", (t) => {
  const lan = dhcpLan();
  lan.client.start();
  lan.until("bound");
  const remembered = lan.client.lease!;
  lan.client.stop();
  t.is(lan.device.netif.ip, 0, "stop removes the address");

  const rebooted = observe(lan.b, lan.serverHost, lan.server, lan.device, new DhcpClient(lan.device, { lease: { ip: remembered.ip } }), lan.seen);
  const before = lan.seen.length;
  t.true(rebooted.client.start());
  t.true(rebooted.until("bound"));
  t.deepEqual(states(rebooted), ["rebooting", "probing", "bound"]);
  const request = lan.seen[before]!;
  t.deepEqual(kinds(lan.seen.slice(before)), ["request"]);
  t.is(request.to, IP_BROADCAST);
  t.is(request.m.ciaddr, 0);
  t.is(request.m.options.requestedIp, POOL);
  t.is(request.m.options.serverId, undefined);
  t.deepEqual(rebooted.events, ["bound 10.0.0.100"]);
  t.is(lan.device.netif.ip, POOL);

  // stop() and start() on one client reboot the same way.
  rebooted.client.stop();
  rebooted.client.start();
  t.is(rebooted.client.state, "rebooting");
  t.true(rebooted.until("bound"));
  t.is(lan.device.netif.ip, POOL);
});

test("INIT-REBOOT on a network that changed: the server NAKs, the client discovers and gets a new lease", (t) => {
  const lan = dhcpLan();
  lan.server.close();
  new DhcpServer(lan.serverHost, { poolStart: ip("10.0.0.150"), poolSize: 2, mask: MASK, leaseTime: 60 });
  const client = new DhcpClient(lan.device, { lease: { ip: POOL } });
  const rebooted = observe(lan.b, lan.serverHost, lan.server, lan.device, client, lan.seen);
  client.start();
  t.true(rebooted.until("bound"));
  t.deepEqual(states(rebooted), ["rebooting", "selecting", "requesting", "probing", "bound"]);
  t.deepEqual(rebooted.events, ["bound 10.0.0.150"], "no lease was held, so none is lost");
  t.is(lan.device.netif.stats.counters.get("dhcp.rx.nak"), 1);
});

test("INIT-REBOOT without an answer falls back to DISCOVER", (t) => {
  const lan = dhcpLan();
  lan.server.alter = (reply, request) => (request.options.requestedIp === ip("10.0.0.99") ? undefined : reply);
  const client = new DhcpClient(lan.device, { lease: { ip: ip("10.0.0.99") } });
  const rebooted = observe(lan.b, lan.serverHost, lan.server, lan.device, client, lan.seen);
  client.start();
  t.true(rebooted.until("bound"));
  t.deepEqual(kinds(lan.seen), ["request", "request", "request", "request", "discover", "request"]);
  t.is(lan.device.netif.ip, POOL);
});

test("renew() renews at once while bound, and is refused in any other state", (t) => {
  const lan = dhcpLan();
  t.false(lan.client.renew());
  lan.client.start();
  t.false(lan.client.renew());
  lan.until("bound");
  const at = lan.b.clock.now();
  t.true(lan.client.renew());
  t.is(lan.client.state, "renewing");
  t.true(lan.until("bound"));
  t.deepEqual(lan.events, ["bound 10.0.0.100", "renewed 10.0.0.100"]);
  t.is(lan.seen.at(-1)!.to, SERVER);
  t.true(lan.b.clock.now() - at < 100);
});

test("start() is refused while another pcb holds port 68", (t) => {
  const lan = dhcpLan();
  const squatter = lan.device.udp.pcb();
  t.true(squatter.bind(68).ok);
  t.false(lan.client.start());
  t.is(lan.client.state, "stopped");
  squatter.close();
  t.true(lan.client.start());
  t.is(lan.client.state, "selecting");
});

test("the host-sim server: a pool of two serves two clients, the third gets an address once one is released", (t) => {
  const lan = dhcpLan({ server: { poolSize: 2 } });
  const more = [3, 4].map((n) => {
    const host = lan.b.host(n, { ip: 0, mask: 0, gateway: 0 });
    return observe(lan.b, lan.serverHost, lan.server, host, new DhcpClient(host), lan.seen);
  });
  for (const c of [lan, ...more]) c.client.start();
  lan.b.clock.runUntil(lan.b.clock.now() + 20_000);
  const addresses = [lan, ...more].map((c) => c.device.netif.ip);
  t.deepEqual(addresses.filter((a) => a !== 0).sort(), [POOL, POOL + 1]);
  const waiting = [lan, ...more].find((c) => c.device.netif.ip === 0)!;
  t.is(waiting.client.state, "selecting");
  const holder = [lan, ...more].find((c) => c.device.netif.ip === POOL)!;
  holder.client.release();
  t.true(waiting.until("bound"));
  t.is(waiting.device.netif.ip, POOL);
  // Garbage sent to the server is counted, not answered.
  const pcb = waiting.device.udp.pcb();
  pcb.bind(6800);
  pcb.sendTo(new Uint8Array(10), SERVER, 67);
  lan.b.clock.advance(1);
  t.is(lan.serverHost.netif.stats.drops.get("dhcp-short"), 1);
});
