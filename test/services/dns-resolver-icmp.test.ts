// The resolver and ICMP errors (issue 10, TCP 4): a server whose host answers "port
// unreachable" is left at once for the next one, without waiting for the timeout.

import test from "ava";
import { ip } from "../support/bench.ts";
import { addressesOf, dnsBench, SERVER2 } from "../support/dns-resolver-bench.ts";

test("failover on port unreachable: a host without a DNS server is left at once for the next server", (t) => {
  const noDns = ip("10.0.0.60");
  const d = dnsBench({ resolver: { servers: [noDns, SERVER2], timeoutMs: 1000 } });
  d.b.host(60); // up, but nothing listens on port 53: it answers ICMP port unreachable
  const o = d.lookup("www.example.test", "A");
  t.deepEqual(addressesOf(o), ["10.0.0.80", "10.0.0.81"]);
  t.true(o.at < 5, `answered at ${o.at} ms, not after the 1000 ms timeout`);
  t.is(d.server2.queries.length, 1);
  t.is(d.device.stats.counters.get("udp.icmp-errors"), 1);
});
