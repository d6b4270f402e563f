// Example: a capture recorded once (examples/captures/session.pcap: a client at 10.0.0.9 that
// ARPs for the device, pings it, uses its UDP echo service, opens a connection to its HTTP
// port and knocks on a closed one) is played back into a fresh device, and the test checks
// what the device answers. Capture your own with tcpdump, Wireshark or a scenario's pcap.
// Answers that hang on the device's own random choices (TCP sequence numbers, TFTP ports)
// match the capture only when it was recorded with the same seed and firmware.
//   npx tsx examples/replay.ts [FILE]   prints the device's answers (default the session)
//   npx tsx examples/replay.ts --record writes examples/captures/session.pcap anew
// test/examples/replay.test.ts checks the answers.

import { readFileSync, writeFileSync } from "node:fs";
import { Scenario, parseIp, type FirmwareConfig } from "mcu-netstack/host-sim";

export const SESSION = new URL("./captures/session.pcap", import.meta.url);

/** The device of the session: the firmware core at 10.0.0.2, with HTTP and UDP echo. */
export const DEVICE: FirmwareConfig = { hostname: "replayed", address: "10.0.0.2/24,10.0.0.1", http: { root: "", put: false }, echo: true };

/** Plays `capture` (pcap or pcapng bytes) into the device; returns the scenario's trace, stats and pcap. */
export function replayInto(capture: Uint8Array) {
  const sim = new Scenario({ dhcp: false });
  sim.device({ config: DEVICE, files: { "index.html": "<p>replayed</p>\n" } });
  const playing = sim.replay(capture);
  sim.runUntil(() => playing.remaining === 0);
  sim.runFor(1000);
  const result = sim.result();
  /** What the device sent, without the time stamps. */
  const answers = result.trace.flatMap((l) => /^ *[\d.]+ > (.*)$/.exec(l)?.slice(1) ?? []);
  return { ...result, answers };
}

/** How the session was recorded: the same device, and a client of the scenario API. */
export function recordSession(): Uint8Array {
  const sim = new Scenario({ dhcp: false });
  sim.device({ config: DEVICE, files: { "index.html": "<p>replayed</p>\n" } });
  const device = parseIp("10.0.0.2")!;
  const client = sim.client();
  client.ping(device, 2);
  client.stack.udp.pcb().sendTo(new TextEncoder().encode("echo this"), device, 7);
  sim.runFor(1000);
  client.http(device, "/index.html");
  client.stack.tcp.connect(device, 23, () => {}); // a closed port: the device resets
  sim.runFor(1000);
  return sim.result().pcap;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  if (process.argv[2] === "--record") writeFileSync(SESSION, recordSession());
  else for (const line of replayInto(new Uint8Array(readFileSync(process.argv[2] ?? SESSION))).answers) console.log(line);
}
