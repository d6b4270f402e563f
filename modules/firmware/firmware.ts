// The firmware itself, whatever it runs on: brings up the stack on the link it is handed,
// takes an address (our DHCP client, or a static one), and starts the configured servers,
// each on its own root of the storage. The ESP32 app (device/app.ts), the simulator's
// `npm start` and TAP mode, and users' scenarios (host-sim/index.ts) all call startFirmware
// with their own ports, so the device is assembled in this one place.

import type { Clock, Link, Random } from "../platform.ts";
import { createStack, type Stack, type StackOptions } from "../stack/stack.ts";
import type { UdpPcb } from "../stack/udp.ts";
import type { NetEvent } from "../stack/netif.ts";
import { DhcpClient, type DhcpLease } from "../services/dhcp-client.ts";
import { TftpServer } from "../services/tftp-server.ts";
import { FTP_SERVER_DEFAULTS, FtpServer } from "../services/ftp-server.ts";
import { HTTP_SERVER_DEFAULTS, HttpServer, type HttpHandler } from "../services/http-server.ts";
import type { Storage } from "../storage/storage.ts";
import { Subtree, makeDirs } from "../storage/subtree.ts";
import { type Ip4, type Mac, ipToString } from "../wire/address.ts";
import { type Result, ok } from "../wire/result.ts";
import { type FirmwareConfig, checkConfig, parseStatic } from "./config.ts";

/** What the port hands the firmware. */
export interface FirmwarePorts {
  link: Link;
  /** The link's own address. */
  mac: Mac;
  clock: Clock;
  random: Random;
  /** The whole file system; every service gets the directory its root names. */
  storage: Storage;
  /** One line of the firmware's log, without a line end. */
  log: (text: string) => void;
}

export interface FirmwareRoute {
  method: string;
  path: string;
  handler: HttpHandler;
}

export interface FirmwareOptions {
  /** The stack's sizes and timings (the MAC comes from the ports). */
  stack?: Omit<StackOptions, "mac">;
  /** The application's own HTTP routes, beside the status route. */
  routes?: FirmwareRoute[];
  /** The trace hook (netif.onEvent), set before the first frame goes out. */
  onEvent?: (e: NetEvent) => void;
}

export interface Firmware {
  readonly config: FirmwareConfig;
  readonly stack: Stack;
  /** Undefined with a static address. */
  readonly dhcp: DhcpClient | undefined;
  readonly tftp: TftpServer | undefined;
  readonly ftp: FtpServer | undefined;
  readonly http: HttpServer | undefined;
  /** The address in use, or undefined while there is none. */
  address(): Ip4 | undefined;
  /**
   * The link went down (cable out, Wi-Fi lost) or came back. Down stops DHCP, which removes the
   * address but remembers the lease; up (even without a down before it) asks for that lease
   * again (INIT-REBOOT, RFC 2131 3.2), as the network may have changed meanwhile. Nothing
   * happens with a static address.
   */
  linkChanged(up: boolean): void;
  /** Stops DHCP and every server. */
  stop(): void;
}

/** Checks `config` (see FirmwareConfig) and starts the firmware on `ports`; a wrong config fails with the field it names. */
export function startFirmware(ports: FirmwarePorts, config: unknown, options: FirmwareOptions = {}): Result<Firmware> {
  const checked = checkConfig(config);
  if (!checked.ok) return checked;
  const c = checked.value;
  const log = ports.log;
  const tcp = { ...options.stack?.tcp, ...c.tcp };
  const stack = createStack(ports.link, ports.clock, ports.random, { ...options.stack, tcp, mac: ports.mac });
  stack.netif.onEvent = options.onEvent;
  const dhcp = takeAddress(stack, c, log);
  const tftp = c.tftp && startTftp(stack, ports, c.tftp);
  const ftp = c.ftp && startFtp(stack, ports, c.ftp);
  const http = c.http && startHttp(stack, ports, c.http, options.routes ?? []);
  const echo = c.echo ? startEcho(stack, log) : undefined;
  return ok({
    config: c,
    stack,
    dhcp,
    tftp,
    ftp,
    http,
    address: () => stack.netif.ip || undefined,
    linkChanged(up) {
      dhcp?.stop();
      if (up) dhcp?.start();
    },
    stop() {
      dhcp?.stop();
      tftp?.close();
      ftp?.close();
      http?.close();
      echo?.close();
    },
  });
}

function describe(ip: Ip4, mask: Ip4, gateway: Ip4): string {
  return `${ipToString(ip)}/${Math.clz32(~mask)} gateway ${gateway ? ipToString(gateway) : "none"}`;
}

function leaseText(l: DhcpLease): string {
  return `${describe(l.ip, l.mask, l.gateway)} lease ${l.leaseTime} s`;
}

/** A static address at once, or our DHCP client, which reports its lease through the log. */
function takeAddress(stack: Stack, c: FirmwareConfig, log: (text: string) => void): DhcpClient | undefined {
  const fixed = c.address && c.address !== "dhcp" ? parseStatic(c.address) : undefined;
  if (fixed?.ok) {
    stack.netif.setAddress(fixed.value);
    log(`address ${describe(fixed.value.ip, fixed.value.mask, fixed.value.gateway)} (static)`);
    return undefined;
  }
  const dhcp = new DhcpClient(stack, { hostName: c.hostname });
  dhcp.onBound = (lease) => log(`address ${leaseText(lease)}`);
  dhcp.onChanged = (lease) => log(`address changed: ${leaseText(lease)}`);
  dhcp.onLost = (reason) => log(`address lost (${reason})`);
  dhcp.start();
  return dhcp;
}

/** The directory `dir` of the storage, made (with its parents) when missing. */
function rootOf(ports: FirmwarePorts, dir: string): Storage {
  const made = makeDirs(ports.storage, dir);
  if (!made.ok) ports.log(`cannot create /${dir}: ${made.reason}`);
  const view = Subtree.of(ports.storage, dir);
  return view.ok ? view.value : ports.storage; // checkConfig let only confined roots through
}

/** Starts listening and says so: the one place that knows what a server's listen() returns. */
function serve<T extends { listen(): boolean }>(server: T, log: (text: string) => void, name: string, port: number, detail: string): T {
  log(server.listen() ? `${name} on port ${port}, ${detail}` : `${name}: cannot listen on port ${port}`);
  return server;
}

function startTftp(stack: Stack, ports: FirmwarePorts, c: NonNullable<FirmwareConfig["tftp"]>): TftpServer {
  const tftp = new TftpServer(stack, rootOf(ports, c.root), {
    allowWrite: c.write !== "none",
    allowOverwrite: c.write === "overwrite",
    onTransfer: (r) => ports.log(`tftp ${r.op} ${r.file} ${r.bytes} bytes${r.error ? ` failed: ${r.error}` : ""}`),
  });
  return serve(tftp, ports.log, "tftp", tftp.options.port, `root /${c.root}, writes: ${c.write}`);
}

function startFtp(stack: Stack, ports: FirmwarePorts, c: NonNullable<FirmwareConfig["ftp"]>): FtpServer {
  // Each session needs its data connection beside it, so at most half of TCP's pcbs are sessions.
  const sessions = Math.max(1, Math.min(FTP_SERVER_DEFAULTS.maxSessions, Math.floor(stack.tcp.config.maxPcbs / 2)));
  const ftp = new FtpServer(stack, rootOf(ports, c.root), {
    maxSessions: sessions,
    maxSessionsPerAddress: Math.min(FTP_SERVER_DEFAULTS.maxSessionsPerAddress, sessions),
    maxDataConnections: sessions,
    users: c.users,
    anonymousRoot: c.anonymous,
    onTransfer: (r) => ports.log(`ftp ${r.user} ${r.command} ${r.path} ${r.bytes} bytes${r.error ? ` failed: ${r.error}` : ""}`),
  });
  const users = [...c.users.map((u) => u.name), ...(c.anonymous === undefined ? [] : ["anonymous"])];
  return serve(ftp, ports.log, "ftp", ftp.options.port, `root /${c.root}, users: ${users.join(", ") || "none"}`);
}

function startHttp(stack: Stack, ports: FirmwarePorts, c: NonNullable<FirmwareConfig["http"]>, routes: FirmwareRoute[]): HttpServer {
  const http = new HttpServer(stack, rootOf(ports, c.root), {
    maxConnections: Math.min(HTTP_SERVER_DEFAULTS.maxConnections, stack.tcp.config.maxPcbs),
    allowPut: c.put,
    ...(c.putLimit === undefined ? {} : { maxBodyBytes: c.putLimit }),
  });
  for (const r of routes) http.route(r.method, r.path, r.handler);
  const paths = [http.options.statusPath, ...routes.map((r) => r.path)].filter((p) => p);
  const put = c.put ? `PUT up to ${http.options.maxBodyBytes} bytes` : "no PUT";
  return serve(http, ports.log, "http", http.options.port, `root /${c.root}, ${put}, routes ${paths.join(", ")}`);
}

/** RFC 862: every datagram to port 7 goes back to where it came from. */
function startEcho(stack: Stack, log: (text: string) => void): UdpPcb {
  const pcb = stack.udp.pcb();
  log(pcb.bind(7).ok ? "echo on port 7" : "echo: cannot listen on port 7");
  pcb.recv((data, from, port) => pcb.sendTo(data, from, port));
  return pcb;
}
