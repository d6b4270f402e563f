// Example: the default firmware (the ESP32 app's own config) booting on a LAN that loses 10 %
// of the device's frames, both ways. The lease and the file transfers must still complete:
// DHCP, TFTP and TCP retransmit. The faults come from the seed, so a failure repeats exactly.
// Run it: npx tsx examples/lossy-boot.ts [SEED]  (test/examples/lossy-boot.test.ts checks it).

import { Scenario } from "mcu-netstack/host-sim";

export const IMAGE = Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i * 7 + (i >> 9)) & 0xff);
export const PAGE = "<h1>served through the loss</h1>\n";

export function bootUnderLoss(seed = 1, loss = 0.1) {
  const sim = new Scenario({ seed, faults: { drop: loss } });
  const device = sim.device({ files: { "tftp/image.bin": IMAGE, "www/index.html": PAGE } });
  const leased = sim.runUntil(() => device.address() !== undefined, 120_000);
  const leasedAt = sim.clock.now();
  const client = sim.client();
  // As patient as the server, which resends after 1 s: the client's default of 300 ms, ten
  // times, gives up after three of the server's tries.
  const tftp = client.tftpGet(device.address()!, "image.bin", { options: { blksize: 1024 }, timeoutMs: 1000, retries: 10 });
  const http = client.http(device.address()!, "/index.html");
  return { leased, leasedAt, lease: device.dhcp?.lease, tftp, http, ...sim.result() };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const r = bootUnderLoss(Number(process.argv[2] ?? 1));
  console.log(`lease after ${(r.leasedAt / 1000).toFixed(3)} s (virtual), faults ${JSON.stringify(r.faults)}`);
  console.log(`TFTP: ${r.tftp.error ? JSON.stringify(r.tftp.error) : `${r.tftp.data.length} bytes`}; HTTP: ${r.http.status} ${JSON.stringify(r.http.text)}`);
  console.log(`drops ${JSON.stringify(r.stats.drops)}`);
}
