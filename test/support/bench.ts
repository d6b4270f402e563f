// A test bench: stacks on a virtual LAN under a virtual clock.

import { VirtualClock } from "../../host-sim/clock.ts";
import { VirtualLan } from "../../host-sim/lan.ts";
import { SeededRandom } from "../../host-sim/random.ts";
import { createStack, type Stack, type StackOptions } from "../../modules/stack/stack.ts";
import { parseIp, type Ip4 } from "../../modules/wire/address.ts";
import type { Link } from "../../modules/platform.ts";

export function ip(text: string): Ip4 {
  const v = parseIp(text);
  if (v === undefined) throw new Error(`bad address ${text}`);
  return v;
}

export function mac(last: number): Uint8Array {
  return Uint8Array.of(0x02, 0, 0, 0, 0, last);
}

export interface Bench {
  clock: VirtualClock;
  lan: VirtualLan;
  /** A stack at 10.0.0.<n>/24, gateway 10.0.0.1, on its own LAN port (optionally wrapped). */
  host(n: number, options?: Partial<StackOptions>, wrap?: (link: Link) => Link): Stack;
  /** A raw LAN port: what it receives is collected in `frames`. */
  tap(): { link: Link; frames: Uint8Array[] };
}

export function bench(seed = 1): Bench {
  const clock = new VirtualClock();
  const lan = new VirtualLan(clock);
  return {
    clock,
    lan,
    host(n, options = {}, wrap = (l) => l) {
      const link = wrap(lan.attach(`host${n}`));
      return createStack(link, clock, new SeededRandom(seed * 1000 + n), {
        mac: mac(n),
        ip: ip(`10.0.0.${n}`),
        mask: ip("255.255.255.0"),
        gateway: ip("10.0.0.1"),
        ...options,
      });
    },
    tap() {
      const link = lan.attach("tap");
      const frames: Uint8Array[] = [];
      link.setReceiver((f) => frames.push(f));
      return { link, frames };
    },
  };
}
