// The examples run as scripts too, as their headers say.

import test from "ava";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const run = (example: string, ...args: string[]) =>
  execFileSync(process.execPath, ["--import=tsx", fileURLToPath(new URL(`../../examples/${example}`, import.meta.url)), ...args], {
    encoding: "utf8",
    timeout: 120_000,
  });

test("npx tsx examples/http-route.ts prints the trace and the route's answer", (t) => {
  const out = run("http-route.ts");
  t.regex(out, /-- device: address 10\.0\.0\.100\/24/);
  t.regex(out, /HTTP\/1\.1 200 OK\r?\n[\s\S]*\{"celsius":21\.5,"setpoint":21\}\n$/);
});

test("npx tsx examples/lossy-boot.ts SEED prints the lease, the faults and the transfers", (t) => {
  const out = run("lossy-boot.ts", "2");
  t.regex(out, /^lease after \d+\.\d{3} s \(virtual\), faults \{"frames":\d+,"drop":[1-9]/);
  t.regex(out, /TFTP: 65536 bytes; HTTP: 200 /);
});

test("npx tsx examples/replay.ts prints the device's answers to the recorded session", (t) => {
  const out = run("replay.ts");
  t.regex(out, /^ARP announce 10\.0\.0\.2/);
  t.regex(out, /\nIP 10\.0\.0\.2 > 10\.0\.0\.9: ICMP echo reply, id 21315, seq 2, length 40\n/);
});
