// The real frames of a student's capture report (test/vectors/ftp-capture.json, described
// in test/vectors/README.md): an FTP session between a Windows client (192.168.11.247) and
// Serv-U on 202.207.112.32, and an ARP exchange.

import test, { type ExecutionContext } from "ava";
import { parseIp, parseMac, macToString } from "../../modules/wire/address.ts";
import { ARP_REPLY, ARP_REQUEST, decodeArp, encodeArp } from "../../modules/wire/arp.ts";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, decodeEthernet } from "../../modules/wire/ethernet.ts";
import { IP_PROTO_TCP, decodeIpv4, encodeIpv4, ipv4Length } from "../../modules/wire/ipv4.ts";
import { ACK, PSH, SYN, decodeTcp, encodeTcp, tcpLength } from "../../modules/wire/tcp.ts";
import { hex, toHex } from "../support/helpers.ts";
import { ftpCapture } from "../vectors/load.ts";

const capture = ftpCapture();
const CLIENT = parseIp(capture.client)!;
const SERVER = parseIp(capture.server)!;

// Tables 2 and 4: the client's SYN to the FTP port (printed twice, identically).
const SYN_FRAME = hex(capture.syn);
// Table 3: the server's SYN-ACK.
const SYN_ACK_FRAME = hex(capture.synAck);
// Packets 24, 27 and 29 are printed as bare TCP segments, without Ethernet or IP headers.
const PORT_SEGMENT = hex(capture.portSegment);
const DATA_SYN_SEGMENT = hex(capture.dataSynSegment);
const OPENING_SEGMENT = hex(capture.openingSegment);
// Tables 6 and 7: the report's captions are swapped relative to the bytes. Table 6 ("ARP
// request") holds opcode 2, a reply; table 7 ("ARP reply") holds opcode 1, the broadcast
// request. We decode what the bytes say.
const ARP_TABLE_6 = hex(capture.arpTable6);
const ARP_TABLE_7 = hex(capture.arpTable7);

const text = (b: Uint8Array) => String.fromCharCode(...b);

/** Peels Ethernet and IPv4 off a frame, failing the test if either does not decode. */
function ipOf(t: ExecutionContext, frame: Uint8Array) {
  const eth = decodeEthernet(frame);
  if (!eth.ok) throw new Error(eth.reason);
  t.is(eth.value.ethertype, ETHERTYPE_IPV4);
  const ip = decodeIpv4(eth.value.payload);
  if (!ip.ok) throw new Error(ip.reason);
  return { eth: eth.value, ip: ip.value };
}

test("table 2/4: the client's SYN decodes to the fields the report lists, checksums verified", (t) => {
  const { eth, ip } = ipOf(t, SYN_FRAME);
  t.is(macToString(eth.dst), "00:e0:fc:18:7b:46");
  t.is(macToString(eth.src), "00:0d:87:90:74:fa");
  t.like(ip, {
    headerLength: 20,
    totalLength: 48,
    id: 0x9219,
    df: true,
    mf: false,
    fragmentOffsetBytes: 0,
    ttl: 128,
    protocol: IP_PROTO_TCP,
    checksum: 0x611f,
  });
  t.is(ip.src, CLIENT);
  t.is(ip.dst, SERVER);
  const tcp = decodeTcp(ip.payload, ip.src, ip.dst);
  if (!tcp.ok) return t.fail(tcp.reason);
  t.deepEqual(tcp.value, {
    srcPort: 4495,
    dstPort: 21,
    seq: 0xc2c0ec07,
    ack: 0,
    headerLength: 28, // data offset 7
    flags: SYN,
    window: 16384,
    checksum: 0x7b23,
    urgent: 0,
    options: { mss: 1460, sackPermitted: true },
    payload: new Uint8Array(0),
  });
});

test("table 3: the server's SYN-ACK acknowledges the SYN's sequence number plus one", (t) => {
  const { eth, ip } = ipOf(t, SYN_ACK_FRAME);
  t.is(macToString(eth.src), "00:e0:fc:18:7b:46");
  t.like(ip, { totalLength: 48, id: 0x252d, df: false, mf: false, ttl: 127, protocol: IP_PROTO_TCP, checksum: 0x0f0c });
  t.is(ip.src, SERVER);
  t.is(ip.dst, CLIENT);
  const tcp = decodeTcp(ip.payload, ip.src, ip.dst);
  if (!tcp.ok) return t.fail(tcp.reason);
  t.like(tcp.value, {
    srcPort: 21,
    dstPort: 4495,
    seq: 0xd641cfdf,
    ack: 0xc2c0ec07 + 1,
    headerLength: 28,
    flags: SYN | ACK,
    window: 16384,
    checksum: 0xd4f0,
    urgent: 0,
  });
  t.deepEqual(tcp.value.options, { mss: 1460, sackPermitted: true });
});

test("re-encoding the handshake gives back the captured IP packets byte for byte", (t) => {
  for (const frame of [SYN_FRAME, SYN_ACK_FRAME]) {
    const { eth, ip } = ipOf(t, frame);
    const tcp = decodeTcp(ip.payload, ip.src, ip.dst);
    if (!tcp.ok) return t.fail(tcp.reason);
    const segment = new Uint8Array(tcpLength(tcp.value));
    encodeTcp(tcp.value, ip.src, ip.dst, segment);
    const packet = new Uint8Array(ipv4Length({ ...ip, payload: segment }));
    encodeIpv4({ ...ip, payload: segment }, packet);
    t.is(toHex(packet), toHex(eth.payload));
  }
});

// The bare segments carry no IP header, so the addresses come from the report's text: the
// client is 192.168.11.247 and the server 202.207.112.32. All three checksums verify with
// them, so no NAT rewrote the addresses on the way (the PORT command also names the
// client's own private address).

test("packet 24: the PORT command, checksum verified", (t) => {
  const r = decodeTcp(PORT_SEGMENT, CLIENT, SERVER);
  if (!r.ok) return t.fail(r.reason);
  t.like(r.value, {
    srcPort: 4495,
    dstPort: 21,
    seq: 0xc2c0ec43,
    ack: 0xd641d0d4,
    headerLength: 20,
    flags: PSH | ACK,
    window: 17276,
    checksum: 0x3515,
    urgent: 0,
  });
  t.deepEqual(r.value.options, {});
  t.is(text(r.value.payload), "PORT 192,168,11,247,17,180\r\n");
});

test("packet 27: the server's SYN from port 20 to the port PORT named, checksum verified", (t) => {
  const r = decodeTcp(DATA_SYN_SEGMENT, SERVER, CLIENT);
  if (!r.ok) return t.fail(r.reason);
  t.like(r.value, { srcPort: 20, dstPort: 17 * 256 + 180, seq: 0x3378c832, ack: 0, headerLength: 28, flags: SYN, window: 65535, checksum: 0x6e1d, urgent: 0 });
  t.deepEqual(r.value.options, { mss: 1460, sackPermitted: true });
  t.is(r.value.payload.length, 0);
});

test("packet 29: the server's 150 reply, checksum verified", (t) => {
  const r = decodeTcp(OPENING_SEGMENT, SERVER, CLIENT);
  if (!r.ok) return t.fail(r.reason);
  t.like(r.value, { srcPort: 21, dstPort: 4495, seq: 0xd641d0f2, ack: 0xc2c0ec72, headerLength: 20, flags: PSH | ACK, window: 65429, checksum: 0x1848 });
  t.is(text(r.value.payload), "150 Opening ASCII mode data connection for aa123456.txt.\r\n");
  // Between packets 24 and 29 the server sent only the transcript's "200 PORT Command successful." line.
  t.is(r.value.seq, 0xd641d0d4 + "200 PORT Command successful.\r\n".length);
});

test("other addresses fail the bare segments' checksums, so the ones above are the real ones", (t) => {
  // (Swapping source and destination cannot be told apart: the pseudo-header sum is the same.)
  t.deepEqual(decodeTcp(PORT_SEGMENT, CLIENT, parseIp("202.207.112.33")!), { ok: false, reason: "tcp-bad-checksum" });
  t.deepEqual(decodeTcp(DATA_SYN_SEGMENT, SERVER, parseIp("192.168.11.248")!), { ok: false, reason: "tcp-bad-checksum" });
});

test("table 6: an ARP reply from 192.168.2.1, with 18 bytes of Ethernet padding", (t) => {
  t.is(ARP_TABLE_6.length, 60);
  const eth = decodeEthernet(ARP_TABLE_6);
  if (!eth.ok) return t.fail(eth.reason);
  t.is(eth.value.ethertype, ETHERTYPE_ARP);
  t.is(eth.value.payload.length, 28 + 18);
  const r = decodeArp(eth.value.payload);
  t.deepEqual(r, {
    ok: true,
    value: {
      op: ARP_REPLY,
      senderMac: parseMac("00:0f:e2:f5:0d:57"),
      senderIp: parseIp("192.168.2.1"),
      targetMac: parseMac("00:0a:e6:7f:fe:05"),
      targetIp: parseIp("192.168.2.105"),
    },
  });
  if (!r.ok) return;
  const again = new Uint8Array(28);
  encodeArp(r.value, again);
  t.is(toHex(again), toHex(eth.value.payload.subarray(0, 28)));
});

test("table 7: the broadcast ARP request for 192.168.2.1, captured unpadded", (t) => {
  // 42 bytes, unlike table 6: the capturing host sent this frame itself, and its NIC
  // pads to 60 bytes only after the capture has seen it.
  t.is(ARP_TABLE_7.length, 42);
  const eth = decodeEthernet(ARP_TABLE_7);
  if (!eth.ok) return t.fail(eth.reason);
  t.is(macToString(eth.value.dst), "ff:ff:ff:ff:ff:ff");
  t.deepEqual(decodeArp(eth.value.payload), {
    ok: true,
    value: {
      op: ARP_REQUEST,
      senderMac: parseMac("00:0a:e6:7f:fe:05"),
      senderIp: parseIp("192.168.2.105"),
      targetMac: new Uint8Array(6),
      targetIp: parseIp("192.168.2.1"),
    },
  });
});
