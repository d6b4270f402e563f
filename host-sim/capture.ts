// Recording and replaying traffic. PcapRecorder sits between a host and its link and writes
// every frame, both ways, to a pcap file stamped with the clock's time. replay() plays a
// capture's frames into a link with their original spacing, on whatever clock it is given.

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import type { Clock, Link, Timer } from "../modules/platform.ts";
import { type Result, ok, fail } from "../modules/wire/result.ts";
import { concat } from "../modules/wire/bytes.ts";
import {
  type Capture,
  type PcapPacket,
  LINKTYPE_ETHERNET,
  PCAP_HEADER_LEN,
  decodeCapture,
  encodePcapHeader,
  encodePcapRecord,
  pcapRecordLength,
  timestampFromMs,
} from "./pcap.ts";

export interface RecorderOptions {
  /** Added to clock.now() for the stamps; a virtual clock starting at 0 otherwise records from 1970. Default 0. */
  epochMs?: number;
}

/**
 * A Link that passes frames through unchanged and appends each, either way, to a pcap file
 * as it goes, or, without a path, to memory (bytes() gives the capture so far).
 */
export class PcapRecorder implements Link {
  /** Frames recorded so far. */
  count = 0;
  readonly #inner: Link;
  readonly #clock: Clock;
  readonly #epoch: { seconds: number; nanos: number };
  #fd: number | undefined;
  /** The capture in memory, when there is no file. */
  #chunks: Uint8Array[] | undefined;
  #closed = false;
  #receiver?: (frame: Uint8Array) => void;

  constructor(inner: Link, clock: Clock, path: string | undefined, options: RecorderOptions = {}) {
    this.#inner = inner;
    this.#clock = clock;
    this.#epoch = timestampFromMs(options.epochMs ?? 0);
    if (path === undefined) this.#chunks = [];
    else this.#fd = openSync(path, "w");
    const header = new Uint8Array(PCAP_HEADER_LEN);
    encodePcapHeader(header, 0, LINKTYPE_ETHERNET);
    this.#write(header);
    inner.setReceiver((frame) => {
      this.#record(frame);
      this.#receiver?.(frame);
    });
  }

  transmit(frame: Uint8Array): void {
    this.#record(frame);
    this.#inner.transmit(frame);
  }

  setReceiver(receiver: (frame: Uint8Array) => void): void {
    this.#receiver = receiver;
  }

  /** Closes the file; frames still pass through afterwards but are no longer recorded. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#closed = true;
  }

  /** The capture recorded in memory so far, as a pcap file's bytes (empty when recording to a file). */
  bytes(): Uint8Array {
    return concat(this.#chunks ?? []);
  }

  #record(frame: Uint8Array): void {
    if (this.#closed) return;
    const packet = { ...this.#stamp(), data: frame };
    const record = new Uint8Array(pcapRecordLength(packet));
    encodePcapRecord(packet, record);
    this.#write(record);
    this.count++;
  }

  #write(bytes: Uint8Array): void {
    if (this.#fd !== undefined) writeSync(this.#fd, bytes);
    else this.#chunks?.push(bytes);
  }

  /** Epoch plus clock, added as seconds and nanoseconds: a sum in ms would blur microseconds at today's dates. */
  #stamp(): { seconds: number; nanos: number } {
    const now = timestampFromMs(this.#clock.now());
    const nanos = this.#epoch.nanos + now.nanos;
    const carry = nanos >= 1e9 ? 1 : 0;
    return { seconds: this.#epoch.seconds + now.seconds + carry, nanos: nanos - carry * 1e9 };
  }
}

/** Reads a pcap or pcapng file. I/O errors throw as usual; bad contents come back as a Result. */
export function readCaptureFile(path: string): Result<Capture> {
  return decodeCapture(new Uint8Array(readFileSync(path)));
}

export interface Replay {
  /** Frames still to be sent. */
  readonly remaining: number;
  /** Stops the replay; frames not yet sent never are. */
  cancel(): void;
}

/**
 * Transmits each packet's bytes (a fresh copy) into `link`: the first on the next clock turn,
 * each later one as long after it as it was in the capture. Stamps that go backwards send at once.
 * Fails without sending anything if a packet is not Ethernet.
 */
export function replay(packets: readonly PcapPacket[], link: Link, clock: Clock, onDone?: () => void): Result<Replay> {
  if (packets.some((p) => p.linkType !== LINKTYPE_ETHERNET)) return fail("replay-not-ethernet");
  const start = clock.now();
  const first = packets[0];
  // Differences taken in seconds and nanoseconds: ms since 1970 in a double would blur microseconds.
  const sinceFirst = (p: PcapPacket) => (p.seconds - first!.seconds) * 1000 + (p.nanos - first!.nanos) / 1e6;
  let next = 0;
  let offset = 0; // ms after start of the packet due next; never decreases
  let timer: Timer | undefined;
  const schedule = (): void => {
    if (next === packets.length) {
      timer = undefined;
      onDone?.();
      return;
    }
    offset = Math.max(offset, sinceFirst(packets[next]!));
    timer = clock.setTimer(start + offset - clock.now(), () => {
      link.transmit(packets[next++]!.data.slice());
      schedule();
    });
  };
  schedule();
  return ok({
    get remaining() {
      return packets.length - next;
    },
    cancel() {
      timer?.cancel();
      timer = undefined;
      next = packets.length;
    },
  });
}
