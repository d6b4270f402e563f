import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import { checksum } from "../../modules/wire/checksum.ts";
import { type IcmpMessage, ICMP_HEADER_LEN, ICMP_UNREACH_FRAG_NEEDED, ICMP_UNREACH_PORT, decodeIcmp, encodeIcmp, icmpLength } from "../../modules/wire/icmp.ts";
import { applyDamage, damage, hex, holds, isViewWithin, toHex } from "../support/helpers.ts";

// Captured with tshark on Linux loopback: `ping -c 1 -s 16 127.0.0.1` (iputils) and the
// kernel's reply. ICMP part only (after the 20-byte IP header); the data is ping's timeval.
const PING_REQUEST = hex("08 00 26 b5 2e 97 00 01 b5 4f 02 6b 00 00 00 00 ea f7 00 00 00 00 00 00");
const PING_REPLY = hex("00 00 2e b5 2e 97 00 01 b5 4f 02 6b 00 00 00 00 ea f7 00 00 00 00 00 00");

const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });
const bytes = fc.uint8Array({ maxLength: 100 });

const icmpMessage: fc.Arbitrary<IcmpMessage> = fc.oneof(
  fc.record({ kind: fc.constantFrom("echo-request" as const, "echo-reply" as const), code: u8, id: u16, seq: u16, data: bytes }),
  fc.record({ kind: fc.constant("unreachable" as const), code: u8, nextHopMtu: u16, quoted: bytes }),
  fc.record({ kind: fc.constant("time-exceeded" as const), code: u8, quoted: bytes }),
  fc.record({
    kind: fc.constant("other" as const),
    type: u8.filter((type) => ![0, 3, 8, 11].includes(type)),
    code: u8,
    rest: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    body: bytes,
  }),
);

function encoded(m: IcmpMessage): Uint8Array {
  const b = new Uint8Array(icmpLength(m));
  encodeIcmp(m, b);
  return b;
}

test("decodes a real ping request and its reply, checksums verified", (t) => {
  const req = decodeIcmp(PING_REQUEST);
  const rep = decodeIcmp(PING_REPLY);
  if (!req.ok || !rep.ok) return t.fail("did not decode");
  t.like(req.value, { kind: "echo-request", code: 0, id: 0x2e97, seq: 1, checksum: 0x26b5 });
  t.like(rep.value, { kind: "echo-reply", code: 0, id: 0x2e97, seq: 1, checksum: 0x2eb5 });
  if (req.value.kind !== "echo-request") return;
  t.is(toHex(req.value.data), toHex(PING_REQUEST.subarray(8)));
  // Answering the way the stack will gives the same bytes as the Linux kernel.
  t.is(toHex(encoded({ ...req.value, kind: "echo-reply" })), toHex(PING_REPLY));
  t.is(toHex(encoded(req.value)), toHex(PING_REQUEST));
});

test("round trip: decode(encode(m)) gives m back plus its checksum", (t) => {
  holds(
    t,
    fc.property(icmpMessage, (m) => {
      const b = new Uint8Array(icmpLength(m));
      if (encodeIcmp(m, b) !== b.length || checksum(b) !== 0) return false;
      const r = decodeIcmp(b);
      if (!r.ok) return false;
      const { checksum: sum, ...rest } = r.value;
      return isDeepStrictEqual(rest, m) && sum === ((b[2]! << 8) | b[3]!);
    }),
  );
});

test("fragmentation-needed carries the next-hop MTU in bytes 6-7", (t) => {
  const quoted = hex("45 00 05 dc 00 01 40 00 40 11 00 00 0a 00 00 01 0a 00 00 02 04 00 00 35 05 c8 00 00");
  const b = encoded({ kind: "unreachable", code: ICMP_UNREACH_FRAG_NEEDED, nextHopMtu: 1400, quoted });
  t.is(toHex(b.subarray(0, ICMP_HEADER_LEN)).replace(/^(..)(..)(....)/, "$1$2...."), "0304....00000578");
  t.is(toHex(b.subarray(ICMP_HEADER_LEN)), toHex(quoted));
  t.like(decodeIcmp(b), { ok: true, value: { kind: "unreachable", code: 4, nextHopMtu: 1400 } });
});

test("port unreachable leaves the MTU field zero", (t) => {
  const b = encoded({ kind: "unreachable", code: ICMP_UNREACH_PORT, nextHopMtu: 0, quoted: hex("4500") });
  t.is(toHex(b.subarray(4, 8)), "00000000");
  t.is(b[1], 3);
});

test("other types keep bytes 4-7 and the body as they were", (t) => {
  // Type 13, timestamp request: identifier and sequence in the rest of the header.
  const b = encoded({ kind: "other", type: 13, code: 0, rest: hex("00 07 00 09"), body: hex("00 00 00 01 00 00 00 00 00 00 00 00") });
  const r = decodeIcmp(b);
  if (!r.ok || r.value.kind !== "other") return t.fail("not decoded as other");
  t.is(r.value.type, 13);
  t.is(toHex(r.value.rest), "00070009");
  t.is(toHex(r.value.body), "000000010000000000000000");
});

test("short messages and bad checksums are rejected", (t) => {
  t.deepEqual(decodeIcmp(PING_REQUEST.subarray(0, 7)), { ok: false, reason: "icmp-short" });
  holds(
    t,
    fc.property(fc.nat(PING_REQUEST.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const b = PING_REQUEST.slice();
      b[i]! ^= x;
      const r = decodeIcmp(b);
      return !r.ok && r.reason === "icmp-bad-checksum";
    }),
  );
});

test("random bytes never throw", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const r = decodeIcmp(b);
      return r.ok ? b.length >= ICMP_HEADER_LEN : typeof r.reason === "string";
    }),
  );
});

test("damaged or truncated encodings fail or decode within the shorter bytes", (t) => {
  holds(
    t,
    fc.property(icmpMessage, damage, (m, d) => {
      const b = applyDamage(encoded(m), d);
      const r = decodeIcmp(b);
      if (!r.ok) return r.reason === "icmp-short" || r.reason === "icmp-bad-checksum";
      const v = r.value;
      const views = v.kind === "other" ? [v.rest, v.body] : ["data" in v ? v.data : v.quoted];
      // What decoded must re-encode to these bytes, except the unused bytes 4-5 of an
      // unreachable (written as zero) and so the checksum.
      const again = encoded(v);
      const expected = b.slice();
      if (v.kind === "unreachable") for (const c of [again, expected]) c.fill(0, 2, 6);
      return views.every((view) => isViewWithin(view, b)) && toHex(again) === toHex(expected);
    }),
  );
});
