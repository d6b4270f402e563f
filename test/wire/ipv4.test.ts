import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import { checksum } from "../../modules/wire/checksum.ts";
import {
  type Ipv4Packet,
  IP_PROTO_UDP,
  IPV4_MIN_HEADER_LEN,
  decodeIpv4,
  encodeIpv4,
  encodeIpv4Header,
  ipv4HeaderLength,
  ipv4Length,
} from "../../modules/wire/ipv4.ts";
import { applyDamage, damage, hex, holds, isViewWithin, toHex } from "../support/helpers.ts";

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Valid packets: options already a multiple of 4 bytes, so decoding gives them back unchanged. */
const ipv4Packet: fc.Arbitrary<Ipv4Packet> = fc.record({
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  id: u16,
  df: fc.boolean(),
  mf: fc.boolean(),
  fragmentOffsetBytes: fc.integer({ min: 0, max: 0x1fff }).map((units) => units * 8),
  ttl: u8,
  protocol: u8,
  src: u32,
  dst: u32,
  options: fc.integer({ min: 0, max: 10 }).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 })),
  payload: fc.uint8Array({ maxLength: 300 }),
});

function encoded(p: Ipv4Packet): Uint8Array {
  const b = new Uint8Array(ipv4Length(p));
  encodeIpv4(p, b);
  return b;
}

const sample: Ipv4Packet = {
  dscp: 46,
  ecn: 1,
  id: 0x1234,
  df: false,
  mf: true,
  fragmentOffsetBytes: 1480,
  ttl: 64,
  protocol: IP_PROTO_UDP,
  src: 0x0a000001,
  dst: 0x0a0000fe,
  options: new Uint8Array(0),
  payload: hex("deadbeef"),
};

test("encodes the header fields where RFC 791 puts them", (t) => {
  const b = encoded(sample);
  // tos = 46 << 2 | 1; flags MF with offset 1480 / 8 = 185; checksum filled in.
  t.is(toHex(b.subarray(0, 10)), "45" + "b9" + "0018" + "1234" + "20b9" + "40" + "11");
  t.is(toHex(b.subarray(12)), "0a000001" + "0a0000fe" + "deadbeef");
  t.is(checksum(b, 0, IPV4_MIN_HEADER_LEN), 0);
});

test("round trip: decode(encode(p)) gives p back plus the computed header values", (t) => {
  holds(
    t,
    fc.property(ipv4Packet, (p) => {
      const b = new Uint8Array(ipv4Length(p));
      if (encodeIpv4(p, b) !== b.length) return false;
      const r = decodeIpv4(b);
      if (!r.ok) return false;
      const { headerLength, totalLength, checksum: sum, ...rest } = r.value;
      return (
        isDeepStrictEqual(rest, p) &&
        headerLength === IPV4_MIN_HEADER_LEN + p.options.length &&
        totalLength === b.length &&
        sum === ((b[10]! << 8) | b[11]!) &&
        checksum(b, 0, headerLength) === 0
      );
    }),
  );
});

test("options are padded with zeros to a 4-byte boundary", (t) => {
  const p = { ...sample, options: hex("94 04 00") }; // router alert is 4 bytes; cut to 3 to force padding
  t.is(ipv4HeaderLength(p), 24);
  const b = new Uint8Array(ipv4Length(p)).fill(0xff); // a reused buffer: the pad byte must be written
  encodeIpv4(p, b);
  const r = decodeIpv4(b);
  if (!r.ok) return t.fail(r.reason);
  t.is(r.value.headerLength, 24);
  t.is(toHex(r.value.options), "94040000");
  t.is(toHex(r.value.payload), "deadbeef");
});

test("encodeIpv4Header leaves a payload built in place untouched and matches encodeIpv4", (t) => {
  holds(
    t,
    fc.property(ipv4Packet, fc.nat(8), (p, off) => {
      const hl = ipv4HeaderLength(p);
      const inPlace = new Uint8Array(off + hl + p.payload.length);
      inPlace.set(p.payload, off + hl);
      const { payload, ...header } = p;
      const written = encodeIpv4Header(header, payload.length, inPlace, off);
      return written === hl && toHex(inPlace.subarray(off)) === toHex(encoded(p));
    }),
  );
});

test("a frame longer than totalLength is trimmed to it", (t) => {
  const b = encoded(sample);
  const padded = new Uint8Array(b.length + 18);
  padded.set(b);
  padded.fill(0xaa, b.length);
  const r = decodeIpv4(padded);
  if (!r.ok) return t.fail(r.reason);
  t.is(r.value.totalLength, b.length);
  t.is(toHex(r.value.payload), "deadbeef");
});

test("a frame shorter than totalLength is ip-truncated", (t) => {
  const b = encoded(sample);
  t.deepEqual(decodeIpv4(b.subarray(0, b.length - 1)), { ok: false, reason: "ip-truncated" });
});

test("malformed headers are rejected with their reason", (t) => {
  const b = encoded(sample);
  const bad = (i: number, v: number) => {
    const c = b.slice();
    c[i] = v;
    return decodeIpv4(c);
  };
  t.deepEqual(decodeIpv4(b.subarray(0, 19)), { ok: false, reason: "ip-short" });
  t.deepEqual(bad(0, 0x65), { ok: false, reason: "ip-bad-version" });
  t.deepEqual(bad(0, 0x44), { ok: false, reason: "ip-bad-header-length" });
  t.deepEqual(bad(3, 19), { ok: false, reason: "ip-bad-length" }); // total length below the header
});

test("any change to a header byte that does not move a length is ip-bad-checksum", (t) => {
  holds(
    t,
    fc.property(ipv4Packet, fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 255 }), (p, i, x) => {
      if (i === 2 || i === 3) return true; // total length: checked before the checksum
      const b = encoded(p);
      b[i]! ^= x;
      const r = decodeIpv4(b);
      return !r.ok && r.reason === "ip-bad-checksum";
    }),
  );
});

test("random bytes never throw", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      const r = decodeIpv4(b);
      return r.ok ? isViewWithin(r.value.payload, b) && isViewWithin(r.value.options, b) : typeof r.reason === "string";
    }),
  );
});

test("damaged or truncated encodings fail or decode within the shorter bytes", (t) => {
  holds(
    t,
    fc.property(ipv4Packet, damage, (p, d) => {
      const full = encoded(p);
      const b = applyDamage(full, d);
      const r = decodeIpv4(b);
      if (!r.ok) return typeof r.reason === "string";
      return (
        r.value.totalLength <= b.length &&
        isViewWithin(r.value.payload, b) &&
        isViewWithin(r.value.options, b) &&
        r.value.headerLength + r.value.payload.length === r.value.totalLength
      );
    }),
  );
});

test("a truncated packet never decodes", (t) => {
  holds(
    t,
    fc.property(ipv4Packet, fc.nat(), (p, cut) => {
      const full = encoded(p);
      const r = decodeIpv4(full.subarray(0, cut % full.length));
      return !r.ok && (r.reason === "ip-short" || r.reason === "ip-truncated");
    }),
  );
});
