// Bulk transfers between two stacks on a virtual LAN, each stack's link wrapped in a
// fault injector: 1 MiB each way at once, under loss, duplication, reordering, delay,
// corruption and truncation. The bytes must arrive exactly (SHA-256), both sides must
// close with the FIN handshake, and no err callback may fire.

import test, { type ExecutionContext } from "ava";
import { createHash } from "node:crypto";
import { FaultInjector, type FaultRates } from "../../host-sim/faults.ts";
import { SeededRandom } from "../../host-sim/random.ts";
import type { Link } from "../../modules/platform.ts";
import type { TcpConfig, TcpPcb } from "../../modules/stack/tcp.ts";
import { bench, ip } from "./bench.ts";

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

/** One end of the transfer: writes `data` as the send buffer allows, hashes what arrives, half-closes when done. */
class Endpoint {
  readonly hash = createHash("sha256");
  received = 0;
  written = 0;
  finSeen = false;
  errors: string[] = [];
  shutdownAt: number | undefined;

  constructor(
    readonly pcb: TcpPcb,
    private readonly data: Uint8Array,
    private readonly now: () => number,
  ) {
    pcb.recv((d) => {
      if (d === null) {
        this.finSeen = true;
        return this.maybeClose();
      }
      this.hash.update(d);
      this.received += d.length;
      pcb.recved(d.length);
    });
    pcb.sent(() => this.pump());
    pcb.err((reason) => this.errors.push(reason));
    this.pump();
  }

  private pump(): void {
    while (this.written < this.data.length && this.pcb.sndbuf > 0) {
      this.written += this.pcb.write(this.data.subarray(this.written, this.written + this.pcb.sndbuf));
    }
    if (this.written === this.data.length && this.shutdownAt === undefined) {
      this.shutdownAt = this.now();
      this.pcb.shutdown(); // FIN after the last byte; keep reading the other direction
      this.maybeClose();
    }
  }

  private maybeClose(): void {
    if (this.finSeen && this.shutdownAt !== undefined) this.pcb.close();
  }
}

interface Run {
  rates: FaultRates;
  seed: number;
  size?: number;
  config?: Partial<TcpConfig>;
}

function transfer(t: ExecutionContext, { rates, seed, size = MiB, config = {} }: Run): void {
  const b = bench(seed);
  const faults: FaultInjector[] = [];
  const wrap = (n: number) => (link: Link) => {
    const f = new FaultInjector(link, b.clock, { seed: seed * 10 + n, rates, direction: "transmit" });
    faults.push(f);
    return f;
  };
  const tcp = { mslMs: 5_000, ...config };
  const server = b.host(2, { tcp }, wrap(2));
  const client = b.host(3, { tcp }, wrap(3));
  const toServer = payload(seed * 2, size);
  const toClient = payload(seed * 2 + 1, size);
  const now = () => b.clock.now();
  let serverEnd: Endpoint | undefined;
  let connectErr: string | undefined = "never called";
  const listener = server.tcp.listen(21, 1)!;
  listener.accept((pcb) => (serverEnd = new Endpoint(pcb, toClient, now)));
  const pcb = client.tcp.connect(ip("10.0.0.2"), 21, (err) => (connectErr = err))!;
  const clientEnd = new Endpoint(pcb, toServer, now);

  const done = () => clientEnd.received === size && serverEnd?.received === size && clientEnd.finSeen && serverEnd.finSeen;
  const finished = b.clock.runUntil(done, 2_000_000);
  const describe = (e: Endpoint | undefined) => e && `${e.pcb.state} got ${e.received} wrote ${e.written} unacked ${e.pcb.unacknowledged} errors ${e.errors}`;
  t.true(finished, `transfer stalled at t=${now()} ms: client ${describe(clientEnd)}; server ${describe(serverEnd)}`);
  const transferMs = now();
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
  const c = client.netif.stats.counters;
  const s = server.netif.stats.counters;
  t.true((c["tcp.established"] ?? 0) === 1 && (s["tcp.established"] ?? 0) === 1);
  t.log(
    `virtual ${(transferMs / 1000).toFixed(2)} s; retransmits client ${c["tcp.retransmits"] ?? 0} (timeouts ${c["tcp.timeouts"] ?? 0}, fast ${c["tcp.fast-retransmits"] ?? 0}),` +
      ` server ${s["tcp.retransmits"] ?? 0} (timeouts ${s["tcp.timeouts"] ?? 0}, fast ${s["tcp.fast-retransmits"] ?? 0});` +
      ` faults ${JSON.stringify(faults.map((f) => f.counts))}`,
  );
}

for (const loss of [0, 0.01, 0.05, 0.1, 0.2]) {
  test(`1 MiB each way, concurrently, with ${loss * 100}% loss`, (t) => transfer(t, { rates: { drop: loss }, seed: 11 + loss * 100 }));
}

test("1 MiB each way with 5% duplication", (t) => transfer(t, { rates: { duplicate: 0.05 }, seed: 31 }));
test("1 MiB each way with 10% reordering", (t) => transfer(t, { rates: { reorder: 0.1 }, seed: 32 }));
test("1 MiB each way with 5% corruption and 2% truncation", (t) => transfer(t, { rates: { corrupt: 0.05, truncate: 0.02 }, seed: 33 }));
test("1 MiB each way with everything at once", (t) =>
  transfer(t, { rates: { drop: 0.05, duplicate: 0.03, reorder: 0.05, delay: 0.05, corrupt: 0.03, truncate: 0.01 }, seed: 34 }));
test("1 MiB each way with 64 KiB buffers and window scaling, 2% loss", (t) =>
  transfer(t, { rates: { drop: 0.02, reorder: 0.02 }, seed: 35, config: { sndbuf: 131072, wnd: 131072, maxGaps: 8 } }));
