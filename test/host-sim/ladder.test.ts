// Golden ladders of exchanges recorded on the virtual LAN: a DHCP lease (DORA) and an FTP
// download in passive mode. The SVG is read back: each arrow's columns, geometry, colour and
// words, in order.

import test, { type ExecutionContext } from "ava";
import { drawLadder, type LadderOptions } from "../../host-sim/ladder/index.ts";
import type { Capture } from "../../host-sim/pcap.ts";
import { doraCapture, ftpCapture } from "../support/ladder-captures.ts";
import { type Drawn, lines, readLadder } from "../support/ladder-svg.ts";

function draw(capture: Capture, o: LadderOptions = {}): Drawn {
  return readLadder(drawLadder(capture, o).svg);
}

/** Every arrow leaves its sender's column and ends at its receiver's, in its connection's one colour. */
function assertGeometry(t: ExecutionContext, d: Drawn): void {
  const colourOf = new Map<string, string>();
  for (const a of d.arrows) {
    const from = d.columns.get(a.src)!;
    const to = d.columns.get(a.dst)!;
    t.is(a.x1, from, `#${a.n} starts at ${a.src}`);
    t.true(Math.abs(a.x2 - to) <= 3 && Math.sign(a.x2 - a.x1) === Math.sign(to - from), `#${a.n} ends at ${a.dst}`);
    if (!a.conn) continue;
    t.is(colourOf.get(a.conn) ?? a.stroke, a.stroke, `#${a.n} has its connection's colour`);
    colourOf.set(a.conn, a.stroke);
  }
  t.is(new Set(colourOf.values()).size, colourOf.size, "each connection its own colour");
}

test("DORA: DISCOVER, OFFER, REQUEST and ACK between the device's and the server's columns, one xid, then the ARP probes with their idle gaps marked", (t) => {
  const d = draw(doraCapture());
  t.deepEqual([...d.columns.keys()], ["10.0.0.100", "10.0.0.1", "broadcast"], "the device's column is named by the address it leased");
  const xids = new Set(lines(d).flatMap((l) => /xid (0x[0-9a-f]{8})/.exec(l)?.[1] ?? []));
  t.is(xids.size, 1);
  t.deepEqual(
    lines(d).map((l) => l.replace(/xid 0x[0-9a-f]{8}/, "xid X")),
    [
      "10.0.0.100 > broadcast: 68 > 67 UDP DHCP DISCOVER xid X",
      "10.0.0.1 > broadcast: 67 > 68 UDP DHCP OFFER 10.0.0.100 xid X",
      "10.0.0.100 > broadcast: 68 > 67 UDP DHCP REQUEST for 10.0.0.100 xid X",
      "10.0.0.1 > broadcast: 67 > 68 UDP DHCP ACK 10.0.0.100 xid X",
      "10.0.0.100 > broadcast: ARP probe who-has 10.0.0.100 from 02:00:00:00:00:02",
      "10.0.0.100 > broadcast: ARP probe who-has 10.0.0.100 from 02:00:00:00:00:02",
      "10.0.0.100 > broadcast: ARP probe who-has 10.0.0.100 from 02:00:00:00:00:02",
      "10.0.0.100 > broadcast: ARP announce 10.0.0.100 is-at 02:00:00:00:00:02",
    ],
  );
  t.deepEqual(
    d.arrows.map((a) => a.kinds.filter((k) => k !== "frame").join(" ")),
    ["ip udp dhcp", "ip udp dhcp", "ip udp dhcp", "ip udp dhcp", "arp", "arp", "arp", "arp"],
  );
  t.deepEqual(
    d.arrows.map((a) => a.conn),
    [
      "udp 0.0.0.0:68 255.255.255.255:67",
      "udp 10.0.0.1:67 255.255.255.255:68",
      "udp 0.0.0.0:68 255.255.255.255:67",
      "udp 10.0.0.1:67 255.255.255.255:68",
      undefined,
      undefined,
      undefined,
      undefined,
    ],
  );
  assertGeometry(t, d);
  // The probes go out about a second apart: each gap over the 0.5 s default is one mark.
  t.deepEqual(d.idle, ["… 1.000 s later", "… 1.000 s later", "… 2.000 s later"]);
  t.deepEqual(draw(doraCapture(), { idle: 5 }).idle, []);
  t.regex(d.arrows[0]!.title, /^#1 0\.000000 s: IP 0\.0\.0\.0\.68 > 255\.255\.255\.255\.67: UDP DHCP DISCOVER/, "the whole trace line in the tooltip");
});

test("FTP passive: the control connection's commands and replies, the data connection PASV named, in two colours, seq and ack relative", (t) => {
  const d = draw(ftpCapture());
  t.deepEqual([...d.columns.keys()], ["10.0.0.3", "10.0.0.2", "broadcast"]);
  // Ports the stacks chose at random get names, in order of appearance.
  const names = new Map<string, string>();
  const name = (port: string) => {
    if (!names.has(port)) names.set(port, `P${names.size + 1}`);
    return names.get(port)!;
  };
  const golden = lines(d).map((l) => l.replace(/\b\d{5}\b/g, name));
  const pasv = /\(10,0,0,2,(\d+),(\d+)\)/.exec(golden.join("\n"))!;
  t.is(names.get(String(Number(pasv[1]) * 256 + Number(pasv[2]))), "P3", "the data connection goes to the port PASV named");
  t.deepEqual(
    golden.map((l) => l.replace(pasv[0], "(10,0,0,2,P3)")),
    [
      "10.0.0.3 > broadcast: ARP who-has 10.0.0.2 tell 10.0.0.3",
      "10.0.0.2 > 10.0.0.3: ARP reply 10.0.0.2 is-at 02:00:00:00:00:02",
      "10.0.0.3 > 10.0.0.2: P1 > 21 Flags [S], seq 0, length 0",
      "10.0.0.2 > 10.0.0.3: 21 > P1 Flags [S.], seq 0, ack 1, length 0",
      "10.0.0.3 > 10.0.0.2: P1 > 21 Flags [.], seq 1, ack 1, length 0",
      "10.0.0.2 > 10.0.0.3: FTP 220 FTP server ready | 21 > P1 Flags [P.], seq 1:23, ack 1, length 22",
      "10.0.0.3 > 10.0.0.2: FTP USER anonymous | P1 > 21 Flags [P.], seq 1:17, ack 23, length 16",
      "10.0.0.2 > 10.0.0.3: FTP 331 Anonymous login ok, send your email address as password | 21 > P1 Flags [P.], seq 23:84, ack 17, length 61",
      "10.0.0.3 > 10.0.0.2: FTP PASS guest | P1 > 21 Flags [P.], seq 17:29, ack 84, length 12",
      "10.0.0.2 > 10.0.0.3: FTP 230 Login successful, read-only access | 21 > P1 Flags [P.], seq 84:124, ack 29, length 40",
      "10.0.0.3 > 10.0.0.2: FTP TYPE I | P1 > 21 Flags [P.], seq 29:37, ack 124, length 8",
      "10.0.0.2 > 10.0.0.3: FTP 200 Switching to Binary mode | 21 > P1 Flags [P.], seq 124:154, ack 37, length 30",
      "10.0.0.3 > 10.0.0.2: FTP PASV | P1 > 21 Flags [P.], seq 37:43, ack 154, length 6",
      "10.0.0.2 > 10.0.0.3: FTP 227 Entering Passive Mode (10,0,0,2,P3). | 21 > P1 Flags [P.], seq 154:201, ack 43, length 47",
      "10.0.0.3 > 10.0.0.2: P2 > P3 Flags [S], seq 0, length 0",
      "10.0.0.3 > 10.0.0.2: FTP RETR data.bin | P1 > 21 Flags [P.], seq 43:58, ack 201, length 15",
      "10.0.0.2 > 10.0.0.3: P3 > P2 Flags [S.], seq 0, ack 1, length 0",
      "10.0.0.3 > 10.0.0.2: P2 > P3 Flags [.], seq 1, ack 1, length 0",
      "10.0.0.2 > 10.0.0.3: FTP 150 Opening BINARY mode data connection for /data.bin (3000 bytes) | 21 > P1 Flags [P.], seq 201:269, ack 58, length 68",
      "10.0.0.2 > 10.0.0.3: P3 > P2 Flags [.], seq 1:1461, ack 1, length 1460",
      "10.0.0.2 > 10.0.0.3: P3 > P2 Flags [P.], seq 1461:2049, ack 1, length 588",
      "10.0.0.3 > 10.0.0.2: P2 > P3 Flags [.], seq 1, ack 2049, length 0",
      "10.0.0.2 > 10.0.0.3: P3 > P2 Flags [FP.], seq 2049:3001, ack 1, length 952",
      "10.0.0.3 > 10.0.0.2: P2 > P3 Flags [F.], seq 1, ack 3002, length 0",
      "10.0.0.2 > 10.0.0.3: FTP 226 Transfer complete | 21 > P1 Flags [P.], seq 269:292, ack 58, length 23",
      "10.0.0.3 > 10.0.0.2: P1 > 21 Flags [.], seq 58, ack 292, length 0",
      "10.0.0.3 > 10.0.0.2: FTP QUIT | P1 > 21 Flags [P.], seq 58:64, ack 292, length 6",
      "10.0.0.2 > 10.0.0.3: P3 > P2 Flags [.], seq 3002, ack 2, length 0",
      "10.0.0.2 > 10.0.0.3: FTP 221 Goodbye | 21 > P1 Flags [P.], seq 292:305, ack 64, length 13",
      "10.0.0.2 > 10.0.0.3: 21 > P1 Flags [F.], seq 305, ack 64, length 0",
      "10.0.0.3 > 10.0.0.2: P1 > 21 Flags [F.], seq 64, ack 306, length 0",
      "10.0.0.2 > 10.0.0.3: 21 > P1 Flags [.], seq 306, ack 65, length 0",
    ],
  );
  assertGeometry(t, d);
  const data = d.arrows.filter((a) => a.kinds.includes("ftp-data"));
  t.is(data.length, 9, "the data connection's frames are tagged as such");
  t.true(data.every((a) => a.kinds.includes("ftp") && a.conn === data[0]!.conn));
  t.is(new Set(d.arrows.filter((a) => a.conn).map((a) => a.stroke)).size, 2, "control and data in two colours");
  t.false(d.arrows.some((a) => a.kinds.includes("retransmission") || a.kinds.includes("malformed")));
  t.regex(
    d.arrows[2]!.title,
    /Flags \[S\], seq \d{4,}, win \d+, options \[mss 1460,sackOK\], length 0$/,
    "the tooltip keeps the trace's absolute numbers and options",
  );
  t.deepEqual(
    d.notes.slice(0, 3),
    [d.arrows[2]!.conn, data[0]!.conn, "capture (pcap): 32 of 32 frames drawn"],
    "a legend line per connection, then the caption",
  );
});
