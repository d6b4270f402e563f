// What the portable modules are handed by their port (device glue or host simulator):
// a clock with timers, a random source and a link. Nothing in modules/ reaches for
// globals, so the same code runs on XS, on Node and under a virtual clock.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since an arbitrary epoch; never goes backwards. */
  now(): number;
  /** Calls `cb` once, `delayMs` from now. */
  setTimer(delayMs: number, cb: () => void): Timer;
}

export interface Random {
  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number;
}

/** The link below the stack: frames go down with transmit; the port delivers received frames to the receiver. */
export interface Link {
  /**
   * Sends `frame`, which is the link's from then on. `segment` comes only on a link with `tso`,
   * and only with an IPv4/TCP frame whose checksum field holds just the pseudo-header's sum: the
   * link finishes the checksum, and cuts a payload longer than `segment` bytes into segments of
   * that size, each with its own headers.
   */
  transmit(frame: Uint8Array, segment?: number): void;
  setReceiver(receiver: (frame: Uint8Array) => void): void;
  /**
   * TCP segmentation and checksum offload, which a host's TAP offers and an ESP32's Wi-Fi does
   * not: the link takes frames of up to `maxFrame` bytes (Ethernet header included) as above,
   * and is done with a frame that comes with a `segment` when transmit returns, so the stack
   * may build the next one in the same bytes.
   */
  readonly tso?: { readonly maxFrame: number };
}
