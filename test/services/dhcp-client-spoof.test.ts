// Replies the client must not believe: a wrong xid or chaddr, another server's ACK or NAK,
// offers and ACKs that break the rules, and bytes that are not DHCP at all. Each is dropped
// and counted under its reason, and the client still gets its lease from the real server.

import test from "ava";
import fc from "fast-check";
import { dhcpLan, MASK, POOL, SERVER } from "../support/dhcp-client-lan.ts";
import { ip, type Bench } from "../support/bench.ts";
import { applyDamage, damage, holds } from "../support/helpers.ts";
import type { UdpPcb } from "../../modules/stack/udp.ts";
import { type Ip4, IP_BROADCAST } from "../../modules/wire/address.ts";
import {
  type DhcpMessage,
  type DhcpOptions,
  BOOTP_REPLY,
  DHCP_ACK,
  DHCP_DISCOVER,
  DHCP_NAK,
  DHCP_OFFER,
  DHCP_REQUEST,
  decodeDhcp,
  dhcpLength,
  encodeDhcp,
} from "../../modules/wire/dhcp.ts";

const ROGUE = ip("10.0.0.66");

function encode(m: DhcpMessage): Uint8Array {
  const b = new Uint8Array(dhcpLength(m));
  encodeDhcp(m, b);
  return b;
}

function reply(request: DhcpMessage, type: number, yiaddr: Ip4, options: DhcpOptions = {}): DhcpMessage {
  return { ...request, op: BOOTP_REPLY, yiaddr, options: { messageType: type, serverId: ROGUE, leaseTime: 3600, subnetMask: MASK, ...options } };
}

/** A host at 10.0.0.66 on port 67 that answers the client's requests with whatever `answer` gives, broadcast. */
function rogue(b: Bench, answer: (request: DhcpMessage) => DhcpMessage[]): UdpPcb {
  const pcb = b.host(66).udp.pcb();
  pcb.bind(67);
  pcb.recv((data) => {
    const r = decodeDhcp(data);
    if (r.ok) for (const m of answer(r.value)) pcb.sendTo(encode(m), IP_BROADCAST, 68);
  });
  return pcb;
}

test("replies with another xid are ignored and counted", (t) => {
  const lan = dhcpLan({
    before: (b) => rogue(b, (q) => [reply({ ...q, xid: (q.xid + 1) >>> 0 }, q.options.messageType === DHCP_DISCOVER ? DHCP_OFFER : DHCP_ACK, ROGUE)]),
  });
  lan.client.start();
  t.true(lan.until("bound"));
  t.is(lan.device.netif.ip, POOL);
  t.is(lan.device.netif.stats.drops.get("dhcp-bad-xid"), 2, "the offer and the ACK");
  t.deepEqual(lan.events, ["bound 10.0.0.100"]);
});

test("replies for another chaddr are ignored and counted", (t) => {
  const other = Uint8Array.of(2, 0, 0, 0, 0, 0x99);
  const lan = dhcpLan({
    before: (b) => rogue(b, (q) => [reply({ ...q, chaddr: other }, q.options.messageType === DHCP_DISCOVER ? DHCP_OFFER : DHCP_ACK, ROGUE)]),
  });
  lan.client.start();
  t.true(lan.until("bound"));
  t.is(lan.device.netif.ip, POOL);
  t.is(lan.device.netif.stats.drops.get("dhcp-bad-chaddr"), 2);
});

test("a second server's ACK or NAK for a REQUEST that names the first server is ignored", (t) => {
  // The rogue stays quiet on DISCOVER, so the client takes the real offer; then it answers
  // the REQUEST (which names 10.0.0.1) first, with a NAK and an ACK of its own.
  const lan = dhcpLan({
    before: (b) => rogue(b, (q) => (q.options.messageType === DHCP_REQUEST ? [reply(q, DHCP_NAK, 0), reply(q, DHCP_ACK, ROGUE)] : [])),
  });
  lan.client.start();
  t.true(lan.until("bound"));
  t.is(lan.device.netif.stats.drops.get("dhcp-bad-server"), 2);
  t.is(lan.device.netif.ip, POOL);
  t.is(lan.client.lease!.serverId, SERVER);
  t.deepEqual(lan.events, ["bound 10.0.0.100"]);
});

test("while renewing only the leasing server counts; while rebinding any server may answer", (t) => {
  const lan = dhcpLan({ client: { renewRetryMinMs: 1000 } });
  lan.client.start();
  lan.until("bound");
  lan.server.alter = (r) => (lan.client.state === "renewing" ? { ...r, options: { ...r.options, serverId: ROGUE } } : r);
  t.true(lan.until("rebinding"));
  t.is(lan.device.netif.stats.drops.get("dhcp-bad-server"), 6, "every renewal ACK, T1 to T2");
  t.true(lan.until("bound"));
  t.deepEqual(lan.events, ["bound 10.0.0.100", "renewed 10.0.0.100"]);
});

test("an ACK for another address than the offer is ignored; so is an ACK without a lease time", (t) => {
  const lan = dhcpLan();
  const faults: Array<(r: DhcpMessage) => DhcpMessage> = [
    (r) => ({ ...r, yiaddr: POOL + 3 }),
    (r) => ({ ...r, options: { ...r.options, leaseTime: undefined } }),
  ];
  lan.server.alter = (r) => (r.options.messageType === DHCP_ACK ? (faults.shift() ?? ((x) => x))(r) : r);
  lan.client.start();
  t.true(lan.until("bound"));
  const drops = lan.device.netif.stats.drops;
  t.is(drops.get("dhcp-bad-yiaddr"), 1);
  t.is(drops.get("dhcp-no-lease-time"), 1);
  t.is(lan.device.netif.ip, POOL);
  t.is(lan.device.netif.stats.counters.get("dhcp.tx.request"), 3, "the REQUEST was retransmitted after each");
});

test("offers without a server id, or of an address no host may hold, are ignored", (t) => {
  const bad: Array<(r: DhcpMessage) => DhcpMessage> = [
    (r) => ({ ...r, options: { ...r.options, serverId: undefined } }),
    ...[0, ip("127.0.0.1"), ip("224.0.0.1"), ip("240.0.0.1"), IP_BROADCAST, ip("0.1.2.3")].map((y) => (r: DhcpMessage) => ({ ...r, yiaddr: y })),
  ];
  const lan = dhcpLan();
  lan.server.alter = (r) => (r.options.messageType === DHCP_OFFER ? (bad.shift() ?? ((x) => x))(r) : r);
  lan.client.start();
  t.true(lan.until("bound"));
  const drops = lan.device.netif.stats.drops;
  t.is(drops.get("dhcp-no-server-id"), 1);
  t.is(drops.get("dhcp-bad-yiaddr"), 6);
  t.is(lan.device.netif.stats.counters.get("dhcp.tx.discover"), 8);
});

test("replies while bound, BOOTREQUESTs and bytes that are not DHCP are dropped with their reasons", (t) => {
  let pcb: UdpPcb | undefined;
  const requests: DhcpMessage[] = [];
  const lan = dhcpLan({
    before: (b) => {
      pcb = rogue(b, (q) => {
        requests.push(q);
        return [];
      });
    },
  });
  lan.client.start();
  lan.until("bound");
  const request = requests.at(-1)!;
  const send = (data: Uint8Array) => {
    pcb!.sendTo(data, IP_BROADCAST, 68);
    lan.b.clock.advance(1);
  };
  send(encode(reply(request, DHCP_ACK, POOL, { serverId: SERVER }))); // a late duplicate of the real ACK
  send(encode(request)); // op BOOTREQUEST
  send(new Uint8Array(100));
  send(new Uint8Array(300));
  const drops = lan.device.netif.stats.drops;
  t.deepEqual([drops.get("dhcp-unexpected"), drops.get("dhcp-not-reply"), drops.get("dhcp-short"), drops.get("dhcp-bad-cookie")], [1, 1, 1, 1]);
  t.is(lan.client.state, "bound");
  t.false(drops.has("internal-error"));
});

test("property: a damaged OFFER is dropped with a reason or, if still a valid offer for this exchange, accepted", (t) => {
  holds(
    t,
    fc.property(damage, (d) => {
      let pcb: UdpPcb | undefined;
      let offer: Uint8Array | undefined;
      const lan = dhcpLan({
        before: (b) => {
          pcb = rogue(b, (q) => {
            if (q.options.messageType === DHCP_DISCOVER && !offer) offer = encode(reply(q, DHCP_OFFER, ip("10.0.0.77")));
            return [];
          });
        },
      });
      lan.server.close();
      lan.client.start();
      lan.b.clock.advance(1);
      const stats = lan.device.netif.stats;
      const dropped = () => [...stats.drops.values()].reduce((a, n) => a + n, 0);
      const before = dropped();
      const bytes = applyDamage(offer!, d);
      pcb!.sendTo(bytes, IP_BROADCAST, 68);
      lan.b.clock.advance(1);
      if (stats.drops.get("internal-error")) return false;
      const decoded = decodeDhcp(bytes);
      const fits =
        decoded.ok && decoded.value.op === BOOTP_REPLY && decoded.value.xid === lan.sent[0]!.m.xid && decoded.value.options.messageType === DHCP_OFFER;
      return lan.client.state === "requesting" ? fits && dropped() === before : dropped() === before + 1;
    }),
    { numRuns: 300 },
  );
});
