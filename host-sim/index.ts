// The scenario API: a firmware on a virtual LAN, in a few lines of a test, for users' CI.
//
//   const sim = new Scenario({ seed: 7, faults: { drop: 0.1 } });
//   const device = sim.device({ config, files: { "www/index.html": "<h1>hi</h1>" } });
//   sim.runUntil(() => device.address() !== undefined);
//   const page = sim.client().http(device.address()!, "/index.html");
//   const { trace, stats, pcap } = sim.result();
//
// The LAN is 10.0.0.0/24 under a virtual clock: the simulator's DHCP server (pool from
// 10.0.0.100) and DNS server (zone "lan") on 10.0.0.1, clients from 10.0.0.9 up. The device
// is the firmware core (modules/firmware) with a config of the shape of the manifest's
// config.netstack (default: the ESP32 app's own), or any firmware of the user's given the
// same ports. Faults (host-sim/faults.ts) hit the device's port, drawn from the seed, so a
// failing run repeats exactly. The pcap is recorded at the device, as it saw the LAN.

import { PcapRecorder, replay as replayPackets, type Replay } from "./capture.ts";
import { VirtualClock } from "./clock.ts";
import { FaultInjector, type FaultCounts, type FaultRates } from "./faults.ts";
import { DEVICE_MAC, manifestConfig, memoryStore } from "./firmware.ts";
import { VirtualLan } from "./lan.ts";
import { decodeCapture, type PcapPacket } from "./pcap.ts";
import { SeededRandom } from "./random.ts";
import { noteLine, traceLine } from "./trace.ts";
import { DhcpServer } from "./peers/dhcp-server.ts";
import { DnsServer } from "./peers/dns-server.ts";
import { FtpClient } from "./clients/ftp-client.ts";
import { httpRequest, type HttpRequestOptions, type HttpResult } from "./clients/http-client.ts";
import { runTransfer, tftpGet, tftpPut, type ClientOptions, type ClientResult } from "./clients/tftp-client.ts";
import { type Firmware, type FirmwarePorts, type FirmwareRoute, startFirmware } from "../modules/firmware/firmware.ts";
import type { FirmwareConfig } from "../modules/firmware/config.ts";
import type { Link } from "../modules/platform.ts";
import { createStack, type Stack } from "../modules/stack/stack.ts";
import type { Stats } from "../modules/stack/stats.ts";
import type { Storage } from "../modules/storage/storage.ts";
import type { DnsRecord } from "../modules/wire/dns.ts";
import { type Ip4, type Mac, ipToString, macEqual, parseIp, parseMac } from "../modules/wire/address.ts";

export type { Firmware, FirmwarePorts, FirmwareRoute, FirmwareConfig, HttpResult, ClientResult, FaultRates };
export { startFirmware, manifestConfig, memoryStore, FtpClient, ipToString, parseIp };

export interface ScenarioOptions {
  /** Seeds the device's random source, the peers' and the faults'. Default 1. */
  seed?: number;
  /** Faults on the device's port, both ways, e.g. { drop: 0.1 } (see host-sim/faults.ts). */
  faults?: FaultRates;
  /** The DHCP server's lease, in seconds; false for no DHCP server. Default 3600. */
  dhcp?: number | false;
  /** Records the DNS server answers for, besides infra.lan (10.0.0.1). */
  dns?: DnsRecord[];
}

export interface DeviceOptions {
  /** Default: the ESP32 app's own (config.netstack of manifests/app/manifest_app.json). */
  config?: FirmwareConfig;
  /** The device's file system: path to contents, or a Storage of its own. Default empty. */
  files?: Record<string, string | Uint8Array> | Storage;
  /** The application's HTTP routes. */
  routes?: FirmwareRoute[];
}

export interface ScenarioResult {
  /** The trace: a line per frame the device sent (">") or received ("<") and per protocol event or note ("--"). */
  trace: string[];
  /** The device's counters and drops (stack.stats), as JSON. */
  stats: { counters: Record<string, number>; drops: Record<string, number> };
  /** A pcap file's bytes: every frame at the device's port. */
  pcap: Uint8Array;
  /** How often each fault was applied; undefined without faults. */
  faults: FaultCounts | undefined;
}

/** An address as Ip4 or dotted text. */
export type Target = Ip4 | string;

const LAN_MASK = parseIp("255.255.255.0")!;
const INFRA = parseIp("10.0.0.1")!;
/** 2026-01-01: the pcap's time stamps start there rather than in 1970. */
const EPOCH = Date.UTC(2026, 0, 1);

function plainStats(s: Stats): ScenarioResult["stats"] {
  return { counters: Object.fromEntries(s.counters), drops: Object.fromEntries(s.drops) };
}

function ipOf(target: Target): Ip4 {
  const ip = typeof target === "number" ? target : parseIp(target);
  if (ip === undefined) throw new Error(`not an IPv4 address: ${target}`);
  return ip;
}

export class Scenario {
  readonly clock = new VirtualClock();
  readonly lan = new VirtualLan(this.clock);
  /** The host of the DHCP and DNS servers, 10.0.0.1. */
  readonly infra: Stack;
  readonly dhcpServer: DhcpServer | undefined;
  readonly dnsServer: DnsServer;
  readonly #trace: string[] = [];
  readonly #seed: number;
  readonly #rates: FaultRates | undefined;
  #recorder: PcapRecorder | undefined;
  #faults: FaultInjector | undefined;
  #stack: Stack | undefined;
  #clients = 0;

  constructor(options: ScenarioOptions = {}) {
    this.#seed = options.seed ?? 1;
    this.#rates = options.faults;
    this.infra = createStack(this.lan.attach("infra"), this.clock, new SeededRandom(this.#seed + 2), {
      mac: parseMac("02:00:00:00:00:01")!,
      ip: INFRA,
      mask: LAN_MASK,
      gateway: 0,
    });
    if (options.dhcp !== false) {
      this.dhcpServer = new DhcpServer(this.infra, {
        poolStart: parseIp("10.0.0.100")!,
        poolSize: 50,
        mask: LAN_MASK,
        leaseTime: options.dhcp ?? 3600,
        routers: [INFRA],
        dnsServers: [INFRA],
        domainName: "lan",
      });
    }
    const records: DnsRecord[] = [{ name: "infra.lan", class: 1, ttl: 300, type: "A", address: INFRA }, ...(options.dns ?? [])];
    this.dnsServer = new DnsServer(this.infra, { records });
  }

  /** Starts the firmware core on the device's port: the default device. */
  device(o: DeviceOptions = {}): Firmware {
    return this.firmware((ports) => {
      const fw = startFirmware(ports, o.config ?? manifestConfig(), { routes: o.routes });
      if (!fw.ok) throw new Error(fw.reason);
      return fw.value;
    }, o);
  }

  /**
   * Starts a firmware of the user's own on the device's port (one per scenario): `start` gets
   * the ports the ESP32 app would give it and returns what it built, with its stack.
   */
  firmware<T extends { stack: Stack }>(start: (ports: FirmwarePorts) => T, o: { files?: DeviceOptions["files"]; mac?: Mac } = {}): T {
    if (this.#recorder) throw new Error("a scenario has one device");
    let link: Link = this.lan.attach("device");
    if (this.#rates) link = this.#faults = new FaultInjector(link, this.clock, { seed: this.#seed + 3, rates: this.#rates });
    const recorder = new PcapRecorder(link, this.clock, undefined, { epochMs: EPOCH });
    this.#recorder = recorder;
    const files = o.files ?? {};
    const storage = isStorage(files) ? files : memoryStore(files);
    // Frames are traced at the link, so none is missed whatever the firmware does first.
    const traced: Link = {
      transmit: (frame) => {
        this.#line(traceLine(this.clock.now(), { kind: "tx", frame }));
        recorder.transmit(frame);
      },
      setReceiver: (receiver) =>
        recorder.setReceiver((frame) => {
          this.#line(traceLine(this.clock.now(), { kind: "rx", frame }));
          receiver(frame);
        }),
    };
    const built = start({
      link: traced,
      mac: o.mac ?? DEVICE_MAC,
      clock: this.clock,
      random: new SeededRandom(this.#seed),
      storage,
      log: (text) => this.note("device", text),
    });
    const netif = built.stack.netif;
    const theirs = netif.onEvent;
    netif.onEvent = (e) => {
      if (e.kind === "event") this.#line(traceLine(this.clock.now(), e));
      theirs?.(e);
    };
    this.#stack = built.stack;
    return built;
  }

  /** A host on the LAN at 10.0.0.9, 10.0.0.10, ...; its helpers run the virtual clock until they are done. */
  client(): Client {
    const n = 9 + this.#clients++;
    const stack = createStack(this.lan.attach(`client${n}`), this.clock, new SeededRandom(this.#seed * 1000 + n), {
      mac: Uint8Array.of(0x02, 0, 0, 0, 1, n),
      ip: parseIp(`10.0.0.${n}`)!,
      mask: LAN_MASK,
      gateway: INFRA,
    });
    return new Client(stack, this.clock);
  }

  /**
   * Plays a capture (pcap or pcapng bytes) into the LAN with its original spacing, leaving out
   * what the device itself sent (frames from `deviceMac`, default the device's): it answers anew.
   */
  replay(capture: Uint8Array, deviceMac: Mac = this.#stack?.netif.mac ?? DEVICE_MAC): Replay {
    const decoded = decodeCapture(capture);
    if (!decoded.ok) throw new Error(`not a capture: ${decoded.reason}`);
    const theirs = decoded.value.packets.filter((p: PcapPacket) => !macEqual(p.data.subarray(6, 12), deviceMac));
    const started = replayPackets(theirs, this.lan.attach("replay"), this.clock);
    if (!started.ok) throw new Error(started.reason);
    return started.value;
  }

  /** Runs virtual time for `ms`. */
  runFor(ms: number): void {
    this.clock.advance(ms);
  }

  /** Runs until `until` holds (checked after every timer), or to that virtual time; false if `withinMs` passed first. */
  runUntil(until: (() => boolean) | number, withinMs = 120_000): boolean {
    if (typeof until === "number") return this.clock.runUntil(until);
    const deadline = this.clock.now() + withinMs;
    // Timer by timer while the next one is due in time; then the rest of the time passes idle.
    this.clock.runUntil(() => until() || (this.clock.nextDue() ?? Number.POSITIVE_INFINITY) > deadline);
    if (!until()) this.clock.runUntil(deadline);
    return until();
  }

  /** Adds a line to the trace at the current virtual time. */
  note(who: string, text: string): void {
    this.#line(noteLine(this.clock.now(), who, text));
  }

  /** What happened so far. */
  result(): ScenarioResult {
    return {
      trace: [...this.#trace],
      stats: this.#stack ? plainStats(this.#stack.stats) : { counters: {}, drops: {} },
      pcap: this.#recorder?.bytes() ?? new Uint8Array(0),
      faults: this.#faults ? { ...this.#faults.counts } : undefined,
    };
  }

  #line(text: string): void {
    this.#trace.push(text);
  }
}

function isStorage(files: DeviceOptions["files"]): files is Storage {
  return typeof (files as Storage).openRead === "function";
}

/** A host on the LAN with clients that run the clock until their exchange is over. */
export class Client {
  constructor(
    readonly stack: Stack,
    readonly clock: VirtualClock,
  ) {}

  /** One HTTP request (GET unless o.method says otherwise). */
  http(target: Target, path: string, o?: HttpRequestOptions): HttpResult {
    return httpRequest(this.stack, this.clock, ipOf(target), path, o);
  }

  tftpGet(target: Target, file: string, o: ClientOptions = {}): ClientResult {
    return runTransfer(this.clock, (done) => tftpGet(this.stack, ipOf(target), file, o, done));
  }

  tftpPut(target: Target, file: string, data: Uint8Array | string, o: ClientOptions = {}): ClientResult {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    return runTransfer(this.clock, (done) => tftpPut(this.stack, ipOf(target), file, bytes, o, done));
  }

  /** An FTP session: login, cmd, retr, stor, list (host-sim/clients/ftp-client.ts). */
  ftp(target: Target): FtpClient {
    return new FtpClient(this.stack, this.clock, ipOf(target));
  }

  /** Sends `count` echo requests a second apart; returns how many were answered by a second after the last. */
  ping(target: Target, count = 1): number {
    let replies = 0;
    this.stack.icmp.onEchoReply = () => replies++;
    for (let seq = 1; seq <= count; seq++) {
      this.stack.icmp.echo(ipOf(target), 0x5343, seq, new Uint8Array(32).fill(seq));
      this.clock.advance(1000);
    }
    return replies;
  }
}
