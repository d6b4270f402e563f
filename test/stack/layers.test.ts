import test from "ava";
import { bench, ip, mac } from "../support/bench.ts";
import { arpIntroduce, echoRequest, ipFrame } from "../support/frames.ts";
import { decodeEthernet, encodeEthernet, ETHERTYPE_ARP } from "../../modules/wire/ethernet.ts";
import { decodeArp, encodeArp, ARP_REQUEST, ARP_REPLY } from "../../modules/wire/arp.ts";
import { decodeIpv4, IP_PROTO_ICMP, IP_PROTO_UDP } from "../../modules/wire/ipv4.ts";
import { decodeIcmp } from "../../modules/wire/icmp.ts";
import { decodeUdp, encodeUdp, udpLength } from "../../modules/wire/udp.ts";
import { BROADCAST_MAC, ZERO_MAC, macEqual } from "../../modules/wire/address.ts";

test("ARP: a request for our address gets a reply, and the asker is learned", (t) => {
  const b = bench();
  const s = b.host(2);
  const tap = b.tap();
  arpIntroduce(tap.link);
  b.clock.runUntilIdle();
  t.is(tap.frames.length, 1);
  const eth = decodeEthernet(tap.frames[0]!);
  t.true(eth.ok && eth.value.ethertype === ETHERTYPE_ARP && macEqual(eth.value.dst, mac(9)));
  const arp = eth.ok ? decodeArp(eth.value.payload) : undefined;
  t.true(arp?.ok && arp.value.op === ARP_REPLY && arp.value.senderIp === ip("10.0.0.2") && macEqual(arp.value.senderMac, mac(2)));
  t.deepEqual(s.arp.lookup(ip("10.0.0.9")), mac(9));
});

test("ARP: requests for other addresses are ignored and counted", (t) => {
  const b = bench();
  const s = b.host(2);
  const tap = b.tap();
  const arp = new Uint8Array(28);
  encodeArp({ op: ARP_REQUEST, senderMac: mac(9), senderIp: ip("10.0.0.9"), targetMac: ZERO_MAC, targetIp: ip("10.0.0.77") }, arp);
  const frame = new Uint8Array(60);
  encodeEthernet({ dst: BROADCAST_MAC, src: mac(9), ethertype: ETHERTYPE_ARP, payload: arp }, frame);
  tap.link.transmit(frame);
  b.clock.runUntilIdle();
  t.is(tap.frames.length, 0);
  t.is(s.netif.stats.drops.get("arp-not-for-us"), 1);
  t.is(s.arp.lookup(ip("10.0.0.9")), undefined);
});

test("ARP: the first datagram to a new neighbour waits for resolution instead of being lost", (t) => {
  const b = bench();
  const a = b.host(2);
  const c = b.host(3);
  const got: string[] = [];
  const server = c.udp.pcb();
  server.bind(7);
  server.recv((data, from, port) => got.push(`${new TextDecoder().decode(data)} from ${from} ${port}`));
  const client = a.udp.pcb();
  client.bind(5000);
  t.true(client.sendTo(new TextEncoder().encode("first"), ip("10.0.0.3"), 7));
  t.true(client.sendTo(new TextEncoder().encode("second"), ip("10.0.0.3"), 7));
  b.clock.runUntilIdle();
  t.deepEqual(got, [`first from ${ip("10.0.0.2")} 5000`, `second from ${ip("10.0.0.2")} 5000`]);
  t.is(a.netif.stats.counters.get("arp.tx"), 1);
});

test("ARP: an unanswered neighbour is asked a bounded number of times, then its frames are dropped", (t) => {
  const b = bench();
  const a = b.host(2);
  const tap = b.tap();
  const pcb = a.udp.pcb();
  for (let i = 0; i < 5; i++) pcb.sendTo(new Uint8Array([i]), ip("10.0.0.50"), 9);
  b.clock.runUntilIdle();
  const requests = tap.frames.filter((f) => f[12] === 0x08 && f[13] === 0x06);
  t.is(requests.length, 3);
  t.is(a.netif.stats.drops.get("arp-pending-overflow"), 3); // 5 sent, 2 queued
  t.is(a.netif.stats.drops.get("arp-timeout"), 2);
});

test("ARP: the cache has a bound and entries age out", (t) => {
  const b = bench();
  const s = b.host(2, { arp: { cacheSize: 2, maxAgeMs: 1000 } });
  const tap = b.tap();
  for (const n of [11, 12, 13]) {
    const arp = new Uint8Array(28);
    encodeArp({ op: ARP_REQUEST, senderMac: mac(n), senderIp: ip(`10.0.0.${n}`), targetMac: ZERO_MAC, targetIp: ip("10.0.0.2") }, arp);
    const frame = new Uint8Array(60);
    encodeEthernet({ dst: BROADCAST_MAC, src: mac(n), ethertype: ETHERTYPE_ARP, payload: arp }, frame);
    tap.link.transmit(frame);
  }
  b.clock.runUntilIdle();
  t.is(s.arp.lookup(ip("10.0.0.11")), undefined);
  t.deepEqual(s.arp.lookup(ip("10.0.0.13")), mac(13));
  b.clock.advance(1500);
  t.is(s.arp.lookup(ip("10.0.0.13")), undefined);
});

test("ARP: setting an address sends a gratuitous ARP; a probe finds a conflict", (t) => {
  const b = bench();
  const a = b.host(2, { ip: 0, mask: 0, gateway: 0 });
  b.host(3);
  const tap = b.tap();
  const results: Array<Uint8Array | undefined> = [];
  a.arp.probe(ip("10.0.0.3"), (conflict) => results.push(conflict));
  b.clock.runUntilIdle();
  a.arp.probe(ip("10.0.0.4"), (conflict) => results.push(conflict));
  b.clock.runUntilIdle();
  t.deepEqual(results, [mac(3), undefined]);
  tap.frames.length = 0;
  a.netif.setAddress({ ip: ip("10.0.0.4"), mask: ip("255.255.255.0"), gateway: 0 });
  b.clock.runUntilIdle();
  const g = decodeEthernet(tap.frames[0]!);
  const arp = g.ok ? decodeArp(g.value.payload) : undefined;
  t.true(arp?.ok && arp.value.senderIp === ip("10.0.0.4") && arp.value.targetIp === ip("10.0.0.4"));
});

test("ICMP: echo of every size up to the MTU is answered with the same data", (t) => {
  const b = bench();
  const s = b.host(2);
  const tap = b.tap();
  arpIntroduce(tap.link);
  b.clock.runUntilIdle();
  for (const size of [0, 56, 1472]) {
    tap.frames.length = 0;
    tap.link.transmit(echoRequest(ip("10.0.0.9"), ip("10.0.0.2"), size, size));
    b.clock.runUntilIdle();
    t.is(tap.frames.length, 1, `size ${size}`);
    const eth = decodeEthernet(tap.frames[0]!);
    const p = eth.ok ? decodeIpv4(eth.value.payload) : undefined;
    const m = p?.ok ? decodeIcmp(p.value.payload) : undefined;
    t.true(m?.ok && m.value.kind === "echo-reply" && m.value.seq === size && m.value.data.length === size);
  }
  t.is(s.netif.stats.counters.get("icmp.echo"), 3);
});

test("ICMP: a ping of 1473 bytes (fragmented by the sender) is reassembled and answered if it fits", (t) => {
  const b = bench();
  const s = b.host(2);
  const tap = b.tap();
  arpIntroduce(tap.link);
  b.clock.runUntilIdle();
  const whole = echoRequest(ip("10.0.0.9"), ip("10.0.0.2"), 1000);
  const icmp = whole.subarray(34);
  tap.link.transmit(ipFrame(ip("10.0.0.9"), ip("10.0.0.2"), IP_PROTO_ICMP, icmp.subarray(504), { offset: 504, id: 99 }));
  tap.link.transmit(ipFrame(ip("10.0.0.9"), ip("10.0.0.2"), IP_PROTO_ICMP, icmp.subarray(0, 504), { mf: true, id: 99 }));
  b.clock.runUntilIdle();
  t.is(s.netif.stats.counters.get("icmp.echo"), 1);
  t.is(s.netif.stats.counters.get("ip.fragments"), 2);
});

test("IPv4: bad checksum, truncation and foreign destinations are dropped with reasons; padding is trimmed", (t) => {
  const b = bench();
  const s = b.host(2);
  const tap = b.tap();
  arpIntroduce(tap.link);
  b.clock.runUntilIdle();
  const bad = echoRequest(ip("10.0.0.9"), ip("10.0.0.2"), 8);
  bad[24]! ^= 0xff; // IP header checksum
  tap.link.transmit(bad);
  tap.link.transmit(echoRequest(ip("10.0.0.9"), ip("10.0.0.2"), 100).subarray(0, 80));
  tap.link.transmit(echoRequest(ip("10.0.0.9"), ip("10.0.0.77"), 8));
  const padded = new Uint8Array(80);
  padded.set(echoRequest(ip("10.0.0.9"), ip("10.0.0.2"), 4));
  tap.link.transmit(padded);
  b.clock.runUntilIdle();
  t.is(s.netif.stats.drops.get("ip-bad-checksum"), 1);
  t.is(s.netif.stats.drops.get("ip-truncated"), 1);
  t.is(s.netif.stats.drops.get("ip-not-for-us"), 1);
  t.is(s.netif.stats.counters.get("icmp.echo"), 1);
});

test("UDP: no listener gives port unreachable quoting the datagram; never for broadcasts; rate-limited", (t) => {
  const b = bench();
  const s = b.host(2, { icmp: { errorBurst: 2, errorsPerSecond: 1 } });
  const tap = b.tap();
  arpIntroduce(tap.link);
  b.clock.runUntilIdle();
  tap.frames.length = 0;
  const udp = new Uint8Array(udpLength({ payload: new Uint8Array(4) }));
  encodeUdp({ srcPort: 1000, dstPort: 9999, payload: new Uint8Array(4) }, ip("10.0.0.9"), ip("10.0.0.2"), udp);
  for (let i = 0; i < 4; i++) tap.link.transmit(ipFrame(ip("10.0.0.9"), ip("10.0.0.2"), IP_PROTO_UDP, udp));
  const bcast = new Uint8Array(udp.length);
  encodeUdp({ srcPort: 1000, dstPort: 9999, payload: new Uint8Array(4) }, ip("10.0.0.9"), ip("255.255.255.255"), bcast);
  tap.link.transmit(ipFrame(ip("10.0.0.9"), ip("255.255.255.255"), IP_PROTO_UDP, bcast, { dstMac: BROADCAST_MAC }));
  b.clock.runUntilIdle();
  t.is(tap.frames.length, 2);
  const eth = decodeEthernet(tap.frames[0]!);
  const p = eth.ok ? decodeIpv4(eth.value.payload) : undefined;
  const m = p?.ok ? decodeIcmp(p.value.payload) : undefined;
  t.true(m?.ok && m.value.kind === "unreachable" && m.value.code === 3);
  if (m?.ok && m.value.kind === "unreachable") t.deepEqual(m.value.quoted.subarray(20, 28), udp.subarray(0, 8));
  t.is(s.netif.stats.drops.get("icmp-rate-limited"), 2);
  t.is(s.netif.stats.drops.get("udp-no-listener"), 5);
});

test("UDP: a bad checksum is dropped; broadcast send reaches every host", (t) => {
  const b = bench();
  const a = b.host(2);
  const c = b.host(3);
  const d = b.host(4);
  const got: number[] = [];
  for (const [n, s] of [
    [3, c],
    [4, d],
  ] as const) {
    const pcb = s.udp.pcb();
    pcb.bind(67);
    pcb.recv(() => got.push(n));
  }
  a.udp.pcb().sendTo(new Uint8Array([1, 2, 3]), ip("255.255.255.255"), 67);
  b.clock.runUntilIdle();
  t.deepEqual(got.sort(), [3, 4]);
  const tap = b.tap();
  arpIntroduce(tap.link);
  const udp = new Uint8Array(udpLength({ payload: new Uint8Array(4) }));
  encodeUdp({ srcPort: 1000, dstPort: 67, payload: new Uint8Array(4) }, ip("10.0.0.9"), ip("10.0.0.3"), udp);
  udp[6]! ^= 1;
  tap.link.transmit(ipFrame(ip("10.0.0.9"), ip("10.0.0.3"), IP_PROTO_UDP, udp, { dstMac: mac(3) }));
  b.clock.runUntilIdle();
  t.is(c.netif.stats.drops.get("udp-bad-checksum"), 1);
  t.true(decodeUdp(udp, ip("10.0.0.9"), ip("10.0.0.3")).ok === false);
});

test("an unknown protocol gets ICMP protocol unreachable; off-subnet traffic goes to the gateway", (t) => {
  const b = bench();
  const s = b.host(2);
  const gw = b.host(1);
  const tap = b.tap();
  arpIntroduce(tap.link);
  b.clock.runUntilIdle();
  tap.link.transmit(ipFrame(ip("10.0.0.9"), ip("10.0.0.2"), 99, new Uint8Array(8)));
  b.clock.runUntilIdle();
  const eth = decodeEthernet(tap.frames.at(-1)!);
  const p = eth.ok ? decodeIpv4(eth.value.payload) : undefined;
  const m = p?.ok ? decodeIcmp(p.value.payload) : undefined;
  t.true(m?.ok && m.value.kind === "unreachable" && m.value.code === 2);
  s.udp.pcb().sendTo(new Uint8Array([1]), ip("192.0.2.1"), 53);
  b.clock.runUntilIdle();
  t.is(gw.netif.stats.drops.get("ip-not-for-us"), 1); // the gateway got it (and, being no router, dropped it)
});
