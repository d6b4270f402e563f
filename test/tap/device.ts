// The simulated device on a TAP whose kernel side lives in a fresh namespace of the
// test's own: the kernel is 10.77.1.1/24 and the device 10.77.1.2. Needs root (CI is).

import type { ExecutionContext } from "ava";
import { TapLink } from "../../host-sim/tap.ts";
import { RealClock } from "../../host-sim/clock.ts";
import { SeededRandom } from "../../host-sim/random.ts";
import { createStack, type Stack } from "../../modules/stack/stack.ts";
import { parseIp, parseMac } from "../../modules/wire/address.ts";
import { Netns } from "../netns.ts";

export const KERNEL = "10.77.1.1";
export const DEVICE = "10.77.1.2";

export async function deviceOnTap(t: ExecutionContext): Promise<{ ns: Netns; tap: TapLink; device: Stack }> {
  const ns = await Netns.create(t);
  // No IPv6 chatter from the kernel (router solicitations, MLD), so every frame counts.
  await ns.mustRun("sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  const tap = TapLink.open();
  t.teardown(() => tap.close());
  const device = createStack(tap, new RealClock(), new SeededRandom(7), {
    mac: parseMac("02:00:0a:4d:01:02")!,
    ip: parseIp(DEVICE)!,
    mask: parseIp("255.255.255.0")!,
    gateway: parseIp(KERNEL)!,
  });
  await ns.adopt(tap.name);
  await ns.addAddress(tap.name, `${KERNEL}/24`);
  await ns.up(tap.name);
  return { ns, tap, device };
}
