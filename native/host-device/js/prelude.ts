// Runs first in the host program's script: Moddable's native()/Native() and the timer
// service the host program calls back into. On the device, xsc compiles native("name") and
// Native("name") into host functions and host constructors; here they are looked up by name
// in the host program's table, once per name.

/// <reference path="./host.d.ts" />

const hostFunctions = new Map<string, (...args: never[]) => unknown>();
const g = globalThis as Record<string, unknown>;

g.native = (name: string) => {
  let f = hostFunctions.get(name);
  if (!f) hostFunctions.set(name, (f = __native(name)));
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

/** Timer callbacks by id; the host program only knows ids and due times. */
export const timers = new Map<number, () => void>();

g.__timerFire = (id: number) => timers.get(id)?.();
