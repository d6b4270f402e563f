// How the device glue (modules/device/netstack*.c) is compiled off the device: with the flags
// of the host program's Makefile (native/host-device), against lwIP 2.1's headers (Debian's
// liblwip-dev), the XS headers that @agoric/xsnap ships and our stand-ins for the ESP-IDF and
// Moddable headers (modules/device/host), with warnings and implicit declarations as errors.
// npm run build:native compiles every glue file so (a warning fails it) and writes the flags;
// the tests read both and compile only their own variants of the glue.

import { readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Every C file of the glue: the link (all boards), the Ethernet boards' and the Wi-Fi board's interface glue. */
export const GLUE_FILES = ["netstack.c", "netstack_eth.c", "netstack_wifi.c"].map((f) => join(ROOT, "modules/device", f));

/** Where npm run build:native left each glue file's object. */
export const glueObject = (file: string) => join(ROOT, "build/host-device", `${basename(file, ".c")}.o`);

export const GLUE_CFLAGS = readFileSync(join(ROOT, "build/host-device/glue-cflags"), "utf8").trim().split(/\s+/);
