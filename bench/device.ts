// The device port's figures, from the host program (native/host-device: XS, Debian's lwIP and
// the device glue): computrons per stack operation with the device's native checksum, and the
// XS heap the stack takes when idle and per idle TCP connection. The host program opens a TAP
// as it starts, so this needs root. Never a pass/fail test.

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { hostDevicePath, bundleForHost } from "../native/host-device/bundle.ts";

export interface DeviceFigures {
  /** Computrons per call of each bench/stack-ops.ts operation. */
  computrons: Record<string, number>;
  heap: Record<string, number>;
}

/** Runs native/host-device/js/measure.ts on the host program; undefined without root. */
export async function deviceFigures(): Promise<DeviceFigures | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const { path } = await bundleForHost(fileURLToPath(new URL("../native/host-device/js/measure.ts", import.meta.url)), "measure");
  const env = { ...process.env, PRECONFIGURED_TAPIF: `tapms${process.pid}`.slice(0, 15) };
  const line = execFileSync(hostDevicePath(), [path], { env, encoding: "utf8" }).trim().split("\n").pop()!;
  return JSON.parse(line) as DeviceFigures;
}

export function printHeap(h: Record<string, number>): void {
  const esp32 = (slots: number, chunks: number) =>
    `${slots} slots + ${chunks} chunk bytes (about ${Math.round((slots * 16 + chunks) / 102.4) / 10} KiB on the ESP32's 16-byte slots)`;
  console.log(`\nXS heap on the host program (64-bit: ${h.slotSize}-byte slots; chunks hold pointers, so the ESP32's are somewhat smaller)`);
  console.log(`  bare machine:          ${h.bareSlots} slots, ${h.bareChunks} chunk bytes`);
  console.log(`  the stack, idle:       ${esp32(h.stackSlots!, h.stackChunks!)}`);
  console.log(`  per idle TCP connection: ${esp32(Math.round(h.perConnectionSlots!), Math.round(h.perConnectionChunks!))}`);
}
