// The firmware's entry module: the app lives in modules/device/app.ts, whose relative imports
// resolve under its module name (netstack/device/app), which "main" cannot give them.

import "netstack/device/app";
