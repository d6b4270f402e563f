// Bulk transfers between two stacks on a virtual LAN, each stack's link wrapped in a
// fault injector: 1 MiB each way at once, under loss, duplication, reordering, delay,
// corruption and truncation; a reader slower than the writer; and a one-way transfer
// closed by its sender as an FTP data connection is. The bytes must arrive exactly
// (SHA-256), both sides must close with the FIN handshake, and no err callback may fire.

import test, { type ExecutionContext } from "ava";
import { createHash } from "node:crypto";
import { FaultInjector, type FaultRates } from "../../host-sim/faults.ts";
import { SeededRandom } from "../../host-sim/random.ts";
import type { Clock, Link } from "../../modules/platform.ts";
import { ETHERTYPE_ARP } from "../../modules/wire/ethernet.ts";
import type { TcpConfig, TcpPcb } from "../../modules/stack/tcp.ts";
import { bench, ip } from "../support/bench.ts";
import { unwrap } from "../../modules/wire/result.ts";

const MiB = 1 << 20;

function payload(seed: number, length: number): Uint8Array {
  const r = new SeededRandom(seed);
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) new DataView(b.buffer).setUint32(i, r.u32());
  return b;
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/**
 * How an end finishes: "shutdown" half-closes after its last byte and closes once the
 * peer's FIN arrives; "close" closes right after its last byte (it reads nothing more);
 * "on-fin" only reads, and closes when the peer's FIN arrives.
 */
type Ending = "shutdown" | "close" | "on-fin";

/** One end of the transfer: writes `data` as the send buffer allows and hashes what arrives. */
class Endpoint {
  readonly hash = createHash("sha256");
  received = 0;
  written = 0;
  finSeen = false;
  errors: string[] = [];
  private finished = false;

  constructor(
    readonly pcb: TcpPcb,
    private readonly data: Uint8Array,
    clock: Clock,
    private readonly ending: Ending,
    readDelayMs: number,
  ) {
    pcb.recv((d) => {
      if (d === null) {
        this.finSeen = true;
        if (this.ending === "on-fin" || this.finished) pcb.close();
        return;
      }
      this.hash.update(d);
      this.received += d.length;
      // A slow reader gives the window back late, so the sender meets zero windows.
      if (readDelayMs) clock.setTimer(readDelayMs, () => pcb.recved(d.length));
      else pcb.recved(d.length);
    });
    pcb.sent(() => this.pump());
    pcb.err((reason) => this.errors.push(reason));
    this.pump();
  }

  private pump(): void {
    while (this.written < this.data.length && this.pcb.sndbuf > 0) {
      this.written += this.pcb.write(this.data.subarray(this.written, this.written + this.pcb.sndbuf));
    }
    if (this.written < this.data.length || this.finished || this.ending === "on-fin") return;
    this.finished = true;
    if (this.ending === "close") return this.pcb.close();
    this.pcb.shutdown(); // FIN after the last byte; keep reading the other direction
    if (this.finSeen) this.pcb.close();
  }
}

/**
 * A link whose transmitted frames pass a fault injector. ARP frames get the same loss,
 * duplication, reordering and delay but no corruption or truncation: ARP has no checksum,
 * so a flipped bit in a reply (which real Ethernet's FCS would catch) poisons the cache
 * with a wrong MAC for minutes and no transport could get through.
 */
function faulty(link: Link, clock: Clock, seed: number, rates: FaultRates): FaultInjector {
  const ip = new FaultInjector(link, clock, { seed, rates, direction: "transmit" });
  const sendOnly: Link = { transmit: (f) => link.transmit(f), setReceiver: () => {} }; // frames in reach `ip` only
  const arp = new FaultInjector(sendOnly, clock, { seed: seed + 1, rates: { ...rates, corrupt: 0, truncate: 0 }, direction: "transmit" });
  const transmit = ip.transmit.bind(ip);
  ip.transmit = (frame) => (((frame[12]! << 8) | frame[13]!) === ETHERTYPE_ARP ? arp.transmit(frame) : transmit(frame));
  return ip;
}

interface Run {
  rates: FaultRates;
  seed: number;
  toServer?: number; // bytes the client sends
  toClient?: number;
  serverEnding?: Ending;
  clientEnding?: Ending;
  readDelayMs?: number;
  config?: Partial<TcpConfig>;
}

function transfer(t: ExecutionContext, run: Run): void {
  const { rates, seed, config = {}, readDelayMs = 0 } = run;
  const b = bench(seed);
  const faults: FaultInjector[] = [];
  const wrap = (n: number) => (link: Link) => {
    const f = faulty(link, b.clock, seed * 10 + n, rates);
    faults.push(f);
    return f;
  };
  const tcp = { mslMs: 5_000, ...config };
  const server = b.host(2, { tcp }, wrap(2));
  const client = b.host(3, { tcp }, wrap(3));
  const toServer = payload(seed * 2, run.toServer ?? MiB);
  const toClient = payload(seed * 2 + 1, run.toClient ?? MiB);
  const now = () => b.clock.now();
  let serverEnd: Endpoint | undefined;
  let connectErr = "never called" as string | undefined;
  const listener = unwrap(server.tcp.listen(21, 1));
  listener.accept((pcb) => (serverEnd = new Endpoint(pcb, toClient, b.clock, run.serverEnding ?? "shutdown", readDelayMs)));
  const pcb = unwrap(client.tcp.connect(ip("10.0.0.2"), 21, (err) => (connectErr = err)));
  const clientEnd = new Endpoint(pcb, toServer, b.clock, run.clientEnding ?? "shutdown", readDelayMs);

  // An end that closes right after writing never hears the peer's FIN.
  const over = (e: Endpoint, ending: Ending | undefined) => e.finSeen || ending === "close";
  const done = () =>
    clientEnd.received === toClient.length && serverEnd?.received === toServer.length && over(clientEnd, run.clientEnding) && over(serverEnd, run.serverEnding);
  const finished = b.clock.runUntil(done, 2_000_000);
  const describe = (e: Endpoint | undefined) => e && `${e.pcb.state} got ${e.received} wrote ${e.written} unacked ${e.pcb.unacknowledged} errors ${e.errors}`;
  t.true(finished, `transfer stalled at t=${now()} ms: client ${describe(clientEnd)}; server ${describe(serverEnd)}`);
  const transferMs = now();
  const s = server.netif.stats.counters;
  const c = client.netif.stats.counters;
  const probes = (s.get("tcp.window-probes") ?? 0) + (c.get("tcp.window-probes") ?? 0);
  // Let the closing handshake, retransmitted FINs and TIME-WAIT run out.
  b.clock.runUntilIdle();

  t.is(connectErr, undefined);
  t.is(clientEnd.hash.digest("hex"), sha256(toClient), "client received the server's bytes exactly");
  t.is(serverEnd!.hash.digest("hex"), sha256(toServer), "server received the client's bytes exactly");
  t.deepEqual(clientEnd.errors, []);
  t.deepEqual(serverEnd!.errors, []);
  t.is(pcb.state, "closed");
  t.is(serverEnd!.pcb.state, "closed");
  t.is(client.tcp.connections.length, 0);
  t.is(server.tcp.connections.length, 0);
  if (readDelayMs) t.true(probes > 0, "the slow reader closed the window, so the writers probed it");
  t.true((c.get("tcp.established") ?? 0) === 1 && (s.get("tcp.established") ?? 0) === 1);
  t.log(
    `virtual ${(transferMs / 1000).toFixed(2)} s; retransmits client ${c.get("tcp.retransmits") ?? 0} (timeouts ${c.get("tcp.timeouts") ?? 0}, fast ${c.get("tcp.fast-retransmits") ?? 0}),` +
      ` server ${s.get("tcp.retransmits") ?? 0} (timeouts ${s.get("tcp.timeouts") ?? 0}, fast ${s.get("tcp.fast-retransmits") ?? 0});` +
      ` window probes ${probes};` +
      ` faults ${JSON.stringify(faults.map((f) => f.counts))}`,
  );
}

// At 20% loss each way the backoff can take the RTO to its 60 s ceiling (an ACK that rides
// on the peer's own retransmission gives an RTT sample of many seconds), so an orphan's
// default 60 s to finish would cut the closing side off: it gets longer here.
for (const loss of [0, 0.01, 0.05, 0.1, 0.2]) {
  const config = loss >= 0.2 ? { orphanTimeoutMs: 600_000 } : {};
  test(`1 MiB each way, concurrently, with ${loss * 100}% loss`, (t) => transfer(t, { rates: { drop: loss }, seed: 11 + loss * 100, config }));
}

for (const loss of [0.05, 0.1]) {
  test(`1 MiB each way with ${loss * 100}% loss, without SACK (NewReno alone)`, (t) =>
    transfer(t, { rates: { drop: loss }, seed: 41 + loss * 100, config: { sack: false } }));
}

test("1 MiB each way with 5% duplication", (t) => transfer(t, { rates: { duplicate: 0.05 }, seed: 31 }));
test("1 MiB each way with 10% reordering", (t) => transfer(t, { rates: { reorder: 0.1 }, seed: 32 }));
test("1 MiB each way with 5% corruption and 2% truncation", (t) => transfer(t, { rates: { corrupt: 0.05, truncate: 0.02 }, seed: 33 }));
test("1 MiB each way with everything at once", (t) =>
  transfer(t, { rates: { drop: 0.05, duplicate: 0.03, reorder: 0.05, delay: 0.05, corrupt: 0.03, truncate: 0.01 }, seed: 34 }));
test("1 MiB each way with 64 KiB buffers and window scaling, 2% loss", (t) =>
  transfer(t, { rates: { drop: 0.02, reorder: 0.02 }, seed: 35, config: { sndbuf: 131072, wnd: 131072, maxGaps: 8 } }));
test("a reader slower than the writer: zero windows and probes, 1 MiB each way with 5% loss", (t) =>
  transfer(t, { rates: { drop: 0.05 }, seed: 36, readDelayMs: 300 }));
test("one way, closed by the sender right after its last write (FTP data), with 10% loss", (t) =>
  transfer(t, { rates: { drop: 0.1, reorder: 0.05 }, seed: 37, toServer: 0, serverEnding: "close", clientEnding: "on-fin" }));
test("one way, closed by the receiver once it has all, with 5% loss and duplication", (t) =>
  transfer(t, { rates: { drop: 0.05, duplicate: 0.05 }, seed: 38, toClient: 0, serverEnding: "on-fin", clientEnding: "close" }));
