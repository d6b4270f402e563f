// TCP against a hostile or broken peer (issue 10): what a silent, slow, half-open or
// spoofing peer can make a pcb hold, and for how long. Scripted on one stack under the
// virtual clock, with exact virtual times (see test/support/tcp-script.ts for the line format).

import test from "ava";
import { siphash24 } from "../../modules/stack/tcp-isn.ts";
import { unwrap } from "../../modules/wire/result.ts";
import { PEER, PEER_PORT, SERVER_PORT, Script } from "../support/tcp-script.ts";

// ---- ISNs (RFC 6528) ----

test("SipHash-2-4 gives the reference vectors", (t) => {
  const key: [number, number, number, number] = [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c];
  const hex = ([lo, hi]: [number, number]) => hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
  const msg = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
  t.is(hex(siphash24(key, msg(0))), "726fdb47dd0e0e31");
  t.is(hex(siphash24(key, msg(8))), "93f5f5799a932462");
  t.is(hex(siphash24(key, msg(15))), "a129ca6149be45e5");
});

/** The ISN of a connection from `fromPort` to the peer's `port`, opened at virtual time `at`. */
function isnAt(s: Script, at: number, fromPort: number, port = PEER_PORT): number {
  s.run(at - s.clock.now());
  const pcb = unwrap(s.tcp.connect(PEER, port, () => {}, fromPort));
  const seq = s.segments.at(-1)!.seq;
  pcb.abort();
  return seq;
}

test("ISNs follow RFC 6528: a 4-microsecond clock plus a keyed hash of the 4-tuple, the key from the random source", (t) => {
  const s = new Script();
  const first = isnAt(s, 0, 5000);
  t.is((isnAt(s, 1000, 5000) - first) >>> 0, 250_000, "the same 4-tuple 1 s later: 250 000 ticks on");
  t.is((isnAt(s, 2000.5, 5000) - first) >>> 0, 500_125);
  const other = isnAt(s, 3000, 5001);
  t.not((other - first) >>> 0, 750_000, "another 4-tuple is hashed elsewhere");
  t.not(isnAt(new Script({}, 1000, 8), 0, 5000), first, "another key, another ISN");
  t.is(isnAt(new Script({}, 1000, 7), 0, 5000), first, "the same seed gives the same key");
});

// ---- Half-open connections ----

test("a half-open pcb is dropped silently after synRcvdTimeoutMs (20 s), well before its SYN-ACK retries run out", (t) => {
  const s = new Script();
  const l = unwrap(s.tcp.listen(SERVER_PORT, 1));
  s.send({ flags: "S", options: { mss: 1460 } });
  s.run(19_999);
  t.is(l.pending, 1);
  s.run(1);
  t.is(l.pending, 0);
  t.is(s.tcp.connections.length, 0);
  s.run(200_000);
  t.deepEqual(s.take(), [
    "0 [S.] seq=0 ack=1 win=5840 mss=1460",
    "1000 [S.] seq=0 ack=1 win=5840 mss=1460",
    "3000 [S.] seq=0 ack=1 win=5840 mss=1460",
    "7000 [S.] seq=0 ack=1 win=5840 mss=1460",
    "15000 [S.] seq=0 ack=1 win=5840 mss=1460",
  ]);
  t.is(s.stats.counters.get("tcp.syn-received-timeouts"), 1);
});

test("over the backlog a SYN gets a SYN cookie; its ACK opens the connection with the MSS it kept, in place of the oldest half-open one", (t) => {
  const s = new Script();
  const l = unwrap(s.tcp.listen(SERVER_PORT, 1));
  l.accept((pcb) => {
    s.events.push(`accept ${pcb.remotePort}`);
    s.watch(pcb).write(Script.bytes(2000));
  });
  s.send({ flags: "S", seq: 0, srcPort: 2001, options: { mss: 1460 } }); // never completed
  s.send({ flags: "S", seq: 0, options: { mss: 1300 } });
  t.is(l.pending, 1, "the cookie keeps no state");
  s.run(5);
  s.send({ flags: ".", seq: 1, ack: 1, data: "hello" });
  t.deepEqual(s.events, [`accept ${PEER_PORT}`, "recv 5"]);
  t.deepEqual(s.take(), [
    "0 [S.] 80>2001 seq=0 ack=1 win=5840 mss=1460",
    "0 [S.] seq=0 ack=1 win=5840 mss=1460",
    "5 [.] seq=1 ack=6 win=5835 len=1220",
    "5 [P.] seq=1221 ack=6 win=5835 len=780",
  ]);
  t.is(s.stats.counters.get("tcp.evicted"), 1, "the half-open pcb from port 2001 made room");
  t.deepEqual(
    s.tcp.connections.map((p) => p.remotePort),
    [PEER_PORT],
  );
});

test("an ACK that returns no cookie of ours, or one more than two 64 s slots old, gets RST", (t) => {
  const s = new Script();
  unwrap(s.tcp.listen(SERVER_PORT, 1));
  s.send({ flags: "S", seq: 0, srcPort: 2001, options: { mss: 1460 } }); // fills the backlog
  s.send({ flags: "S", seq: 0, srcPort: 2002, options: { mss: 1460 } });
  s.send({ flags: ".", seq: 1, ack: 2, srcPort: 2002 }); // forged: not the cookie
  s.send({ flags: "S", seq: 0, srcPort: 2003, options: { mss: 1460 } });
  s.run(128_000); // the cookie's slot and the next are over
  s.send({ flags: ".", seq: 1, ack: 1, srcPort: 2003 });
  t.deepEqual(
    s.take().filter((line) => line.includes("R")),
    ["0 [R] 80>2002 seq=2 win=0", "128000 [R] 80>2003 seq=1 win=0"],
  );
  t.is(s.stats.counters.get("tcp.syn-cookies-accepted"), undefined);
});

test("a full pcb table drops the oldest half-open pcb for a new SYN", (t) => {
  const s = new Script({ maxPcbs: 2 });
  unwrap(s.tcp.listen(SERVER_PORT, 4));
  for (const port of [2001, 2002, 2003]) s.send({ flags: "S", seq: 0, srcPort: port, options: { mss: 1460 } });
  t.deepEqual(
    s.tcp.connections.map((p) => p.remotePort),
    [2002, 2003],
  );
  t.is(s.stats.drops.get("tcp-pcb-limit"), undefined);
});

test("without SYN cookies a SYN over the backlog takes the place of the oldest half-open pcb", (t) => {
  const s = new Script({ synCookies: false });
  unwrap(s.tcp.listen(SERVER_PORT, 2));
  for (const port of [2001, 2002, 2003]) s.send({ flags: "S", seq: 0, srcPort: port, options: { mss: 1460 } });
  t.deepEqual(
    s.tcp.connections.map((p) => p.remotePort),
    [2002, 2003],
  );
});

// ---- Segment acceptance ----

test("already-received data with a new FIN is acceptable: SEG.LEN counts the FIN (RFC 9293 3.10.7.4)", (t) => {
  const s = new Script();
  const pcb = s.accept();
  s.send({ flags: "P.", ack: 1, data: "hello" });
  s.run(200);
  s.send({ flags: "FP.", seq: 1, ack: 1, data: "hello" }); // collapsed retransmission, as Linux sends it
  t.deepEqual(s.take().slice(1), ["200 [.] seq=1 ack=6 win=5835", "200 [.] seq=1 ack=7 win=5834"]);
  t.deepEqual(s.events, ["accept", "recv 5", "fin"]);
  t.is(pcb.state, "close-wait");
});

test("with our receive window at zero, the ACK on the peer's probe still counts: no spurious retransmission", (t) => {
  const s = new Script();
  const pcb = s.accept({ hold: true });
  for (let i = 0; i < 4; i++) s.send({ flags: ".", ack: 1, data: Script.bytes(1460) });
  s.take();
  pcb.write(Script.bytes(100));
  s.run(100);
  s.send({ flags: ".", ack: 101, data: "x" }); // the peer's zero-window probe, acknowledging our data
  s.run(5000);
  t.deepEqual(s.take(), ["0 [P.] seq=1 ack=5841 win=0 len=100", "100 [.] seq=101 ack=5841 win=0"]);
  t.deepEqual(s.events.slice(-1), ["sent 100"]);
  t.is(s.stats.drops.get("tcp-out-of-window"), 1, "its byte is not taken");
});

test("with our receive window at zero, a RST carrying text at RCV.NXT still resets", (t) => {
  const s = new Script();
  const pcb = s.accept({ hold: true });
  for (let i = 0; i < 4; i++) s.send({ flags: ".", ack: 1, data: Script.bytes(1460) });
  s.send({ flags: "R.", ack: 1, data: "connection reset by peer" });
  t.is(pcb.state, "closed");
  t.deepEqual(s.events.slice(-1), ["err reset"]);
});

// ---- Opening ----

test("shutdown() in SYN-SENT sends the FIN after the data once established", (t) => {
  const s = new Script();
  const pcb = unwrap(s.tcp.connect(PEER, PEER_PORT, () => {}));
  pcb.write(Script.bytes(100));
  pcb.shutdown();
  t.is(pcb.sndbuf, 0, "nothing more may be written");
  s.send({ flags: "S.", ack: 1, options: { mss: 1460 } });
  t.deepEqual(s.take(), ["0 [S] seq=0 win=5840 mss=1460 sackOK", "0 [FP.] seq=1 ack=1 win=5840 len=100"]);
  t.is(pcb.state, "fin-wait-1");
  s.send({ flags: ".", ack: 102 });
  t.is(pcb.state, "fin-wait-2");
});

test("after a lost SYN the initial window is one segment (RFC 5681 3.1) and the RTO starts at 3 s (RFC 6298 5.7)", (t) => {
  const s = new Script();
  const pcb = unwrap(s.tcp.connect(PEER, PEER_PORT, () => {}));
  s.run(1010); // the first SYN is lost; the second goes at 1000
  s.send({ flags: "S.", ack: 1, options: { mss: 1460 } });
  pcb.write(Script.bytes(4000));
  s.run(3000);
  t.deepEqual(s.take(), [
    "0 [S] seq=0 win=5840 mss=1460 sackOK",
    "1000 [S] seq=0 win=5840 mss=1460 sackOK",
    "1010 [.] seq=1 ack=1 win=5840",
    "1010 [.] seq=1 ack=1 win=5840 len=1460",
    "4010 [.] seq=1 ack=1 win=5840 len=1460",
  ]);
});

test("after a lost SYN-ACK (the peer's SYN again) the initial window is one segment", (t) => {
  const s = new Script();
  const l = unwrap(s.tcp.listen(SERVER_PORT));
  l.accept((pcb) => pcb.write(Script.bytes(4000)));
  s.send({ flags: "S", options: { mss: 1460 } });
  s.run(500);
  s.send({ flags: "S", seq: 0, options: { mss: 1460 } });
  s.send({ flags: ".", seq: 1, ack: 1 });
  t.deepEqual(s.take(), ["0 [S.] seq=0 ack=1 win=5840 mss=1460", "500 [S.] seq=0 ack=1 win=5840 mss=1460", "500 [.] seq=1 ack=1 win=5840 len=1460"]);
});

// ---- Silent and slow peers ----

test("zero-window probing gives up after maxRetries unanswered probes", (t) => {
  const s = new Script({ maxRetries: 3 });
  const pcb = s.accept({ window: 0 });
  s.take();
  pcb.write(Script.bytes(100));
  s.run(10_000);
  t.deepEqual(s.take(), ["250 [.] seq=1 ack=1 win=5840 len=1", "750 [.] seq=1 ack=1 win=5840 len=1", "1750 [.] seq=1 ack=1 win=5840 len=1"]);
  t.deepEqual(s.events, ["accept", "err timeout"]);
  t.is(pcb.state, "closed");
});

test("an orphan whose peer answers every zero-window probe is reset orphanTimeoutMs after close()", (t) => {
  const s = new Script({ orphanTimeoutMs: 30_000 });
  const pcb = s.accept({ window: 0 });
  pcb.write(Script.bytes(100));
  s.run(1000);
  pcb.close();
  for (;;) {
    s.run(100);
    if (pcb.state === "closed" || s.clock.now() >= 40_000) break;
    s.send({ flags: ".", ack: 1, window: 0 }); // "still closed": the peer answers, and never reads
  }
  t.is(s.clock.now(), 31_000);
  t.is(s.take().at(-1), "31000 [R.] seq=1 ack=1 win=0");
  t.is(s.stats.counters.get("tcp.orphan-timeouts"), 1);
});

test("an orphan in FIN-WAIT-2 is bounded by orphanTimeoutMs too, whatever finWait2Ms says", (t) => {
  const s = new Script({ orphanTimeoutMs: 30_000, finWait2Ms: 3_600_000 });
  const pcb = s.accept();
  pcb.close();
  s.send({ flags: ".", ack: 2 });
  t.is(pcb.state, "fin-wait-2");
  s.run(29_999);
  t.is(pcb.state, "fin-wait-2");
  s.run(1);
  t.is(pcb.state, "closed");
});

test("a full pcb table reclaims the oldest orphan for a new connection", (t) => {
  const s = new Script({ maxPcbs: 1 });
  const pcb = s.accept({ window: 0 });
  pcb.write(Script.bytes(100));
  pcb.close(); // stuck behind the peer's zero window
  s.take();
  s.send({ flags: "S", seq: 0, srcPort: 2000, options: { mss: 1460 } });
  t.deepEqual(s.take(), ["0 [R.] seq=1 ack=1 win=0", "0 [S.] 80>2000 seq=0 ack=1 win=5840 mss=1460"]);
  t.is(pcb.state, "closed");
  t.deepEqual(
    s.tcp.connections.map((p) => p.remotePort),
    [2000],
  );
});
