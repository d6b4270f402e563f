// DHCP client (RFC 2131) with an RFC 5227 probe before an address is used.
//
// One exchange at a time: DISCOVER/OFFER, REQUEST/ACK (from SELECTING, INIT-REBOOT,
// RENEWING or REBINDING). Every retransmission of an exchange keeps its xid, and a reply
// counts only if its xid, chaddr and server identifier fit the exchange; anything else is
// dropped and counted, so replies meant for other clients or exchanges, or sent by a
// server other than the one in the exchange, cannot move the client. The lease
// configures the netif (setAddress, which also announces the address by gratuitous ARP)
// and is reported to the application as bound, renewed, changed or lost.

import { type Ip4, type Mac, IP_BROADCAST, ipToString, macEqual, macToString } from "../wire/address.ts";
import {
  type DhcpMessage,
  type DhcpOptions,
  BOOTP_REPLY,
  DHCP_ACK,
  DHCP_CLIENT_PORT,
  DHCP_DECLINE,
  DHCP_DISCOVER,
  DHCP_NAK,
  DHCP_OFFER,
  DHCP_RELEASE,
  DHCP_REQUEST,
  DHCP_SERVER_PORT,
  bootRequest,
  decodeDhcp,
  dhcpLength,
  encodeDhcp,
} from "../wire/dhcp.ts";
import type { Timer } from "../platform.ts";
import { ARP_PROBE_DEFAULTS, type ArpProbeOptions } from "../stack/arp.ts";
import type { Stack } from "../stack/stack.ts";
import type { UdpPcb } from "../stack/udp.ts";

export type DhcpState =
  | "stopped"
  | "init" // waiting to start over (after a DECLINE)
  | "selecting" // DISCOVER sent, waiting for an offer
  | "requesting" // REQUEST for the offer sent
  | "rebooting" // INIT-REBOOT: REQUEST for the remembered address sent
  | "probing" // ACK received, checking with ARP that nobody else uses the address
  | "bound"
  | "renewing" // after T1: REQUEST unicast to the server that gave the lease
  | "rebinding"; // after T2: REQUEST broadcast to any server

/** "conflict": another host kept claiming the address (RFC 5227 2.4); the client declined it. */
export type DhcpLossReason = "expired" | "nak" | "released" | "conflict";

export interface DhcpLease {
  ip: Ip4;
  mask: Ip4;
  /** The first router, or 0 when the server named none. */
  gateway: Ip4;
  /** Routers and DNS servers leave out entries no host can hold (0.0.0.0, broadcast, loopback, multicast). */
  routers: Ip4[];
  dnsServers: Ip4[];
  hostName?: string;
  domainName?: string;
  serverId: Ip4;
  /** Seconds, as granted but at least 60 (0xffffffff never ends); T1 and T2 are derived or corrected so that 0 < T1 < T2 < lease. */
  leaseTime: number;
  renewalTime: number;
  rebindingTime: number;
  /** Clock time (ms) the REQUEST that won this lease was first sent: the lease runs from there. */
  acquiredAt: number;
}

export interface DhcpClientOptions {
  /** Option 12, sent when set. */
  hostName?: string;
  /** Option 60, sent when set. */
  vendorClass?: string;
  /** Option 61; by default type 1 (Ethernet) followed by the MAC. */
  clientId?: Uint8Array;
  /** Option 55: the option codes asked for. */
  parameterRequestList: number[];
  /** Option 57, the largest reply we accept in bytes (IP and UDP headers included); by default the MTU. */
  maxMessageSize?: number;
  /** A lease remembered from before a restart: start in INIT-REBOOT and ask for its address again. */
  lease?: { ip: Ip4 };
  /** First retransmission wait, ms; it doubles up to `retransmitMaxMs`, each wait moved by up to ±`jitterMs`. */
  retransmitMs: number;
  /** Longest retransmission wait, ms. */
  retransmitMaxMs: number;
  /** Random change to each retransmission wait, at most, ms (RFC 2131 4.1: ±1 s). */
  jitterMs: number;
  /** REQUESTs sent in REQUESTING or REBOOTING before starting over with a DISCOVER, count. */
  requestTries: number;
  /** Shortest wait between REQUESTs while renewing or rebinding, ms (RFC 2131 4.4.5 says 60 s). */
  renewRetryMinMs: number;
  /** The ARP probe before an address is used; false skips it. */
  probe: ArpProbeOptions | false;
  /** Wait after a DECLINE before starting over, ms (RFC 2131 3.1.5: at least ten seconds). */
  declineWaitMs: number;
  /** After this many conflicts in a row, count (RFC 5227 MAX_CONFLICTS), the wait is `conflictRateLimitMs`. */
  maxConflicts: number;
  /** RFC 5227 RATE_LIMIT_INTERVAL, ms: at most one new address per this while conflicts go on. */
  conflictRateLimitMs: number;
}

const INFINITE = 0xffffffff;
/** A shorter lease would have the client bind and drop it in a loop (lwIP's coarse timer gives at least 60 s too). */
const MIN_LEASE_SECONDS = 60;
/** Message names for the counters (dhcp.tx.discover, dhcp.rx.ack, ...). */
const NAMES: Record<number, string> = {
  [DHCP_DISCOVER]: "discover",
  [DHCP_OFFER]: "offer",
  [DHCP_REQUEST]: "request",
  [DHCP_DECLINE]: "decline",
  [DHCP_ACK]: "ack",
  [DHCP_NAK]: "nak",
  [DHCP_RELEASE]: "release",
};
/** The states with an exchange under way, the only ones a reply can belong to. */
const WAITING: ReadonlySet<DhcpState> = new Set(["selecting", "requesting", "rebooting", "renewing", "rebinding"]);

export const DHCP_CLIENT_DEFAULTS: DhcpClientOptions = {
  parameterRequestList: [1, 3, 6, 12, 15, 51, 58, 59],
  retransmitMs: 4000,
  retransmitMaxMs: 64_000,
  jitterMs: 1000,
  requestTries: 4,
  renewRetryMinMs: 60_000,
  probe: ARP_PROBE_DEFAULTS,
  declineWaitMs: 10_000,
  maxConflicts: 10,
  conflictRateLimitMs: 60_000,
};

/** An address a host may hold: not 0.x, loopback, multicast, reserved or broadcast. */
function usable(ip: Ip4): boolean {
  const first = ip >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

/** The class mask, for a server that never sends option 1. */
function classMask(ip: Ip4): Ip4 {
  const first = ip >>> 24;
  return first < 128 ? 0xff000000 : first < 192 ? 0xffff0000 : 0xffffff00;
}

function sameList(a: Ip4[], b: Ip4[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether two leases configure the host the same way (timers and server aside). */
function sameConfig(a: DhcpLease, b: DhcpLease): boolean {
  return (
    a.ip === b.ip &&
    a.mask === b.mask &&
    sameList(a.routers, b.routers) &&
    sameList(a.dnsServers, b.dnsServers) &&
    a.hostName === b.hostName &&
    a.domainName === b.domainName
  );
}

export class DhcpClient {
  onBound: ((lease: DhcpLease) => void) | undefined;
  /** The same configuration, for a longer time. */
  onRenewed: ((lease: DhcpLease) => void) | undefined;
  /** A renewal or rebinding changed the address or the options. */
  onChanged: ((lease: DhcpLease, previous: DhcpLease) => void) | undefined;
  /** The address was removed from the netif. */
  onLost: ((reason: DhcpLossReason) => void) | undefined;
  onStateChange: ((state: DhcpState, previous: DhcpState) => void) | undefined;

  private readonly options: DhcpClientOptions;
  private readonly pcb: UdpPcb;
  private readonly clientId: Uint8Array;
  private current: DhcpState = "stopped";
  private held: DhcpLease | undefined; // the lease the netif is configured from
  private offer: { ip: Ip4; serverId: Ip4; mask: Ip4 | undefined } | undefined;
  private rebootIp = 0;
  private xid = 0;
  private exchangeStart = 0; // when the exchange's first message went out (for secs)
  private sentAt = 0; // when the first message in this state went out: a lease runs from its REQUEST
  private tries = 0;
  private conflicts = 0; // in a row, since the last lease was bound
  private retry: Timer | undefined;
  private leaseTimer: Timer | undefined;
  private readonly conflictHook = (claimant: Mac): boolean => this.conflicted(claimant);

  constructor(
    private readonly stack: Stack,
    options: Partial<DhcpClientOptions> = {},
  ) {
    this.options = { ...DHCP_CLIENT_DEFAULTS, ...options };
    const mac = stack.netif.mac;
    this.clientId = options.clientId ?? Uint8Array.of(1, ...mac);
    this.pcb = stack.udp.pcb();
  }

  get state(): DhcpState {
    return this.current;
  }

  /** The lease in use, or after stop() the one that was: remember its address for INIT-REBOOT. */
  get lease(): DhcpLease | undefined {
    return this.held;
  }

  /** Binds port 68 and starts acquiring a lease, in INIT-REBOOT when one is remembered. False if the port is taken. */
  start(): boolean {
    if (this.current !== "stopped") return true;
    if (!this.pcb.bind(DHCP_CLIENT_PORT).ok) return false;
    this.pcb.recv((data) => this.input(data)); // close() forgets the callback
    this.stack.arp.onConflict = this.conflictHook;
    const remembered = this.held?.ip ?? this.options.lease?.ip;
    this.held = undefined;
    if (remembered !== undefined && usable(remembered)) this.reboot(remembered);
    else this.discover();
    return true;
  }

  /** Renews now instead of waiting for T1 (as lwIP's dhcp_renew). False when there is no lease to renew. */
  renew(): boolean {
    if (this.current !== "bound") return false;
    this.renewing();
    return true;
  }

  /** Gives the lease back to its server, removes the address and stops. */
  release(): void {
    const lease = this.held;
    if (lease && this.current !== "stopped") {
      this.xid = this.stack.random.u32();
      const m = this.message(DHCP_RELEASE, { serverId: lease.serverId });
      m.ciaddr = lease.ip;
      this.send(m, lease.serverId, lease.ip);
      this.lose("released");
    }
    this.stop();
  }

  /**
   * Stops without telling the server, removing the address: the lease stays valid there,
   * and `lease` stays readable so that the next start (of this client or, after a reboot,
   * of one given `options.lease`) asks for the same address in INIT-REBOOT.
   */
  stop(): void {
    if (this.held && this.current !== "stopped") this.stack.netif.setAddress({ ip: 0, mask: 0, gateway: 0 });
    this.cancelTimers();
    this.pcb.close();
    if (this.stack.arp.onConflict === this.conflictHook) this.stack.arp.onConflict = undefined;
    this.setState("stopped");
  }

  // ---- the exchanges ----

  private discover(): void {
    this.exchange("selecting");
  }

  private reboot(ip: Ip4): void {
    this.rebootIp = ip;
    this.exchange("rebooting");
  }

  private renewing(): void {
    this.exchange("renewing");
    this.scheduleLease(this.held!.rebindingTime, () => this.exchange("rebinding"));
  }

  /** Starts a new exchange (a fresh xid) in `state` and sends its first message. */
  private exchange(state: DhcpState): void {
    this.xid = this.stack.random.u32();
    this.exchangeStart = this.stack.clock.now();
    this.offer = undefined;
    if (state === "rebinding") this.scheduleLease(this.held!.leaseTime, () => this.expire());
    this.transmitIn(state);
  }

  /** Enters `state` (the xid unchanged) and sends its first message. */
  private transmitIn(state: DhcpState): void {
    this.retry?.cancel();
    this.tries = 0;
    this.sentAt = this.stack.clock.now();
    this.setState(state);
    this.transmit();
  }

  private transmit(): void {
    const lease = this.held;
    switch (this.current) {
      case "selecting":
        this.send(this.message(DHCP_DISCOVER, {}), IP_BROADCAST, 0);
        break;
      case "requesting":
        this.send(this.message(DHCP_REQUEST, { requestedIp: this.offer!.ip, serverId: this.offer!.serverId }), IP_BROADCAST, 0);
        break;
      case "rebooting":
        this.send(this.message(DHCP_REQUEST, { requestedIp: this.rebootIp }), IP_BROADCAST, 0);
        break;
      case "renewing":
      case "rebinding": {
        const m = this.message(DHCP_REQUEST, {});
        m.ciaddr = lease!.ip;
        this.send(m, this.current === "renewing" ? lease!.serverId : IP_BROADCAST, lease!.ip);
        break;
      }
    }
    this.tries++;
    this.retry = this.stack.clock.setTimer(this.retryDelay(), () => this.retransmit());
  }

  private retransmit(): void {
    const giveUp = (this.current === "requesting" || this.current === "rebooting") && this.tries >= this.options.requestTries;
    if (giveUp) {
      this.stack.event("dhcp", `no answer to ${this.tries} requests; starting over`);
      return this.discover();
    }
    this.transmit();
  }

  /** RFC 2131 4.1 backoff, or 4.4.5's half of the time left while renewing or rebinding. */
  private retryDelay(): number {
    const o = this.options;
    const lease = this.held;
    if (lease && (this.current === "renewing" || this.current === "rebinding")) {
      const end = this.current === "renewing" ? lease.rebindingTime : lease.leaseTime;
      const left = lease.acquiredAt + end * 1000 - this.stack.clock.now();
      return Math.max(o.renewRetryMinMs, left / 2);
    }
    const base = Math.min(o.retransmitMs * 2 ** (this.tries - 1), o.retransmitMaxMs);
    const jitter = (this.stack.random.u32() % (2 * o.jitterMs + 1)) - o.jitterMs;
    return Math.max(0, base + jitter);
  }

  /** A client message of `type` for the current exchange, with the options every message of that type carries. */
  private message(type: number, extra: DhcpOptions): DhcpMessage {
    const o = this.options;
    const options: DhcpOptions = { messageType: type, clientId: this.clientId, ...extra };
    const asking = type === DHCP_DISCOVER || type === DHCP_REQUEST; // DECLINE and RELEASE carry no requests and secs 0
    if (asking) {
      options.maxMessageSize = Math.max(576, o.maxMessageSize ?? this.stack.netif.mtu);
      options.parameterRequestList = o.parameterRequestList;
      if (o.vendorClass !== undefined) options.vendorClass = o.vendorClass;
      if (o.hostName !== undefined) options.hostName = o.hostName;
    }
    const m = bootRequest(this.xid, this.stack.netif.mac, options);
    if (asking) m.secs = Math.min(0xffff, Math.floor((this.stack.clock.now() - this.exchangeStart) / 1000));
    return m;
  }

  private send(m: DhcpMessage, dst: Ip4, src: Ip4): void {
    const data = new Uint8Array(dhcpLength(m));
    encodeDhcp(m, data);
    this.stack.stats.count(`dhcp.tx.${NAMES[m.options.messageType!]}`);
    this.pcb.sendTo(data, dst, DHCP_SERVER_PORT, src);
  }

  // ---- replies ----

  private input(data: Uint8Array): void {
    const stats = this.stack.stats;
    const r = decodeDhcp(data);
    if (!r.ok) return stats.drop(r.reason);
    const m = r.value;
    if (m.op !== BOOTP_REPLY) return stats.drop("dhcp-not-reply");
    if (!WAITING.has(this.current)) return stats.drop("dhcp-unexpected");
    if (m.xid !== this.xid) return stats.drop("dhcp-bad-xid");
    if (m.chaddr.length !== 6 || !macEqual(m.chaddr, this.stack.netif.mac)) return stats.drop("dhcp-bad-chaddr");
    const type = m.options.messageType;
    if (type === DHCP_OFFER && this.current === "selecting") return this.offered(m);
    if ((type !== DHCP_ACK && type !== DHCP_NAK) || this.current === "selecting") return stats.drop("dhcp-unexpected");
    if (!this.fromOurServer(m.options.serverId)) return stats.drop("dhcp-bad-server");
    stats.count(`dhcp.rx.${NAMES[type]}`);
    if (type === DHCP_NAK) return this.nak(m);
    this.acked(m);
  }

  /** Whether a reply's server identifier is the one this exchange talks to (any server while rebooting or rebinding). */
  private fromOurServer(id: Ip4 | undefined): boolean {
    if (id === undefined) return false;
    if (this.current === "requesting") return id === this.offer!.serverId;
    if (this.current === "renewing") return id === this.held!.serverId;
    return true;
  }

  private offered(m: DhcpMessage): void {
    const stats = this.stack.stats;
    const serverId = m.options.serverId;
    if (serverId === undefined) return stats.drop("dhcp-no-server-id");
    if (!usable(m.yiaddr)) return stats.drop("dhcp-bad-yiaddr");
    stats.count("dhcp.rx.offer");
    this.offer = { ip: m.yiaddr, serverId, mask: m.options.subnetMask };
    this.stack.event("dhcp", `offer of ${ipToString(m.yiaddr)} from ${ipToString(serverId)}`);
    this.transmitIn("requesting"); // same xid as the DISCOVER and OFFER
  }

  private nak(m: DhcpMessage): void {
    this.stack.event("dhcp", `NAK from ${ipToString(m.options.serverId!)}${m.options.message ? `: ${m.options.message}` : ""}`);
    if (this.held) this.lose("nak");
    this.discover();
  }

  private acked(m: DhcpMessage): void {
    const stats = this.stack.stats;
    const renewal = this.current === "renewing" || this.current === "rebinding";
    const wanted = this.current === "requesting" ? this.offer!.ip : this.current === "rebooting" ? this.rebootIp : undefined;
    if (wanted !== undefined ? m.yiaddr !== wanted : !usable(m.yiaddr)) return stats.drop("dhcp-bad-yiaddr");
    if (m.options.leaseTime === undefined) return stats.drop("dhcp-no-lease-time");
    const lease = this.leaseFrom(m);
    this.retry?.cancel();
    if (renewal || !this.options.probe) return this.bind(lease);
    this.setState("probing");
    this.stack.arp.probe(
      lease.ip,
      (conflict) => {
        if (this.current !== "probing" || this.xid !== m.xid) return; // stopped meanwhile
        if (conflict) return this.decline(lease, conflict);
        this.bind(lease);
      },
      this.options.probe,
    );
  }

  /** The lease an ACK grants; what a renewal's ACK leaves out keeps its earlier value. */
  private leaseFrom(m: DhcpMessage): DhcpLease {
    const o = m.options;
    const before = this.held?.ip === m.yiaddr ? this.held : undefined;
    const mask = o.subnetMask ?? before?.mask ?? this.offer?.mask ?? classMask(m.yiaddr);
    const routers = o.routers?.filter(usable) ?? before?.routers ?? [];
    const dnsServers = o.dnsServers?.filter(usable) ?? before?.dnsServers ?? [];
    const leaseTime = Math.max(o.leaseTime!, MIN_LEASE_SECONDS);
    let t2 = o.rebindingTime ?? INFINITE;
    let t1 = o.renewalTime ?? INFINITE;
    if (leaseTime !== INFINITE) {
      if (!(t2 > 0 && t2 < leaseTime)) t2 = (leaseTime * 7) / 8;
      if (!(t1 > 0 && t1 < t2)) t1 = leaseTime / 2 < t2 ? leaseTime / 2 : t2 / 2;
    }
    const lease: DhcpLease = {
      ip: m.yiaddr,
      mask,
      gateway: routers[0] ?? 0,
      routers,
      dnsServers,
      serverId: o.serverId!,
      leaseTime,
      renewalTime: t1,
      rebindingTime: t2,
      acquiredAt: this.sentAt,
    };
    const hostName = o.hostName ?? before?.hostName;
    const domainName = o.domainName ?? before?.domainName;
    if (hostName !== undefined) lease.hostName = hostName;
    if (domainName !== undefined) lease.domainName = domainName;
    return lease;
  }

  private bind(lease: DhcpLease): void {
    const netif = this.stack.netif;
    const previous = this.held;
    this.held = lease;
    this.conflicts = 0;
    const reconfigure = !previous || previous.ip !== lease.ip || previous.mask !== lease.mask || previous.gateway !== lease.gateway;
    if (reconfigure) netif.setAddress({ ip: lease.ip, mask: lease.mask, gateway: lease.gateway });
    this.stack.event("dhcp", `bound ${ipToString(lease.ip)} mask ${ipToString(lease.mask)} for ${lease.leaseTime} s from ${ipToString(lease.serverId)}`);
    this.setState("bound");
    this.scheduleLease(lease.renewalTime, () => this.renewing());
    if (!previous) this.onBound?.(lease);
    else if (sameConfig(previous, lease)) this.onRenewed?.(lease);
    else this.onChanged?.(lease, previous);
  }

  /** RFC 5227 found the address in use: tell the server, wait, start over. */
  private decline(lease: DhcpLease, conflict: Mac): void {
    this.stack.event("dhcp", `${ipToString(lease.ip)} is in use by ${macToString(conflict)}; declining`);
    this.send(this.message(DHCP_DECLINE, { requestedIp: lease.ip, serverId: lease.serverId }), IP_BROADCAST, 0);
    this.setState("init");
    const o = this.options;
    const wait = ++this.conflicts >= o.maxConflicts ? Math.max(o.declineWaitMs, o.conflictRateLimitMs) : o.declineWaitMs;
    this.retry = this.stack.clock.setTimer(wait, () => this.discover());
  }

  /** ARP gave our address up to another host: decline the lease and start over. False when no lease is in use. */
  private conflicted(claimant: Mac): boolean {
    const lease = this.held;
    if (!lease || (this.current !== "bound" && this.current !== "renewing" && this.current !== "rebinding")) return false;
    this.lose("conflict");
    this.decline(lease, claimant);
    return true;
  }

  private expire(): void {
    this.stack.event("dhcp", "lease expired");
    this.lose("expired");
    this.discover();
  }

  /** Removes the address and tells the application. */
  private lose(reason: DhcpLossReason): void {
    this.cancelTimers();
    this.held = undefined;
    this.stack.netif.setAddress({ ip: 0, mask: 0, gateway: 0 });
    this.onLost?.(reason);
  }

  /** Runs `then` when `seconds` of the held lease have passed (never, for an infinite lease). */
  private scheduleLease(seconds: number, then: () => void): void {
    this.leaseTimer?.cancel();
    this.leaseTimer = undefined;
    if (this.held!.leaseTime === INFINITE) return;
    const clock = this.stack.clock;
    this.leaseTimer = clock.setTimer(Math.max(0, this.held!.acquiredAt + seconds * 1000 - clock.now()), then);
  }

  private cancelTimers(): void {
    this.retry?.cancel();
    this.leaseTimer?.cancel();
    this.retry = this.leaseTimer = undefined;
  }

  private setState(state: DhcpState): void {
    const previous = this.current;
    if (state === previous) return;
    this.current = state;
    this.stack.event("dhcp", `${previous} -> ${state}`);
    this.onStateChange?.(state, previous);
  }
}
