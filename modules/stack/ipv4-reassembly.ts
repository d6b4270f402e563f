// IPv4 reassembly (RFC 791 3.2, RFC 815), bounded in datagrams, bytes, fragments and
// time. Fragments must tile the datagram exactly: one that overlaps another (other than
// an exact duplicate) drops the whole datagram, as Linux does and RFC 5722 requires for
// IPv6, so content can never be rewritten under a still-valid checksum. A full table
// evicts its oldest datagram for a new one, so stray fragments cannot block reassembly.

import type { Clock, Timer } from "../platform.ts";
import type { Ipv4Decoded } from "../wire/ipv4.ts";
import type { Ipv4Drop } from "./drops.ts";
import type { Stats } from "./stats.ts";

/** Ipv4Options' reassembly settings (see there). */
export interface ReassemblyLimits {
  /** Datagrams being reassembled at once, count. */
  slots: number;
  /** Largest datagram reassembled, bytes. */
  maxBytes: number;
  /** Fragments per datagram, count. */
  maxFragments: number;
  /** From the first fragment, ms. */
  timeoutMs: number;
}

/** A reassembled datagram: its payload, and the header of its first fragment (for ICMP quotes). */
export interface Reassembled {
  header: Uint8Array;
  payload: Uint8Array;
  broadcast: boolean; // any fragment came by broadcast
}

interface Part {
  offset: number;
  data: Uint8Array;
}

interface Slot {
  parts: Part[];
  bytes: number; // sum of the parts' lengths
  total: number; // known once the last fragment arrived, else -1
  first: Uint8Array | undefined; // header of the offset-0 fragment
  broadcast: boolean;
  timer: Timer;
}

export class Ipv4Reassembly {
  private readonly slots = new Map<string, Slot>(); // oldest first

  constructor(
    private readonly clock: Clock,
    private readonly stats: Stats,
    private readonly limits: ReassemblyLimits,
  ) {}

  /** Takes one fragment (`header` is its IP header); returns the datagram once it is whole. */
  add(p: Ipv4Decoded, header: Uint8Array, broadcast: boolean): Reassembled | undefined {
    const stats = this.stats;
    const offset = p.fragmentOffsetBytes;
    const end = offset + p.payload.length;
    // RFC 791: every fragment but the last carries a multiple of 8 bytes (and some).
    if (p.mf && (p.payload.length === 0 || p.payload.length % 8 !== 0)) return void stats.drop("ip-fragment-bad-length");
    const key = `${p.src}/${p.dst}/${p.protocol}/${p.id}`;
    const found = this.slots.get(key);
    if (end > this.limits.maxBytes || (found && found.parts.length >= this.limits.maxFragments)) {
      if (found) this.close(key, found);
      return void stats.drop("ip-reassembly-too-big");
    }
    const slot = found ?? this.open(key);
    const why = this.conflict(slot, offset, end, p.mf);
    if (why === "duplicate") return void stats.drop("ip-fragment-duplicate");
    if (why) return this.abandon(key, slot, why);
    slot.parts.push({ offset, data: p.payload.slice() });
    slot.bytes += p.payload.length;
    slot.broadcast ||= broadcast;
    if (!p.mf) slot.total = end;
    if (offset === 0) slot.first = header.slice();
    stats.count("ip.fragments");
    // Parts never overlap and all lie below the total, so a full count means no hole.
    if (slot.bytes !== slot.total || !slot.first) return undefined;
    this.close(key, slot);
    const payload = new Uint8Array(slot.total);
    for (const part of slot.parts) payload.set(part.data, part.offset);
    return { header: slot.first, payload, broadcast: slot.broadcast };
  }

  /** Why [offset, end) cannot join the slot's parts: a reason to drop the datagram, "duplicate", or undefined. */
  private conflict(slot: Slot, offset: number, end: number, mf: boolean): Ipv4Drop | "duplicate" | undefined {
    if (!mf && slot.total >= 0 && end !== slot.total) return "ip-reassembly-past-end"; // two different last fragments
    const total = mf ? slot.total : end;
    if (total >= 0 && (end > total || slot.parts.some((q) => q.offset + q.data.length > total))) return "ip-reassembly-past-end";
    for (const q of slot.parts) {
      const qEnd = q.offset + q.data.length;
      if (q.offset === offset && qEnd === end) return "duplicate";
      if (offset < qEnd && q.offset < end) return "ip-reassembly-overlap";
    }
    return undefined;
  }

  private open(key: string): Slot {
    if (this.slots.size >= this.limits.slots) {
      const [oldKey, oldest] = this.slots.entries().next().value!;
      this.abandon(oldKey, oldest, "ip-reassembly-evicted");
    }
    const timer = this.clock.setTimer(this.limits.timeoutMs, () => {
      this.slots.delete(key);
      this.stats.drop("ip-reassembly-timeout");
    });
    const slot: Slot = { parts: [], bytes: 0, total: -1, first: undefined, broadcast: false, timer };
    this.slots.set(key, slot);
    return slot;
  }

  private abandon(key: string, slot: Slot, reason: Ipv4Drop): undefined {
    this.close(key, slot);
    this.stats.drop(reason);
    return undefined;
  }

  private close(key: string, slot: Slot): void {
    slot.timer.cancel();
    this.slots.delete(key);
  }
}
