// Counters per layer, and every dropped frame counted under the reason it was dropped.

export class Stats {
  readonly counters: Record<string, number> = {};
  readonly drops: Record<string, number> = {};

  count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  drop(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  toJSON(): { counters: Record<string, number>; drops: Record<string, number> } {
    return { counters: { ...this.counters }, drops: { ...this.drops } };
  }
}
