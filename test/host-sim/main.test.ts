// `npm start`, the simulator's embedded default, as a user runs it: no root, no set-up.

import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../host-sim/main.ts", import.meta.url));

test("the device leases an address, resolves a name, answers ping and echo, serves TFTP, FTP (both modes) and HTTP, and the pcap opens in tshark", (t) => {
  const pcap = join(mkdtempSync(join(tmpdir(), "main-")), "device.pcap");
  const out = execFileSync(process.execPath, ["--import=tsx", MAIN, "--out", pcap], { encoding: "utf8", timeout: 120_000 });
  t.regex(out, /DHCP DISCOVER/);
  t.regex(out, /device: bound to 10\.0\.0\.100/);
  t.regex(out, /device: www\.lan is 10\.0\.0\.1 \(canonical infra\.lan/);
  t.is(out.match(/client: echo reply from 10\.0\.0\.100/g)?.length, 3);
  t.regex(out, /echo service answered "hello, device"/);
  t.regex(out, /ICMP unreachable code 3/);
  t.regex(out, /TFTP got pub\/firmware\.bin, 20000 bytes, identical/);
  t.regex(out, /client: FTP LIST: -r--r--r-- 1 ftp ftp +20000 .* firmware\.bin/);
  t.regex(out, /FTP RETR in passive mode: 226, 20000 bytes, identical/);
  t.regex(out, /FTP RETR in active mode: 226, 20000 bytes, identical/);
  t.regex(out, /HTTP GET \/pub\/readme\.txt: HTTP\/1\.1 200 OK, body "Served by the simulated device\."/);
  const frames = Number(/pcap: .* \((\d+) frames\)/.exec(out)?.[1]);
  t.true(frames > 20);
  const dissected = execFileSync("tshark", ["-r", pcap], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  t.is(dissected.trim().split("\n").length, frames);
  t.regex(dissected, /DHCP ACK/);
  t.regex(dissected, /TFTP/);
});

test("--replay plays a capture's other hosts into the device (10.0.0.2), which answers for itself", (t) => {
  const session = fileURLToPath(new URL("../../examples/captures/session.pcap", import.meta.url));
  const pcap = join(mkdtempSync(join(tmpdir(), "main-replay-")), "replay.pcap");
  const out = execFileSync(process.execPath, ["--import=tsx", MAIN, "--replay", session, "--out", pcap], { encoding: "utf8", timeout: 120_000 });
  t.regex(out, /< ARP who-has 10\.0\.0\.2 tell 10\.0\.0\.9\n.*> ARP reply 10\.0\.0\.2 is-at 02:00:00:00:00:02\n/);
  t.is(out.match(/> IP 10\.0\.0\.2 > 10\.0\.0\.9: ICMP echo reply/g)?.length, 2);
  t.regex(out, /> IP 10\.0\.0\.2\.7 > 10\.0\.0\.9\.\d+: UDP, length 9\n/);
  t.regex(out, /> IP 10\.0\.0\.2\.80 > 10\.0\.0\.9\.\d+: Flags \[S\.\]/);
  t.regex(out, /> IP 10\.0\.0\.2\.23 > 10\.0\.0\.9\.\d+: Flags \[R\.\]/);
  t.regex(out, /pcap: .*replay\.pcap \(\d+ frames\)/);
});
