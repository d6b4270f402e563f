// Throughput under loss, on the virtual LAN under the virtual clock: one stack sends 1 MiB
// to another while each drops a share of the frames it transmits (host-sim/faults.ts), and
// the same seeds run with SACK and without (the receiver's `sack` setting decides, as a peer
// without SACK would). What it reports needs no clock of the machine: virtual seconds
// until the last byte arrives, and frames on the wire, so one run repeats exactly.

import { createHash } from "node:crypto";
import { VirtualClock } from "../host-sim/clock.ts";
import { FaultInjector } from "../host-sim/faults.ts";
import { VirtualLan } from "../host-sim/lan.ts";
import { SeededRandom } from "../host-sim/random.ts";
import type { Link } from "../modules/platform.ts";
import { createStack, type Stack } from "../modules/stack/stack.ts";
import type { TcpConfig } from "../modules/stack/tcp.ts";
import { unwrap } from "../modules/wire/result.ts";
import { MIB, median } from "./net.ts";

export const LOSSES = [0.01, 0.05, 0.1];
export const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
/** The device's default buffers (four segments each way), and windows of 64 KiB. */
export const BUFFERS: Record<string, Partial<TcpConfig>> = {
  "5840 B": {},
  "64 KiB": { sndbuf: 65535, wnd: 65535, maxGaps: 8 },
};
const SENDER = 0x0a000002;
const MAX_TIMERS = 5_000_000; // a guard against a run that never settles
const ORPHAN_MS = 3_600_000; // the closed sender finishes however long the loss makes it take

export interface LossRun {
  loss: number;
  seed: number;
  sack: boolean;
  bytes?: number;
  tcp?: Partial<TcpConfig>;
  /** Sees every frame the sender transmits ("tx", before the loss) and receives ("rx"). */
  spy?: (direction: "tx" | "rx", frame: Uint8Array, sender: Stack) => void;
}

export interface LossResult {
  /** Virtual seconds from the connect until the last byte arrived, or Infinity if it never did. */
  seconds: number;
  /** Frames both hosts transmitted until then, dropped ones included. */
  frames: number;
  /** The receiver got the bytes exactly, and the FIN after them. */
  intact: boolean;
  sender: Record<string, number>;
  receiver: Record<string, number>;
}

function spied(link: Link, sender: () => Stack, spy: LossRun["spy"]): Link {
  if (!spy) return link;
  return {
    transmit: (f) => {
      spy("tx", f, sender());
      link.transmit(f);
    },
    setReceiver: (r) =>
      link.setReceiver((f) => {
        spy("rx", f, sender());
        r(f);
      }),
  };
}

/** 1 MiB (or `bytes`) from 10.0.0.2 to 10.0.0.3, each dropping `loss` of what it sends. */
export function lossyTransfer(run: LossRun): LossResult {
  const { loss, seed, bytes = MIB } = run;
  const clock = new VirtualClock();
  const lan = new VirtualLan(clock);
  const faults: FaultInjector[] = [];
  const host = (n: number, tcp: Partial<TcpConfig>, wrap: (l: Link) => Link = (l) => l) => {
    const f = new FaultInjector(lan.attach(`host${n}`), clock, { seed: seed * 100 + n, rates: { drop: loss }, direction: "transmit" });
    faults.push(f);
    return createStack(wrap(f), clock, new SeededRandom(seed * 1000 + n), {
      mac: Uint8Array.of(2, 0, 0, 0, 0, n),
      ip: 0x0a000000 + n,
      mask: 0xffffff00,
      gateway: 0x0a000001,
      tcp: { mslMs: 1000, orphanTimeoutMs: ORPHAN_MS, ...tcp },
    });
  };
  let sender: Stack | undefined;
  sender = host(2, { ...run.tcp }, (l) => spied(l, () => sender!, run.spy));
  const receiver = host(3, { ...run.tcp, sack: run.sack });
  const data = new Uint8Array(bytes);
  const r = new SeededRandom(seed);
  for (let i = 0; i < bytes; i++) data[i] = r.u32() & 0xff;

  unwrap(sender.tcp.listen(80, 1)).accept((pcb) => {
    let written = 0;
    const pump = () => {
      while (written < bytes && pcb.sndbuf > 0) written += pcb.write(data.subarray(written, written + pcb.sndbuf));
      if (written === bytes) pcb.close(); // FIN after the last byte, as a server's reply ends
    };
    pcb.sent(pump);
    pump();
  });
  const hash = createHash("sha256");
  let got = 0;
  let fin = false;
  const pcb = unwrap(receiver.tcp.connect(SENDER, 80, () => {}));
  pcb.recv((d) => {
    if (d === null) {
      fin = true;
      return pcb.close();
    }
    hash.update(d);
    got += d.length;
    pcb.recved(d.length);
  });
  const arrived = clock.runUntil(() => got === bytes, MAX_TIMERS);
  const seconds = arrived ? clock.now() / 1000 : Infinity;
  const frames = faults.reduce((n, f) => n + f.counts.frames, 0);
  const closed = clock.runUntil(() => fin, MAX_TIMERS);
  const intact = arrived && closed && hash.digest("hex") === createHash("sha256").update(data).digest("hex");
  return { seconds, frames, intact, sender: Object.fromEntries(sender.netif.stats.counters), receiver: Object.fromEntries(receiver.netif.stats.counters) };
}

/** Medians over the seeds of one loss rate, buffer size and SACK setting. */
export interface LossPoint {
  loss: number;
  buffers: string;
  sack: boolean;
  seconds: number;
  frames: number;
  /** The sender's retransmission timeouts. */
  timeouts: number;
  /** Payload bytes per virtual second, from the median time. */
  goodput: number;
}

export function lossCurves(seeds = SEEDS): LossPoint[] {
  const points: LossPoint[] = [];
  for (const [buffers, tcp] of Object.entries(BUFFERS)) {
    for (const loss of LOSSES) {
      for (const sack of [false, true]) {
        const runs = seeds.map((seed) => lossyTransfer({ loss, seed, sack, tcp }));
        const bad = runs.findIndex((r) => !r.intact);
        if (bad >= 0) throw new Error(`the transfer at ${loss * 100}% loss, seed ${seeds[bad]}, ${buffers}, SACK ${sack} did not arrive intact`);
        const seconds = median(runs.map((r) => r.seconds));
        const frames = median(runs.map((r) => r.frames));
        const timeouts = median(runs.map((r) => r.sender["tcp.timeouts"] ?? 0));
        points.push({ loss, buffers, sack, seconds, frames, timeouts, goodput: MIB / seconds });
      }
    }
  }
  return points;
}

export function printLossTable(points: LossPoint[], seeds = SEEDS): void {
  const range = `${seeds[0]}..${seeds.at(-1)}`;
  console.log(`\nthroughput under loss: 1 MiB on the virtual LAN, each host dropping that share of what it sends; medians of seeds ${range}`);
  console.log("  buffers   loss   virtual s: no SACK    SACK  ratio   frames: no SACK    SACK  ratio   timeouts: no SACK  SACK");
  for (const p of points.filter((x) => x.sack)) {
    const without = points.find((x) => !x.sack && x.loss === p.loss && x.buffers === p.buffers)!;
    const cells = [
      p.buffers.padStart(9),
      `${(p.loss * 100).toFixed(0)}%`.padStart(6),
      without.seconds.toFixed(2).padStart(19),
      p.seconds.toFixed(2).padStart(8),
      (p.seconds / without.seconds).toFixed(2).padStart(7),
      String(Math.round(without.frames)).padStart(18),
      String(Math.round(p.frames)).padStart(8),
      (p.frames / without.frames).toFixed(2).padStart(7),
      String(without.timeouts).padStart(20),
      String(p.timeouts).padStart(6),
    ];
    console.log(cells.join(""));
  }
}
