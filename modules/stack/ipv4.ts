// IPv4: validation of what arrives, delivery to the protocol handlers, bounded
// reassembly of fragments, and routing of what leaves (subnet, gateway, broadcast).

import { type Ip4, type Mac, BROADCAST_MAC, IP_ANY, IP_BROADCAST } from "../wire/address.ts";
import { ETHERTYPE_IPV4, ETH_HEADER_LEN } from "../wire/ethernet.ts";
import {
  decodeIpv4,
  ipv4HeaderCheck,
  writeIpv4Header,
  IPV4_DST_OFFSET,
  IPV4_FLAG_DF,
  IPV4_FLAGS_OFFSET,
  IPV4_FRAGMENT_BITS,
  IPV4_MIN_HEADER_LEN,
  IPV4_PROTOCOL_OFFSET,
  IPV4_SRC_OFFSET,
  IPV4_TOTAL_LENGTH_OFFSET,
  IPV4_TTL_OFFSET,
  IP_PROTO_UDP,
} from "../wire/ipv4.ts";
import type { Netif } from "./netif.ts";
import type { Arp } from "./arp.ts";
import { Ipv4Reassembly } from "./ipv4-reassembly.ts";

/** Bytes a transport reserves in front of its header for the IPv4 and Ethernet headers. */
export const HEADROOM = ETH_HEADER_LEN + IPV4_MIN_HEADER_LEN;
/** The total length field's largest value. */
const IPV4_MAX_LENGTH = 0xffff;

export interface Datagram {
  src: Ip4;
  dst: Ip4;
  protocol: number;
  ttl: number;
  /** True when sent to a broadcast address or a multicast MAC: never answered with ICMP errors. */
  broadcast: boolean;
  /** Starts with the IP header, of headerLength bytes: what quote() takes for ICMP errors. */
  packet: Uint8Array;
  headerLength: number;
  payload: Uint8Array;
}

/** The IP header and the first 8 bytes of the payload of `d`, as ICMP errors quote them (RFC 792). */
export function quote(d: Datagram): Uint8Array {
  const n = Math.min(8, d.payload.length);
  const q = new Uint8Array(d.headerLength + n);
  q.set(d.packet.subarray(0, d.headerLength));
  q.set(d.payload.subarray(0, n), d.headerLength);
  return q;
}

export type ProtocolHandler = (d: Datagram) => void;

export interface SendOptions {
  ttl?: number;
  tos?: number;
  /** Source address; defaults to the interface's (0.0.0.0 while it has none, as DHCP needs). */
  src?: Ip4;
  /** TCP over a link with TSO: the segment size the link cuts the payload into (Link.transmit). */
  segment?: number;
}

export interface Ipv4Options {
  /** Datagrams being reassembled at once, count; a new one evicts the oldest. */
  reassemblySlots: number;
  /** Largest datagram reassembled, bytes of payload. */
  reassemblyMaxBytes: number;
  /** Fragments held per datagram, count. */
  reassemblyMaxFragments: number;
  /** A datagram not whole this long after its first fragment is dropped, ms. */
  reassemblyTimeoutMs: number;
  /** TTL of the datagrams we send, hops. */
  defaultTtl: number;
}

export const IPV4_DEFAULTS: Ipv4Options = {
  reassemblySlots: 3,
  reassemblyMaxBytes: 8192,
  reassemblyMaxFragments: 16,
  reassemblyTimeoutMs: 15_000,
  defaultTtl: 64,
};

export class Ipv4 {
  private readonly handlers = new Map<number, ProtocolHandler>();
  private readonly reassembly: Ipv4Reassembly;
  private readonly options: Ipv4Options;
  private nextId: number;
  /** Called for a datagram no handler takes, so ICMP can answer protocol-unreachable. */
  onUnhandled: ((d: Datagram) => void) | undefined;

  constructor(
    readonly netif: Netif,
    private readonly arp: Arp,
    options: Partial<Ipv4Options> = {},
  ) {
    this.options = { ...IPV4_DEFAULTS, ...options };
    const o = this.options;
    const limits = { slots: o.reassemblySlots, maxBytes: o.reassemblyMaxBytes, maxFragments: o.reassemblyMaxFragments, timeoutMs: o.reassemblyTimeoutMs };
    this.reassembly = new Ipv4Reassembly(netif.clock, netif.stats, limits);
    this.nextId = netif.random.u32() & 0xffff;
    netif.register(ETHERTYPE_IPV4, (payload, broadcast) => this.input(payload, broadcast));
  }

  register(protocol: number, handler: ProtocolHandler): void {
    this.handlers.set(protocol, handler);
  }

  /** The largest transport segment (header included) that fits one frame. */
  get maxPayload(): number {
    return this.netif.mtu - IPV4_MIN_HEADER_LEN;
  }

  /**
   * Sends `frame`, whose transport header and data start at HEADROOM. Returns false
   * (and counts why) when the datagram can't be sent.
   */
  output(frame: Uint8Array, dst: Ip4, protocol: number, opts: SendOptions = {}): boolean {
    const stats = this.netif.stats;
    const length = frame.length - ETH_HEADER_LEN;
    const segment = opts.segment;
    if (length > this.netif.mtu && !(segment && frame.length <= this.netif.tsoMaxFrame && length <= IPV4_MAX_LENGTH)) {
      stats.drop("ip-too-big");
      return false;
    }
    const tos = (opts.tos ?? 0) & 0xfc; // the DSCP; ECN is not ours to set
    const ttl = opts.ttl ?? this.options.defaultTtl;
    writeIpv4Header(
      frame,
      ETH_HEADER_LEN,
      IPV4_MIN_HEADER_LEN,
      length,
      tos,
      this.nextId++ & 0xffff,
      IPV4_FLAG_DF,
      ttl,
      protocol,
      opts.src ?? this.netif.ip,
      dst,
    );
    stats.count("ip.tx");
    const mac = this.broadcastMac(dst);
    if (mac) {
      this.netif.send(frame, mac, ETHERTYPE_IPV4, segment);
      return true;
    }
    const hop = this.netif.isLocal(dst) ? dst : this.netif.gateway;
    if (hop === 0) {
      stats.drop("ip-no-route");
      return false;
    }
    this.arp.send(frame, hop, segment);
    return true;
  }

  /** True when a datagram to `ip` reaches us (unicast, limited or subnet broadcast). */
  isOurs(ip: Ip4): boolean {
    const n = this.netif;
    return ip === IP_BROADCAST || (n.ip !== 0 && ip === n.ip) || n.isSubnetBroadcast(ip);
  }

  private broadcastMac(dst: Ip4): Mac | undefined {
    return dst === IP_BROADCAST || this.netif.isSubnetBroadcast(dst) ? BROADCAST_MAC : undefined;
  }

  /** Reads the header in place (decodeIpv4's record only for fragments): on XS a record per datagram costs more than the checks. */
  private input(bytes: Uint8Array, linkBroadcast: boolean): void {
    const stats = this.netif.stats;
    const headerLength = ipv4HeaderCheck(bytes);
    if (typeof headerLength === "string") return stats.drop(headerLength);
    stats.count("ip.rx");
    const v = new DataView(bytes.buffer, bytes.byteOffset, IPV4_MIN_HEADER_LEN); // cheaper on XS than byte reads
    const protocol = v.getUint8(IPV4_PROTOCOL_OFFSET);
    const src = v.getUint32(IPV4_SRC_OFFSET);
    const dst = v.getUint32(IPV4_DST_OFFSET);
    // Unicast to our address, by far the most common, is never a broadcast of ours.
    let broadcast = linkBroadcast;
    if (dst !== this.netif.ip || dst === 0) {
      // Until DHCP gives us an address, unicast to any address may be our lease offer.
      const unconfigured = this.netif.ip === 0 && protocol === IP_PROTO_UDP;
      if (!this.isOurs(dst) && !unconfigured) return stats.drop("ip-not-for-us");
      broadcast ||= dst === IP_BROADCAST || this.netif.isSubnetBroadcast(dst);
    }
    // Answering such a source would reflect off the whole LAN; no layer above ever sees it.
    if (this.badSource(src, protocol)) return stats.drop("ip-bad-source");
    if ((v.getUint16(IPV4_FLAGS_OFFSET) & IPV4_FRAGMENT_BITS) !== 0) return this.fragment(bytes, headerLength, broadcast);
    const payload = bytes.subarray(headerLength, v.getUint16(IPV4_TOTAL_LENGTH_OFFSET));
    this.deliver({ src, dst, protocol, ttl: v.getUint8(IPV4_TTL_OFFSET), broadcast, packet: bytes, headerLength, payload });
  }

  /**
   * RFC 1122 3.2.1.3: a source no single host holds (broadcast, multicast, loopback).
   * 0.0.0.0 only for UDP: a host that has no address yet talks DHCP from it.
   */
  private badSource(src: Ip4, protocol: number): boolean {
    if (src === IP_ANY) return protocol !== IP_PROTO_UDP;
    const top = src >>> 24; // multicast is 224/4 (RFC 5771), loopback 127/8
    return src === IP_BROADCAST || top >>> 4 === 0xe || top === 127 || this.netif.isSubnetBroadcast(src);
  }

  private deliver(d: Datagram): void {
    const handler = this.handlers.get(d.protocol);
    if (handler) return handler(d);
    this.netif.stats.drop("ip-unknown-protocol");
    this.onUnhandled?.(d);
  }

  private fragment(bytes: Uint8Array, headerLength: number, broadcast: boolean): void {
    const r = decodeIpv4(bytes);
    if (!r.ok) return; // ipv4HeaderCheck passed it already
    const p = r.value;
    const whole = this.reassembly.add(p, bytes.subarray(0, headerLength), broadcast);
    if (!whole) return;
    const d = { src: p.src, dst: p.dst, protocol: p.protocol, ttl: p.ttl, broadcast: whole.broadcast };
    this.deliver({ ...d, packet: whole.header, headerLength: whole.header.length, payload: whole.payload });
  }
}
