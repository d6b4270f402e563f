// Our resolver against dnsmasq over TAP, in a namespace of the test's own: dnsmasq listens
// on the kernel side (10.77.53.1) with records set up for the test, the device is 10.77.53.2.
// Each answer is checked against dig's for the same question. Needs root (CI is).

import test, { type ExecutionContext } from "ava";
import { spawn } from "node:child_process";
import type { Stack } from "../../modules/stack/stack.ts";
import { DnsResolver, type DnsError, type DnsLookupType, type DnsResult } from "../../modules/services/dns-resolver.ts";
import { ipToString, parseIp } from "../../modules/wire/address.ts";
import type { Netns } from "../../bench/netns.ts";
import { deviceOnTap } from "../support/tap-device.ts";

const SERVER = "10.77.53.1";
const DEVICE = "10.77.53.2";
const BIG = 40; // A records for big.dns.test: about 670 bytes, so dnsmasq truncates them over UDP

function dnsmasqArgs(): string[] {
  const args = [
    "--keep-in-foreground",
    "--log-facility=-",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--pid-file=",
    "--port=53",
    `--listen-address=${SERVER}`,
    "--bind-interfaces",
    "--local-ttl=300",
    "--local=/dns.test/", // names under dns.test that are not set up here are NXDOMAIN
    "--host-record=www.dns.test,10.77.53.10,fd00::10",
    "--cname=alias.dns.test,mid.dns.test",
    "--cname=mid.dns.test,www.dns.test",
  ];
  for (let i = 0; i < BIG; i++) args.push(`--host-record=big.dns.test,10.77.53.${100 + i}`);
  return args;
}

interface Setup {
  ns: Netns;
  device: Stack;
  resolver: DnsResolver;
}

async function setUp(t: ExecutionContext, servers: string[] = [SERVER]): Promise<Setup> {
  const { ns, device } = await deviceOnTap(t, { kernel: SERVER, device: DEVICE, seed: 53 });
  await startDnsmasq(t, ns);
  const resolver = new DnsResolver(device, { servers: servers.map((s) => parseIp(s)!), timeoutMs: 500 });
  t.teardown(() => resolver.close());
  return { ns, device, resolver };
}

/** Starts dnsmasq in the namespace and resolves once it says it has started; killed at teardown. */
function startDnsmasq(t: ExecutionContext, ns: Netns): Promise<void> {
  const child = spawn("ip", ["netns", "exec", ns.name, "dnsmasq", ...dnsmasqArgs()], { stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 });
  t.teardown(() => {
    child.kill("SIGTERM");
  });
  let log = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dnsmasq did not start: ${log}`)), 10_000);
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      log += text;
      if (/started, version/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`dnsmasq exited (${code}): ${log}`));
    });
  });
}

interface Dig {
  status: string;
  flags: string[];
  answers: Array<{ name: string; ttl: number; type: string; data: string }>;
}

/** dig's answer for the same question (no EDNS, so the same 512-byte UDP limit applies; dig retries over TCP on TC unless told `+ignore`). */
async function dig(ns: Netns, name: string, type: string, extra: string[] = []): Promise<Dig> {
  const out = await ns.mustRun("dig", ["+noedns", "+nocookie", "+tries=1", "+time=3", ...extra, `@${SERVER}`, name, type], 15_000);
  const status = /status: (\w+)/.exec(out)?.[1] ?? "none";
  const flags = /;; flags: ([a-z ]+);/.exec(out)?.[1]?.split(" ") ?? [];
  const section = /;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(out)?.[1] ?? "";
  const answers = section
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const [owner, ttl, , rtype, ...data] = l.split(/\s+/);
      return { name: owner!.replace(/\.$/, ""), ttl: Number(ttl), type: rtype!, data: data.join(" ").replace(/\.$/, "") };
    });
  return { status, flags, answers };
}

function lookup(resolver: DnsResolver, name: string, type: DnsLookupType): Promise<{ err?: DnsError; result?: DnsResult }> {
  return new Promise((resolve) => resolver.resolve(name, type, (err, result) => resolve({ err, result })));
}

function addresses(r: DnsResult | undefined): string[] {
  if (r?.type === "A") return r.addresses.map(ipToString).sort();
  if (r?.type === "AAAA") return r.addresses.map(ipv6Text);
  return [];
}

/** Full (uncompressed) IPv6 text, and dig's compressed form expanded to match. */
function ipv6Text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(":");
}

function expandIpv6(text: string): string {
  const [head, tail] = text.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const tl = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill("0"), ...tl];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(":");
}

test("A, AAAA and a CNAME chain agree with dig", async (t) => {
  const { ns, resolver } = await setUp(t);
  for (const [name, type] of [
    ["www.dns.test", "A"],
    ["www.dns.test", "AAAA"],
    ["alias.dns.test", "A"],
  ] as const) {
    const ours = await lookup(resolver, name, type);
    const theirs = await dig(ns, name, type);
    t.is(ours.err, undefined, `${name} ${type}`);
    const final = theirs.answers.filter((r) => r.type === type);
    const expected = final.map((r) => (type === "AAAA" ? expandIpv6(r.data) : r.data)).sort();
    t.deepEqual(addresses(ours.result), expected, `${name} ${type}`);
    t.true(expected.length > 0);
    t.is(ours.result?.canonical, final[0]?.name);
    t.is(ours.result?.ttl, Math.min(...theirs.answers.map((r) => r.ttl)));
  }
  const chain = await dig(ns, "alias.dns.test", "A");
  t.deepEqual(
    chain.answers.map((r) => r.type),
    ["CNAME", "CNAME", "A"],
    "dnsmasq sends the chain alias -> mid -> www",
  );
});

test("NXDOMAIN agrees with dig", async (t) => {
  const { ns, resolver } = await setUp(t);
  const ours = await lookup(resolver, "nope.dns.test", "A");
  t.is(ours.err?.code, "nxdomain");
  t.is((await dig(ns, "nope.dns.test", "A")).status, "NXDOMAIN");
});

test("PTR: the reverse look-up agrees with dig -x", async (t) => {
  const { ns, resolver } = await setUp(t);
  const ours = await new Promise<DnsResult | undefined>((resolve) => resolver.reverse(parseIp("10.77.53.10")!, (_e, r) => resolve(r)));
  const theirs = await dig(ns, "10.53.77.10.in-addr.arpa", "PTR");
  t.deepEqual(
    ours?.type === "PTR" ? ours.names : [],
    theirs.answers.map((r) => r.data),
  );
  t.deepEqual(
    theirs.answers.map((r) => r.data),
    ["www.dns.test"],
  );
});

test("a record set too big for UDP: dnsmasq sets TC, we fetch it over TCP and get what dig gets", async (t) => {
  const { ns, device, resolver } = await setUp(t);
  const udp = await dig(ns, "big.dns.test", "A", ["+ignore"]);
  t.true(udp.flags.includes("tc"), "dnsmasq truncated its UDP answer");
  t.true(udp.answers.length < BIG);
  const ours = await lookup(resolver, "big.dns.test", "A");
  const theirs = await dig(ns, "big.dns.test", "A");
  t.is(ours.err, undefined);
  t.deepEqual(addresses(ours.result), theirs.answers.map((r) => r.data).sort());
  t.is(theirs.answers.length, BIG);
  t.is(device.netif.stats.counters.get("dns.tcp"), 1);
  t.is(ours.result?.ttl, 300);
  t.deepEqual(
    [...device.netif.stats.drops.keys()].filter((k) => k.startsWith("dns-")),
    [],
    "no reply was refused",
  );
});

test("failover on a real link: a first server that is not there, then dnsmasq", async (t) => {
  const { device, resolver } = await setUp(t, ["10.77.53.99", SERVER]);
  const ours = await lookup(resolver, "www.dns.test", "A");
  t.deepEqual(addresses(ours.result), ["10.77.53.10"]);
  t.is(device.netif.stats.counters.get("dns.query"), 2);
});
