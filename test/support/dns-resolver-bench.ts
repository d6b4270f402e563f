// Shared set-up for the resolver tests: a device (10.0.0.2) and DNS server peers
// (10.0.0.53, 10.0.0.54) on a virtual LAN, and a small zone.

import { bench, ip, type Bench } from "./bench.ts";
import { DnsServer, type DnsServerOptions } from "../../host-sim/peers/dns-server.ts";
import { DnsResolver, type DnsError, type DnsLookupType, type DnsResolverOptions, type DnsResult } from "../../modules/services/dns-resolver.ts";
import type { DnsRecord } from "../../modules/wire/dns.ts";
import { ipToString } from "../../modules/wire/address.ts";
import type { Stack } from "../../modules/stack/stack.ts";
import type { Clock, Link } from "../../modules/platform.ts";

export const SERVER1 = ip("10.0.0.53");
export const SERVER2 = ip("10.0.0.54");

export function a(name: string, address: string, ttl = 300): DnsRecord {
  return { name, type: "A", class: 1, ttl, address: ip(address) };
}

export function aaaa(name: string, address: Uint8Array, ttl = 300): DnsRecord {
  return { name, type: "AAAA", class: 1, ttl, address };
}

export function cname(name: string, target: string, ttl = 300): DnsRecord {
  return { name, type: "CNAME", class: 1, ttl, target };
}

export function ptr(name: string, target: string, ttl = 300): DnsRecord {
  return { name, type: "PTR", class: 1, ttl, target };
}

/** fd00::<last>, 16 bytes. */
export function v6(last: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = 0xfd;
  b[15] = last;
  return b;
}

/** Negative answers from this SOA live min(TTL 3600, MINIMUM 30) = 30 s. */
export const SOA: DnsRecord = {
  name: "example.test",
  type: "SOA",
  class: 1,
  ttl: 3600,
  mname: "ns.example.test",
  rname: "admin.example.test",
  serial: 1,
  refresh: 3600,
  retry: 600,
  expire: 86400,
  minimum: 30,
};

export function zone(): DnsRecord[] {
  return [
    a("www.example.test", "10.0.0.80", 300),
    a("www.example.test", "10.0.0.81", 300),
    aaaa("www.example.test", v6(0x80), 600),
    cname("alias.example.test", "mid.example.test", 60),
    cname("mid.example.test", "www.example.test", 120),
    cname("loop1.example.test", "loop2.example.test"),
    cname("loop2.example.test", "loop1.example.test"),
    ptr("80.0.0.10.in-addr.arpa", "www.example.test"),
    { name: "text.example.test", type: "TXT", class: 1, ttl: 300, texts: [new TextEncoder().encode("only text here")] },
  ];
}

export interface Outcome {
  err: DnsError | undefined;
  result: DnsResult | undefined;
  at: number;
}

export interface DnsBench {
  b: Bench;
  device: Stack;
  resolver: DnsResolver;
  server1: DnsServer;
  server2: DnsServer;
  /** Starts a look-up; its outcome appears in the returned holder when the clock reaches it. */
  start(name: string, type: DnsLookupType): { outcome?: Outcome };
  /** Runs the clock until the look-up has its outcome. */
  lookup(name: string, type: DnsLookupType): Outcome;
  /** Queries both servers have received. */
  queries(): number;
}

export function dnsBench(
  options: { resolver?: Partial<DnsResolverOptions>; server?: Partial<DnsServerOptions>; wrap?: (link: Link, clock: Clock) => Link; seed?: number } = {},
): DnsBench {
  const b = bench(options.seed);
  const wrap = options.wrap;
  const device = b.host(2, {}, wrap && ((link) => wrap(link, b.clock)));
  const server1 = new DnsServer(b.host(53), { records: zone(), soa: SOA, ...options.server });
  const server2 = new DnsServer(b.host(54), { records: zone(), soa: SOA, ...options.server });
  const resolver = new DnsResolver(device, { servers: [SERVER1], ...options.resolver });
  const start = (name: string, type: DnsLookupType) => {
    const holder: { outcome?: Outcome } = {};
    resolver.resolve(name, type, (err, result) => {
      if (holder.outcome) throw new Error("callback called twice");
      holder.outcome = { err, result, at: b.clock.now() };
    });
    return holder;
  };
  return {
    b,
    device,
    resolver,
    server1,
    server2,
    start,
    lookup(name, type) {
      const holder = start(name, type);
      b.clock.runUntil(() => holder.outcome !== undefined);
      if (!holder.outcome) throw new Error(`no outcome for ${name} ${type}`);
      return holder.outcome;
    },
    queries: () => server1.queries.length + server2.queries.length,
  };
}

/** The addresses of an A result as dotted text, sorted. */
export function addressesOf(o: Outcome): string[] {
  const r = o.result;
  if (r?.type !== "A") return [];
  return r.addresses.map(ipToString).sort();
}
