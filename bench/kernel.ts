// `npm run bench`: our stack on a TAP against the Linux kernel's own TCP on a veth pair,
// measured in the same run, so only ratios mean anything on a noisy machine.
//
// Two namespaces. The client one holds the kernel side of our TAP and one end of a veth; the
// server one holds the other end, where python3 serves the same directory over the kernel's
// TCP. curl runs in the client namespace against both. No kernel FTP server is installed, so
// FTP RETR is compared with an HTTP GET and FTP STOR with an HTTP PUT of the same file to the
// python server (a small PUT handler of our own that writes the body to a file, as STOR does).
// Needs root; without it the section says so and is skipped.

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TapLink } from "../host-sim/tap.ts";
import { RealClock } from "../host-sim/clock.ts";
import { SeededRandom } from "../host-sim/random.ts";
import { DirectoryStorage } from "../host-sim/storage/directory.ts";
import { createStack, type Stack } from "../modules/stack/stack.ts";
import type { TcpConfig } from "../modules/stack/tcp.ts";
import { HttpServer } from "../modules/services/http-server.ts";
import { FtpServer } from "../modules/services/ftp-server.ts";
import { parseIp, parseMac } from "../modules/wire/address.ts";
import { mustRun, run } from "../test/netns.ts";

const MIB = 1 << 20;
const BIG = 20 * MIB;
const SMALL = 1024;
const REQUESTS = 500;
/** Each case runs this many times, ours then the kernel's; the table gives medians. */
const ROUNDS = 5;
const CLIENT_TAP = "10.77.250.1"; // the kernel side of our TAP, in the client namespace
const DEVICE = "10.77.250.2";
const CLIENT_VETH = "10.77.251.1";
const KERNEL = "10.77.251.2"; // the python server, in the server namespace
const KERNEL_PORT = 8080;

/** python's http.server on HTTP/1.1 (keep-alive) with TCP_NODELAY, as any real server sets it, plus a PUT that stores the body. */
const PYTHON_SERVER = `
import http.server, os, sys
root, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def __init__(self, *a, **k): super().__init__(*a, directory=root, **k)
    def log_message(self, *a): pass
    def do_PUT(self):
        left = int(self.headers["Content-Length"])
        with open(os.path.join(root, os.path.basename(self.path)), "wb") as f:
            while left > 0:
                b = self.rfile.read(min(left, 65536))
                if not b: break
                f.write(b)
                left -= len(b)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()
server = http.server.ThreadingHTTPServer((addr, port), Handler)
print("ready", flush=True)
server.serve_forever()
`;

interface Transfer {
  bytes: number;
  seconds: number;
  connects: number;
}

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

const ns = (name: string, file: string, args: readonly string[], timeoutMs?: number) => mustRun("ip", ["netns", "exec", name, file, ...args], timeoutMs);

/** Runs curl in namespace `client`; one Transfer per URL, from curl's own timings (no process start-up in them). */
async function curl(client: string, args: readonly string[]): Promise<Transfer[]> {
  const w = "%{size_download} %{size_upload} %{time_total} %{num_connects}\\n";
  const r = await run("ip", ["netns", "exec", client, "curl", "-sS", "--fail", "--max-time", "60", "-w", w, ...args], 70_000);
  if (r.code !== 0) throw new Error(`curl ${args.join(" ")} failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr.trim()}`);
  return r.stdout
    .trim()
    .split("\n")
    .map((line) => {
      const [down, up, time, connects] = line.split(" ").map(Number) as [number, number, number, number];
      return { bytes: down + up, seconds: time, connects };
    });
}

/** Our device on a fresh TAP moved into `client`, serving `root` over HTTP and FTP. */
async function device(client: string, root: string, tcp: Partial<TcpConfig>) {
  const tap = TapLink.open();
  const stack = createStack(tap, new RealClock(), new SeededRandom(250), {
    mac: parseMac("02:00:0a:4d:fa:02")!,
    ip: parseIp(DEVICE)!,
    mask: parseIp("255.255.255.0")!,
    gateway: parseIp(CLIENT_TAP)!,
    tcp,
  });
  const storage = new DirectoryStorage(root);
  const http = new HttpServer(stack, storage, { allowPut: true, maxBodyBytes: 2 * BIG });
  const ftp = new FtpServer(stack, storage, { users: [{ name: "bench", password: "bench" }] });
  const close = () => {
    http.close();
    ftp.close();
    tap.close();
  };
  try {
    if (!http.listen() || !ftp.listen()) throw new Error("the device could not listen on ports 80 and 21");
    await mustRun("ip", ["link", "set", "dev", tap.name, "netns", client]);
    await mustRun("ip", ["-n", client, "addr", "add", `${CLIENT_TAP}/24`, "dev", tap.name]);
    await mustRun("ip", ["-n", client, "link", "set", "dev", tap.name, "up"]);
  } catch (e) {
    close();
    throw e;
  }
  return { stack, close };
}

/** Frames our netif received and sent while `f` ran, and what `f` returned. */
async function counted<T>(stack: Stack, f: () => Promise<T>): Promise<{ value: T; framesIn: number; framesOut: number }> {
  const c = stack.netif.stats.counters;
  const [rx, tx] = [c["eth.rx"] ?? 0, c["eth.tx"] ?? 0];
  const value = await f();
  return { value, framesIn: (c["eth.rx"] ?? 0) - rx, framesOut: (c["eth.tx"] ?? 0) - tx };
}

function mibPerSecond([t]: Transfer[]): number {
  if (!t || t.bytes !== BIG) throw new Error(`a transfer moved ${t?.bytes} bytes, not ${BIG}`);
  return t.bytes / MIB / t.seconds;
}

/** Requests per second over one kept-alive connection: curl fetches the URL REQUESTS times (a config file holds the list). */
function requestsPerSecond(transfers: Transfer[]): number {
  const connects = transfers.reduce((n, t) => n + t.connects, 0);
  if (transfers.length !== REQUESTS || connects !== 1) throw new Error(`${transfers.length} requests on ${connects} connections`);
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
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

/** Waits for the python server's "ready" line; rejects if it exits or stays silent. */
function started(server: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the python server did not start within 10 s")), 10_000);
    let err = "";
    server.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    server.stdout!.once("data", () => {
      clearTimeout(timer);
      resolve();
    });
    server.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the python server exited (${code}): ${err.trim()}`));
    });
  });
}

/** Ours against the kernel for each TCP configuration, printed as tables. */
export async function kernelComparison(): Promise<void> {
  console.log("\nours over TAP against the Linux kernel over a veth (curl in one namespace, same run)");
  if (process.getuid?.() !== 0) {
    console.log("  skipped: this section needs root (TAP devices and network namespaces)");
    return;
  }
  const tag = `bench-${process.pid}`;
  const [client, server] = [`${tag}-client`, `${tag}-server`];
  const dir = fs.mkdtempSync(join(tmpdir(), "bench-kernel-"));
  const made: string[] = [];
  let python: ChildProcess | undefined;
  try {
    const root = join(dir, "root");
    fs.mkdirSync(root);
    fs.writeFileSync(join(root, "big.bin"), randomBytes(BIG));
    fs.writeFileSync(join(root, "small.bin"), randomBytes(SMALL));
    for (const name of [client, server]) {
      await mustRun("ip", ["netns", "add", name]);
      made.push(name);
      await mustRun("ip", ["-n", name, "link", "set", "dev", "lo", "up"]);
      await ns(name, "sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    }
    await mustRun("ip", ["-n", client, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", server]);
    await mustRun("ip", ["-n", client, "addr", "add", `${CLIENT_VETH}/24`, "dev", "veth0"]);
    await mustRun("ip", ["-n", server, "addr", "add", `${KERNEL}/24`, "dev", "veth1"]);
    await mustRun("ip", ["-n", client, "link", "set", "dev", "veth0", "up"]);
    await mustRun("ip", ["-n", server, "link", "set", "dev", "veth1", "up"]);
    python = spawn("ip", ["netns", "exec", server, "python3", "-c", PYTHON_SERVER, root, KERNEL, String(KERNEL_PORT)], { stdio: ["ignore", "pipe", "pipe"] });
    await started(python);

    const configs: [string, Partial<TcpConfig>][] = [
      ["TCP wnd 65535, sndbuf 65535", { wnd: 65535, sndbuf: 65535 }],
      ["TCP wnd 5840, sndbuf 5840 (the embedded default)", {}],
    ];
    for (const [title, tcp] of configs) {
      const dev = await device(client, root, tcp);
      try {
        print(title, await measure(client, dir, dev.stack));
      } finally {
        dev.close();
      }
    }
    console.log(`(medians of ${ROUNDS} rounds; ratio: the median of ours/kernel measured back to back; MiB/s and req/s from curl's own timings;`);
    console.log(` frames: our netif's eth.rx/eth.tx per transfer or per ${REQUESTS} requests, FTP control connection included)`);
  } finally {
    python?.kill();
    for (const name of made) await mustRun("ip", ["netns", "del", name]).catch((e: Error) => console.error(e.message));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
