// `npm run bench`: our stack on a TAP against the Linux kernel's own TCP on a veth pair,
// measured in the same run, so only ratios mean anything on a noisy machine.
//
// curl runs in the client namespace against both (bench/net.ts). No kernel FTP server is
// installed, so FTP RETR is compared with an HTTP GET and FTP STOR with an HTTP PUT of the same
// file to the python server (a small PUT handler of our own that writes the body to a file, as
// STOR does).

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import { DirectoryStorage } from "../host-sim/storage/directory.ts";
import { HTTP_SERVER_DEFAULTS } from "../modules/services/http-server.ts";
import type { Stack } from "../modules/stack/stack.ts";
import type { TcpConfig } from "../modules/stack/tcp.ts";
import { type BenchNet, curl, DEVICE, device, KERNEL, KERNEL_PORT, MIB, median, type Transfer } from "./net.ts";

const BIG = 20 * MIB;
const SMALL = 1024;
const REQUESTS = 500;
/** Each case runs this many times, ours then the kernel's; the table gives medians. */
const ROUNDS = 5;

interface Row {
  what: string;
  unit: "MiB/s" | "req/s";
  ours: number;
  kernel: number;
  reference: string;
  /** ours/kernel of each round, the two measured back to back */
  ratios: number[];
  framesIn: number;
  framesOut: number;
}

/** Frames our netif received and sent while `f` ran, and what `f` returned. */
async function counted<T>(stack: Stack, f: () => Promise<T>): Promise<{ value: T; framesIn: number; framesOut: number }> {
  const c = stack.netif.stats.counters;
  const [rx, tx] = [c.get("eth.rx") ?? 0, c.get("eth.tx") ?? 0];
  const value = await f();
  return { value, framesIn: (c.get("eth.rx") ?? 0) - rx, framesOut: (c.get("eth.tx") ?? 0) - tx };
}

function mibPerSecond([t]: Transfer[]): number {
  if (!t || t.bytes !== BIG) throw new Error(`a transfer moved ${t?.bytes} bytes, not ${BIG}`);
  return t.bytes / MIB / t.seconds;
}

/**
 * Requests per second over kept-alive connections: curl fetches the URL REQUESTS times (a
 * config file holds the list). Ours ends a connection after maxRequests, so curl opens more.
 */
function requestsPerSecond(transfers: Transfer[]): number {
  const connects = transfers.reduce((n, t) => n + t.connects, 0);
  const most = Math.ceil(REQUESTS / HTTP_SERVER_DEFAULTS.maxRequests);
  if (transfers.length !== REQUESTS || connects < 1 || connects > most) throw new Error(`${transfers.length} requests on ${connects} connections`);
  return REQUESTS / transfers.reduce((s, t) => s + t.seconds, 0);
}

async function measure(client: string, dir: string, stack: Stack): Promise<Row[]> {
  const big = join(dir, "root", "big.bin");
  const ours = `http://${DEVICE}`;
  const ftp = `ftp://bench:bench@${DEVICE}`;
  const kernel = `http://${KERNEL}:${KERNEL_PORT}`;
  /** A curl config file that fetches the small file REQUESTS times from `base`. */
  const urlList = (name: string, base: string) => {
    const file = join(dir, name);
    fs.writeFileSync(file, `url = "${base}/small.bin"\noutput = "/dev/null"\n`.repeat(REQUESTS));
    return file;
  };
  const [oursUrls, kernelUrls] = [urlList("ours.curl", ours), urlList("kernel.curl", kernel)];
  const noExpect = ["-H", "Expect:"]; // no 100-continue round trip before either upload
  const kernelGet = () => curl(client, ["-o", "/dev/null", `${kernel}/big.bin`]).then(mibPerSecond);
  const kernelPut = () => curl(client, [...noExpect, "-o", "/dev/null", "-T", big, `${kernel}/kernel-put.bin`]).then(mibPerSecond);
  const cases: [string, Row["unit"], () => Promise<number>, () => Promise<number>, string][] = [
    ["HTTP GET 20 MiB", "MiB/s", () => curl(client, ["-o", "/dev/null", `${ours}/big.bin`]).then(mibPerSecond), kernelGet, "HTTP GET"],
    [
      "HTTP PUT 20 MiB",
      "MiB/s",
      () => curl(client, [...noExpect, "-o", "/dev/null", "-T", big, `${ours}/ours-put.bin`]).then(mibPerSecond),
      kernelPut,
      "HTTP PUT",
    ],
    ["FTP RETR 20 MiB (EPSV)", "MiB/s", () => curl(client, ["-o", "/dev/null", `${ftp}/big.bin`]).then(mibPerSecond), kernelGet, "HTTP GET"],
    ["FTP STOR 20 MiB (EPSV)", "MiB/s", () => curl(client, ["-T", big, `${ftp}/ours-stor.bin`]).then(mibPerSecond), kernelPut, "HTTP PUT"],
    [
      `HTTP keep-alive GET ${SMALL} B x${REQUESTS}`,
      "req/s",
      () => curl(client, ["--config", oursUrls]).then(requestsPerSecond),
      () => curl(client, ["--config", kernelUrls]).then(requestsPerSecond),
      "HTTP keep-alive",
    ],
  ];
  const samples = cases.map(() => ({ ours: [] as number[], kernel: [] as number[], framesIn: [] as number[], framesOut: [] as number[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, , oursRun, kernelRun]] of cases.entries()) {
      const s = samples[i]!;
      const o = await counted(stack, oursRun);
      s.ours.push(o.value);
      s.framesIn.push(o.framesIn);
      s.framesOut.push(o.framesOut);
      s.kernel.push(await kernelRun());
    }
  }
  return cases.map(([what, unit, , , reference], i) => {
    const s = samples[i]!;
    const ratios = s.ours.map((o, j) => o / s.kernel[j]!);
    return { what, unit, reference, ours: median(s.ours), kernel: median(s.kernel), ratios, framesIn: median(s.framesIn), framesOut: median(s.framesOut) };
  });
}

function print(title: string, rows: Row[]): void {
  const num = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const col = (s: string, w: number) => s.padStart(w);
  console.log(`\n${title}`);
  console.log(
    `${"".padEnd(32)}${col("ours", 8)}${col("kernel", 8)}  unit  ${col("ratio", 6)}${col("(min-max)", 15)}${col("frames in/out", 15)}  kernel reference`,
  );
  for (const r of rows) {
    const range = `${Math.min(...r.ratios).toFixed(3)}-${Math.max(...r.ratios).toFixed(3)}`;
    const cells = [
      r.what.padEnd(32),
      col(num(r.ours), 8),
      col(num(r.kernel), 8),
      `  ${r.unit}`,
      col(median(r.ratios).toFixed(3), 7),
      col(range, 15),
      col(`${r.framesIn}/${r.framesOut}`, 15),
      `  ${r.reference}`,
    ];
    console.log(cells.join(""));
  }
}

/** Ours against the kernel for each TCP configuration, printed as tables. */
export async function kernelTables({ client, dir, root }: BenchNet, offload: boolean): Promise<void> {
  console.log("\nours over TAP against the Linux kernel over a veth (curl in one namespace, same run)");
  fs.writeFileSync(join(root, "big.bin"), randomBytes(BIG));
  fs.writeFileSync(join(root, "small.bin"), randomBytes(SMALL));
  const configs: [string, Partial<TcpConfig>][] = [
    ["TCP wnd 65535, sndbuf 65535", { wnd: 65535, sndbuf: 65535 }],
    ["TCP wnd 5840, sndbuf 5840 (the embedded default)", {}],
  ];
  for (const [title, tcp] of configs) {
    const dev = await device(client, new DirectoryStorage(root), tcp, offload);
    try {
      print(title, await measure(client, dir, dev.stack));
    } finally {
      dev.close();
    }
  }
  console.log(`(medians of ${ROUNDS} rounds; ratio: the median of ours/kernel measured back to back; MiB/s and req/s from curl's own timings;`);
  console.log(` frames: our netif's eth.rx/eth.tx per transfer or per ${REQUESTS} requests, FTP control connection included)`);
}
