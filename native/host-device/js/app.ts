// The host program's script: the device firmware (modules/device/app.ts) as it runs on an
// ESP32 with Ethernet, over this program's stand-ins for Moddable's modules. The top level is
// what the manifests preload: the modules app.ts imports, but network.ts, with all they
// import. app.ts and network.ts run in __main, once main.c has frozen the rest and applied the
// app's creation sizes, as they run at boot on the device.

import "./prelude.ts";
import "./config.ts";
import "./file.ts";
import "../../../modules/device/link.ts";
import "../../../modules/device/clock.ts";
import "../../../modules/device/random.ts";
import "../../../modules/device/storage.ts";
import "../../../modules/firmware/firmware.ts";
import "../../../modules/wire/address.ts";

declare function require(path: string): unknown; // esbuild's: the module runs when called

globalThis.__main = () => require("../../../modules/device/app.ts");
