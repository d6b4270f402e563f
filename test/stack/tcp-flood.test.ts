// A SYN flood from random sources at line rate on the virtual LAN (issue 10, TCP 1), as
// `hping3 --flood --rand-source -S -p 80` sends it, while a legitimate client keeps trying
// to connect: during the flood and right after it.

import test from "ava";
import { SeededRandom } from "../../host-sim/random.ts";
import { ETHERTYPE_IPV4, encodeEthernet } from "../../modules/wire/ethernet.ts";
import { encodeIpv4, IP_PROTO_TCP } from "../../modules/wire/ipv4.ts";
import { unwrap } from "../../modules/wire/result.ts";
import { encodeTcp, SYN, tcpLength } from "../../modules/wire/tcp.ts";
import { bench, ip, mac } from "../support/bench.ts";

const SERVER = ip("10.0.0.2");
/** 100 Mbit/s Ethernet: a minimum frame with preamble and gap is 84 bytes, 6.72 us. */
const LINE_RATE_INTERVAL_MS = (84 * 8) / 100_000;

/** A SYN to the server's port 80 from a random address and port, in a minimum Ethernet frame. */
function spoofedSyn(r: SeededRandom): Uint8Array {
  const src = r.u32();
  const seg = {
    srcPort: 1024 + (r.u32() % 64512),
    dstPort: 80,
    seq: r.u32(),
    ack: 0,
    flags: SYN,
    window: 512,
    urgent: 0,
    options: {},
    payload: new Uint8Array(0),
  };
  const tcp = new Uint8Array(tcpLength(seg));
  encodeTcp(seg, src, SERVER, tcp);
  const ipBytes = new Uint8Array(20 + tcp.length);
  const header = { dscp: 0, ecn: 0, id: r.u32() & 0xffff, df: false, mf: false, fragmentOffsetBytes: 0, ttl: 64, protocol: IP_PROTO_TCP, src, dst: SERVER };
  encodeIpv4({ ...header, options: new Uint8Array(0), payload: tcp }, ipBytes);
  const frame = new Uint8Array(60);
  encodeEthernet({ dst: mac(2), src: mac(66), ethertype: ETHERTYPE_IPV4, payload: ipBytes }, frame);
  return frame;
}

test("under a line-rate SYN flood from random sources the listener still serves a real client, and at once after it", (t) => {
  const b = bench(3);
  const server = b.host(2);
  const client = b.host(9, { tcp: { maxPcbs: 16 } }); // attempts overlap by up to 1 s
  const attacker = b.lan.attach("attacker");
  unwrap(server.tcp.listen(80, 4)).accept((pcb) => {
    pcb.write(Uint8Array.of(0x68, 0x69)); // a greeting, as a server's banner
    pcb.close();
  });

  const floodMs = 1000;
  const r = new SeededRandom(99);
  let spoofed = 0;
  const flood = () => {
    if (b.clock.now() >= floodMs) return;
    attacker.transmit(spoofedSyn(r));
    spoofed++;
    b.clock.setTimer(LINE_RATE_INTERVAL_MS, flood);
  };
  b.clock.setTimer(0, flood);

  /** One attempt: does the server's greeting arrive within 1 s (before the client's first SYN retransmission)? */
  const results = new Map<number, boolean>();
  const attempt = (at: number) =>
    b.clock.setTimer(at, () => {
      results.set(at, false);
      const pcb = unwrap(client.tcp.connect(SERVER, 80, () => {}));
      const giveUp = b.clock.setTimer(1000, () => pcb.abort());
      pcb.recv((data) => {
        if (data) results.set(at, true);
        giveUp.cancel();
        pcb.close();
      });
    });
  const during = [50, 150, 250, 350, 450, 550, 650, 750, 850, 950];
  for (const at of during) attempt(at);
  const after = floodMs + 1;
  attempt(after);
  for (let now = 0; now < after + 2000; now += 50) b.clock.runUntil(now);

  const ok = during.filter((at) => results.get(at)).length;
  t.log(
    `${spoofed} spoofed SYNs in ${floodMs} ms; the client connected ${ok} times of ${during.length} during the flood, and ${results.get(after) ? "at once" : "not"} right after it`,
  );
  t.log(JSON.stringify([...server.stats.counters]), JSON.stringify([...server.stats.drops]));
  t.true(spoofed > 148_000, "line rate");
  t.true(ok >= during.length / 2, "at least half the attempts during the flood succeed");
  t.true(results.get(after), "the first attempt after the flood succeeds");
});
