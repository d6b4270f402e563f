// A small DHCP server (RFC 2131) for the simulator's virtual LAN, running on a UDP pcb of
// one of our own stacks. It hands out a small pool: DISCOVER gets an OFFER (the address
// is held for a while), REQUEST an ACK or a NAK, DECLINE sets the address aside, RELEASE
// frees it. It is authoritative: a REQUEST for an address it has not given to that client
// is NAKed. Replies go to ciaddr when the client has one and are broadcast otherwise, as
// a pcb cannot address a frame to a MAC whose owner has no IP address yet.

import { type Ip4, IP_BROADCAST, ipToString, macToString } from "../../modules/wire/address.ts";
import {
  type DhcpMessage,
  type DhcpOptions,
  BOOTP_REPLY,
  BOOTP_REQUEST,
  DHCP_ACK,
  DHCP_CLIENT_PORT,
  DHCP_DECLINE,
  DHCP_DISCOVER,
  DHCP_NAK,
  DHCP_OFFER,
  DHCP_RELEASE,
  DHCP_REQUEST,
  DHCP_SERVER_PORT,
  decodeDhcp,
  dhcpLength,
  encodeDhcp,
} from "../../modules/wire/dhcp.ts";
import type { Stack } from "../../modules/stack/stack.ts";
import type { UdpPcb } from "../../modules/stack/udp.ts";

export interface DhcpServerOptions {
  poolStart: Ip4;
  poolSize: number;
  mask: Ip4;
  /** Seconds. */
  leaseTime: number;
  /** T1 and T2 in seconds; sent only when set. */
  renewalTime?: number;
  rebindingTime?: number;
  routers?: Ip4[];
  dnsServers?: Ip4[];
  domainName?: string;
  /** How long an offered address waits for the client's REQUEST. */
  offerHoldMs: number;
  /** How long a declined address is kept out of the pool. */
  declineHoldMs: number;
}

export interface DhcpBinding {
  ip: Ip4;
  /** The client identifier in hex, or the MAC when the client sent none. */
  client: string;
  /** Clock time (ms) the offer or lease runs out. */
  expires: number;
  acked: boolean;
}

const DEFAULTS = { offerHoldMs: 60_000, declineHoldMs: 600_000 };

function clientKey(m: DhcpMessage): string {
  const id = m.options.clientId;
  return id ? `id:${Array.from(id, (b) => b.toString(16).padStart(2, "0")).join("")}` : `hw:${macToString(m.chaddr)}`;
}

export class DhcpServer {
  /** What the server hands out; tests change it between exchanges. */
  readonly options: DhcpServerOptions;
  /** Every well-formed request, with the IP destination it was sent to. */
  onRequest: ((request: DhcpMessage, to: Ip4) => void) | undefined;
  /** Sees each reply before it goes out: returns it (changed or not), or undefined to stay silent. */
  alter: ((reply: DhcpMessage, request: DhcpMessage) => DhcpMessage | undefined) | undefined;
  private readonly pcb: UdpPcb;
  private readonly bindings = new Map<Ip4, DhcpBinding>();
  private readonly declined = new Map<Ip4, number>(); // address -> until

  constructor(
    private readonly stack: Stack,
    options: Omit<DhcpServerOptions, keyof typeof DEFAULTS> & Partial<DhcpServerOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.pcb = stack.udp.pcb();
    if (!this.pcb.bind(DHCP_SERVER_PORT).ok) throw new Error("DHCP server: port 67 is taken");
    this.pcb.recv((data, _from, _port, to) => this.input(data, to));
  }

  get serverId(): Ip4 {
    return this.stack.netif.ip;
  }

  /** The live offer or lease on `ip`. */
  binding(ip: Ip4): DhcpBinding | undefined {
    const b = this.bindings.get(ip);
    return b && b.expires > this.stack.netif.clock.now() ? b : undefined;
  }

  close(): void {
    this.pcb.close();
  }

  private input(data: Uint8Array, to: Ip4): void {
    const r = decodeDhcp(data);
    if (!r.ok) return this.stack.netif.stats.drop(r.reason);
    const m = r.value;
    if (m.op !== BOOTP_REQUEST) return this.stack.netif.stats.drop("dhcp-not-request");
    this.onRequest?.(m, to);
    const key = clientKey(m);
    const sid = m.options.serverId;
    switch (m.options.messageType) {
      case DHCP_DISCOVER:
        return this.offer(m, key);
      case DHCP_REQUEST:
        if (sid !== undefined && sid !== this.serverId) return this.forgetOffer(key); // it chose another server
        return this.request(m, key);
      case DHCP_DECLINE: {
        const ip = m.options.requestedIp;
        if (sid !== this.serverId || ip === undefined || this.binding(ip)?.client !== key) return;
        this.bindings.delete(ip);
        this.declined.set(ip, this.stack.netif.clock.now() + this.options.declineHoldMs);
        return this.stack.netif.event("dhcpd", `${ipToString(ip)} declined by ${key}`);
      }
      case DHCP_RELEASE:
        if (sid === this.serverId && this.binding(m.ciaddr)?.client === key) this.bindings.delete(m.ciaddr);
        return;
      default:
        this.stack.netif.stats.drop("dhcp-unexpected");
    }
  }

  private offer(m: DhcpMessage, key: string): void {
    const ip = this.choose(key, m.options.requestedIp);
    if (ip === undefined) return this.stack.netif.event("dhcpd", `pool exhausted, no offer for ${key}`);
    const existing = this.binding(ip);
    const hold = this.stack.netif.clock.now() + this.options.offerHoldMs;
    if (!existing) this.bindings.set(ip, { ip, client: key, expires: hold, acked: false });
    else if (!existing.acked) existing.expires = hold;
    this.reply(m, DHCP_OFFER, ip);
  }

  /** SELECTING names the offer in option 50, INIT-REBOOT too; RENEWING and REBINDING in ciaddr. */
  private request(m: DhcpMessage, key: string): void {
    const ip = m.ciaddr !== 0 ? m.ciaddr : m.options.requestedIp;
    const b = ip === undefined ? undefined : this.binding(ip);
    if (!b || b.client !== key) return this.reply(m, DHCP_NAK, 0);
    b.expires = this.stack.netif.clock.now() + this.options.leaseTime * 1000;
    b.acked = true;
    this.reply(m, DHCP_ACK, b.ip);
  }

  private forgetOffer(key: string): void {
    for (const [ip, b] of this.bindings) if (b.client === key && !b.acked) this.bindings.delete(ip);
  }

  /** The client's current address, else the one it asks for if free, else the first free one. */
  private choose(key: string, requested: Ip4 | undefined): Ip4 | undefined {
    for (const b of this.bindings.values()) if (b.client === key && this.binding(b.ip)) return b.ip;
    if (requested !== undefined && this.free(requested)) return requested;
    for (let i = 0; i < this.options.poolSize; i++) {
      const ip = (this.options.poolStart + i) >>> 0;
      if (this.free(ip)) return ip;
    }
    return undefined;
  }

  private free(ip: Ip4): boolean {
    const o = this.options;
    const inPool = ip >= o.poolStart && ip < o.poolStart + o.poolSize;
    return inPool && !this.binding(ip) && !((this.declined.get(ip) ?? 0) > this.stack.netif.clock.now());
  }

  private reply(request: DhcpMessage, type: number, yiaddr: Ip4): void {
    const o = this.options;
    const options: DhcpOptions = { messageType: type, serverId: this.serverId };
    if (type !== DHCP_NAK) {
      options.leaseTime = o.leaseTime;
      if (o.renewalTime !== undefined) options.renewalTime = o.renewalTime;
      if (o.rebindingTime !== undefined) options.rebindingTime = o.rebindingTime;
      options.subnetMask = o.mask;
      if (o.routers?.length) options.routers = o.routers;
      if (o.dnsServers?.length) options.dnsServers = o.dnsServers;
      if (o.domainName !== undefined) options.domainName = o.domainName;
    }
    const draft: DhcpMessage = {
      ...request,
      op: BOOTP_REPLY,
      hops: 0,
      secs: 0,
      ciaddr: type === DHCP_ACK ? request.ciaddr : 0,
      yiaddr,
      siaddr: 0,
      sname: "",
      file: "",
      options,
    };
    const reply = this.alter ? this.alter(draft, request) : draft;
    if (!reply) return;
    const data = new Uint8Array(dhcpLength(reply));
    encodeDhcp(reply, data);
    const dst = type !== DHCP_NAK && request.ciaddr !== 0 ? request.ciaddr : IP_BROADCAST;
    this.pcb.sendTo(data, dst, DHCP_CLIENT_PORT);
  }
}
