// fast-check generators of DNS messages for the codec's property tests. The defaults draw
// everything our codec handles; a test against another implementation narrows them to what
// that one handles.

import fc from "fast-check";
import { type DnsMessage, type DnsRecord, type DnsType, dnsNameValid } from "../../modules/wire/dns.ts";

const TYPED = ["A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA"] as const;
const TYPED_CODES = [1, 2, 5, 6, 12, 15, 16, 28];

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const otherType = u16.filter((c) => !TYPED_CODES.includes(c));

export interface DnsArbitraryOptions {
  /** One label of a name. */
  label: fc.Arbitrary<string>;
  /** Most labels in a name. */
  maxLabels: number;
  /** The class of every record and question. */
  klass: fc.Arbitrary<number>;
  /** The strings of a TXT record. */
  texts: fc.Arbitrary<Uint8Array[]>;
  /** Whether records of types without a codec (kept as raw rdata) are drawn too. */
  untyped: boolean;
  opcode: fc.Arbitrary<number>;
  rcode: fc.Arbitrary<number>;
  questionType: fc.Arbitrary<DnsType>;
  maxQuestions: number;
}

export const DNS_ARBITRARY_DEFAULTS: DnsArbitraryOptions = {
  // Labels are drawn often from a small pool so that suffixes repeat and compression is exercised.
  label: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom("www", "example", "com", "Example", "mail", "a") },
    {
      weight: 1,
      arbitrary: fc
        .array(
          fc.integer({ min: 0, max: 255 }).filter((c) => c !== 0x2e),
          { minLength: 1, maxLength: 63 },
        )
        .map((cs) => String.fromCharCode(...cs)),
    },
  ),
  maxLabels: 6,
  klass: u16,
  texts: fc.array(fc.uint8Array({ maxLength: 255 }), { maxLength: 4 }),
  untyped: true,
  opcode: fc.integer({ min: 0, max: 15 }),
  rcode: fc.integer({ min: 0, max: 15 }),
  questionType: fc.oneof(fc.constantFrom(...TYPED), otherType),
  maxQuestions: 3,
};

/** DNS messages whose names are valid, each section holding up to four records. */
export function dnsMessage(options: Partial<DnsArbitraryOptions> = {}): fc.Arbitrary<DnsMessage> {
  const o = { ...DNS_ARBITRARY_DEFAULTS, ...options };
  const name = fc
    .array(o.label, { maxLength: o.maxLabels })
    .map((ls) => ls.join("."))
    .filter(dnsNameValid);
  const base = { name, class: o.klass, ttl: u32 };
  const typed: fc.Arbitrary<DnsRecord>[] = [
    fc.record({ ...base, type: fc.constant("A" as const), address: u32 }),
    fc.record({ ...base, type: fc.constant("AAAA" as const), address: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
    fc.record({ ...base, type: fc.constantFrom("NS" as const, "CNAME" as const, "PTR" as const), target: name }),
    fc.record({ ...base, type: fc.constant("MX" as const), preference: u16, exchange: name }),
    fc.record({ ...base, type: fc.constant("TXT" as const), texts: o.texts }),
    fc.record({ ...base, type: fc.constant("SOA" as const), mname: name, rname: name, serial: u32, refresh: u32, retry: u32, expire: u32, minimum: u32 }),
  ];
  const untyped = o.untyped ? [fc.record({ ...base, type: otherType, rdata: fc.uint8Array({ maxLength: 40 }) })] : [];
  const records = fc.array(fc.oneof(...typed, ...untyped), { maxLength: 4 });
  return fc.record({
    id: u16,
    qr: fc.boolean(),
    opcode: o.opcode,
    aa: fc.boolean(),
    tc: fc.boolean(),
    rd: fc.boolean(),
    ra: fc.boolean(),
    ad: fc.boolean(),
    cd: fc.boolean(),
    rcode: o.rcode,
    questions: fc.array(fc.record({ name, type: o.questionType, class: o.klass }), { maxLength: o.maxQuestions }),
    answers: records,
    authorities: records,
    additionals: records,
  });
}
