// Runs bundled modules on the real XS engine: the xsnap-worker binary that @agoric/xsnap builds
// from Moddable's sources. We speak the worker's netstring protocol ourselves (commands in on
// fd 3, replies out on fd 4) so the calling process needs neither SES nor the package's driver.
// Each evaluation is metered in computrons, XS's deterministic cost measure.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { build } from "esbuild";

export interface XsOptions {
  /** Wall-clock limit per evaluation; the worker is killed when it passes. */
  timeoutMs?: number;
  /** Computrons one evaluation may spend before XS aborts it (the worker then exits). */
  meteringLimit?: number;
  /** Answers the script's `issueCommand(ArrayBuffer)`; by default it gets an empty reply. */
  onCommand?: (request: Uint8Array) => Uint8Array;
}

export interface XsReply {
  /** The ArrayBuffer the evaluated code completed with; empty if it completed with anything else. */
  bytes: Uint8Array;
  /** Computrons the evaluation spent, including the promise jobs it queued. */
  computrons: number;
}

const PLATFORMS: Partial<Record<NodeJS.Platform, string>> = { linux: "lin", darwin: "mac" };

// Exit codes of xsnap-worker (its ExitCode enum).
const EXIT_REASONS: Record<number, string> = {
  0: "closed",
  1: "bad usage",
  2: "I/O error",
  11: "out of memory",
  12: "stack overflow",
  15: "unhandled exception",
  16: "no more keys",
  17: "metering limit exceeded",
};

/** Path of the xsnap-worker binary; throws a clear error when it has not been built. */
export function xsnapWorkerPath(): string {
  const platform = PLATFORMS[process.platform];
  if (!platform) throw new Error(`xsnap-worker is not built for ${process.platform}`);
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve("@agoric/xsnap/package.json"));
  } catch {
    throw new Error("@agoric/xsnap is not installed: run `npm ci`");
  }
  const bin = join(root, "xsnap-native/xsnap/build/bin", platform, "release/xsnap-worker");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: its postinstall did not run; try \`npm rebuild @agoric/xsnap\``);
  return bin;
}

/**
 * Bundles a TypeScript entry into one classic script for XS. Its exports become the global
 * `globalName`. Node built-ins do not resolve on the neutral platform, so a module that
 * reaches for one fails here rather than on the device.
 */
export async function bundleForXs(entry: string, globalName = "entry"): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    globalName,
    // The output is strict (tsconfig), where an eval's `var` stays local: publish it explicitly.
    footer: { js: `globalThis.${globalName} = ${globalName};` },
    target: "es2022",
    platform: "neutral",
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

function netstring(text: string | Uint8Array): Buffer {
  const body = typeof text === "string" ? Buffer.from(text) : Buffer.from(text);
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(",")]);
}

interface Pending {
  resolve(reply: XsReply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One XS machine in a child process. Evaluations run one at a time, in order. */
export class XsWorker {
  /** Lines the scripts printed with `print(...)`; complete once close() has resolved. */
  readonly printed: string[] = [];
  readonly #child: ChildProcess;
  readonly #toXs: Writable;
  readonly #options: Required<Pick<XsOptions, "timeoutMs">> & XsOptions;
  #inbox = Buffer.alloc(0);
  #stdout = "";
  #stderr = "";
  #pending: Pending | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #exited: Error | undefined;
  readonly #exit: Promise<void>;

  constructor(options: XsOptions = {}) {
    this.#options = { timeoutMs: 60_000, ...options };
    const args = ["xs-harness", "-l", String(options.meteringLimit ?? 1e9)];
    this.#child = spawn(xsnapWorkerPath(), args, { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
    const [, stdout, stderr, toXs, fromXs] = this.#child.stdio as [null, Readable, Readable, Writable, Readable];
    this.#toXs = toXs;
    toXs.on("error", () => {}); // a dead worker is reported through "exit"
    stdout.setEncoding("utf8").on("data", (text: string) => this.#onStdout(text));
    stderr.setEncoding("utf8").on("data", (text: string) => (this.#stderr += text));
    fromXs.on("data", (chunk: Buffer) => this.#onData(chunk));
    this.#exit = new Promise((resolve) => {
      this.#child.on("error", (e) => this.#fail(new Error(`xsnap-worker failed to start: ${e.message}`)));
      this.#child.on("close", (code, signal) => {
        const why = signal ?? EXIT_REASONS[code ?? -1] ?? `exit code ${code}`;
        this.#fail(new Error(`xsnap-worker exited (${why})${this.#stderr ? `: ${this.#stderr.trim()}` : ""}`));
        resolve();
      });
    });
  }

  /**
   * Evaluates a classic script at global scope (an indirect eval), then runs its promise jobs.
   * Rejects with the exception's text if it throws.
   */
  evaluate(code: string): Promise<XsReply> {
    const run = this.#queue.then(() => this.#send(`e${code}`));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Evaluates an expression and returns its value passed through JSON. */
  async evaluateJson<T>(expression: string): Promise<{ value: T; computrons: number }> {
    const reply = await this.evaluate(`new TextEncoder().encode(JSON.stringify((${expression})) ?? "null").buffer`);
    return { value: JSON.parse(new TextDecoder().decode(reply.bytes)) as T, computrons: reply.computrons };
  }

  /**
   * Computrons of one iteration of `fn`, a global function that repeats an operation `n`
   * times: the cost of n iterations minus the cost of none, divided by n.
   */
  async computronsPerCall(fn: string, n: number): Promise<number> {
    const base = await this.evaluate(`${fn}(0)`);
    const many = await this.evaluate(`${fn}(${n})`);
    return (many.computrons - base.computrons) / n;
  }

  /** Asks the worker to quit and waits for it; kills it if it does not. */
  async close(): Promise<void> {
    if (!this.#exited) {
      this.#toXs.end(netstring("q"));
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
      await this.#exit;
      clearTimeout(timer);
    }
  }

  #send(command: string): Promise<XsReply> {
    if (this.#exited) return Promise.reject(this.#exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new Error(`XS evaluation timed out after ${this.#options.timeoutMs} ms`));
        this.#child.kill("SIGKILL");
      }, this.#options.timeoutMs);
      this.#pending = { resolve, reject, timer };
      this.#toXs.write(netstring(command));
    });
  }

  #settle(): Pending | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) clearTimeout(pending.timer);
    return pending;
  }

  #fail(error: Error): void {
    this.#exited ??= error;
    this.#settle()?.reject(error);
  }

  #onStdout(text: string): void {
    const lines = (this.#stdout + text).split("\n");
    this.#stdout = lines.pop()!;
    this.printed.push(...lines);
  }

  // Netstrings from the worker: ".<meter json>\x01<reply>" when done, "!<error>" when the
  // code threw, "?<request>" when it called issueCommand and waits for our "/<answer>".
  #onData(chunk: Buffer): void {
    this.#inbox = Buffer.concat([this.#inbox, chunk]);
    for (;;) {
      const colon = this.#inbox.indexOf(":");
      if (colon < 0) return;
      const length = Number(this.#inbox.subarray(0, colon).toString());
      const end = colon + 1 + length;
      if (this.#inbox.length <= end) return;
      const message = this.#inbox.subarray(colon + 1, end);
      if (!Number.isInteger(length) || this.#inbox[end] !== 0x2c) {
        this.#fail(new Error("xsnap-worker protocol error: bad netstring"));
        this.#child.kill("SIGKILL");
        return;
      }
      this.#inbox = this.#inbox.subarray(end + 1);
      this.#onMessage(message);
    }
  }

  #onMessage(message: Buffer): void {
    const kind = String.fromCharCode(message[0] ?? 0);
    const body = message.subarray(1);
    if (kind === "?") {
      const answer = this.#options.onCommand?.(new Uint8Array(body)) ?? new Uint8Array(0);
      this.#toXs.write(netstring(Buffer.concat([Buffer.from("/"), answer])));
    } else if (kind === ".") {
      const separator = body.indexOf(1);
      const meter = JSON.parse(body.subarray(0, separator).toString()) as { compute: number };
      const bytes = new Uint8Array(body.subarray(separator + 1));
      this.#settle()?.resolve({ bytes, computrons: meter.compute });
    } else if (kind === "!") {
      this.#settle()?.reject(new Error(`XS threw: ${body.toString()}`));
    } else {
      this.#fail(new Error(`xsnap-worker protocol error: unexpected message ${JSON.stringify(message.toString())}`));
      this.#child.kill("SIGKILL");
    }
  }
}

/**
 * Bundles `entry` (its exports become the global `entry`), evaluates it on a fresh XS
 * machine, hands that machine to `use`, and closes it whatever happens.
 */
export async function withXsBundle<T>(entry: string, use: (xs: XsWorker) => Promise<T>, options?: XsOptions): Promise<T> {
  const code = await bundleForXs(entry);
  const xs = new XsWorker(options);
  try {
    await xs.evaluate(code);
    return await use(xs);
  } finally {
    await xs.close();
  }
}
