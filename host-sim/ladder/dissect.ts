// One captured packet taken apart for the ladder: its trace line (host-sim/trace.ts), the
// addresses and ports that place its arrow, and the first reason one of our decoders gave
// for rejecting it. Link types other than Ethernet (raw IP, Linux cooked) are re-framed as
// Ethernet first, so the trace and the decoders see what they know. A TCP or UDP checksum
// that does not add up is common in captures taken on the sending host (the NIC computes it
// later): such a frame is read as if the checksum were right, and still marked.

import { macToString, type Ip4 } from "../../modules/wire/address.ts";
import { decodeArp, type ArpPacket } from "../../modules/wire/arp.ts";
import { checksum, pseudoHeaderSum } from "../../modules/wire/checksum.ts";
import { decodeDhcp } from "../../modules/wire/dhcp.ts";
import { decodeDns } from "../../modules/wire/dns.ts";
import { decodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETH_HEADER_LEN } from "../../modules/wire/ethernet.ts";
import { decodeIcmp } from "../../modules/wire/icmp.ts";
import { decodeIpv4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP } from "../../modules/wire/ipv4.ts";
import { decodeTcp, type TcpDecoded } from "../../modules/wire/tcp.ts";
import { decodeUdp } from "../../modules/wire/udp.ts";
import { LINKTYPE_ETHERNET, type PcapPacket } from "../pcap.ts";
import { describeFrame } from "../trace.ts";

const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_LINUX_SLL2 = 276;
const SLL_BROADCAST = 1; // packet type: sent to the link-layer broadcast address

export interface Dissected {
  trace: string;
  srcMac?: string;
  dstMac?: string;
  /** Set for a frame sent to the link-layer broadcast address. */
  broadcast: boolean;
  srcIp?: Ip4;
  dstIp?: Ip4;
  arp?: ArpPacket;
  /** Transport ports and data, for a TCP segment or UDP datagram our decoders accept. */
  udp?: { srcPort: number; dstPort: number; payload: Uint8Array };
  tcp?: TcpDecoded;
  /** Protocols recognised, outermost first: "arp", "ip", "icmp", "udp", "tcp", "dhcp", "dns"... */
  protos: string[];
  /** Why one of our decoders rejected the frame. */
  malformed?: string;
}

/** `ignoreChecksums`: a TCP or UDP checksum that does not add up is no fault (a capture on a host that offloads them). */
export function dissect(p: PcapPacket, ignoreChecksums = false): Dissected {
  const frame = asEthernet(p);
  if (!frame) return { trace: `link type ${p.linkType}, length ${p.data.length}`, broadcast: false, protos: [], malformed: `linktype-${p.linkType}` };
  const d = dissectEthernet(frame);
  if (d.malformed !== "tcp-bad-checksum" && d.malformed !== "udp-bad-checksum") return d;
  const fixed = withChecksum(frame);
  const again = fixed && dissectEthernet(fixed);
  if (!again || again.malformed) return d;
  return ignoreChecksums ? again : { ...again, malformed: d.malformed };
}

function dissectEthernet(frame: Uint8Array): Dissected {
  const d: Dissected = { trace: describeFrame(frame), broadcast: false, protos: [] };
  const eth = decodeEthernet(frame);
  if (!eth.ok) return { ...d, malformed: eth.reason };
  const e = eth.value;
  d.srcMac = macToString(e.src);
  d.dstMac = macToString(e.dst);
  d.broadcast = e.dst.every((x) => x === 0xff);
  if (e.ethertype === ETHERTYPE_ARP) {
    d.protos.push("arp");
    const a = decodeArp(e.payload);
    if (!a.ok) return { ...d, malformed: a.reason };
    d.arp = a.value;
  } else if (e.ethertype === ETHERTYPE_IPV4) {
    dissectIp(e.payload, d);
  } else d.protos.push(e.ethertype === ETHERTYPE_IPV6 ? "ipv6" : "eth");
  return d;
}

function dissectIp(b: Uint8Array, d: Dissected): void {
  d.protos.push("ip");
  const r = decodeIpv4(b);
  if (!r.ok) {
    d.malformed = r.reason;
    return;
  }
  const ip = r.value;
  d.srcIp = ip.src;
  d.dstIp = ip.dst;
  if (ip.mf || ip.fragmentOffsetBytes) return; // a fragment: its transport header is not ours to read
  if (ip.protocol === IP_PROTO_ICMP) {
    d.protos.push("icmp");
    const m = decodeIcmp(ip.payload);
    if (!m.ok) d.malformed = m.reason;
  } else if (ip.protocol === IP_PROTO_TCP) {
    d.protos.push("tcp");
    const t = decodeTcp(ip.payload, ip.src, ip.dst);
    if (t.ok) d.tcp = t.value;
    else d.malformed = t.reason;
  } else if (ip.protocol === IP_PROTO_UDP) {
    d.protos.push("udp");
    const u = decodeUdp(ip.payload, ip.src, ip.dst);
    if (!u.ok) {
      d.malformed = u.reason;
      return;
    }
    d.udp = u.value;
    dissectUdpApp(u.value, d);
  }
}

/** The protocols the trace reads inside UDP by port; their decoders also judge the frame. */
function dissectUdpApp(u: { srcPort: number; dstPort: number; payload: Uint8Array }, d: Dissected): void {
  const ports = [u.srcPort, u.dstPort];
  if (u.dstPort === 67 || u.dstPort === 68) {
    d.protos.push("dhcp");
    const m = decodeDhcp(u.payload);
    if (!m.ok) d.malformed = m.reason;
  } else if (u.dstPort !== 69 && ports.includes(53)) {
    d.protos.push("dns");
    const m = decodeDns(u.payload);
    if (!m.ok) d.malformed = m.reason;
  }
}

/** A copy of the frame with its TCP or UDP checksum computed afresh, as an offloading NIC would. */
function withChecksum(frame: Uint8Array): Uint8Array | undefined {
  const copy = frame.slice();
  const eth = decodeEthernet(copy);
  const ip = eth.ok ? decodeIpv4(eth.value.payload) : undefined;
  if (!ip?.ok) return undefined;
  const { protocol, src, dst, payload } = ip.value; // payload: a view into the copy
  const at = protocol === IP_PROTO_TCP ? 16 : 6;
  if (payload.length < at + 2) return undefined;
  payload[at] = payload[at + 1] = 0;
  let sum = checksum(payload, 0, payload.length, pseudoHeaderSum(src, dst, protocol, payload.length));
  if (protocol === IP_PROTO_UDP && sum === 0) sum = 0xffff; // zero would mean "no checksum"
  payload[at] = sum >> 8;
  payload[at + 1] = sum & 0xff;
  return copy;
}

/** The packet as an Ethernet frame: as captured, or with a header made up from a cooked or raw capture's. */
function asEthernet(p: PcapPacket): Uint8Array | undefined {
  const b = p.data;
  switch (p.linkType) {
    case LINKTYPE_ETHERNET:
      return b;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
      return b.length ? ethernet(b[0]! >> 4 === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, b, undefined, false) : undefined;
    case LINKTYPE_LINUX_SLL: // packet type, ARPHRD type, address length, 8 address bytes, protocol
      if (b.length < 16) return undefined;
      return ethernet(readU16(b, 14), b.subarray(16), readU16(b, 4) === 6 ? b.subarray(6, 12) : undefined, readU16(b, 0) === SLL_BROADCAST);
    case LINKTYPE_LINUX_SLL2: // protocol, reserved, interface index, ARPHRD type, packet type, address length, 8 address bytes
      if (b.length < 20) return undefined;
      return ethernet(readU16(b, 0), b.subarray(20), b[11] === 6 ? b.subarray(12, 18) : undefined, b[10] === SLL_BROADCAST);
  }
  return undefined;
}

function readU16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

function ethernet(ethertype: number, payload: Uint8Array, src: Uint8Array | undefined, broadcast: boolean): Uint8Array {
  const f = new Uint8Array(ETH_HEADER_LEN + payload.length);
  if (broadcast) f.fill(0xff, 0, 6);
  if (src) f.set(src, 6);
  f[12] = ethertype >> 8;
  f[13] = ethertype & 0xff;
  f.set(payload, ETH_HEADER_LEN);
  return f;
}
