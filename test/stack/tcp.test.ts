// Scripted TCP tests: one stack, a hand-driven peer, and the exact segments the stack sends
// and when (see test/support/tcp-script.ts for the line format). Default config unless a test says so:
// MSS 1460, window 5840, delayed ACK 200 ms, minimum RTO 250 ms.

import test from "ava";
import { PEER, PEER_PORT, SERVER_PORT, Script, US } from "../support/tcp-script.ts";
import { ip } from "../support/bench.ts";
import { unwrap } from "../../modules/wire/result.ts";

const bytes = Script.bytes;

// ---- Handshakes ----

test("server handshake: SYN gets SYN-ACK with our MSS and window, the ACK completes it and accept is called", (t) => {
  const s = new Script();
  const pcb = s.accept();
  t.deepEqual(s.take(), ["0 [S.] seq=0 ack=1 win=5840 mss=1460"]);
  t.deepEqual(s.events, ["accept"]);
  t.is(pcb.state, "established");
  t.deepEqual([pcb.localIp, pcb.localPort, pcb.remoteIp, pcb.remotePort], [US, SERVER_PORT, PEER, PEER_PORT]);
});

test("client handshake: SYN, then ACK for the SYN-ACK, and connect's callback; the peer's MSS limits segments", (t) => {
  const s = new Script();
  const pcb = s.connect({ mss: 1000 });
  t.true(pcb.localPort >= 49152, "ephemeral port from the dynamic range");
  t.deepEqual(s.events, ["connected"]);
  t.is(pcb.write(bytes(2500)), 2500);
  t.deepEqual(s.take(), [
    "0 [S] seq=0 win=5840 mss=1460 sackOK",
    "0 [.] seq=1 ack=1 win=5840",
    "0 [.] seq=1 ack=1 win=5840 len=1000",
    "0 [.] seq=1001 ack=1 win=5840 len=1000",
    "0 [P.] seq=2001 ack=1 win=5840 len=500",
  ]);
});

test("a peer without the MSS option gets 536-byte segments", (t) => {
  const s = new Script();
  unwrap(s.tcp.listen(SERVER_PORT)).accept((pcb) => s.watch(pcb).write(bytes(1000)));
  s.send({ flags: "S" });
  s.send({ flags: ".", ack: 1 });
  t.deepEqual(s.take(), ["0 [S.] seq=0 ack=1 win=5840 mss=1460", "0 [.] seq=1 ack=1 win=5840 len=536", "0 [P.] seq=537 ack=1 win=5840 len=464"]);
});

test("SYN retransmission backs off exponentially, then connect fails with timeout", (t) => {
  const s = new Script();
  s.tcp.connect(PEER, PEER_PORT, (err) => s.events.push(`connect ${err} at ${s.clock.now()}`));
  s.run(200_000);
  t.deepEqual(s.take(), [
    "0 [S] seq=0 win=5840 mss=1460 sackOK",
    "1000 [S] seq=0 win=5840 mss=1460 sackOK",
    "3000 [S] seq=0 win=5840 mss=1460 sackOK",
    "7000 [S] seq=0 win=5840 mss=1460 sackOK",
    "15000 [S] seq=0 win=5840 mss=1460 sackOK",
    "31000 [S] seq=0 win=5840 mss=1460 sackOK",
    "63000 [S] seq=0 win=5840 mss=1460 sackOK",
  ]);
  t.deepEqual(s.events, ["connect timeout at 123000"]);
  t.is(s.tcp.connections.length, 0);
});

test("SYN-RECEIVED: a repeated SYN gets the SYN-ACK again; unanswered, the half-open pcb goes without reaching the app", (t) => {
  const s = new Script({ synRetries: 2 });
  const l = unwrap(s.tcp.listen(SERVER_PORT, 1));
  l.accept(() => s.events.push("accept"));
  s.send({ flags: "S", options: { mss: 1460 } });
  s.run(500);
  s.send({ flags: "S", seq: 0, options: { mss: 1460 } });
  t.is(l.pending, 1);
  s.run(10_000);
  t.deepEqual(s.take(), [
    "0 [S.] seq=0 ack=1 win=5840 mss=1460",
    "500 [S.] seq=0 ack=1 win=5840 mss=1460",
    "1000 [S.] seq=0 ack=1 win=5840 mss=1460",
    "3000 [S.] seq=0 ack=1 win=5840 mss=1460",
  ]);
  t.deepEqual(s.events, []);
  t.is(l.pending, 0);
  t.is(s.tcp.connections.length, 0);
});

test("simultaneous open: SYN crossing SYN goes through SYN-RECEIVED to ESTABLISHED", (t) => {
  const s = new Script();
  const pcb = unwrap(s.tcp.connect(PEER, PEER_PORT, (err) => s.events.push(err ?? "connected")));
  s.send({ flags: "S", options: { mss: 1460 } });
  t.is(pcb.state, "syn-received");
  s.send({ flags: "S.", seq: 0, ack: 1, options: { mss: 1460 } });
  t.deepEqual(s.take(), ["0 [S] seq=0 win=5840 mss=1460 sackOK", "0 [S.] seq=0 ack=1 win=5840 mss=1460", "0 [.] seq=1 ack=1 win=5840"]);
  t.is(pcb.state, "established");
  t.deepEqual(s.events, ["connected"]);
});

// ---- Data and windows ----

test("received data is ACKed after 200 ms, or at once on every second segment", (t) => {
  const s = new Script();
  s.accept();
  s.take();
  s.send({ flags: "P.", ack: 1, data: bytes(100) });
  s.run(300);
  s.send({ flags: ".", ack: 1, data: bytes(1460) });
  s.run(50);
  s.send({ flags: ".", ack: 1, data: bytes(1460) });
  // 100 bytes read back is too small a step to move the window's edge (receiver SWS avoidance).
  t.deepEqual(s.take(), ["200 [.] seq=1 ack=101 win=5740", "350 [.] seq=1 ack=3021 win=5840"]);
  t.deepEqual(s.events, ["accept", "recv 100", "recv 1460", "recv 1460"]);
  t.deepEqual(s.received, [...bytes(100), ...bytes(1460), ...bytes(1460)]);
});

test("data both ways: a reply rides on the ACK, sent() reports acknowledged bytes", (t) => {
  const s = new Script();
  const pcb = s.accept();
  pcb.recv((d) => {
    if (!d) return;
    pcb.recved(d.length);
    pcb.write(bytes(d.length * 2));
  });
  s.take();
  s.send({ flags: "P.", ack: 1, data: bytes(10) });
  s.run(100);
  s.send({ flags: ".", ack: 21 });
  // The window's edge waits to move by a full segment (receiver SWS avoidance), so 5830.
  t.deepEqual(s.take(), ["0 [P.] seq=1 ack=11 win=5830 len=20"]);
  t.deepEqual(s.events, ["accept", "sent 20"]);
  t.is(pcb.sndbuf, 5840);
});

test("the window shrinks by what the app holds; recved reopens it with an update once it matters", (t) => {
  const s = new Script();
  const pcb = s.accept({ hold: true });
  s.take();
  for (let i = 0; i < 4; i++) s.send({ flags: ".", ack: 1, data: bytes(1460, i * 1460) });
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=2921 win=2920", "0 [.] seq=1 ack=5841 win=0"]);
  // A zero-window probe is answered at once, and its byte is not taken.
  s.send({ flags: ".", ack: 1, data: bytes(1, 5840) });
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=5841 win=0"]);
  t.is(s.stats.drops.get("tcp-out-of-window"), 1);
  pcb.recved(500); // too small a step to announce (receiver SWS avoidance)
  t.deepEqual(s.take(), []);
  pcb.recved(1000);
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=5841 win=1500"]);
  pcb.recved(4340);
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=5841 win=5840"]);
});

test("data the app has not taken waits, and only what the window holds is accepted", (t) => {
  const s = new Script();
  unwrap(s.tcp.listen(SERVER_PORT)).accept(() => s.events.push("accept")); // no recv callback
  s.send({ flags: "S", options: { mss: 1460 } });
  s.send({ flags: ".", ack: 1 });
  s.send({ flags: ".", ack: 1, data: bytes(5000) });
  s.send({ flags: ".", ack: 1, data: bytes(2000, 5000) });
  // 5000 bytes count as the four segments a link's large receive joins: acknowledged at once.
  t.deepEqual(s.take().slice(1), ["0 [.] seq=1 ack=5001 win=840", "0 [.] seq=1 ack=5841 win=0"]);
  t.is(s.stats.counters.get("tcp.rx-trimmed"), 1);
});

test("the sender keeps to the peer's window and avoids silly small segments (RFC 1122 4.2.3.4)", (t) => {
  const s = new Script();
  const pcb = s.accept({ window: 3000 });
  s.take();
  pcb.write(bytes(5000));
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=1 win=5840 len=1460", "0 [.] seq=1461 ack=1 win=5840 len=1460"]);
  // 80 bytes would fit the window's rest, but that is a silly segment: it waits.
  s.send({ flags: ".", ack: 2921, window: 3000 });
  t.deepEqual(s.take(), ["0 [.] seq=2921 ack=1 win=5840 len=1460", "0 [P.] seq=4381 ack=1 win=5840 len=620"]);
});

test("Nagle holds a short segment while an earlier short one is unacknowledged; nodelay sends it at once", (t) => {
  const s = new Script();
  const pcb = s.accept();
  s.take();
  pcb.write(bytes(10));
  pcb.write(bytes(10));
  pcb.write(bytes(10));
  t.deepEqual(s.take(), ["0 [P.] seq=1 ack=1 win=5840 len=10"]);
  s.send({ flags: ".", ack: 11 });
  t.deepEqual(s.take(), ["0 [P.] seq=11 ack=1 win=5840 len=20"]);
  pcb.nodelay = true;
  pcb.write(bytes(5));
  t.deepEqual(s.take(), ["0 [P.] seq=31 ack=1 win=5840 len=5"]);
});

test("a short tail after full segments is not held (Minshall's Nagle), so a reply is not left waiting for a delayed ACK", (t) => {
  const s = new Script();
  const pcb = s.accept();
  s.take();
  pcb.write(bytes(2000));
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=1 win=5840 len=1460", "0 [P.] seq=1461 ack=1 win=5840 len=540"]);
  pcb.write(bytes(100));
  t.deepEqual(s.take(), [], "the 540-byte segment is still unacknowledged");
});

test("write accepts only the free send buffer, which acknowledgments free again", (t) => {
  const s = new Script({ sndbuf: 3000 });
  const pcb = s.accept();
  t.is(pcb.write(bytes(5000)), 3000);
  t.is(pcb.sndbuf, 0);
  t.is(pcb.write(bytes(10)), 0);
  s.send({ flags: ".", ack: 1461 });
  t.is(pcb.sndbuf, 1460);
  t.deepEqual(s.events, ["accept", "sent 1460"]);
});

test("out-of-order segments are held, ACKed as duplicates, and delivered in order once the hole fills", (t) => {
  const s = new Script();
  s.accept();
  s.take();
  s.send({ flags: ".", seq: 201, ack: 1, data: bytes(100, 200) });
  s.send({ flags: ".", seq: 101, ack: 1, data: bytes(100, 100) });
  t.deepEqual(s.events, ["accept"]);
  s.send({ flags: ".", seq: 1, ack: 1, data: bytes(100) });
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=1 win=5840", "0 [.] seq=1 ack=1 win=5840", "0 [.] seq=1 ack=301 win=5540"]);
  t.deepEqual(s.events, ["accept", "recv 100", "recv 200"]);
  t.deepEqual(s.received, [...bytes(300)]);
});

test("out-of-order data overlapping what arrived is merged, a FIN beyond a hole waits for it", (t) => {
  const s = new Script();
  s.accept();
  s.take();
  s.send({ flags: "F.", seq: 301, ack: 1, data: bytes(100, 300) });
  s.send({ flags: ".", seq: 150, ack: 1, data: bytes(200, 149) });
  s.send({ flags: ".", seq: 1, ack: 1, data: bytes(160) });
  t.deepEqual(s.take().at(-1), "0 [.] seq=1 ack=402 win=5439");
  t.deepEqual(s.events, ["accept", "recv 160", "recv 240", "fin"]);
  t.deepEqual(s.received, [...bytes(400)]);
});

test("the number of out-of-order ranges is bounded; beyond it segments are dropped and counted", (t) => {
  const s = new Script({ maxGaps: 2 });
  s.accept();
  s.send({ flags: ".", seq: 101, ack: 1, data: bytes(10, 100) });
  s.send({ flags: ".", seq: 201, ack: 1, data: bytes(10, 200) });
  s.send({ flags: ".", seq: 301, ack: 1, data: bytes(10, 300) });
  t.is(s.stats.drops.get("tcp-ooo-full"), 1);
  s.send({ flags: ".", seq: 1, ack: 1, data: bytes(110) });
  t.deepEqual(s.events, ["accept", "recv 110"]);
  s.send({ flags: ".", seq: 111, ack: 1, data: bytes(90, 110) });
  t.deepEqual(s.events, ["accept", "recv 110", "recv 90", "recv 10"]);
  t.deepEqual(s.received, [...bytes(210)]);
});

test("sequence numbers wrap around 2^32", (t) => {
  const s = new Script({}, 0xffffff00);
  s.accept();
  for (let i = 0; i < 4; i++) s.send({ flags: ".", ack: 1, data: bytes(100, i * 100) });
  s.send({ flags: "F.", ack: 1 });
  t.deepEqual(s.take().slice(1), ["0 [.] seq=1 ack=201 win=5640", "0 [.] seq=1 ack=401 win=5440", "0 [.] seq=1 ack=402 win=5439"]);
  t.deepEqual(s.received, [...bytes(400)]);
  t.is(s.tcp.connections[0]!.state, "close-wait");
});

// ---- Retransmission ----

test("RTO from the measured RTT, doubled on each timeout, until the retry limit gives err(timeout)", (t) => {
  const s = new Script({ maxRetries: 3 });
  const pcb = s.accept({ ackAt: 100 }); // RTT sample 100 ms: RTO = 100 + 4 * 50 = 300 ms
  s.take();
  pcb.write(bytes(100));
  s.run(10_000);
  t.deepEqual(s.take(), [
    "100 [P.] seq=1 ack=1 win=5840 len=100",
    "400 [P.] seq=1 ack=1 win=5840 len=100",
    "1000 [P.] seq=1 ack=1 win=5840 len=100",
    "2200 [P.] seq=1 ack=1 win=5840 len=100",
  ]);
  t.deepEqual(s.events, ["accept", "err timeout"]);
  t.is(pcb.state, "closed");
});

test("a small RTT still gives the minimum RTO of 250 ms, above the peer's delayed-ACK timer", (t) => {
  const s = new Script();
  const pcb = s.accept();
  s.take();
  pcb.write(bytes(100));
  s.run(249);
  t.deepEqual(s.take(), ["0 [P.] seq=1 ack=1 win=5840 len=100"]);
  s.run(1);
  t.deepEqual(s.take(), ["250 [P.] seq=1 ack=1 win=5840 len=100"]);
});

test("after a timeout only one segment goes, then slow start resends from the hole (go-back-N)", (t) => {
  const s = new Script();
  const pcb = s.accept({ window: 65535 });
  s.take();
  pcb.write(bytes(4380));
  t.is(s.take().length, 3);
  s.run(250);
  t.deepEqual(s.take(), ["250 [.] seq=1 ack=1 win=5840 len=1460"]);
  s.send({ flags: ".", ack: 1461, window: 65535 });
  t.deepEqual(s.take(), ["250 [.] seq=1461 ack=1 win=5840 len=1460", "250 [P.] seq=2921 ack=1 win=5840 len=1460"]);
  s.send({ flags: ".", ack: 4381, window: 65535 }); // the receiver had them all along
  t.deepEqual(s.events, ["accept", "sent 1460", "sent 2920"]);
  t.is(s.stats.counters.get("tcp.timeouts"), 1);
});

test("fast retransmit on the third duplicate ACK, NewReno recovery: partial ACK resends the next hole, full ACK ends it", (t) => {
  const s = new Script({ sndbuf: 20_000 });
  const pcb = s.accept({ window: 65535 });
  s.take();
  pcb.write(bytes(20_000));
  t.is(s.take().length, 3); // initial window: 3 segments of 1460
  s.send({ flags: ".", ack: 1461, window: 65535 }); // slow start: cwnd 4 segments
  t.deepEqual(s.take(), ["0 [.] seq=4381 ack=1 win=5840 len=1460", "0 [.] seq=5841 ack=1 win=5840 len=1460"]);
  // Segments at 1461 and 4381 were lost; 2921, 5841 and the next arrive, each bringing a duplicate ACK.
  s.send({ flags: ".", ack: 1461, window: 65535 });
  s.send({ flags: ".", ack: 1461, window: 65535 });
  t.deepEqual(s.take(), []);
  s.send({ flags: ".", ack: 1461, window: 65535 });
  // ssthresh = 5840 / 2 = 2920; cwnd = 2920 + 3 * 1460 = 7300 leaves room for one new segment.
  t.deepEqual(s.take(), ["0 [.] seq=1461 ack=1 win=5840 len=1460", "0 [.] seq=7301 ack=1 win=5840 len=1460"]);
  t.is(s.stats.counters.get("tcp.fast-retransmits"), 1);
  // Partial ACK: 4381 is still missing and goes at once; cwnd = 7300 - 2920 + 1460 leaves room for a new one.
  s.send({ flags: ".", ack: 4381, window: 65535 });
  t.deepEqual(s.take(), ["0 [.] seq=4381 ack=1 win=5840 len=1460", "0 [.] seq=8761 ack=1 win=5840 len=1460"]);
  // Full ACK of all sent before recovery: cwnd = min(ssthresh 2920, flight 2920 + 1460), already full.
  s.send({ flags: ".", ack: 7301, window: 65535 });
  t.deepEqual(s.take(), []);
  s.send({ flags: ".", ack: 8761, window: 65535 });
  t.deepEqual(s.take(), ["0 [.] seq=10221 ack=1 win=5840 len=1460"]);
  t.is(s.stats.counters.get("tcp.retransmits"), 2);
});

test("duplicate ACKs that update the window or carry data do not count toward fast retransmit", (t) => {
  const s = new Script({ sndbuf: 20_000 });
  const pcb = s.accept({ window: 65535 });
  pcb.write(bytes(20_000));
  s.send({ flags: ".", ack: 1461, window: 65535 });
  s.take();
  s.send({ flags: ".", ack: 1461, window: 65000 });
  s.send({ flags: ".", ack: 1461, window: 65000, data: bytes(10) });
  s.send({ flags: ".", ack: 1461, window: 65000 });
  s.send({ flags: ".", ack: 1461, window: 65000 });
  t.is(s.stats.counters.get("tcp.fast-retransmits") ?? 0, 0);
  s.send({ flags: ".", ack: 1461, window: 65000 });
  t.is(s.stats.counters.get("tcp.fast-retransmits"), 1);
});

// ---- Zero window ----

test("a zero window is probed with one byte at RTO intervals that back off; an opened window resumes sending", (t) => {
  const s = new Script();
  const pcb = s.accept({ window: 0 });
  s.take();
  pcb.write(bytes(100));
  t.deepEqual(s.take(), []);
  s.run(1000);
  s.send({ flags: ".", ack: 1, window: 0 }); // the peer's answer: still closed
  s.run(3000);
  t.deepEqual(s.take(), [
    "250 [.] seq=1 ack=1 win=5840 len=1",
    "750 [.] seq=1 ack=1 win=5840 len=1",
    "1750 [.] seq=1 ack=1 win=5840 len=1",
    "3750 [.] seq=1 ack=1 win=5840 len=1",
  ]);
  t.is(pcb.state, "established", "probes never give up while the peer answers");
  s.send({ flags: ".", ack: 1, window: 1000 });
  t.deepEqual(s.take(), ["4000 [P.] seq=1 ack=1 win=5840 len=100"]);
  s.send({ flags: ".", ack: 101, window: 1000 });
  t.deepEqual(s.events, ["accept", "sent 100"]);
});

test("a probe byte the peer accepts counts as sent data", (t) => {
  const s = new Script();
  const pcb = s.accept({ window: 0 });
  pcb.write(bytes(100));
  s.run(250);
  s.send({ flags: ".", ack: 2, window: 500 });
  t.deepEqual(s.take().slice(1), ["250 [.] seq=1 ack=1 win=5840 len=1", "250 [P.] seq=2 ack=1 win=5840 len=99"]);
  s.send({ flags: ".", ack: 101, window: 500 });
  t.deepEqual(s.events, ["accept", "sent 1", "sent 99"]);
});

// ---- Closing ----

test("active close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT for 2 MSL, then CLOSED", (t) => {
  const s = new Script({ mslMs: 1000 });
  const pcb = s.accept();
  s.take();
  pcb.write(bytes(100));
  pcb.close();
  t.is(pcb.state, "fin-wait-1");
  t.deepEqual(s.take(), ["0 [P.] seq=1 ack=1 win=5840 len=100", "0 [F.] seq=101 ack=1 win=5840"]);
  s.send({ flags: ".", ack: 101 });
  t.is(pcb.state, "fin-wait-1");
  s.send({ flags: ".", ack: 102 });
  t.is(pcb.state, "fin-wait-2");
  s.run(100);
  s.send({ flags: "F.", ack: 102 });
  t.is(pcb.state, "time-wait");
  t.deepEqual(s.take(), ["100 [.] seq=102 ack=2 win=5839"]);
  s.run(1999);
  t.is(pcb.state, "time-wait");
  s.run(1);
  t.is(pcb.state, "closed");
  t.is(s.tcp.connections.length, 0);
  t.deepEqual(s.events, ["accept"], "no callbacks after close()");
});

test("FIN rides on the last data segment, even one Nagle was holding", (t) => {
  const s = new Script();
  const pcb = s.accept();
  s.take();
  pcb.write(bytes(10));
  pcb.write(bytes(10));
  pcb.close();
  t.deepEqual(s.take(), ["0 [P.] seq=1 ack=1 win=5840 len=10", "0 [FP.] seq=11 ack=1 win=5840 len=10"]);
  s.send({ flags: ".", ack: 22 });
  t.is(pcb.state, "fin-wait-2");
});

test("passive close: FIN gives recv(null) and an immediate ACK, close() sends FIN from CLOSE-WAIT, its ACK ends LAST-ACK", (t) => {
  const s = new Script();
  const pcb = s.accept();
  s.take();
  s.send({ flags: "F.", ack: 1 });
  t.is(pcb.state, "close-wait");
  t.deepEqual(s.events, ["accept", "fin"]);
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=2 win=5839"], "the FIN's sequence number is not worth moving the window's edge");
  pcb.write(bytes(10));
  pcb.close();
  t.is(pcb.state, "last-ack");
  t.deepEqual(s.take(), ["0 [P.] seq=1 ack=2 win=5839 len=10", "0 [F.] seq=11 ack=2 win=5839"]);
  s.send({ flags: ".", ack: 11 });
  t.is(pcb.state, "last-ack");
  s.send({ flags: ".", ack: 12 });
  t.is(pcb.state, "closed");
  t.is(s.tcp.connections.length, 0);
});

test("simultaneous close: FIN crossing FIN goes through CLOSING to TIME-WAIT", (t) => {
  const s = new Script({ mslMs: 500 });
  const pcb = s.accept();
  s.take();
  pcb.close();
  s.send({ flags: "F.", ack: 1 }); // the peer's FIN, sent before ours arrived
  t.is(pcb.state, "closing");
  s.send({ flags: ".", ack: 2 });
  t.is(pcb.state, "time-wait");
  t.deepEqual(s.take(), ["0 [F.] seq=1 ack=1 win=5840", "0 [.] seq=2 ack=2 win=5839"]);
  s.run(1000);
  t.is(pcb.state, "closed");
});

test("FIN that also acknowledges ours goes from FIN-WAIT-1 straight to TIME-WAIT", (t) => {
  const s = new Script();
  const pcb = s.accept();
  pcb.close();
  s.send({ flags: "F.", ack: 2 });
  t.is(pcb.state, "time-wait");
  t.deepEqual(s.take().slice(1), ["0 [F.] seq=1 ack=1 win=5840", "0 [.] seq=2 ack=2 win=5839"]);
});

test("the FIN is retransmitted like data, and a closed pcb stuck in FIN-WAIT-2 is dropped after finWait2Ms", (t) => {
  const s = new Script({ finWait2Ms: 5000 });
  const pcb = s.accept();
  s.take();
  pcb.close();
  s.run(300);
  s.send({ flags: ".", ack: 2 });
  t.deepEqual(s.take(), ["0 [F.] seq=1 ack=1 win=5840", "250 [F.] seq=1 ack=1 win=5840"]);
  t.is(pcb.state, "fin-wait-2");
  s.run(4999);
  t.is(pcb.state, "fin-wait-2");
  s.run(1);
  t.is(pcb.state, "closed");
});

test("half-close: after shutdown() the pcb keeps receiving until the peer's FIN", (t) => {
  const s = new Script();
  const pcb = s.accept();
  s.take();
  pcb.shutdown();
  t.is(pcb.write(bytes(1)), 0, "no writes after FIN");
  s.send({ flags: ".", ack: 2 });
  t.is(pcb.state, "fin-wait-2");
  s.send({ flags: "P.", ack: 2, data: bytes(300) });
  s.send({ flags: "F.", ack: 2 });
  t.deepEqual(s.events, ["accept", "recv 300", "fin"]);
  t.is(pcb.state, "time-wait");
  t.deepEqual(s.take(), ["0 [F.] seq=1 ack=1 win=5840", "0 [.] seq=2 ack=302 win=5539"]);
});

test("TIME-WAIT answers a retransmitted FIN and starts its 2 MSL again", (t) => {
  const s = new Script({ mslMs: 1000 });
  const pcb = s.accept();
  pcb.close();
  s.send({ flags: "F.", ack: 2 });
  s.take();
  s.run(1500);
  s.send({ flags: "F.", seq: 1, ack: 2 });
  t.deepEqual(s.take(), ["1500 [.] seq=2 ack=2 win=5839"]);
  s.run(1999);
  t.is(pcb.state, "time-wait");
  s.run(1);
  t.is(pcb.state, "closed");
});

test("close() with received data the app never read resets the connection", (t) => {
  const s = new Script();
  unwrap(s.tcp.listen(SERVER_PORT)).accept((pcb) => s.events.push(`accept ${pcb.state}`));
  s.send({ flags: "S", options: { mss: 1460 } });
  s.send({ flags: ".", ack: 1 });
  s.send({ flags: "P.", ack: 1, data: bytes(50) });
  s.take();
  s.tcp.connections[0]!.close();
  t.deepEqual(s.take(), ["0 [R.] seq=1 ack=51 win=0"]);
  t.is(s.tcp.connections.length, 0);
});

test("abort sends RST and calls err(abort), as lwIP does", (t) => {
  const s = new Script();
  const pcb = s.accept();
  s.take();
  pcb.abort();
  t.deepEqual(s.take(), ["0 [R.] seq=1 ack=1 win=0"]);
  t.deepEqual(s.events, ["accept", "err abort"]);
  t.is(pcb.state, "closed");
});

// ---- RST and RFC 5961 ----

test("RST in SYN-SENT: accepted only with an ACK for our SYN, then connect fails with refused", (t) => {
  const s = new Script();
  const pcb = unwrap(s.tcp.connect(PEER, PEER_PORT, (err) => s.events.push(`connect ${err}`)));
  s.send({ flags: "R", seq: 0 });
  s.send({ flags: "R.", seq: 0, ack: 5 });
  t.is(pcb.state, "syn-sent");
  s.send({ flags: "R.", seq: 0, ack: 1 });
  t.is(pcb.state, "closed");
  t.deepEqual(s.events, ["connect refused"]);
  t.deepEqual(s.take(), ["0 [S] seq=0 win=5840 mss=1460 sackOK"], "never a RST for a RST");
});

test("an ACK for something we never sent in SYN-SENT is answered with RST", (t) => {
  const s = new Script();
  s.tcp.connect(PEER, PEER_PORT, () => s.events.push("connect"));
  s.send({ flags: "S.", seq: 0, ack: 77 });
  t.deepEqual(s.take().slice(1), ["0 [R] seq=77 win=0"]);
  t.deepEqual(s.events, []);
});

test("RST in SYN-RECEIVED returns a passive open to listening without telling the app", (t) => {
  const s = new Script();
  const l = unwrap(s.tcp.listen(SERVER_PORT, 1));
  l.accept(() => s.events.push("accept"));
  s.send({ flags: "S", options: { mss: 1460 } });
  s.send({ flags: "R", seq: 1 });
  t.is(s.tcp.connections.length, 0);
  t.is(l.pending, 0);
  s.send({ flags: "S", seq: 0, srcPort: 40001, options: { mss: 1460 } });
  s.send({ flags: ".", seq: 1, ack: 1, srcPort: 40001 });
  t.deepEqual(s.events, ["accept"]);
});

for (const [name, prepare, tells] of [
  ["ESTABLISHED", () => {}, true],
  ["FIN-WAIT-1 after shutdown", (s: Script) => s.tcp.connections[0]!.shutdown(), true],
  [
    "FIN-WAIT-2 after shutdown",
    (s: Script) => {
      s.tcp.connections[0]!.shutdown();
      s.send({ flags: ".", ack: 2 });
    },
    true,
  ],
  ["CLOSE-WAIT", (s: Script) => s.send({ flags: "F.", ack: 1 }), true],
  [
    "CLOSING",
    (s: Script) => {
      s.tcp.connections[0]!.close();
      s.send({ flags: "F.", ack: 1 });
    },
    false,
  ],
  [
    "LAST-ACK",
    (s: Script) => {
      s.send({ flags: "F.", ack: 1 });
      s.tcp.connections[0]!.close();
    },
    false,
  ],
  [
    "TIME-WAIT",
    (s: Script) => {
      s.tcp.connections[0]!.close();
      s.send({ flags: "F.", ack: 2 });
    },
    false,
  ],
] as const) {
  test(`RST in ${name}: exact sequence kills it; in the window only a challenge ACK; outside nothing`, (t) => {
    const s = new Script();
    const pcb = s.accept();
    prepare(s);
    const state = pcb.state;
    s.take();
    const rcvNxt = state === "established" || state === "fin-wait-1" || state === "fin-wait-2" ? 1 : 2;
    s.send({ flags: "R", seq: rcvNxt + 1000 });
    t.is(pcb.state, state);
    s.send({ flags: "R", seq: rcvNxt + 100_000 });
    t.is(pcb.state, state);
    const challenge = s.take();
    t.is(challenge.length, 1);
    t.regex(challenge[0]!, new RegExp(`^0 \\[\\.\\] seq=\\d+ ack=${rcvNxt} `));
    s.send({ flags: "R", seq: rcvNxt });
    t.is(pcb.state, "closed");
    t.deepEqual(
      s.events,
      tells
        ? ["accept", ...(state === "close-wait" ? ["fin"] : []), "err reset"]
        : ["accept", ...(state === "closing" || state === "time-wait" ? [] : ["fin"])],
    );
    t.deepEqual(s.take(), []);
    t.is(s.tcp.connections.length, 0);
  });
}

test("challenge ACKs are rate-limited per connection", (t) => {
  const s = new Script({ challengeAcksPerSecond: 3 });
  s.accept();
  s.take();
  for (let i = 0; i < 5; i++) s.send({ flags: "R", seq: 500 });
  t.is(s.take().length, 3);
  t.is(s.stats.drops.get("tcp-challenge-ack-limited"), 2);
  s.run(1000);
  s.send({ flags: "R", seq: 500 });
  t.deepEqual(s.take(), ["1000 [.] seq=1 ack=1 win=5840"]);
});

test("SYN on an established connection gets a challenge ACK and changes nothing (RFC 5961 4.2)", (t) => {
  const s = new Script();
  const pcb = s.accept();
  s.take();
  s.send({ flags: "S", seq: 5000, options: { mss: 1460 } });
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=1 win=5840"]);
  t.is(pcb.state, "established");
  t.is(s.stats.drops.get("tcp-syn-in-window"), 1);
});

test("an ACK for data never sent is dropped and answered; a far too old ACK too (RFC 5961 5.2)", (t) => {
  const s = new Script();
  const pcb = s.accept();
  pcb.write(bytes(100));
  s.take();
  s.send({ flags: "P.", ack: 5000, data: bytes(10) });
  t.deepEqual(s.take(), ["0 [.] seq=101 ack=1 win=5840"]);
  t.deepEqual(s.events, ["accept"], "its data is not taken either");
  s.send({ flags: ".", ack: -100_000 });
  t.is(s.stats.drops.get("tcp-ack-unsent"), 1);
  t.is(s.stats.drops.get("tcp-ack-too-old"), 1);
});

test("old duplicate data is ACKed again and counted; data from before the window's left edge is trimmed", (t) => {
  const s = new Script();
  s.accept();
  s.send({ flags: ".", ack: 1, data: bytes(100) });
  s.run(200);
  s.take();
  s.send({ flags: ".", seq: 1, ack: 1, data: bytes(100) });
  t.deepEqual(s.take(), ["200 [.] seq=1 ack=101 win=5740"]);
  t.is(s.stats.drops.get("tcp-duplicate"), 1);
  s.send({ flags: ".", seq: 51, ack: 1, data: bytes(100, 50) });
  t.deepEqual(s.received, [...bytes(150)]);
});

// ---- Segments for nobody ----

test("SYN to a closed port gets RST-ACK, an ACK gets RST, a RST gets nothing; all counted", (t) => {
  const s = new Script();
  s.send({ flags: "S", dstPort: 81, options: { mss: 1460 } });
  s.send({ flags: ".", dstPort: 81, seq: 5, ack: 3000 });
  s.send({ flags: "R", dstPort: 81 });
  s.send({ flags: "F.", dstPort: 81, seq: 10, ack: 3000, data: bytes(4) });
  t.deepEqual(s.take(), [`0 [R.] 81>${PEER_PORT} seq=0 ack=1 win=0`, `0 [R] 81>${PEER_PORT} seq=3000 win=0`, `0 [R] 81>${PEER_PORT} seq=3000 win=0`]);
  t.is(s.stats.drops.get("tcp-no-listener"), 4);
});

test("an ACK to a listening port gets RST; segments with a bad checksum are dropped and counted", (t) => {
  const s = new Script();
  s.tcp.listen(SERVER_PORT);
  s.send({ flags: ".", seq: 1, ack: 99 });
  t.deepEqual(s.take(), ["0 [R] seq=99 win=0"]);
  const seg = new Uint8Array(20);
  seg.set([0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0, 0x12, 0x34]);
  s.sendRaw(seg);
  t.is(s.stats.drops.get("tcp-bad-checksum"), 1);
  t.deepEqual(s.take(), []);
});

// ---- Limits ----

test("backlog: half-open and not-yet-accepted connections count; over it SYNs get a SYN cookie and no state", (t) => {
  const s = new Script();
  const l = unwrap(s.tcp.listen(SERVER_PORT, 2));
  s.send({ flags: "S", seq: 0, srcPort: 1001, options: { mss: 1460 } });
  s.send({ flags: "S", seq: 0, srcPort: 1002, options: { mss: 1460 } });
  s.send({ flags: "S", seq: 0, srcPort: 1003, options: { mss: 1460 } });
  t.is(s.take().length, 3);
  t.is(s.stats.counters.get("tcp.syn-cookies-sent"), 1);
  t.is(l.pending, 2);
  s.send({ flags: ".", seq: 1, ack: 1, srcPort: 1001 }); // established, but no accept callback yet
  s.send({ flags: "S", seq: 0, srcPort: 1004, options: { mss: 1460 } });
  t.is(s.stats.counters.get("tcp.syn-cookies-sent"), 2);
  t.is(s.take().length, 1);
  t.is(l.pending, 2);
  l.accept((pcb) => s.events.push(`accept ${pcb.remotePort}`));
  s.run(0);
  t.deepEqual(s.events, ["accept 1001"]);
  t.is(l.pending, 1);
  s.send({ flags: "S", seq: 0, srcPort: 1005, options: { mss: 1460 } });
  t.is(s.take().length, 1);
  t.is(l.pending, 2);
});

test("data that arrives before accept is delivered once the app takes the connection", (t) => {
  const s = new Script();
  const l = unwrap(s.tcp.listen(SERVER_PORT));
  s.send({ flags: "S", options: { mss: 1460 } });
  s.send({ flags: "P.", ack: 1, data: bytes(30) });
  s.send({ flags: "F.", ack: 1 });
  l.accept((pcb) => {
    s.events.push(`accept ${pcb.state}`);
    s.watch(pcb);
  });
  s.run(0);
  t.deepEqual(s.events, ["accept close-wait", "recv 30", "fin"]);
});

test("closing a listener resets connections the app has not accepted", (t) => {
  const s = new Script();
  const l = unwrap(s.tcp.listen(SERVER_PORT));
  s.send({ flags: "S", options: { mss: 1460 } });
  s.send({ flags: ".", ack: 1 });
  s.take();
  l.close();
  t.is(l.state, "closed");
  t.deepEqual(s.take(), ["0 [R.] seq=1 ack=1 win=0"]);
  s.send({ flags: "S", seq: 0, srcPort: 2000, options: { mss: 1460 } });
  t.deepEqual(s.take(), [`0 [R.] 80>2000 seq=0 ack=1 win=0`]);
});

test("the number of connections is bounded: extra SYNs are dropped and connect fails with no-pcb", (t) => {
  const s = new Script({ maxPcbs: 1 });
  s.accept();
  s.send({ flags: "S", seq: 0, srcPort: 2000, options: { mss: 1460 } });
  t.is(s.stats.drops.get("tcp-pcb-limit"), 1);
  t.deepEqual(
    s.tcp.connect(PEER, 7, () => {}),
    { ok: false, reason: "no-pcb" },
  );
  t.deepEqual(s.tcp.listen(SERVER_PORT), { ok: false, reason: "port-in-use" }, "the port is taken");
});

test("TIME-WAIT pcbs are bounded: the oldest is forgotten for a new one", (t) => {
  const s = new Script({ maxTimeWait: 1 });
  const l = unwrap(s.tcp.listen(SERVER_PORT));
  l.accept((pcb) => pcb.close());
  for (const port of [3000, 3001]) {
    s.send({ flags: "S", seq: 0, srcPort: port, options: { mss: 1460 } });
    s.send({ flags: ".", seq: 1, ack: 1, srcPort: port });
    s.send({ flags: "F.", seq: 1, ack: 2, srcPort: port });
  }
  t.deepEqual(
    s.tcp.connections.map((p) => `${p.remotePort} ${p.state}`),
    ["3001 time-wait"],
  );
  t.is(s.stats.counters.get("tcp.time-wait-recycled"), 1);
});

// ---- Timers the app sees ----

test("keepalive probes an idle peer with an old sequence number and gives up after keepCount unanswered", (t) => {
  const s = new Script({ keepalive: true, keepIdleMs: 1000, keepIntervalMs: 300, keepCount: 2 });
  const pcb = s.accept();
  s.run(1000);
  s.send({ flags: ".", seq: 1, ack: 1 }); // answered: idle again from here
  s.run(2000);
  t.deepEqual(s.take().slice(1), ["1000 [.] seq=0 ack=1 win=5840", "2000 [.] seq=0 ack=1 win=5840", "2300 [.] seq=0 ack=1 win=5840"]);
  t.deepEqual(s.events, ["accept", "err timeout"]);
  t.is(pcb.state, "closed");
});

test("keepalive is off by default and can be turned on per pcb", (t) => {
  const s = new Script({ keepIdleMs: 1000 });
  const pcb = s.accept();
  s.take();
  s.run(5000);
  t.deepEqual(s.take(), []);
  pcb.keepalive = true;
  s.run(1000);
  t.deepEqual(s.take(), ["6000 [.] seq=0 ack=1 win=5840"]);
});

test("poll calls back at its interval until the pcb is closed", (t) => {
  const s = new Script();
  const pcb = s.accept();
  pcb.poll(() => s.events.push(`poll ${s.clock.now()}`), 500);
  s.run(1200);
  pcb.close();
  s.run(2000);
  t.deepEqual(s.events, ["accept", "poll 500", "poll 1000"]);
});

test("an address change kills the connections bound to the old address", (t) => {
  const s = new Script();
  const pcb = s.accept();
  s.stack.netif.setAddress({ ip: ip("10.0.0.3"), mask: ip("255.255.255.0"), gateway: ip("10.0.0.1") });
  t.deepEqual(s.events, ["accept", "err address-changed"]);
  t.is(pcb.state, "closed");
});

// ---- Options ----

test("window scaling: offered when the window exceeds 64 KiB, used only when both sides offer it", (t) => {
  const s = new Script({ wnd: 200_000, sndbuf: 200_000 });
  unwrap(s.tcp.listen(SERVER_PORT)).accept((pcb) => s.watch(pcb, true));
  s.send({ flags: "S", window: 1000, options: { mss: 1460, windowScale: 3 } });
  s.send({ flags: ".", ack: 1, window: 1000 }); // 8000 bytes, scaled
  const pcb = s.tcp.connections[0]!;
  pcb.write(bytes(10_000));
  s.send({ flags: ".", ack: 1, data: bytes(1000) });
  s.run(200);
  // Our window, 200000 bytes, goes out shifted by 2; 1000 bytes held by the app shrink it.
  t.deepEqual(s.take(), [
    "0 [S.] seq=0 ack=1 win=65535 mss=1460 ws=2",
    "0 [.] seq=1 ack=1 win=50000 len=1460",
    "0 [.] seq=1461 ack=1 win=50000 len=1460",
    "0 [.] seq=2921 ack=1 win=50000 len=1460",
    "200 [.] seq=4381 ack=1001 win=49750",
  ]);
  // The peer's window is scaled by its 3: 1000 means 8000 bytes, room for all 5620 bytes left
  // (unscaled, 1000 bytes would hold no full segment).
  s.send({ flags: ".", ack: 4381, window: 1000 });
  t.deepEqual(
    s.take().map((l) => l.split(" ")[2]),
    ["seq=4381", "seq=5841", "seq=7301", "seq=8761"],
  );
  s.send({ flags: "S", seq: 0, srcPort: 5000, options: { mss: 1460 } });
  s.send({ flags: ".", seq: 1, ack: 1, srcPort: 5000, data: bytes(100) });
  s.run(200);
  t.deepEqual(s.take(), [`200 [S.] 80>5000 seq=0 ack=1 win=65535 mss=1460`, `400 [.] 80>5000 seq=1 ack=101 win=65435`]);
});

test("ISNs come from the random source: each connection's differs, the same seed repeats them", (t) => {
  const isns = (seed: number) => {
    const s = new Script({}, 1000, seed);
    s.tcp.listen(SERVER_PORT);
    for (const port of [1, 2, 3]) s.send({ flags: "S", seq: 0, srcPort: port });
    return s.segments.map((seg) => seg.seq);
  };
  const a = isns(1);
  t.is(new Set(a).size, 3);
  t.deepEqual(isns(1), a);
  t.notDeepEqual(isns(2), a);
});
