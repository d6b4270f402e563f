// A model of what mcconfig makes of our manifests, enough to check them without the Moddable
// SDK: includes (relative ones; $(MODDABLE) and $(MODULES) ones are Moddable's own and only
// recorded), merged in mcconfig's order (what a manifest includes first, then its own sections,
// then its platform block), the platforms rule that merges the first matching block only (the full name,
// then its parents, then "..."), module names mapped to sources, "~" excluding sources, the
// defines, config, creation and preload sections, and the typescript compiler options. Then it
// resolves imports the way XS does on the device: a relative specifier against the importing
// module's name, with ".js" dropped.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, resolve, basename } from "node:path";
import ts from "typescript";

type Json = Record<string, unknown>;

export interface Build {
  /** Module name to its source file (absolute, with extension). */
  modules: Map<string, string>;
  /** C sources. */
  cFiles: string[];
  /** Moddable's own manifests that were included ($(MODULES)/...). */
  moddable: string[];
  /** Moddable's own sources the manifests exclude ("~" entries under $(MODULES)...). */
  moddableExcluded: string[];
  /** ESP-IDF components the platform blocks depend on ({"idf": name}), which mcconfig reads only there. */
  idfComponents: string[];
  defines: Json;
  config: Json;
  creation: Json;
  /** The build section's variables, a leading "./" resolved against the manifest's directory as mcconfig does. */
  build: Record<string, string>;
  /** The preload entries of every manifest included, in order. */
  preload: string[];
  compilerOptions: Json;
  errors: string[];
}

const SOURCE_EXTENSIONS = [".ts", ".js", ".c"];

function matchPlatform(platforms: Json, platform: string): Json | undefined {
  const parts = platform.split("/");
  for (let n = parts.length; n > 0; n--) {
    const name = parts.slice(0, n).join("/");
    if (name in platforms) return platforms[name] as Json;
  }
  return platforms["..."] as Json | undefined;
}

function merge(into: Json, from: unknown): void {
  if (!from || typeof from !== "object") return;
  for (const [k, v] of Object.entries(from as Json)) {
    if (v && typeof v === "object" && !Array.isArray(v) && into[k] && typeof into[k] === "object") merge(into[k] as Json, v);
    else into[k] = v;
  }
}

/** Files a manifest source names: "dir/name" (any extension) or "dir/*". */
function expand(source: string): Array<{ name: string; path: string }> {
  const dir = dirname(source);
  const leaf = basename(source);
  if (!existsSync(dir)) return [];
  const out: Array<{ name: string; path: string }> = [];
  for (const f of readdirSync(dir).sort()) {
    const ext = SOURCE_EXTENSIONS.find((e) => f.endsWith(e) && !f.endsWith(".d.ts"));
    if (!ext) continue;
    const name = f.slice(0, -ext.length);
    if (leaf === "*" || leaf === name) out.push({ name, path: join(dir, f) });
  }
  return out;
}

export function build(manifest: string, platform: string): Build {
  const b: Build = {
    modules: new Map(),
    cFiles: [],
    moddable: [],
    moddableExcluded: [],
    idfComponents: [],
    defines: {},
    config: {},
    creation: {},
    build: {},
    preload: [],
    compilerOptions: {},
    errors: [],
  };
  const entries: Array<{ target: string; source: string }> = [];
  const excluded = new Set<string>();
  const seen = new Set<string>();

  const addModules = (modules: Json | undefined, dir: string) => {
    for (const [target, value] of Object.entries(modules ?? {})) {
      for (const s of ([] as string[]).concat(value as string | string[])) {
        if (s.startsWith("$(")) {
          if (target === "~") b.moddableExcluded.push(s);
          continue;
        }
        const source = resolve(dir, s);
        if (target === "~") for (const f of expand(source)) excluded.add(f.path);
        else entries.push({ target, source });
      }
    }
  };
  const section = (m: Json, dir: string) => {
    addModules(m.modules as Json | undefined, dir);
    merge(b.defines, m.defines);
    merge(b.config, m.config);
    merge(b.creation, m.creation);
    for (const [k, v] of Object.entries((m.build as Record<string, string> | undefined) ?? {})) b.build[k] = v.startsWith("./") ? resolve(dir, v) : v;
    b.preload.push(...([] as string[]).concat((m.preload as string | string[] | undefined) ?? []));
    merge(b.compilerOptions, ((m.typescript as Json | undefined)?.tsconfig as Json | undefined)?.compilerOptions);
    if (typeof m.error === "string") b.errors.push(m.error);
  };
  const include = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const m = JSON.parse(readFileSync(path, "utf8")) as Json;
    const dir = dirname(path);
    const includes = ([] as string[]).concat((m.include as string | string[] | undefined) ?? []);
    const block = m.platforms ? matchPlatform(m.platforms as Json, platform) : undefined;
    if (block) {
      for (const d of (block.dependency as Array<{ idf?: string }> | undefined) ?? []) if (d.idf) b.idfComponents.push(d.idf);
      includes.push(...([] as string[]).concat((block.include as string | string[] | undefined) ?? []));
    }
    for (const inc of includes) {
      if (inc.startsWith("$(")) b.moddable.push(inc);
      else include(resolve(dir, inc));
    }
    // mcconfig merges an included manifest before the one that includes it, and a manifest's own
    // sections before its platform block: the includer's, and then its block's, win.
    section(m, dir);
    if (block) section(block, dir);
  };
  include(resolve(manifest));

  for (const { target, source } of entries) {
    for (const f of expand(source)) {
      if (excluded.has(f.path)) continue;
      if (f.path.endsWith(".c")) b.cFiles.push(f.path);
      else {
        const name = target.endsWith("*") ? target.slice(0, -1) + f.name : target;
        const had = b.modules.get(name);
        if (had && had !== f.path) b.errors.push(`${name} is both ${had} and ${f.path}`);
        b.modules.set(name, f.path);
      }
    }
  }
  return b;
}

/** The import specifiers of a source once tsc has compiled it with the manifest's options (type-only imports vanish). */
export function runtimeImports(path: string, compilerOptions: Json): string[] {
  const { options } = ts.convertCompilerOptionsFromJson({ ...compilerOptions, module: "preserve" }, dirname(path));
  const js = ts.transpileModule(readFileSync(path, "utf8"), { compilerOptions: options, fileName: path }).outputText;
  return ts.preProcessFile(js, true, true).importedFiles.map((f) => f.fileName);
}

/** What XS on the device makes of `specifier` imported by module `from` (fxFindModule). */
export function resolveSpecifier(from: string, specifier: string): string {
  const name = specifier.replace(/\.m?js$/, "");
  if (!name.startsWith("./") && !name.startsWith("../")) return name;
  const parts = from.split("/").slice(0, -1);
  for (const seg of name.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== ".") parts.push(seg);
  }
  return parts.join("/");
}
