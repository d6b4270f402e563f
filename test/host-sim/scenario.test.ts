// The scenario API (host-sim/index.ts) itself; examples/ and test/examples/ show it in use.

import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Scenario, parseIp } from "../../host-sim/index.ts";
import { DnsResolver } from "../../modules/services/dns-resolver.ts";
import { createStack } from "../../modules/stack/stack.ts";

test("runUntil runs to a virtual time, or until a condition holds, and is false when the time allowed passes first", (t) => {
  const sim = new Scenario();
  const device = sim.device();
  t.true(sim.runUntil(2500));
  t.is(sim.clock.now(), 2500);
  t.true(sim.runUntil(() => device.address() !== undefined));
  const at = sim.clock.now();
  t.true(at > 2500 && at < 30_000, `leased at ${at}`);
  t.false(sim.runUntil(() => false, 10_000));
  t.is(sim.clock.now(), at + 10_000);
  sim.runFor(500);
  t.is(sim.clock.now(), at + 10_500);
});

test("without a DHCP server the device has only its static address, and the DNS peer answers the records it is given", (t) => {
  const sim = new Scenario({ dhcp: false, dns: [{ name: "device.lan", class: 1, ttl: 60, type: "A", address: parseIp("10.0.0.2")! }] });
  const device = sim.device({ config: { hostname: "s", address: "10.0.0.2/24,10.0.0.1", echo: true } });
  t.is(device.dhcp, undefined);
  sim.runFor(30_000);
  t.false(sim.result().trace.some((l) => /DHCP (OFFER|ACK)/.test(l)));
  const client = sim.client();
  const resolver = new DnsResolver(client.stack);
  resolver.setServers([parseIp("10.0.0.1")!]);
  let answer = "";
  resolver.resolve("device.lan", "A", (err, r) => (answer = err ? err.code : r!.type === "A" ? r!.addresses.join() : "?"));
  t.true(sim.runUntil(() => answer !== ""));
  t.is(answer, String(parseIp("10.0.0.2")));
  t.is(client.ping("10.0.0.2", 3), 3);
});

test("a firmware of the user's own gets the ports; every frame it sends is traced and recorded, from the first, and its own trace hook still runs", (t) => {
  const sim = new Scenario({ dhcp: false });
  const seen: string[] = [];
  const built = sim.firmware((ports) => {
    const stack = createStack(ports.link, ports.clock, ports.random, { mac: ports.mac, ip: parseIp("10.0.0.5")!, mask: parseIp("255.255.255.0")!, gateway: 0 });
    stack.netif.onEvent = (e) => seen.push(e.kind);
    stack.icmp.echo(parseIp("10.0.0.1")!, 1, 1, new Uint8Array(8)); // at once, before the scenario sees the stack
    ports.log("custom firmware up");
    return { stack };
  });
  sim.runFor(1000);
  const { trace, pcap, stats } = sim.result();
  t.regex(trace[0]!, /^ +0\.000000 > ARP who-has 10\.0\.0\.1 tell 10\.0\.0\.5$/);
  t.regex(trace[1]!, / -- device: custom firmware up$/);
  t.true(trace.some((l) => /> IP 10\.0\.0\.5 > 10\.0\.0\.1: ICMP echo request/.test(l)));
  t.true(trace.some((l) => /< IP 10\.0\.0\.1 > 10\.0\.0\.5: ICMP echo reply/.test(l)));
  t.true(seen.includes("rx"));
  t.is(stats.counters["eth.rx"], built.stack.stats.counters.get("eth.rx"));
  // tshark reads the pcap: as many frames as the trace has frame lines.
  const file = join(mkdtempSync(join(tmpdir(), "scenario-")), "s.pcap");
  writeFileSync(file, pcap);
  const dissected = execFileSync("tshark", ["-r", file], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  t.is(dissected.trim().split("\n").length, trace.filter((l) => /^ +[\d.]+ [<>] /.test(l)).length);
  t.throws(() => sim.device(), { message: "a scenario has one device" });
});

test("a wrong config throws naming the field; faults count what they did, and a scenario without them has none", (t) => {
  const config = JSON.parse('{ "hostname": "x", "http": { "root": "www" } }');
  t.throws(() => new Scenario().device({ config }), { message: "netstack.http.put: missing" });
  const clean = new Scenario();
  clean.device();
  clean.runFor(20_000);
  t.is(clean.result().faults, undefined);
  const lossy = new Scenario({ seed: 4, faults: { drop: 0.5, duplicate: 0.2 } });
  lossy.device();
  lossy.runFor(60_000);
  const f = lossy.result().faults!;
  t.true(f.frames > 0 && f.drop > 0 && f.duplicate > 0);
});
