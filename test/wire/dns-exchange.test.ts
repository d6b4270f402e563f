import test from "ava";
import { type DnsMessage, decodeDns, encodeDns, dnsLength, dnsQuery } from "../../modules/wire/dns.ts";
import { parseIp } from "../../modules/wire/address.ts";
import { hex } from "../support/helpers.ts";
import { dnsExchange } from "../vectors/load.ts";

// A DNS query and answer from notes on application-layer protocols (test/vectors/dns-exchange.json,
// described in test/vectors/README.md). The notes show `host www.shiyanlou.com` under tcpdump:
//   query:  id 1943, "+" (recursion desired), A? www.shiyanlou.com. (35 bytes)
//   answer: id 1943, 1/0/0, A 115.29.233.149 (51 bytes)
// and dig's view of the answer: flags qr rd ra, status NOERROR, "www.shiyanlou.com. 43200 IN A
// 115.29.233.149", MSG SIZE rcvd: 51. (dig's id 28554 belongs to a different query in the notes.)
// The notes print no hex: the vector's bytes are those messages written out by hand from the
// RFC 1035 layout.
const exchange = dnsExchange();
const ID = exchange.id;
const NAME = exchange.name;
const ADDRESS = parseIp(exchange.address)!;
const QUERY_HEX = exchange.query;
const ANSWER_HEX = exchange.answer;

function encode(m: DnsMessage): Uint8Array {
  const b = new Uint8Array(dnsLength(m));
  encodeDns(m, b);
  return b;
}

const answer: DnsMessage = {
  ...dnsQuery(ID, NAME, "A"),
  qr: true,
  ra: true,
  answers: [{ name: NAME, type: "A", class: 1, ttl: exchange.ttl, address: ADDRESS }],
};

test("the query encodes to the 35 bytes tcpdump counted", (t) => {
  const b = encode(dnsQuery(ID, NAME, "A"));
  t.is(b.length, exchange.queryLength);
  t.deepEqual(b, hex(QUERY_HEX));
});

test("the answer encodes to 51 bytes, its name a pointer to the question", (t) => {
  const b = encode(answer);
  t.is(b.length, exchange.answerLength);
  t.deepEqual([...b.subarray(35, 37)], [0xc0, 0x0c]);
  t.deepEqual(b, hex(ANSWER_HEX));
});

test("both messages decode to the fields the notes print", (t) => {
  const q = decodeDns(hex(QUERY_HEX));
  if (!q.ok) return t.fail(q.reason);
  t.like(q.value, { id: ID, qr: false, opcode: 0, rd: true, rcode: 0 });
  t.deepEqual(q.value.questions, [{ name: NAME, type: "A", class: 1 }]);
  t.is(q.value.answers.length, 0);

  const a = decodeDns(hex(ANSWER_HEX));
  if (!a.ok) return t.fail(a.reason);
  t.like(a.value, { id: ID, qr: true, aa: false, tc: false, rd: true, ra: true, rcode: 0 });
  t.deepEqual(a.value.questions, [{ name: NAME, type: "A", class: 1 }]);
  t.deepEqual(a.value.answers, [{ name: NAME, type: "A", class: 1, ttl: exchange.ttl, address: ADDRESS }]); // 1/0/0
  t.is(a.value.authorities.length + a.value.additionals.length, 0);
  t.deepEqual(a.value, answer);
});
