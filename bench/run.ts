// Runs programs for the bench, from argument arrays, never a shell.

import { execFile } from "node:child_process";

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit code, or null when a signal ended the program (`signal`, e.g. after the timeout). */
  code: number | null;
  signal: string | null;
}

/** Runs `file` with `args`; a program still running after `timeoutMs` is killed. Resolves whatever the exit code. */
export function run(file: string, args: readonly string[], timeoutMs = 10_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error ? error.code : 0;
      if (typeof code === "string") return reject(error); // could not start it (ENOENT, ...)
      resolve({ stdout, stderr, code: code ?? null, signal: error?.signal ?? null });
    });
  });
}

/** Like run, but throws (with stderr) unless the program exits 0; resolves to stdout. */
export async function mustRun(file: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  const r = await run(file, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr.trim()}`);
  return r.stdout;
}
