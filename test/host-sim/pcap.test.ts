import test from "ava";
import fc from "fast-check";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Capture,
  type PcapPacket,
  type WritablePacket,
  LINKTYPE_ETHERNET,
  decodeCapture,
  decodePcap,
  decodePcapng,
  encodePcap,
  timestampFromMs,
  timestampToMs,
} from "../../host-sim/pcap.ts";
import { BROADCAST_MAC, parseMac } from "../../modules/wire/address.ts";
import { ETHERTYPE_ARP, encodeEthernet, ethernetLength, type EthernetFrame } from "../../modules/wire/ethernet.ts";
import { hex, holds, toHex } from "../support/helpers.ts";

/** Packets as comparable plain values. */
const plain = (packets: PcapPacket[]) =>
  packets.map((p) => ({ seconds: p.seconds, nanos: p.nanos, data: toHex(p.data), originalLength: p.originalLength, linkType: p.linkType }));

function decoded(r: ReturnType<typeof decodeCapture>): Capture {
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

const writable = fc.record({
  seconds: fc.integer({ min: 0, max: 0xffffffff }),
  micros: fc.integer({ min: 0, max: 999_999 }),
  data: fc.uint8Array({ maxLength: 1600 }),
  cut: fc.nat(100),
});

test("property: pcap write -> read round trip keeps bytes and timestamps, and rewrites byte-exact", (t) => {
  holds(
    t,
    fc.property(fc.array(writable, { maxLength: 8 }), (specs) => {
      const packets: WritablePacket[] = specs.map((s) => ({ seconds: s.seconds, nanos: s.micros * 1000, data: s.data, originalLength: s.data.length + s.cut }));
      const bytes = encodePcap(packets);
      const capture = decoded(decodePcap(bytes));
      const expected = packets.map((p) => ({ ...p, data: toHex(p.data), linkType: LINKTYPE_ETHERNET }));
      return (
        capture.format === "pcap" &&
        capture.error === undefined &&
        JSON.stringify(plain(capture.packets)) === JSON.stringify(expected) &&
        toHex(encodePcap(capture.packets)) === toHex(bytes)
      );
    }),
  );
});

/** A classic pcap file laid out by hand in either byte order, with micro- or nanosecond stamps. */
function handPcap(le: boolean, nano: boolean): Uint8Array {
  const b = new Uint8Array(24 + 16 + 3);
  const v = new DataView(b.buffer);
  v.setUint32(0, nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setUint32(16, 65535, le);
  v.setUint32(20, 0x04000000 | LINKTYPE_ETHERNET, le); // upper bits announce an FCS length; the link type is the low 16
  v.setUint32(24, 1_600_000_000, le);
  v.setUint32(28, nano ? 123_456_789 : 123_456, le);
  v.setUint32(32, 3, le);
  v.setUint32(36, 64, le);
  b.set([0xde, 0xad, 0x01], 40);
  return b;
}

test("pcap reads both byte orders and both stamp resolutions", (t) => {
  for (const le of [true, false]) {
    for (const nano of [true, false]) {
      const capture = decoded(decodeCapture(handPcap(le, nano)));
      t.deepEqual(plain(capture.packets), [
        { seconds: 1_600_000_000, nanos: nano ? 123_456_789 : 123_456_000, data: "dead01", originalLength: 64, linkType: 1 },
      ]);
    }
  }
});

test("a truncated pcap keeps the complete records and reports the error", (t) => {
  const packets = [1, 2, 3].map((n) => ({ seconds: n, nanos: n * 1000, data: new Uint8Array(20).fill(n) }));
  const bytes = encodePcap(packets);
  const thirdStart = bytes.length - 36;
  for (const cut of [thirdStart + 5, thirdStart + 16, bytes.length - 1]) {
    const capture = decoded(decodePcap(bytes.subarray(0, cut)));
    t.is(capture.error, "pcap-truncated", `cut at ${cut}`);
    t.deepEqual(
      capture.packets.map((p) => p.data[0]),
      [1, 2],
    );
  }
  t.is(decoded(decodePcap(bytes.subarray(0, thirdStart))).error, undefined, "ending on a record boundary is not an error");
});

test("headers that are not pcap or pcapng fail with a reason; a cut-off one reads as truncated", (t) => {
  t.deepEqual(decodePcap(new Uint8Array(23)), { ok: false, reason: "pcap-short" });
  t.deepEqual(decodePcap(new Uint8Array(24)), { ok: false, reason: "pcap-bad-magic" });
  const v1 = handPcap(true, false);
  v1[4] = 1;
  t.deepEqual(decodePcap(v1), { ok: false, reason: "pcap-bad-version" });
  t.deepEqual(decodePcapng(handPcap(true, false)), { ok: false, reason: "pcapng-bad-magic" });
  t.deepEqual(decodeCapture(hex("0a0d0d0a 1c000000")), { ok: true, value: { format: "pcapng", packets: [], error: "pcapng-truncated" } });
});

/** Writes little pieces of a pcapng file in one byte order. */
class Writer {
  readonly #bytes: number[] = [];
  constructor(readonly le: boolean) {}
  u16(x: number): this {
    return this.#put(2, x);
  }
  u32(x: number): this {
    return this.#put(4, x);
  }
  u64(x: bigint): this {
    return this.u32(Number(this.le ? x & 0xffffffffn : x >> 32n)).u32(Number(this.le ? x >> 32n : x & 0xffffffffn));
  }
  raw(b: Uint8Array | number[]): this {
    this.#bytes.push(...b);
    while (this.#bytes.length % 4) this.#bytes.push(0); // pad to 32 bits
    return this;
  }
  option(code: number, value: number[]): this {
    return this.u16(code).u16(value.length).raw(value);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }
  #put(size: number, x: number): this {
    const b = new Uint8Array(size);
    const v = new DataView(b.buffer);
    if (size === 2) v.setUint16(0, x, this.le);
    else v.setUint32(0, x, this.le);
    this.#bytes.push(...b);
    return this;
  }
}

/** A block: type, total length, body, total length again. */
function block(le: boolean, type: number, body: Writer): Uint8Array {
  const inner = body.bytes();
  return new Writer(le)
    .u32(type)
    .u32(inner.length + 12)
    .raw(inner)
    .u32(inner.length + 12)
    .bytes();
}

const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** Timestamp of an enhanced packet block: the 64-bit unit count as high then low word. */
const epb = (le: boolean, iface: number, units: bigint, data: number[], originalLength = data.length) =>
  block(
    le,
    6,
    new Writer(le)
      .u32(iface)
      .u32(Number(units >> 32n))
      .u32(Number(units & 0xffffffffn))
      .u32(data.length)
      .u32(originalLength)
      .raw(data),
  );

function section(le: boolean, parts: (w: (le: boolean) => Writer) => Uint8Array[]): Uint8Array {
  const shb = new Writer(le)
    .u32(0x1a2b3c4d)
    .u16(1)
    .u16(0)
    .u64(0xffffffffffffffffn)
    .option(4, [...new TextEncoder().encode("hand")])
    .u16(0)
    .u16(0);
  return concat([block(le, 0x0a0d0d0a, shb), ...parts((l) => new Writer(l))]);
}

/** A pcapng file built from the format's block layouts, in byte order `le`, with a second section in the other order. */
function handPcapng(le: boolean): Uint8Array {
  const first = section(le, (w) => [
    block(le, 1, w(le).u16(1).u16(0).u32(65535).option(9, [9]).u16(0).u16(0)), // interface 0: nanoseconds
    epb(le, 0, 1_700_000_000_123_456_789n, [1, 2, 3]),
    block(le, 4, w(le).u16(0).u16(0)), // a name resolution block: skipped
    block(le, 0x40000bad, w(le).raw([9, 9, 9, 9, 9])), // a block type nobody knows: skipped
    block(le, 1, w(le).u16(1).u16(0).u32(65535)), // interface 1: default microseconds
    epb(le, 1, 1_700_000_001_000_002n, [4, 5, 6, 7], 60),
    block(le, 3, w(le).u32(5).raw([8, 8, 8, 8, 8])), // simple packet on interface 0
    block(
      le,
      1,
      w(le)
        .u16(1)
        .u16(0)
        .u32(0)
        .option(9, [0x80 | 10])
        .u16(0)
        .u16(0),
    ), // interface 2: 1/1024 s
    epb(le, 2, 3n * 1024n + 512n, [0xaa]),
  ]);
  const second = section(!le, (w) => [block(!le, 1, w(!le).u16(1).u16(0).u32(0)), epb(!le, 0, 5_000_000n, [0xbb])]);
  return concat([first, second]);
}

const handPcapngPackets = [
  { seconds: 1_700_000_000, nanos: 123_456_789, data: "010203", originalLength: 3, linkType: 1 },
  { seconds: 1_700_000_001, nanos: 2000, data: "04050607", originalLength: 60, linkType: 1 },
  { seconds: 1_700_000_001, nanos: 2000, data: "0808080808", originalLength: 5, linkType: 1 },
  { seconds: 3, nanos: 500_000_000, data: "aa", originalLength: 1, linkType: 1 },
  { seconds: 5, nanos: 0, data: "bb", originalLength: 1, linkType: 1 },
];

test("a pcapng written by hand from the block layouts reads back, in both byte orders", (t) => {
  for (const le of [true, false]) {
    const capture = decoded(decodeCapture(handPcapng(le)));
    t.is(capture.format, "pcapng");
    t.is(capture.error, undefined);
    t.deepEqual(plain(capture.packets), handPcapngPackets);
  }
});

test("a truncated or damaged pcapng keeps the packets before the damage", (t) => {
  const bytes = handPcapng(true);
  const cut = decoded(decodePcapng(bytes.subarray(0, bytes.length - 3)));
  t.is(cut.error, "pcapng-truncated");
  t.deepEqual(plain(cut.packets), handPcapngPackets.slice(0, 4));
  const badLength = bytes.slice();
  badLength[bytes.length - 4]! ^= 0x10; // the last block's trailing length no longer matches
  t.is(decoded(decodePcapng(badLength)).error, "pcapng-bad-block-length");
  const noInterface = concat([section(true, () => []), epb(true, 0, 0n, [1])]);
  t.deepEqual(decoded(decodePcapng(noInterface)), { format: "pcapng", packets: [], error: "pcapng-unknown-interface" });
});

test("property: random bytes, with or without a valid file start, never throw and give a named outcome", (t) => {
  const starts = [new Uint8Array(0), encodePcap([]), handPcap(false, true).subarray(0, 24), section(true, () => []), section(false, () => [])];
  holds(
    t,
    fc.property(fc.constantFrom(...starts), fc.uint8Array({ maxLength: 300 }), (start, tail) => {
      const r = decodeCapture(concat([start, tail]));
      return r.ok ? r.value.error === undefined || /^pcap(ng)?-/.test(r.value.error) : /^pcap(ng)?-/.test(r.reason);
    }),
    { numRuns: 2000 },
  );
  const good = handPcapng(true);
  holds(
    t,
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }), (hits) => {
      const b = good.slice();
      for (const [i, x] of hits) b[i]! ^= x;
      const r = decodeCapture(b);
      return r.ok ? r.value.packets.length <= handPcapngPackets.length + 2 : typeof r.reason === "string";
    }),
    { numRuns: 2000 },
  );
});

test("property: clock milliseconds split into seconds and nanoseconds and back", (t) => {
  holds(
    t,
    fc.property(fc.double({ min: 0, max: 4e12, noNaN: true }), (ms) => {
      const ts = timestampFromMs(ms);
      return Number.isInteger(ts.seconds) && ts.nanos >= 0 && ts.nanos < 1e9 && Math.abs(timestampToMs(ts) - ms) < 1e-3;
    }),
  );
});

function arpLike(n: number): Uint8Array {
  const f: EthernetFrame = { dst: BROADCAST_MAC, src: parseMac("02:00:00:00:00:01")!, ethertype: ETHERTYPE_ARP, payload: hex("0001080006040001").slice() };
  const b = new Uint8Array(ethernetLength(f) + n);
  encodeEthernet(f, b);
  return b;
}

test("tshark reads the pcap we write: frame count, stamps and lengths; editcap's pcapng and nanosecond pcap read back equal", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pcap-"));
  const packets = Array.from({ length: 7 }, (_, i) => ({ seconds: 1_700_000_000 + i, nanos: i * 111_111_000, data: arpLike(i * 10) }));
  const path = join(dir, "out.pcap");
  writeFileSync(path, encodePcap(packets));
  const lines = execFileSync("tshark", ["-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  })
    .trim()
    .split("\n");
  t.is(lines.length, packets.length);
  lines.forEach((line, i) => {
    const [epoch, len] = line.split("\t");
    const p = packets[i]!;
    t.is(epoch, `${p.seconds}.${String(p.nanos).padStart(9, "0")}`);
    t.is(Number(len), p.data.length);
  });
  for (const format of ["pcapng", "nsecpcap"]) {
    const converted = join(dir, `out.${format}`);
    execFileSync("editcap", ["-F", format, path, converted], { stdio: "ignore" });
    const capture = decoded(decodeCapture(new Uint8Array(readFileSync(converted))));
    t.is(capture.format, format === "pcapng" ? "pcapng" : "pcap");
    t.deepEqual(plain(capture.packets), plain(decoded(decodePcap(encodePcap(packets))).packets), format);
  }
});
