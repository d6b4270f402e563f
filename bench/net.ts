// The bench's network: two namespaces. The client one holds curl and ping, the kernel side of
// each TAP (our stack's, lwIP's) and one end of a veth; the server one holds the other end,
// where python3 serves a directory over the kernel's TCP. Needs root.

import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RealClock } from "../host-sim/clock.ts";
import { SeededRandom } from "../host-sim/random.ts";
import { TapLink } from "../host-sim/tap.ts";
import { FtpServer } from "../modules/services/ftp-server.ts";
import { HttpServer } from "../modules/services/http-server.ts";
import { createStack, type Stack } from "../modules/stack/stack.ts";
import type { TcpConfig } from "../modules/stack/tcp.ts";
import type { Storage } from "../modules/storage/storage.ts";
import { parseIp, parseMac } from "../modules/wire/address.ts";
import { mustRun, run } from "./run.ts";

export const MIB = 1 << 20;
export const CLIENT_TAP = "10.77.250.1"; // the kernel side of our TAP, in the client namespace
export const DEVICE = "10.77.250.2";
const CLIENT_VETH = "10.77.251.1";
export const KERNEL = "10.77.251.2"; // the python server, in the server namespace
export const KERNEL_PORT = 8080;
/** The largest upload our device accepts (the kernel tables PUT 20 MiB). */
const MAX_BODY = 128 * MIB;

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

export interface BenchNet {
  /** The client namespace. */
  client: string;
  /** A scratch directory of this run. */
  dir: string;
  /** The directory python serves (inside `dir`). */
  root: string;
}

export interface Transfer {
  bytes: number;
  seconds: number;
  connects: number;
}

export const ns = (name: string, file: string, args: readonly string[], timeoutMs?: number) => mustRun("ip", ["netns", "exec", name, file, ...args], timeoutMs);

/** Runs curl in namespace `client`; one Transfer per URL, from curl's own timings (no process start-up in them). */
export async function curl(client: string, args: readonly string[]): Promise<Transfer[]> {
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

/** Our device on a fresh TAP moved into `client`, serving `storage` over HTTP and FTP; the TAP offloads unless told not to. */
export async function device(client: string, storage: Storage, tcp: Partial<TcpConfig>, offload = true) {
  const tap = TapLink.open("", { offload });
  const stack = createStack(tap, new RealClock(), new SeededRandom(250), {
    mac: parseMac("02:00:0a:4d:fa:02")!,
    ip: parseIp(DEVICE)!,
    mask: parseIp("255.255.255.0")!,
    gateway: parseIp(CLIENT_TAP)!,
    tcp,
  });
  const http = new HttpServer(stack, storage, { allowPut: true, maxBodyBytes: MAX_BODY });
  const ftp = new FtpServer(stack, storage, { users: [{ name: "bench", password: "bench" }] });
  const close = () => {
    http.close();
    ftp.close();
    tap.close();
  };
  try {
    if (!http.listen() || !ftp.listen()) throw new Error("the device could not listen on ports 80 and 21");
    await mustRun("ip", ["link", "set", "dev", tap.name, "netns", client]);
    await upWithAddress(client, tap.name, `${CLIENT_TAP}/24`);
  } catch (e) {
    close();
    throw e;
  }
  return { stack, close } satisfies { stack: Stack; close: () => void };
}

/** Gives `dev` in namespace `name` an address and brings it up. */
export async function upWithAddress(name: string, dev: string, cidr: string): Promise<void> {
  await mustRun("ip", ["-n", name, "addr", "add", cidr, "dev", dev]);
  await mustRun("ip", ["-n", name, "link", "set", "dev", dev, "up"]);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Resolves with the first line `child` prints on stdout; rejects if it exits or stays silent for 10 s. */
export function firstLine(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 10 s`)), 10_000);
    let out = "";
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (!out.includes("\n")) return;
      clearTimeout(timer);
      resolve(out.slice(0, out.indexOf("\n")));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${err.trim()}`));
    });
  });
}

/** Sets up the namespaces, the veth and the python server, runs `f`, and removes them all. Undefined without root. */
export async function withBenchNet<T>(f: (net: BenchNet) => Promise<T>): Promise<T | undefined> {
  if (process.getuid?.() !== 0) {
    console.log("\nskipped the comparisons over TAP and veth: they need root (TAP devices and network namespaces)");
    return undefined;
  }
  const tag = `bench-${process.pid}`;
  const [client, server] = [`${tag}-client`, `${tag}-server`];
  const dir = fs.mkdtempSync(join(tmpdir(), "bench-net-"));
  const root = join(dir, "root");
  const made: string[] = [];
  let python: ChildProcess | undefined;
  try {
    fs.mkdirSync(root);
    for (const name of [client, server]) {
      await mustRun("ip", ["netns", "add", name]);
      made.push(name);
      await mustRun("ip", ["-n", name, "link", "set", "dev", "lo", "up"]);
      await ns(name, "sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    }
    await mustRun("ip", ["-n", client, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", server]);
    await upWithAddress(client, "veth0", `${CLIENT_VETH}/24`);
    await upWithAddress(server, "veth1", `${KERNEL}/24`);
    python = spawn("ip", ["netns", "exec", server, "python3", "-c", PYTHON_SERVER, root, KERNEL, String(KERNEL_PORT)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    await firstLine(python, "the python server");
    return await f({ client, dir, root });
  } finally {
    python?.kill();
    for (const name of made) await mustRun("ip", ["netns", "del", name]).catch((e: Error) => console.error(e.message));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
