// Captures for the ladder tests: exchanges recorded on the virtual LAN by PcapRecorder, and
// hand-built frames for what a healthy LAN never shows (retransmissions, bad checksums,
// hostile text).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapRecorder, readCaptureFile } from "../../host-sim/capture.ts";
import { FaultInjector } from "../../host-sim/faults.ts";
import { type Capture, type PcapPacket, timestampFromMs } from "../../host-sim/pcap.ts";
import { type Ip4, parseIp, parseMac, BROADCAST_MAC, ZERO_MAC } from "../../modules/wire/address.ts";
import { ARP_REQUEST, encodeArp } from "../../modules/wire/arp.ts";
import { encodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "../../modules/wire/ethernet.ts";
import { encodeIpv4, ipv4Length, IP_PROTO_TCP, IP_PROTO_UDP } from "../../modules/wire/ipv4.ts";
import { ACK, encodeTcp, PSH, SYN, tcpLength, type TcpSegment } from "../../modules/wire/tcp.ts";
import { encodeTftp, tftpLength } from "../../modules/wire/tftp.ts";
import { writeLatin1 } from "../../modules/wire/text.ts";
import { encodeUdp, udpLength } from "../../modules/wire/udp.ts";
import { dhcpLan } from "./dhcp-client-lan.ts";
import { ftpBench } from "./ftp-client.ts";

export const tempPath = (name: string) => join(mkdtempSync(join(tmpdir(), "ladder-")), name);

function read(path: string): Capture {
  const r = readCaptureFile(path);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

/** A lease from the simulator's DHCP server, recorded at the device's port, and 3 s more; returns the pcap's path. */
export function doraPcap(): string {
  const path = tempPath("dora.pcap");
  let recorder: PcapRecorder | undefined;
  const lan = dhcpLan({ wrap: (link, b) => (recorder = new PcapRecorder(link, b.clock, path)) });
  lan.client.start();
  if (!lan.until("bound")) throw new Error("no lease");
  lan.b.clock.advance(3000);
  recorder!.close();
  return path;
}

export const doraCapture = () => read(doraPcap());

/** Anonymous login, a 3000-byte RETR in passive mode and QUIT, recorded at the client's port; returns the pcap's path. */
export function ftpPcap(): string {
  const path = tempPath("ftp.pcap");
  let recorder: PcapRecorder | undefined;
  const ftp = ftpBench({}, { wrap: (link, clock) => (recorder = new PcapRecorder(link, clock, path)) });
  ftp.storage.mkdir("pub");
  const w = ftp.storage.openWrite("pub/data.bin", "create");
  if (!w.ok || !w.value.write(new Uint8Array(3000).fill(7)).ok) throw new Error("cannot store the file");
  w.value.close();
  const client = ftp.login("anonymous", "guest");
  const r = client.retr("data.bin", "pasv");
  if (r.final?.code !== 226 || r.data.length !== 3000) throw new Error(`RETR: ${r.final?.code}`);
  client.cmd("QUIT");
  ftp.clock.advance(1000);
  recorder!.close();
  return path;
}

export const ftpCapture = () => read(ftpPcap());

/**
 * A 30 000-byte STOR in passive mode while a seeded 10 % of what the client sends is lost,
 * recorded twice at the client's port: before the loss (what the client sent) and after it
 * (what reached the LAN).
 */
export function lossyUpload(seed: number): { sent: Capture; arrived: Capture } {
  const [sent, arrived] = [tempPath("sent.pcap"), tempPath("arrived.pcap")];
  const recorders: PcapRecorder[] = [];
  const ftp = ftpBench(
    {},
    {
      wrap: (link, clock) => {
        recorders.push(new PcapRecorder(link, clock, arrived));
        const lossy = new FaultInjector(recorders[0]!, clock, { seed, rates: { drop: 0.1 }, direction: "transmit" });
        recorders.push(new PcapRecorder(lossy, clock, sent));
        return recorders[1]!;
      },
    },
  );
  const client = ftp.login();
  const r = client.stor("up.bin", new Uint8Array(30_000).fill(5), "pasv");
  if (r.final?.code !== 226) throw new Error(`STOR: ${r.final?.code}`);
  client.cmd("QUIT");
  ftp.clock.advance(5000);
  for (const r of recorders) r.close();
  return { sent: read(sent), arrived: read(arrived) };
}

const A = parseIp("192.168.7.10")!;
const B = parseIp("192.168.7.20")!;
const MAC_A = parseMac("02:00:00:00:00:0a")!;
const MAC_B = parseMac("02:00:00:00:00:14")!;

/** What an FTP client might send to break a page that shows it. */
export const HOSTILE_LINE = "USER <script>alert('x')</script> & \"q\" \u0001\u001b[31m";
export const HOSTILE_NAME = '"><svg onload=alert(1)>\u0007.bin';

function ether(ethertype: number, payload: Uint8Array, dst = MAC_B, src = MAC_A): Uint8Array {
  const frame = new Uint8Array(Math.max(60, payload.length + 14));
  encodeEthernet({ dst, src, ethertype, payload }, frame);
  return frame;
}

function ipv4(protocol: number, payload: Uint8Array, src: Ip4, dst: Ip4): Uint8Array {
  const p = { dscp: 0, ecn: 0, id: 1, df: true, mf: false, fragmentOffsetBytes: 0, ttl: 64, protocol, src, dst, options: new Uint8Array(0), payload };
  const b = new Uint8Array(ipv4Length(p));
  encodeIpv4(p, b);
  return b;
}

/** A TCP segment from A:40000 to B:21 (or back, with `back`). */
function tcp(s: Partial<TcpSegment>, back = false): Uint8Array {
  const seg: TcpSegment = { srcPort: 40000, dstPort: 21, seq: 0, ack: 0, flags: ACK, window: 5840, urgent: 0, options: {}, payload: new Uint8Array(0), ...s };
  if (back) [seg.srcPort, seg.dstPort] = [seg.dstPort, seg.srcPort];
  const [src, dst] = back ? [B, A] : [A, B];
  const b = new Uint8Array(tcpLength(seg));
  encodeTcp(seg, src, dst, b);
  return back ? ether(ETHERTYPE_IPV4, ipv4(IP_PROTO_TCP, b, src, dst), MAC_A, MAC_B) : ether(ETHERTYPE_IPV4, ipv4(IP_PROTO_TCP, b, src, dst));
}

function udp(dstPort: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(udpLength({ payload }));
  encodeUdp({ srcPort: 40001, dstPort, payload }, A, B, b);
  return ether(ETHERTYPE_IPV4, ipv4(IP_PROTO_UDP, b, A, B));
}

function tftpRrq(filename: string): Uint8Array {
  const p = { op: "rrq" as const, filename, mode: "octet", options: {} };
  const b = new Uint8Array(tftpLength(p));
  encodeTftp(p, b);
  return b;
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/**
 * Frame by frame (tshark's numbers): 1-3 handshake; 4 a hostile FTP line (seq 1:N); 5 the same
 * again, a retransmission; 6 new data; 7 overlapping what was sent, a retransmission; 8 an ACK;
 * 9 a bad TCP checksum; 10 a runt; 11 TFTP with an opcode that does not exist; 12 an RRQ naming
 * a hostile file; 13 an ARP request.
 */
export function marksCapture(): Capture {
  const line = new Uint8Array(HOSTILE_LINE.length + 2);
  const n = writeLatin1(line, 0, `${HOSTILE_LINE}\r\n`);
  const corrupt = tcp({ seq: 1201 + n, ack: 5001, flags: ACK | PSH, payload: bytes(10, 1) });
  corrupt[corrupt.length - 1] = corrupt.at(-1)! ^ 0xff; // the last payload byte
  const arp = new Uint8Array(28);
  encodeArp({ op: ARP_REQUEST, senderMac: MAC_A, senderIp: A, targetMac: ZERO_MAC, targetIp: B }, arp);
  const frames = [
    tcp({ seq: 1000, flags: SYN }),
    tcp({ seq: 5000, ack: 1001, flags: SYN | ACK }, true),
    tcp({ seq: 1001, ack: 5001 }),
    tcp({ seq: 1001, ack: 5001, flags: ACK | PSH, payload: line }),
    tcp({ seq: 1001, ack: 5001, flags: ACK | PSH, payload: line }),
    tcp({ seq: 1001 + n, ack: 5001, flags: ACK | PSH, payload: bytes(150, 2) }),
    tcp({ seq: 1101 + n, ack: 5001, flags: ACK | PSH, payload: bytes(100, 3) }),
    tcp({ seq: 5001, ack: 1201 + n }, true),
    corrupt,
    bytes(10, 0xab),
    udp(69, Uint8Array.of(0, 9, 0, 0)),
    udp(69, tftpRrq(HOSTILE_NAME)),
    ether(ETHERTYPE_ARP, arp, BROADCAST_MAC),
  ];
  return { format: "pcap", packets: frames.map((data, i) => packet(data, 1_700_000_000_000 + i * 10)) };
}

export function packet(data: Uint8Array, ms: number, linkType = 1): PcapPacket {
  return { ...timestampFromMs(ms), data, originalLength: data.length, linkType };
}

/** `n` UDP datagrams, A to B's echo port and back by turns, 10 ms apart, with 2 s of quiet after every 1000th. */
export function bulkCapture(n: number): Capture {
  const packets: PcapPacket[] = [];
  for (let i = 0, ms = 0; i < n; i++, ms += i % 1000 ? 10 : 2000) {
    const payload = Uint8Array.of(i >> 8, i & 0xff);
    const b = new Uint8Array(udpLength({ payload }));
    const [src, dst] = i % 2 ? [B, A] : [A, B];
    encodeUdp({ srcPort: i % 2 ? 7 : 40002, dstPort: i % 2 ? 40002 : 7, payload }, src, dst, b);
    const frame = i % 2 ? ether(ETHERTYPE_IPV4, ipv4(IP_PROTO_UDP, b, src, dst), MAC_A, MAC_B) : ether(ETHERTYPE_IPV4, ipv4(IP_PROTO_UDP, b, src, dst));
    packets.push(packet(frame, 1_700_000_000_000 + ms));
  }
  return { format: "pcap", packets };
}
