// Hand-built frames from a peer at 10.0.0.9 (mac(9)) to the stack under test, and their
// decoding: what the layer tests put on the LAN and read back from it.

import { BROADCAST_MAC, type Ip4, ZERO_MAC } from "../../modules/wire/address.ts";
import { ARP_LEN, ARP_REQUEST, type ArpPacket, decodeArp, encodeArp } from "../../modules/wire/arp.ts";
import { decodeEthernet, encodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_HEADER_LEN } from "../../modules/wire/ethernet.ts";
import { decodeIcmp, encodeIcmp, type IcmpDecoded, icmpLength } from "../../modules/wire/icmp.ts";
import { decodeIpv4, encodeIpv4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, type Ipv4Decoded, ipv4Length } from "../../modules/wire/ipv4.ts";
import { encodeTcp, SYN, tcpLength } from "../../modules/wire/tcp.ts";
import { encodeUdp, udpLength } from "../../modules/wire/udp.ts";
import { bench, ip, mac } from "./bench.ts";

export const PEER_IP = ip("10.0.0.9");

export interface IpFrameOptions {
  mf?: boolean;
  offset?: number;
  id?: number;
  dstMac?: Uint8Array;
  srcMac?: Uint8Array;
}

export function ipFrame(src: Ip4, dst: Ip4, protocol: number, payload: Uint8Array, opts: IpFrameOptions = {}): Uint8Array {
  const p = {
    dscp: 0,
    ecn: 0,
    id: opts.id ?? 7,
    df: false,
    mf: opts.mf ?? false,
    fragmentOffsetBytes: opts.offset ?? 0,
    ttl: 64,
    protocol,
    src,
    dst,
    options: new Uint8Array(0),
    payload,
  };
  const ipBytes = new Uint8Array(ipv4Length(p));
  encodeIpv4(p, ipBytes);
  const frame = new Uint8Array(ETH_HEADER_LEN + ipBytes.length);
  encodeEthernet({ dst: opts.dstMac ?? mac(2), src: opts.srcMac ?? mac(9), ethertype: ETHERTYPE_IPV4, payload: ipBytes }, frame);
  return frame;
}

export function echoRequest(src: Ip4, dst: Ip4, size: number, seq = 1, opts: IpFrameOptions = {}): Uint8Array {
  const data = Uint8Array.from({ length: size }, (_, i) => i & 0xff);
  const m = { kind: "echo-request" as const, code: 0, id: 0x1234, seq, data };
  const icmp = new Uint8Array(icmpLength(m));
  encodeIcmp(m, icmp);
  return ipFrame(src, dst, IP_PROTO_ICMP, icmp, opts);
}

export function udpFrame(src: Ip4, dst: Ip4, srcPort: number, dstPort: number, payload: Uint8Array, opts: IpFrameOptions = {}): Uint8Array {
  const udp = new Uint8Array(udpLength({ payload }));
  encodeUdp({ srcPort, dstPort, payload }, src, dst, udp);
  return ipFrame(src, dst, IP_PROTO_UDP, udp, opts);
}

export function synFrame(src: Ip4, dst: Ip4, srcPort: number, dstPort: number, opts: IpFrameOptions = {}): Uint8Array {
  const seg = { srcPort, dstPort, seq: 1000, ack: 0, flags: SYN, window: 65535, urgent: 0, options: {}, payload: new Uint8Array(0) };
  const tcp = new Uint8Array(tcpLength(seg));
  encodeTcp(seg, src, dst, tcp);
  return ipFrame(src, dst, IP_PROTO_TCP, tcp, opts);
}

export function arpFrame(
  p: Partial<ArpPacket> & Pick<ArpPacket, "op" | "senderIp" | "targetIp">,
  ethDst = BROADCAST_MAC,
  ethSrc = p.senderMac ?? mac(9),
): Uint8Array {
  const arp = new Uint8Array(ARP_LEN);
  encodeArp({ senderMac: ethSrc, targetMac: ZERO_MAC, ...p }, arp);
  const frame = new Uint8Array(60);
  encodeEthernet({ dst: ethDst, src: ethSrc, ethertype: ETHERTYPE_ARP, payload: arp }, frame);
  return frame;
}

/** Teaches host 2 that 10.0.0.9 is at mac(9) by asking it for its own address. */
export function arpIntroduce(link: { transmit(f: Uint8Array): void }): void {
  link.transmit(arpFrame({ op: ARP_REQUEST, senderIp: PEER_IP, targetIp: ip("10.0.0.2") }));
}

/** Host 2 on a bench, with a raw port for 10.0.0.9 that it already knows: the port has seen nothing yet. */
export function hostAndPeer() {
  const b = bench();
  const s = b.host(2);
  const tap = b.tap();
  arpIntroduce(tap.link);
  b.clock.runUntilIdle();
  tap.frames.length = 0;
  return { b, s, tap };
}

/** The IPv4 packet a frame carries, if any. */
export function ipOf(frame: Uint8Array): Ipv4Decoded | undefined {
  const eth = decodeEthernet(frame);
  if (!eth.ok || eth.value.ethertype !== ETHERTYPE_IPV4) return undefined;
  const p = decodeIpv4(eth.value.payload);
  return p.ok ? p.value : undefined;
}

/** The ICMP message a frame carries, if any. */
export function icmpOf(frame: Uint8Array): IcmpDecoded | undefined {
  const p = ipOf(frame);
  if (p?.protocol !== IP_PROTO_ICMP) return undefined;
  const m = decodeIcmp(p.payload);
  return m.ok ? m.value : undefined;
}

/** The ARP packet a frame carries, if any. */
export function arpOf(frame: Uint8Array): ArpPacket | undefined {
  const eth = decodeEthernet(frame);
  if (!eth.ok || eth.value.ethertype !== ETHERTYPE_ARP) return undefined;
  const a = decodeArp(eth.value.payload);
  return a.ok ? a.value : undefined;
}
