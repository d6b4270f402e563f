import test from "ava";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, runtimeImports, resolveSpecifier } from "../../native/host-device/manifest-model.ts";
import { checkConfig } from "../../modules/firmware/config.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const at = (p: string) => resolve(ROOT, p);
/** Modules that Moddable's own manifests provide. */
const MODDABLE = new Set(["timer", "time", "file", "wifi", "mc/config"]);
const WIFI = "$(MODULES)/network/wifi/manifest.json";
const ETHERNET_KIT_PINS = { mdc: 23, mdio: 18, clock: { mode: "EMAC_CLK_EXT_IN", gpio: 0 }, phy: { address: 1, reset: 5 } };
const WT32_PINS = { mdc: 23, mdio: 18, clock: { mode: "EMAC_CLK_EXT_IN", gpio: 0 }, phy: { address: 1, reset: -1 }, power: 16 };

const BOARDS = [
  { platform: "esp32", network: "modules/device/network.ts", glue: "netstack_wifi.c", moddable: [WIFI], queue: 16, eth: undefined },
  { platform: "esp32/nodemcu", network: "modules/device/network.ts", glue: "netstack_wifi.c", moddable: [WIFI], queue: 16, eth: undefined },
  { platform: "esp32/wt32_eth01", network: "modules/device/network-ethernet.ts", glue: "netstack_eth.c", moddable: [], queue: 32, eth: WT32_PINS },
  { platform: "esp32/ethernet_kit", network: "modules/device/network-ethernet.ts", glue: "netstack_eth.c", moddable: [], queue: 32, eth: ETHERNET_KIT_PINS },
];

for (const app of ["manifests/app/manifest.json", "manifests/app/manifest_spiffs.json"]) {
  for (const board of BOARDS) {
    test(`${app} for ${board.platform}: every import from main resolves, on the device, to a module the manifests list`, (t) => {
      const b = build(at(app), board.platform);
      t.deepEqual(b.errors, []);
      const unresolved: string[] = [];
      const reached = new Set<string>();
      const visit = (name: string) => {
        if (reached.has(name) || MODDABLE.has(name)) return;
        reached.add(name);
        const source = b.modules.get(name);
        if (!source) return void unresolved.push(name);
        for (const spec of runtimeImports(source, b.compilerOptions)) visit(resolveSpecifier(name, spec));
      };
      visit("main");
      t.deepEqual(unresolved, []);
      t.true(
        reached.has("netstack/services/ftp-server") &&
          reached.has("netstack/services/http-server") &&
          reached.has("netstack/services/tftp-server") &&
          reached.has("netstack/services/dhcp-client"),
      );
      // The board's pieces: its bring-up module and C glue, Moddable's network manifests (none
      // on Ethernet: Moddable's ethernet module calls the PHY drivers ESP-IDF 6.0 removed), its defines.
      t.is(b.modules.get("netstack/device/network"), at(board.network));
      t.deepEqual(
        b.moddable.filter((m) => m.includes("/network/")),
        board.moddable,
      );
      const netstack = b.defines.netstack as { queue: number; eth?: unknown };
      t.is(netstack.queue, board.queue);
      t.deepEqual(netstack.eth, board.eth);
      t.deepEqual(b.cFiles.sort(), [at("modules/device/netstack.c"), at(`modules/device/${board.glue}`)].sort());
      // Moddable's own wt32_eth01 target pulls in its ethernet module and a setup/ethernet that
      // would start it at boot: the board leaves them out.
      t.deepEqual(b.moddableExcluded.filter((m) => m.includes("/network/ethernet/")).length, board.platform === "esp32/wt32_eth01" ? 4 : 0);
      t.deepEqual(b.idfComponents.sort(), ["esp_netif", "lwip", ...(board.eth ? ["esp_driver_gpio", "esp_eth"] : [])].sort());
    });
  }
}

test("the host program's mc.defines.h stand-in holds the WT32-ETH01's defines, which its host build and tests run with", (t) => {
  const text = readFileSync(at("modules/device/host/mc.defines.h"), "utf8");
  const defines = new Map([...text.matchAll(/^#define (MODDEF_\w+) \(?([^)\s]+)\)?$/gm)].map((m) => [m[1]!, m[2]!]));
  const b = build(at("manifests/app/manifest.json"), "esp32/wt32_eth01");
  const expected = new Map<string, string>();
  const flatten = (prefix: string, value: unknown) => {
    if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) flatten(`${prefix}_${k.toUpperCase()}`, v);
    else expected.set(prefix, String(value));
  };
  flatten("MODDEF_NETSTACK", b.defines.netstack);
  t.deepEqual(defines, expected);
});

test("the native checksum takes the name of wire/checksum, which the portable one gives up, and imports nothing at run time", (t) => {
  const b = build(at("manifests/app/manifest.json"), "esp32");
  t.is(b.modules.get("netstack/wire/checksum"), at("modules/device/checksum.ts"));
  t.false([...b.modules.values()].includes(at("modules/wire/checksum.ts")));
  t.deepEqual(runtimeImports(at("modules/device/checksum.ts"), b.compilerOptions), []);
  // Without the substitution, the codecs would reach the portable file through this name.
  t.is(
    resolveSpecifier("netstack/wire/ipv4", runtimeImports(at("modules/wire/ipv4.ts"), b.compilerOptions).find((s) => s.includes("checksum"))!),
    "netstack/wire/checksum",
  );
});

test("the file system is LittleFS by default and SPIFFS in manifest_spiffs.json, each with its FileStorage under the name the app imports", (t) => {
  const lfs = build(at("manifests/app/manifest.json"), "esp32");
  const spiffs = build(at("manifests/app/manifest_spiffs.json"), "esp32");
  t.true(lfs.moddable.includes("$(MODULES)/files/file/manifest_littlefs.json"));
  t.false(lfs.moddable.includes("$(MODULES)/files/file/manifest.json"));
  t.true(spiffs.moddable.includes("$(MODULES)/files/file/manifest.json"));
  t.false(spiffs.moddable.includes("$(MODULES)/files/file/manifest_littlefs.json"));
  t.is(lfs.modules.get("netstack/device/storage"), at("modules/device/storage.ts"));
  t.is(spiffs.modules.get("netstack/device/storage"), at("modules/device/storage-spiffs.ts"));
  for (const b of [spiffs, lfs]) t.is(b.modules.get("netstack/device/file-store"), at("modules/device/file-store.ts"));
});

test("TypeScript sources are compiled with their .ts imports rewritten to the .js names XS resolves", (t) => {
  const b = build(at("manifests/app/manifest.json"), "esp32");
  const imports = runtimeImports(at("modules/stack/stack.ts"), b.compilerOptions);
  t.true(imports.length > 0);
  t.true(
    imports.every((s) => s.endsWith(".js")),
    imports.join(" "),
  );
});

test("a platform without a block is refused with the app's error, and the app's sizes are in its creation section", (t) => {
  t.deepEqual(build(at("manifests/app/manifest.json"), "pico").errors.length > 0, true);
  const b = build(at("manifests/app/manifest.json"), "esp32");
  const creation = b.creation as { chunk: { initial: number }; heap: { initial: number } };
  t.true(creation.chunk.initial > 0 && creation.heap.initial > 0);
});

test("each board's config.netstack is a valid firmware config with its TCP bounds, and the Wi-Fi board's smaller creation keeps no growth", (t) => {
  type Creation = { chunk: { initial: number; incremental: number }; heap: { initial: number; incremental: number }; keys: { initial: number } };
  const of = (platform: string) => {
    const b = build(at("manifests/app/manifest.json"), platform);
    const checked = checkConfig((b.config as { netstack: unknown }).netstack);
    if (!checked.ok) throw new Error(`${platform}: ${checked.reason}`);
    return { tcp: checked.value.tcp, creation: b.creation as Creation, hostname: checked.value.hostname };
  };
  const wifi = of("esp32");
  const eth = of("esp32/wt32_eth01");
  t.deepEqual(of("esp32/ethernet_kit"), eth);
  t.is(wifi.hostname, "netstack", "the app's own config is kept beside the board's");
  t.deepEqual([wifi.tcp?.maxPcbs, wifi.tcp?.maxTimeWait, eth.tcp?.maxPcbs, eth.tcp?.maxTimeWait], [4, 4, 8, 8]);
  t.true(wifi.creation.heap.initial < eth.creation.heap.initial && wifi.creation.chunk.initial < eth.creation.chunk.initial);
  t.deepEqual([wifi.creation.heap.incremental, wifi.creation.chunk.incremental, wifi.creation.keys.initial], [0, 0, eth.creation.keys.initial]);
});
