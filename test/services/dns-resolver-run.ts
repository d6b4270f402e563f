// A resolver session that runs on XS as on Node (portable): the device and two DNS server
// peers on a virtual LAN with seeded faults, asking for an A record, a CNAME chain, an
// NXDOMAIN, a PTR, a truncated answer fetched over TCP, a cached answer, and a name the
// servers no longer answer.
// It returns one line per outcome and one per frame the device sent, to compare engines.

import { dnsBench, a } from "../support/dns-resolver-bench.ts";
import { FaultInjector } from "../../host-sim/faults.ts";
import type { DnsLookupType } from "../../modules/services/dns-resolver.ts";
import { ipToString } from "../../modules/wire/address.ts";

function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? "0" : "") + b[i]!.toString(16);
  return s;
}

export function session(seed: number): string[] {
  const lines: string[] = [];
  const d = dnsBench({
    seed,
    resolver: { servers: [0x0a000035, 0x0a000036] },
    wrap: (link, clock) => new FaultInjector(link, clock, { seed, rates: { drop: 0.05, duplicate: 0.05, reorder: 0.05 } }),
  });
  for (let i = 1; i <= 40; i++) for (const s of [d.server1, d.server2]) s.records.push(a("many.example.test", `10.0.2.${i}`));
  d.device.netif.onEvent = (e) => {
    if (e.kind === "tx") lines.push(`${d.b.clock.now().toFixed(3)} ${hex(e.frame)}`);
  };
  const questions: Array<[string, DnsLookupType]> = [
    ["www.example.test", "A"],
    ["alias.example.test", "A"],
    ["www.example.test", "AAAA"],
    ["nope.example.test", "A"],
    ["80.0.0.10.in-addr.arpa", "PTR"],
    ["many.example.test", "A"],
    ["www.example.test", "A"],
  ];
  const ask = (name: string, type: DnsLookupType) =>
    d.resolver.resolve(name, type, (err, r) => {
      const data = r?.type === "A" ? r.addresses.map(ipToString) : r?.type === "AAAA" ? r.addresses.map(hex) : r?.type === "PTR" ? r.names : [];
      lines.push(`${d.b.clock.now().toFixed(3)} ${name} ${type}: ${err ? err.message : `${r!.source} ${r!.canonical} ttl ${r!.ttl} ${data.join(",")}`}`);
    });
  for (const [name, type] of questions) ask(name, type);
  d.b.clock.runUntilIdle();
  ask("www.example.test", "A"); // from the cache now
  d.server1.mode = d.server2.mode = "silent";
  ask("silent.example.test", "A");
  d.b.clock.runUntilIdle();
  lines.push(`stats ${d.device.netif.stats.json()}`);
  return lines;
}
