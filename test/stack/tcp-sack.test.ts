// SACK: the option's negotiation, the blocks the receiver reports (RFC 2018), the sender's
// recovery by them (RFC 6675), reneging and bad blocks, with a scripted peer (lines as in
// test/support/tcp-script.ts; peer blocks relative to the stack's ISN); the scoreboard on
// its own; and transfers under seeded loss on the virtual LAN (bench/sack.ts's).

import test from "ava";
import { createHash } from "node:crypto";
import { lossyTransfer } from "../../bench/sack.ts";
import { SCOREBOARD_RANGES, Scoreboard } from "../../modules/stack/tcp-sack.ts";
import { decodeEthernet, ETHERTYPE_IPV4 } from "../../modules/wire/ethernet.ts";
import { decodeIpv4, IP_PROTO_TCP } from "../../modules/wire/ipv4.ts";
import { decodeTcp, type TcpDecoded } from "../../modules/wire/tcp.ts";
import { Script } from "../support/tcp-script.ts";

const MSS = 1460;
const at = (k: number) => 1 + k * MSS; // the stack's relative sequence number of its k-th segment

// ---- Negotiation ----

test("SACK-permitted: in our SYN; in our SYN-ACK only when the peer's SYN had it; never with sack: false", (t) => {
  const offered = new Script();
  offered.accept({ sack: true });
  t.deepEqual(offered.take(), ["0 [S.] seq=0 ack=1 win=5840 mss=1460 sackOK"]);
  const client = new Script();
  client.connect({ sack: true });
  t.deepEqual(client.take()[0], "0 [S] seq=0 win=5840 mss=1460 sackOK");
  const off = new Script({ sack: false });
  off.accept({ sack: true });
  t.deepEqual(off.take(), ["0 [S.] seq=0 ack=1 win=5840 mss=1460"]);
  const offClient = new Script({ sack: false });
  offClient.connect({ sack: true });
  t.deepEqual(offClient.take()[0], "0 [S] seq=0 win=5840 mss=1460");
});

// ---- Receiver ----

/** The peer's 100-byte segment number k (its bytes 1 + 100k ..). */
function segment(s: Script, k: number): void {
  s.send({ flags: ".", ack: 1, seq: 1 + k * 100, data: Script.bytes(100, k * 100) });
}

test("receiver: blocks for what waits beyond holes, the newest first, at most four, gone as holes fill", (t) => {
  const s = new Script({ wnd: 14600, maxGaps: 6 });
  s.accept({ sack: true });
  s.take();
  const acks = (ks: number[]) =>
    ks.map((k) => {
      segment(s, k);
      return s.take().join(" | ");
    });
  t.deepEqual(acks([1, 3, 5, 7, 9, 4]), [
    "0 [.] seq=1 ack=1 win=14600 sack=101-201",
    "0 [.] seq=1 ack=1 win=14600 sack=301-401,101-201",
    "0 [.] seq=1 ack=1 win=14600 sack=501-601,301-401,101-201",
    "0 [.] seq=1 ack=1 win=14600 sack=701-801,501-601,301-401,101-201",
    "0 [.] seq=1 ack=1 win=14600 sack=901-1001,701-801,501-601,301-401", // five ranges held, four fit
    "0 [.] seq=1 ack=1 win=14600 sack=301-601,901-1001,701-801,101-201", // 4 joined 3 and 5: that range first
  ]);
  t.deepEqual(acks([0, 2, 6, 8]), [
    "0 [.] seq=1 ack=201 win=14400 sack=301-601,901-1001,701-801",
    "0 [.] seq=1 ack=601 win=14000 sack=901-1001,701-801",
    "0 [.] seq=1 ack=801 win=13800 sack=901-1001",
    "0 [.] seq=1 ack=1001 win=13600", // read at once, yet the window waits for a full segment's step (SWS)
  ]);
  t.deepEqual(s.received, [...Script.bytes(1000)]);
});

test("receiver: a full segment has no room for blocks, so a pure ACK carries them; a short one carries them itself", (t) => {
  const s = new Script({ wnd: 14600 });
  const pcb = s.accept({ sack: true });
  pcb.recv((d) => {
    if (!d) return;
    pcb.recved(d.length);
    pcb.write(Script.bytes(d.length === 100 ? MSS : 500));
  });
  s.take();
  segment(s, 3);
  segment(s, 0); // in order: the reply is a full segment, and 101..301 is still missing
  t.deepEqual(s.take(), [
    "0 [.] seq=1 ack=1 win=14600 sack=301-401",
    "0 [P.] seq=1 ack=101 win=14500 len=1460",
    "0 [.] seq=1461 ack=101 win=14500 sack=301-401",
  ]);
  s.send({ flags: "P.", ack: at(1), seq: 101, data: Script.bytes(50, 100) });
  t.deepEqual(s.take(), ["0 [P.] seq=1461 ack=151 win=14450 sack=301-401 len=500"]);
});

test("receiver: a peer that did not permit SACK gets no blocks", (t) => {
  const s = new Script({ wnd: 14600 });
  s.accept();
  s.take();
  segment(s, 2);
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=1 win=14600"]);
});

// ---- Sender ----

/**
 * A connection to a peer with a window of 20 segments and as much written: the peer ACKs the
 * first seven segments one by one, which leaves segments 7..16 in flight and 17..19 unsent.
 */
function inFlight(sack: boolean, config = {}): Script {
  const s = new Script({ sndbuf: 20 * MSS, wnd: 20 * MSS, ...config });
  s.connect({ sack, window: 20 * MSS }).write(Script.bytes(20 * MSS));
  for (let k = 1; k <= 7; k++) s.send({ flags: ".", ack: at(k), window: 20 * MSS });
  s.take();
  return s;
}

/** The peer receives segments `arrive` (of those in flight from 7 on) and answers each with a duplicate ACK and its blocks. */
function dupAcks(s: Script, arrive: number[], sack = true): void {
  const held: Array<[number, number]> = [];
  for (const k of arrive) {
    const last = held.at(-1);
    if (last && last[1] === at(k)) last[1] = at(k + 1);
    else held.push([at(k), at(k + 1)]);
    const newest = held.find(([l, r]) => l <= at(k) && at(k) < r)!;
    const blocks = [newest, ...held.filter((b) => b !== newest).reverse()].slice(0, 4);
    s.send({ flags: ".", ack: at(7), window: 20 * MSS, options: sack ? s.sack(...blocks) : {} });
  }
}

const resent = (lines: string[]) => lines.filter((l) => Number(/seq=(\d+)/.exec(l)![1]) < at(17)).map((l) => Number(/seq=(\d+)/.exec(l)![1]));

test("sender: SACK recovery resends the three holes in one round trip and nothing the peer holds; NewReno only the first", (t) => {
  const s = inFlight(true);
  dupAcks(s, [8, 9, 11, 12, 14, 15, 16]); // 7, 10 and 13 were lost
  const lines = s.take();
  t.deepEqual(resent(lines), [at(7), at(10), at(13)]);
  const fresh = lines.map((l) => Number(/seq=(\d+)/.exec(l)![1])).filter((seq) => seq >= at(17));
  t.deepEqual(fresh, [at(17), at(18), at(19)], "new data as the pipe allows, two of them on the first two duplicates (RFC 6675 5 (2.c))");
  t.is(s.stats.counters.get("tcp.sack-recoveries"), 1);
  // The peer now has it all: one ACK ends the recovery, with nothing sent twice.
  s.send({ flags: ".", ack: at(20), window: 20 * MSS });
  t.deepEqual(s.take(), []);
  t.is(s.stats.counters.get("tcp.retransmits"), 3);

  const reno = inFlight(false);
  dupAcks(reno, [8, 9, 11, 12, 14, 15, 16], false);
  t.deepEqual(resent(reno.take()), [at(7)]);
  t.is(reno.stats.counters.get("tcp.sack-recoveries"), undefined);
});

test("sender: two SACKed segments above a hole are not yet a loss; three are (IsLost)", (t) => {
  const s = inFlight(true);
  dupAcks(s, [8, 9]);
  t.deepEqual(resent(s.take()), [], "two duplicate ACKs and 2 MSS SACKed: no resend, only new data in their place");
  dupAcks(s, [10]);
  t.deepEqual(resent(s.take()), [at(7)]);
});

test("sender: blocks beyond what was sent or inverted are ignored and counted; blocks below una are ignored quietly", (t) => {
  const s = inFlight(true);
  const bogus = [
    [at(20), at(21)],
    [at(9), at(8)],
    [at(1), at(2)],
  ] as Array<[number, number]>;
  for (let i = 0; i < 3; i++) s.send({ flags: ".", ack: at(7), window: 20 * MSS, options: s.sack(...bogus) });
  t.is(s.stats.counters.get("tcp.sack-invalid"), 3);
  // Three duplicate ACKs without a usable block: NewReno's fast retransmit of the first hole.
  t.deepEqual(resent(s.take()), [at(7)]);
  t.is(s.stats.counters.get("tcp.sack-recoveries"), undefined);
});

test("sender: after a timeout the resend skips what the peer SACKs anew", (t) => {
  const s = inFlight(true);
  s.run(300); // every segment in flight lost: the timer fires (250 ms, the floor)
  t.deepEqual(resent(s.take()), [at(7)]);
  // The peer had 9..16 after all: its ACK of the resent segment says so.
  s.send({ flags: ".", ack: at(8), window: 20 * MSS, options: s.sack([at(9), at(17)]) });
  const lines = s.take();
  t.deepEqual(resent(lines), [at(8)], "segment 8 only; 9..16 are not sent again");
  t.deepEqual(
    lines.slice(1).map((l) => /seq=(\d+)/.exec(l)![1]),
    [String(at(17))],
    "then new data, as the SACKed bytes left the network",
  );
});

test("sender: reneging, data SACKed then dropped by the peer is resent after the timeout", (t) => {
  const s = inFlight(true);
  dupAcks(s, [8, 9, 10]); // recovery: segment 7 resent
  t.deepEqual(resent(s.take()), [at(7)]);
  // The peer takes 7, reneges on 8..10 and says nothing more of them.
  s.send({ flags: ".", ack: at(8), window: 20 * MSS });
  s.take();
  s.run(5000);
  const again = resent(s.take());
  t.true(s.stats.counters.get("tcp.timeouts")! >= 1);
  t.deepEqual(again.slice(0, 1), [at(8)]);
  s.send({ flags: ".", ack: at(9), window: 20 * MSS });
  t.true(resent(s.take()).includes(at(9)), "segment 9, once SACKed, is resent");
});

// ---- The scoreboard ----

test("scoreboard: merges, trims at una, stays within its bound, and says what is lost and in flight", (t) => {
  const b = new Scoreboard();
  const una = 0xffff_f000; // the sequence space wraps inside the window
  const seg = (k: number) => (una + k * 1000) >>> 0;
  b.update([{ left: seg(2), right: seg(3) }], una, seg(40));
  b.update([{ left: seg(3), right: seg(4) }], una, seg(40));
  t.is(b.sackedEnd(seg(2)), seg(4), "touching blocks merge");
  t.is(b.lostEdge(una, 1000), una, "2000 bytes SACKed above: nothing lost yet");
  b.update([{ left: seg(5), right: seg(6) }], una, seg(40));
  t.is(b.lostEdge(una, 1000), seg(2), "3000 bytes above: the hole before them is lost");
  // Recovery resent 0..1. Holes: 0..2 lost, 0..1 of it resent; 4..5 and 6..40 not lost.
  b.startRecovery(seg(1));
  t.is(b.pipe(una, seg(40), 1000), 1000 + 1000 + 34_000);
  for (let k = 8; k < 40; k += 2) b.update([{ left: seg(k), right: seg(k + 1) }], una, seg(40));
  const lefts: number[] = [];
  for (let s = b.nextSacked(una, seg(40)); s !== seg(40); s = b.nextSacked(b.sackedEnd(s), seg(40))) lefts.push(s);
  t.is(lefts.length, SCOREBOARD_RANGES, "the highest ranges are forgotten");
  t.deepEqual(lefts.slice(0, 3), [seg(2), seg(5), seg(8)]);
  b.advance(seg(5) + 500);
  t.is(b.sackedEnd(seg(5) + 500), seg(6), "una inside a range trims it");
  b.clear();
  t.true(b.empty);
});

// ---- On the virtual LAN ----

function tcpOf(frame: Uint8Array): TcpDecoded | undefined {
  const eth = decodeEthernet(frame);
  if (!eth.ok || eth.value.ethertype !== ETHERTYPE_IPV4) return undefined;
  const ip = decodeIpv4(eth.value.payload);
  if (!ip.ok || ip.value.protocol !== IP_PROTO_TCP) return undefined;
  const seg = decodeTcp(ip.value.payload, ip.value.src, ip.value.dst);
  return seg.ok ? seg.value : undefined;
}

test("1 MiB with 5% loss each way and 64 KiB windows: the sender never resends a byte the peer SACKed since its last timeout", (t) => {
  const known: Array<[number, number]> = []; // blocks the sender received since its last timeout
  let timeouts = 0;
  let overlaps = 0;
  let blocksSeen = 0;
  const r = lossyTransfer({
    loss: 0.05,
    seed: 3,
    sack: true,
    tcp: { sndbuf: 65535, wnd: 65535, maxGaps: 8 },
    spy: (direction, frame, sender) => {
      const seg = tcpOf(frame);
      if (!seg) return;
      const now = sender.netif.stats.counters.get("tcp.timeouts") ?? 0;
      if (now !== timeouts) {
        timeouts = now;
        known.length = 0;
      }
      if (direction === "rx") {
        for (const b of seg.options.sack ?? []) known.push([b.left, b.right]);
        blocksSeen += seg.options.sack?.length ?? 0;
        return;
      }
      const end = (seg.seq + seg.payload.length) >>> 0;
      if (seg.payload.length && known.some(([l, r]) => ((seg.seq - r) | 0) < 0 && ((end - l) | 0) > 0)) overlaps++;
    },
  });
  t.true(r.intact);
  t.true(blocksSeen > 0, "the receiver reported blocks");
  t.true((r.sender["tcp.sack-recoveries"] ?? 0) > 0, "and the sender recovered by them");
  t.is(overlaps, 0);
  t.log(`virtual ${r.seconds.toFixed(2)} s, ${r.frames} frames, sender ${JSON.stringify(r.sender)}`);
});

test("interop: a peer without SACK gets a transfer through loss by NewReno, and no SACK option goes on the wire", (t) => {
  let options = 0;
  const r = lossyTransfer({
    loss: 0.05,
    seed: 4,
    sack: false,
    spy: (_, frame) => {
      const seg = tcpOf(frame);
      if (seg?.options.sack || (seg?.options.sackPermitted && seg.flags & 0x10)) options++;
    },
  });
  t.true(r.intact);
  t.is(options, 0, "neither blocks nor a SYN-ACK permitting them");
  t.is(r.sender["tcp.sack-recoveries"], undefined);
  t.true((r.sender["tcp.fast-retransmits"] ?? 0) + (r.sender["tcp.timeouts"] ?? 0) > 0, "loss was met and recovered from");
});

test("determinism: the same seed gives the same frames, with SACK and without; another seed does not", (t) => {
  const frames = (seed: number, sack: boolean) => {
    const h = createHash("sha256");
    lossyTransfer({ loss: 0.1, seed, sack, bytes: 256 * 1024, spy: (d, f) => h.update(d).update(f) });
    return h.digest("hex");
  };
  t.is(frames(7, true), frames(7, true));
  t.is(frames(7, false), frames(7, false));
  t.not(frames(7, true), frames(7, false));
  t.not(frames(7, true), frames(8, true));
});
