// The network interface: Ethernet in and out over an injected Link, the address
// configuration, statistics and an optional trace hook. Upper layers register a
// handler per ethertype, so this file knows nothing above Ethernet.

import type { Ip4, Mac } from "../wire/address.ts";
import { ethernetPayloadOffset, ETH_DST_OFFSET, ETH_HEADER_LEN, ETH_SRC_OFFSET, ETH_TYPE_OFFSET } from "../wire/ethernet.ts";
import type { Clock, Link, Random } from "../platform.ts";
import { Stats } from "./stats.ts";

const MIN_FRAME = 60;

export type EthernetHandler = (payload: Uint8Array, broadcast: boolean) => void;

/** What a trace hook sees: frames in and out, and protocol events in between. */
export type NetEvent = { kind: "rx" | "tx"; frame: Uint8Array } | { kind: "event"; layer: string; text: string };

export interface AddressConfig {
  /** Our IPv4 address; 0 for none. */
  ip: Ip4;
  /** The subnet mask; 0 for none. */
  mask: Ip4;
  /** The default router; 0 for none (then only the subnet is reached). */
  gateway: Ip4;
}

export interface NetifOptions extends Partial<AddressConfig> {
  /** The interface's Ethernet address (6 bytes); no default. */
  mac: Mac;
  /** Largest IPv4 datagram sent or expected, in bytes (the Ethernet payload). */
  mtu?: number;
}

/** The address defaults to 0.0.0.0/0 with no gateway, until DHCP or setAddress gives one. */
export const NETIF_DEFAULTS: Omit<Required<NetifOptions>, "mac"> = { mtu: 1500, ip: 0, mask: 0, gateway: 0 };

export class Netif {
  readonly mac: Mac;
  readonly mtu: number;
  /** The largest frame the link cuts into TCP segments itself (Link.tso); 0 when it does not. */
  readonly tsoMaxFrame: number;
  ip: Ip4;
  mask: Ip4;
  gateway: Ip4;
  readonly stats = new Stats();
  onEvent: ((e: NetEvent) => void) | undefined;
  private readonly handlers = new Map<number, EthernetHandler>();
  // Our MAC as its first two bytes and last four, compared with a frame's in two reads.
  private readonly macHigh: number;
  private readonly macLow: number;
  private readonly addressListeners: Array<(old: Ip4) => void> = [];

  constructor(
    private readonly link: Link,
    readonly clock: Clock,
    readonly random: Random,
    options: NetifOptions,
  ) {
    this.mac = options.mac.slice(0, 6);
    const m = new DataView(this.mac.buffer);
    this.macHigh = m.getUint16(0);
    this.macLow = m.getUint32(2);
    this.mtu = options.mtu ?? NETIF_DEFAULTS.mtu;
    this.tsoMaxFrame = link.tso?.maxFrame ?? 0;
    this.ip = options.ip ?? NETIF_DEFAULTS.ip;
    this.mask = options.mask ?? NETIF_DEFAULTS.mask;
    this.gateway = options.gateway ?? NETIF_DEFAULTS.gateway;
    link.setReceiver((frame) => this.input(frame));
  }

  register(ethertype: number, handler: EthernetHandler): void {
    this.handlers.set(ethertype, handler);
  }

  /** Called when the address changes (the ARP layer announces the new one). */
  onAddressChange(listener: (old: Ip4) => void): void {
    this.addressListeners.push(listener);
  }

  setAddress(config: AddressConfig): void {
    const old = this.ip;
    this.ip = config.ip >>> 0;
    this.mask = config.mask >>> 0;
    this.gateway = config.gateway >>> 0;
    this.event("netif", `address ${config.ip === old ? "refreshed" : "changed"}`);
    for (const l of this.addressListeners) l(old);
  }

  /** The single entry point for received frames. It never throws. */
  input(frame: Uint8Array): void {
    this.stats.count("eth.rx");
    this.onEvent?.({ kind: "rx", frame });
    try {
      this.dispatch(frame);
    } catch (e) {
      // A bug must not take the device down; count it so tests notice.
      this.stats.drop("internal-error");
      this.event("netif", `internal error: ${String(e)}`);
    }
  }

  /**
   * Sends a frame whose first ETH_HEADER_LEN bytes are reserved for the Ethernet header;
   * `segment` (TCP over a link with TSO) as Link.transmit says.
   */
  send(frame: Uint8Array, dst: Mac, ethertype: number, segment?: number): void {
    if (frame.length < MIN_FRAME) {
      const padded = new Uint8Array(MIN_FRAME); // Ethernet's minimum frame, without FCS
      padded.set(frame);
      frame = padded;
    }
    frame.set(dst.length === 6 ? dst : dst.subarray(0, 6), ETH_DST_OFFSET);
    frame.set(this.mac, ETH_SRC_OFFSET);
    frame[ETH_TYPE_OFFSET] = ethertype >>> 8;
    frame[ETH_TYPE_OFFSET + 1] = ethertype & 0xff;
    this.stats.count("eth.tx");
    this.onEvent?.({ kind: "tx", frame });
    if (segment) this.link.transmit(frame, segment);
    else this.link.transmit(frame);
  }

  event(layer: string, text: string): void {
    this.onEvent?.({ kind: "event", layer, text });
  }

  /** True when `ip` is on our subnet (and we have an address). */
  isLocal(ip: Ip4): boolean {
    return this.mask !== 0 && ((ip ^ this.ip) & this.mask) === 0;
  }

  isSubnetBroadcast(ip: Ip4): boolean {
    const m = this.mask;
    // Every host bit set comes first: it fails at once for the unicast addresses asked most.
    return ~(ip | m) === 0 && m !== 0 && m !== 0xffffffff && ((ip ^ this.ip) & m) === 0;
  }

  /**
   * Reads the header in place through one DataView, the addresses as a 16- and a 32-bit word
   * each: on XS, a record, MAC copies or six byte compares per address cost more than the rest.
   */
  private dispatch(frame: Uint8Array): void {
    const off = ethernetPayloadOffset(frame);
    if (typeof off === "string") return this.stats.drop(off);
    const v = new DataView(frame.buffer, frame.byteOffset, ETH_HEADER_LEN);
    const dstHigh = v.getUint16(ETH_DST_OFFSET);
    const broadcast = (dstHigh & 0x100) !== 0; // the destination's group bit: broadcast or multicast
    if (!broadcast && (v.getUint32(ETH_DST_OFFSET + 2) !== this.macLow || dstHigh !== this.macHigh)) return this.stats.drop("eth-not-for-us");
    if (v.getUint32(ETH_SRC_OFFSET + 2) === this.macLow && v.getUint16(ETH_SRC_OFFSET) === this.macHigh) return this.stats.drop("eth-own-frame");
    const handler = this.handlers.get(off === ETH_HEADER_LEN ? v.getUint16(ETH_TYPE_OFFSET) : (frame[off - 2]! << 8) | frame[off - 1]!);
    if (!handler) return this.stats.drop("eth-unknown-type");
    handler(frame.subarray(off), broadcast);
  }
}
