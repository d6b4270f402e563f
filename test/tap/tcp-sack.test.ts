// SACK against the Linux kernel's TCP over TAP, with loss made by our own link wrapper (a
// seeded fault injector between the TAP and the stack, dropping frames either way): the
// kernel sends 4 MB to the device and recovers by the device's SACK blocks, which it finds
// valid; then the device sends 4 MB to the kernel and recovers by the kernel's. The bytes
// must arrive exactly, and the kernel's own counters (its namespace's /proc/net/netstat)
// must show it used SACK.

import test from "ava";
import { createHash } from "node:crypto";
import { FaultInjector } from "../../host-sim/faults.ts";
import { unwrap } from "../../modules/wire/result.ts";
import { DEVICE, deviceOnTap } from "../support/tap-device.ts";

const SIZE = 4 * 1024 * 1024;
const LOSS = 0.02;

/** Byte i is (i * 7 + (i >> 11)) & 0xff, in Python as here. */
function pattern(length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (i * 7 + Math.floor(i / 2048)) & 0xff;
  return b;
}

const PY = `
import socket, hashlib, json, sys
def pattern(n):
    return bytes(((i * 7 + (i >> 11)) & 0xff) for i in range(n))
def netstat():
    lines = [l.split() for l in open("/proc/net/netstat") if l.startswith("TcpExt:")]
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))
def sack_permitted(s):
    return bool(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[5] & 2)  # tcpi_options & TCPI_OPT_SACK
before = netstat()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
if sys.argv[3] == "send":
    data = pattern(${SIZE})
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    assert s.recv(1) == b""
    digest = hashlib.sha256(data).hexdigest()
else:
    h = hashlib.sha256(); n = 0
    while True:
        b = s.recv(65536)
        if not b: break
        h.update(b); n += len(b)
    assert n == ${SIZE}, n
    digest = h.hexdigest()
sack = sack_permitted(s)
s.close()
after = netstat()
print(json.dumps({"sha256": digest, "sack": sack, "kernel": {k: after[k] - before[k] for k in after if "SACK" in k.upper() or k in ("TCPTimeouts", "TCPFastRetrans")}}))
`;

interface KernelReport {
  sha256: string;
  sack: boolean;
  kernel: Record<string, number>;
}

test("the kernel and our TCP use each other's SACK blocks through 2% loss either way, 4 MB each way", async (t) => {
  let faults: FaultInjector | undefined;
  const { ns, device } = await deviceOnTap(t, {
    stack: { tcp: { sndbuf: 65535, wnd: 65535, maxGaps: 8 } },
    wrap: (tap, clock) => (faults = new FaultInjector(tap, clock, { seed: 13, rates: { drop: LOSS } })),
  });
  const expected = createHash("sha256").update(pattern(SIZE)).digest("hex");
  const received = createHash("sha256");
  let got = 0;
  const errors: string[] = [];
  unwrap(device.tcp.listen(9, 1)).accept((pcb) => {
    pcb.err((e) => errors.push(`discard: ${e}`));
    pcb.recv((data) => {
      if (data === null) return pcb.close();
      received.update(data);
      got += data.length;
      pcb.recved(data.length);
    });
  });
  const data = pattern(SIZE);
  unwrap(device.tcp.listen(19, 1)).accept((pcb) => {
    pcb.err((e) => errors.push(`source: ${e}`));
    pcb.recv((d) => d && pcb.recved(d.length));
    let sent = 0;
    const pump = () => {
      while (sent < SIZE && pcb.sndbuf > 0) sent += pcb.write(data.subarray(sent, sent + pcb.sndbuf));
      if (sent === SIZE) pcb.close();
    };
    pcb.sent(pump);
    pump();
  });
  const kernel = async (port: number, mode: string) => JSON.parse(await ns.mustRun("python3", ["-c", PY, DEVICE, String(port), mode], 180_000)) as KernelReport;

  const up = await kernel(9, "send");
  const stats = device.netif.stats;
  t.is(up.sha256, expected);
  t.is(got, SIZE);
  t.is(received.digest("hex"), expected);
  t.true(up.sack, "the connection negotiated SACK");
  t.true((up.kernel.TCPSackRecovery ?? 0) > 0, `the kernel recovered by our blocks: ${JSON.stringify(up.kernel)}`);
  t.is(up.kernel.TCPSACKDiscard, 0, "and found none of them invalid");

  const recoveries = stats.counters.get("tcp.sack-recoveries") ?? 0;
  const down = await kernel(19, "recv");
  t.is(down.sha256, expected);
  t.true(down.sack);
  t.true((stats.counters.get("tcp.sack-recoveries") ?? 0) > recoveries, "we recovered by the kernel's blocks");
  t.is(stats.counters.get("tcp.sack-invalid"), undefined, "and found none of them invalid");
  t.deepEqual(errors, []);
  t.log(`faults ${JSON.stringify(faults?.counts)}; kernel sending ${JSON.stringify(up.kernel)}; kernel receiving ${JSON.stringify(down.kernel)}`);
  t.log(`device counters ${JSON.stringify(stats.counters)}`);
});
