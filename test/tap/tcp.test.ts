// The stack's TCP against the Linux kernel's, over TAP: a kernel client (Python's
// sockets) sends and receives 10 MB through small services on the simulated device,
// and the hashes must match. Flow control goes through recv/recved and write/sent.

import test from "ava";
import { createHash } from "node:crypto";
import { deviceOnTap, DEVICE } from "../support/tap-device.ts";
import type { Stack } from "../../modules/stack/stack.ts";
import type { TcpPcb } from "../../modules/stack/tcp.ts";
import { unwrap } from "../../modules/wire/result.ts";

const SIZE = 10 * 1024 * 1024;

/** Deterministic bytes that the Python client can produce too: byte i is (i * 7 + (i >> 11)) & 0xff. */
function pattern(start: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const n = start + i;
    b[i] = (n * 7 + Math.floor(n / 2048)) & 0xff;
  }
  return b;
}

const PY_PATTERN = `
def pattern(start, length):
    return bytes(((n * 7 + (n >> 11)) & 0xff) for n in range(start, start + length))
`;

/** Writes `source(offset, n)` through the pcb as the window allows, then closes. */
function stream(pcb: TcpPcb, total: number, source: (offset: number, n: number) => Uint8Array): void {
  let offset = 0;
  const pump = () => {
    while (offset < total && pcb.sndbuf > 0) {
      const n = Math.min(pcb.sndbuf, total - offset, 16384);
      offset += pcb.write(source(offset, n));
    }
    if (offset === total) pcb.close();
  };
  pcb.sent(pump);
  pump();
}

/** Port 9 hashes what it receives (discard with a receipt); port 19 sends SIZE pattern bytes. */
function services(device: Stack, received: { hash: ReturnType<typeof createHash>; bytes: number; closed: boolean }, errors: string[]): void {
  const tcp = device.tcp;
  unwrap(tcp.listen(9, 2)).accept((pcb) => {
    pcb.err((e) => errors.push(`discard: ${e}`));
    pcb.recv((data) => {
      if (data === null) {
        received.closed = true;
        return pcb.close();
      }
      received.hash.update(data);
      received.bytes += data.length;
      pcb.recved(data.length);
    });
  });
  unwrap(tcp.listen(19, 2)).accept((pcb) => {
    pcb.err((e) => errors.push(`source: ${e}`));
    pcb.recv((data) => {
      if (data === null) return;
      pcb.recved(data.length);
    });
    stream(pcb, SIZE, pattern);
  });
}

test("10 MB each way between the kernel's TCP and ours, hashes equal, clean close", async (t) => {
  const { ns, device } = await deviceOnTap(t);
  const received = { hash: createHash("sha256"), bytes: 0, closed: false };
  const errors: string[] = [];
  services(device, received, errors);
  const expected = createHash("sha256").update(pattern(0, SIZE)).digest("hex");

  const up = await ns.mustRun(
    "python3",
    [
      "-c",
      `${PY_PATTERN}
import socket, hashlib
s = socket.create_connection(("${DEVICE}", 9), timeout=30)
data = pattern(0, ${SIZE})
s.sendall(data)
s.shutdown(socket.SHUT_WR)
assert s.recv(1) == b""   # our side closes after the FIN
print(hashlib.sha256(data).hexdigest())
`,
    ],
    120_000,
  );
  t.is(up.trim(), expected);
  t.is(received.bytes, SIZE);
  t.is(received.hash.digest("hex"), expected);
  t.true(received.closed);

  const down = await ns.mustRun(
    "python3",
    [
      "-c",
      `
import socket, hashlib
s = socket.create_connection(("${DEVICE}", 19), timeout=30)
h = hashlib.sha256(); n = 0
while True:
    b = s.recv(65536)
    if not b: break
    h.update(b); n += len(b)
s.close()
print(n, h.hexdigest())
`,
    ],
    120_000,
  );
  t.is(down.trim(), `${SIZE} ${expected}`);
  t.deepEqual(errors, []);
  t.log(`device counters: ${JSON.stringify([...device.netif.stats.counters])} drops: ${JSON.stringify([...device.netif.stats.drops])}`);
});

test("a connection to a closed port is refused by RST; the kernel sees ECONNREFUSED", async (t) => {
  const { ns, device } = await deviceOnTap(t);
  const r = await ns.run(
    "python3",
    [
      "-c",
      `
import socket
try:
    socket.create_connection(("${DEVICE}", 4444), timeout=5)
    print("connected")
except ConnectionRefusedError:
    print("refused")
`,
    ],
    10_000,
  );
  t.is(r.stdout.trim(), "refused");
  t.true((device.netif.stats.drops.get("tcp-no-listener") ?? 0) >= 1);
});
