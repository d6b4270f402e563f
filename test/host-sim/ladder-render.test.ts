// The ladder through other people's tools: rsvg-convert (librsvg) renders it to a PNG that is
// not blank, and captures written by tshark, not by us, draw as well as ours.

import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { readCaptureFile } from "../../host-sim/capture.ts";
import { drawLadder } from "../../host-sim/ladder/index.ts";
import type { Capture } from "../../host-sim/pcap.ts";
import { mustRun, Netns } from "../../bench/netns.ts";
import { doraCapture, ftpPcap, marksCapture, tempPath } from "../support/ladder-captures.ts";
import { countColour, decodePng, inked, lines, type Png, readLadder } from "../support/ladder-svg.ts";

function read(path: string): Capture {
  const r = readCaptureFile(path);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

/** rsvg-convert's PNG of an SVG, and what it said on stderr. */
function render(svg: string): { png: Png; stderr: string; size: [number, number] } {
  const path = tempPath("ladder.svg");
  writeFileSync(path, svg);
  const r = spawnSync("rsvg-convert", ["--format", "png", "--output", `${path}.png`, path], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`rsvg-convert failed (${r.status}): ${r.stderr}`);
  const size = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg)!;
  return { png: decodePng(readFileSync(`${path}.png`)), stderr: r.stderr, size: [Number(size[1]), Number(size[2])] };
}

const reddish = (png: Png) => {
  let n = 0;
  for (let i = 0; i < png.rgb.length; i += 3) if (png.rgb[i]! > 150 && png.rgb[i + 1]! < 90 && png.rgb[i + 2]! < 90) n++;
  return n;
};

test("rsvg-convert renders the DORA ladder, at its size, with ink on it and the connections' colours in the arrowheads", (t) => {
  const { svg } = drawLadder(doraCapture());
  const { png, stderr, size } = render(svg);
  t.is(stderr, "");
  t.deepEqual([png.width, png.height], size);
  const share = inked(png);
  t.true(share > 0.02 && share < 0.5, `${(share * 100).toFixed(1)} % of the pixels inked`);
  t.true(countColour(png, "#1f77b4") >= 40, "the client's DHCP arrowheads, in the first colour");
  t.true(countColour(png, "#2ca02c") >= 40, "the server's, in the second");
  t.is(reddish(png), 0, "nothing malformed");
});

test("rsvg-convert renders a ladder of hostile, malformed and retransmitted frames, the drops in red", (t) => {
  const { png, stderr } = render(drawLadder(marksCapture()).svg);
  t.is(stderr, "");
  t.true(inked(png) > 0.02);
  t.true(reddish(png) > 50, "the three crossed-out frames and their labels");
});

test("tshark's pcapng of our capture draws the same arrows as the pcap", async (t) => {
  const pcap = ftpPcap();
  const pcapng = pcap.replace(/\.pcap$/, ".pcapng");
  await mustRun("tshark", ["-r", pcap, "-F", "pcapng", "-w", pcapng]);
  const converted = read(pcapng);
  t.is(converted.format, "pcapng");
  const ours = readLadder(drawLadder(read(pcap)).svg);
  const theirs = readLadder(drawLadder(converted).svg);
  t.is(theirs.arrows.length, 32);
  t.deepEqual(lines(theirs), lines(ours));
  t.deepEqual(
    theirs.arrows.map((a) => a.title),
    ours.arrows.map((a) => a.title),
    "to the microsecond",
  );
  t.is(theirs.notes.at(-2), "capture (pcapng): 32 of 32 frames drawn");
});

test("tshark's live capture of a ping between two namespaces draws ARP and ICMP between the right columns, and renders", async (t) => {
  const [a, b] = [await Netns.create(t, "ladder"), await Netns.create(t, "ladder")];
  const [va, vb] = [`lda${process.pid % 100_000}`, `ldb${process.pid % 100_000}`];
  await mustRun("ip", ["link", "add", va, "netns", a.name, "type", "veth", "peer", "name", vb, "netns", b.name]);
  // No IPv6 chatter: the capture holds what the test sends and nothing else.
  for (const ns of [a, b]) await ns.mustRun("sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  await a.addAddress(va, "10.201.0.1/24");
  await b.addAddress(vb, "10.201.0.2/24");
  await a.up(va);
  await b.up(vb);
  const file = tempPath("ping.pcapng");
  // tshark (dumpcap underneath) prints each packet as it writes it (-P): poked with ARP for an
  // address nobody has until it shows one, the capture is surely live before the ping starts.
  const tshark = spawn("ip", ["netns", "exec", a.name, "tshark", "-i", va, "-l", "-P", "-w", file]);
  let printed = "";
  tshark.stdout.on("data", (d: Buffer) => (printed += d));
  const closed = new Promise<number | null>((resolve) => tshark.on("close", resolve));
  const until = async (what: RegExp, poke: () => Promise<unknown>) => {
    for (let i = 0; i < 50 && !what.test(printed); i++) await poke();
    if (!what.test(printed)) throw new Error(`tshark never showed ${what}: ${printed}`);
  };
  await until(/10\.201\.0\.99/, () => a.run("arping", ["-c", "1", "-w", "1", "-I", va, "10.201.0.99"]));
  await a.mustRun("ping", ["-c", "2", "-i", "0.2", "10.201.0.2"]);
  await until(/reply.*seq=2\//, () => new Promise((resolve) => setTimeout(resolve, 100)));
  tshark.kill("SIGINT");
  t.is(await closed, 0);
  const capture = read(file);
  t.is(capture.format, "pcapng");
  const { svg } = drawLadder(capture);
  const d = readLadder(svg);
  t.deepEqual([...d.columns.keys()], ["10.201.0.1", "10.201.0.2", "broadcast"]);
  t.deepEqual(
    lines(d)
      .filter((l) => !l.includes("10.201.0.99"))
      .map((l) => l.replace(/is-at \S+/, "is-at M").replace(/id \d+/, "id I")),
    [
      "10.201.0.1 > broadcast: ARP who-has 10.201.0.2 tell 10.201.0.1",
      "10.201.0.2 > 10.201.0.1: ARP reply 10.201.0.2 is-at M",
      "10.201.0.1 > 10.201.0.2: ICMP echo request, id I, seq 1, length 64",
      "10.201.0.2 > 10.201.0.1: ICMP echo reply, id I, seq 1, length 64",
      "10.201.0.1 > 10.201.0.2: ICMP echo request, id I, seq 2, length 64",
      "10.201.0.2 > 10.201.0.1: ICMP echo reply, id I, seq 2, length 64",
    ],
  );
  const { png, stderr } = render(svg);
  t.is(stderr, "");
  t.true(inked(png) > 0.02);
});
