// A whole simulated exchange, portable so it runs on XS as on Node: two stacks on a
// virtual LAN under a virtual clock, with seeded faults, doing ARP, ping, UDP and a TCP
// transfer (SACK recovery included). It returns one line per frame on the wire (time and
// hex), so the two engines can be compared byte for byte.

import { VirtualClock } from "../../host-sim/clock.ts";
import { VirtualLan } from "../../host-sim/lan.ts";
import { FaultInjector } from "../../host-sim/faults.ts";
import { SeededRandom } from "../../host-sim/random.ts";
import { createStack } from "../../modules/stack/stack.ts";
import type { Link } from "../../modules/platform.ts";
import { unwrap } from "../../modules/wire/result.ts";

function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? "0" : "") + b[i]!.toString(16);
  return s;
}

export function run(seed: number, bytes: number): string[] {
  const clock = new VirtualClock();
  const lan = new VirtualLan(clock);
  const lines: string[] = [];
  const traced = (link: Link): Link => ({
    transmit: (f) => {
      lines.push(`${clock.now().toFixed(3)} ${hex(f)}`);
      link.transmit(f);
    },
    setReceiver: (r) => link.setReceiver(r),
  });
  const faulty = new FaultInjector(lan.attach("server"), clock, { seed, rates: { drop: 0.05, duplicate: 0.02, reorder: 0.02 } });
  const options = (n: number) => ({ mac: Uint8Array.of(2, 0, 0, 0, 0, n), ip: 0x0a000000 + n, mask: 0xffffff00, gateway: 0 });
  const server = createStack(traced(faulty), clock, new SeededRandom(seed + 1), options(2));
  const client = createStack(traced(lan.attach("client")), clock, new SeededRandom(seed + 2), options(9));

  const echo = server.udp.pcb();
  echo.bind(7);
  echo.recv((data, from, port) => echo.sendTo(data, from, port));
  let got = 0;
  unwrap(server.tcp.listen(9, 1)).accept((pcb) => {
    pcb.recv((data) => {
      if (data === null) return pcb.close();
      got += data.length;
      pcb.recved(data.length);
    });
  });

  client.icmp.echo(0x0a000002, 1, 1, new Uint8Array(32));
  client.udp.pcb().sendTo(new Uint8Array([1, 2, 3]), 0x0a000002, 7);
  const pcb = unwrap(
    client.tcp.connect(0x0a000002, 9, () => {
      let sent = 0;
      const pump = () => {
        while (sent < bytes && pcb!.sndbuf > 0) sent += pcb!.write(new Uint8Array(Math.min(pcb!.sndbuf, bytes - sent)).fill(sent & 0xff));
        if (sent === bytes) pcb!.close();
      };
      pcb!.sent(pump);
      pump();
    }),
  );
  clock.runUntilIdle();
  lines.push(`received ${got} of ${bytes}; counters ${server.netif.stats.json()}; client ${client.netif.stats.json()}`);
  return lines;
}
