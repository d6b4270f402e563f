// ICMP errors delivered to the pcbs they concern (issue 10, TCP 4; RFC 1122 4.2.3.9 and
// 4.1.3.3, RFC 1191, RFC 5927): hard errors end a connection attempt, soft ones are noted,
// "fragmentation needed" lowers the MSS and resends, and UDP pcbs hear of theirs.

import test from "ava";
import { ICMP_UNREACH_FRAG_NEEDED, ICMP_UNREACH_HOST, ICMP_UNREACH_PORT } from "../../modules/wire/icmp.ts";
import { unwrap } from "../../modules/wire/result.ts";
import { bench, ip } from "../support/bench.ts";
import { PEER, PEER_PORT, Script } from "../support/tcp-script.ts";

const ROUTER = ip("10.0.0.1");

test("port unreachable in SYN-SENT fails the connection with refused; one quoting a sequence not in flight is ignored", (t) => {
  const s = new Script();
  unwrap(s.tcp.connect(PEER, PEER_PORT, (err) => s.events.push(`connect ${err} at ${s.clock.now()}`)));
  const quote = s.quote().slice();
  quote[24] = quote[24]! ^ 0x80; // another sequence number: a blind guess
  s.sendIcmp({ kind: "unreachable", code: ICMP_UNREACH_PORT, nextHopMtu: 0, quoted: quote });
  t.is(s.stats.drops.get("tcp-icmp-out-of-window"), 1);
  s.run(10);
  s.sendIcmp({ kind: "unreachable", code: ICMP_UNREACH_PORT, nextHopMtu: 0, quoted: s.quote() });
  t.deepEqual(s.events, ["connect refused at 10"]);
  t.is(s.tcp.connections.length, 0);
});

test("soft errors are only noted: host unreachable and time exceeded leave the connection to its timers", (t) => {
  const s = new Script();
  const pcb = unwrap(s.tcp.connect(PEER, PEER_PORT, (err) => s.events.push(`connect ${err}`)));
  s.sendIcmp({ kind: "unreachable", code: ICMP_UNREACH_HOST, nextHopMtu: 0, quoted: s.quote() }, ROUTER);
  s.sendIcmp({ kind: "time-exceeded", code: 0, quoted: s.quote() }, ROUTER);
  t.is(pcb.state, "syn-sent");
  t.is(pcb.lastIcmpError, "time-exceeded");
  s.run(1000);
  t.deepEqual(s.take(), ["0 [S] seq=0 win=5840 mss=1460 sackOK", "1000 [S] seq=0 win=5840 mss=1460 sackOK"]);
  t.deepEqual(s.events, []);
});

test("fragmentation needed lowers the MSS to the next hop's MTU and resends what was in flight (RFC 1191)", (t) => {
  const s = new Script();
  const pcb = s.connect();
  s.take();
  pcb.write(Script.bytes(2920));
  t.deepEqual(s.take(), ["0 [.] seq=1 ack=1 win=5840 len=1460", "0 [P.] seq=1461 ack=1 win=5840 len=1460"]);
  s.run(5);
  s.sendIcmp({ kind: "unreachable", code: ICMP_UNREACH_FRAG_NEEDED, nextHopMtu: 1000, quoted: s.quote(s.datagrams.length - 2) }, ROUTER);
  t.deepEqual(s.take(), [
    "5 [.] seq=1 ack=1 win=5840 len=960",
    "5 [.] seq=961 ack=1 win=5840 len=960",
    "5 [.] seq=1921 ack=1 win=5840 len=960",
    "5 [P.] seq=2881 ack=1 win=5840 len=40",
  ]);
  s.run(5);
  s.sendIcmp({ kind: "unreachable", code: ICMP_UNREACH_FRAG_NEEDED, nextHopMtu: 68, quoted: s.quote(s.datagrams.length - 4) }, ROUTER);
  t.is(s.stats.counters.get("tcp.pmtu-lowered"), 2);
  t.deepEqual(
    s.take().map((line) => line.split(" ").at(-1)),
    ["len=512", "len=512", "len=512", "len=512", "len=512"],
    "never below Linux's 552-byte floor, less 40 bytes of headers; the short tail waits (Nagle)",
  );
  s.send({ flags: ".", ack: 2561 });
  t.deepEqual(s.take(), ["10 [P.] seq=2561 ack=1 win=5840 len=360"]);
  s.send({ flags: ".", ack: 2921 });
  t.deepEqual(s.events, ["connected", "sent 2560", "sent 360"]);
});

test("a UDP pcb hears of the ICMP errors about what it sent", (t) => {
  const b = bench(5);
  const a = b.host(2);
  b.host(3); // nothing listens on its port 9
  const pcb = a.udp.pcb();
  const errors: string[] = [];
  pcb.error((kind, to, port) => errors.push(`${kind} ${to === ip("10.0.0.3")} ${port} at ${b.clock.now()}`));
  pcb.sendTo(new Uint8Array(4), ip("10.0.0.3"), 9);
  b.clock.runUntil(10);
  t.deepEqual(errors, ["port-unreachable true 9 at 0.4"]);
});
