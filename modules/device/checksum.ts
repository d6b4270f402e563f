// The Internet checksum in C (netstack.c), a drop-in for wire/checksum.ts. The device's
// manifest gives this file the module name netstack/wire/checksum, so IPv4, ICMP, UDP and
// TCP call the native loop without knowing; a checksum loop in interpreted JavaScript is the
// hot path on a 240 MHz MCU. Every function answers exactly what its TypeScript twin answers
// (test/device/checksum.test.ts), which stays the fallback wherever this file is not mapped.
// Only types come from the twin: this module must not import it at run time, because on the
// device "./checksum.js" would resolve to this very module.

/// <reference path="./xs-native.d.ts" />
import type * as portable from "../wire/checksum.ts";

export function sum16(this: unknown, b: Uint8Array, start: number, end: number, sum?: number): number {
  return native<typeof portable.sum16>("xs_netstack_sum16").call(this, b, start, end, sum);
}

export function finish(this: unknown, sum: number): number {
  return native<typeof portable.finish>("xs_netstack_finish").call(this, sum);
}

export function checksum(this: unknown, b: Uint8Array, start?: number, end?: number, initial?: number): number {
  return native<typeof portable.checksum>("xs_netstack_checksum").call(this, b, start, end, initial);
}

export function pseudoHeaderSum(this: unknown, src: number, dst: number, protocol: number, length: number): number {
  return native<typeof portable.pseudoHeaderSum>("xs_netstack_pseudo_header_sum").call(this, src, dst, protocol, length);
}

export function updateChecksum(this: unknown, oldChecksum: number, oldWord: number, newWord: number): number {
  return native<typeof portable.updateChecksum>("xs_netstack_update_checksum").call(this, oldChecksum, oldWord, newWord);
}
