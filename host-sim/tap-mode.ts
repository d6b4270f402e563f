// `npm start -- --tap`: the firmware core (modules/firmware) on a Linux TAP device, on wall
// time, so the kernel, a DHCP server given the TAP (dnsmasq) or a LAN it is bridged to are
// the device's peers. Everything the user gets wrong (a config field, a root, the TAP's name
// or privilege) is one line on stderr and exit status 1, checked before anything starts.

import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { PcapRecorder } from "./capture.ts";
import { RealClock } from "./clock.ts";
import { DEVICE_MAC, manifestConfig, memoryStore, readConfig } from "./firmware.ts";
import { SeededRandom } from "./random.ts";
import { DirectoryStorage } from "./storage/directory.ts";
import { TapLink } from "./tap.ts";
import { noteLine, traceLine } from "./trace.ts";
import { type FirmwareConfig, parseStatic } from "../modules/firmware/config.ts";
import { type Firmware, startFirmware } from "../modules/firmware/firmware.ts";
import type { Link } from "../modules/platform.ts";
import type { Storage } from "../modules/storage/storage.ts";
import { ipToString, macToString } from "../modules/wire/address.ts";
import { type Result, fail, ok } from "../modules/wire/result.ts";

export interface TapModeOptions {
  /** The TAP's name; "" lets the kernel choose. */
  name: string;
  /** ADDR/PREFIX[,GATEWAY] instead of DHCP. */
  static?: string;
  /** A host directory to serve; default an empty in-memory store. */
  root?: string;
  /** A JSON file: config.netstack, or a manifest that has one; default the ESP32 app's own. */
  config?: string;
  /** Where to record a pcap. */
  pcap?: string;
  /** Leave out the per-frame trace lines; protocol events stay. */
  quiet?: boolean;
  seed?: number;
}

/** What the options name, each checked, before the TAP is opened. */
function prepare(o: TapModeOptions): Result<{ config: FirmwareConfig; storage: Storage }> {
  const read = o.config === undefined ? ok(manifestConfig()) : readConfig(o.config);
  if (!read.ok) return fail(`--config ${read.reason}`);
  let config = read.value;
  if (o.static !== undefined) {
    const s = parseStatic(o.static);
    if (!s.ok) return fail(`--static ${o.static}: ${s.reason}`);
    config = { ...config, address: o.static };
  }
  if (o.root === undefined) return ok({ config, storage: memoryStore() });
  try {
    const st = statSync(o.root, { throwIfNoEntry: false });
    if (!st) return fail(`--root ${o.root}: no such directory`);
    if (!st.isDirectory()) return fail(`--root ${o.root}: not a directory`);
    return ok({ config, storage: new DirectoryStorage(o.root) });
  } catch (e) {
    return fail(`--root ${o.root}: ${(e as Error).message}`); // e.g. a parent we may not search
  }
}

function openTap(name: string): Result<TapLink> {
  try {
    return ok(TapLink.open(name));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EBUSY") return fail(`TAP ${name} is already in use by another process: choose another --tap-name, or none for a new one`);
    return fail(`cannot attach to a TAP device: ${err.message}`);
  }
}

/** Where a failure of `--pcap` is said in one line, not a stack trace. */
function recorder(tap: TapLink, clock: RealClock, path: string): Result<PcapRecorder> {
  try {
    mkdirSync(dirname(path), { recursive: true });
    return ok(new PcapRecorder(tap, clock, path));
  } catch (e) {
    return fail(`--pcap ${path}: ${(e as Error).message}`);
  }
}

/** Runs the firmware on the TAP until SIGINT or SIGTERM; any error is returned as its line. */
export function serveOnTap(o: TapModeOptions): Result<Firmware> {
  const prepared = prepare(o);
  if (!prepared.ok) return prepared;
  const { config, storage } = prepared.value;
  const tap = openTap(o.name);
  if (!tap.ok) return tap;
  const clock = new RealClock();
  const started = clock.now();
  let link: Link = tap.value;
  let pcap: PcapRecorder | undefined;
  if (o.pcap !== undefined) {
    const r = recorder(tap.value, clock, o.pcap);
    if (!r.ok) {
      tap.value.close();
      return r;
    }
    link = pcap = r.value;
  }
  const since = () => clock.now() - started;
  const fw = startFirmware(
    { link, mac: DEVICE_MAC, clock, random: new SeededRandom(o.seed ?? 1), storage, log: (text) => console.log(noteLine(since(), "device", text)) },
    config,
    { onEvent: (e) => (o.quiet && e.kind !== "event" ? undefined : console.log(traceLine(since(), e))) },
  );
  if (!fw.ok) {
    tap.value.close();
    return fw;
  }
  console.log(banner(tap.value.name, fw.value));
  const stop = () => {
    fw.value.stop();
    pcap?.close();
    tap.value.close();
    console.log(`\nstats ${fw.value.stack.netif.stats.json()}`);
    if (pcap) console.log(`pcap: ${o.pcap} (${pcap.count} frames)`);
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  tap.value.onError((e) => {
    console.error(`TAP ${tap.value.name}: ${e.message}`);
    process.exit(1);
  });
  return fw;
}

/** How to reach the device, in the config's own terms. */
function banner(tap: string, fw: Firmware): string {
  const ip = fw.address();
  const at = ip === undefined ? "ADDR" : ipToString(ip);
  const c = fw.config;
  const how =
    ip === undefined
      ? `asks for an address by DHCP: give ${tap} to a DHCP server, e.g. as root
  ip addr add 10.0.0.1/24 dev ${tap} && ip link set ${tap} up
  dnsmasq -d --port=0 --interface=${tap} --bind-interfaces --dhcp-range=10.0.0.100,10.0.0.150
or bridge it to a LAN (ip link set ${tap} master br0 up); its "address" line gives ADDR.`
      : `has ${at}. In another shell, as root:
  ip addr add ${fw.stack.netif.gateway ? ipToString(fw.stack.netif.gateway) : "ANOTHER_ADDR"}/${Math.clz32(~fw.stack.netif.mask)} dev ${tap} && ip link set ${tap} up`;
  const user = c.ftp?.users[0];
  const tries = [
    `ping -c 3 ${at}`,
    c.echo ? `echo hello | nc -u -w1 ${at} 7` : "",
    c.tftp ? `tftp ${at} -m binary -c get FILE          (from /${c.tftp.root}${c.tftp.write === "none" ? "" : "; put too"})` : "",
    user ? `curl -s ftp://${user.name}:${user.password}@${at}/      (root /${c.ftp!.root})` : "",
    c.ftp?.anonymous !== undefined ? `curl -s ftp://${at}/            (anonymous, /${c.ftp.anonymous})` : "",
    c.http ? `curl -s http://${at}/status${c.http.put ? ` && curl -T FILE http://${at}/FILE` : ""}` : "",
  ].filter((l) => l);
  return `device ${macToString(fw.stack.netif.mac)} attached to ${tap}; it ${how}
then try:
${tries.map((l) => `  ${l}`).join("\n")}
Ctrl-C stops it.`;
}
