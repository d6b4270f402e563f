import test from "ava";
import { type DnsMessage, decodeDns, encodeDns, dnsLength, dnsQuery } from "../../modules/wire/dns.ts";
import { parseIp } from "../../modules/wire/address.ts";
import { hex } from "../helpers.ts";

// Seed 002 (application-layer notes) shows `host www.shiyanlou.com` under tcpdump:
//   query:  id 1943, "+" (recursion desired), A? www.shiyanlou.com. (35 bytes)
//   answer: id 1943, 1/0/0, A 115.29.233.149 (51 bytes)
// and dig's view of the answer: flags qr rd ra, status NOERROR, "www.shiyanlou.com. 43200 IN A
// 115.29.233.149", MSG SIZE rcvd: 51. (dig's id 28554 belongs to a different query in the notes.)
const ID = 1943;
const NAME = "www.shiyanlou.com";
const ADDRESS = parseIp("115.29.233.149")!;

// The same messages written out by hand from the RFC 1035 layout.
const QUERY_HEX = "0797 0100 0001 0000 0000 0000  03777777 0973686979616e6c6f75 03636f6d 00  0001 0001";
const ANSWER_HEX = "0797 8180 0001 0001 0000 0000  03777777 0973686979616e6c6f75 03636f6d 00  0001 0001" + "  c00c 0001 0001 0000a8c0 0004 731de995";

function encode(m: DnsMessage): Uint8Array {
  const b = new Uint8Array(dnsLength(m));
  encodeDns(m, b);
  return b;
}

const answer: DnsMessage = {
  ...dnsQuery(ID, NAME, "A"),
  qr: true,
  ra: true,
  answers: [{ name: NAME, type: "A", class: 1, ttl: 43200, address: ADDRESS }],
};

test("the query encodes to the 35 bytes tcpdump counted", (t) => {
  const b = encode(dnsQuery(ID, NAME, "A"));
  t.is(b.length, 35);
  t.deepEqual(b, hex(QUERY_HEX));
});

test("the answer encodes to 51 bytes, its name a pointer to the question", (t) => {
  const b = encode(answer);
  t.is(b.length, 51);
  t.deepEqual([...b.subarray(35, 37)], [0xc0, 0x0c]);
  t.deepEqual(b, hex(ANSWER_HEX));
});

test("both messages decode to the fields the seed prints", (t) => {
  const q = decodeDns(hex(QUERY_HEX));
  if (!q.ok) return t.fail(q.reason);
  t.like(q.value, { id: ID, qr: false, opcode: 0, rd: true, rcode: 0 });
  t.deepEqual(q.value.questions, [{ name: NAME, type: "A", class: 1 }]);
  t.is(q.value.answers.length, 0);

  const a = decodeDns(hex(ANSWER_HEX));
  if (!a.ok) return t.fail(a.reason);
  t.like(a.value, { id: ID, qr: true, aa: false, tc: false, rd: true, ra: true, rcode: 0 });
  t.deepEqual(a.value.questions, [{ name: NAME, type: "A", class: 1 }]);
  t.deepEqual(a.value.answers, [{ name: NAME, type: "A", class: 1, ttl: 43200, address: ADDRESS }]); // 1/0/0
  t.is(a.value.authorities.length + a.value.additionals.length, 0);
  t.deepEqual(a.value, answer);
});
