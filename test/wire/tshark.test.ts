// An independent dissector agrees our frames are well formed: one frame of every kind our
// encoders produce goes into a pcap, and tshark (checksum validation on) must report no
// malformed packet and no expert error or warning for any of them.

import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePcap } from "../../host-sim/pcap.ts";
import { parseIp, parseMac, BROADCAST_MAC, ZERO_MAC } from "../../modules/wire/address.ts";
import { encodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, type Vlan } from "../../modules/wire/ethernet.ts";
import { encodeArp, ARP_REQUEST, ARP_REPLY } from "../../modules/wire/arp.ts";
import { encodeIpv4, ipv4Length } from "../../modules/wire/ipv4.ts";
import { encodeIcmp, icmpLength, type IcmpMessage } from "../../modules/wire/icmp.ts";
import { encodeUdp, udpLength } from "../../modules/wire/udp.ts";
import { encodeTcp, tcpLength, SYN, ACK, PSH, FIN, type TcpSegment } from "../../modules/wire/tcp.ts";
import { encodeDns, dnsLength, dnsQuery, type DnsMessage } from "../../modules/wire/dns.ts";
import { encodeDhcp, dhcpLength, bootRequest, DHCP_DISCOVER, DHCP_OFFER, BOOTP_REPLY } from "../../modules/wire/dhcp.ts";
import { encodeTftp, tftpLength, type TftpPacket, TFTP_ERR_NOT_FOUND } from "../../modules/wire/tftp.ts";

const A = parseIp("192.168.7.10")!;
const B = parseIp("192.168.7.20")!;
const MAC_A = parseMac("02:00:00:00:00:0a")!;
const MAC_B = parseMac("02:00:00:00:00:14")!;

function ether(ethertype: number, payload: Uint8Array, vlan?: Vlan, dst = MAC_B): Uint8Array {
  const frame = new Uint8Array(Math.max(60, payload.length + (vlan ? 18 : 14)));
  encodeEthernet({ dst, src: MAC_A, ethertype, payload, ...(vlan ? { vlan } : {}) }, frame);
  return frame;
}

function ipv4(protocol: number, payload: Uint8Array, src = A, dst = B, options = new Uint8Array(0)): Uint8Array {
  const p = { dscp: 0, ecn: 0, id: 1, df: true, mf: false, fragmentOffsetBytes: 0, ttl: 64, protocol, src, dst, options, payload };
  const b = new Uint8Array(ipv4Length(p));
  encodeIpv4(p, b);
  return b;
}

function icmp(m: IcmpMessage): Uint8Array {
  const b = new Uint8Array(icmpLength(m));
  encodeIcmp(m, b);
  return ether(ETHERTYPE_IPV4, ipv4(1, b));
}

function udp(srcPort: number, dstPort: number, payload: Uint8Array, src = A, dst = B, ethDst = MAC_B): Uint8Array {
  const b = new Uint8Array(udpLength({ payload }));
  encodeUdp({ srcPort, dstPort, payload }, src, dst, b);
  return ether(ETHERTYPE_IPV4, ipv4(17, b, src, dst), undefined, ethDst);
}

function tcp(s: Partial<TcpSegment>): Uint8Array {
  const seg: TcpSegment = {
    srcPort: 40000,
    dstPort: 21,
    seq: 1000,
    ack: 0,
    flags: SYN,
    window: 5840,
    urgent: 0,
    options: {},
    payload: new Uint8Array(0),
    ...s,
  };
  const b = new Uint8Array(tcpLength(seg));
  encodeTcp(seg, A, B, b);
  return ether(ETHERTYPE_IPV4, ipv4(6, b));
}

function arp(op: number): Uint8Array {
  const b = new Uint8Array(28);
  encodeArp({ op, senderMac: MAC_A, senderIp: A, targetMac: op === ARP_REQUEST ? ZERO_MAC : MAC_B, targetIp: B }, b);
  return ether(ETHERTYPE_ARP, b, undefined, op === ARP_REQUEST ? BROADCAST_MAC : MAC_B);
}

function dns(m: DnsMessage): Uint8Array {
  const b = new Uint8Array(dnsLength(m));
  encodeDns(m, b);
  return b;
}

function tftp(p: TftpPacket): Uint8Array {
  const b = new Uint8Array(tftpLength(p));
  encodeTftp(p, b);
  return b;
}

function allKinds(): Uint8Array[] {
  const answer: DnsMessage = {
    ...dnsQuery(0x1234, "www.example.com", "A"),
    qr: true,
    ra: true,
    answers: [
      { name: "www.example.com", class: 1, ttl: 300, type: "CNAME", target: "web.example.com" },
      { name: "web.example.com", class: 1, ttl: 300, type: "A", address: parseIp("93.184.216.34")! },
      { name: "web.example.com", class: 1, ttl: 300, type: "AAAA", address: new Uint8Array(16).fill(1) },
      { name: "example.com", class: 1, ttl: 300, type: "MX", preference: 10, exchange: "mail.example.com" },
      { name: "example.com", class: 1, ttl: 300, type: "TXT", texts: [new TextEncoder().encode("v=spf1 -all"), new TextEncoder().encode("hello")] },
      { name: "34.216.184.93.in-addr.arpa", class: 1, ttl: 300, type: "PTR", target: "web.example.com" },
    ],
    authorities: [
      { name: "example.com", class: 1, ttl: 300, type: "NS", target: "ns1.example.com" },
      {
        name: "example.com",
        class: 1,
        ttl: 300,
        type: "SOA",
        mname: "ns1.example.com",
        rname: "hostmaster.example.com",
        serial: 2026112201,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: 60,
      },
    ],
  };
  const discover = bootRequest(0xdeadbeef, MAC_A, {
    messageType: DHCP_DISCOVER,
    clientId: Uint8Array.of(1, ...MAC_A),
    parameterRequestList: [1, 3, 6, 12, 15, 28, 51, 58, 59],
    maxMessageSize: 1500,
    hostName: "esp32",
    vendorClass: "mcu-netstack",
  });
  const offer = {
    ...bootRequest(0xdeadbeef, MAC_A, {
      messageType: DHCP_OFFER,
      serverId: B,
      leaseTime: 3600,
      renewalTime: 1800,
      rebindingTime: 3150,
      subnetMask: parseIp("255.255.255.0")!,
      routers: [B],
      dnsServers: [B],
      domainName: "lan",
      broadcastAddress: parseIp("192.168.7.255")!,
    }),
    op: BOOTP_REPLY,
    yiaddr: A,
    siaddr: B,
  };
  const ipOptions = Uint8Array.of(0x94, 0x04, 0x00, 0x00); // router alert
  const quoted = udp(40000, 9, new Uint8Array(4)).subarray(14, 42); // IP header and the UDP header

  return [
    arp(ARP_REQUEST),
    arp(ARP_REPLY),
    ether(
      ETHERTYPE_ARP,
      (() => {
        const b = new Uint8Array(28);
        encodeArp({ op: ARP_REQUEST, senderMac: MAC_A, senderIp: A, targetMac: ZERO_MAC, targetIp: B }, b);
        return b;
      })(),
      { pcp: 3, dei: 0, id: 42 },
      BROADCAST_MAC,
    ),
    ether(ETHERTYPE_IPV4, ipv4(253, new Uint8Array(4), A, B, ipOptions)),
    icmp({ kind: "echo-request", code: 0, id: 7, seq: 1, data: new Uint8Array(56).fill(0x61) }),
    icmp({ kind: "echo-reply", code: 0, id: 7, seq: 1, data: new Uint8Array(56).fill(0x61) }),
    icmp({ kind: "unreachable", code: 3, nextHopMtu: 0, quoted }),
    icmp({ kind: "unreachable", code: 4, nextHopMtu: 1400, quoted }),
    icmp({ kind: "time-exceeded", code: 0, quoted }),
    udp(40000, 7, new TextEncoder().encode("echo")),
    tcp({ flags: SYN, options: { mss: 1460, windowScale: 2, sackPermitted: true, timestamp: { tsval: 1, tsecr: 0 } } }),
    tcp({ flags: ACK | PSH, seq: 1001, ack: 5001, payload: new TextEncoder().encode("USER anonymous\r\n"), options: { timestamp: { tsval: 2, tsecr: 1 } } }),
    tcp({
      flags: ACK,
      seq: 1017,
      ack: 5001,
      options: {
        sack: [
          { left: 6001, right: 7001 },
          { left: 8001, right: 9001 },
        ],
      },
    }),
    tcp({ flags: FIN | ACK, seq: 1017, ack: 5001 }),
    udp(
      68,
      67,
      (() => {
        const b = new Uint8Array(dhcpLength(discover));
        encodeDhcp(discover, b);
        return b;
      })(),
      0,
      0xffffffff,
      BROADCAST_MAC,
    ),
    udp(
      67,
      68,
      (() => {
        const b = new Uint8Array(dhcpLength(offer));
        encodeDhcp(offer, b);
        return b;
      })(),
      B,
      0xffffffff,
      BROADCAST_MAC,
    ),
    udp(40001, 53, dns(dnsQuery(0x1234, "www.example.com", "A"))),
    udp(53, 40001, dns(answer), B, A),
    udp(40002, 69, tftp({ op: "rrq", filename: "boot/firmware.bin", mode: "octet", options: { blksize: 1428, tsize: 0, timeout: 2, windowsize: 4 } })),
    udp(50000, 40002, tftp({ op: "oack", options: { blksize: 1428, tsize: 2000, timeout: 2, windowsize: 4 } }), B, A),
    udp(40002, 50000, tftp({ op: "ack", block: 0 })),
    udp(50000, 40002, tftp({ op: "data", block: 1, data: new Uint8Array(512).fill(0x42) }), B, A),
    udp(40002, 50000, tftp({ op: "ack", block: 1 })),
    udp(40003, 69, tftp({ op: "wrq", filename: "upload.txt", mode: "netascii", options: {} })),
    udp(50001, 40003, tftp({ op: "error", code: TFTP_ERR_NOT_FOUND, message: "File not found" }), B, A),
  ];
}

test("tshark dissects one frame of every kind we encode with no malformed or expert error entries", (t) => {
  const frames = allKinds();
  const dir = mkdtempSync(join(tmpdir(), "tshark-"));
  const file = join(dir, "kinds.pcap");
  writeFileSync(file, encodePcap(frames.map((data, i) => ({ seconds: 1_700_000_000 + i, nanos: 0, data }))));
  const prefs = ["ip.check_checksum:TRUE", "udp.check_checksum:TRUE", "tcp.check_checksum:TRUE"].flatMap((p) => ["-o", p]);
  const fields = ["frame.number", "_ws.col.Protocol", "_ws.malformed", "_ws.expert.severity", "_ws.expert.message"].flatMap((f) => ["-e", f]);
  const out = execFileSync("tshark", ["-r", file, ...prefs, "-T", "fields", "-E", "separator=|", ...fields], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const rows = out
    .trim()
    .split("\n")
    .map((l) => l.split("|"));
  t.is(rows.length, frames.length);
  const protocols = rows.map((r) => r[1]);
  for (const p of ["ARP", "ICMP", "ECHO", "TCP", "FTP", "DHCP", "DNS", "TFTP"])
    t.true(
      protocols.some((x) => x?.includes(p)),
      `tshark saw ${p}: ${protocols.join(",")}`,
    );
  // Expert severities: 0x00800000 error, 0x00600000 warning; chat and note entries
  // (connection establish request, duplicate ACK) describe normal traffic. A TFTP ERROR
  // packet is always flagged as a warning, since it reports an error by design.
  const problems = rows.flatMap((r) => {
    const severities = (r[3] ?? "").split(",").filter(Boolean).map(Number);
    const messages = (r[4] ?? "").split(",");
    const flagged = messages.filter((m, i) => (severities[i] ?? 0) >= 0x00600000 && m !== "TFTP ERROR packet");
    return r[2] ? [`#${r[0]} ${r[1]}: malformed ${r[4]}`] : flagged.map((m) => `#${r[0]} ${r[1]}: ${m}`);
  });
  t.deepEqual(problems, []);
});
