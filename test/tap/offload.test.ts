// The TAP's checksum and segmentation offload (IFF_VNET_HDR, TUNSETOFFLOAD) against the kernel.
// A GET crosses a router namespace from a device whose TAP offloads to a device whose TAP does
// not: the kernel cuts our 64 KiB segments up and finishes their checksums itself, and the
// receiving stack checks every one. A PUT by curl hands the offloading device the kernel's own
// large segments with unfinished checksums, which the addon completes, as it does for a UDP
// datagram from the kernel. Needs root.

import test, { type ExecutionContext } from "ava";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpServer } from "../../modules/services/http-server.ts";
import type { Stack } from "../../modules/stack/stack.ts";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import { parseIp, parseMac } from "../../modules/wire/address.ts";
import { Netns } from "../../bench/netns.ts";
import { deviceOnTap } from "../support/tap-device.ts";

const MIB = 1 << 20;
const BODY = randomBytes(8 * MIB);
const SERVER = "10.77.13.2";
const TCP = { tcp: { wnd: 65535, sndbuf: 65535 } };
const ETH_MTU_FRAME = 1514;

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function servesBody(device: Stack): MemoryStorage {
  const storage = new MemoryStorage({ limit: 3 * BODY.length, maxEntries: 4 });
  const w = storage.openWrite("/big", "create");
  if (!w.ok || !w.value.write(BODY).ok || !w.value.close().ok) throw new Error("the store did not take the body");
  const server = new HttpServer(device, storage, { allowPut: true, maxBodyBytes: 2 * BODY.length });
  if (!server.listen()) throw new Error("port 80 taken");
  return storage;
}

/** The largest frame `device` sends and receives from now on. */
function largest(device: Stack): { tx: number; rx: number } {
  const seen = { tx: 0, rx: 0 };
  device.netif.onEvent = (e) => {
    if (e.kind !== "event") seen[e.kind] = Math.max(seen[e.kind], e.frame.length);
  };
  return seen;
}

/** `client` fetches /big from SERVER over its own TCP and resolves with the response's body; a guard, not a timing check, ends a stall. */
function get(client: Stack): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error("the GET stalled for 60 s")), 60_000);
    const parts: Uint8Array[] = [];
    const r = client.tcp.connect(parseIp(SERVER)!, 80, (err) => {
      if (err) return reject(new Error(`connect: ${err}`));
      pcb.write(new TextEncoder().encode("GET /big HTTP/1.1\r\nHost: device\r\nConnection: close\r\n\r\n"));
    });
    if (!r.ok) return reject(new Error(r.reason));
    const pcb = r.value;
    pcb.err((reason) => reject(new Error(`the GET died: ${reason}`)));
    pcb.recv((data) => {
      if (data === null) {
        clearTimeout(guard);
        pcb.close();
        const all = Buffer.concat(parts);
        return resolve(all.subarray(all.indexOf("\r\n\r\n") + 4));
      }
      parts.push(data.slice());
      pcb.recved(data.length);
    });
  });
}

/** A router namespace between the server's TAP (10.77.13.0/24, offloading or not) and the client's (10.77.14.0/24, never). */
async function routed(t: ExecutionContext, offload: boolean) {
  const ns = await Netns.create(t, "offload");
  await ns.mustRun("sysctl", ["-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  const name = (side: string) => `ofl${process.pid % 100_000}${side}${offload ? 1 : 0}`;
  const server = await deviceOnTap(t, { ns, name: name("s"), offload, kernel: "10.77.13.1", device: SERVER, seed: 13, stack: TCP });
  const client = await deviceOnTap(t, {
    ns,
    name: name("c"),
    kernel: "10.77.14.1",
    device: "10.77.14.2",
    seed: 14,
    stack: { ...TCP, mac: parseMac("02:00:0a:4d:0e:02")! },
  });
  return { server, client };
}

for (const offload of [true, false]) {
  test.serial(`a GET of 8 MiB through a router arrives whole, checksummed segment by segment, offload ${offload ? "on" : "off"}`, async (t) => {
    const { server, client } = await routed(t, offload);
    servesBody(server.device);
    const seen = largest(server.device);
    const body = await get(client.device);
    t.is(body.length, BODY.length);
    t.is(sha(body), sha(BODY));
    const drops = client.device.netif.stats.drops;
    t.is(drops.get("tcp-bad-checksum"), undefined, JSON.stringify([...drops]));
    t.is(server.tap.stats.txErrors, 0, server.tap.stats.lastTxError);
    const segments = BODY.length / 1460;
    if (offload) {
      // Each of the client's ACKs (one per two segments) frees room for a few: frames of several segments.
      t.true(seen.tx > 2 * ETH_MTU_FRAME, `largest frame sent ${seen.tx}`);
      t.true(server.tap.stats.txFrames < 0.75 * segments, `${server.tap.stats.txFrames} frames for ${segments} segments`);
      t.log(`${server.tap.stats.txFrames} frames for ${Math.ceil(segments)} segments, the largest ${seen.tx} bytes`);
    } else {
      t.is(seen.tx, ETH_MTU_FRAME);
      t.true(server.tap.stats.txFrames >= segments);
    }
  });
}

test.serial("a PUT of 8 MiB by curl hands the offloading device large segments, their checksums completed", async (t) => {
  const { ns, device, tap } = await deviceOnTap(t, { offload: true, kernel: "10.77.13.1", device: SERVER, seed: 15, stack: TCP });
  const storage = servesBody(device);
  const seen = largest(device);
  const dir = mkdtempSync(join(tmpdir(), "offload-put-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "body");
  writeFileSync(file, BODY);
  const put = await ns.run("curl", ["-sS", "--fail", "--max-time", "60", "-H", "Expect:", "-T", file, `http://${SERVER}/put`], 70_000);
  t.is(put.code, 0, put.stderr);
  const r = storage.openRead("/put");
  if (!r.ok) return t.fail(r.reason);
  const stored = new Uint8Array(BODY.length + 1);
  const n = r.value.read(stored);
  t.true(n.ok && n.value === BODY.length);
  t.is(sha(stored.subarray(0, BODY.length)), sha(BODY));
  const drops = device.netif.stats.drops;
  t.is(drops.get("tcp-bad-checksum"), undefined, JSON.stringify([...drops]));
  t.true(seen.rx > 2 * ETH_MTU_FRAME, `largest frame received ${seen.rx}`);
  t.true(tap.stats.rxFrames < BODY.length / 1460, `${tap.stats.rxFrames} frames received`);
  t.log(`${tap.stats.rxFrames} frames received for ${Math.ceil(BODY.length / 1460)} segments, the largest ${seen.rx} bytes`);
  // The kernel leaves a UDP checksum unfinished for an offloading TAP too.
  const pcb = device.udp.pcb();
  if (!pcb.bind(9999).ok) return t.fail("port 9999 taken");
  const got = new Promise<string>((resolve) => pcb.recv((data) => resolve(new TextDecoder().decode(data))));
  await ns.mustRun("bash", ["-c", `echo -n offloaded > /dev/udp/${SERVER}/9999`]);
  t.is(await got, "offloaded");
  t.is(device.netif.stats.drops.get("udp-bad-checksum"), undefined);
});
