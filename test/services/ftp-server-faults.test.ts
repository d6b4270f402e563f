// FTP transfers over a faulty link: the client's frames (both ways) are dropped, duplicated,
// reordered and corrupted from a seed; RETR and STOR must still arrive byte-exact, in
// passive and in active mode.

import test from "ava";
import { FaultInjector } from "../../host-sim/faults.ts";
import type { Clock, Link } from "../../modules/platform.ts";
import { bytes, must, readAll, writeAll } from "../support/storage.ts";
import { type DataMode, ftpBench } from "../support/ftp-client.ts";

const RATES = { drop: 0.04, duplicate: 0.02, reorder: 0.03, corrupt: 0.01 };

for (const seed of [1, 2, 3]) {
  for (const mode of ["pasv", "port"] as DataMode[]) {
    test(`seed ${seed}, ${mode}: RETR and STOR of 300 000 bytes complete byte-exact over a faulty link`, (t) => {
      let faults: FaultInjector | undefined;
      const wrap = (link: Link, clock: Clock) => (faults = new FaultInjector(link, clock, { seed, rates: RATES }));
      const env = ftpBench({}, { wrap });
      const data = bytes(300_000, seed);
      must(writeAll(env.storage, "f", data));
      const c = env.login();
      const r = c.retr("f", mode);
      t.is(r.final?.code, 226);
      t.deepEqual(r.data, data);
      const s = c.stor("g", data, mode);
      t.is(s.final?.code, 226);
      t.deepEqual(readAll(env.storage, "g"), data);
      const counts = faults!.counts;
      t.true(counts.drop > 0 && counts.corrupt > 0, JSON.stringify(counts));
      t.true((env.device.netif.stats.counters.get("tcp.retransmits") ?? 0) > 0);
    });
  }
}
