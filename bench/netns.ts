// Real Linux peers for tests: a network namespace of the test's own, deleted when the test ends
// (pass or fail). Needs root and iproute2. Programs run from argument arrays, never a shell.

import type { ExecutionContext } from "ava";
import { randomBytes } from "node:crypto";
import { type RunResult, mustRun, run } from "./run.ts";
import { type Mac, parseMac } from "../modules/wire/address.ts";

// One way to run programs, bench/run.ts, serves the bench and the tests alike.
export { type RunResult, mustRun, run };

let count = 0;

/** What a namespace needs of a test (ava's ExecutionContext), or of a bench run: somewhere to register its removal. */
export type Teardown = Pick<ExecutionContext, "teardown">;

export class Netns {
  #deleted = false;
  private constructor(readonly name: string) {}

  /** Creates a namespace with a unique name and a loopback that is up; the test's teardown deletes it. */
  static async create(t: Teardown, prefix = "mcu"): Promise<Netns> {
    const ns = new Netns(`${prefix}-${process.pid}-${++count}-${randomBytes(3).toString("hex")}`);
    await mustRun("ip", ["netns", "add", ns.name]);
    t.teardown(() => ns.delete());
    await ns.up("lo");
    return ns;
  }

  /** Deletes the namespace now, with the interfaces in it; teardown then has nothing left to do. */
  async delete(): Promise<void> {
    if (this.#deleted) return;
    this.#deleted = true;
    await mustRun("ip", ["netns", "del", this.name]);
  }

  /** Runs a program inside the namespace. */
  run(file: string, args: readonly string[], timeoutMs?: number): Promise<RunResult> {
    return run("ip", ["netns", "exec", this.name, file, ...args], timeoutMs);
  }

  mustRun(file: string, args: readonly string[], timeoutMs?: number): Promise<string> {
    return mustRun("ip", ["netns", "exec", this.name, file, ...args], timeoutMs);
  }

  /** Moves interface `dev` from the test's namespace into this one (an open TAP's fd stays valid; the link goes down). */
  async adopt(dev: string): Promise<void> {
    await mustRun("ip", ["link", "set", "dev", dev, "netns", this.name]);
  }

  /** Adds an address in CIDR form, e.g. "10.77.0.1/24". */
  async addAddress(dev: string, cidr: string): Promise<void> {
    await mustRun("ip", ["-n", this.name, "addr", "add", cidr, "dev", dev]);
  }

  async up(dev: string): Promise<void> {
    await mustRun("ip", ["-n", this.name, "link", "set", "dev", dev, "up"]);
  }

  async mac(dev: string): Promise<Mac> {
    const [link] = JSON.parse(await mustRun("ip", ["-n", this.name, "-j", "link", "show", "dev", dev])) as { address: string }[];
    const mac = link && parseMac(link.address);
    if (!mac) throw new Error(`no MAC for ${dev} in ${this.name}`);
    return mac;
  }
}
