// How the device glue (modules/device/netstack.c) is compiled off the device: against lwIP 2.1's
// headers (Debian's liblwip-dev, the version ESP-IDF's lwIP derives from), the XS headers that
// @agoric/xsnap ships, and our header of the ESP-IDF and Moddable functions it calls.

import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const GLUE = join(ROOT, "modules/device/netstack.c");
export const LWIP_INCLUDE = "/usr/include/lwip";
/** Moddable's XS as @agoric/xsnap ships it: includes, platforms, sources. */
export const XS = join(dirname(createRequire(import.meta.url).resolve("@agoric/xsnap/package.json")), "moddable/xs");

/** Warnings are errors: the glue must compile clean. */
export const GLUE_CFLAGS = [
  "-std=gnu11",
  "-Wall",
  "-Wextra",
  "-Werror",
  `-I${LWIP_INCLUDE}`,
  `-I${join(XS, "includes")}`,
  `-I${join(XS, "platforms")}`,
  `-I${join(ROOT, "modules/device")}`,
];
