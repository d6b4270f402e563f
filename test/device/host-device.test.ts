// The device glue running for real, off the ESP32: the host program (native/host-device) links
// XS, Debian's lwIP, the glue (modules/device/netstack.c, netstack_eth.c) and its stand-ins for
// ESP-IDF, and runs the firmware (modules/device/app.ts, bundled as for an Ethernet board). The
// driver's thread hands each frame from the TAP to netif->input, our glue queues it for the XS
// thread, and the stack's frames leave through linkoutput on lwIP's tcpip thread. The kernel is
// the peer, in a namespace of the test's own (10.77.50.1/24), with dnsmasq serving DHCP: the
// firmware's own DHCP client takes an address, then ping, curl and lftp reach it. Needs root (CI is).

import test from "ava";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pingSummary, startHostDevice } from "../../bench/host-device.ts";

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

test("the firmware on XS, lwIP, the glue and a driver thread over a TAP: our DHCP client gets the address, then ping, curl and lftp work with equal hashes", async (t) => {
  const d = await startHostDevice(t);
  t.regex(d.device.text, /esp_netif_dhcpc_stop\(ETH_DEF\)/, "the glue stopped ESP-IDF's DHCP client before taking the interface");
  t.regex(d.ip, /^10\.77\.50\.1(\d\d)$/);
  t.is(d.prefix, 24);

  t.deepEqual(pingSummary(await d.ns.mustRun("ping", ["-c", "5", "-i", "0.2", "-W", "2", d.ip], 20_000)), { sent: 5, received: 5 });
  t.deepEqual(pingSummary(await d.ns.mustRun("ping", ["-c", "3", "-i", "0.2", "-s", "1472", "-M", "do", "-W", "2", d.ip], 20_000)), { sent: 3, received: 3 });
  t.deepEqual(pingSummary(await d.ns.mustRun("ping", ["-f", "-c", "1000", "-W", "2", d.ip], 60_000)), { sent: 1000, received: 1000 });

  // HTTP: a 3 MB file from the static root.
  const page = randomBytes(3_000_000);
  writeFileSync(join(d.root, "www", "big.bin"), page);
  const got = join(d.root, "got.bin");
  await d.ns.mustRun("curl", ["-sS", "--fail", "-m", "60", "-o", got, `http://${d.ip}/big.bin`], 70_000);
  t.is(sha256(readFileSync(got)), sha256(page));

  // FTP: a 2 MB upload, then the same file back.
  const upload = join(d.root, "up.bin");
  const back = join(d.root, "back.bin");
  const data = randomBytes(2_000_000);
  writeFileSync(upload, data);
  await d.ns.mustRun(
    "lftp",
    ["-u", "esp,esp32", "-e", `set net:timeout 10; set net:max-retries 2; put ${upload} -o www/up.bin; get www/up.bin -o ${back}; bye`, d.ip],
    120_000,
  );
  t.is(sha256(readFileSync(join(d.root, "www", "up.bin"))), sha256(data));
  t.is(sha256(readFileSync(back)), sha256(data));

  // The glue's counters, through the firmware's /link route: frames went both ways, none dropped for want of room.
  const link = JSON.parse(await d.ns.mustRun("curl", ["-sS", "--fail", "-m", "10", `http://${d.ip}/link`], 20_000)) as Record<string, number>;
  t.true(link.received! > 1000 && link.sent! > 1000, JSON.stringify(link));
  t.is(link.receiveDropped, 0);
  t.is(d.device.process.exitCode, null, "the host program is still running");
});
