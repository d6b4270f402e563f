// `npm start -- --tap` as a device on a LAN segment: the firmware core on a TAP whose kernel
// side is in a namespace of the test's own (10.77.60.1/24), where dnsmasq serves DHCP. The
// device takes its lease, serves a host directory (--root) by HTTP, TFTP and FTP with the
// writes its --config allows, records a pcap that tshark reads, and says nothing per frame
// (--quiet) but its protocol events. Real clients: curl and tftp-hpa. Needs root (CI is).

import test from "ava";
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Netns } from "../../bench/netns.ts";
import { Child } from "../../bench/child.ts";

const MAIN = fileURLToPath(new URL("../../host-sim/main.ts", import.meta.url));
const KERNEL = "10.77.60.1";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

test("with dnsmasq on the TAP, --tap takes a lease and serves a host directory by HTTP, TFTP and FTP with writes as configured; the pcap opens in tshark", async (t) => {
  const dir = fs.mkdtempSync(join(tmpdir(), "cli-lan-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  const local = join(dir, "local");
  for (const d of [root, join(root, "www"), join(root, "tftp"), local]) fs.mkdirSync(d);
  const page = randomBytes(100_000);
  const image = randomBytes(70_000);
  fs.writeFileSync(join(root, "www", "page.bin"), page);
  fs.writeFileSync(join(root, "tftp", "image.bin"), image);
  const config = join(dir, "netstack.json");
  fs.writeFileSync(
    config,
    JSON.stringify({
      hostname: "simtap",
      tftp: { root: "tftp", write: "create" },
      ftp: { root: "", users: [{ name: "esp", password: "esp32" }] },
      http: { root: "www", put: true, putLimit: 4096 },
    }),
  );
  const pcap = join(dir, "out", "tap.pcap");

  const sim = Child.spawn(t, process.execPath, ["--import=tsx", MAIN, "--tap", "--root", root, "--config", config, "--pcap", pcap, "--quiet"]);
  const [, tap] = await sim.wait(/attached to (\S+);/, 30_000, "the banner");
  await sim.wait(/Ctrl-C stops it/, 5000, "the end of the banner");
  t.regex(sim.text, /asks for an address by DHCP/);
  const ns = await Netns.create(t);
  await ns.mustRun("sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  await ns.adopt(tap!);
  await ns.addAddress(tap!, `${KERNEL}/24`);
  await ns.up(tap!);
  const dnsmasq = Child.spawn(t, "ip", [
    ...["netns", "exec", ns.name, "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=", "--port=0"],
    ...[`--interface=${tap}`, "--bind-interfaces", `--dhcp-leasefile=${join(dir, "leases")}`, "--no-ping", "--log-dhcp", "--log-facility=-"],
    "--dhcp-range=10.77.60.100,10.77.60.120,10m",
  ]);
  const [, ip] = await sim.wait(/device: address (10\.77\.60\.\d+)\/24 gateway 10\.77\.60\.1 lease 600 s/, 30_000, "a lease from dnsmasq");
  t.regex(dnsmasq.text, new RegExp(`DHCPACK\\(${tap}\\) ${ip!.replace(/\./g, "\\.")} 02:00:00:00:00:02 simtap`));

  // HTTP: a file from www/, a PUT within the limit stored there, one beyond it refused.
  const curl = (...args: string[]) => ns.mustRun("curl", ["-sS", "-m", "20", ...args], 30_000);
  await curl("--fail", "-o", join(local, "page.bin"), `http://${ip}/page.bin`);
  t.is(sha256(fs.readFileSync(join(local, "page.bin"))), sha256(page));
  const small = join(local, "small.txt");
  fs.writeFileSync(small, "put within the limit\n");
  t.is(await curl("-o", "/dev/null", "-w", "%{http_code}", "-T", small, `http://${ip}/small.txt`), "201");
  t.is(fs.readFileSync(join(root, "www", "small.txt"), "utf8"), "put within the limit\n");
  const big = join(local, "big.bin");
  fs.writeFileSync(big, randomBytes(4097));
  t.is(await curl("-o", "/dev/null", "-w", "%{http_code}", "-T", big, `http://${ip}/big.bin`), "413");
  t.false(fs.existsSync(join(root, "www", "big.bin")));

  // TFTP (tftp-hpa): a get from tftp/, a put that creates, and a second put of the same name refused.
  const tftp = (...args: string[]) => ns.run("tftp", ["-m", "binary", ip!, "-c", ...args], 30_000);
  t.is((await tftp("get", "image.bin", join(local, "image.bin"))).code, 0);
  t.is(sha256(fs.readFileSync(join(local, "image.bin"))), sha256(image));
  t.is((await tftp("put", big, "up.bin")).code, 0);
  t.is(sha256(fs.readFileSync(join(root, "tftp", "up.bin"))), sha256(fs.readFileSync(big)));
  const again = await tftp("put", small, "up.bin");
  t.regex(again.stdout + again.stderr, /exists/i, "write policy create: an existing file stays");

  // FTP (curl): the whole root for esp, upload and download.
  await curl("-o", join(local, "ftp-image.bin"), `ftp://esp:esp32@${ip}/tftp/image.bin`);
  t.is(sha256(fs.readFileSync(join(local, "ftp-image.bin"))), sha256(image));
  await curl("-T", big, `ftp://esp:esp32@${ip}/ftp-up.bin`);
  t.is(sha256(fs.readFileSync(join(root, "ftp-up.bin"))), sha256(fs.readFileSync(big)));

  sim.process.kill("SIGINT");
  t.is(await sim.exited, 0);
  t.regex(sim.text, /\nstats \{/);
  t.regex(sim.text, /-- device: tftp write up\.bin 4097 bytes/);
  t.regex(sim.text, /-- dhcp: probing -> bound/, "protocol events stay with --quiet");
  t.notRegex(sim.text, /^ +\d+\.\d+ [<>] /m, "no per-frame lines with --quiet");
  const frames = Number(/pcap: .*tap\.pcap \((\d+) frames\)/.exec(sim.text)?.[1]);
  t.true(frames > 100);
  const dissected = execFileSync("tshark", ["-r", pcap], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  t.is(dissected.trim().split("\n").length, frames);
  for (const proto of [/DHCP ACK/, /TFTP/, /FTP/, /HTTP\/1\.1 201/]) t.regex(dissected, proto);
});
