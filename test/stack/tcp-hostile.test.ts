// TCP against a hostile or broken peer (issue 10): what a silent, slow, half-open or
// spoofing peer can make a pcb hold, and for how long. Scripted on one stack under the
// virtual clock, with exact virtual times (see tcp-script.ts for the line format).

import test from "ava";
import { siphash24 } from "../../modules/stack/tcp-isn.ts";
import { unwrap } from "../../modules/wire/result.ts";
import { PEER, PEER_PORT, Script } from "./tcp-script.ts";

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
