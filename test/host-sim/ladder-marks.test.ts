// What the ladder marks and what it leaves out: retransmissions, frames our decoders reject,
// hostile text, captures that are not Ethernet, the filters and the cap, and the command line.

import test from "ava";
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { drawLadder, type LadderOptions } from "../../host-sim/ladder/index.ts";
import { type Capture, encodePcap } from "../../host-sim/pcap.ts";
import { parseIp } from "../../modules/wire/address.ts";
import { encodeIcmp, icmpLength } from "../../modules/wire/icmp.ts";
import { encodeIpv4, ipv4Length, IP_PROTO_ICMP } from "../../modules/wire/ipv4.ts";
import { ARP_REQUEST, encodeArp } from "../../modules/wire/arp.ts";
import { bulkCapture, ftpCapture, ftpPcap, lossyUpload, HOSTILE_LINE, HOSTILE_NAME, marksCapture, packet, tempPath } from "../support/ladder-captures.ts";
import { holds } from "../support/helpers.ts";
import { type Drawn, readLadder } from "../support/ladder-svg.ts";

const CLI = fileURLToPath(new URL("../../host-sim/ladder/cli.ts", import.meta.url));
const draw = (c: Capture, o: LadderOptions = {}): Drawn => readLadder(drawLadder(c, o).svg);

test("a segment resending bytes already sent is a retransmission, whole or overlapping; new data and pure ACKs are not", (t) => {
  const d = draw(marksCapture());
  t.deepEqual(
    d.arrows.filter((a) => a.kinds.includes("retransmission")).map((a) => a.n),
    [5, 7],
  );
  t.true(d.arrows[4]!.words.startsWith("[retransmission] 40000 > 21 Flags [P.], seq 1:48"));
  t.is(
    d.notes.at(-1),
    "2 retransmitted, 3 malformed (red, crossed: our decoders reject them), 1 for a TCP/UDP checksum (if captured on the sender, its NIC fills them in: --ignore-checksums)",
  );
});

test("under seeded loss, every segment the client sent and lost is followed by a marked retransmission of its bytes", (t) => {
  for (const seed of [1, 2, 3]) {
    const { sent, arrived } = lossyUpload(seed);
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    // What the client sent that never reached the LAN, in order (what it received all arrived).
    const reached = arrived.packets.map((p) => hex(p.data));
    let next = 0;
    const lost: number[] = [];
    sent.packets.forEach((p, i) => {
      if (reached[next] === hex(p.data)) next++;
      else lost.push(i + 1);
    });
    t.is(next, reached.length);
    const d = draw(sent);
    const range = (a: Drawn["arrows"][number]) => /seq (\d+):(\d+)/.exec(a.words)?.slice(1).map(Number);
    const lostData = d.arrows.filter((a) => lost.includes(a.n) && range(a));
    t.true(lostData.length > 0, `seed ${seed} lost some data`);
    for (const a of lostData) {
      const [from, to] = range(a)!;
      const resent = d.arrows.find((b) => b.n > a.n && b.conn === a.conn && b.src === a.src && range(b) && range(b)![0]! <= from! && range(b)![1]! > from!);
      t.truthy(resent, `seed ${seed}: #${a.n} (${from}:${to}) resent`);
      t.true(resent!.kinds.includes("retransmission"), `seed ${seed}: #${resent!.n} marked`);
    }
    t.false(
      d.arrows.some((a) => a.kinds.includes("retransmission") && a.n < Math.min(...lost)),
      "nothing marked before the first loss",
    );
  }
});

test("frames our decoders reject are crossed out in red with the decoder's reason, wherever the trace names it or not", (t) => {
  const { svg } = drawLadder(marksCapture());
  const d = readLadder(svg);
  const malformed = d.arrows.filter((a) => a.kinds.includes("malformed"));
  t.deepEqual(
    malformed.map((a) => [a.n, a.src, a.dst, a.words]),
    [
      [9, "192.168.7.10", "192.168.7.20", "[tcp-bad-checksum] 40000 > 21 Flags [P.], seq 248:258, ack 1, length 10"],
      [10, "?", "?", "[eth-short] 10 bytes"],
      [11, "192.168.7.10", "192.168.7.20", "[tftp-bad-opcode] 40001 > 69 UDP length 4"],
    ],
  );
  t.true(malformed.every((a) => a.stroke === "#d00000"));
  t.is(svg.match(/<path class="drop"/g)?.length, 3, "one cross each");
  t.regex(malformed[0]!.title, /^#9 0\.080000 s: \[tcp-bad-checksum\] IP 192\.168\.7\.10\.40000 > 192\.168\.7\.20\.21: Flags \[P\.\], seq 1248, ack 5001/);
});

test("told that the capture's host offloads checksums, a bad TCP checksum is no fault; the rest still are", (t) => {
  const d = draw(marksCapture(), { ignoreChecksums: true });
  t.deepEqual(
    d.arrows.filter((a) => a.kinds.includes("malformed")).map((a) => a.n),
    [10, 11],
  );
  t.is(d.arrows[8]!.words, "40000 > 21 Flags [P.], seq 248:258, ack 1, length 10");
  t.is(d.notes.at(-1), "2 retransmitted, 2 malformed (red, crossed: our decoders reject them)");
});

test("text from the capture is escaped: no markup gets through, control characters are shown as \\xNN", (t) => {
  const { svg, html } = drawLadder(marksCapture(), { title: "<b>&'cap\"</b>" });
  for (const page of [svg, html]) {
    t.false(/<script|<svg onload|<b>/.test(page));
    t.false(
      [...page].some((c) => c < " " && c !== "\n"),
      "no control characters",
    );
  }
  const d = readLadder(svg);
  const visible = (s: string) => s.replace("\u0001", "\\x01").replace("\u0007", "\\x07").replace("\u001b", "\\x1b");
  t.is(d.arrows[3]!.app, `FTP ${visible(HOSTILE_LINE)}`);
  t.is(d.arrows[11]!.app, `TFTP RRQ ${visible(HOSTILE_NAME)} octet`);
  t.true(d.arrows[3]!.title.endsWith("length 47"));
  t.true(html.includes("<title>Ladder of &lt;b&gt;&amp;&#39;cap&quot;&lt;/b&gt;</title>"));
  t.is(d.notes.at(-2), "<b>&'cap\"</b> (pcap): 13 of 13 frames drawn");
});

test("raw IP and Linux cooked (SLL, SLL2) captures draw like Ethernet ones", (t) => {
  const a = parseIp("10.1.0.1")!;
  const b = parseIp("10.1.0.2")!;
  const m = { kind: "echo-request" as const, code: 0, id: 7, seq: 1, data: new Uint8Array(8) };
  const icmp = new Uint8Array(icmpLength(m));
  encodeIcmp(m, icmp);
  const p = {
    dscp: 0,
    ecn: 0,
    id: 1,
    df: true,
    mf: false,
    fragmentOffsetBytes: 0,
    ttl: 64,
    protocol: IP_PROTO_ICMP,
    src: a,
    dst: b,
    options: new Uint8Array(0),
    payload: icmp,
  };
  const ip = new Uint8Array(ipv4Length(p));
  encodeIpv4(p, ip);
  const arp = new Uint8Array(28);
  encodeArp({ op: ARP_REQUEST, senderMac: Uint8Array.of(2, 0, 0, 0, 0, 1), senderIp: a, targetMac: new Uint8Array(6), targetIp: b }, arp);
  const sll = (type: number, pkttype: number, body: Uint8Array) =>
    Uint8Array.of(0, pkttype, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, type >> 8, type & 0xff, ...body);
  const sll2 = (type: number, pkttype: number, body: Uint8Array) =>
    Uint8Array.of(type >> 8, type & 0xff, 0, 0, 0, 0, 0, 2, 0, 1, pkttype, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...body);
  const capture: Capture = {
    format: "pcap",
    packets: [
      packet(ip, 0, 101),
      packet(sll(0x800, 4, ip), 1, 113),
      packet(sll(0x806, 1, arp), 2, 113),
      packet(sll2(0x800, 4, ip), 3, 276),
      packet(ip, 4, 147),
    ],
  };
  const d = draw(capture);
  t.deepEqual(
    d.arrows.map((x) => `${x.src} > ${x.dst}: ${x.words}`),
    [
      "10.1.0.1 > 10.1.0.2: ICMP echo request, id 7, seq 1, length 16",
      "10.1.0.1 > 10.1.0.2: ICMP echo request, id 7, seq 1, length 16",
      "10.1.0.1 > broadcast: ARP who-has 10.1.0.2 tell 10.1.0.1",
      "10.1.0.1 > 10.1.0.2: ICMP echo request, id 7, seq 1, length 16",
      "? > ?: [linktype-147] link type 147, length 36",
    ],
  );
});

test("filters by protocol, port, host and time window, each alone and together, and the cap says how many more matched", (t) => {
  const capture = ftpCapture();
  const all = draw(capture);
  const times = new Map(all.arrows.map((a) => [a.n, Number(/^#\d+ ([\d.]+) s/.exec(a.title)![1])]));
  const numbers = (o: LadderOptions) => draw(capture, o).arrows.map((a) => a.n);
  const where = (keep: (a: Drawn["arrows"][number]) => boolean) => all.arrows.filter(keep).map((a) => a.n);
  t.is(all.arrows.length, 32);
  t.deepEqual(numbers({ protos: ["arp"] }), [1, 2]);
  t.deepEqual(
    numbers({ ports: [21] }),
    where((a) => !!a.conn?.includes(":21 ")),
  );
  t.deepEqual(
    numbers({ protos: ["ftp-data"] }),
    where((a) => !!a.conn && a.conn !== all.arrows[2]!.conn),
  );
  t.deepEqual(numbers({ hosts: ["broadcast"] }), [1]);
  t.deepEqual(numbers({ hosts: ["02:00:00:00:00:02"] }), numbers({ hosts: ["10.0.0.2"] }));
  const [from, to] = [times.get(10)!, times.get(20)!];
  t.true(from < to);
  t.deepEqual(
    numbers({ from, to }),
    where((a) => times.get(a.n)! >= from && times.get(a.n)! <= to),
  );
  t.deepEqual(
    numbers({ protos: ["tcp"], ports: [21], from, to }),
    numbers({ from, to }).filter((n) => numbers({ ports: [21] }).includes(n)),
  );
  const capped = draw(capture, { protos: ["tcp"], max: 5 });
  t.deepEqual(
    capped.arrows.map((a) => a.n),
    [3, 4, 5, 6, 7],
  );
  t.is(capped.notes.at(-2), "capture (pcap): 5 of 32 frames drawn, filter: proto tcp; 25 more matched (raise --max or narrow --from/--to)");
});

test("a 10 000-frame capture gives a picture of 500 rows by default, and a time window picks out its part", (t) => {
  const capture = bulkCapture(10_000);
  const { svg, shown, total } = drawLadder(capture);
  t.deepEqual([shown, total], [500, 10_000]);
  const d = readLadder(svg);
  t.deepEqual(
    d.arrows.map((a) => a.n),
    Array.from({ length: 500 }, (_, i) => i + 1),
  );
  t.true(Number(/height="(\d+)"/.exec(svg)![1]) < 500 * 40 + 1000, "one row per frame");
  t.is(d.notes.at(-2), "capture (pcap): 500 of 10000 frames drawn; 9500 more matched (raise --max or narrow --from/--to)");
  // Each block of 1000 frames spans 9.99 s and starts 2 s after the last: frames 2001-3000 from
  // 23.98 s, 3001-4000 from 35.97 s. From 30 to 40 s: 2603-3000, the quiet, then 3001-3404.
  const window = readLadder(drawLadder(capture, { from: 30, to: 40, max: 10_000 }).svg);
  t.deepEqual(
    window.arrows.map((a) => a.n),
    Array.from({ length: 802 }, (_, i) => 2603 + i),
  );
  t.deepEqual(window.idle, ["… 2.000 s later"]);
});

test("property: any bytes, of any of the link types read, draw one arrow per frame and never break the SVG", (t) => {
  const frames = ftpCapture().packets.map((p) => p.data);
  const damaged = fc.record({
    frame: fc.nat(frames.length - 1),
    flips: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }),
    cut: fc.nat(),
    linkType: fc.constantFrom(1, 1, 1, 101, 113, 276, 0),
  });
  const noise = fc.record({ data: fc.uint8Array({ maxLength: 120 }), linkType: fc.constantFrom(1, 101, 113, 276) });
  holds(
    t,
    fc.property(fc.array(fc.oneof(damaged, noise), { minLength: 1, maxLength: 12 }), (specs) => {
      const packets = specs.map((s, i) => {
        if ("data" in s) return packet(s.data, i, s.linkType);
        const data = frames[s.frame]!.slice(0, Math.max(1, frames[s.frame]!.length - (s.cut % 40)));
        for (const [at, v] of s.flips) data[at % data.length] = v;
        return packet(data, i, s.linkType);
      });
      const { svg } = drawLadder({ format: "pcap", packets });
      const d = readLadder(svg);
      return d.arrows.length === packets.length && ![...svg].some((c) => c < " " && c !== "\n") && !/<(?!\/?(svg|title|rect|g|text|line|path)[ >/])/.test(svg);
    }),
    { numRuns: 300, seed: 12 },
  );
});

test("npm run ladder writes the SVG and the page beside the capture or where --out says, and fails in one line", (t) => {
  const pcap = ftpPcap();
  const run = (...args: string[]) => spawnSync(process.execPath, ["--import=tsx", CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  const beside = run(pcap, "--proto", "ftp-data,arp");
  t.is(beside.status, 0, beside.stderr);
  const base = pcap.replace(/\.pcap$/, "");
  t.is(beside.stdout.trim(), `ladder: ${base}.html and ${base}.svg (11 of 32 frames)`);
  t.is(readLadder(readFileSync(`${base}.svg`, "utf8")).arrows.length, 11);
  t.true(readFileSync(`${base}.html`, "utf8").includes(readFileSync(`${base}.svg`, "utf8").trim()));
  const out = tempPath("new/folder/picture");
  const there = run(pcap, "--out", out, "--port", "21", "--max", "4", "--idle", "0");
  t.is(there.status, 0, there.stderr);
  t.is(readLadder(readFileSync(`${out}.svg`, "utf8")).arrows.length, 4);
  for (const [args, status, message] of [
    [["--ignore-checksums=yes", pcap], 2, /^Option '--ignore-checksums' does not take an argument/],
    [["--max", "0", pcap], 2, /^--max "0": not an integer from 1\nusage: npm run ladder -- FILE\.pcap/],
    [["--port", "http", pcap], 2, /^--port "http": not an integer from 0 to 65535\n/],
    [[], 2, /^name one capture file\n/],
    [[`${base}.missing`], 1, /^ladder: ENOENT: no such file or directory/],
    [[`${base}.html`], 1, /^ladder: cannot read .*\.html: pcap-bad-magic\n$/],
  ] as const) {
    const r = run(...args);
    t.is(r.status, status, args.join(" "));
    t.regex(r.stderr, message);
  }
  t.false(existsSync(`${base}.missing.svg`));
});

test("a pcap file written by us and read back draws the same ladder as the capture in memory", (t) => {
  const capture = marksCapture();
  const path = tempPath("marks.pcap");
  writeFileSync(path, encodePcap(capture.packets));
  const r = spawnSync(process.execPath, ["--import=tsx", CLI, path], { encoding: "utf8", timeout: 60_000 });
  t.is(r.status, 0, r.stderr);
  const fromFile = readLadder(readFileSync(path.replace(/\.pcap$/, ".svg"), "utf8"));
  t.deepEqual(fromFile.arrows, draw(capture).arrows);
});
