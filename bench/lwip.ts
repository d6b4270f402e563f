// The lwIP reference server (bench/lwip/server.c): built against Debian's liblwip into
// build/bench-lwip/, then run in the client namespace on a TAP of its own.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { firstLine, upWithAddress } from "./net.ts";
import { mustRun } from "./run.ts";

export const LWIP = "10.77.252.2";
const CLIENT_SIDE = "10.77.252.1"; // the kernel side of lwIP's TAP

const source = fileURLToPath(new URL("./lwip/", import.meta.url));
const program = fileURLToPath(new URL("../build/bench-lwip/lwip-server", import.meta.url));

/** Builds the server (make: only when server.c changed) and starts it in `client`; close() ends it. */
export async function startLwip(client: string): Promise<{ close: () => Promise<void> }> {
  await mustRun("make", ["-s", "-C", source], 120_000);
  const server = spawn("ip", ["netns", "exec", client, program, LWIP, "255.255.255.0", CLIENT_SIDE], { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  const close = () => {
    server.stdin!.end(); // it exits when its stdin closes
    return exited;
  };
  try {
    const tap = /^ready (\S+)$/.exec(await firstLine(server, "the lwIP server"))?.[1];
    if (!tap) throw new Error("the lwIP server did not name its TAP");
    await upWithAddress(client, tap, `${CLIENT_SIDE}/24`);
  } catch (e) {
    server.kill();
    throw e;
  }
  return { close };
}
