import test from "ava";
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { type TftpPacket, type TftpOptions, TFTP_ERR_NOT_FOUND, decodeTftp, encodeTftp, tftpLength } from "../../modules/wire/tftp.ts";
import { hex, holds } from "../support/helpers.ts";

/** Hex for text followed by its NUL. */
function z(s: string): string {
  return `${Buffer.from(s, "latin1").toString("hex")}00`;
}

function encode(p: TftpPacket): Uint8Array {
  const b = new Uint8Array(tftpLength(p));
  encodeTftp(p, b);
  return b;
}

function reason(b: Uint8Array): string {
  const d = decodeTftp(b);
  return d.ok ? "ok" : d.reason;
}

test("a read request with options, names in any case, an unknown option kept as sent", (t) => {
  const b = hex(
    `0001${z("pxelinux.0")}${z("OCTET")}${z("tsize")}${z("0")}${z("BlkSize")}${z("1468")}${z("windowsize")}${z("8")}${z("timeout")}${z("3")}${z("multicast")}${z("")}`,
  );
  t.deepEqual(decodeTftp(b), {
    ok: true,
    value: {
      op: "rrq",
      filename: "pxelinux.0",
      mode: "octet",
      options: { tsize: 0, blksize: 1468, windowsize: 8, timeout: 3, other: [{ name: "multicast", value: "" }] },
    },
  });
});

test("WRQ, DATA, ACK, ERROR and OACK, byte for byte both ways", (t) => {
  const cases: [string, TftpPacket][] = [
    [`0002${z("log.txt")}${z("netascii")}`, { op: "wrq", filename: "log.txt", mode: "netascii", options: {} }],
    ["0003 0001 68656c6c6f", { op: "data", block: 1, data: hex("68656c6c6f") }],
    ["0003 ffff", { op: "data", block: 0xffff, data: new Uint8Array(0) }],
    ["0004 0001", { op: "ack", block: 1 }],
    [`0005 0001${z("File not found")}`, { op: "error", code: TFTP_ERR_NOT_FOUND, message: "File not found" }],
    [`0006${z("blksize")}${z("1468")}${z("tsize")}${z("12345")}`, { op: "oack", options: { blksize: 1468, tsize: 12345 } }],
  ];
  for (const [h, p] of cases) {
    t.deepEqual(encode(p), hex(h), p.op);
    t.deepEqual(decodeTftp(hex(h)), { ok: true, value: p }, p.op);
  }
});

test("data is a view into the packet", (t) => {
  const b = hex("0003 0007 aabbcc");
  const d = decodeTftp(b);
  if (!d.ok || d.value.op !== "data") return t.fail();
  t.is(d.value.data.buffer, b.buffer);
  t.is(d.value.data.byteOffset, 4);
});

test("malformed packets give reasons", (t) => {
  t.is(reason(hex("00")), "tftp-short");
  t.is(reason(hex("0007 0000")), "tftp-bad-opcode");
  t.is(reason(hex("0000")), "tftp-bad-opcode");
  t.is(reason(hex("0001 666f6f")), "tftp-unterminated"); // filename without NUL
  t.is(reason(hex(`0001${z("foo")}6f63746574`)), "tftp-unterminated"); // mode without NUL
  t.is(reason(hex(`0001${z("")}${z("octet")}`)), "tftp-empty-filename");
  t.is(reason(hex("0001")), "tftp-empty-filename");
  t.is(reason(hex(`0001${z("foo")}`)), "tftp-no-mode");
  t.is(reason(hex(`0001${z("foo")}${z("binary")}`)), "tftp-bad-mode");
  t.is(reason(hex(`0001${z("foo")}${z("octet")}${z("blksize")}`)), "tftp-bad-option"); // no value
  t.is(reason(hex(`0001${z("foo")}${z("octet")}${z("blksize")}${z("1k")}`)), "tftp-bad-option");
  t.is(reason(hex(`0001${z("foo")}${z("octet")}${z("")}${z("1")}`)), "tftp-bad-option");
  t.is(reason(hex(`0006${z("tsize")}`)), "tftp-bad-option");
  t.is(reason(hex("0006 7473697a65")), "tftp-unterminated");
  t.is(reason(hex("0003 00")), "tftp-short");
  t.is(reason(hex("0004 00")), "tftp-short");
  t.is(reason(hex("0005 0001")), "tftp-unterminated");
  t.is(reason(hex("0005 0001 6e6f")), "tftp-unterminated");
});

// ---- properties ----

const text = (min: number, max: number) =>
  fc.array(fc.integer({ min: 1, max: 255 }), { minLength: min, maxLength: max }).map((cs) => String.fromCharCode(...cs));
const num = fc.integer({ min: 0, max: 999_999_999_999_999 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const options: fc.Arbitrary<TftpOptions> = fc.record(
  {
    blksize: num,
    tsize: num,
    timeout: num,
    windowsize: num,
    other: fc.array(
      fc.record({ name: text(1, 20).filter((n) => !["blksize", "tsize", "timeout", "windowsize"].includes(n.toLowerCase())), value: text(0, 20) }),
      { minLength: 1, maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

const packet: fc.Arbitrary<TftpPacket> = fc.oneof(
  fc.record({ op: fc.constantFrom("rrq" as const, "wrq" as const), filename: text(1, 100), mode: fc.constantFrom("netascii", "octet", "mail"), options }),
  fc.record({ op: fc.constant("data" as const), block: u16, data: fc.uint8Array({ maxLength: 1500 }) }),
  fc.record({ op: fc.constant("ack" as const), block: u16 }),
  fc.record({ op: fc.constant("error" as const), code: u16, message: text(0, 100) }),
  fc.record({ op: fc.constant("oack" as const), options }),
);

test("decode(encode(p)) gives p back, and encode writes exactly tftpLength(p) bytes", (t) => {
  holds(
    t,
    fc.property(packet, fc.nat(8), (p, off) => {
      const buf = new Uint8Array(off + tftpLength(p) + 2);
      const n = encodeTftp(p, buf, off);
      const d = decodeTftp(buf.subarray(off, off + n));
      return n === tftpLength(p) && d.ok && isDeepStrictEqual(d.value, p);
    }),
  );
});

test("random, mutated and truncated bytes never throw", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 600 }), (b) => typeof decodeTftp(b).ok === "boolean"),
  );
  holds(
    t,
    fc.property(packet, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), (p, edits, cut) => {
      const b = encode(p);
      for (const [i, v] of edits) b[i % b.length] = v;
      return typeof decodeTftp(b).ok === "boolean" && typeof decodeTftp(b.subarray(0, cut % b.length)).ok === "boolean";
    }),
  );
});

test("a request cut anywhere inside its strings is rejected", (t) => {
  holds(
    t,
    fc.property(
      packet.filter((p) => p.op === "rrq" || p.op === "wrq"),
      fc.nat(),
      (p, cut) => {
        const b = encode(p);
        return !decodeTftp(b.subarray(0, 2 + (cut % (b.length - 2)))).ok || b[1 + (cut % (b.length - 2))] === 0;
      },
    ),
  );
});
