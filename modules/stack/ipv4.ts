// IPv4: validation of what arrives, delivery to the protocol handlers, bounded
// reassembly of fragments, and routing of what leaves (subnet, gateway, broadcast).

import { type Ip4, type Mac, BROADCAST_MAC, IP_ANY, IP_BROADCAST, isLoopbackIp, isMulticastIp } from "../wire/address.ts";
import { ETHERTYPE_IPV4, ETH_HEADER_LEN } from "../wire/ethernet.ts";
import { decodeIpv4, encodeIpv4Header, IPV4_MIN_HEADER_LEN, IP_PROTO_UDP, type Ipv4Decoded } from "../wire/ipv4.ts";
import type { Netif } from "./netif.ts";
import type { Arp } from "./arp.ts";
import { Ipv4Reassembly } from "./ipv4-reassembly.ts";

/** Bytes a transport reserves in front of its header for the IPv4 and Ethernet headers. */
export const HEADROOM = ETH_HEADER_LEN + IPV4_MIN_HEADER_LEN;

export interface Datagram {
  src: Ip4;
  dst: Ip4;
  protocol: number;
  ttl: number;
  /** True when sent to a broadcast address or a multicast MAC: never answered with ICMP errors. */
  broadcast: boolean;
  /** The IP header and the start of the payload, as ICMP errors quote them. */
  quote: Uint8Array;
  payload: Uint8Array;
}

export type ProtocolHandler = (d: Datagram) => void;

export interface SendOptions {
  ttl?: number;
  tos?: number;
  /** Source address; defaults to the interface's (0.0.0.0 while it has none, as DHCP needs). */
  src?: Ip4;
}

export interface Ipv4Options {
  reassemblySlots: number; // datagrams being reassembled at once
  reassemblyMaxBytes: number; // largest datagram we reassemble
  reassemblyTimeoutMs: number;
  defaultTtl: number;
}

const DEFAULTS: Ipv4Options = { reassemblySlots: 3, reassemblyMaxBytes: 8192, reassemblyTimeoutMs: 15_000, defaultTtl: 64 };
const MAX_FRAGMENTS = 16;

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
    this.options = { ...DEFAULTS, ...options };
    const o = this.options;
    const limits = { slots: o.reassemblySlots, maxBytes: o.reassemblyMaxBytes, maxFragments: MAX_FRAGMENTS, timeoutMs: o.reassemblyTimeoutMs };
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
    if (length > this.netif.mtu) {
      stats.drop("ip-too-big");
      return false;
    }
    encodeIpv4Header(
      {
        dscp: (opts.tos ?? 0) >>> 2,
        ecn: 0,
        id: this.nextId++ & 0xffff,
        df: true,
        mf: false,
        fragmentOffsetBytes: 0,
        ttl: opts.ttl ?? this.options.defaultTtl,
        protocol,
        src: opts.src ?? this.netif.ip,
        dst,
        options: NO_OPTIONS,
      },
      length - IPV4_MIN_HEADER_LEN,
      frame,
      ETH_HEADER_LEN,
    );
    stats.count("ip.tx");
    const mac = this.broadcastMac(dst);
    if (mac) {
      this.netif.send(frame, mac, ETHERTYPE_IPV4);
      return true;
    }
    const hop = this.netif.isLocal(dst) ? dst : this.netif.gateway;
    if (hop === 0) {
      stats.drop("ip-no-route");
      return false;
    }
    this.arp.send(frame, hop);
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

  private input(bytes: Uint8Array, linkBroadcast: boolean): void {
    const stats = this.netif.stats;
    const r = decodeIpv4(bytes);
    if (!r.ok) return stats.drop(r.reason);
    const p = r.value;
    stats.count("ip.rx");
    // Until DHCP gives us an address, unicast to any address may be our lease offer.
    const unconfigured = this.netif.ip === 0 && p.protocol === IP_PROTO_UDP;
    if (!this.isOurs(p.dst) && !unconfigured) return stats.drop("ip-not-for-us");
    // Answering such a source would reflect off the whole LAN; no layer above ever sees it.
    if (this.badSource(p.src, p.protocol)) return stats.drop("ip-bad-source");
    const broadcast = linkBroadcast || p.dst === IP_BROADCAST || this.netif.isSubnetBroadcast(p.dst);
    if (p.mf || p.fragmentOffsetBytes !== 0) return this.fragment(p, bytes.subarray(0, p.headerLength), broadcast);
    this.deliver(p, bytes.subarray(0, Math.min(p.totalLength, p.headerLength + 8)), p.payload, broadcast);
  }

  /**
   * RFC 1122 3.2.1.3: a source no single host holds (broadcast, multicast, loopback).
   * 0.0.0.0 only for UDP: a host that has no address yet talks DHCP from it.
   */
  private badSource(src: Ip4, protocol: number): boolean {
    if (src === IP_ANY) return protocol !== IP_PROTO_UDP;
    return src === IP_BROADCAST || isMulticastIp(src) || isLoopbackIp(src) || this.netif.isSubnetBroadcast(src);
  }

  private deliver(p: Ipv4Decoded, quote: Uint8Array, payload: Uint8Array, broadcast: boolean): void {
    const d: Datagram = { src: p.src, dst: p.dst, protocol: p.protocol, ttl: p.ttl, broadcast, quote, payload };
    const handler = this.handlers.get(p.protocol);
    if (handler) return handler(d);
    this.netif.stats.drop("ip-unknown-protocol");
    this.onUnhandled?.(d);
  }

  private fragment(p: Ipv4Decoded, header: Uint8Array, broadcast: boolean): void {
    const whole = this.reassembly.add(p, header, broadcast);
    if (!whole) return;
    const quote = new Uint8Array(whole.header.length + Math.min(8, whole.payload.length));
    quote.set(whole.header);
    quote.set(whole.payload.subarray(0, 8), whole.header.length);
    this.deliver(p, quote, whole.payload, whole.broadcast);
  }
}

const NO_OPTIONS = new Uint8Array(0);
