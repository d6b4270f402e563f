// The host program's flood script: shows that the driver's receive task never waits on the XS
// thread, and that every frame it cannot queue is counted. The driver thread floods synthetic
// frames into the glue's netif input while this (the XS) thread spins, servicing nothing, as a
// busy handler would on the device:
// 1. another module (host_chatter) has filled Moddable's 10-slot queue first: every post the
//    glue tries fails at once, and the frame it was for is dropped (postFailed);
// 2. the queue is empty, so the first frame's post goes in: the ring fills, then frames are
//    dropped (receiveDropped) until the XS thread drains it.
// Prints one JSON line and exits.

/// <reference path="./host.d.ts" />
import "./prelude.ts";
import Timer from "./timer.ts";
import { LwipLink } from "../../../modules/device/link.ts";

const flood = native<(frames: number, onFullQueue: boolean) => void>("host_flood");
const floodsDone = native<() => number>("host_flood_done");
const chatter = native<(on: boolean) => void>("host_chatter");
const queueStats = native<() => Record<string, number>>("host_queue_stats");
const startEthernet = native<(onLink: (up: boolean) => void) => void>("xs_netstack_eth_start");

const FRAMES = 1000;
let delivered = 0;

/** Runs `then` once the XS thread has serviced every message queued now. */
function afterQueue(then: () => void): void {
  Timer.set(() => (queueStats().depth ? afterQueue(then) : then()), 1);
}

/** Spins until the driver thread has finished `n` floods: no message is serviced meanwhile. */
function busyUntil(n: number): void {
  while (floodsDone() < n);
}

function report(phase1: unknown): void {
  trace(`${JSON.stringify({ frames: FRAMES, phase1, link: link.counters, delivered, queue: queueStats() })}\n`);
  link.close();
  __exit(0);
}

let started = false;
startEthernet((up) => {
  if (!up || started) return;
  started = true;
  chatter(true);
  flood(FRAMES, true);
  busyUntil(1);
  chatter(false);
  const phase1 = link.counters;
  afterQueue(() => {
    flood(FRAMES, false);
    busyUntil(2);
    afterQueue(() => report(phase1));
  });
});
const link = new LwipLink("ETH_DEF");
link.setReceiver(() => delivered++);
