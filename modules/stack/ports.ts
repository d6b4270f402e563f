// Ephemeral ports for TCP and UDP: a random free port in the dynamic range (RFC 6335),
// searched from a random start (RFC 6056's simple algorithm), so they are hard to guess.

import type { Random } from "../platform.ts";
import type { Result } from "../wire/result.ts";

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

/** Why bind, listen or connect refused. */
export type OpenError =
  | "port-in-use" // the port, or the connection's addresses and ports, are taken
  | "no-pcb" // the table of pcbs (or listeners) is full
  | "no-address" // the interface has no address yet
  | "bad-port" // not a port number from 1 to 65535
  | "bad-address"; // a broadcast, multicast or unset destination

export type OpenResult<T> = Result<T, OpenError>;

export function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= 0xffff;
}
