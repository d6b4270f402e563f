// Issue 10 item 10: reassembly never throws, never merges overlapping fragments, wants
// multiples of 8 bytes before the last fragment, and makes room for new datagrams.

import test from "ava";
import { IP_PROTO_ICMP } from "../../modules/wire/ipv4.ts";
import { ip } from "../support/bench.ts";
import { echoRequest, hostAndPeer, icmpOf, ipFrame, PEER_IP } from "../support/frames.ts";

const US = ip("10.0.0.2");

function setUp() {
  const { b, s, tap } = hostAndPeer();
  const replies: number[] = []; // virtual times of echo replies
  tap.link.setReceiver((f) => icmpOf(f)?.kind === "echo-reply" && replies.push(b.clock.now()));
  /** Sends bytes [from, to) of an ICMP message as one fragment of datagram `id`. */
  const send = (icmp: Uint8Array, from: number, to: number, mf: boolean, id = 99) =>
    tap.link.transmit(ipFrame(PEER_IP, US, IP_PROTO_ICMP, icmp.subarray(from, to), { offset: from, mf, id }));
  return { b, s, replies, send };
}

/** An echo request's ICMP bytes: 8 of header and `size` of data. */
function echo(size: number, seq = 1): Uint8Array {
  return echoRequest(PEER_IP, US, size, seq).subarray(34);
}

test("a fragment past the last fragment's end drops the datagram, counted, and never throws", (t) => {
  const { b, s, replies, send } = setUp();
  // What the bad fragments carry past the end: the datagram goes.
  const far = new Uint8Array(40);
  send(far, 16, 24, true, 100);
  send(far, 24, 32, true, 100);
  send(far, 0, 8, true, 100);
  send(far, 8, 16, false, 100);
  b.clock.runUntil(b.clock.now() + 1);
  t.is(s.stats.drops.get("internal-error"), undefined);
  t.is(s.stats.drops.get("ip-reassembly-past-end"), 1);
  t.deepEqual(replies, []);
  // The slot is free again: the same datagram sent right is answered at once.
  const whole = echo(24, 2);
  const at = b.clock.now();
  send(whole, 16, 32, false, 100);
  send(whole, 0, 16, true, 100);
  b.clock.runUntil(at + 1);
  t.is(replies.length, 1);
  t.true(replies[0]! - at <= 1);
});

test("a last fragment that contradicts another's end drops the datagram", (t) => {
  const { b, s, replies, send } = setUp();
  const icmp = echo(24);
  send(icmp, 16, 32, false);
  send(icmp, 8, 16, false); // a second, shorter, "last" fragment
  send(icmp, 0, 8, true);
  b.clock.runUntil(1);
  t.is(s.stats.drops.get("ip-reassembly-past-end"), 1);
  t.is(s.stats.drops.get("internal-error"), undefined);
  t.deepEqual(replies, []);
});

test("overlapping fragments drop the whole datagram; exact duplicates are only ignored", (t) => {
  const { b, s, replies, send } = setUp();
  const icmp = echo(24);
  send(icmp, 0, 16, true);
  send(icmp, 8, 32, false); // overlaps bytes 8-15, which it could rewrite
  send(icmp, 16, 32, false); // would have completed it
  b.clock.runUntil(1);
  t.is(s.stats.drops.get("ip-reassembly-overlap"), 1);
  t.deepEqual(replies, []);
  const again = echo(24, 2);
  send(again, 0, 16, true, 7);
  send(again, 0, 16, true, 7);
  send(again, 16, 32, false, 7);
  b.clock.runUntil(2);
  t.is(s.stats.drops.get("ip-fragment-duplicate"), 1);
  t.is(replies.length, 1);
});

test("a non-last fragment whose payload is not a multiple of 8 bytes is dropped and takes no slot", (t) => {
  const { b, s, send } = setUp();
  const icmp = echo(24);
  send(icmp, 0, 12, true);
  b.clock.runUntil(30_000);
  t.is(s.stats.drops.get("ip-fragment-bad-length"), 1);
  t.is(s.stats.drops.get("ip-reassembly-timeout"), undefined);
  t.is(s.stats.counters.get("ip.fragments"), undefined);
});

test("with the table full of stray first fragments, the oldest is evicted and a new datagram is answered at once", (t) => {
  const { b, s, replies, send } = setUp();
  const stray = new Uint8Array(16);
  for (const id of [1, 2, 3]) send(stray, 0, 8, true, id); // three slots, the default
  b.clock.runUntil(1000);
  const at = b.clock.now();
  const icmp = echo(24);
  send(icmp, 0, 16, true, 50);
  send(icmp, 16, 32, false, 50);
  b.clock.runUntil(at + 1);
  t.is(replies.length, 1);
  t.true(replies[0]! - at <= 1, `answered ${replies[0]! - at} ms after`);
  t.is(s.stats.drops.get("ip-reassembly-evicted"), 1);
  // The reason a full table used to refuse a new datagram under, before eviction; no longer a DropReason.
  t.false((s.stats.drops as ReadonlyMap<string, number>).has("ip-reassembly-full"));
  // The two younger strays still time out 15 s after they came, the evicted one does not.
  b.clock.runUntil(16_000);
  t.is(s.stats.drops.get("ip-reassembly-timeout"), 2);
});
