// Runs first in the host program's script: Moddable's native()/Native(). On the device, xsc
// compiles native("name") and Native("name") into host functions and host constructors; here
// they are looked up by name in the host program's table. The script's top level is preloaded
// (main.c), which makes its Maps read-only, so every host function is looked up now.

/// <reference path="./host.d.ts" />

const hostFunctions = new Map<string, (...args: never[]) => unknown>(__hostNames().map((name) => [name, __native(name)]));
const g = globalThis as Record<string, unknown>;

g.native = (name: string) => {
  const f = hostFunctions.get(name);
  if (!f) throw new Error(`no host function ${name}`);
  return f;
};

g.Native = (destructor: string) =>
  class {
    constructor() {
      // The derived class's instance is a host object, so the destructor runs when XS collects it.
      // biome-ignore lint/correctness/noConstructorReturn: the instance must be the host object
      return Object.setPrototypeOf(__hostObject(destructor), new.target.prototype) as object;
    }
  };
