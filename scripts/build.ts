// `npm run build`: esbuild bundles of the portable stack, as the device and the XS
// tests load it, written to build/ with their sizes (plain and minified).

import { build } from "esbuild";
import { mkdirSync, statSync } from "node:fs";

const entries = { stack: "modules/stack/stack.ts" };
mkdirSync("build", { recursive: true });
for (const [name, entry] of Object.entries(entries)) {
  for (const minify of [false, true]) {
    const outfile = `build/${name}${minify ? ".min" : ""}.js`;
    await build({ entryPoints: [entry], bundle: true, format: "esm", target: "es2022", platform: "neutral", minify, outfile, logLevel: "warning" });
    console.log(`${outfile}: ${statSync(outfile).size} bytes`);
  }
}
