// Our DHCP client against dnsmasq over TAP, in a namespace of each test's own: the kernel
// side of the TAP is 10.77.40.1/24 and dnsmasq serves it; the device (our stack on
// RealClock) starts without an address. dnsmasq's shortest lease is two minutes, so it is
// told to send T1 = 5 s and T2 = 10 s (options 58 and 59, which it honours): the client's
// timers are driven by what dnsmasq sends. --no-ping only skips dnsmasq's 3 s ICMP check
// before an offer, which nothing could answer here anyway.

import test, { type ExecutionContext } from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TapLink } from "../../host-sim/tap.ts";
import { RealClock } from "../../host-sim/clock.ts";
import { SeededRandom } from "../../host-sim/random.ts";
import { createStack, type Stack } from "../../modules/stack/stack.ts";
import { IP_BROADCAST, ipToString, parseIp, parseMac } from "../../modules/wire/address.ts";
import { DhcpClient, type DhcpClientOptions, type DhcpState } from "../../modules/services/dhcp-client.ts";
import { DHCP_REQUEST } from "../../modules/wire/dhcp.ts";
import { Netns } from "../../bench/netns.ts";
import { dhcpOf, type Seen } from "../support/dhcp-client-lan.ts";

const KERNEL = "10.77.40.1";
const MAC = "02:00:0a:4d:28:02";
const ip = (s: string) => parseIp(s)!;

interface Rig {
  ns: Netns;
  tap: TapLink;
  device: Stack;
  leases: string; // dnsmasq's lease file
  sent: Seen[];
}

async function rig(t: ExecutionContext): Promise<Rig> {
  const ns = await Netns.create(t);
  await ns.mustRun("sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  const tap = TapLink.open();
  t.teardown(() => tap.close());
  const clock = new RealClock();
  const device = createStack(tap, clock, new SeededRandom(40), { mac: parseMac(MAC)! });
  await ns.adopt(tap.name);
  await ns.addAddress(tap.name, `${KERNEL}/24`);
  await ns.up(tap.name);
  const dir = mkdtempSync(join(tmpdir(), "dhcp-test-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sent: Seen[] = [];
  device.netif.onEvent = (e) => {
    const m = e.kind === "tx" ? dhcpOf(e.frame) : undefined;
    if (m) sent.push({ at: clock.now(), ...m });
  };
  return { ns, tap, device, leases: join(dir, "leases"), sent };
}

interface Dnsmasq {
  log(): string;
  stop(): Promise<void>;
}

/** dnsmasq in the foreground on the TAP only, DHCP only, logging every exchange; killed at teardown. */
async function dnsmasq(t: ExecutionContext, r: Rig, range: string, extra: string[] = []): Promise<Dnsmasq> {
  const args = [
    "netns",
    "exec",
    r.ns.name,
    "dnsmasq",
    "--no-daemon",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--pid-file=",
    "--port=0",
    `--interface=${r.tap.name}`,
    "--bind-interfaces",
    `--dhcp-leasefile=${r.leases}`,
    "--no-ping",
    "--log-dhcp",
    "--log-facility=-",
    `--dhcp-range=${range},2m`,
    "--dhcp-option=option:T1,5",
    "--dhcp-option=option:T2,10",
    ...extra,
  ];
  const p = spawn("ip", args, { timeout: 90_000 });
  let log = "";
  p.stdout.on("data", (d) => (log += d));
  p.stderr.on("data", (d) => (log += d));
  const exited = new Promise<void>((resolve) => p.once("exit", () => resolve()));
  const stop = async () => {
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    await exited;
  };
  t.teardown(stop);
  await until(() => log.includes("DHCP, sockets bound") || p.exitCode !== null, 5000, "dnsmasq to start");
  if (p.exitCode !== null) throw new Error(`dnsmasq exited: ${log}`);
  return { log: () => log, stop };
}

/** Polls `cond` every 20 ms; rejects after `ms`. */
function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (cond()) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 20);
  });
}

function client(t: ExecutionContext, r: Rig, options: Partial<DhcpClientOptions> = {}): { c: DhcpClient; states: DhcpState[]; events: string[] } {
  const c = new DhcpClient(r.device, options);
  const states: DhcpState[] = [];
  const events: string[] = [];
  c.onStateChange = (s) => states.push(s);
  c.onBound = (l) => events.push(`bound ${ipToString(l.ip)}`);
  c.onRenewed = (l) => events.push(`renewed ${ipToString(l.ip)}`);
  c.onChanged = (l) => events.push(`changed ${ipToString(l.ip)}`);
  c.onLost = (reason) => events.push(`lost ${reason}`);
  t.teardown(() => c.stop());
  return { c, states, events };
}

test("a lease from dnsmasq, renewed by unicast at T1 and, while dnsmasq is down, rebound by broadcast at T2", async (t) => {
  const r = await rig(t);
  let server = await dnsmasq(t, r, "10.77.40.50,10.77.40.60");
  const { c, states, events } = client(t, r);
  c.start();
  await until(() => c.state === "bound", 15_000, "a lease");
  const lease = c.lease!;
  t.deepEqual([lease.mask, lease.gateway, lease.serverId], [ip("255.255.255.0"), ip(KERNEL), ip(KERNEL)]);
  t.deepEqual([lease.leaseTime, lease.renewalTime, lease.rebindingTime], [120, 5, 10]);
  t.true(lease.ip >= ip("10.77.40.50") && lease.ip <= ip("10.77.40.60"));
  t.is(r.device.netif.ip, lease.ip);
  // The kernel can reach the address now.
  const ping = await r.ns.run("ping", ["-c", "1", "-W", "2", ipToString(lease.ip)], 5000);
  t.is(ping.code, 0, ping.stdout);

  await until(() => events.includes(`renewed ${ipToString(lease.ip)}`), 6000, "the renewal at T1");
  const renewal = r.sent.filter((s) => s.m.options.messageType === DHCP_REQUEST).at(-1)!;
  t.deepEqual([renewal.to, renewal.m.ciaddr], [ip(KERNEL), lease.ip], "unicast to dnsmasq, from the leased address");
  t.not(renewal.m.xid, r.sent[0]!.m.xid, "a new exchange");

  // dnsmasq goes away; the next unicast renewal is not answered. It comes back (with its
  // lease file) before T2, and answers the broadcast REQUEST of REBINDING.
  await server.stop();
  await until(() => c.state === "renewing", 6000, "the next T1");
  server = await dnsmasq(t, r, "10.77.40.50,10.77.40.60");
  await until(() => states.at(-2) === "rebinding" && states.at(-1) === "bound", 8000, "T2 and an ACK to the rebinding REQUEST");
  const rebind = r.sent.at(-1)!;
  t.deepEqual([rebind.to, rebind.m.ciaddr], [IP_BROADCAST, lease.ip]);
  t.deepEqual(states.slice(-3), ["renewing", "rebinding", "bound"]);
  t.is(c.lease!.ip, lease.ip);
  t.false(events.some((e) => e.startsWith("lost")));
  t.regex(server.log(), new RegExp(`DHCPACK\\(${r.tap.name}\\) ${ipToString(lease.ip).replace(/\./g, "\\.")} ${MAC}`));
});

test("NAK after dnsmasq's range changes: at renewal and in INIT-REBOOT the client starts over and gets an address in the new range", async (t) => {
  const r = await rig(t);
  let server = await dnsmasq(t, r, "10.77.40.50,10.77.40.60");
  const first = client(t, r);
  first.c.start();
  await until(() => first.c.state === "bound", 15_000, "a lease");
  const old = first.c.lease!.ip;

  // The network is renumbered: dnsmasq restarts, authoritative, with another range.
  await server.stop();
  server = await dnsmasq(t, r, "10.77.40.100,10.77.40.110", ["--dhcp-authoritative"]);
  await until(() => first.events.includes("lost nak") && first.c.state === "bound", 20_000, "a NAK and a new lease");
  t.deepEqual(first.events, [`bound ${ipToString(old)}`, "lost nak", `bound ${ipToString(first.c.lease!.ip)}`]);
  t.deepEqual(first.states.slice(-5), ["renewing", "selecting", "requesting", "probing", "bound"]);
  const renewed = first.c.lease!.ip;
  t.true(renewed >= ip("10.77.40.100") && renewed <= ip("10.77.40.110"));
  t.regex(server.log(), /DHCPNAK/);

  // Again, with the device rebooting in between: it remembers its lease and asks for it.
  first.c.stop();
  await server.stop();
  server = await dnsmasq(t, r, "10.77.40.150,10.77.40.160", ["--dhcp-authoritative"]);
  const second = client(t, r, { lease: { ip: renewed } });
  second.c.start();
  await until(() => second.c.state === "bound", 15_000, "a lease after INIT-REBOOT");
  t.deepEqual(second.states, ["rebooting", "selecting", "requesting", "probing", "bound"]);
  const reboot = r.sent.find((s) => s.m.options.requestedIp === renewed && s.m.options.serverId === undefined && s.m.ciaddr === 0);
  t.truthy(reboot, "an INIT-REBOOT REQUEST for the remembered address");
  t.deepEqual(second.events, [`bound ${ipToString(second.c.lease!.ip)}`]);
  t.true(second.c.lease!.ip >= ip("10.77.40.150"));
  t.regex(server.log(), new RegExp(`DHCPNAK\\(${r.tap.name}\\) ${ipToString(renewed).replace(/\./g, "\\.")}`));
});

test("DECLINE when another host already answers ARP for the offered address", async (t) => {
  const r = await rig(t);
  // dnsmasq pins 10.77.40.77 for our MAC, but the namespace's kernel holds that address
  // too (on its loopback), so it answers our RFC 5227 probe on the TAP.
  await r.ns.mustRun("ip", ["addr", "add", "10.77.40.77/32", "dev", "lo"]);
  const server = await dnsmasq(t, r, "10.77.40.50,10.77.40.60", [`--dhcp-host=${MAC},10.77.40.77`]);
  const { c, states, events } = client(t, r);
  c.start();
  await until(() => c.state === "init", 10_000, "the conflict");
  const decline = r.sent.at(-1)!;
  t.deepEqual([decline.m.options.messageType, decline.m.options.requestedIp, decline.m.options.serverId], [4, ip("10.77.40.77"), ip(KERNEL)]);
  t.is(r.device.netif.ip, 0, "the taken address was never used");
  await until(() => c.state === "bound", 25_000, "a lease after the DECLINE");
  t.deepEqual(states.slice(0, 8), ["selecting", "requesting", "probing", "init", "selecting", "requesting", "probing", "bound"]);
  const lease = c.lease!.ip;
  t.true(lease >= ip("10.77.40.50") && lease <= ip("10.77.40.60"), ipToString(lease));
  t.deepEqual(events, [`bound ${ipToString(lease)}`]);
  t.regex(server.log(), /DHCPDECLINE\(\S+\) 10\.77\.40\.77/);
});
