// The hostile-LAN suite, part one: the attacks that load the device hard (a SYN flood,
// nmap's scans, slowloris), one after the other so that their figures are not each
// other's. Each test prints how long the attack kept a legitimate client out. Needs root,
// hping3 and nmap (.ci/run installs them). Part two is hostile-hold.test.ts.

import test from "ava";
import { setTimeout as sleep } from "node:timers/promises";
import { DEVICE, attack, attackers, attempts, ftpGet, hostileLan, httpGet, ready, seconds, tftpGet } from "../support/hostile/lan.ts";

/** How long a test keeps trying for its log line once a bound is missed: longer would only slow CI down. */
const MEASURE_MS = 30_000;

test.serial("an hping3 SYN flood from random sources on port 80: curl is served during it and at once after it", async (t) => {
  const lan = await hostileLan(t);
  t.true(await httpGet(lan), "served before the flood");
  // 20 000 SYNs at up to 5000 a second (hping3 manages about half that), each from a random
  // address; the SYN-ACKs go to the gateway, the kernel, which drops them: every SYN leaves
  // a half-open connection. The legitimate client begins once the flood is under way.
  const start = performance.now();
  const flood = attack(t, lan.ns, "hping3", ["-q", "-n", "-S", "-p", "80", "--rand-source", "-i", "u200", "-c", "20000", DEVICE]);
  await sleep(1_000);
  const during = await attempts(lan, httpGet, { since: start, limitMs: 20_000, until: flood.running });
  await flood.stop();
  const floodMs = performance.now() - start;
  const end = performance.now();
  const after = await attempts(lan, httpGet, { since: end, limitMs: MEASURE_MS });
  const firstMs = during.ms ?? (after.ms === undefined ? undefined : floodMs + after.ms);
  t.log(
    `SYN flood of ${(floodMs / 1000).toFixed(1)} s: ${during.successes} of ${during.attempts} curls served during it;` +
      ` served again ${seconds(after.ms, MEASURE_MS)} after its end (${after.attempts} attempts); first served ${seconds(firstMs, floodMs + MEASURE_MS)} after it began`,
  );
  t.log(`device drops: ${JSON.stringify([...lan.device.netif.stats.drops])}`);
  t.true(during.successes > 0, "a curl is served during the flood");
  t.is(after.attempts, 1, "the first curl after the flood is served");
  t.is(lan.device.netif.stats.drops.get("internal-error"), undefined);
});

test.serial("nmap connect, SYN, UDP and OS-detection scans: HTTP, FTP and TFTP serve afterwards", async (t) => {
  const lan = await hostileLan(t);
  const nmap = async (args: string[]) => {
    const start = performance.now();
    const r = await lan.ns.run("nmap", ["-n", "-Pn", "-T4", "--max-retries", "1", "--host-timeout", "60s", ...args, DEVICE], 90_000);
    t.is(r.code, 0, r.stderr);
    t.log(`nmap ${args.join(" ")}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
    return r.stdout;
  };
  const connect = await nmap(["-sT", "-p", "1-1024"]);
  t.regex(connect, /^21\/tcp +open/m);
  t.regex(connect, /^80\/tcp +open/m);
  const syn = await nmap(["-sS", "-p", "1-1024"]);
  t.regex(syn, /^80\/tcp +open/m);
  t.regex(syn, /closed/, "the closed ports answer with RST");
  const udp = await nmap(["-sU", "-p", "53,67,69,123,161"]);
  t.regex(udp, /^53\/udp +closed/m, "ICMP port unreachable");
  await nmap(["-O", "-p", "21,80,81"]);
  const start = performance.now();
  for (const [name, get] of [
    ["HTTP", httpGet],
    ["FTP", ftpGet],
    ["TFTP", tftpGet],
  ] as const) {
    const served = await attempts(lan, get, { since: start, limitMs: MEASURE_MS });
    t.log(`after the scans, ${name} served ${seconds(served.ms, MEASURE_MS)} after the last scan (${served.attempts} attempts)`);
    t.is(served.attempts, 1, `${name} is served at once`);
  }
  t.is(lan.device.netif.stats.drops.get("internal-error"), undefined);
});

test.serial("twelve slowloris clients dribbling request heads: curl is served within 5 s", async (t) => {
  const lan = await hostileLan(t, 12);
  const loris = attack(t, lan.ns, "hold.py", ["slowloris", DEVICE, "80", "120", ...attackers(12)]);
  t.true(await ready(loris), loris.output());
  const start = performance.now();
  const served = await attempts(lan, httpGet, { since: start, limitMs: MEASURE_MS });
  await loris.stop();
  t.log(`twelve slowloris clients: curl served ${seconds(served.ms, MEASURE_MS)} after they were in place (${served.attempts} attempts)`);
  t.log(`slowloris clients: ${loris.output().trim().split("\n").at(-1)}; device drops: ${JSON.stringify([...lan.device.netif.stats.drops])}`);
  t.true(served.ms !== undefined && served.ms <= 5_000, "served within 5 s");
  t.is(lan.device.netif.stats.drops.get("internal-error"), undefined);
});
