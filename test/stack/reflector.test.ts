// Issue 10 item 5: a datagram from a source no single host holds is discarded before any
// protocol sees it (RFC 1122 3.2.1.3), so nothing is ever sent back to the LAN about it;
// ICMP errors are never sent about broadcasts or non-first fragments (RFC 1122 3.2.2).

import test from "ava";
import { unwrap } from "../../modules/wire/result.ts";
import { BROADCAST_MAC } from "../../modules/wire/address.ts";
import { ip } from "../support/bench.ts";
import { echoRequest, hostAndPeer, icmpOf, PEER_IP, synFrame, udpFrame } from "../support/frames.ts";

const US = ip("10.0.0.2");
const BAD_SOURCES = ["255.255.255.255", "10.0.0.255", "224.0.0.1", "239.1.2.3", "127.0.0.1"];

function setUp() {
  const { b, s, tap } = hostAndPeer();
  const got: number[] = [];
  const open = s.udp.pcb();
  open.bind(7);
  open.recv((data) => got.push(data.length));
  unwrap(s.tcp.listen(80, 4)).accept(() => {});
  return { b, s, tap, got };
}

for (const source of BAD_SOURCES) {
  test(`a datagram from ${source} gets no echo reply, port unreachable, SYN-ACK or RST, and is counted`, (t) => {
    const { b, s, tap, got } = setUp();
    const src = ip(source);
    tap.link.transmit(echoRequest(src, US, 56));
    tap.link.transmit(udpFrame(src, US, 1000, 9999, new Uint8Array(4))); // closed port
    tap.link.transmit(udpFrame(src, US, 1000, 7, new Uint8Array(4))); // open port
    tap.link.transmit(synFrame(src, US, 1000, 80)); // listener
    tap.link.transmit(synFrame(src, US, 1000, 81)); // closed port
    b.clock.runUntil(10_000);
    t.deepEqual(tap.frames, []);
    t.deepEqual(got, []);
    t.is(s.stats.drops.get("ip-bad-source"), 5);
    t.is(s.stats.counters.get("tcp.rx"), undefined); // TCP never saw them
  });
}

test("0.0.0.0 is a source only for UDP (DHCP); ICMP and TCP from it are dropped", (t) => {
  const { b, s, tap, got } = setUp();
  tap.link.transmit(udpFrame(0, ip("255.255.255.255"), 68, 7, new Uint8Array(3), { dstMac: BROADCAST_MAC }));
  tap.link.transmit(echoRequest(0, US, 8));
  tap.link.transmit(synFrame(0, US, 1000, 80));
  b.clock.runUntil(10_000);
  t.deepEqual(got, [3]);
  t.deepEqual(tap.frames, []);
  t.is(s.stats.drops.get("ip-bad-source"), 2);
});

test("a unicast source still gets its answers", (t) => {
  const { b, tap } = setUp();
  tap.link.transmit(echoRequest(PEER_IP, US, 56));
  tap.link.transmit(udpFrame(PEER_IP, US, 1000, 9999, new Uint8Array(4)));
  b.clock.runUntil(10_000);
  t.deepEqual(
    tap.frames.map((f) => icmpOf(f)?.kind),
    ["echo-reply", "unreachable"],
  );
});

test("no ICMP error about a broadcast, a link-layer broadcast or a lone non-first fragment", (t) => {
  const { b, s, tap } = setUp();
  tap.link.transmit(udpFrame(PEER_IP, ip("10.0.0.255"), 1000, 9999, new Uint8Array(4), { dstMac: BROADCAST_MAC }));
  tap.link.transmit(udpFrame(PEER_IP, US, 1000, 9999, new Uint8Array(4), { dstMac: BROADCAST_MAC }));
  tap.link.transmit(echoRequest(PEER_IP, US, 8, 1, { dstMac: BROADCAST_MAC }));
  tap.link.transmit(udpFrame(PEER_IP, US, 1000, 9999, new Uint8Array(16), { offset: 8, id: 5 }));
  b.clock.runUntil(60_000); // past the reassembly timeout
  t.deepEqual(tap.frames, []);
  t.is(s.stats.drops.get("udp-no-listener"), 2);
  t.is(s.stats.drops.get("icmp-broadcast-echo"), 1);
  t.is(s.stats.drops.get("ip-reassembly-timeout"), 1);
});
