// Wires the layers together for a port: one call builds a whole interface.

import type { Clock, Link, Random } from "../platform.ts";
import { Netif, type NetifOptions } from "./netif.ts";
import { Arp, type ArpOptions } from "./arp.ts";
import { Ipv4, type Ipv4Options } from "./ipv4.ts";
import { Icmp, type IcmpOptions } from "./icmp.ts";
import { Udp } from "./udp.ts";
import { Tcp, type TcpConfig } from "./tcp.ts";

export interface StackOptions extends NetifOptions {
  arp?: Partial<ArpOptions>;
  ipv4?: Partial<Ipv4Options>;
  icmp?: Partial<IcmpOptions>;
  tcp?: Partial<TcpConfig>;
}

export interface Stack {
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
  const udp = new Udp(ip, icmp);
  return { netif, arp, ip, icmp, udp, tcp: new Tcp(ip, options.tcp) };
}
