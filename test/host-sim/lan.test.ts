import test from "ava";
import { VirtualClock } from "../../host-sim/clock.ts";
import { type LanOptions, type LanPort, VirtualLan } from "../../host-sim/lan.ts";
import { type Mac, BROADCAST_MAC, parseMac } from "../../modules/wire/address.ts";
import { ETHERTYPE_IPV4, encodeEthernet, ethernetLength, type EthernetFrame } from "../../modules/wire/ethernet.ts";

const mac = (n: number): Mac => parseMac(`02:00:00:00:00:${n.toString(16).padStart(2, "0")}`)!;

function frame(dst: Mac, src: Mac, tag = 0): Uint8Array {
  const f: EthernetFrame = { dst, src, ethertype: ETHERTYPE_IPV4, payload: Uint8Array.of(tag, 1, 2, 3) };
  const b = new Uint8Array(ethernetLength(f));
  encodeEthernet(f, b);
  return b;
}

interface Host {
  port: LanPort;
  mac: Mac;
  got: Uint8Array[];
}

function setup(count: number, options: LanOptions = {}) {
  const clock = new VirtualClock();
  const lan = new VirtualLan(clock, options);
  const hosts: Host[] = [];
  for (let i = 0; i < count; i++) {
    const host: Host = { port: lan.attach(`h${i}`), mac: mac(i + 1), got: [] };
    host.port.setReceiver((f) => host.got.push(f));
    hosts.push(host);
  }
  return { clock, lan, hosts };
}

test("host A reaches host B; the switch floods until it has learned, then forwards only to B", (t) => {
  const { clock, lan, hosts } = setup(3);
  const [a, b, c] = hosts as [Host, Host, Host];
  a.port.transmit(frame(b.mac, a.mac, 1));
  clock.runUntilIdle();
  t.is(b.got.length, 1);
  t.is(c.got.length, 1, "unknown unicast is flooded");
  t.is(a.got.length, 0, "never back out the ingress port");
  t.is(lan.lookup(a.mac), "h0");
  t.is(lan.lookup(b.mac), undefined);

  b.port.transmit(frame(a.mac, b.mac, 2));
  clock.runUntilIdle();
  t.is(a.got.length, 1);
  t.is(c.got.length, 1, "A was learned, so B's reply is not flooded");
  t.is(lan.lookup(b.mac), "h1");

  a.port.transmit(frame(b.mac, a.mac, 3));
  clock.runUntilIdle();
  t.is(b.got.length, 2);
  t.is(b.got[1]![14], 3);
  t.is(c.got.length, 1, "B was learned, so A's second frame is not flooded");
  t.deepEqual(lan.stats, { forwarded: 2, flooded: 1, filtered: 0, runts: 0, noReceiver: 0 });
});

test("broadcast and multicast flood to every other port even when the sender is known", (t) => {
  const { clock, lan, hosts } = setup(4);
  const multicast = parseMac("01:00:5e:00:00:fb")!;
  hosts[0]!.port.transmit(frame(BROADCAST_MAC, hosts[0]!.mac));
  hosts[2]!.port.transmit(frame(multicast, hosts[2]!.mac));
  clock.runUntilIdle();
  t.deepEqual(
    hosts.map((h) => h.got.length),
    [1, 2, 1, 2],
  );
  t.is(lan.stats.flooded, 2);
});

test("delivery waits for the clock, keeps sending order, and hands each receiver its own copy", (t) => {
  const { clock, hosts } = setup(3, { latencyMs: 2 });
  const [a, b, c] = hosts as [Host, Host, Host];
  const sent = frame(BROADCAST_MAC, a.mac, 1);
  a.port.transmit(sent);
  a.port.transmit(frame(BROADCAST_MAC, a.mac, 2));
  t.is(b.got.length, 0, "nothing is delivered synchronously");
  sent[14] = 99; // the sender reuses its buffer
  clock.advance(1.9);
  t.is(b.got.length, 0);
  clock.advance(0.1);
  t.deepEqual(
    b.got.map((f) => f[14]),
    [1, 2],
  );
  b.got[0]![14] = 77; // one receiver scribbles on its frame
  t.is(c.got[0]![14], 1);
});

test("an echoing pair ping-pongs through the clock instead of recursing", (t) => {
  const { clock, hosts } = setup(2, { latencyMs: 1 });
  const [a, b] = hosts as [Host, Host];
  let bounces = 0;
  a.port.setReceiver((f) => bounces++ < 1000 && a.port.transmit(frame(b.mac, a.mac, f[14]!)));
  b.port.setReceiver((f) => b.port.transmit(frame(a.mac, b.mac, f[14]!)));
  a.port.transmit(frame(b.mac, a.mac));
  clock.runUntilIdle();
  t.is(bounces, 1001);
  t.is(clock.now(), 2002); // 2002 one-millisecond hops, one after another
});

test("a frame for a MAC learned on its own ingress port is filtered", (t) => {
  const { clock, lan, hosts } = setup(2);
  const [a, b] = hosts as [Host, Host];
  const behindA = mac(0x50); // a second station behind the same port, as through a hub
  a.port.transmit(frame(BROADCAST_MAC, behindA));
  a.port.transmit(frame(behindA, a.mac));
  clock.runUntilIdle();
  t.is(b.got.length, 1);
  t.is(lan.stats.filtered, 1);
});

test("learned MACs age out, and flooding resumes", (t) => {
  const { clock, lan, hosts } = setup(3, { macAgeMs: 1000 });
  const [a, b, c] = hosts as [Host, Host, Host];
  b.port.transmit(frame(BROADCAST_MAC, b.mac));
  clock.advance(1000);
  t.is(lan.lookup(b.mac), "h1");
  clock.advance(1);
  t.is(lan.lookup(b.mac), undefined);
  a.port.transmit(frame(b.mac, a.mac));
  clock.runUntilIdle();
  t.is(c.got.length, 2, "the broadcast, then the flooded unicast");
});

test("the MAC table is bounded and forgets the least recently seen address", (t) => {
  const { clock, lan, hosts } = setup(3, { macTableSize: 2 });
  const [a, b, c] = hosts as [Host, Host, Host];
  a.port.transmit(frame(BROADCAST_MAC, a.mac));
  clock.advance(1);
  b.port.transmit(frame(BROADCAST_MAC, b.mac));
  clock.advance(1);
  a.port.transmit(frame(BROADCAST_MAC, a.mac)); // A is now the most recent
  clock.advance(1);
  c.port.transmit(frame(BROADCAST_MAC, c.mac));
  t.is(lan.lookup(a.mac), "h0");
  t.is(lan.lookup(b.mac), undefined);
  t.is(lan.lookup(c.mac), "h2");
});

test("runts are dropped and counted; a port without a receiver is counted; a multicast source is not learned", (t) => {
  const clock = new VirtualClock();
  const lan = new VirtualLan(clock);
  const a = lan.attach();
  const b = lan.attach();
  t.is(b.name, "port1");
  a.transmit(new Uint8Array(13));
  a.transmit(frame(BROADCAST_MAC, BROADCAST_MAC));
  clock.runUntilIdle();
  t.is(lan.stats.runts, 1);
  t.is(lan.stats.noReceiver, 1);
  t.is(lan.lookup(BROADCAST_MAC), undefined);
});

test("a detached port forgets its MACs and gets nothing, not even frames in flight", (t) => {
  const { clock, lan, hosts } = setup(3);
  const [a, b, c] = hosts as [Host, Host, Host];
  b.port.transmit(frame(BROADCAST_MAC, b.mac));
  clock.runUntilIdle();
  a.port.transmit(frame(b.mac, a.mac));
  b.port.detach();
  b.port.detach();
  t.is(lan.lookup(b.mac), undefined);
  b.port.transmit(frame(BROADCAST_MAC, b.mac));
  clock.runUntilIdle();
  t.is(b.got.length, 0);
  t.is(a.got.length, 1, "only the broadcast from before the detach");
  t.is(c.got.length, 1);
});
