// The Internet checksum in C (netstack.c), a drop-in for wire/checksum.ts. The device's
// manifest gives this file the module name netstack/wire/checksum, so IPv4, ICMP, UDP and
// TCP call the native loop without knowing; a checksum loop in interpreted JavaScript is the
// hot path on a 240 MHz MCU. Every function answers exactly what its TypeScript twin answers
// (test/device/checksum.test.ts), which stays the fallback wherever this file is not mapped.
// Only types come from the twin: this module must not import it at run time, because on the
// device "./checksum.js" would resolve to this very module.

/// <reference path="./xs-native.d.ts" />
import type * as portable from "../wire/checksum.ts";

// Bound once, as the module loads: each is the host function itself, so a checksum is one
// call and no wrapper (on the host program, native() is a lookup by name; not per call).
export const sum16: typeof portable.sum16 = native("xs_netstack_sum16");
export const finish: typeof portable.finish = native("xs_netstack_finish");
export const checksum: typeof portable.checksum = native("xs_netstack_checksum");
export const pseudoHeaderSum: typeof portable.pseudoHeaderSum = native("xs_netstack_pseudo_header_sum");
export const updateChecksum: typeof portable.updateChecksum = native("xs_netstack_update_checksum");
