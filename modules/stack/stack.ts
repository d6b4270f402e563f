// Wires the layers together for a port: one call builds a whole interface.

import type { Clock, Link, Random } from "../platform.ts";
import { Netif, type NetifOptions } from "./netif.ts";
import { Arp, type ArpOptions } from "./arp.ts";
import { Ipv4, type Ipv4Options } from "./ipv4.ts";
import { Icmp, type IcmpOptions } from "./icmp.ts";
import { Udp, type UdpOptions } from "./udp.ts";
import { Tcp, type TcpConfig } from "./tcp.ts";
import type { Stats } from "./stats.ts";
import { transportError } from "./transport-error.ts";
import { IP_PROTO_TCP, IP_PROTO_UDP } from "../wire/ipv4.ts";

export interface StackOptions extends NetifOptions {
  arp?: Partial<ArpOptions>;
  ipv4?: Partial<Ipv4Options>;
  icmp?: Partial<IcmpOptions>;
  udp?: Partial<UdpOptions>;
  tcp?: Partial<TcpConfig>;
}

/** What every layer and service shares: time, randomness, the counters and the trace. */
export interface StackContext {
  readonly clock: Clock;
  readonly random: Random;
  readonly stats: Stats;
  /** A protocol event for the trace hook (netif.onEvent). */
  event(layer: string, text: string): void;
}

export interface Stack extends StackContext {
  netif: Netif;
  arp: Arp;
  ip: Ipv4;
  icmp: Icmp;
  udp: Udp;
  tcp: Tcp;
}

export function createStack(link: Link, clock: Clock, random: Random, options: StackOptions): Stack {
  const netif = new Netif(link, clock, random, options);
  const arp = new Arp(netif, options.arp);
  const ip = new Ipv4(netif, arp, options.ipv4);
  const icmp = new Icmp(ip, options.icmp);
  const udp = new Udp(ip, icmp, options.udp);
  const tcp = new Tcp(ip, options.tcp);
  icmp.onError = (_from, m) => {
    const e = transportError(m);
    if (!e) return;
    if (e.localIp !== netif.ip) return netif.stats.drop("icmp-error-not-ours");
    if (e.protocol === IP_PROTO_TCP) tcp.icmpError(e);
    else if (e.protocol === IP_PROTO_UDP) udp.icmpError(e);
  };
  return { netif, arp, ip, icmp, udp, tcp, clock, random, stats: netif.stats, event: (layer, text) => netif.event(layer, text) };
}
