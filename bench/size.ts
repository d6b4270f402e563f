// The size of the firmware's JavaScript, esbuild-minified, as the bench reports it: the whole
// firmware (modules/device/app.ts with every module it imports, Moddable's own left out) for
// the Wi-Fi and the Ethernet boards, the stack alone, and what each service adds to the stack.
// The device's wire/checksum is the native one (modules/device/checksum.ts), as its manifest
// maps it. Only esbuild runs: no root, no XS.

import { build, type Plugin } from "esbuild";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEVICE = join(ROOT, "modules/device");
const MODDABLE = ["timer", "time", "file", "wifi", "ethernet", "mc/config"];

/** Each service by the module a firmware imports for it. */
export const SERVICES = {
  DHCP: "modules/services/dhcp-client.ts",
  DNS: "modules/services/dns-resolver.ts",
  TFTP: "modules/services/tftp-server.ts",
  FTP: "modules/services/ftp-server.ts",
  HTTP: "modules/services/http-server.ts",
} as const;

export interface Sizes {
  /** The firmware per board. */
  firmware: Record<string, number>;
  /** createStack with every layer. */
  stack: number;
  /** What each service adds to the stack. */
  services: Record<keyof typeof SERVICES, number>;
}

function asOnTheDevice(network: string): Plugin {
  return {
    name: "device",
    setup(b) {
      b.onResolve({ filter: /^\.\/checksum\.ts$/ }, (a) => (a.importer.includes("/modules/wire/") ? { path: join(DEVICE, "checksum.ts") } : undefined));
      b.onResolve({ filter: /^\.\/network\.ts$/ }, (a) => (a.importer.startsWith(DEVICE) ? { path: join(DEVICE, network) } : undefined));
    },
  };
}

/** Minified bytes of the modules `code` imports, as the device resolves them. */
async function minified(code: string, network = "network.ts"): Promise<number> {
  const r = await build({
    stdin: { contents: code, resolveDir: ROOT, loader: "ts" },
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    minify: true,
    external: MODDABLE,
    plugins: [asOnTheDevice(network)],
    logLevel: "silent",
  });
  return r.outputFiles[0]!.contents.length;
}

const STACK = `export * from "./modules/stack/stack.ts";`;

export async function sizes(): Promise<Sizes> {
  const app = `import "./modules/device/app.ts";`;
  const firmware = {
    "esp32 (Wi-Fi)": await minified(app, "network.ts"),
    "wt32_eth01 / ethernet_kit": await minified(app, "network-ethernet.ts"),
  };
  const stack = await minified(STACK);
  const services = {} as Sizes["services"];
  for (const [name, file] of Object.entries(SERVICES)) {
    services[name as keyof typeof SERVICES] = (await minified(`${STACK}\nexport * from "./${file}";`)) - stack;
  }
  return { firmware, stack, services };
}

export function printSizes(s: Sizes): void {
  const b = (n: number, sign = "") => `${sign}${n}`.padStart(10);
  console.log("\nfirmware JavaScript, esbuild --minify, bytes (Moddable's modules excluded)");
  for (const [board, n] of Object.entries(s.firmware)) console.log(`${b(n)}  the firmware (stack, DHCP, TFTP, FTP, HTTP, device port): ${board}`);
  console.log(`${b(s.stack)}  the stack alone (netif, ARP, IPv4, ICMP, UDP, TCP)`);
  for (const [name, n] of Object.entries(s.services)) console.log(`${b(n, "+")}  ${name}: what it adds to the stack`);
}
