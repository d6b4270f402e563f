import test from "ava";
import { readFileSync } from "node:fs";
import { decodeCapture } from "../../host-sim/pcap.ts";
import { SESSION, recordSession, replayInto } from "../../examples/replay.ts";

const session = new Uint8Array(readFileSync(SESSION));

/** The client's SYN to `port` in the capture: its sequence number. */
function clientIsn(port: number): number {
  const capture = decodeCapture(session);
  if (!capture.ok) throw new Error(capture.reason);
  const syn = capture.value.packets.find((p) => p.data[23] === 6 && ((p.data[36]! << 8) | p.data[37]!) === port && p.data[47] === 0x02);
  if (!syn) throw new Error(`no SYN to ${port}`);
  return new DataView(syn.data.buffer, syn.data.byteOffset).getUint32(38);
}

test("examples/replay.ts: the device answers the recorded session's ARP, pings, echo, SYN and closed port", (t) => {
  const { answers, stats } = replayInto(session);
  t.true(answers.includes("ARP reply 10.0.0.2 is-at 02:00:00:00:00:02"));
  t.is(answers.filter((a) => a.startsWith("IP 10.0.0.2 > 10.0.0.9: ICMP echo reply, id 21315")).length, 2);
  t.true(answers.some((a) => /^IP 10\.0\.0\.2\.7 > 10\.0\.0\.9\.\d+: UDP, length 9$/.test(a)));
  const synAck = answers.find((a) => a.startsWith("IP 10.0.0.2.80 > 10.0.0.9.") && a.includes("Flags [S.]"));
  t.regex(synAck ?? "", new RegExp(`, ack ${(clientIsn(80) + 1) >>> 0},`), "the SYN-ACK acknowledges the client's SYN");
  t.true(
    answers.some((a) => /^IP 10\.0\.0\.2\.23 > 10\.0\.0\.9\.\d+: Flags \[R\.\]/.test(a)),
    "a reset from the closed port",
  );
  t.deepEqual(stats.drops, { "tcp-no-listener": 1 }, "the SYN to the closed port, and nothing else");
});

test("examples/replay.ts: a session recorded now replays into the same answers, the device's own frames left out", (t) => {
  const fresh = recordSession();
  const replayed = replayInto(fresh);
  const recorded = decodeCapture(fresh);
  if (!recorded.ok) return t.fail(recorded.reason);
  // The device sent as many frames in the replay as when recording (its own were not replayed to it).
  const fromDevice = recorded.value.packets.filter((p) => p.data[6] === 2 && p.data[11] === 2).length;
  t.is(replayed.answers.length, fromDevice);
  t.true(
    replayed.answers.some((a) => a.startsWith("IP 10.0.0.2.80 > 10.0.0.9.") && a.includes("length 182")),
    "the HTTP response, as recorded",
  );
});
