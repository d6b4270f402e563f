import test from "ava";
import { bench, ip } from "../support/bench.ts";
import { dnsBench, addressesOf, zone, SOA, SERVER1, SERVER2, v6, a, type Outcome } from "../support/dns-resolver-bench.ts";
import { DnsResolver, reverseName } from "../../modules/services/dns-resolver.ts";
import { DhcpClient } from "../../modules/services/dhcp-client.ts";
import { DhcpServer } from "../../host-sim/peers/dhcp-server.ts";
import { DnsServer } from "../../host-sim/peers/dns-server.ts";
import { decodeDns } from "../../modules/wire/dns.ts";
import { decodeEthernet } from "../../modules/wire/ethernet.ts";
import { decodeIpv4 } from "../../modules/wire/ipv4.ts";
import { decodeUdp } from "../../modules/wire/udp.ts";

test("A and AAAA: addresses and TTL from the server, in a recursive query for the one question", (t) => {
  const d = dnsBench();
  const four = d.lookup("www.example.test", "A");
  t.is(four.err, undefined);
  t.deepEqual(addressesOf(four), ["10.0.0.80", "10.0.0.81"]);
  t.like(four.result, { name: "www.example.test", canonical: "www.example.test", ttl: 300, source: "network" });
  const six = d.lookup("www.example.test", "AAAA");
  t.is(six.result?.type, "AAAA");
  t.deepEqual(six.result?.type === "AAAA" ? six.result.addresses : [], [v6(0x80)]);
  t.is(six.result?.ttl, 600);
  const q = d.server1.queries.map((x) => x.msg);
  t.deepEqual(
    q.map((m) => [m.rd, m.qr, m.questions.length, m.questions[0]?.name, m.questions[0]?.type]),
    [
      [true, false, 1, "www.example.test", "A"],
      [true, false, 1, "www.example.test", "AAAA"],
    ],
  );
  t.is(d.device.netif.stats.counters.get("dns.answer"), 2);
});

test("a trailing dot and letter case do not change the look-up", (t) => {
  const d = dnsBench();
  const o = d.lookup("WWW.Example.TEST.", "A");
  t.deepEqual(addressesOf(o), ["10.0.0.80", "10.0.0.81"]);
  t.is(o.result?.name, "WWW.Example.TEST");
  t.is(d.lookup("www.example.test", "A").result?.source, "cache");
  t.is(d.queries(), 1);
});

test("a CNAME chain is followed to its end; the TTL is the smallest along it", (t) => {
  const d = dnsBench();
  const o = d.lookup("alias.example.test", "A");
  t.deepEqual(addressesOf(o), ["10.0.0.80", "10.0.0.81"]);
  t.like(o.result, { name: "alias.example.test", canonical: "www.example.test", ttl: 60 });
  t.is(d.queries(), 1);
});

test("a server that stops at the first CNAME is asked again for each target", (t) => {
  const d = dnsBench({ server: { chase: false } });
  const o = d.lookup("alias.example.test", "A");
  t.deepEqual(addressesOf(o), ["10.0.0.80", "10.0.0.81"]);
  t.like(o.result, { canonical: "www.example.test", ttl: 60 });
  t.deepEqual(
    d.server1.queries.map((q) => q.msg.questions[0]?.name),
    ["alias.example.test", "mid.example.test", "www.example.test"],
  );
});

for (const chase of [true, false]) {
  test(`a CNAME loop is cut by the depth limit (server ${chase ? "chases" : "does not chase"} CNAMEs)`, (t) => {
    const d = dnsBench({ server: { chase }, resolver: { maxCnameDepth: 5 } });
    const o = d.lookup("loop1.example.test", "A");
    t.is(o.err?.code, "cname-limit");
    t.is(o.result, undefined);
    t.is(d.queries(), chase ? 1 : 6); // one query per link when the server answers one link at a time
    t.is(d.b.clock.pending(), 0);
  });
}

test("PTR: reverse look-up of an IPv4 address asks for its in-addr.arpa name", (t) => {
  const d = dnsBench();
  const holder: { names?: string[] } = {};
  d.resolver.reverse(ip("10.0.0.80"), (err, r) => {
    t.is(err, undefined);
    holder.names = r?.type === "PTR" ? r.names : [];
  });
  d.b.clock.runUntilIdle();
  t.deepEqual(holder.names, ["www.example.test"]);
  t.deepEqual(
    d.server1.queries.map((q) => q.msg.questions[0]),
    [{ name: "80.0.0.10.in-addr.arpa", type: "PTR", class: 1 }],
  );
});

test("reverse names: IPv4 octets and IPv6 nibbles in reverse order", (t) => {
  t.is(reverseName(ip("192.0.2.1")), "1.2.0.192.in-addr.arpa");
  const addr = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x3f);
  t.is(reverseName(addr), "f.3.2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
});

test("NXDOMAIN and NODATA are errors, cached for the SOA's negative TTL", (t) => {
  const d = dnsBench();
  t.is(d.lookup("nope.example.test", "A").err?.code, "nxdomain");
  t.is(d.lookup("text.example.test", "A").err?.code, "nodata");
  t.is(d.queries(), 2);
  d.b.clock.advance(29_000);
  const again = d.lookup("nope.example.test", "A");
  t.is(again.err?.code, "nxdomain");
  t.is(again.err?.query, "nope.example.test");
  t.is(d.lookup("text.example.test", "A").err?.code, "nodata");
  t.is(d.queries(), 2, "answered from the cache");
  d.b.clock.advance(1_000);
  t.is(d.lookup("nope.example.test", "A").err?.code, "nxdomain");
  t.is(d.lookup("text.example.test", "A").err?.code, "nodata");
  t.is(d.queries(), 4, "asked again once the 30 s ran out");
});

test("a negative answer without an SOA is not cached", (t) => {
  const d = dnsBench({ server: { soa: undefined } });
  t.is(d.lookup("nope.example.test", "A").err?.code, "nxdomain");
  t.is(d.lookup("nope.example.test", "A").err?.code, "nxdomain");
  t.is(d.queries(), 2);
});

test("TTL expiry on the virtual clock: cached with the remaining TTL, asked again when it runs out", (t) => {
  const d = dnsBench();
  d.lookup("www.example.test", "A");
  d.b.clock.advance(100_000);
  const cached = d.lookup("www.example.test", "A");
  t.like(cached.result, { source: "cache", ttl: 200 });
  d.b.clock.advance(199_000);
  t.like(d.lookup("www.example.test", "A").result, { source: "cache", ttl: 1 });
  t.is(d.queries(), 1);
  d.b.clock.advance(1_000);
  t.like(d.lookup("www.example.test", "A").result, { source: "network", ttl: 300 });
  t.is(d.queries(), 2);
});

test("a TTL is capped by maxTtl", (t) => {
  const d = dnsBench({ resolver: { maxTtl: 10 } });
  t.is(d.lookup("www.example.test", "A").result?.ttl, 10);
  d.b.clock.advance(10_000);
  t.is(d.lookup("www.example.test", "A").result?.source, "network");
});

test("failover: when the first server is silent, the second answers after one timeout", (t) => {
  const d = dnsBench({ resolver: { servers: [SERVER1, SERVER2], timeoutMs: 1000 } });
  d.server1.mode = "silent";
  const o = d.lookup("www.example.test", "A");
  t.deepEqual(addressesOf(o), ["10.0.0.80", "10.0.0.81"]);
  t.true(o.at >= 1000 && o.at < 1100, `answered at ${o.at} ms`);
  t.is(d.server1.queries.length, 1);
  t.is(d.server2.queries.length, 1);
  t.is(d.server1.queries[0]!.msg.id, d.server2.queries[0]!.msg.id, "one exchange, one ID");
});

test("timeout: every server is tried each round, the wait doubling per round", (t) => {
  const d = dnsBench({ resolver: { servers: [SERVER1, SERVER2], timeoutMs: 500, rounds: 3 } });
  d.server1.mode = d.server2.mode = "silent";
  const o = d.lookup("www.example.test", "A");
  t.is(o.err?.code, "timeout");
  t.regex(o.err?.message ?? "", /^timeout: www\.example\.test A: /);
  t.is(o.at, 500 + 500 + 1000 + 1000 + 2000 + 2000);
  t.is(d.server1.queries.length, 3);
  t.is(d.server2.queries.length, 3);
  t.is(d.b.clock.pending(), 0, "no timers left behind");
});

test("SERVFAIL moves on to the next server at once; from all of them it is the error", (t) => {
  const d = dnsBench({ resolver: { servers: [SERVER1, SERVER2], rounds: 2 } });
  d.server1.mode = "servfail";
  const o = d.lookup("www.example.test", "A");
  t.deepEqual(addressesOf(o), ["10.0.0.80", "10.0.0.81"]);
  t.true(o.at < 100, `answered at ${o.at} ms`);
  d.resolver.flush();
  d.server2.mode = "servfail";
  t.is(d.lookup("www.example.test", "A").err?.code, "servfail");
  d.server1.mode = d.server2.mode = "refused";
  t.is(d.lookup("www.example.test", "A").err?.code, "refused");
  t.is(d.server1.queries.length, 1 + 2 + 2);
});

test("bad names fail at once and send nothing", (t) => {
  const d = dnsBench();
  const bad = ["", ".", "a..b", `${"x".repeat(64)}.test`, `${("abcdefghi." as string).repeat(26)}test`, "with space.test", "caf\u00e9.test", "tab\t.test"];
  for (const name of bad) t.is(d.lookup(name, "A").err?.code, "bad-name", JSON.stringify(name));
  t.is(d.device.netif.stats.counters.get("udp.tx") ?? 0, 0);
  t.is(d.lookup(`${("abcdefghi." as string).repeat(24)}test`, "A").err?.code, "nxdomain", "a long but valid name is asked");
});

test("hosts table: A, AAAA and PTR without asking; it wins over the servers", (t) => {
  const d = dnsBench({
    resolver: {
      hosts: [
        ["www.example.test", ip("192.168.1.9")],
        ["printer.lan", v6(9)],
      ],
    },
  });
  t.false(d.resolver.addHost("bad..name", ip("1.2.3.4")));
  const four = d.lookup("WWW.example.test", "A");
  t.like(four.result, { source: "hosts", ttl: 0 });
  t.deepEqual(addressesOf(four), ["192.168.1.9"]);
  const six = d.lookup("printer.lan", "AAAA");
  t.deepEqual(six.result?.type === "AAAA" ? six.result.addresses : [], [v6(9)]);
  const back = d.lookup(reverseName(ip("192.168.1.9")), "PTR");
  t.deepEqual(back.result?.type === "PTR" ? back.result.names : [], ["www.example.test"]);
  t.deepEqual(d.lookup(reverseName(v6(9)), "PTR").result, {
    name: reverseName(v6(9)),
    canonical: reverseName(v6(9)),
    ttl: 0,
    source: "hosts",
    type: "PTR",
    names: ["printer.lan"],
  });
  t.is(d.queries(), 0);
});

test("the hosts table is bounded", (t) => {
  const d = dnsBench({ resolver: { maxHosts: 2 } });
  t.true(d.resolver.addHost("one.lan", ip("10.0.0.101")));
  t.true(d.resolver.addHost("two.lan", ip("10.0.0.102")));
  t.false(d.resolver.addHost("three.lan", ip("10.0.0.103")));
  t.is(d.lookup("three.lan", "A").err?.code, "nxdomain");
});

test("a CNAME to a hosts-table name ends in the hosts table", (t) => {
  const d = dnsBench({ server: { chase: false }, resolver: { hosts: [["www.example.test", ip("192.168.1.9")]] } });
  const o = d.lookup("mid.example.test", "A");
  t.deepEqual(addressesOf(o), ["192.168.1.9"]);
  t.like(o.result, { canonical: "www.example.test", source: "hosts" });
  t.is(d.queries(), 1);
});

test("an IPv4 literal is its own answer", (t) => {
  const d = dnsBench();
  const o = d.lookup("10.1.2.3", "A");
  t.deepEqual(addressesOf(o), ["10.1.2.3"]);
  t.is(o.result?.source, "literal");
  t.is(d.queries(), 0);
});

test("concurrent identical look-ups share one exchange; each caller gets its own result", (t) => {
  const d = dnsBench();
  const holders = ["www.example.test", "WWW.example.test", "www.example.test."].map((n) => d.start(n, "A"));
  const other = d.start("www.example.test", "AAAA");
  d.b.clock.runUntilIdle();
  t.is(d.queries(), 2);
  for (const h of holders) t.deepEqual(addressesOf(h.outcome!), ["10.0.0.80", "10.0.0.81"]);
  t.is(other.outcome?.result?.type, "AAAA");
  const [x, y] = holders.map((h) => h.outcome!.result!);
  t.not(x, y);
  t.not(x?.type === "A" && x.addresses, y?.type === "A" && y.addresses);
});

test("callbacks always come on a later turn, even from the cache", (t) => {
  const d = dnsBench({ resolver: { hosts: [["h.lan", ip("10.9.9.9")]] } });
  const held = d.start("h.lan", "A");
  const bad = d.start("bad..name", "A");
  t.is(held.outcome, undefined);
  t.is(bad.outcome, undefined);
  d.b.clock.runUntilIdle();
  t.truthy(held.outcome?.result);
  t.truthy(bad.outcome?.err);
});

test("in-flight bound: extra look-ups wait in a bounded queue, beyond it they fail as busy", (t) => {
  const d = dnsBench({ resolver: { maxInFlight: 2, maxQueued: 1 } });
  d.server1.records.push(a("n1.example.test", "10.0.1.1"), a("n2.example.test", "10.0.1.2"), a("n3.example.test", "10.0.1.3"));
  d.server1.delayMs = 100;
  const times: number[] = [];
  d.server1.onQuery = () => times.push(d.b.clock.now());
  const held = ["n1", "n2", "n3", "n4"].map((n) => d.start(`${n}.example.test`, "A"));
  d.b.clock.runUntilIdle();
  t.deepEqual(
    held.slice(0, 3).map((h) => addressesOf(h.outcome!)),
    [["10.0.1.1"], ["10.0.1.2"], ["10.0.1.3"]],
  );
  t.is(held[3]!.outcome?.err?.code, "busy");
  t.is(times.length, 3);
  t.true(times[0]! < 100 && times[1]! < 100 && times[2]! >= 100, `query times ${times.join(", ")}`);
});

test("the cache is bounded: the least recently used answer goes first", (t) => {
  const d = dnsBench({ resolver: { cacheSize: 3 } });
  for (let i = 1; i <= 4; i++) d.server1.records.push(a(`n${i}.example.test`, `10.0.1.${i}`));
  for (const i of [1, 2, 3]) d.lookup(`n${i}.example.test`, "A");
  t.is(d.lookup("n1.example.test", "A").result?.source, "cache"); // n1 is now the most recent
  d.lookup("n4.example.test", "A"); // evicts n2
  t.is(d.lookup("n1.example.test", "A").result?.source, "cache");
  t.is(d.lookup("n3.example.test", "A").result?.source, "cache");
  t.is(d.lookup("n2.example.test", "A").result?.source, "network");
  t.is(d.queries(), 5);
});

test("servers from configuration or DHCP: none gives no-servers; setServers filters and bounds the list", (t) => {
  const d = dnsBench({ resolver: { servers: [] } });
  t.is(d.lookup("www.example.test", "A").err?.code, "no-servers");
  d.resolver.setServers([0, SERVER2, 0xffffffff, SERVER2, SERVER1, ip("10.0.0.55"), ip("10.0.0.56")]);
  t.deepEqual(d.resolver.getServers(), [SERVER2, SERVER1, ip("10.0.0.55")]);
  t.deepEqual(addressesOf(d.lookup("www.example.test", "A")), ["10.0.0.80", "10.0.0.81"]);
  t.is(d.server2.queries.length, 1);
});

test("servers from a DHCP lease: the device gets its address and DNS server from DHCP, then resolves", (t) => {
  const b = bench();
  new DhcpServer(b.host(1), {
    poolStart: ip("10.0.0.100"),
    poolSize: 4,
    mask: ip("255.255.255.0"),
    leaseTime: 3600,
    routers: [ip("10.0.0.1")],
    dnsServers: [SERVER2],
  });
  const dns = new DnsServer(b.host(54), { records: zone(), soa: SOA });
  const device = b.host(2, { ip: 0, mask: 0, gateway: 0 });
  const resolver = new DnsResolver(device);
  const client = new DhcpClient(device);
  client.onBound = (lease) => resolver.setServers(lease.dnsServers);
  t.true(client.start());
  t.true(b.clock.runUntil(() => resolver.getServers().length > 0));
  t.deepEqual(resolver.getServers(), [SERVER2]);
  let out: Outcome | undefined;
  resolver.resolve("www.example.test", "A", (err, result) => (out = { err, result, at: b.clock.now() }));
  t.true(b.clock.runUntil(() => out !== undefined));
  t.deepEqual(addressesOf(out!), ["10.0.0.80", "10.0.0.81"]);
  t.is(dns.queries[0]?.from, device.netif.ip);
  t.is(device.netif.ip, ip("10.0.0.100"));
});

test("close: look-ups under way end as closed, later ones too, and late answers find no pcb", (t) => {
  const d = dnsBench();
  d.server1.delayMs = 50;
  const held = d.start("www.example.test", "A");
  d.b.clock.advance(10);
  d.resolver.close();
  d.b.clock.runUntilIdle();
  t.is(held.outcome?.err?.code, "closed");
  t.is(d.lookup("www.example.test", "A").err?.code, "closed");
  t.is(d.device.netif.stats.drops.get("udp-no-listener"), 1);
});

test("resolveAsync: the Promise form", async (t) => {
  const d = dnsBench();
  const ok = d.resolver.resolveAsync("www.example.test", "A");
  const bad = d.resolver.resolveAsync("nope.example.test", "A");
  d.b.clock.runUntilIdle();
  const r = await ok;
  t.is(r.type, "A");
  const e = await t.throwsAsync(bad);
  t.is((e as { code?: string }).code, "nxdomain");
});

test("the query on the wire: from a random ephemeral port to port 53, RD set, one question", (t) => {
  const d = dnsBench();
  const frames: Uint8Array[] = [];
  d.device.netif.onEvent = (e) => (e.kind === "tx" ? frames.push(e.frame) : undefined);
  d.lookup("www.example.test", "A");
  const dns = frames.flatMap((f) => {
    const eth = decodeEthernet(f);
    const ip4 = eth.ok ? decodeIpv4(eth.value.payload) : undefined;
    const udp = ip4?.ok && ip4.value.protocol === 17 ? decodeUdp(ip4.value.payload, ip4.value.src, ip4.value.dst) : undefined;
    return udp?.ok ? [{ dst: ip4!.ok ? ip4!.value.dst : 0, u: udp.value }] : [];
  });
  t.is(dns.length, 1);
  t.is(dns[0]!.dst, SERVER1);
  t.is(dns[0]!.u.dstPort, 53);
  t.true(dns[0]!.u.srcPort >= 49152);
  const m = decodeDns(dns[0]!.u.payload);
  t.true(m.ok && m.value.rd && !m.value.qr && m.value.questions.length === 1 && m.value.answers.length === 0);
});
