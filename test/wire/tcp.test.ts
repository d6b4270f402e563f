import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import { checksum, pseudoHeaderSum } from "../../modules/wire/checksum.ts";
import { IP_PROTO_TCP } from "../../modules/wire/ipv4.ts";
import {
  ACK,
  CWR,
  ECE,
  FIN,
  PSH,
  RST,
  SYN,
  URG,
  type TcpOptions,
  type TcpSegment,
  TCP_MIN_HEADER_LEN,
  decodeTcp,
  encodeTcp,
  tcpHeaderLength,
  tcpLength,
  tcpOptionsLength,
} from "../../modules/wire/tcp.ts";
import { applyDamage, damage, hex, holds, isViewWithin, toHex } from "../support/helpers.ts";

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const SRC = 0x0a000001;
const DST = 0x0a000002;

/** Option bytes each option needs once NOP-aligned to 4 bytes; written here independently of tcp.ts. */
function alignedOptionBytes(o: TcpOptions): number {
  const aligned = (n: number) => Math.ceil(n / 4) * 4;
  return (
    (o.mss !== undefined ? aligned(4) : 0) +
    (o.sackPermitted ? aligned(2) : 0) +
    (o.timestamp ? aligned(10) : 0) +
    (o.windowScale !== undefined ? aligned(3) : 0) +
    (o.sack ? aligned(2 + 8 * o.sack.length) : 0)
  );
}

/** Any combination of options that fits in 40 bytes; absent keys stay absent. */
const tcpOptions: fc.Arbitrary<TcpOptions> = fc
  .record(
    {
      mss: u16,
      windowScale: u8,
      sackPermitted: fc.constant(true as const),
      sack: fc.array(fc.record({ left: u32, right: u32 }), { minLength: 1, maxLength: 4 }),
      timestamp: fc.record({ tsval: u32, tsecr: u32 }),
    },
    { requiredKeys: [] },
  )
  .filter((o) => alignedOptionBytes(o) <= 40);

const tcpSegment: fc.Arbitrary<TcpSegment> = fc.record({
  srcPort: u16,
  dstPort: u16,
  seq: u32,
  ack: u32,
  flags: u8,
  window: u16,
  urgent: u16,
  options: tcpOptions,
  payload: fc.uint8Array({ maxLength: 200 }),
});

function encoded(s: TcpSegment, src = SRC, dst = DST): Uint8Array {
  const b = new Uint8Array(tcpLength(s));
  encodeTcp(s, src, dst, b);
  return b;
}

function segment(over: Partial<TcpSegment>): TcpSegment {
  return { srcPort: 1024, dstPort: 80, seq: 1, ack: 0, flags: SYN, window: 8192, urgent: 0, options: {}, payload: new Uint8Array(0), ...over };
}

/** A header with these raw option bytes (a multiple of 4) and a correct checksum, built without encodeTcp. */
function rawSegment(options: Uint8Array): Uint8Array {
  const b = new Uint8Array(TCP_MIN_HEADER_LEN + options.length);
  b[12] = (b.length / 4) << 4;
  b.set(options, TCP_MIN_HEADER_LEN);
  const c = checksum(b, 0, b.length, pseudoHeaderSum(SRC, DST, IP_PROTO_TCP, b.length));
  b[16] = c >>> 8;
  b[17] = c & 0xff;
  return b;
}

test("flag constants are the header's bits", (t) => {
  t.deepEqual([FIN, SYN, RST, PSH, ACK, URG, ECE, CWR], [1, 2, 4, 8, 16, 32, 64, 128]);
  const b = encoded(segment({ flags: SYN | ACK | ECE }));
  t.is(b[13], 0x52);
});

test("encodes the fixed header and a checksum over the pseudo-header", (t) => {
  const b = encoded(segment({ seq: 0xfffffffe, ack: 0x80000001, flags: PSH | ACK, window: 0xabcd, urgent: 7, payload: hex("68 69") }));
  t.is(toHex(b.subarray(0, 16)), "0400" + "0050" + "fffffffe" + "80000001" + "50" + "18" + "abcd");
  t.is(toHex(b.subarray(18)), "0007" + "6869");
  t.is(checksum(b, 0, b.length, pseudoHeaderSum(SRC, DST, IP_PROTO_TCP, b.length)), 0);
});

test("SYN options are laid out as MSS, NOP NOP SACK-permitted (as the Windows client in test/vectors/ftp-capture.json sent)", (t) => {
  const b = encoded(segment({ options: { mss: 1460, sackPermitted: true } }));
  t.is(b[12], 0x70);
  t.is(toHex(b.subarray(20)), "020405b4" + "01010402");
});

test("every option is NOP-aligned to 4 bytes", (t) => {
  const o: TcpOptions = { mss: 536, sackPermitted: true, timestamp: { tsval: 0x01020304, tsecr: 0xa0b0c0d0 }, windowScale: 7 };
  t.is(tcpOptionsLength(o), 24);
  const b = encoded(segment({ options: o }));
  t.is(tcpHeaderLength({ options: o }), 44);
  t.is(toHex(b.subarray(20)), "02040218" + "01010402" + "0101080a" + "01020304" + "a0b0c0d0" + "01030307");
});

test("SACK blocks that do not fit in 40 option bytes are left out, newest first kept", (t) => {
  const sack = [1, 2, 3, 4].map((k) => ({ left: k * 100, right: k * 100 + 50 }));
  const withTs: TcpOptions = { timestamp: { tsval: 1, tsecr: 2 }, sack };
  t.is(tcpOptionsLength(withTs), 40);
  const r = decodeTcp(encoded(segment({ flags: ACK, options: withTs })), SRC, DST);
  if (!r.ok) return t.fail(r.reason);
  t.deepEqual(r.value.options, { timestamp: { tsval: 1, tsecr: 2 }, sack: sack.slice(0, 3) });
  t.is(tcpOptionsLength({ sack }), 36); // alone, all four fit
  t.is(tcpOptionsLength({ mss: 1, sackPermitted: true, windowScale: 1, timestamp: { tsval: 1, tsecr: 2 }, sack }), 36); // one block
});

test("round trip: decode(encode(s)) gives s back plus header length and checksum", (t) => {
  holds(
    t,
    fc.property(tcpSegment, u32, u32, fc.nat(6), (s, src, dst, off) => {
      const b = new Uint8Array(off + tcpLength(s));
      if (encodeTcp(s, src, dst, b, off) !== tcpLength(s)) return false;
      const r = decodeTcp(b.subarray(off), src, dst);
      if (!r.ok) return false;
      const { headerLength, checksum: sum, ...rest } = r.value;
      return isDeepStrictEqual(rest, s) && headerLength === TCP_MIN_HEADER_LEN + alignedOptionBytes(s.options) && sum === ((b[off + 16]! << 8) | b[off + 17]!);
    }),
  );
});

test("unknown options are skipped by their length", (t) => {
  // Kind 30 (MPTCP) with 2 bytes of data, then MSS.
  const r = decodeTcp(rawSegment(hex("1e 04 ab cd 02 04 05 b4")), SRC, DST);
  t.deepEqual(r.ok && r.value.options, { mss: 1460 });
});

test("end of option list stops parsing; what follows is padding", (t) => {
  const r = decodeTcp(rawSegment(hex("02 04 05 b4 00 63 63 63")), SRC, DST);
  t.deepEqual(r.ok && r.value.options, { mss: 1460 });
});

test("malformed option lengths are tcp-bad-option", (t) => {
  for (const options of [
    "01 01 01 02", // a kind in the last byte, with no length byte
    "1e 00 01 01", // length 0
    "1e 01 01 01", // length 1
    "1e 08 00 00", // runs past the header
    "02 03 05 00", // MSS must be 4 long
    "03 04 0e 00", // window scale must be 3 long
    "04 03 00 00", // SACK-permitted must be 2 long
    "05 09 00 00 00 00 00 00 00 00 00 00", // SACK must be 2 + 8n long
    "05 02 00 00", // and hold at least one block
    "08 08 00 00 00 00 00 00", // timestamps must be 10 long
  ]) {
    t.deepEqual(decodeTcp(rawSegment(hex(options)), SRC, DST), { ok: false, reason: "tcp-bad-option" }, options);
  }
});

test("arbitrary option bytes never throw and never read past the header", (t) => {
  // No payload, so the options end where the buffer ends: a read past them would throw.
  holds(
    t,
    fc.property(
      fc.integer({ min: 0, max: 10 }).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 })),
      (options) => {
        const r = decodeTcp(rawSegment(options), SRC, DST);
        return r.ok || r.reason === "tcp-bad-option";
      },
    ),
  );
});

test("malformed headers are rejected with their reason", (t) => {
  const b = encoded(segment({ payload: hex("00 01 02 03") }));
  t.deepEqual(decodeTcp(b.subarray(0, 19), SRC, DST), { ok: false, reason: "tcp-short" });
  const withOffset = (offset: number) => {
    const c = b.slice();
    c[12] = offset << 4;
    return decodeTcp(c, SRC, DST);
  };
  t.deepEqual(withOffset(4), { ok: false, reason: "tcp-bad-header-length" });
  t.deepEqual(withOffset(7), { ok: false, reason: "tcp-short" }); // 28-byte header in 24 bytes
  t.deepEqual(decodeTcp(b, SRC, DST + 1), { ok: false, reason: "tcp-bad-checksum" });
});

test("any changed byte outside the data offset fails the checksum", (t) => {
  holds(
    t,
    fc.property(tcpSegment, fc.nat(), fc.integer({ min: 1, max: 255 }), (s, at, x) => {
      const b = encoded(s);
      const i = at % b.length;
      if (i === 12) return true; // the data offset: a header length error first
      b[i]! ^= x;
      const r = decodeTcp(b, SRC, DST);
      return !r.ok && r.reason === "tcp-bad-checksum";
    }),
  );
});

test("random bytes never throw", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 80 }), u32, u32, (b, src, dst) => {
      const r = decodeTcp(b, src, dst);
      return r.ok ? isViewWithin(r.value.payload, b) && r.value.headerLength <= b.length : typeof r.reason === "string";
    }),
  );
});

test("damaged or truncated encodings fail or decode within the shorter bytes", (t) => {
  holds(
    t,
    fc.property(tcpSegment, damage, (s, d) => {
      const b = applyDamage(encoded(s), d);
      const r = decodeTcp(b, SRC, DST);
      if (!r.ok) return typeof r.reason === "string";
      return isViewWithin(r.value.payload, b) && r.value.headerLength + r.value.payload.length === b.length;
    }),
  );
});
