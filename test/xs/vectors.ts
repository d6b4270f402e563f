// Deterministic codec vectors, run both on Node and on the real XS engine: the XS test
// demands the same lines from both. Portable like modules/ (no Node APIs), since it is
// bundled for XS. Each codec is one entry below; every entry draws from its own seeded
// source, so adding an entry leaves the others' lines unchanged.

import { SeededRandom } from "../../host-sim/random.ts";
import { ipToString, isMulticastMac, macToString, parseIp, parseMac, readIp, writeIp } from "../../modules/wire/address.ts";
import { decodeArp, encodeArp, arpLength } from "../../modules/wire/arp.ts";
import { checksum, pseudoHeaderSum, sum16, updateChecksum } from "../../modules/wire/checksum.ts";
import { type DhcpMessage, type DhcpOptions, bootRequest, decodeDhcp, dhcpLength, encodeDhcp } from "../../modules/wire/dhcp.ts";
import { type DnsMessage, type DnsRecord, decodeDns, dnsLength, dnsQuery, encodeDns } from "../../modules/wire/dns.ts";
import { decodeEthernet, encodeEthernet, ethernetLength } from "../../modules/wire/ethernet.ts";
import { type IcmpMessage, decodeIcmp, encodeIcmp, icmpLength } from "../../modules/wire/icmp.ts";
import { decodeIpv4, encodeIpv4, ipv4Length } from "../../modules/wire/ipv4.ts";
import type { Result } from "../../modules/wire/result.ts";
import { type TcpOptions, decodeTcp, encodeTcp, tcpLength } from "../../modules/wire/tcp.ts";
import { type TftpPacket, decodeTftp, encodeTftp, tftpLength } from "../../modules/wire/tftp.ts";
import { decodeUdp, encodeUdp, udpLength } from "../../modules/wire/udp.ts";

type Entry = (rng: SeededRandom) => string[];

/** A record codec: how to draw a record, and how to size, encode and decode it. */
interface Codec<T> {
  sample(rng: SeededRandom): T;
  length(record: T): number;
  encode(record: T, buf: Uint8Array, off: number): number;
  /** Decodes bytes that were encoded from `record` (which supplies context such as UDP's addresses). */
  decode(b: Uint8Array, record: T): Result<unknown>;
}

const SAMPLES = 12;

function bytes(rng: SeededRandom, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

// Not test/support/helpers.ts's toHex: that module imports fast-check and Node-only helpers, which
// must stay out of the XS bundle.
function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += (x < 16 ? "0" : "") + x.toString(16);
  return s;
}

function mac(rng: SeededRandom): Uint8Array {
  return bytes(rng, 6);
}

/** JSON with byte arrays as hex, so decoded records print the same on both engines. */
function json(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));
}

/**
 * For each sampled record: the encoded bytes at a random offset inside a larger buffer (so
 * stray writes show), its decoding, and the decoding of a truncated and of a bit-flipped copy.
 */
function codec<T>(name: string, c: Codec<T>): [string, Entry] {
  return [
    name,
    (rng) => {
      const lines: string[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const record = c.sample(rng);
        const off = rng.int(4);
        const buf = new Uint8Array(off + c.length(record) + 2);
        const n = c.encode(record, buf, off);
        const wire = buf.subarray(off, off + n);
        const cut = wire.slice(0, rng.int(n + 1));
        const flipped = wire.slice();
        if (n > 0) flipped[rng.int(n)]! ^= 1 << rng.int(8);
        lines.push(
          `${name}#${i} encode ${n} ${toHex(buf)}`,
          `${name}#${i} decode ${json(c.decode(wire, record))}`,
          `${name}#${i} decode-cut ${json(c.decode(cut, record))}`,
          `${name}#${i} decode-flip ${json(c.decode(flipped, record))}`,
        );
      }
      return lines;
    },
  ];
}

function checksumEntry(rng: SeededRandom): string[] {
  const lines: string[] = [];
  for (const n of [0, 1, 2, 3, 20, 21, 64, 577, 1460, 1500]) {
    const b = bytes(rng, n);
    const start = rng.int(n + 1);
    const end = start + rng.int(n - start + 1);
    const initial = rng.u32() & 0xffffff;
    lines.push(`checksum/${n} ${checksum(b)} ${sum16(b, start, end, initial)} ${checksum(b, start, end, initial)}`);
  }
  // 64 KiB of 0xff drives the partial sum past the point where sum16 folds it.
  lines.push(`checksum/ff64k ${sum16(new Uint8Array(65536).fill(0xff), 0, 65536)} ${checksum(new Uint8Array(65537).fill(0xff))}`);
  for (let i = 0; i < SAMPLES; i++) {
    const [src, dst, old, word, next] = [rng.u32(), rng.u32(), rng.int(0x10000), rng.int(0x10000), rng.int(0x10000)];
    lines.push(`checksum/update#${i} ${pseudoHeaderSum(src, dst, rng.int(256), rng.int(0x10000))} ${updateChecksum(old, word, next)}`);
  }
  return lines;
}

function addressEntry(rng: SeededRandom): string[] {
  const lines: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const ip = rng.u32();
    const b = new Uint8Array(4);
    writeIp(b, 0, ip);
    const m = mac(rng);
    lines.push(
      `address#${i} ${toHex(b)} ${readIp(b, 0)} ${ipToString(ip)} ${parseIp(ipToString(ip))} ${macToString(m)} ${json(parseMac(macToString(m)))} ${isMulticastMac(m)}`,
    );
  }
  for (const text of ["0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", " 1.2.3.4", "01.2.3.4", "a.b.c.d", ""]) {
    lines.push(`address/parseIp ${json(text)} ${parseIp(text)}`);
  }
  for (const text of ["00-11-22-33-44-55", "AA:bb:CC:dd:EE:ff", "0:1:2:3:4:5", "00:11:22:33:44", "gg:00:00:00:00:00"]) {
    lines.push(`address/parseMac ${json(text)} ${json(parseMac(text) ?? null)}`);
  }
  return lines;
}

const icmpSamples: ((rng: SeededRandom) => IcmpMessage)[] = [
  (rng) => ({ kind: "echo-request", code: 0, id: rng.int(0x10000), seq: rng.int(0x10000), data: bytes(rng, rng.int(64)) }),
  (rng) => ({ kind: "echo-reply", code: 0, id: rng.int(0x10000), seq: rng.int(0x10000), data: bytes(rng, rng.int(64)) }),
  (rng) => ({ kind: "unreachable", code: rng.int(16), nextHopMtu: rng.int(0x10000), quoted: bytes(rng, 28) }),
  (rng) => ({ kind: "time-exceeded", code: rng.int(2), quoted: bytes(rng, 28) }),
  (rng) => ({ kind: "other", type: 13 + rng.int(3), code: 0, rest: bytes(rng, 4), body: bytes(rng, rng.int(16)) }),
];

function tcpOptions(rng: SeededRandom): TcpOptions {
  const o: TcpOptions = {};
  if (rng.chance(0.5)) o.mss = rng.int(0x10000);
  if (rng.chance(0.3)) o.windowScale = rng.int(15);
  if (rng.chance(0.3)) o.sackPermitted = true;
  if (rng.chance(0.4)) o.timestamp = { tsval: rng.u32(), tsecr: rng.u32() };
  if (rng.chance(0.3)) o.sack = Array.from({ length: 1 + rng.int(4) }, () => ({ left: rng.u32(), right: rng.u32() }));
  return o;
}

// DNS names from a few shared labels, so that messages repeat suffixes and get compressed;
// "\u00e9" is one label byte above 0x7f, which must round-trip as the same character.
const DNS_LABELS = ["example", "com", "Local", "ns1", "mail", "a", "x-\u00e9"];

function dnsName(rng: SeededRandom): string {
  return Array.from({ length: rng.int(4) }, () => DNS_LABELS[rng.int(DNS_LABELS.length)]!).join(".");
}

function dnsRecord(rng: SeededRandom): DnsRecord {
  const base = { name: dnsName(rng), class: 1, ttl: rng.u32() };
  switch (rng.int(7)) {
    case 0:
      return { ...base, type: "A", address: rng.u32() };
    case 1:
      return { ...base, type: "AAAA", address: bytes(rng, 16) };
    case 2:
      return { ...base, type: "CNAME", target: dnsName(rng) };
    case 3:
      return { ...base, type: "MX", preference: rng.int(0x10000), exchange: dnsName(rng) };
    case 4:
      return { ...base, type: "TXT", texts: [bytes(rng, rng.int(20)), bytes(rng, rng.int(5))] };
    case 5:
      return {
        ...base,
        type: "SOA",
        mname: dnsName(rng),
        rname: dnsName(rng),
        serial: rng.u32(),
        refresh: rng.u32(),
        retry: rng.u32(),
        expire: rng.u32(),
        minimum: rng.u32(),
      };
    default:
      return { ...base, type: 99, rdata: bytes(rng, rng.int(12)) };
  }
}

function dnsMessage(rng: SeededRandom): DnsMessage {
  const query = dnsQuery(rng.int(0x10000), dnsName(rng), rng.chance(0.5) ? "A" : "AAAA");
  if (rng.chance(0.3)) return query;
  const records = () => Array.from({ length: rng.int(3) }, () => dnsRecord(rng));
  return { ...query, qr: true, aa: rng.chance(0.5), ra: true, rcode: rng.int(6), answers: records(), authorities: records(), additionals: records() };
}

function dhcpOptions(rng: SeededRandom): DhcpOptions {
  const ips = () => Array.from({ length: 1 + rng.int(3) }, () => rng.u32());
  const o: DhcpOptions = { messageType: 1 + rng.int(8) };
  if (rng.chance(0.5)) o.clientId = bytes(rng, 7);
  if (rng.chance(0.5)) o.requestedIp = rng.u32();
  if (rng.chance(0.5)) o.serverId = rng.u32();
  if (rng.chance(0.5)) o.parameterRequestList = [1, 3, 6, 15, 51];
  if (rng.chance(0.5)) o.hostName = dnsName(rng);
  if (rng.chance(0.5)) Object.assign(o, { leaseTime: rng.u32(), renewalTime: rng.u32(), rebindingTime: rng.u32() });
  if (rng.chance(0.5)) Object.assign(o, { subnetMask: rng.u32(), routers: ips(), dnsServers: ips(), domainName: dnsName(rng) });
  // An option longer than 255 bytes goes out split and must come back joined.
  if (rng.chance(0.6)) o.other = [{ code: 43, data: bytes(rng, rng.chance(0.5) ? 256 + rng.int(200) : rng.int(256)) }];
  return o;
}

function dhcpMessage(rng: SeededRandom): DhcpMessage {
  const request = bootRequest(rng.u32(), mac(rng), dhcpOptions(rng));
  if (rng.chance(0.5)) return request;
  return {
    ...request,
    op: 2,
    hops: rng.int(4),
    secs: rng.int(0x10000),
    broadcast: rng.chance(0.5),
    yiaddr: rng.u32(),
    siaddr: rng.u32(),
    sname: dnsName(rng),
    file: "boot/pxelinux.0",
  };
}

const tftpSamples: ((rng: SeededRandom) => TftpPacket)[] = [
  (rng) => ({ op: "rrq", filename: `boot/${dnsName(rng)}.bin`, mode: "octet", options: { blksize: 8 + rng.int(65457), tsize: 0 } }),
  (rng) => ({
    op: "wrq",
    filename: "upload.txt",
    mode: "netascii",
    options: rng.chance(0.5) ? {} : { timeout: 1 + rng.int(255), other: [{ name: "X-Note", value: "Caf\u00e9" }] },
  }),
  (rng) => ({ op: "data", block: rng.int(0x10000), data: bytes(rng, rng.int(100)) }),
  (rng) => ({ op: "ack", block: rng.int(0x10000) }),
  (rng) => ({ op: "error", code: rng.int(9), message: "File not found" }),
  (rng) => ({ op: "oack", options: { blksize: 1428, windowsize: 1 + rng.int(64) } }),
];

const entries: [string, Entry][] = [
  ["checksum", checksumEntry],
  ["address", addressEntry],
  codec("ethernet", {
    sample: (rng) => {
      const f = { dst: mac(rng), src: mac(rng), ethertype: 0x0600 + rng.int(0xfa00), payload: bytes(rng, rng.int(80)) };
      return rng.chance(0.5) ? f : { ...f, vlan: { pcp: rng.int(8), dei: rng.int(2), id: rng.int(4096) } };
    },
    length: ethernetLength,
    encode: encodeEthernet,
    decode: decodeEthernet,
  }),
  codec("arp", {
    sample: (rng) => ({ op: 1 + rng.int(2), senderMac: mac(rng), senderIp: rng.u32(), targetMac: mac(rng), targetIp: rng.u32() }),
    length: arpLength,
    encode: encodeArp,
    decode: decodeArp,
  }),
  codec("ipv4", {
    sample: (rng) => ({
      dscp: rng.int(64),
      ecn: rng.int(4),
      id: rng.int(0x10000),
      df: rng.chance(0.5),
      mf: rng.chance(0.2),
      fragmentOffsetBytes: rng.chance(0.7) ? 0 : rng.int(0x2000) * 8,
      ttl: rng.int(256),
      protocol: rng.int(256),
      src: rng.u32(),
      dst: rng.u32(),
      options: bytes(rng, rng.chance(0.7) ? 0 : rng.int(41)),
      payload: bytes(rng, rng.int(100)),
    }),
    length: ipv4Length,
    encode: encodeIpv4,
    decode: decodeIpv4,
  }),
  codec("icmp", {
    sample: (rng) => icmpSamples[rng.int(icmpSamples.length)]!(rng),
    length: icmpLength,
    encode: encodeIcmp,
    decode: decodeIcmp,
  }),
  codec("udp", {
    sample: (rng) => ({
      src: rng.u32(),
      dst: rng.u32(),
      datagram: { srcPort: rng.int(0x10000), dstPort: rng.int(0x10000), payload: bytes(rng, rng.int(100)) },
    }),
    length: (s) => udpLength(s.datagram),
    encode: (s, buf, off) => encodeUdp(s.datagram, s.src, s.dst, buf, off),
    decode: (b, s) => decodeUdp(b, s.src, s.dst),
  }),
  codec("tcp", {
    sample: (rng) => ({
      src: rng.u32(),
      dst: rng.u32(),
      segment: {
        srcPort: rng.int(0x10000),
        dstPort: rng.int(0x10000),
        seq: rng.u32(),
        ack: rng.u32(),
        flags: rng.int(256),
        window: rng.int(0x10000),
        urgent: rng.int(0x10000),
        options: tcpOptions(rng),
        payload: bytes(rng, rng.int(100)),
      },
    }),
    length: (s) => tcpLength(s.segment),
    encode: (s, buf, off) => encodeTcp(s.segment, s.src, s.dst, buf, off),
    decode: (b, s) => decodeTcp(b, s.src, s.dst),
  }),
  codec("dns", { sample: dnsMessage, length: dnsLength, encode: encodeDns, decode: decodeDns }),
  codec("dhcp", { sample: dhcpMessage, length: dhcpLength, encode: encodeDhcp, decode: decodeDhcp }),
  codec("tftp", {
    sample: (rng) => tftpSamples[rng.int(tftpSamples.length)]!(rng),
    length: tftpLength,
    encode: encodeTftp,
    decode: decodeTftp,
  }),
];

/** Every entry's lines, `name output`, from one seed. */
export function vectors(seed: number): string[] {
  return entries.flatMap(([, entry]) => entry(new SeededRandom(seed)));
}

/** The entry names, so the test can check that each one produced lines. */
export const entryNames: string[] = entries.map(([name]) => name);
