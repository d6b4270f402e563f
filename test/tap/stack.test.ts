import test from "ava";
import { deviceOnTap, DEVICE } from "../support/tap-device.ts";

/** ping's summary: transmitted and received counts. */
function pingSummary(out: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m) throw new Error(`no ping summary in: ${out}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}

test("the kernel's ping gets every echo answered: counted, 1472-byte, and a bounded flood", async (t) => {
  const { ns, device } = await deviceOnTap(t);
  const counted = pingSummary(await ns.mustRun("ping", ["-c", "5", "-i", "0.2", "-W", "2", DEVICE], 20_000));
  t.deepEqual(counted, { sent: 5, received: 5 });
  const big = pingSummary(await ns.mustRun("ping", ["-c", "3", "-i", "0.2", "-s", "1472", "-M", "do", "-W", "2", DEVICE], 20_000));
  t.deepEqual(big, { sent: 3, received: 3 });
  const flood = pingSummary(await ns.mustRun("ping", ["-f", "-c", "2000", "-W", "2", DEVICE], 60_000));
  t.deepEqual(flood, { sent: 2000, received: 2000 });
  t.is(device.netif.stats.counters.get("icmp.echo"), 2008);
  t.deepEqual(device.netif.stats.drops, new Map());
});

test("arping: the device answers ARP requests from the kernel", async (t) => {
  const { ns, tap, device } = await deviceOnTap(t);
  const out = await ns.mustRun("arping", ["-c", "3", "-i", tap.name, DEVICE], 20_000);
  t.regex(out, /3 packets transmitted, 3 packets received/);
  t.true((device.netif.stats.counters.get("arp.tx") ?? 0) >= 3);
});

test("a UDP datagram from the kernel to a closed port gets ICMP port unreachable", async (t) => {
  const { ns, device } = await deviceOnTap(t);
  // nc reports the refusal it learns from the ICMP error on its second write.
  const r = await ns.run(
    "python3",
    [
      "-c",
      `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(("${DEVICE}", 9))
s.send(b"x")
try:
    s.recv(10)
except ConnectionRefusedError:
    print("refused"); sys.exit(0)
except socket.timeout:
    print("timeout"); sys.exit(1)
`,
    ],
    10_000,
  );
  t.is(r.stdout.trim(), "refused");
  t.is(device.netif.stats.counters.get("icmp.unreachable"), 1);
});
