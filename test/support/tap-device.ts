// The simulated device on a TAP whose kernel side lives in a fresh namespace of the
// test's own (or in `ns`, for a second TAP there), IPv6 off so that every frame counts. By
// default the kernel is 10.77.1.1/24 and the device 10.77.1.2; `device: null` leaves the
// device without an address (DHCP); `offload` opens the TAP with TSO. Needs root (CI is).

import type { ExecutionContext } from "ava";
import { TapLink } from "../../host-sim/tap.ts";
import { RealClock } from "../../host-sim/clock.ts";
import { SeededRandom } from "../../host-sim/random.ts";
import { createStack, type Stack, type StackOptions } from "../../modules/stack/stack.ts";
import { parseIp, parseMac } from "../../modules/wire/address.ts";
import type { Link } from "../../modules/platform.ts";
import { Netns } from "../../bench/netns.ts";

export const KERNEL = "10.77.1.1";
export const DEVICE = "10.77.1.2";

export interface TapDeviceOptions {
  kernel?: string;
  device?: string | null;
  seed?: number;
  stack?: Partial<StackOptions>;
  /** Puts something between the TAP and the stack (a fault injector, a capture). */
  wrap?: (tap: Link, clock: RealClock) => Link;
  ns?: Netns;
  /** The TAP's name; by default the kernel's choice, which a second TAP for the same namespace must not take. */
  name?: string;
  offload?: boolean;
}

export async function deviceOnTap(t: ExecutionContext, o: TapDeviceOptions = {}): Promise<{ ns: Netns; tap: TapLink; device: Stack; clock: RealClock }> {
  const kernel = o.kernel ?? KERNEL;
  const address = o.device === undefined ? DEVICE : o.device;
  const ns = o.ns ?? (await Netns.create(t));
  // No IPv6 chatter from the kernel (router solicitations, MLD), so every frame counts.
  if (!o.ns) await ns.mustRun("sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  const tap = TapLink.open(o.name ?? "", { offload: o.offload ?? false });
  t.teardown(() => tap.close());
  const clock = new RealClock();
  const configured = address === null ? {} : { ip: parseIp(address)!, mask: parseIp("255.255.255.0")!, gateway: parseIp(kernel)! };
  const link = o.wrap ? o.wrap(tap, clock) : tap;
  const device = createStack(link, clock, new SeededRandom(o.seed ?? 7), { mac: parseMac("02:00:0a:4d:01:02")!, ...configured, ...o.stack });
  await ns.adopt(tap.name);
  await ns.addAddress(tap.name, `${kernel}/24`);
  await ns.up(tap.name);
  return { ns, tap, device, clock };
}
