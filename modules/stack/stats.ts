// Counters per layer, and every dropped frame counted under the reason it was dropped.

import type { DropReason } from "./drops.ts";

export type { DropReason } from "./drops.ts";

export class Stats {
  readonly counters: Record<string, number> = {};
  readonly drops: Partial<Record<DropReason, number>> = {};

  count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  drop(reason: DropReason): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  toJSON(): { counters: Record<string, number>; drops: Partial<Record<DropReason, number>> } {
    return { counters: { ...this.counters }, drops: { ...this.drops } };
  }
}
