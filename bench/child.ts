// A child process the test watches: its output collected as it comes, a way to wait for a
// line, and a teardown that ends it (SIGTERM) and waits for its exit.

import { spawn, type ChildProcess } from "node:child_process";
import type { Teardown } from "./netns.ts";

export class Child {
  text = "";
  readonly exited: Promise<number | null>;

  constructor(
    t: Teardown,
    readonly process: ChildProcess,
  ) {
    process.stdout?.setEncoding("utf8").on("data", (d: string) => (this.text += d));
    process.stderr?.setEncoding("utf8").on("data", (d: string) => (this.text += d));
    this.exited = new Promise((resolve) => process.once("exit", (code) => resolve(code)));
    t.teardown(async () => {
      if (process.exitCode === null && process.signalCode === null) process.kill("SIGTERM");
      await this.exited;
    });
  }

  /** Starts `file` with `args`. */
  static spawn(t: Teardown, file: string, args: readonly string[]): Child {
    return new Child(t, spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] }));
  }

  /** Resolves to the first match of `pattern` in the output after `from`; rejects after `ms` or if the process ends first. */
  async wait(pattern: RegExp, ms: number, what: string, from = 0): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.text.slice(from));
      if (m) return m;
      const ended = this.process.exitCode !== null || this.process.signalCode !== null;
      if (ended || Date.now() > end) throw new Error(`${ended ? "exited" : "timed out"} waiting for ${what}; output so far:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
