import test from "ava";
import { bench, ip } from "../support/bench.ts";
import { FaultInjector } from "../../host-sim/faults.ts";
import { TftpServer, type TftpTransferReport } from "../../modules/services/tftp-server.ts";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import { bytes, must, readAll, writeAll } from "../support/storage.ts";
import { runTransfer, tftpGet, tftpPut, type ClientOptions } from "../../host-sim/clients/tftp-client.ts";

const SERVER = ip("10.0.0.2");

/** The server behind a seeded fault injector: 10 % of frames lost, 5 % duplicated, 10 % held back and reordered, both ways. */
function lossy(seed: number) {
  const b = bench(seed);
  let faults: FaultInjector | undefined;
  const device = b.host(2, {}, (link) => (faults = new FaultInjector(link, b.clock, { seed, rates: { drop: 0.1, duplicate: 0.05, reorder: 0.1 } })));
  const client = b.host(3);
  const storage = new MemoryStorage({ limit: 1 << 22 });
  const reports: TftpTransferReport[] = [];
  new TftpServer(device, storage, { allowWrite: true, retries: 10, onTransfer: (r) => reports.push(r) }).listen();
  const o: ClientOptions = { retries: 40 };
  return {
    b,
    faults: faults!,
    device,
    storage,
    reports,
    get: (file: string, extra: ClientOptions = {}) => runTransfer(b.clock, (done) => tftpGet(client, SERVER, file, { ...o, ...extra }, done)),
    put: (file: string, data: Uint8Array, extra: ClientOptions = {}) =>
      runTransfer(b.clock, (done) => tftpPut(client, SERVER, file, data, { ...o, ...extra }, done)),
  };
}

for (const [name, extra] of [
  ["lockstep", {}],
  ["blksize 1468, windowsize 8", { options: { blksize: 1468, windowsize: 8 } }],
  ["netascii", { mode: "netascii" }],
] as [string, ClientOptions][]) {
  test(`10 % loss with duplication and reordering, ${name}: a get and a put complete byte-exact`, (t) => {
    const env = lossy(2024);
    const data = bytes(150_000, 9);
    must(writeAll(env.storage, "src", data));
    const got = env.get("src", extra);
    t.is(got.error, undefined);
    const expected = extra.mode === "netascii" ? Uint8Array.from([...data].flatMap((c) => (c === 10 ? [13, 10] : c === 13 ? [13, 0] : [c]))) : data;
    t.deepEqual(got.data, expected);
    const put = env.put("dst", got.data, extra);
    t.is(put.error, undefined);
    env.b.clock.advance(30_000); // let the server finish too
    t.deepEqual(readAll(env.storage, "dst"), data);
    t.deepEqual(
      env.reports.map((r) => [r.op, r.error]),
      [
        ["read", undefined],
        ["write", undefined],
      ],
    );
    // The faults really happened, and duplicated ACKs reached the server and were ignored.
    const c = env.faults.counts;
    t.true(c.drop > c.frames / 20 && c.duplicate > c.frames / 50 && c.reorder > c.frames / 20, JSON.stringify(c));
    t.true((env.device.netif.stats.counters.get("tftp.duplicate-ack") ?? 0) > 0);
    t.true(env.reports[0]!.retransmits > 0);
  });
}
