import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapRecorder, readCaptureFile, replay } from "../../host-sim/capture.ts";
import { VirtualClock } from "../../host-sim/clock.ts";
import { VirtualLan } from "../../host-sim/lan.ts";
import { type Capture, type PcapPacket, encodePcap, timestampFromMs, timestampToMs } from "../../host-sim/pcap.ts";
import type { Link } from "../../modules/platform.ts";
import { type Mac, parseMac } from "../../modules/wire/address.ts";
import { ETHERTYPE_IPV4, encodeEthernet, ethernetLength, type EthernetFrame } from "../../modules/wire/ethernet.ts";
import { toHex } from "../support/helpers.ts";

const A = parseMac("02:00:00:00:00:0a")!;
const B = parseMac("02:00:00:00:00:0b")!;
const EPOCH = 1_700_000_000_000;

function frame(dst: Mac, src: Mac, tag: number): Uint8Array {
  const f: EthernetFrame = { dst, src, ethertype: ETHERTYPE_IPV4, payload: Uint8Array.of(tag, 0, 0, 0) };
  const b = new Uint8Array(ethernetLength(f));
  encodeEthernet(f, b);
  return b;
}

const tempPath = (name: string) => join(mkdtempSync(join(tmpdir(), "capture-")), name);

function read(path: string): Capture {
  const r = readCaptureFile(path);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

/** A link that notes when each transmitted frame left. */
function stubLink(clock: VirtualClock) {
  const sent: { at: number; frame: Uint8Array }[] = [];
  const link: Link = { transmit: (frame) => sent.push({ at: clock.now(), frame }), setReceiver: () => {} };
  return { link, sent };
}

test("the recorder writes frames both ways, stamped with the clock, and passes them through unchanged", (t) => {
  const clock = new VirtualClock();
  const lan = new VirtualLan(clock, { latencyMs: 0.5 });
  const path = tempPath("a.pcap");
  const recorder = new PcapRecorder(lan.attach("a"), clock, path, { epochMs: EPOCH });
  const b = lan.attach("b");
  const atA: Uint8Array[] = [];
  recorder.setReceiver((f) => atA.push(f));
  b.setReceiver((f) => clock.setTimer(2, () => b.transmit(frame(A, B, f[14]! + 1))));
  clock.advance(1000);
  recorder.transmit(frame(B, A, 1));
  clock.runUntilIdle();
  t.is(atA.length, 1);
  t.is(atA[0]![14], 2);
  recorder.close();
  recorder.transmit(frame(B, A, 3)); // still passes, no longer recorded
  clock.runUntilIdle();
  t.is(atA.length, 2);
  t.is(recorder.count, 2);
  const capture = read(path);
  t.deepEqual(
    capture.packets.map((p) => [timestampToMs(p) - EPOCH, toHex(p.data)]),
    [
      [1000, toHex(frame(B, A, 1))],
      [1003, toHex(frame(A, B, 2))], // 0.5 ms to B, 2 ms thinking, 0.5 ms back
    ],
  );
});

/** Ethernet packets at the given offsets (ms) from a fixed epoch. */
function packetsAt(offsets: number[]): PcapPacket[] {
  return offsets.map((ms, i) => {
    const data = frame(B, A, i);
    const { seconds, nanos } = timestampFromMs(ms);
    return { seconds: EPOCH / 1000 + seconds, nanos, data, originalLength: data.length, linkType: 1 };
  });
}

test("replay keeps the original spacing on the virtual clock and runs a 30-second capture instantly", (t) => {
  const clock = new VirtualClock(500);
  const { link, sent } = stubLink(clock);
  const packets = packetsAt([0, 1500, 1500, 30_000]);
  let doneAt = -1;
  const r = replay(packets, link, clock, () => (doneAt = clock.now()));
  if (!r.ok) return t.fail(r.reason);
  t.is(sent.length, 0, "the first frame waits for the clock");
  t.is(r.value.remaining, 4);
  clock.runUntilIdle();
  t.deepEqual(
    sent.map((s) => [s.at, s.frame[14]]),
    [
      [500, 0],
      [2000, 1],
      [2000, 2],
      [30_500, 3],
    ],
  );
  t.is(doneAt, 30_500);
  t.is(r.value.remaining, 0);
  sent[0]!.frame[14] = 99;
  t.is(packets[0]!.data[14], 0, "the link got a copy");
});

test("stamps that go backwards are sent at once, keeping file order", (t) => {
  const clock = new VirtualClock();
  const { link, sent } = stubLink(clock);
  t.true(replay(packetsAt([0, 100, 40, 200]), link, clock).ok);
  clock.runUntilIdle();
  t.deepEqual(
    sent.map((s) => [s.at, s.frame[14]]),
    [
      [0, 0],
      [100, 1],
      [100, 2],
      [200, 3],
    ],
  );
});

test("a cancelled replay sends nothing more", (t) => {
  const clock = new VirtualClock();
  const { link, sent } = stubLink(clock);
  const r = replay(packetsAt([0, 10, 20]), link, clock);
  if (!r.ok) return t.fail(r.reason);
  clock.advance(10);
  r.value.cancel();
  clock.runUntilIdle();
  t.is(sent.length, 2);
});

test("replay refuses packets that are not Ethernet", (t) => {
  const clock = new VirtualClock();
  const { link } = stubLink(clock);
  const packets = packetsAt([0, 1]);
  packets[1]!.linkType = 101; // raw IP
  t.deepEqual(replay(packets, link, clock), { ok: false, reason: "replay-not-ethernet" });
  t.is(clock.pending(), 0);
});

test("a recorded capture replays onto another LAN with the same frames and spacing", (t) => {
  const source = tempPath("source.pcap");
  writeFileSync(source, encodePcap(packetsAt([0, 0.25, 4.901, 7, 7, 12.245, 1234.5])));
  const clock = new VirtualClock();
  const lan = new VirtualLan(clock, { latencyMs: 0.1 });
  const player = lan.attach("player");
  const copyPath = tempPath("copy.pcap");
  const recorder = new PcapRecorder(lan.attach("listener"), clock, copyPath, { epochMs: EPOCH });
  recorder.setReceiver(() => {});
  const original = read(source);
  t.true(replay(original.packets, player, clock).ok);
  clock.runUntilIdle();
  recorder.close();
  const copy = read(copyPath);
  t.deepEqual(
    copy.packets.map((p) => toHex(p.data)),
    original.packets.map((p) => toHex(p.data)),
  );
  // Exact to the microsecond: each frame arrives one 0.1 ms hop after it was sent.
  t.deepEqual(
    copy.packets.map((p) => [p.seconds, p.nanos]),
    original.packets.map((p) => [p.seconds, p.nanos + 100_000]),
  );
});
