// The client on a bad link: 10 % of frames lost, 10 % duplicated, 10 % held back and
// reordered, both ways, from fixed seeds. Retransmission still gets it to BOUND, and it
// keeps the address through ten minutes of renewals.

import test from "ava";
import { dhcpLan, POOL } from "../support/dhcp-client-lan.ts";
import { FaultInjector } from "../../host-sim/faults.ts";

test("under 10 % loss with duplication and reordering the client reaches BOUND and keeps its lease", (t) => {
  for (let seed = 1; seed <= 10; seed++) {
    let faults: FaultInjector | undefined;
    const lan = dhcpLan({
      seed,
      client: { renewRetryMinMs: 2000 },
      wrap: (link, b) => (faults = new FaultInjector(link, b.clock, { seed: 2024 + seed, rates: { drop: 0.1, duplicate: 0.1, reorder: 0.1 } })),
    });
    lan.client.start();
    t.true(lan.until("bound"), `seed ${seed}`);
    t.is(lan.device.netif.ip, POOL);
    lan.b.clock.runUntil(lan.b.clock.now() + 600_000);
    t.true(lan.client.state === "bound" || lan.client.state === "renewing");
    t.is(lan.device.netif.ip, POOL);
    t.deepEqual(
      lan.events.filter((e) => !e.startsWith("renewed")),
      ["bound 10.0.0.100"],
      `seed ${seed}: never lost the address`,
    );
    t.true(lan.events.length >= 19, `seed ${seed}: renewed about every 30 s, ${lan.events.length} events`);
    const c = faults!.counts;
    t.true(c.drop > 0 && c.duplicate > 0 && c.reorder > 0, JSON.stringify(c));
    // Duplicated and late replies arrive when no exchange wants them, and are set aside.
    t.true((lan.device.netif.stats.drops.get("dhcp-unexpected") ?? 0) > 0);
  }
});
