import test from "ava";
import fc from "fast-check";
import dnsPacket from "dns-packet";
import { isDeepStrictEqual } from "node:util";
import { type DnsMessage, type DnsRecord, decodeDns, encodeDns, dnsLength } from "../../modules/wire/dns.ts";
import { ipToString } from "../../modules/wire/address.ts";
import { dnsMessage } from "../support/dns-arbitraries.ts";
import { hex, holds } from "../support/helpers.ts";

// dns-packet is an independent implementation: it reads what we write and we read what it
// writes. It handles class IN, UTF-8 labels and no compression on encode, so the records
// here keep to class IN and ASCII labels.

const message = dnsMessage({
  label: fc.oneof(fc.constantFrom("www", "example", "com", "Mail", "a"), fc.stringMatching(/^[a-zA-Z0-9_-]{1,63}$/)),
  maxLabels: 5,
  klass: fc.constant(1),
  texts: fc.array(fc.uint8Array({ maxLength: 255 }), { minLength: 1, maxLength: 3 }),
  untyped: false,
  opcode: fc.constantFrom(0, 1, 2, 4, 5),
  rcode: fc.integer({ min: 0, max: 10 }),
  questionType: fc.constantFrom("A" as const, "AAAA" as const, "MX" as const, "TXT" as const, "PTR" as const),
  maxQuestions: 2,
});

// IPv6 text in one canonical form (RFC 5952, through the WHATWG URL parser).
function canonical6(text: string): string {
  return new URL(`http://[${text}]`).hostname.slice(1, -1);
}

function ip6Text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(":");
}

const dpName = (n: string) => (n === "" ? "." : n);

/** Our record in dns-packet's shape. */
function toDp(r: DnsRecord): dnsPacket.Answer {
  const head = { name: dpName(r.name), class: "IN" as const, ttl: r.ttl, flush: false };
  if ("rdata" in r) throw new Error("only typed records are compared");
  switch (r.type) {
    case "A":
      return { ...head, type: "A", data: ipToString(r.address) };
    case "AAAA":
      return { ...head, type: "AAAA", data: canonical6(ip6Text(r.address)) };
    case "NS":
    case "CNAME":
    case "PTR":
      return { ...head, type: r.type, data: dpName(r.target) };
    case "MX":
      return { ...head, type: "MX", data: { preference: r.preference, exchange: dpName(r.exchange) } };
    case "TXT":
      return { ...head, type: "TXT", data: r.texts.map((t) => Buffer.from(t)) };
    case "SOA": {
      const { serial, refresh, retry, expire, minimum } = r;
      return { ...head, type: "SOA", data: { mname: dpName(r.mname), rname: dpName(r.rname), serial, refresh, retry, expire, minimum } };
    }
  }
}

function toDpPacket(m: DnsMessage): dnsPacket.Packet {
  const bit = (f: boolean, mask: number) => (f ? mask : 0);
  return {
    id: m.id,
    type: m.qr ? "response" : "query",
    flags:
      (m.opcode << 11) |
      bit(m.aa, dnsPacket.AUTHORITATIVE_ANSWER) |
      bit(m.tc, dnsPacket.TRUNCATED_RESPONSE) |
      bit(m.rd, dnsPacket.RECURSION_DESIRED) |
      bit(m.ra, dnsPacket.RECURSION_AVAILABLE) |
      bit(m.ad, dnsPacket.AUTHENTIC_DATA) |
      bit(m.cd, dnsPacket.CHECKING_DISABLED) |
      m.rcode,
    questions: m.questions.map((q) => ({ name: dpName(q.name), type: q.type as dnsPacket.RecordType, class: "IN" })),
    answers: m.answers.map(toDp),
    authorities: m.authorities.map(toDp),
    additionals: m.additionals.map(toDp),
  };
}

/** The fields both sides define, from a packet dns-packet decoded; AAAA text made canonical. */
function fields(p: dnsPacket.Packet) {
  const answer = (a: dnsPacket.Answer) => (a.type === "AAAA" ? { ...a, data: canonical6(a.data) } : a);
  return {
    id: p.id,
    type: p.type,
    flags: p.flags,
    questions: p.questions,
    answers: p.answers!.map(answer),
    authorities: p.authorities!.map(answer),
    additionals: p.additionals!.map(answer),
  };
}

test("dns-packet decodes what we encode (with compression) to the same fields", (t) => {
  holds(
    t,
    fc.property(message, (m) => {
      const b = new Uint8Array(dnsLength(m));
      encodeDns(m, b);
      const theirs = dnsPacket.decode(Buffer.from(b));
      return isDeepStrictEqual(fields(theirs), fields(toDpPacket(m)));
    }),
  );
});

test("we decode what dns-packet encodes to the same fields", (t) => {
  holds(
    t,
    fc.property(message, (m) => {
      // A plain Uint8Array: Buffer's slice and subarray would hand back Buffers.
      const d = decodeDns(new Uint8Array(dnsPacket.encode(toDpPacket(m))));
      return d.ok && isDeepStrictEqual(d.value, m);
    }),
  );
});

test("a compression-pointer loop is an error, not a throw (dns-packet rejects it too)", (t) => {
  // One question whose name is "a" followed by a pointer back to that same "a".
  const b = hex("0001 0100 0001 0000 0000 0000  0161 c00c  0001 0001");
  t.throws(() => dnsPacket.decode(Buffer.from(b)));
  t.like(decodeDns(b), { ok: false, reason: "dns-name-loop" });
});

test("a pointer past the end is an error, not a throw (dns-packet rejects it too)", (t) => {
  const b = hex("0001 0100 0001 0000 0000 0000  c040  0001 0001");
  t.throws(() => dnsPacket.decode(Buffer.from(b)));
  t.like(decodeDns(b), { ok: false, reason: "dns-bad-pointer" });
});
