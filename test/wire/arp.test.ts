import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, type ArpPacket, arpLength, decodeArp, encodeArp } from "../../modules/wire/arp.ts";
import { applyDamage, damage, hex, holds, toHex } from "../support/helpers.ts";

const arpPacket: fc.Arbitrary<ArpPacket> = fc.record({
  op: fc.integer({ min: 0, max: 0xffff }),
  senderMac: fc.uint8Array({ minLength: 6, maxLength: 6 }),
  senderIp: fc.integer({ min: 0, max: 0xffffffff }),
  targetMac: fc.uint8Array({ minLength: 6, maxLength: 6 }),
  targetIp: fc.integer({ min: 0, max: 0xffffffff }),
});

function encoded(p: ArpPacket): Uint8Array {
  const b = new Uint8Array(arpLength());
  encodeArp(p, b);
  return b;
}

test("encodes a request in the RFC 826 layout", (t) => {
  const b = encoded({
    op: ARP_REQUEST,
    senderMac: hex("02 00 00 00 00 01"),
    senderIp: 0x0a000001,
    targetMac: new Uint8Array(6),
    targetIp: 0x0a000002,
  });
  t.is(toHex(b), "0001" + "0800" + "06" + "04" + "0001" + "020000000001" + "0a000001" + "000000000000" + "0a000002");
});

test("writes at an offset and reports 28 bytes", (t) => {
  const buf = new Uint8Array(40).fill(0xee);
  const p: ArpPacket = { op: ARP_REPLY, senderMac: hex("aabbccddeeff"), senderIp: 1, targetMac: hex("112233445566"), targetIp: 2 };
  t.is(encodeArp(p, buf, 5), ARP_LEN);
  t.is(buf[4], 0xee);
  t.is(buf[33], 0xee);
  const r = decodeArp(buf.subarray(5));
  t.true(r.ok);
  if (r.ok) t.deepEqual(r.value, p);
});

test("round trip: decode(encode(p)) equals p", (t) => {
  holds(
    t,
    fc.property(arpPacket, (p) => {
      const r = decodeArp(encoded(p));
      return r.ok && isDeepStrictEqual(r.value, p);
    }),
  );
});

test("trailing Ethernet padding is ignored", (t) => {
  holds(
    t,
    fc.property(arpPacket, fc.uint8Array({ maxLength: 40 }), (p, pad) => {
      const b = new Uint8Array(ARP_LEN + pad.length);
      encodeArp(p, b);
      b.set(pad, ARP_LEN);
      const r = decodeArp(b);
      return r.ok && isDeepStrictEqual(r.value, p);
    }),
  );
});

test("decoded MACs are copies, not views of the frame", (t) => {
  const b = encoded({ op: 1, senderMac: hex("010203040506"), senderIp: 0, targetMac: hex("0a0b0c0d0e0f"), targetIp: 0 });
  const r = decodeArp(b);
  if (!r.ok) return t.fail(r.reason);
  b.fill(0);
  t.is(toHex(r.value.senderMac), "010203040506");
  t.is(toHex(r.value.targetMac), "0a0b0c0d0e0f");
});

test("rejects other hardware and protocol types and lengths", (t) => {
  const good = encoded({ op: 1, senderMac: new Uint8Array(6), senderIp: 0, targetMac: new Uint8Array(6), targetIp: 0 });
  const bad = (i: number, v: number) => {
    const b = good.slice();
    b[i] = v;
    return decodeArp(b);
  };
  t.deepEqual(bad(1, 6), { ok: false, reason: "arp-bad-hardware" }); // IEEE 802 hardware type
  t.deepEqual(bad(4, 8), { ok: false, reason: "arp-bad-hardware" }); // 8-byte hardware address
  t.deepEqual(bad(2, 0x86), { ok: false, reason: "arp-bad-protocol" }); // 0x86dd: IPv6
  t.deepEqual(bad(5, 16), { ok: false, reason: "arp-bad-protocol" });
  t.deepEqual(decodeArp(good.subarray(0, 27)), { ok: false, reason: "arp-short" });
});

test("random bytes never throw", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const r = decodeArp(b);
      return r.ok ? b.length >= ARP_LEN : typeof r.reason === "string";
    }),
  );
});

test("damaged or truncated encodings fail or decode to what the shorter bytes say", (t) => {
  holds(
    t,
    fc.property(arpPacket, damage, (p, d) => {
      const b = applyDamage(encoded(p), d);
      const r = decodeArp(b);
      if (b.length < ARP_LEN) return !r.ok && r.reason === "arp-short";
      if (!r.ok) return r.reason === "arp-bad-hardware" || r.reason === "arp-bad-protocol";
      // Whatever decoded must re-encode to exactly the (damaged) bytes.
      return toHex(encoded(r.value)) === toHex(b);
    }),
  );
});
