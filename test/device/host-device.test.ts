// The device glue running for real, off the ESP32: the host program (native/host-device) links
// XS, Debian's lwIP, the glue (modules/device/netstack.c, netstack_eth.c) and its stand-ins for
// ESP-IDF, and runs the firmware (modules/device/app.ts, bundled as for an Ethernet board). The
// driver's thread hands each frame from the TAP to netif->input, our glue queues it for the XS
// thread, and the stack's frames leave through linkoutput on lwIP's tcpip thread. The kernel is
// the peer, in a namespace of the test's own (10.77.50.1/24), with dnsmasq serving DHCP: the
// firmware's own DHCP client takes an address, then ping, curl and lftp reach it. Needs root (CI is).

import test, { type ExecutionContext } from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Netns } from "../support/netns.ts";
import { hostDevicePath, bundleForHost } from "../../native/host-device/bundle.ts";

const KERNEL = "10.77.50.1";
const TAP = "tapdev0";

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** Output of a child process, and a way to wait for a line. */
class Output {
  text = "";
  constructor(p: ChildProcess) {
    p.stdout?.setEncoding("utf8").on("data", (d: string) => (this.text += d));
    p.stderr?.setEncoding("utf8").on("data", (d: string) => (this.text += d));
  }
  async wait(pattern: RegExp, ms: number, what: string): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.text);
      if (m) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; output so far:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function spawnIn(t: ExecutionContext, ns: Netns, args: string[], env: Record<string, string> = {}): { p: ChildProcess; out: Output } {
  const p = spawn("ip", ["netns", "exec", ns.name, "env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...args]);
  const out = new Output(p);
  const exited = new Promise<void>((resolve) => p.once("exit", () => resolve()));
  t.teardown(async () => {
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    await exited;
  });
  return { p, out };
}

/** The firmware on the host program, on a TAP in a fresh namespace, with its files in a temporary root and an address from dnsmasq. */
async function device(t: ExecutionContext) {
  const bin = hostDevicePath();
  const { path: script } = await bundleForHost("native/host-device/js/app.ts", "app");
  const root = mkdtempSync(join(tmpdir(), "host-device-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "www"));
  const ns = await Netns.create(t);
  await ns.mustRun("sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  const config = {
    file: { root: `${root}/` },
    netstack: {
      hostname: "netstack",
      tftp: { root: "tftp", write: "create" },
      ftp: { root: "", users: [{ name: "esp", password: "esp32" }] },
      http: { root: "www", put: false },
    },
  };
  const hd = spawnIn(t, ns, [bin, script], { PRECONFIGURED_TAPIF: TAP, NETSTACK_CONFIG: JSON.stringify(config) });
  await hd.out.wait(/took ETH_DEF, MAC (\S+)/, 20_000, "the firmware to take the interface");
  await ns.addAddress(TAP, `${KERNEL}/24`);
  await ns.up(TAP);
  const leases = join(root, "leases");
  spawnIn(t, ns, [
    "dnsmasq",
    "--no-daemon",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--pid-file=",
    "--port=0",
    `--interface=${TAP}`,
    "--bind-interfaces",
    `--dhcp-leasefile=${leases}`,
    "--no-ping",
    "--log-facility=-",
    "--dhcp-range=10.77.50.100,10.77.50.120,10m",
  ]);
  const [, ip, prefix] = await hd.out.wait(/address (\d+\.\d+\.\d+\.\d+)\/(\d+)/, 30_000, "a DHCP lease");
  return { ns, ip: ip!, prefix: Number(prefix), root, out: hd.out, process: hd.p };
}

function pingSummary(out: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m) throw new Error(`no ping summary in: ${out}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}

test("the firmware on XS, lwIP, the glue and a driver thread over a TAP: our DHCP client gets the address, then ping, curl and lftp work with equal hashes", async (t) => {
  const d = await device(t);
  t.regex(d.out.text, /esp_netif_dhcpc_stop\(ETH_DEF\)/, "the glue stopped ESP-IDF's DHCP client before taking the interface");
  t.regex(d.ip, /^10\.77\.50\.1(\d\d)$/);
  t.is(d.prefix, 24);

  t.deepEqual(pingSummary(await d.ns.mustRun("ping", ["-c", "5", "-i", "0.2", "-W", "2", d.ip], 20_000)), { sent: 5, received: 5 });
  t.deepEqual(pingSummary(await d.ns.mustRun("ping", ["-c", "3", "-i", "0.2", "-s", "1472", "-M", "do", "-W", "2", d.ip], 20_000)), { sent: 3, received: 3 });
  t.deepEqual(pingSummary(await d.ns.mustRun("ping", ["-f", "-c", "1000", "-W", "2", d.ip], 60_000)), { sent: 1000, received: 1000 });

  // HTTP: a 3 MB file from the static root.
  const page = randomBytes(3_000_000);
  writeFileSync(join(d.root, "www", "big.bin"), page);
  const got = join(d.root, "got.bin");
  await d.ns.mustRun("curl", ["-sS", "--fail", "-m", "60", "-o", got, `http://${d.ip}/big.bin`], 70_000);
  t.is(sha256(readFileSync(got)), sha256(page));

  // FTP: a 2 MB upload, then the same file back.
  const upload = join(d.root, "up.bin");
  const back = join(d.root, "back.bin");
  const data = randomBytes(2_000_000);
  writeFileSync(upload, data);
  await d.ns.mustRun(
    "lftp",
    ["-u", "esp,esp32", "-e", `set net:timeout 10; set net:max-retries 2; put ${upload} -o www/up.bin; get www/up.bin -o ${back}; bye`, d.ip],
    120_000,
  );
  t.is(sha256(readFileSync(join(d.root, "www", "up.bin"))), sha256(data));
  t.is(sha256(readFileSync(back)), sha256(data));

  // The glue's counters, through the firmware's /link route: frames went both ways, none dropped for want of room.
  const link = JSON.parse(await d.ns.mustRun("curl", ["-sS", "--fail", "-m", "10", `http://${d.ip}/link`], 20_000)) as Record<string, number>;
  t.true(link.received! > 1000 && link.sent! > 1000, JSON.stringify(link));
  t.is(link.receiveDropped, 0);
  t.is(d.process.exitCode, null, "the host program is still running");
});
