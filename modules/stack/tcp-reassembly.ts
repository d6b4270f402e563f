// Out-of-order receive data for one connection: bytes that arrive beyond a hole wait here
// until the hole fills. Offsets count from rcv.nxt. The bytes live in one ring the size of
// the receive window, allocated only while something waits, and at most `maxRanges`
// separate ranges are kept, so a peer cannot make it grow or fragment without bound. Each
// range remembers when it last grew, so SACK blocks can be reported newest first.

interface Range {
  start: number; // offset of the first byte held
  end: number; // offset just after the last byte held
  stamp: number; // when a segment last landed in it
}

export class Reassembly {
  private ring: Uint8Array | undefined;
  private head = 0; // ring index of offset 0
  private readonly ranges: Range[] = []; // sorted, disjoint and never touching
  private stamps = 0;

  constructor(
    private readonly capacity: number,
    private readonly maxRanges: number,
  ) {}

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** The ranges held, as [start, end) offsets from rcv.nxt. */
  get held(): Array<[number, number]> {
    return this.ranges.map((r) => [r.start, r.end]);
  }

  /** The `n` ranges a segment landed in most recently, newest first (RFC 2018 section 4). */
  recent(n: number): Array<[number, number]> {
    return [...this.ranges]
      .sort((a, b) => b.stamp - a.stamp)
      .slice(0, n)
      .map((r) => [r.start, r.end]);
  }

  /**
   * Keeps `data`, which starts `offset` bytes after rcv.nxt and must end within the
   * capacity. Returns false, keeping nothing, when it would need one range too many.
   */
  insert(offset: number, data: Uint8Array): boolean {
    const end = offset + data.length;
    if (data.length === 0) return true;
    const r = this.ranges;
    let i = 0;
    while (i < r.length && r[i]!.end < offset) i++;
    let j = i;
    while (j < r.length && r[j]!.start <= end) j++;
    // r[i..j) overlap or touch the new bytes and merge with them.
    if (i === j && r.length >= this.maxRanges) return false;
    const merged = { start: offset, end, stamp: ++this.stamps };
    if (i < j) {
      merged.start = Math.min(offset, r[i]!.start);
      merged.end = Math.max(end, r[j - 1]!.end);
    }
    r.splice(i, j - i, merged);
    this.write(offset, data);
    return true;
  }

  /**
   * Moves rcv.nxt forward by `n` bytes that were delivered directly, then returns a copy
   * of the held bytes that now follow rcv.nxt without a hole (moving past them too).
   */
  advance(n: number): Uint8Array | undefined {
    this.shift(n);
    const first = this.ranges[0];
    if (!first || first.start > 0) return undefined;
    const out = this.read(first.end);
    this.shift(first.end);
    return out;
  }

  private shift(n: number): void {
    const r = this.ranges;
    for (const range of r) {
      range.start = Math.max(0, range.start - n);
      range.end -= n;
    }
    while (r.length && r[0]!.end <= 0) r.shift();
    if (r.length === 0) {
      this.ring = undefined; // nothing waits: give the memory back
      this.head = 0;
    } else {
      this.head = (this.head + n) % this.capacity;
    }
  }

  private write(offset: number, data: Uint8Array): void {
    this.ring ??= new Uint8Array(this.capacity);
    const at = (this.head + offset) % this.capacity;
    const first = Math.min(data.length, this.capacity - at);
    this.ring.set(data.subarray(0, first), at);
    this.ring.set(data.subarray(first), 0);
  }

  private read(length: number): Uint8Array {
    const out = new Uint8Array(length);
    const ring = this.ring!;
    const first = Math.min(length, this.capacity - this.head);
    out.set(ring.subarray(this.head, this.head + first));
    out.set(ring.subarray(0, length - first), first);
    return out;
  }
}
