// The firmware's XS heap on the host program, board by board: each with its own config.netstack
// (TCP's bounds) and creation sizes, its preload frozen as on the device (bench/device-memory.ts
// measures; npm run bench prints the same figures). Memory figures are clock-free: slots and
// chunk bytes after a full collection. Needs root.
//
// Targets: the stack and the four servers idle in at most 48 KiB. Each open connection in at
// most 1 KiB beyond its buffers is not met yet: it takes 4 to 6 KiB, most of it the TCP pcb's
// own state (docs/MEMORY.md), so the ceiling below only keeps it from growing. Each board's
// creation sizes must hold every connection its TCP allows, its TIME-WAIT pcbs and a transfer,
// and the Wi-Fi board's whole machine must leave headroom in the heap Wi-Fi leaves free.

import test from "ava";
import { esp32Bytes, measureDeviceMemory, worstCase } from "../../bench/device-memory.ts";
import { boardFirmware } from "../../bench/host-device.ts";

const IDLE_TARGET = 48 * 1024;
/** Today's worst (an FTP session, 5.8 KiB) and a tenth more: a ceiling, not the 1 KiB target. */
const PER_CONNECTION_CEILING = 6.4 * 1024;
/** Free once Wi-Fi and lwIP run with Moddable's buffer settings (docs/MEMORY.md), and what the XS machine must leave of it. */
const WIFI_FREE = 170.2 * 1024;
const WIFI_HEADROOM = 16 * 1024;

// The Ethernet boards share their config and creation (test/device/manifests.test.ts): one of them stands for both.
for (const board of ["esp32", "esp32/wt32_eth01"] as const) {
  test.serial(`${board}: idle heap within 48 KiB, each connection within its ceiling, and creation holds every connection its TCP allows`, async (t) => {
    const f = await measureDeviceMemory(t, board);
    t.log(JSON.stringify(f));
    t.true(esp32Bytes(f.idle) <= IDLE_TARGET, `idle: ${esp32Bytes(f.idle)} bytes`);
    t.true(f.idle.keys <= f.idle.keyLimit / 4, `${f.idle.keys} keys made at run time`);
    for (const [name, h] of Object.entries(f.perConnection)) {
      t.true(h.slots > 0, `${name}: a connection costs something, or the measurement is broken`);
      t.true(esp32Bytes(h) <= PER_CONNECTION_CEILING, `${name}: ${esp32Bytes(h)} bytes beyond ${h.buffers} of buffers`);
    }
    const c = boardFirmware(board).creation;
    t.deepEqual(f.creation, c, "measured with the board's own creation");
    t.is(f.fullLoad.http + f.fullLoad.ftp, f.maxPcbs);
    const w = worstCase(f);
    t.true(w.slots <= c.heap.initial, `${w.slots} slots needed, ${c.heap.initial} in creation`);
    t.true(w.chunks <= c.chunk.initial, `${w.chunks} chunk bytes needed, ${c.chunk.initial} in creation`);
    t.is(c.heap.incremental + c.chunk.incremental + c.keys.incremental, 0, "no growth");
    if (board === "esp32") t.true(w.creationBytes + WIFI_HEADROOM <= WIFI_FREE, `the machine takes ${w.creationBytes} bytes of ${WIFI_FREE}`);
    t.log(`${board}: worst case ${Math.round(w.bytes / 1024)} KiB of ${Math.round(w.creationBytes / 1024)} KiB`);
  });
}
