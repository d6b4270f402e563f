// Ephemeral ports for TCP and UDP: a random free port in the dynamic range (RFC 6335),
// searched from a random start (RFC 6056's simple algorithm), so they are hard to guess.

import type { Random } from "../platform.ts";

export const EPHEMERAL_FIRST = 49152;
export const EPHEMERAL_COUNT = 16384;

/** A port of the dynamic range that `taken` says is free, or 0 when none is. */
export function ephemeralPort(random: Random, taken: (port: number) => boolean): number {
  const start = random.u32() % EPHEMERAL_COUNT;
  for (let i = 0; i < EPHEMERAL_COUNT; i++) {
    const port = EPHEMERAL_FIRST + ((start + i) % EPHEMERAL_COUNT);
    if (!taken(port)) return port;
  }
  return 0;
}
