import test from "ava";
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import {
  type DhcpMessage,
  type DhcpOptions,
  BOOTP_REPLY,
  DHCP_ACK,
  DHCP_DISCOVER,
  DHCP_MIN_LEN,
  DHCP_OFFER,
  bootRequest,
  decodeDhcp,
  dhcpLength,
  encodeDhcp,
} from "../../modules/wire/dhcp.ts";
import { parseIp, parseMac } from "../../modules/wire/address.ts";
import { hex, holds } from "../support/helpers.ts";

const ip = (s: string) => parseIp(s)!;
const MAC = parseMac("24:0a:c4:12:34:56")!;

/**
 * A message laid out field by field as in RFC 2131 section 2: the 44 bytes from op to
 * chaddr, then sname (64), file (128), the magic cookie and the options; zero-padded to
 * the 300-byte BOOTP minimum.
 */
function bootp(head: string, options: string, sname = "", file = ""): Uint8Array {
  const pad = (h: string, n: number) => h.replace(/\s+/g, "") + "00".repeat(n - h.replace(/\s+/g, "").length / 2);
  const body = `${pad(head, 44) + pad(sname, 64) + pad(file, 128)}63825363${options.replace(/\s+/g, "")}`;
  return hex(pad(body, Math.max(DHCP_MIN_LEN, body.length / 2)));
}

function encode(m: DhcpMessage): Uint8Array {
  const b = new Uint8Array(dhcpLength(m));
  encodeDhcp(m, b);
  return b;
}

// A client's DISCOVER: broadcast reply wanted, client id, max size 1500, asks for mask,
// router, DNS and domain; host name "esp32".
const DISCOVER = bootp(
  `01 01 06 00  5a3c9e01  0000 8000  00000000 00000000 00000000 00000000  240ac4123456 00000000000000000000`,
  `35 01 01  3d 07 01240ac4123456  39 02 05dc  37 04 0103060f  0c 05 6573703332  ff`,
);

// dnsmasq's OFFER of 192.168.0.100 for an hour, options in the order dnsmasq writes them.
const OFFER = bootp(
  `02 01 06 00  5a3c9e01  0000 8000  00000000 c0a80064 c0a80001 00000000  240ac4123456 00000000000000000000`,
  `35 01 02  36 04 c0a80001  33 04 00000e10  3a 04 00000708  3b 04 00000c4e
   01 04 ffffff00  1c 04 c0a800ff  03 04 c0a80001  06 04 c0a80001  0f 03 6c616e  ff`,
);

test("a client's DISCOVER decodes, and bootRequest encodes the same 300 bytes", (t) => {
  const options: DhcpOptions = {
    messageType: DHCP_DISCOVER,
    clientId: hex("01240ac4123456"),
    maxMessageSize: 1500,
    parameterRequestList: [1, 3, 6, 15],
    hostName: "esp32",
  };
  const d = decodeDhcp(DISCOVER);
  if (!d.ok) return t.fail(d.reason);
  t.like(d.value, { op: 1, htype: 1, hops: 0, xid: 0x5a3c9e01, secs: 0, broadcast: true, ciaddr: 0, yiaddr: 0, sname: "", file: "" });
  t.deepEqual(d.value.chaddr, MAC);
  t.deepEqual(d.value.options, options);

  const mine = encode({ ...bootRequest(0x5a3c9e01, MAC, options), broadcast: true });
  t.is(mine.length, DHCP_MIN_LEN);
  t.deepEqual(mine, DISCOVER);
});

test("dnsmasq's OFFER decodes to its fields and encodes back to the same bytes", (t) => {
  const expected: DhcpMessage = {
    op: BOOTP_REPLY,
    htype: 1,
    hops: 0,
    xid: 0x5a3c9e01,
    secs: 0,
    broadcast: true,
    ciaddr: 0,
    yiaddr: ip("192.168.0.100"),
    siaddr: ip("192.168.0.1"),
    giaddr: 0,
    chaddr: MAC,
    sname: "",
    file: "",
    options: {
      messageType: DHCP_OFFER,
      serverId: ip("192.168.0.1"),
      leaseTime: 3600,
      renewalTime: 1800,
      rebindingTime: 3150,
      subnetMask: ip("255.255.255.0"),
      broadcastAddress: ip("192.168.0.255"),
      routers: [ip("192.168.0.1")],
      dnsServers: [ip("192.168.0.1")],
      domainName: "lan",
    },
  };
  const d = decodeDhcp(OFFER);
  if (!d.ok) return t.fail(d.reason);
  t.deepEqual(d.value, expected);
  t.deepEqual(encode(expected), OFFER);
});

test("sname and file hold names when not overloaded", (t) => {
  const b = bootp(`02 01 06 00 00000001`, `35 01 05 ff`, "7466747031", "7078656c696e75782e30"); // "tftp1", "pxelinux.0"
  t.like(decodeDhcp(b), { ok: true, value: { sname: "tftp1", file: "pxelinux.0" } });
});

test("option overload: options continue in file, then sname; repeated options join", (t) => {
  const b = bootp(
    `02 01 06 00  00000001  0000 0000  00000000 c0a80064 00000000 00000000  240ac4123456`,
    `35 01 05  34 01 03  03 04 c0a80001  36 04 c0a80001  ff`,
    `0c 05 6e6f646531  ff`, // sname: host name "node1"
    `0f 0b 6578616d706c652e6f7267  03 04 c0a80002  ff`, // file: domain "example.org", a second router
  );
  const d = decodeDhcp(b);
  if (!d.ok) return t.fail(d.reason);
  t.is(d.value.sname, "");
  t.is(d.value.file, "");
  t.deepEqual(d.value.options, {
    messageType: DHCP_ACK,
    serverId: ip("192.168.0.1"),
    routers: [ip("192.168.0.1"), ip("192.168.0.2")],
    domainName: "example.org",
    hostName: "node1",
  });
  // Re-encoded without overload, it carries the same options.
  const again = decodeDhcp(encode(d.value));
  t.true(again.ok && isDeepStrictEqual(again.value, d.value));

  // Overload 1 (file only) leaves sname as a name.
  const fileOnly = bootp(`02 01 06 00`, `34 01 01 ff`, "6e73", `0f 01 61 ff`);
  t.like(decodeDhcp(fileOnly), { ok: true, value: { sname: "ns", file: "", options: { domainName: "a" } } });
});

test("an option longer than 255 bytes goes out split and comes back whole", (t) => {
  const routers = Array.from({ length: 70 }, (_, i) => ip(`10.0.0.${i}`)); // 280 bytes
  const m = bootRequest(1, MAC, { routers });
  const b = encode(m);
  t.is(b.length, 240 + 2 + 255 + 2 + 25 + 1);
  t.deepEqual([b[240], b[241], b[240 + 257], b[240 + 258]], [3, 255, 3, 25]);
  t.deepEqual(decodeDhcp(b), { ok: true, value: m });
});

test("malformed messages give reasons", (t) => {
  const reason = (b: Uint8Array) => {
    const d = decodeDhcp(b);
    return d.ok ? "ok" : d.reason;
  };
  t.is(reason(DISCOVER.subarray(0, 239)), "dhcp-short");
  const noCookie = DISCOVER.slice();
  noCookie[236] = 0;
  t.is(reason(noCookie), "dhcp-bad-cookie");
  t.is(reason(bootp(`01 01 11 00`, `ff`)), "dhcp-bad-hlen");
  t.is(reason(bootp(`01 01 06 00`, `35 01 01  0c 08 6573`).subarray(0, 240 + 7)), "dhcp-bad-option-length"); // runs off the end
  t.is(reason(bootp(`01 01 06 00`, `35`).subarray(0, 241)), "dhcp-bad-option-length"); // no length byte
  t.is(reason(bootp(`01 01 06 00`, `01 03 ffffff ff`)), "dhcp-bad-option-length"); // subnet mask of 3 bytes
  t.is(reason(bootp(`01 01 06 00`, `03 06 c0a80001 0000 ff`)), "dhcp-bad-option-length"); // router list not a multiple of 4
  t.is(reason(bootp(`01 01 06 00`, `33 00 ff`)), "dhcp-bad-option-length"); // empty lease time
  t.is(reason(bootp(`01 01 06 00`, `34 01 04 ff`)), "dhcp-bad-overload");
  t.is(reason(bootp(`01 01 06 00`, `34 01 01 ff`, "", `0f 7f 61`)), "dhcp-bad-option-length"); // overruns the file field
  // Pads are skipped; a missing end option is tolerated; unknown options are kept.
  t.like(decodeDhcp(bootp(`01 01 06 00`, `00 00 35 01 03 00 e0 02 abcd`)), {
    ok: true,
    value: { options: { messageType: 3, other: [{ code: 0xe0, data: hex("abcd") }] } },
  });
});

// ---- properties ----

const TYPED_CODES = [1, 3, 6, 12, 15, 28, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61];
const byte = fc.integer({ min: 0, max: 255 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const text = (max: number, min = 0) => fc.array(fc.integer({ min, max: 255 }), { maxLength: max }).map((cs) => String.fromCharCode(...cs));
const ips = fc.array(u32, { minLength: 1, maxLength: 70 });

const options: fc.Arbitrary<DhcpOptions> = fc.record(
  {
    messageType: byte,
    subnetMask: u32,
    routers: ips,
    dnsServers: ips,
    hostName: text(64),
    domainName: text(300),
    broadcastAddress: u32,
    requestedIp: u32,
    leaseTime: u32,
    serverId: u32,
    parameterRequestList: fc.array(byte, { maxLength: 20 }),
    message: text(40),
    maxMessageSize: fc.integer({ min: 0, max: 0xffff }),
    renewalTime: u32,
    rebindingTime: u32,
    vendorClass: text(40),
    clientId: fc.uint8Array({ maxLength: 20 }),
    other: fc.uniqueArray(
      fc.record({ code: fc.integer({ min: 1, max: 254 }).filter((c) => !TYPED_CODES.includes(c)), data: fc.uint8Array({ maxLength: 300 }) }),
      { minLength: 1, maxLength: 3, selector: (o) => o.code },
    ),
  },
  { requiredKeys: [] },
);

const message: fc.Arbitrary<DhcpMessage> = fc.record({
  op: byte,
  htype: byte,
  hops: byte,
  xid: u32,
  secs: fc.integer({ min: 0, max: 0xffff }),
  broadcast: fc.boolean(),
  ciaddr: u32,
  yiaddr: u32,
  siaddr: u32,
  giaddr: u32,
  chaddr: fc.uint8Array({ maxLength: 16 }),
  sname: text(64, 1),
  file: text(128, 1),
  options,
});

test("decode(encode(m)) gives m back; encode writes dhcpLength(m) >= 300 bytes over any old contents", (t) => {
  holds(
    t,
    fc.property(message, fc.nat(8), (m, off) => {
      const buf = new Uint8Array(off + dhcpLength(m) + 2).fill(0xee);
      const n = encodeDhcp(m, buf, off);
      const d = decodeDhcp(buf.subarray(off, off + n));
      return n === dhcpLength(m) && n >= DHCP_MIN_LEN && d.ok && isDeepStrictEqual(d.value, m);
    }),
  );
});

test("random, mutated and truncated bytes never throw", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 600 }), (b) => typeof decodeDhcp(b).ok === "boolean"),
  );
  holds(
    t,
    fc.property(message, fc.array(fc.tuple(fc.nat(), byte), { minLength: 1, maxLength: 10 }), fc.nat(), (m, edits, cut) => {
      const b = encode(m);
      for (const [i, v] of edits) b[i % b.length] = v;
      return typeof decodeDhcp(b).ok === "boolean" && typeof decodeDhcp(b.subarray(0, cut % b.length)).ok === "boolean";
    }),
  );
  // Overload set on random option fields: the file and sname regions are scanned safely too.
  holds(
    t,
    fc.property(fc.uint8Array({ minLength: 192, maxLength: 192 }), fc.integer({ min: 1, max: 3 }), (fields, ov) => {
      const b = bootp(`02 01 06 00`, `34 01 0${ov} ff`);
      b.set(fields, 44);
      return typeof decodeDhcp(b).ok === "boolean";
    }),
  );
});
