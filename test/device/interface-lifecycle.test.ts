// Item: the interface's life cycle on the device, played on the host program (its ESP-IDF
// stand-ins behave as ESP-IDF 6.0 does where the glue depends on it, native/host-device/idf.c):
// - a re-plug (the link goes down and up) and a driver stop and start (ESP-IDF removes the
//   lwIP netif and adds it again, and sets its own DHCP client back to INIT) each end with the
//   firmware's DHCP client asking again for its lease (INIT-REBOOT: a REQUEST, no DISCOVER);
// - after the restart the glue has taken the netif again: the device answers on it;
// - ESP-IDF's DHCP client never starts (the glue stops it whenever the netif is added);
// - lwIP's own frames (the neighbour solicitations and MLD reports of the IPv6 link-local
//   address made on every link-up) never reach the wire: the glue drops and counts them.
// Needs root.

import test from "ava";
import type { Child } from "../../bench/child.ts";
import { pingSummary, startHostDevice } from "../../bench/host-device.ts";

function occurrences(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(new RegExp(pattern.source, "g"))].map((m) => m[1] ?? m[0]);
}

/** Waits until `pattern` has matched `n` times in the child's output; returns the matches (group 1, or all). */
async function waitCount(child: Child, pattern: RegExp, n: number, what: string): Promise<string[]> {
  const end = Date.now() + 30_000;
  for (;;) {
    const found = occurrences(child.text, pattern);
    if (found.length >= n) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; output so far:\n${child.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ADDRESS = /netstack: address (\d+\.\d+\.\d+\.\d+)\//;

test("after a re-plug and after the driver restarts, the firmware asks again for its lease and gets it, ESP-IDF's DHCP client never starts, and no IPv6 frame leaves", async (t) => {
  const d = await startHostDevice(t);
  const ping = async () => pingSummary(await d.ns.mustRun("ping", ["-c", "3", "-i", "0.2", "-W", "2", d.ip], 20_000));
  t.deepEqual(await ping(), { sent: 3, received: 3 });
  await waitCount(d.dhcp, /DHCPACK\(/, 1, "dnsmasq's first ACK");

  d.command("unplug");
  await waitCount(d.device, /netstack: link down/, 1, "the link to go down");
  d.command("plug");
  const afterPlug = await waitCount(d.device, ADDRESS, 2, "the lease again after the re-plug");

  d.command("stop");
  await waitCount(d.device, /netstack: link down/, 2, "the link to go down with the driver");
  d.command("start");
  const afterRestart = await waitCount(d.device, ADDRESS, 3, "the lease again after the restart");
  t.deepEqual(afterPlug, [d.ip, d.ip]);
  t.deepEqual(afterRestart, [d.ip, d.ip, d.ip]);
  t.deepEqual(await ping(), { sent: 3, received: 3 }, "the glue took the re-added netif");

  // dnsmasq saw one DISCOVER (the first lease) and a REQUEST for the same address each time.
  await waitCount(d.dhcp, /DHCPACK\(/, 3, "dnsmasq's third ACK");
  t.is(occurrences(d.dhcp.text, /DHCPDISCOVER\(/).length, 1, d.dhcp.text);
  t.deepEqual(occurrences(d.dhcp.text, /DHCPREQUEST\(\S+\) (\S+)/), [d.ip, d.ip, d.ip]);
  // The netif was added twice; each time the glue stopped ESP-IDF's client before the link came up.
  t.is(occurrences(d.device.text, /esp_netif_dhcpc_stop\(ETH_DEF\)/).length, 2);

  d.command("stats");
  const [stats] = await waitCount(d.device, /host-device: stats (\{.*\})/, 1, "the host program's stats");
  const wire = JSON.parse(stats!) as Record<string, number>;
  const link = JSON.parse(await d.ns.mustRun("curl", ["-sS", "--fail", "-m", "10", `http://${d.ip}/link`], 20_000)) as Record<string, unknown>;
  t.is(wire.idfDhcpStarts, 0, "ESP-IDF's DHCP client never started");
  t.is(wire.wireIpv6, 0, "no IPv6 frame reached the TAP");
  t.true((link.lwipDropped as number) > 0, `lwIP did try to send on the interface: ${JSON.stringify(link)}`);
  t.is(link.attached, true);
});
