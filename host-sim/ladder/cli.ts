// npm run ladder -- FILE.pcap [options]: draws a pcap or pcapng file as a ladder diagram,
// FILE.svg and FILE.html beside it.
//   --out BASE         write BASE.svg and BASE.html instead
//   --host ADDR        only frames from or to this IP or MAC (repeatable, or comma-separated)
//   --port N           only TCP/UDP frames from or to this port (likewise)
//   --proto NAME       only arp, icmp, udp, tcp, dhcp, dns, tftp, ftp, http, ... (likewise)
//   --from S, --to S   only frames in this window, in seconds from the first frame
//   --max N            draw at most N frames (default 500)
//   --idle S           cut gaps longer than S seconds short, marked (default 0.5)
//   --ignore-checksums TCP/UDP checksums that do not add up are no fault (captured on a
//                      host whose NIC computes them)

import { parseArgs } from "node:util";
import { DEFAULT_MAX_FRAMES } from "./filter.ts";
import { writeLadder } from "./index.ts";

const USAGE =
  "usage: npm run ladder -- FILE.pcap [--out BASE] [--host ADDR] [--port N] [--proto NAME] [--from S] [--to S] [--max N] [--idle S] [--ignore-checksums]";

function main(): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { file, options } = parsed;
  let written: ReturnType<typeof writeLadder>;
  try {
    written = writeLadder(file, options);
  } catch (e) {
    console.error(`ladder: ${(e as Error).message}`);
    return 1;
  }
  if (!written.ok) {
    console.error(`ladder: cannot read ${file}: ${written.reason}`);
    return 1;
  }
  const w = written.value;
  console.log(`ladder: ${w.htmlPath} and ${w.svgPath} (${w.shown} of ${w.total} frames)`);
  return 0;
}

function parse() {
  const { values, positionals } = parseArgs({
    options: {
      out: { type: "string" },
      host: { type: "string", multiple: true },
      port: { type: "string", multiple: true },
      proto: { type: "string", multiple: true },
      from: { type: "string" },
      to: { type: "string" },
      max: { type: "string" },
      idle: { type: "string" },
      "ignore-checksums": { type: "boolean" },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new Error("name one capture file");
  const list = (v: string[] | undefined) => v?.flatMap((x) => x.split(",")).filter(Boolean);
  const options = {
    ...(values.out !== undefined && { out: values.out }),
    ...(values.host && { hosts: list(values.host) }),
    ...(values.port && { ports: list(values.port)!.map((p) => number("--port", p, 0, 65535, true)) }),
    ...(values.proto && { protos: list(values.proto)!.map((p) => p.toLowerCase()) }),
    ...(values.from !== undefined && { from: number("--from", values.from, 0, Infinity) }),
    ...(values.to !== undefined && { to: number("--to", values.to, 0, Infinity) }),
    max: values.max === undefined ? DEFAULT_MAX_FRAMES : number("--max", values.max, 1, Infinity, true),
    ...(values.idle !== undefined && { idle: number("--idle", values.idle, 0, Infinity) }),
    ...(values["ignore-checksums"] && { ignoreChecksums: true }),
  };
  return { file: positionals[0]!, options };
}

function number(flag: string, text: string, min: number, max: number, integer = false): number {
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new Error(`${flag} ${JSON.stringify(text)}: not ${integer ? "an integer" : "a number"} from ${min}${max < Infinity ? ` to ${max}` : ""}`);
  }
  return v;
}

process.exitCode = main();
