// ARP (RFC 826): responder, a bounded cache with aging, a bounded queue of frames
// waiting for resolution, rate-limited requests, gratuitous announcements, the RFC 5227
// probe the DHCP client uses to detect an address conflict, and the defence of our
// address (RFC 5227 2.4). An entry in use is asked again shortly before it expires, by
// unicast and then by broadcast (as lwIP does), so traffic never waits on a new request.

import { type Ip4, type Mac, BROADCAST_MAC, ZERO_MAC, macAt, macEqual, macToString, readMac } from "../wire/address.ts";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_HEADER_LEN } from "../wire/ethernet.ts";
import {
  arpView,
  readArp,
  writeArp,
  ARP_LEN,
  ARP_OP_OFFSET,
  ARP_REPLY,
  ARP_REQUEST,
  ARP_SENDER_IP_OFFSET,
  ARP_SENDER_MAC_OFFSET,
  ARP_TARGET_IP_OFFSET,
  type ArpPacket,
} from "../wire/arp.ts";
import type { Timer } from "../platform.ts";
import type { Netif } from "./netif.ts";

export interface ArpOptions {
  /** Neighbours cached, count; a full cache evicts the oldest entry never sent to. */
  cacheSize: number;
  /** A learned entry is forgotten after this long, ms. */
  maxAgeMs: number;
  /** Frames queued per unresolved neighbour, count; the oldest makes room. */
  pendingPerHost: number;
  /** Unresolved neighbours at once, count; a new one evicts the oldest. */
  pendingHosts: number;
  /** Minimum gap between requests for one target, ms. */
  retryMs: number;
  /** Requests sent before the queued frames are dropped, count. */
  tries: number;
  /** An entry in use is asked again by unicast this long before it expires, by broadcast at half of it, ms. */
  refreshMs: number;
  /** RFC 5227 DEFEND_INTERVAL: a second conflict within it gives our address up, ms. */
  defendIntervalMs: number;
}

export const ARP_DEFAULTS: ArpOptions = {
  cacheSize: 16,
  maxAgeMs: 300_000,
  pendingPerHost: 2,
  pendingHosts: 8,
  retryMs: 1000,
  tries: 3,
  refreshMs: 30_000,
  defendIntervalMs: 10_000,
};

/** The RFC 5227 probe that checks an address is free before it is used. */
export interface ArpProbeOptions {
  /** ARP probes sent, count (RFC 5227 PROBE_NUM). */
  probes: number;
  /** Gap between probes, ms. */
  intervalMs: number;
  /** Wait after the last probe for an answer, ms. */
  waitMs: number;
}

export const ARP_PROBE_DEFAULTS: ArpProbeOptions = { probes: 3, intervalMs: 1000, waitMs: 2000 };

interface Entry {
  mac: Mac;
  expires: number;
  used: boolean; // sent to since learned: such entries are evicted last
  asked: 0 | 1 | 2; // refresh requests sent: none, unicast, broadcast
}

interface Pending {
  frames: Uint8Array[];
  segments: Array<number | undefined>; // each frame's Link.transmit segment, if any
  tries: number;
  timer: Timer;
}

type ProbeListener = (packet: ArpPacket) => void;

const MIN_FRAME = Math.max(60, ETH_HEADER_LEN + ARP_LEN); // Ethernet's minimum, without FCS

export class Arp {
  private readonly cache = new Map<Ip4, Entry>();
  private readonly pending = new Map<Ip4, Pending>();
  private readonly probeListeners = new Set<ProbeListener>();
  private readonly options: ArpOptions;
  private lastConflict = Number.NEGATIVE_INFINITY;
  /**
   * Called when another host keeps claiming our address, which we then give up (RFC
   * 5227 2.4). The DHCP client takes it to decline its lease; returns false when it
   * holds none, and then the address is simply removed.
   */
  onConflict: ((claimant: Mac) => boolean) | undefined;

  constructor(
    private readonly netif: Netif,
    options: Partial<ArpOptions> = {},
  ) {
    this.options = { ...ARP_DEFAULTS, ...options };
    netif.register(ETHERTYPE_ARP, (payload) => this.input(payload));
    netif.onAddressChange(() => this.announce());
  }

  lookup(ip: Ip4): Mac | undefined {
    return this.entry(ip)?.mac;
  }

  private entry(ip: Ip4): Entry | undefined {
    const e = this.cache.get(ip);
    if (!e) return undefined;
    if (e.expires <= this.netif.clock.now()) {
      this.cache.delete(ip);
      return undefined;
    }
    return e;
  }

  /**
   * Sends an IPv4 frame (Ethernet header space reserved) to the neighbour `nextHop`,
   * queueing it while the neighbour's address is resolved; `segment` goes with it to netif.send.
   */
  send(frame: Uint8Array, nextHop: Ip4, segment?: number): void {
    const e = this.entry(nextHop);
    if (e) {
      this.refresh(nextHop, e);
      return this.netif.send(frame, e.mac, ETHERTYPE_IPV4, segment);
    }
    let p = this.pending.get(nextHop);
    if (!p) {
      if (this.pending.size >= this.options.pendingHosts) this.evictPending();
      p = { frames: [], segments: [], tries: 0, timer: { cancel() {} } };
      this.pending.set(nextHop, p);
      this.request(nextHop, p);
    }
    if (p.frames.length >= this.options.pendingPerHost) {
      p.frames.shift(); // keep the newest: it is the one the application is waiting on
      p.segments.shift();
      this.netif.stats.drop("arp-pending-overflow");
    }
    p.frames.push(segment ? frame.slice() : frame); // a frame with a segment is only lent (Link.tso)
    p.segments.push(segment);
  }

  /** Broadcasts a gratuitous ARP request for our own address (RFC 5227 announcement). */
  announce(): void {
    if (this.netif.ip === 0) return;
    this.transmit(ARP_REQUEST, BROADCAST_MAC, ZERO_MAC, this.netif.ip, this.netif.ip);
    this.netif.event("arp", "announce");
  }

  /**
   * RFC 5227 probe: asks whether anyone holds `ip`, `probes` times `intervalMs` apart,
   * then waits `waitMs`. Calls back with the conflicting MAC, or undefined when the
   * address is free.
   */
  probe(ip: Ip4, done: (conflict: Mac | undefined) => void, options: ArpProbeOptions = ARP_PROBE_DEFAULTS): void {
    const { probes, intervalMs, waitMs } = options;
    const clock = this.netif.clock;
    let sent = 0;
    let timer: Timer;
    const listener: ProbeListener = (p) => {
      const claims = p.senderIp === ip;
      const probesToo = p.op === ARP_REQUEST && p.senderIp === 0 && p.targetIp === ip && !macEqual(p.senderMac, this.netif.mac);
      if (claims || probesToo) finish(p.senderMac);
    };
    const finish = (conflict: Mac | undefined) => {
      timer.cancel();
      this.probeListeners.delete(listener);
      done(conflict);
    };
    const step = () => {
      if (sent === probes) return finish(undefined);
      this.transmit(ARP_REQUEST, BROADCAST_MAC, ZERO_MAC, 0, ip);
      sent++;
      timer = clock.setTimer(sent === probes ? waitMs : intervalMs, step);
    };
    this.probeListeners.add(listener);
    step();
  }

  /** Reads the packet in place: on XS, a record and two MAC copies per packet cost more than the rest. */
  private input(b: Uint8Array): void {
    const stats = this.netif.stats;
    const v = arpView(b);
    if (typeof v === "string") return stats.drop(v);
    stats.count("arp.rx");
    if (this.probeListeners.size) {
      const p = readArp(b, v);
      for (const l of [...this.probeListeners]) l(p);
    }
    const op = v.getUint16(ARP_OP_OFFSET);
    const senderIp = v.getUint32(ARP_SENDER_IP_OFFSET);
    const targetIp = v.getUint32(ARP_TARGET_IP_OFFSET);
    if (v.getUint32(ARP_SENDER_MAC_OFFSET) === 0xffffffff && v.getUint16(ARP_SENDER_MAC_OFFSET + 4) === 0xffff) return stats.drop("arp-bad-sender");
    const ours = this.netif.ip;
    // Our own address is never learned: someone else claims it.
    if (ours !== 0 && senderIp === ours) return macAt(b, ARP_SENDER_MAC_OFFSET, this.netif.mac) ? undefined : this.conflict(readMac(b, ARP_SENDER_MAC_OFFSET));
    const forUs = ours !== 0 && targetIp === ours;
    // RFC 826: refresh an entry we hold; add one only when the packet is aimed at us.
    // A probe (sender 0.0.0.0) teaches nothing, but is answered so the prober sees the conflict.
    const learn = senderIp !== 0 && (forUs || this.cache.has(senderIp) || this.pending.has(senderIp));
    const learned = learn ? this.learn(senderIp, readMac(b, ARP_SENDER_MAC_OFFSET)) : undefined;
    if (op === ARP_REQUEST && forUs) {
      const mac = learned ?? readMac(b, ARP_SENDER_MAC_OFFSET);
      this.transmit(ARP_REPLY, mac, mac, ours, senderIp);
    } else if (!forUs && op === ARP_REQUEST) {
      stats.drop("arp-not-for-us");
    }
  }

  /**
   * RFC 5227 2.4 (b): the first conflict is answered with one announcement; a second
   * within DEFEND_INTERVAL gives the address up.
   */
  private conflict(claimant: Mac): void {
    const now = this.netif.clock.now();
    const stats = this.netif.stats;
    if (now - this.lastConflict >= this.options.defendIntervalMs) {
      this.lastConflict = now;
      stats.count("arp.defended");
      this.netif.event("arp", `address conflict with ${macToString(claimant)}: defending`);
      return this.announce();
    }
    this.lastConflict = Number.NEGATIVE_INFINITY;
    stats.count("arp.conflict-lost");
    this.netif.event("arp", `address conflict with ${macToString(claimant)}: giving the address up`);
    if (!this.onConflict?.(claimant)) this.netif.setAddress({ ip: 0, mask: 0, gateway: 0 });
  }

  /** Asks a neighbour in use again before its entry expires: first itself, then everyone. */
  private refresh(ip: Ip4, e: Entry): void {
    e.used = true;
    const left = e.expires - this.netif.clock.now();
    const stage = left <= this.options.refreshMs / 2 ? 2 : left <= this.options.refreshMs ? 1 : 0;
    if (stage <= e.asked) return;
    e.asked = stage;
    this.netif.stats.count("arp.refresh");
    this.transmit(ARP_REQUEST, stage === 1 ? e.mac : BROADCAST_MAC, ZERO_MAC, this.netif.ip, ip);
  }

  /** `mac` is a copy of the packet's, so the entry keeps it; returns it. */
  private learn(ip: Ip4, mac: Mac): Mac {
    const clock = this.netif.clock;
    const was = this.cache.get(ip);
    this.cache.delete(ip); // re-insert so Map order is least recently learned first
    if (this.cache.size >= this.options.cacheSize) {
      this.cache.delete(this.victim());
      this.netif.stats.count("arp.evicted");
    }
    const p = this.pending.get(ip); // frames waiting for it: it is in use
    this.cache.set(ip, { mac, expires: clock.now() + this.options.maxAgeMs, used: (was?.used ?? false) || p !== undefined, asked: 0 });
    if (!p) return mac;
    p.timer.cancel();
    this.pending.delete(ip);
    for (let i = 0; i < p.frames.length; i++) this.netif.send(p.frames[i]!, mac, ETHERTYPE_IPV4, p.segments[i]);
    return mac;
  }

  /** Makes room for a new neighbour: answers to spoofed sources must not block the ones we need. */
  private evictPending(): void {
    const [ip, p] = this.pending.entries().next().value!;
    p.timer.cancel();
    this.pending.delete(ip);
    for (let i = 0; i < p.frames.length; i++) this.netif.stats.drop("arp-pending-evicted");
  }

  /** The oldest entry never sent to, else the oldest: a flood of requests cannot push out the neighbours we talk to. */
  private victim(): Ip4 {
    for (const [ip, e] of this.cache) if (!e.used) return ip;
    return this.cache.keys().next().value!;
  }

  private request(ip: Ip4, p: Pending): void {
    if (p.tries === this.options.tries) {
      this.pending.delete(ip);
      for (let i = 0; i < p.frames.length; i++) this.netif.stats.drop("arp-timeout");
      return;
    }
    p.tries++;
    this.transmit(ARP_REQUEST, BROADCAST_MAC, ZERO_MAC, this.netif.ip, ip);
    p.timer = this.netif.clock.setTimer(this.options.retryMs, () => this.request(ip, p));
  }

  private transmit(op: number, ethDst: Mac, targetMac: Mac, senderIp: Ip4, targetIp: Ip4): void {
    const frame = new Uint8Array(MIN_FRAME); // padded already, so netif.send need not copy it
    writeArp(frame, ETH_HEADER_LEN, op, this.netif.mac, senderIp, targetMac, targetIp);
    this.netif.stats.count("arp.tx");
    this.netif.send(frame, ethDst, ETHERTYPE_ARP);
  }
}
