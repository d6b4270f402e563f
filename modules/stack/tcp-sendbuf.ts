// A connection's send buffer: the bytes from `seq` on, unacknowledged then unsent, in one
// array allocated on the first write and compacted only when a write would run off its end.
// The bytes never start before ROOM, so a segment of them is copied into a frame together
// with the room its headers take (wire/bytes.ts copyAfterHeadroom: one native copy).

import { TCP_MAX_OPTIONS_LEN, TCP_MIN_HEADER_LEN } from "../wire/tcp.ts";
import { HEADROOM } from "./ipv4.ts";
import { seqAdd, seqDiff } from "./tcp-seq.ts";

const ROOM = HEADROOM + TCP_MIN_HEADER_LEN + TCP_MAX_OPTIONS_LEN;

export class SendBuffer {
  /** The sequence number of the first byte held. */
  seq = 0;
  private buf: Uint8Array | undefined;
  private head = ROOM;
  private len = 0;

  constructor(readonly capacity: number) {}

  /** Bytes held: unacknowledged plus unsent. */
  get length(): number {
    return this.len;
  }

  /** Where `seq` lies from the first byte held. */
  offset(seq: number): number {
    return seqDiff(seq, this.seq);
  }

  /** Appends `data`, which must fit in capacity - length. */
  write(data: Uint8Array): void {
    const end = ROOM + this.capacity;
    const buf = (this.buf ??= new Uint8Array(end));
    if (this.head + this.len + data.length > end) {
      buf.copyWithin(ROOM, this.head, this.head + this.len);
      this.head = ROOM;
    }
    buf.set(data, this.head + this.len);
    this.len += data.length;
  }

  /** `len` bytes from `off` bytes past the first one held, without copying. */
  bytes(off: number, len: number): Uint8Array {
    return this.buf!.subarray(this.head + off, this.head + off + len);
  }

  /** Forgets the first `n` bytes, which the peer acknowledged. */
  consume(n: number): void {
    this.head += n;
    this.len -= n;
    this.seq = seqAdd(this.seq, n);
    if (this.len === 0) this.head = ROOM;
  }

  /** Frees the memory; the connection is gone. */
  release(): void {
    this.buf = undefined;
  }
}
