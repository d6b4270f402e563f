// A Linux TAP device as the Link under the stack, so Linux's own tools (ping, curl, tftp, ...)
// reach the simulated device. Frames the kernel sends out of the TAP interface arrive at the
// receiver; transmitted frames are received by the kernel on that interface. Needs root or
// CAP_NET_ADMIN. The device itself lives in native/tap (built by `npm ci`).

import { createRequire } from "node:module";
import { constants } from "node:os";
import { getSystemErrorName } from "node:util";
import type { Link } from "../modules/platform.ts";

/** The addon's class (native/tap/tap.c). */
interface NativeTap {
  readonly name: string;
  start(onFrames: (frames: Uint8Array[], error?: Error) => void): void;
  /** Bytes written, or a negative errno; `segment` as Link.transmit says, with offload only. */
  write(frame: Uint8Array, segment: number): number;
  close(): void;
}

type NativeTapClass = new (name: string, offload: boolean) => NativeTap;

export interface TapOptions {
  /**
   * Checksum and TCP segmentation offload (IFF_VNET_HDR, TUNSETOFFLOAD): the stack hands the
   * kernel TCP segments of up to 64 KiB with their checksums unfinished, and the kernel may
   * hand it segments that large. Off by default.
   */
  offload?: boolean;
}

export interface TapStats {
  rxFrames: number;
  txFrames: number;
  /** Frames the kernel would not take because its queue was full (EAGAIN), as a busy NIC drops them. */
  txDropped: number;
  /** Frames refused for any other reason; `lastTxError` names the latest. */
  txErrors: number;
  lastTxError?: string;
}

/** An IPv4 datagram's largest size behind its Ethernet header: what an offloading TAP takes in one frame. */
const MAX_OFFLOAD_FRAME = 14 + 65535;

const ADDON_PATH = "../native/tap/build/Release/tap.node";
let addon: NativeTapClass | undefined;

function nativeTap(): NativeTapClass {
  if (process.platform !== "linux") throw new Error("TAP links exist only on Linux");
  if (!addon) {
    try {
      addon = (createRequire(import.meta.url)(ADDON_PATH) as { Tap: NativeTapClass }).Tap;
    } catch (e) {
      throw new Error(`the TAP addon is not built (${ADDON_PATH}); run \`npm ci\` or \`npm run install\`: ${(e as Error).message}`);
    }
  }
  return addon;
}

export class TapLink implements Link {
  readonly name: string;
  readonly stats: TapStats = { rxFrames: 0, txFrames: 0, txDropped: 0, txErrors: 0 };
  /** Present when opened with offload: the stack may then hand over TCP segments this large. */
  readonly tso: { readonly maxFrame: number } | undefined;
  readonly #tap: NativeTap;
  #receiver?: (frame: Uint8Array) => void;
  #onError?: (error: Error) => void;
  #closed = false;

  private constructor(tap: NativeTap, offload: boolean) {
    this.#tap = tap;
    this.name = tap.name;
    this.tso = offload ? { maxFrame: MAX_OFFLOAD_FRAME } : undefined;
  }

  /**
   * Creates (or attaches to) TAP interface `name`; "" lets the kernel pick tapN. Throws an Error
   * whose message says "TAP needs root or CAP_NET_ADMIN" when the process lacks the privilege, and
   * whose `code` is the errno name (EPERM, ENOENT, EBUSY, ...).
   */
  static open(name = "", options: TapOptions = {}): TapLink {
    const offload = options.offload ?? false;
    return new TapLink(new (nativeTap())(name, offload), offload);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes `frame` to the kernel before returning, so the stack may reuse it; `segment` as Link.transmit says. */
  transmit(frame: Uint8Array, segment = 0): void {
    const r = this.#closed ? -constants.errno.EBADF : this.#tap.write(frame, this.tso ? segment : 0);
    if (r >= 0) this.stats.txFrames++;
    else if (getSystemErrorName(r) === "EAGAIN") this.stats.txDropped++;
    else {
      this.stats.txErrors++;
      this.stats.lastTxError = getSystemErrorName(r);
    }
  }

  /** Frames are read from the kernel once a receiver is set; until then they wait in its queue. */
  setReceiver(receiver: (frame: Uint8Array) => void): void {
    if (this.#closed) throw new Error(`TAP ${this.name} is closed`);
    const started = this.#receiver !== undefined;
    this.#receiver = receiver;
    if (!started) this.#tap.start((frames, error) => this.#deliver(frames, error));
  }

  /**
   * Called if reading fails for good (e.g. the interface was deleted); the link is closed by then.
   * Without a handler the error is thrown as an uncaught exception.
   */
  onError(handler: (error: Error) => void): void {
    this.#onError = handler;
  }

  /** Stops reading and closes the device; a TAP that is not persistent disappears with it. */
  close(): void {
    this.#closed = true;
    this.#tap.close();
  }

  #deliver(frames: Uint8Array[], error?: Error): void {
    for (const frame of frames) {
      if (this.#closed) return; // the receiver closed the link part-way through a batch
      this.stats.rxFrames++;
      this.#receiver!(frame);
    }
    if (error) {
      this.close();
      if (!this.#onError) throw error;
      this.#onError(error);
    }
  }
}
