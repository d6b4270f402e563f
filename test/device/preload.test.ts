// Preloading: Moddable's linker runs a preloaded module's body at build time and keeps what it
// made in flash, so only what must run on the device at boot stays in RAM. Every module the
// firmware reaches from main is preloaded but main, the app and the board's network bring-up
// (they start the interface), each by its exact name: mcconfig matches a preload pattern with
// "*" against JavaScript modules only, never TypeScript ones. That the preloaded modules work
// frozen, as the linker leaves them, the host program shows: test/device/host-device.test.ts
// runs them so (native/host-device/preload.c).

import test from "ava";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, runtimeImports, resolveSpecifier } from "../../native/host-device/manifest-model.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const MODDABLE = new Set(["timer", "time", "file", "wifi", "ethernet", "mc/config"]);
const AT_BOOT = ["main", "netstack/device/app", "netstack/device/network"];

for (const app of ["manifests/app/manifest.json", "manifests/app/manifest_spiffs.json"]) {
  for (const platform of ["esp32", "esp32/wt32_eth01", "esp32/ethernet_kit"]) {
    test(`${app} for ${platform}: every module but main, the app and network is preloaded by name`, (t) => {
      const b = build(resolve(ROOT, app), platform);
      const reached = new Set<string>();
      const visit = (name: string) => {
        if (reached.has(name) || MODDABLE.has(name) || !b.modules.has(name)) return;
        reached.add(name);
        for (const spec of runtimeImports(b.modules.get(name)!, b.compilerOptions)) visit(resolveSpecifier(name, spec));
      };
      visit("main");
      t.true(reached.size > 40, `${reached.size} modules reached`);
      const preload = new Set(b.preload);
      t.deepEqual(
        [...reached].filter((m) => !preload.has(m) && !AT_BOOT.includes(m)),
        [],
        "reached, not preloaded",
      );
      t.deepEqual(
        AT_BOOT.filter((m) => preload.has(m)),
        [],
        "run at boot, so not preloaded",
      );
      t.deepEqual(
        b.preload.filter((m) => m.includes("*") || !b.modules.has(m)),
        [],
        "a pattern, or no module of that name",
      );
    });
  }
}
