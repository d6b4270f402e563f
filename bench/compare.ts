// The same-run comparison: an HTTP GET of 64 MiB by curl, and ping's round trip, against our
// stack (Node, MemoryStorage, HttpServer, on a TAP), lwIP (C, on a TAP of its own, bench/lwip/)
// and the Linux kernel (python3 over a veth). Each round measures the three back to back; the
// table gives medians, and each ratio is the median of the rounds' ratios. A first round warms
// all three up and is not counted: V8 compiles our stack's hot paths over the first few hundred
// megabytes, which a C server never needs.

import { MemoryStorage } from "../modules/storage/memory.ts";
import * as fs from "node:fs";
import { join } from "node:path";
import { LWIP, startLwip } from "./lwip.ts";
import { type BenchNet, curl, DEVICE, device, KERNEL, KERNEL_PORT, MIB, median, ns } from "./net.ts";

const BODY = 64 * MIB;
const ROUNDS = 5;
const PINGS = 200;
const PING_INTERVAL = "0.002";
/** Both TCPs send from a 65535-byte buffer into a 65535-byte window (Debian's lwipopts.h: TCP_SND_BUF, TCP_WND). */
const TCP = { wnd: 65535, sndbuf: 65535 };

export const SERVERS = ["ours", "lwIP", "kernel"] as const;
export type Server = (typeof SERVERS)[number];

export interface Figure {
  /** The median of each server's rounds. */
  value: Record<Server, number>;
  /** The medians of ours/lwIP and ours/kernel, each taken within a round. */
  oursOverLwip: number;
  oursOverKernel: number;
}

export interface Comparison {
  getMBps: Figure;
  pingMs: Figure;
  bodyBytes: number;
  rounds: number;
  /** Our TAP's checksum and segmentation offload. */
  offload: boolean;
}

async function getMBps(client: string, url: string): Promise<number> {
  const [t] = await curl(client, ["-o", "/dev/null", url]);
  if (!t || t.bytes !== BODY) throw new Error(`GET ${url} moved ${t?.bytes} bytes, not ${BODY}`);
  return BODY / 1e6 / t.seconds;
}

/** The median of ping's round trips, in milliseconds: a shared machine's scheduler stalls (tens of ms) would swamp an average. */
async function pingMs(client: string, host: string): Promise<number> {
  const out = await ns(client, "ping", ["-n", "-c", String(PINGS), "-i", PING_INTERVAL, host], 30_000);
  const times = [...out.matchAll(/ time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (times.length < PINGS / 2) throw new Error(`ping ${host}: ${times.length} of ${PINGS} echoes answered`);
  return median(times);
}

function figure(samples: Record<Server, number[]>): Figure {
  const ratio = (other: Server) => median(samples.ours.map((o, i) => o / samples[other][i]!));
  return {
    value: { ours: median(samples.ours), lwIP: median(samples.lwIP), kernel: median(samples.kernel) },
    oursOverLwip: ratio("lwIP"),
    oursOverKernel: ratio("kernel"),
  };
}

/** Our store: the body as one file of zeros, as lwIP serves zeros (and the kernel a file of zeros). */
function memoryWithBody(): MemoryStorage {
  const storage = new MemoryStorage({ limit: BODY, maxEntries: 1 });
  const w = storage.openWrite(`/${BODY}`, "create");
  if (!w.ok) throw new Error(w.reason);
  const zeros = new Uint8Array(MIB);
  for (let n = 0; n < BODY; n += zeros.length) if (!w.value.write(zeros).ok) throw new Error("the memory store is full");
  if (!w.value.close().ok) throw new Error("the memory store did not take the body");
  return storage;
}

export async function compare({ client, root }: BenchNet, offload: boolean): Promise<Comparison> {
  fs.writeFileSync(join(root, String(BODY)), new Uint8Array(BODY));
  const ours = await device(client, memoryWithBody(), TCP, offload);
  const lwip = await startLwip(client).catch((e) => {
    ours.close();
    throw e;
  });
  const host: Record<Server, string> = { ours: DEVICE, lwIP: LWIP, kernel: KERNEL };
  const url: Record<Server, string> = {
    ours: `http://${DEVICE}/${BODY}`,
    lwIP: `http://${LWIP}/${BODY}`,
    kernel: `http://${KERNEL}:${KERNEL_PORT}/${BODY}`,
  };
  const get = { ours: [], lwIP: [], kernel: [] } as Record<Server, number[]>;
  const ping = { ours: [], lwIP: [], kernel: [] } as Record<Server, number[]>;
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      for (const s of SERVERS) get[s].push(await getMBps(client, url[s]));
      for (const s of SERVERS) ping[s].push(await pingMs(client, host[s]));
    }
    for (const s of SERVERS) {
      get[s].shift(); // the warm-up round
      ping[s].shift();
    }
  } finally {
    ours.close();
    await lwip.close();
  }
  const result = { getMBps: figure(get), pingMs: figure(ping), bodyBytes: BODY, rounds: ROUNDS, offload };
  print(result);
  return result;
}

function print(c: Comparison): void {
  const num = (n: number, digits: number) => n.toFixed(digits).padStart(9);
  const row = (what: string, f: Figure, digits: number) =>
    `${what.padEnd(18)}${SERVERS.map((s) => num(f.value[s], digits)).join("")}${f.oursOverLwip.toPrecision(3).padStart(12)}${f.oursOverKernel.toPrecision(3).padStart(14)}`;
  console.log(`\nours, lwIP and the Linux kernel in one run: HTTP GET of ${c.bodyBytes / MIB} MiB by curl, ping round trip`);
  console.log(`${"".padEnd(18)}${SERVERS.map((s) => s.padStart(9)).join("")}${"ours/lwIP".padStart(12)}${"ours/kernel".padStart(14)}`);
  console.log(row("HTTP GET MB/s", c.getMBps, 0));
  console.log(row("ping RTT ms", c.pingMs, 3));
  console.log(`(ours: this stack on Node, MemoryStorage and HttpServer, on a TAP ${c.offload ? "with" : "without"} checksum and segmentation`);
  console.log(" offload; lwIP: Debian's liblwip 2.1.3 in C, its tcpip thread and raw TCP API, on a TAP (bench/lwip/server.c); kernel:");
  console.log(" python3 http.server over a veth. Both TAP servers: TCP window and send buffer 65535, zeros from memory. Every link MTU 1500.");
  console.log(` curl and ping (${PINGS} echoes of 56 bytes, ${PING_INTERVAL} s apart, their median) in one namespace; medians of ${c.rounds} rounds`);
  console.log(" after one to warm up, the three servers back to back in each; ratios: the median of each round's ratio;");
  console.log(" MB = 10^6 bytes; for the RTT lower is better.)");
}
