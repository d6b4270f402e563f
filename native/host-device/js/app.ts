// The host program's script: the device firmware (modules/device/app.ts) as it runs on an
// ESP32 with Ethernet, over this program's stand-ins for Moddable's modules.

import "./prelude.ts";
import "../../../modules/device/app.ts";
