import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import { checksum, pseudoHeaderSum } from "../../modules/wire/checksum.ts";
import { IP_PROTO_UDP } from "../../modules/wire/ipv4.ts";
import { type UdpDatagram, UDP_HEADER_LEN, decodeUdp, encodeUdp, udpLength } from "../../modules/wire/udp.ts";
import { applyDamage, damage, hex, holds, isViewWithin, toHex } from "../support/helpers.ts";

const u16 = fc.integer({ min: 0, max: 0xffff });
const ip = fc.integer({ min: 0, max: 0xffffffff });
const udpDatagram: fc.Arbitrary<UdpDatagram> = fc.record({ srcPort: u16, dstPort: u16, payload: fc.uint8Array({ maxLength: 300 }) });

const SRC = 0xc0a80001; // 192.168.0.1
const DST = 0xc0a800ff;

function encoded(d: UdpDatagram, src = SRC, dst = DST): Uint8Array {
  const b = new Uint8Array(udpLength(d));
  encodeUdp(d, src, dst, b);
  return b;
}

test("encodes ports, length and a checksum that covers the pseudo-header", (t) => {
  const b = encoded({ srcPort: 68, dstPort: 67, payload: hex("01 02 03") });
  t.is(toHex(b.subarray(0, 6)), "0044" + "0043" + "000b");
  t.is(toHex(b.subarray(8)), "010203");
  // Verified independently of decodeUdp: the sum over pseudo-header and datagram folds to zero.
  t.is(checksum(b, 0, b.length, pseudoHeaderSum(SRC, DST, IP_PROTO_UDP, b.length)), 0);
});

test("round trip: decode(encode(d)) gives d back plus length and checksum", (t) => {
  holds(
    t,
    fc.property(udpDatagram, ip, ip, fc.nat(6), (d, src, dst, off) => {
      const b = new Uint8Array(off + udpLength(d));
      if (encodeUdp(d, src, dst, b, off) !== udpLength(d)) return false;
      const r = decodeUdp(b.subarray(off), src, dst);
      if (!r.ok) return false;
      const { length, checksum: sum, ...rest } = r.value;
      return isDeepStrictEqual(rest, d) && length === UDP_HEADER_LEN + d.payload.length && sum !== 0 && sum === ((b[off + 6]! << 8) | b[off + 7]!);
    }),
  );
});

test("a zero checksum means none was computed, and is accepted", (t) => {
  holds(
    t,
    fc.property(udpDatagram, (d) => {
      const b = encoded(d);
      b[6] = b[7] = 0;
      const r = decodeUdp(b, SRC ^ 1, DST); // even with addresses the checksum would reject
      return r.ok && r.value.checksum === 0 && isDeepStrictEqual(r.value.payload, d.payload);
    }),
  );
});

test("a checksum that computes to zero is sent as 0xffff", (t) => {
  // Make the payload word equal to the checksum of the datagram with a zero payload word:
  // the sum then becomes 0xffff and its complement 0.
  const d = { srcPort: 1000, dstPort: 2000, payload: new Uint8Array(2) };
  const c = (encoded(d)[6]! << 8) | encoded(d)[7]!;
  const b = encoded({ ...d, payload: Uint8Array.of(c >>> 8, c & 0xff) });
  t.is(toHex(b.subarray(6, 8)), "ffff");
  t.like(decodeUdp(b, SRC, DST), { ok: true, value: { checksum: 0xffff } });
});

test("a changed byte or a wrong address fails the checksum", (t) => {
  holds(
    t,
    fc.property(udpDatagram, fc.nat(), fc.integer({ min: 1, max: 255 }), (d, at, x) => {
      const b = encoded(d);
      const i = at % b.length;
      if (i === 4 || i === 5) return true; // the length field: a length error, tested below
      b[i]! ^= x;
      const r = decodeUdp(b, SRC, DST);
      if (b[6] === 0 && b[7] === 0) return r.ok; // the change made the checksum "not computed"
      return !r.ok && r.reason === "udp-bad-checksum";
    }),
  );
  t.deepEqual(decodeUdp(encoded({ srcPort: 1, dstPort: 2, payload: hex("00") }), SRC, DST + 1), { ok: false, reason: "udp-bad-checksum" });
});

test("the length field must match the buffer", (t) => {
  const b = encoded({ srcPort: 1, dstPort: 2, payload: hex("aa bb cc dd") });
  const longer = new Uint8Array(b.length + 2);
  longer.set(b);
  t.deepEqual(decodeUdp(longer, SRC, DST), { ok: false, reason: "udp-bad-length" });
  t.deepEqual(decodeUdp(b.subarray(0, b.length - 1), SRC, DST), { ok: false, reason: "udp-truncated" });
  const tiny = b.slice();
  tiny[5] = 7; // below the header size
  t.deepEqual(decodeUdp(tiny, SRC, DST), { ok: false, reason: "udp-bad-length" });
  t.deepEqual(decodeUdp(b.subarray(0, 7), SRC, DST), { ok: false, reason: "udp-short" });
});

test("random bytes never throw", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 64 }), ip, ip, (b, src, dst) => {
      const r = decodeUdp(b, src, dst);
      return r.ok ? r.value.length === b.length && isViewWithin(r.value.payload, b) : typeof r.reason === "string";
    }),
  );
});

test("damaged or truncated encodings fail or decode within the shorter bytes", (t) => {
  holds(
    t,
    fc.property(udpDatagram, damage, (d, dmg) => {
      const b = applyDamage(encoded(d), dmg);
      const r = decodeUdp(b, SRC, DST);
      if (!r.ok) return typeof r.reason === "string";
      return r.value.length === b.length && isViewWithin(r.value.payload, b) && r.value.payload.length === b.length - UDP_HEADER_LEN;
    }),
  );
});
