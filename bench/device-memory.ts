// The firmware's XS heap on the host program (native/host-device), with the firmware's own
// creation sizes and its preload frozen as on the device (bench/host-device.ts): the
// stack and the four servers (TFTP, FTP, HTTP, UDP echo) idle with a lease; the heap each open
// connection adds, from the slope over several; the most in use while files go over HTTP and
// FTP. Figures count from the end of the preload: what the device holds in RAM. Clock-free:
// slots and chunk bytes after a full collection. npm run bench prints them (needs root);
// test/device/memory.test.ts holds them to their targets.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Creation } from "../native/host-device/bundle.ts";
import { BOARDS, type Board, type DeviceMemory, type HostDevice, boardFirmware, startHostDevice } from "./host-device.ts";
import { TCP_DEFAULTS } from "../modules/stack/tcp-config.ts";
import type { Teardown } from "./netns.ts";

const PEER = fileURLToPath(new URL("./device-peer.ts", import.meta.url));
/** Bytes of one slot on the ESP32 (32-bit): the host's are twice that. */
export const ESP32_SLOT = 16;
const TRANSFER = 1 << 20;

export interface Heap {
  slots: number;
  /** Chunk bytes on this 64-bit host; the ESP32's are fewer (pointers and slots in chunks are half the size). */
  chunks: number;
}

/** Bytes on the ESP32: its slots, and the host's chunk bytes as an upper bound. */
export function esp32Bytes(h: Heap): number {
  return h.slots * ESP32_SLOT + h.chunks;
}

export interface DeviceMemoryFigures {
  /** The stack with a lease, TFTP, FTP, HTTP and echo listening, nothing open; and the keys made at run time. */
  idle: Heap & { keys: number; keyLimit: number; preloadedKeys: number };
  /** What one connection adds beyond its buffers (the bytes of its ArrayBuffers: TCP's send buffer once written, FTP's command line), from the slope over `count`. */
  perConnection: Record<"http-connected" | "http-kept-alive" | "ftp-logged-in" | "time-wait", Heap & { count: number; buffers: number }>;
  /** The most in use, sampled while 1 MiB goes each way. */
  peak: Record<"http-get" | "ftp-put", Heap>;
  /** With every connection the board's TCP allows (maxPcbs) open and written to: half of them FTP sessions (two per address), the rest HTTP kept alive. */
  fullLoad: Heap & { http: number; ftp: number };
  /** The board's TCP bounds and creation sizes, which the figures were measured with. */
  maxPcbs: number;
  maxTimeWait: number;
  creation: Creation;
}

/** What the creation sizes must hold: every connection open, every TIME-WAIT pcb, and a transfer's working set. */
export interface WorstCase {
  slots: number;
  chunks: number;
  /** ESP32 bytes of the whole XS machine needed (slots, chunks, stack and keys as creation sizes them), and that creation allocates. */
  bytes: number;
  creationBytes: number;
}

/** ESP32 bytes of a machine with `slots` and `chunks`, and creation's stack (16-byte slots) and keys (4 bytes each). */
function machineBytes(c: Creation, slots: number, chunks: number): number {
  return slots * ESP32_SLOT + chunks + c.stack * ESP32_SLOT + c.keys.initial * 4;
}

export function worstCase(f: DeviceMemoryFigures): WorstCase {
  const tw = f.perConnection["time-wait"];
  // A transfer's working set, its connections included (so counted twice: the sum errs high): the most a peak took beyond idle.
  const transfer = Object.values(f.peak).map((h) => minus(h, f.idle));
  const slots = Math.ceil(f.fullLoad.slots + f.maxTimeWait * tw.slots + Math.max(...transfer.map((h) => h.slots)));
  const chunks = Math.ceil(f.fullLoad.chunks + f.maxTimeWait * tw.chunks + Math.max(...transfer.map((h) => h.chunks)));
  return {
    slots,
    chunks,
    bytes: machineBytes(f.creation, slots, chunks),
    creationBytes: machineBytes(f.creation, f.creation.heap.initial, f.creation.chunk.initial),
  };
}

/** A second address of the kernel's, for FTP's sessions per address. */
const SECOND_PEER = "10.77.50.2";

const heap = (m: DeviceMemory): Heap => ({ slots: m.slots, chunks: m.chunks });
const beyondBuffers = (m: DeviceMemory): Heap & { buffers: number } => ({ slots: m.slots, chunks: m.chunks - m.buffers, buffers: m.buffers });
const minus = (a: Heap, b: Heap): Heap => ({ slots: a.slots - b.slots, chunks: a.chunks - b.chunks });

/** Holds `n` connections to `port` from the namespace (writing `text` on each first, from address `from`) while `f` runs. */
async function holding<T>(d: HostDevice, port: number, n: number, text: string, f: () => Promise<T>, from = ""): Promise<T> {
  const p = spawn("ip", ["netns", "exec", d.ns.name, process.execPath, "--import", "tsx", PEER, d.ip, String(port), String(n), text, from]);
  let out = "";
  p.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  p.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
  const exited = new Promise<void>((r) => p.once("exit", () => r()));
  try {
    for (let waited = 0; !out.includes("ready"); waited += 50) {
      if (waited > 30_000 || p.exitCode !== null) throw new Error(`the peer did not open ${n} connections to ${port}: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return await f();
  } finally {
    p.stdin.end();
    await exited;
  }
}

/** The heap one connection adds, from `n` connections against none (after `settleMs`, for the device's closes to finish). */
async function perConnection(d: HostDevice, port: number, n: number, text: string, settleMs = 0): Promise<Heap & { count: number; buffers: number }> {
  const before = beyondBuffers(await d.memory());
  const held = await holding(d, port, n, text, async () => {
    await new Promise((r) => setTimeout(r, settleMs));
    return beyondBuffers(await d.memory());
  });
  const added = minus(held, before);
  return { slots: added.slots / n, chunks: added.chunks / n, count: n, buffers: (held.buffers - before.buffers) / n };
}

/** The device's count of TIME-WAIT pcbs it forgot to make room (its /status). */
async function recycled(d: HostDevice): Promise<number> {
  const status = await d.ns.mustRun("curl", ["-sS", "--fail", "-m", "20", `http://${d.ip}/status`], 30_000);
  return (JSON.parse(status) as { counters: Record<string, number> }).counters["tcp.time-wait-recycled"] ?? 0;
}

/**
 * What one TIME-WAIT pcb holds, from `n` connections the device closes first. Earlier closes may have left pcbs in
 * TIME-WAIT, and a new one beyond maxTimeWait frees the oldest: those are not in the slope's count.
 */
async function perTimeWait(d: HostDevice, n: number): Promise<Heap & { count: number; buffers: number }> {
  const before = await recycled(d);
  const h = await perConnection(d, 80, n, "GET /missing HTTP/1.1\\r\\nHost: d\\r\\nConnection: close\\r\\n\\r\\n", 1000);
  const added = n - ((await recycled(d)) - before);
  if (added <= 0) throw new Error(`no TIME-WAIT pcb was added by ${n} closes`);
  return { slots: (h.slots * n) / added, chunks: (h.chunks * n) / added, count: added, buffers: 0 };
}

/** The most in use while `run` goes, sampled every 100 ms. */
async function peakWhile(d: HostDevice, run: Promise<unknown>): Promise<Heap> {
  let done = false;
  const finished = run.finally(() => (done = true));
  let peak: Heap = { slots: 0, chunks: 0 };
  while (!done) {
    const h = heap(await d.memory());
    if (esp32Bytes(h) > esp32Bytes(peak)) peak = h;
    await new Promise((r) => setTimeout(r, 100));
  }
  await finished;
  return peak;
}

/** The figures of `board`'s firmware: its config.netstack (echo added) and its creation sizes. */
export async function measureDeviceMemory(t: Teardown, board: Board): Promise<DeviceMemoryFigures> {
  const { netstack, creation } = boardFirmware(board);
  const maxPcbs = netstack.tcp?.maxPcbs ?? TCP_DEFAULTS.maxPcbs;
  const maxTimeWait = netstack.tcp?.maxTimeWait ?? TCP_DEFAULTS.maxTimeWait;
  const d = await startHostDevice(t, { ...netstack, echo: true }, creation);
  const page = randomBytes(TRANSFER);
  writeFileSync(join(d.root, "www", "page.bin"), page);
  writeFileSync(join(d.root, "up.bin"), page);
  const m = await d.memory();
  const idle = { ...heap(m), keys: m.keys, keyLimit: m.keyLimit, preloadedKeys: m.preloadedKeys };

  const curl = (args: string[]) => d.ns.mustRun("curl", ["-sS", "--fail", "-m", "120", ...args], 130_000);
  await curl(["-o", "/dev/null", `http://${d.ip}/page.bin`]); // the paths below have run once
  const peak = {
    "http-get": await peakWhile(d, curl(["-o", "/dev/null", `http://${d.ip}/page.bin`])),
    "ftp-put": await peakWhile(d, curl(["-T", join(d.root, "up.bin"), `ftp://esp:esp32@${d.ip}/www/up.bin`])),
  };
  const http = "GET /missing HTTP/1.1\\r\\nHost: d\\r\\n\\r\\n";
  const ftp = "USER esp\\r\\nPASS esp32\\r\\n";
  await d.ns.addAddress(d.tap, `${SECOND_PEER}/24`);
  // FTP sessions from two addresses (two from each at most), as many as the firmware lets FTP have: half of maxPcbs.
  const ftpSessions = Math.floor(maxPcbs / 2);
  const fromFirst = Math.min(2, ftpSessions);
  const loaded = () =>
    holding(d, 21, fromFirst, ftp, () =>
      ftpSessions > fromFirst ? holding(d, 21, ftpSessions - fromFirst, ftp, async () => heap(await d.memory()), SECOND_PEER) : d.memory().then(heap),
    );
  const fullLoad = { ...(await holding(d, 80, maxPcbs - ftpSessions, http, loaded)), http: maxPcbs - ftpSessions, ftp: ftpSessions };
  const figures: DeviceMemoryFigures = {
    idle,
    peak,
    fullLoad,
    maxPcbs,
    maxTimeWait,
    creation,
    perConnection: {
      "http-connected": await perConnection(d, 80, 4, ""),
      "http-kept-alive": await perConnection(d, 80, 4, http),
      "ftp-logged-in": await perConnection(d, 21, 2, ftp),
      // Last, as they stay 2 MSL: the device closes first, so its pcbs wait in TIME-WAIT (the peer closes as it reads the FIN).
      "time-wait": await perTimeWait(d, Math.min(4, maxTimeWait)),
    },
  };
  if (d.device.process.exitCode !== null) throw new Error(`the host program ended: ${d.device.text}`);
  return figures;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The rows npm run bench prints for `board`. */
export function printDeviceMemory(board: string, f: DeviceMemoryFigures): void {
  const c = f.creation;
  console.log(
    `\nXS heap of the ${board} firmware on the host program, in RAM beyond the preload (ESP32 bytes: ${ESP32_SLOT}-byte slots + this host's chunk bytes, an upper bound)`,
  );
  console.log(
    `  creation: chunk ${c.chunk.initial} + ${c.chunk.incremental}, heap ${c.heap.initial} + ${c.heap.incremental} slots, keys ${c.keys.initial} + ${c.keys.incremental}`,
  );
  const row = (label: string, h: Heap) =>
    console.log(`${kib(esp32Bytes(h)).padStart(11)}  ${label}: ${Math.round(h.slots)} slots, ${Math.round(h.chunks)} chunk bytes`);
  row("the stack and TFTP, FTP, HTTP and echo idle (target 48 KiB)", f.idle);
  console.log(`  keys made at run time: ${f.idle.keys} of ${f.idle.keyLimit} (${f.idle.preloadedKeys} preloaded)`);
  for (const [name, h] of Object.entries(f.perConnection))
    row(`per ${name} connection, beyond its ${h.buffers} bytes of buffers (slope over ${h.count}; target 1 KiB)`, h);
  for (const [name, h] of Object.entries(f.peak)) row(`the most in use during a 1 MiB ${name}`, h);
  row(`with every connection TCP allows open (maxPcbs ${f.maxPcbs}: ${f.fullLoad.http} HTTP kept alive, ${f.fullLoad.ftp} FTP sessions)`, f.fullLoad);
  const w = worstCase(f);
  console.log(
    `${kib(w.bytes).padStart(11)}  worst case (those, ${f.maxTimeWait} TIME-WAIT pcbs and a transfer; stack and keys as in creation): ${w.slots} slots, ${w.chunks} chunk bytes; creation allocates ${kib(w.creationBytes)}, ${(100 * (1 - w.slots / c.heap.initial)).toFixed(0)} % (slots) and ${(100 * (1 - w.chunks / c.chunk.initial)).toFixed(0)} % (chunks) to spare`,
  );
}

/** npm run bench's rows: the figures, measured once (as root: the host program needs a TAP). */
export async function benchDeviceMemory(): Promise<void> {
  if (process.getuid?.() !== 0) return console.log("\nskipped the firmware's XS heap on the host program: it needs root (a TAP and a namespace)");
  // The Ethernet boards share their config and creation: measured once, printed for both.
  const measured = new Map<string, DeviceMemoryFigures>();
  for (const board of BOARDS) {
    const key = JSON.stringify(boardFirmware(board));
    const f = measured.get(key) ?? (await measureOnce(board));
    measured.set(key, f);
    printDeviceMemory(board, f);
  }
}

/** One board's figures, its device torn down after. */
async function measureOnce(board: Board): Promise<DeviceMemoryFigures> {
  const teardowns: Array<() => unknown> = [];
  try {
    return await measureDeviceMemory({ teardown: (f) => void teardowns.push(f) }, board);
  } finally {
    for (const f of teardowns.reverse()) await f();
  }
}
