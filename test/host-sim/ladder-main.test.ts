// `npm start` draws its own capture: the ladder lands beside the pcap, is named at the end,
// and shows the boot from the first DHCP DISCOVER to the HTTP reply.

import test from "ava";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { drawLadder } from "../../host-sim/ladder/index.ts";
import { readCaptureFile } from "../../host-sim/capture.ts";
import { tempPath } from "../support/ladder-captures.ts";
import { readLadder } from "../support/ladder-svg.ts";

const MAIN = fileURLToPath(new URL("../../host-sim/main.ts", import.meta.url));

test("npm start writes device.svg and device.html beside device.pcap, names them, and the boot reads as a ladder", (t) => {
  const pcap = tempPath("device.pcap");
  const out = execFileSync(process.execPath, ["--import=tsx", MAIN, "--out", pcap], { encoding: "utf8", timeout: 120_000 });
  const base = pcap.replace(/\.pcap$/, "");
  t.is(out.trim().split("\n").at(-1), `ladder: ${base}.html (${base}.svg)`);
  const frames = Number(/pcap: .* \((\d+) frames\)/.exec(out)?.[1]);
  const svg = readFileSync(`${base}.svg`, "utf8");
  t.true(readFileSync(`${base}.html`, "utf8").includes(svg.trim()));
  const all = readLadder(svg);
  t.is(all.arrows.length, frames, "every frame drawn");
  t.false(
    all.arrows.some((a) => a.kinds.includes("malformed") || a.kinds.includes("retransmission")),
    "a lossless LAN",
  );
  t.deepEqual([...all.columns.keys()], ["10.0.0.100", "10.0.0.1", "10.0.0.9", "broadcast"]);

  const capture = readCaptureFile(pcap);
  if (!capture.ok) return t.fail(capture.reason);
  // The README's picture: the boot and the HTTP exchange, without the bulk transfers between.
  const boot = readLadder(drawLadder(capture.value, { protos: ["dhcp", "arp", "dns", "icmp", "http"] }).svg);
  t.regex(boot.arrows[0]!.words, /DHCP DISCOVER/);
  t.is(boot.arrows.filter((a) => a.kinds.includes("dhcp")).length, 4);
  t.truthy(boot.arrows.find((a) => a.app === "HTTP GET /pub/readme.txt HTTP/1.1" && a.src === "10.0.0.9" && a.dst === "10.0.0.100"));
  t.truthy(boot.arrows.find((a) => a.app === "HTTP HTTP/1.1 200 OK" && a.src === "10.0.0.100" && a.dst === "10.0.0.9"));
  const skipped = boot.arrows.findIndex((a, i) => i > 0 && a.n - boot.arrows[i - 1]!.n > 100);
  const hidden = boot.arrows[skipped]!.n - boot.arrows[skipped - 1]!.n - 1;
  t.true(
    boot.idle.some((s) => s.endsWith(`s later (${hidden} frames not drawn)`)),
    "the TFTP and FTP frames left out are counted where they were",
  );
});
