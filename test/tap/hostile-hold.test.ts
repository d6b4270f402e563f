// The hostile-LAN suite, part two: peers that take a server's resources and then go
// silent. Each test waits for the device's bounds in time to free them, mostly idle, so
// they run at once, each against a device of its own. Each prints how long the
// attack kept a legitimate client out. Needs root. Part one is hostile-flood.test.ts.

import test, { type ExecutionContext } from "ava";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DEVICE,
  DEVICE_MAC,
  type HostileLan,
  attack,
  attackers,
  attempts,
  ftpGet,
  hostileLan,
  httpGet,
  ready,
  script,
  seconds,
  tftpGet,
} from "../support/hostile/lan.ts";

/** A bound missed is measured for this much longer, for the log line; longer would only slow CI down. */
const MEASURE_MS = 10_000;

/** The device's pcbs by state, for the log. */
const pcbStates = (lan: HostileLan) => lan.device.tcp.connections.map((p) => p.state).join(" ") || "none";

/** Runs eight silent zero-window peers against `port` (sending `GET path` when given); resolves once all are in place. */
async function zeroWindowPeers(t: ExecutionContext, lan: HostileLan, port: number, path?: string): Promise<void> {
  const args = [script("zero-window.py"), lan.tap.name, DEVICE, DEVICE_MAC, "8", String(port), ...(path ? [path] : [])];
  const peers = await lan.ns.run("python3", args, 60_000);
  t.is(peers.code, 0, peers.stderr);
  t.deepEqual(JSON.parse(peers.stdout), { taken: 8 }, "the device took every peer");
}

/** The device's pcbs of the zero-window peers (198.18.0.0/24) but for TIME-WAIT ones, which do not count against the table. */
const peerPcbs = (lan: HostileLan) => lan.device.tcp.connections.filter((p) => p.remoteIp >>> 8 === 0xc61200 && p.state !== "time-wait").length;

/** Waits until no pcb of the zero-window peers is left, at most until `limitMs` after `since`; true when none is. */
async function peersGone(lan: HostileLan, since: number, limitMs: number): Promise<boolean> {
  while (peerPcbs(lan) > 0 && performance.now() - since < limitMs) await sleep(500);
  return peerPcbs(lan) === 0;
}

// The HTTP server aborts a response unacknowledged for 30 s (sendTimeoutMs), its 503
// refusals included: a client is served after that, and nothing of the peers is left.
test("eight silent zero-window peers asking HTTP for a large file: curl is served within 60 s", async (t) => {
  const bound = 60_000;
  const lan = await hostileLan(t);
  const start = performance.now();
  await zeroWindowPeers(t, lan, 80, "/big.bin");
  const served = await attempts(lan, httpGet, { since: start, limitMs: bound + MEASURE_MS });
  t.log(`eight zero-window peers on HTTP: curl served ${seconds(served.ms, bound + MEASURE_MS)} after they connected (${served.attempts} attempts)`);
  t.log(`device drops: ${JSON.stringify([...lan.device.netif.stats.drops])}; pcbs: ${pcbStates(lan)}`);
  t.true(served.ms !== undefined && served.ms <= bound, "served within the bound");
  t.true(await peersGone(lan, start, bound), `pcbs of the peers left: ${peerPcbs(lan)}`);
});

// FTP cannot send them its greeting. The four beyond its session limit it answers 421 and
// closes; the four sessions it closes too once their time to log in is up (30 s): orphans
// in persist behind the zero window (FIN-WAIT-1), which only TCP can end. The bound leaves
// 90 s for TCP's bound on orphans.
test("eight silent zero-window peers on FTP: a real login succeeds within 120 s", async (t) => {
  const bound = 120_000;
  const lan = await hostileLan(t);
  const start = performance.now();
  await zeroWindowPeers(t, lan, 21);
  const served = await attempts(lan, ftpGet, { since: start, limitMs: bound + MEASURE_MS });
  t.log(`eight zero-window peers on FTP: curl logged in ${seconds(served.ms, bound + MEASURE_MS)} after they connected (${served.attempts} attempts)`);
  t.log(`device drops: ${JSON.stringify([...lan.device.netif.stats.drops])}; pcbs: ${pcbStates(lan)}`);
  t.true(served.ms !== undefined && served.ms <= bound, "logged in within the bound");
});

// Four sessions at most; one that has not logged in must yield to a newcomer (or time out
// before login within 30 s, which the bound does not wait for).
test("six FTP clients that never log in: a real login succeeds within 10 s", async (t) => {
  const bound = 10_000;
  const lan = await hostileLan(t, 6);
  const idle = attack(t, lan.ns, "hold.py", ["ftp-idle", DEVICE, "21", "120", ...attackers(6)]);
  t.true(await ready(idle), idle.output());
  const start = performance.now();
  const served = await attempts(lan, ftpGet, { since: start, limitMs: bound + MEASURE_MS });
  await idle.stop();
  t.log(`six FTP clients that never log in: curl logged in ${seconds(served.ms, bound + MEASURE_MS)} after they were in place (${served.attempts} attempts)`);
  t.log(`idle clients: ${idle.output().trim().split("\n").at(-1)}; device drops: ${JSON.stringify([...lan.device.netif.stats.drops])}`);
  t.true(served.ms !== undefined && served.ms <= bound, "logged in within the bound");
});

// Four transfers at most. With the timeout option capped at 10 s and five retries, a
// transfer nobody acknowledges ends within 60 s.
test("six TFTP reads with timeout=255 left unanswered: tftp get succeeds within 75 s", async (t) => {
  const bound = 75_000;
  const lan = await hostileLan(t, 6);
  const stall = attack(t, lan.ns, "tftp-stall.py", [DEVICE, "big.bin", "120", ...attackers(6)]);
  t.true(await ready(stall), stall.output());
  const start = performance.now();
  const served = await attempts(lan, tftpGet, { since: start, limitMs: bound + MEASURE_MS });
  await stall.stop();
  t.log(`six unanswered TFTP reads (${stall.output().trim()}): tftp served ${seconds(served.ms, bound + MEASURE_MS)} after them (${served.attempts} attempts)`);
  t.log(`device drops: ${JSON.stringify([...lan.device.netif.stats.drops])}`);
  t.true(served.ms !== undefined && served.ms <= bound, "served within the bound");
});
