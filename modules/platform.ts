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
  transmit(frame: Uint8Array): void;
  setReceiver(receiver: (frame: Uint8Array) => void): void;
}
