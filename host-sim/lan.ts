// A virtual Ethernet switch. Hosts attach ports; the switch learns which port each source MAC
// lives behind and forwards unicast there, flooding broadcast, multicast and unknown
// destinations. Delivery is a clock timer, so a receiver that answers at once never recurses
// into its sender, and frames sent at the same time arrive in the order they were sent.

import type { Clock, Link } from "../modules/platform.ts";
import { type Mac, isMulticastMac } from "../modules/wire/address.ts";
import { ETH_HEADER_LEN } from "../modules/wire/ethernet.ts";

export interface LanOptions {
  /** Time from transmit to delivery, in ms. Default 0.1. */
  latencyMs?: number;
  /** Most MAC addresses remembered; the least recently seen is forgotten first. Default 1024. */
  macTableSize?: number;
  /** A learned MAC not seen for this long is forgotten. Default 300 000 (five minutes, as switches commonly do). */
  macAgeMs?: number;
}

export interface LanStats {
  /** Frames sent out the single port their destination was learned on. */
  forwarded: number;
  /** Frames sent out every other port. */
  flooded: number;
  /** Frames whose destination lives on the port they came in on, so they go nowhere. */
  filtered: number;
  /** Frames too short to carry an Ethernet header. */
  runts: number;
  /** Deliveries to a port that had no receiver set. */
  noReceiver: number;
}

export interface LanPort extends Link {
  readonly name: string;
  /** Unplugs the port: it forgets its MACs and receives nothing more, including frames in flight. */
  detach(): void;
}

interface Port {
  name: string;
  receiver?: (frame: Uint8Array) => void;
  attached: boolean;
}

interface Learned {
  port: Port;
  seen: number;
}

/** A MAC as a number (48 bits fit a double exactly), to key the table. */
function macKey(b: Uint8Array, off: number): number {
  let k = 0;
  for (let i = 0; i < 6; i++) k = k * 256 + b[off + i]!;
  return k;
}

export class VirtualLan {
  readonly stats: LanStats = { forwarded: 0, flooded: 0, filtered: 0, runts: 0, noReceiver: 0 };
  readonly #clock: Clock;
  readonly #latencyMs: number;
  readonly #tableSize: number;
  readonly #ageMs: number;
  readonly #ports: Port[] = [];
  readonly #table = new Map<number, Learned>(); // kept in order of last sighting, oldest first

  constructor(clock: Clock, options: LanOptions = {}) {
    this.#clock = clock;
    this.#latencyMs = options.latencyMs ?? 0.1;
    this.#tableSize = options.macTableSize ?? 1024;
    this.#ageMs = options.macAgeMs ?? 300_000;
  }

  attach(name = `port${this.#ports.length}`): LanPort {
    const port: Port = { name, attached: true };
    this.#ports.push(port);
    return {
      name,
      transmit: (frame) => this.#ingress(port, frame),
      setReceiver: (receiver) => {
        port.receiver = receiver;
      },
      detach: () => {
        if (!port.attached) return;
        port.attached = false;
        this.#ports.splice(this.#ports.indexOf(port), 1);
        for (const [key, entry] of this.#table) if (entry.port === port) this.#table.delete(key);
      },
    };
  }

  /** Name of the port a MAC was learned on, if it is still fresh. */
  lookup(mac: Mac): string | undefined {
    return this.#find(macKey(mac, 0))?.port.name;
  }

  #ingress(from: Port, frame: Uint8Array): void {
    if (!from.attached) return;
    if (frame.length < ETH_HEADER_LEN) {
      this.stats.runts++;
      return;
    }
    this.#learn(frame, from);
    const dst = isMulticastMac(frame) ? undefined : this.#find(macKey(frame, 0));
    if (!dst) {
      this.stats.flooded++;
      for (const port of this.#ports) if (port !== from) this.#deliver(port, frame);
    } else if (dst.port === from) {
      this.stats.filtered++;
    } else {
      this.stats.forwarded++;
      this.#deliver(dst.port, frame);
    }
  }

  #learn(frame: Uint8Array, port: Port): void {
    if (isMulticastMac(frame.subarray(6))) return; // a group address is never a source
    const key = macKey(frame, 6);
    this.#table.delete(key); // re-inserting moves it to the young end
    this.#table.set(key, { port, seen: this.#clock.now() });
    if (this.#table.size > this.#tableSize) this.#table.delete(this.#table.keys().next().value!);
  }

  #find(key: number): Learned | undefined {
    const entry = this.#table.get(key);
    if (entry && this.#clock.now() - entry.seen > this.#ageMs) {
      this.#table.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Schedules a private copy for one port, so no receiver can touch the sender's buffer or another receiver's. */
  #deliver(port: Port, frame: Uint8Array): void {
    const copy = frame.slice();
    this.#clock.setTimer(this.#latencyMs, () => {
      if (!port.attached) return;
      if (port.receiver) port.receiver(copy);
      else this.stats.noReceiver++;
    });
  }
}
