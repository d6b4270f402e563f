// Issue 10 item 13: peers that ask and never answer cannot hold the TFTP server. A long
// timeout option is declined (RFC 2349), one address holds at most two transfers, a
// transfer that never heard from its peer yields its slot once it has timed out, and no
// transfer lives longer than maxTransferMs.

import test from "ava";
import { encode, RawPeer, runTransfer, tftpGet } from "../../host-sim/clients/tftp-client.ts";
import { TftpServer, type TftpServerOptions, type TftpTransferReport } from "../../modules/services/tftp-server.ts";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import { decodeTftp, TFTP_PORT } from "../../modules/wire/tftp.ts";
import { bench, ip } from "../support/bench.ts";
import { bytes, must, writeAll } from "../support/storage.ts";

const SERVER = ip("10.0.0.2");

function setup(options: Partial<TftpServerOptions> = {}) {
  const b = bench();
  const device = b.host(2);
  const storage = new MemoryStorage({ limit: 1 << 22 });
  must(writeAll(storage, "f", bytes(5000, 4)));
  must(writeAll(storage, "big", bytes(100 * 512, 5)));
  const reports: TftpTransferReport[] = [];
  const server = new TftpServer(device, storage, { onTransfer: (r) => reports.push(r), ...options });
  server.listen();
  /** Host 10.0.0.<n>, which has already met the server (so no test depends on ARP's small queue). */
  const host = (n: number) => {
    const s = b.host(n);
    s.icmp.echo(SERVER, 1, 1, new Uint8Array(0));
    b.clock.runUntil(b.clock.now() + 1);
    return s;
  };
  return { b, device, server, reports, host };
}

test("four RRQs with timeout=255 never acknowledged: the timeout is declined, and a client 2 s later is served at once", (t) => {
  const { b, device, server, reports, host } = setup();
  const ghosts = [11, 12, 13, 14].map((n) => new RawPeer(host(n), SERVER));
  for (const g of ghosts) g.send({ op: "rrq", filename: "f", mode: "octet", options: { timeout: 255, tsize: 0 } });
  b.clock.runUntil(10);
  for (const g of ghosts) t.deepEqual(g.take()[0]?.p, { op: "oack", options: { tsize: 5000 } });
  t.is(server.active, 4);
  b.clock.runUntil(2000);
  const client = host(3);
  const start = b.clock.now();
  const r = runTransfer(b.clock, (done) => tftpGet(client, SERVER, "f", {}, done));
  t.is(r.error, undefined);
  t.deepEqual(r.data, bytes(5000, 4));
  const took = b.clock.now() - start;
  t.true(took <= 50, `served in ${took} ms`);
  t.is(device.stats.drops.get("tftp-evicted"), 1);
  t.is(device.stats.drops.get("tftp-busy"), undefined);
  // The other ghosts are gone 6 s after they asked (1 s timeout, 5 retries), not 25 min.
  b.clock.runUntil(6200);
  t.is(server.active, 0);
  t.deepEqual(reports.map((x) => x.error).sort(), [undefined, "tftp-evicted", "tftp-timeout", "tftp-timeout", "tftp-timeout"].sort());
});

test("a timeout option of 10 s or less is still granted", (t) => {
  const { b, host } = setup();
  const p = new RawPeer(host(3), SERVER);
  p.send({ op: "rrq", filename: "f", mode: "octet", options: { timeout: 10 } });
  b.clock.runUntil(10);
  t.deepEqual(p.take()[0]?.p, { op: "oack", options: { timeout: 10 } });
});

test("one address holds at most two transfers; another address is still served", (t) => {
  const { b, device, server, host } = setup();
  const three = host(3);
  const peers = [new RawPeer(three, SERVER), new RawPeer(three, SERVER), new RawPeer(three, SERVER)];
  for (const p of peers) p.send({ op: "rrq", filename: "f", mode: "octet", options: {} });
  b.clock.runUntil(10);
  t.deepEqual(
    peers.map((p) => p.take().map((x) => x.p.op)),
    [["data"], ["data"], ["error"]],
  );
  t.is(device.stats.drops.get("tftp-peer-busy"), 1);
  t.is(server.active, 2);
  const other = runTransfer(b.clock, (done) => tftpGet(host(4), SERVER, "f", {}, done));
  t.is(other.error, undefined);
});

test("a transfer ends at maxTransferMs however steadily its peer acknowledges", (t) => {
  const { b, reports, host } = setup({ maxTransferMs: 20_000 });
  const client = host(3);
  const pcb = client.udp.pcb();
  pcb.bind(0);
  const errors: number[] = [];
  let start = 0;
  // A reader that acknowledges each block 900 ms late, just inside the server's 1 s timeout.
  pcb.recv((data, _from, port) => {
    const d = decodeTftp(data);
    if (!d.ok) return;
    const p = d.value;
    if (p.op === "data") b.clock.setTimer(900, () => pcb.sendTo(encode({ op: "ack", block: p.block }), SERVER, port));
    if (p.op === "error") errors.push(b.clock.now() - start);
  });
  start = b.clock.now();
  pcb.sendTo(encode({ op: "rrq", filename: "big", mode: "octet", options: {} }), SERVER, TFTP_PORT);
  b.clock.runUntil(start + 30_000);
  t.is(errors.length, 1);
  t.true(errors[0]! >= 20_000 && errors[0]! <= 20_001, `ended after ${errors[0]} ms`);
  t.is(reports[0]?.error, "tftp-too-long");
  t.is(reports[0]?.retransmits, 0);
});
