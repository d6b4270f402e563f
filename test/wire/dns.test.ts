import test from "ava";
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { type DnsMessage, decodeDns, encodeDns, dnsLength, dnsQuery, dnsNameValid, dnsNameEqual } from "../../modules/wire/dns.ts";
import { dnsMessage } from "../support/dns-arbitraries.ts";
import { hex, holds } from "../support/helpers.ts";

const message = dnsMessage();

function encode(m: DnsMessage): Uint8Array {
  const b = new Uint8Array(dnsLength(m));
  encodeDns(m, b);
  return b;
}

test("decode(encode(m)) gives m back, and encode writes exactly dnsLength(m) bytes", (t) => {
  holds(
    t,
    fc.property(message, fc.nat(8), (m, off) => {
      const buf = new Uint8Array(off + dnsLength(m) + 3).fill(0xaa);
      const n = encodeDns(m, buf, off);
      const d = decodeDns(buf.subarray(off, off + n));
      return n === dnsLength(m) && d.ok && isDeepStrictEqual(d.value, m);
    }),
  );
});

test("every strict prefix of an encoded message is rejected", (t) => {
  holds(
    t,
    fc.property(
      message.filter((m) => m.questions.length + m.answers.length + m.authorities.length + m.additionals.length > 0),
      fc.nat(),
      (m, cut) => {
        const b = encode(m);
        return !decodeDns(b.subarray(0, cut % b.length)).ok;
      },
    ),
  );
});

test("random and mutated bytes never throw", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => typeof decodeDns(b).ok === "boolean"),
  );
  holds(
    t,
    fc.property(message, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (m, edits) => {
      const b = encode(m);
      for (const [i, v] of edits) b[i % b.length] = v;
      return typeof decodeDns(b).ok === "boolean";
    }),
  );
});

test("a repeated name is compressed to a pointer at its first occurrence", (t) => {
  const q = dnsQuery(7, "mail.example.com", "MX");
  const m: DnsMessage = {
    ...q,
    qr: true,
    answers: [{ name: "mail.example.com", type: "MX", class: 1, ttl: 60, preference: 10, exchange: "mx.example.com" }],
  };
  const b = encode(m);
  // Question name at 12: 4mail 7example 3com 0 (18 bytes); "example.com" starts at 17.
  t.deepEqual([...b.subarray(34, 36)], [0xc0, 12]); // answer owner name
  // MX rdata: preference, then "mx" and a pointer to "example.com".
  t.deepEqual([...b.subarray(46, 52)], [0, 10, 2, 0x6d, 0x78, 0xc0]);
  t.is(b[52], 17);
  t.is(b.length, 53);
});

test("compression matches suffixes byte for byte, so case survives", (t) => {
  const m: DnsMessage = { ...dnsQuery(1, "www.Example.com", "A"), qr: true };
  m.answers.push({ name: "ftp.example.com", type: "A", class: 1, ttl: 1, address: 1 });
  const d = decodeDns(encode(m));
  t.true(d.ok && d.value.answers[0]!.name === "ftp.example.com" && d.value.questions[0]!.name === "www.Example.com");
});

test("name rules: labels 1-63 octets, names at most 255 octets on the wire", (t) => {
  t.true(dnsNameValid(""));
  t.true(dnsNameValid("a.b"));
  t.false(dnsNameValid("a..b"));
  t.false(dnsNameValid("a.b."));
  t.true(dnsNameValid("x".repeat(63)));
  t.false(dnsNameValid("x".repeat(64)));
  const label = "x".repeat(63);
  t.true(dnsNameValid([label, label, label, "x".repeat(61)].join("."))); // 64*3 + 62 + 1 = 255
  t.false(dnsNameValid([label, label, label, "x".repeat(62)].join(".")));
  t.false(dnsNameValid("caf\u0100"));
});

test("names compare without ASCII case", (t) => {
  t.true(dnsNameEqual("WWW.Example.COM", "www.example.com"));
  t.false(dnsNameEqual("www.example.com", "www.example.org"));
  t.false(dnsNameEqual("\u00c9.com", "\u00e9.com")); // only ASCII letters fold
});

// A header announcing one question, followed by `rest`.
function withQuestion(rest: string): Uint8Array {
  return hex(`0001 0100 0001 0000 0000 0000${rest}`);
}

test("malformed names give reasons", (t) => {
  const reason = (b: Uint8Array) => {
    const d = decodeDns(b);
    return d.ok ? "ok" : d.reason;
  };
  t.is(reason(hex("0001 0100 0001")), "dns-short");
  t.is(reason(withQuestion("c00c 0001 0001")), "dns-name-loop"); // points at itself
  t.is(reason(withQuestion("0161 c00e 0001 0001")), "dns-name-loop"); // points forward to itself
  t.is(reason(withQuestion("c0ff 0001 0001")), "dns-bad-pointer");
  t.is(reason(withQuestion("0161 c0")), "dns-short");
  t.is(reason(withQuestion(`40${"61".repeat(64)}00 0001 0001`)), "dns-bad-label");
  t.is(reason(withQuestion("0361626300 0001 00")), "dns-short");
  // Five 63-octet labels: 320 octets, over the limit.
  t.is(reason(withQuestion(`${(`3f${"61".repeat(63)}`).repeat(5)}00 0001 0001`)), "dns-name-too-long");
});

test("backwards pointers chain through several names", (t) => {
  // Question "a.b", then a record named "c" + pointer to "b" (offset 14), type A.
  const b = hex("0001 8100 0001 0001 0000 0000  0161 0162 00 0001 0001  0163 c00e 0001 0001 00000010 0004 0a000001");
  const d = decodeDns(b);
  t.true(d.ok);
  if (d.ok) t.like(d.value.answers[0], { name: "c.b", type: "A", ttl: 16, address: 0x0a000001 });
});

test("rdata that does not match its type is rejected", (t) => {
  const record = (type: string, rdata: string) =>
    decodeDns(hex(`0001 8100 0000 0001 0000 0000 00 ${type} 0001 00000000 ${(rdata.replace(/ /g, "").length / 2).toString(16).padStart(4, "0")} ${rdata}`));
  t.like(record("0001", "0a0000"), { ok: false, reason: "dns-bad-rdata" }); // A of 3 bytes
  t.like(record("001c", "00".repeat(15)), { ok: false, reason: "dns-bad-rdata" }); // AAAA of 15
  t.like(record("0005", "0161 00 00"), { ok: false, reason: "dns-bad-rdata" }); // CNAME with a trailing byte
  t.like(record("000f", "000a"), { ok: false, reason: "dns-bad-rdata" }); // MX without exchange
  t.like(record("0010", "05 6162"), { ok: false, reason: "dns-bad-rdata" }); // TXT string overruns
  t.like(record("0006", "00 00 00000001"), { ok: false, reason: "dns-bad-rdata" }); // SOA missing numbers
  t.like(record("0010", "01 61 00"), { ok: true }); // TXT "a" and ""
  t.like(record("0063", "0102"), { ok: true }); // unknown type: raw
});

test("dnsQuery builds a recursive query for one name", (t) => {
  t.deepEqual(encode(dnsQuery(0x1234, "example.com", "AAAA")), hex("1234 0100 0001 0000 0000 0000 076578616d706c65 03636f6d 00 001c 0001"));
  t.deepEqual(encode(dnsQuery(1, "", 255)), hex("0001 0100 0001 0000 0000 0000 00 00ff 0001"));
});
