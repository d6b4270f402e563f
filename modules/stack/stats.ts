// Counters per layer, and every dropped frame counted under the reason it was dropped.
// Both are Maps: on XS a string used as a property key stays a key for the machine's life,
// and the device's key table does not grow, so names (some made from what peers send) are
// never keys. json() writes them without making keys either.

import type { DropReason } from "./drops.ts";

export type { DropReason } from "./drops.ts";

export class Stats {
  private readonly named = new Map<string, number>();
  private readonly dropped = new Map<DropReason, number>();

  get counters(): ReadonlyMap<string, number> {
    return this.named;
  }

  get drops(): ReadonlyMap<DropReason, number> {
    return this.dropped;
  }

  count(name: string, n = 1): void {
    this.named.set(name, (this.named.get(name) ?? 0) + n);
  }

  drop(reason: DropReason): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  /** `{"counters":{NAME:N,...},"drops":{REASON:N,...}}`, as JSON text. */
  json(): string {
    return `{"counters":${jsonObject(this.counters)},"drops":${jsonObject(this.drops)}}`;
  }
}

/** A Map of numbers as the text of a JSON object. */
function jsonObject(m: ReadonlyMap<string, number>): string {
  let text = "";
  for (const [name, n] of m) text += `${text ? "," : ""}${JSON.stringify(name)}:${n}`;
  return `{${text}}`;
}
