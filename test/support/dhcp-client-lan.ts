// A virtual LAN for the DHCP client tests: the host-sim DHCP server at 10.0.0.1 with a
// small pool from 10.0.0.100, and the device (10.0.0.2's port, no address) running our
// client. What the server receives and what the client reports are recorded with times.

import { bench, ip, type Bench } from "./bench.ts";
import { DhcpServer, type DhcpServerOptions } from "../../host-sim/peers/dhcp-server.ts";
import { DhcpClient, type DhcpClientOptions, type DhcpLease, type DhcpState } from "../../modules/services/dhcp-client.ts";
import type { Stack } from "../../modules/stack/stack.ts";
import type { Link } from "../../modules/platform.ts";
import { ipToString, type Ip4 } from "../../modules/wire/address.ts";
import { type DhcpMessage, decodeDhcp } from "../../modules/wire/dhcp.ts";
import { decodeEthernet, ETHERTYPE_IPV4 } from "../../modules/wire/ethernet.ts";
import { decodeIpv4, IP_PROTO_UDP } from "../../modules/wire/ipv4.ts";
import { decodeUdp } from "../../modules/wire/udp.ts";

export const SERVER = ip("10.0.0.1");
export const POOL = ip("10.0.0.100");
export const MASK = ip("255.255.255.0");
export const DNS = ip("10.0.0.53");

export interface Seen {
  at: number;
  m: DhcpMessage;
  to: Ip4;
}

export interface DhcpLan {
  b: Bench;
  server: DhcpServer;
  serverHost: Stack;
  device: Stack;
  client: DhcpClient;
  /** Requests the server received. */
  seen: Seen[];
  /** DHCP messages the device sent, at the time it sent them. */
  sent: Seen[];
  /** The client's states in order, with times. */
  states: { at: number; state: DhcpState }[];
  /** bound/renewed/changed/lost events as short text. */
  events: string[];
  leases: DhcpLease[];
  /** Runs the virtual clock until the client is in `state` (false if it never gets there). */
  until(state: DhcpState): boolean;
}

export interface LanSetup {
  seed?: number;
  server?: Partial<DhcpServerOptions>;
  client?: Partial<DhcpClientOptions>;
  /** Wraps the device's LAN port (for a FaultInjector). */
  wrap?: (link: Link, b: Bench) => Link;
  /** Hosts attached before the server (so that their answers arrive first). */
  before?: (b: Bench) => void;
}

export function dhcpLan(setup: LanSetup = {}): DhcpLan {
  const b = bench(setup.seed ?? 1);
  setup.before?.(b);
  const serverHost = b.host(1);
  const server = new DhcpServer(serverHost, {
    poolStart: POOL,
    poolSize: 4,
    mask: MASK,
    leaseTime: 60,
    routers: [SERVER],
    dnsServers: [DNS],
    ...setup.server,
  });
  const seen: Seen[] = [];
  server.onRequest = (m, to) => seen.push({ at: b.clock.now(), m, to });
  const wrap = setup.wrap;
  const device = b.host(2, { ip: 0, mask: 0, gateway: 0 }, wrap && ((link) => wrap(link, b)));
  return observe(b, serverHost, server, device, new DhcpClient(device, setup.client), seen);
}

/** Records what `client` reports. */
export function observe(b: Bench, serverHost: Stack, server: DhcpServer, device: Stack, client: DhcpClient, seen: Seen[]): DhcpLan {
  const states: DhcpLan["states"] = [];
  const sent: Seen[] = [];
  device.netif.onEvent = (e) => {
    const m = e.kind === "tx" ? dhcpOf(e.frame) : undefined;
    if (m) sent.push({ at: b.clock.now(), ...m });
  };
  const events: string[] = [];
  const leases: DhcpLease[] = [];
  client.onStateChange = (state) => states.push({ at: b.clock.now(), state });
  client.onBound = (l) => {
    events.push(`bound ${ipToString(l.ip)}`);
    leases.push(l);
  };
  client.onRenewed = (l) => {
    events.push(`renewed ${ipToString(l.ip)}`);
    leases.push(l);
  };
  client.onChanged = (l, old) => {
    events.push(`changed ${ipToString(old.ip)} -> ${ipToString(l.ip)}`);
    leases.push(l);
  };
  client.onLost = (reason) => events.push(`lost ${reason}`);
  return {
    b,
    server,
    serverHost,
    device,
    client,
    seen,
    sent,
    states,
    events,
    leases,
    until: (state) => b.clock.runUntil(() => client.state === state, 100_000),
  };
}

/** The message type names of `seen`, for compact assertions. */
export function kinds(seen: Seen[]): string[] {
  const names = ["", "discover", "offer", "request", "decline", "ack", "nak", "release", "inform"];
  return seen.map((s) => names[s.m.options.messageType ?? 0] ?? "?");
}

/** The DHCP message in an Ethernet frame, with its IP destination. */
export function dhcpOf(frame: Uint8Array): { m: DhcpMessage; to: Ip4 } | undefined {
  const e = decodeEthernet(frame);
  if (!e.ok || e.value.ethertype !== ETHERTYPE_IPV4) return undefined;
  const p = decodeIpv4(e.value.payload);
  if (!p.ok || p.value.protocol !== IP_PROTO_UDP) return undefined;
  const u = decodeUdp(p.value.payload, p.value.src, p.value.dst);
  if (!u.ok || (u.value.dstPort !== 67 && u.value.dstPort !== 68)) return undefined;
  const d = decodeDhcp(u.value.payload);
  return d.ok ? { m: d.value, to: p.value.dst } : undefined;
}
