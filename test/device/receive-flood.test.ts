// Item: the driver's receive task never waits on the XS thread. The host program runs the glue
// with a model of Moddable's message queue (native/host-device/queue.c: 10 slots; a post from a
// task waits for room, up to 20 ms as in debug builds) and floods its netif input from the
// driver's thread while the XS thread is busy (native/host-device/js/flood.ts). No TAP: the
// frames are the driver thread's own, so this needs no root.

import test from "ava";
import { execFileSync } from "node:child_process";
import { bundleForHost, hostDevicePath } from "../../native/host-device/bundle.ts";

interface Counters {
  received: number;
  receiveDropped: number;
  postFailed: number;
  queued: number;
}

interface Report {
  frames: number;
  phase1: Counters;
  link: Counters;
  delivered: number;
  queue: Record<string, number>;
}

test("under a flood the driver's thread never waits for Moddable's queue, and every frame is delivered or counted as dropped", async (t) => {
  const { path } = await bundleForHost("native/host-device/js/flood.ts", "flood");
  const out = execFileSync(hostDevicePath(), [path], { input: "", encoding: "utf8", timeout: 120_000 });
  const r = JSON.parse(out.trim().split("\n").pop()!) as Report;
  const slots = 32; // the WT32-ETH01's defines.netstack.queue, in the host program's mc.defines.h

  // The driver thread posted only when no message was pending, and never had to wait.
  t.is(r.queue.driverWaited, 0);
  t.is(r.queue.capacity, 10);
  t.is(r.queue.maxDepth, 10, "the chatter filled the queue");

  // Phase 1, queue full: each frame's post failed at once and the frame was dropped, not left waiting.
  t.deepEqual([r.phase1.received, r.phase1.postFailed, r.phase1.receiveDropped, r.phase1.queued], [r.frames, r.frames, 0, 0]);
  t.is(r.queue.refused, r.frames);

  // Phase 2, queue empty: one post, the ring filled, the rest dropped, then the XS thread drained it.
  t.is(r.link.received - r.phase1.received, slots);
  t.is(r.link.receiveDropped, r.frames - slots);
  t.is(r.delivered, slots);
  t.is(r.queue.driverPosts, r.frames + 1);
  t.is(r.link.queued, 0);
  // Every frame of both floods is accounted for.
  t.is(r.delivered + r.link.postFailed + r.link.receiveDropped, 2 * r.frames);
});
