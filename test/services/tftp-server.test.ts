import test from "ava";
import fc from "fast-check";
import { bench, ip } from "../support/bench.ts";
import { TftpServer, type TftpServerOptions, type TftpTransferReport } from "../../modules/services/tftp-server.ts";
import { NetasciiDecoder, NetasciiEncoder } from "../../modules/services/netascii.ts";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import type { Storage } from "../../modules/storage/storage.ts";
import { ok } from "../../modules/wire/result.ts";
import type { TftpOptions, TftpPacket } from "../../modules/wire/tftp.ts";
import { holds } from "../support/helpers.ts";
import { bytes, must, readAll, writeAll } from "../support/storage.ts";
import { RawPeer, runTransfer, tftpGet, tftpPut, type ClientOptions } from "../../host-sim/clients/tftp-client.ts";
import { concat } from "../../modules/wire/bytes.ts";

const SERVER = ip("10.0.0.2");

function setup(options: Partial<TftpServerOptions> = {}, storage: Storage = new MemoryStorage({ limit: 1 << 24 })) {
  const b = bench();
  const device = b.host(2);
  const client = b.host(3);
  const reports: TftpTransferReport[] = [];
  const server = new TftpServer(device, storage, { onTransfer: (r) => reports.push(r), ...options });
  if (!server.listen()) throw new Error("port 69 taken");
  // Both sides learn each other's MAC first, so no test depends on ARP's small queue.
  client.icmp.echo(SERVER, 1, 1, new Uint8Array(0));
  b.clock.advance(10);
  const get = (file: string, o: ClientOptions = {}) => runTransfer(b.clock, (done) => tftpGet(client, SERVER, file, o, done));
  const put = (file: string, data: Uint8Array, o: ClientOptions = {}) => runTransfer(b.clock, (done) => tftpPut(client, SERVER, file, data, o, done));
  const peer = () => new RawPeer(client, SERVER);
  /** Runs the virtual clock for `ms`. */
  const wait = (ms: number) => b.clock.advance(ms);
  return { b, device, client, server, storage, reports, get, put, peer, wait, drops: device.netif.stats.drops };
}

function ops(received: { p: TftpPacket }[]): string[] {
  return received.map(({ p }) =>
    p.op === "data" ? `data ${p.block} ${p.data.length}` : p.op === "ack" ? `ack ${p.block}` : p.op === "error" ? `error ${p.code}` : p.op,
  );
}

/** LF as CR LF and CR as CR NUL: the netascii form, written out independently of the server. */
function toNetascii(b: Uint8Array): Uint8Array {
  return Uint8Array.from([...b].flatMap((c) => (c === 10 ? [13, 10] : c === 13 ? [13, 0] : [c])));
}

// ---- reading and writing ----

test("RRQ in octet mode: 0, 511, 512, 513, 1024 and 5000 bytes arrive byte-exact, from a port of the transfer's own", (t) => {
  const env = setup();
  for (const size of [0, 511, 512, 513, 1024, 5000]) {
    must(writeAll(env.storage, `f${size}`, bytes(size, size)));
    const r = env.get(`f${size}`);
    t.is(r.error, undefined, `${size}`);
    t.deepEqual(r.data, bytes(size, size), `${size}`);
    t.is(r.dataPackets, Math.floor(size / 512) + 1, `${size}: a file of whole blocks ends with an empty one`);
    t.not(r.tid, 69);
  }
  env.wait(10); // the last ACK reaches the server
  t.is(env.server.active, 0);
  t.deepEqual(
    env.reports.map((r) => [r.op, r.file, r.bytes, r.blocks, r.error]),
    [0, 511, 512, 513, 1024, 5000].map((n) => ["read", `f${n}`, n, Math.floor(n / 512) + 1, undefined]),
  );
  t.deepEqual(env.drops, new Map());
});

test("WRQ in octet mode stores 0, 511, 512, 513 and 5000 bytes byte-exact", (t) => {
  const env = setup({ allowWrite: true });
  for (const size of [0, 511, 512, 513, 5000]) {
    const r = env.put(`up${size}`, bytes(size, 3));
    t.is(r.error, undefined, `${size}`);
    t.deepEqual(readAll(env.storage, `up${size}`), bytes(size, 3), `${size}`);
  }
  t.deepEqual(
    env.reports.map((r) => [r.op, r.bytes, r.error]),
    [0, 511, 512, 513, 5000].map((n) => ["write", n, undefined]),
  );
  t.is(env.server.active, 0);
});

test("each transfer gets its own port, and two run side by side", (t) => {
  const env = setup();
  must(writeAll(env.storage, "a", bytes(3000, 1)));
  must(writeAll(env.storage, "b", bytes(2000, 2)));
  const results: { data: Uint8Array; tid?: number }[] = [];
  tftpGet(env.client, SERVER, "a", {}, (r) => results.push(r));
  tftpGet(env.client, SERVER, "b", {}, (r) => results.push(r));
  env.b.clock.runUntil(() => results.length === 2);
  env.wait(10);
  t.is(env.server.active, 0);
  const [first, second] = results.sort((x, y) => x.data.length - y.data.length);
  t.deepEqual(first!.data, bytes(2000, 2));
  t.deepEqual(second!.data, bytes(3000, 1));
  t.not(first!.tid, second!.tid);
});

test("netascii both ways: LF is CR LF and CR is CR NUL on the wire, whatever block a pair straddles", (t) => {
  const text = new TextEncoder().encode(`line one\nline two\r\nbare\rcr\n\n\r\r${"x".repeat(505)}\n${"y".repeat(510)}\r\n`);
  const env = setup({ allowWrite: true });
  must(writeAll(env.storage, "text", text));
  const r = env.get("text", { mode: "netascii" });
  t.deepEqual(r.data, toNetascii(text));
  const w = env.put("back", toNetascii(text), { mode: "netascii" });
  t.is(w.error, undefined);
  t.deepEqual(readAll(env.storage, "back"), text);
});

test("property: netascii round trips any bytes at any block size, and a final CR survives", (t) => {
  const content = fc.array(fc.oneof(fc.constantFrom(10, 13, 0), fc.integer({ min: 0, max: 255 })), { maxLength: 300 });
  holds(
    t,
    fc.property(content, fc.integer({ min: 8, max: 40 }), fc.integer({ min: 1, max: 4 }), (c, blksize, windowsize) => {
      const data = Uint8Array.from(c);
      const env = setup({ allowWrite: true });
      must(writeAll(env.storage, "f", data));
      const options = { blksize, windowsize };
      const r = env.get("f", { mode: "netascii", options });
      const w = env.put("g", toNetascii(data), { mode: "netascii", options });
      return r.error === undefined && w.error === undefined && toHexEq(r.data, toNetascii(data)) && toHexEq(readAll(env.storage, "g"), data);
    }),
    { numRuns: 60 },
  );
});

function toHexEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

test("property: the netascii encoder and decoder stream across any chunking", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }), (data, cuts) => {
      // Encode from a source that hands out `cuts`-sized pieces into blocks of varying sizes.
      let at = 0;
      let i = 0;
      const enc = new NetasciiEncoder((buf) => {
        const n = Math.min(buf.length, cuts[i++ % cuts.length]!, data.length - at);
        buf.set(data.subarray(at, at + n));
        at += n;
        return ok(n);
      }, 7);
      const blocks: Uint8Array[] = [];
      for (let k = 0; ; k++) {
        const out = new Uint8Array(cuts[k % cuts.length]! + 1);
        const n = must(enc.read(out));
        blocks.push(out.slice(0, n));
        if (n < out.length) break;
      }
      const wire = concat(blocks);
      const dec = new NetasciiDecoder();
      const back = concat([...blocks.map((b) => dec.decode(b)), dec.end()]);
      return toHexEq(wire, toNetascii(data)) && toHexEq(back, data);
    }),
  );
});

test("a malformed netascii CR (followed by neither LF nor NUL) is kept, not lost", (t) => {
  const d = new NetasciiDecoder();
  t.deepEqual(concat([d.decode(Uint8Array.of(65, 13)), d.decode(Uint8Array.of(66, 13, 13, 10)), d.end()]), Uint8Array.of(65, 13, 66, 13, 10));
});

// ---- options ----

test("options are acknowledged with an OACK: blksize capped by the MTU, tsize, timeout, windowsize capped; unknown ones left out", (t) => {
  const env = setup();
  must(writeAll(env.storage, "f", bytes(20000)));
  const r = env.get("f", { options: { blksize: 9000, tsize: 0, timeout: 2, windowsize: 64, other: [{ name: "multicast", value: "" }] } });
  t.deepEqual(r.oack, { blksize: 1468, tsize: 20000, timeout: 2, windowsize: 8 });
  t.deepEqual(r.data, bytes(20000));
  t.is(r.dataPackets, Math.ceil(20000 / 1468));
  const small = env.get("f", { options: { blksize: 1024, windowsize: 4 } });
  t.deepEqual(small.oack, { blksize: 1024, windowsize: 4 });
  t.deepEqual(small.data, bytes(20000));
});

test("a configured maxBlksize and maxWindowsize are what is offered; never more than the MTU allows", (t) => {
  const env = setup({ maxBlksize: 600, maxWindowsize: 2 });
  must(writeAll(env.storage, "f", bytes(5000)));
  t.deepEqual(env.get("f", { options: { blksize: 1468, windowsize: 16 } }).oack, { blksize: 600, windowsize: 2 });
  const big = setup({ maxBlksize: 60000 });
  must(writeAll(big.storage, "f", bytes(5000)));
  t.deepEqual(big.get("f", { options: { blksize: 60000 } }).oack, { blksize: 1468 });
});

test("a request with only unknown options gets no OACK but data at once; netascii reads and empty files do not promise a tsize", (t) => {
  const env = setup();
  must(writeAll(env.storage, "f", bytes(100)));
  const p = env.peer();
  p.send({ op: "rrq", filename: "f", mode: "octet", options: { other: [{ name: "rollover", value: "0" }] } });
  env.wait(50);
  t.deepEqual(ops(p.take()), ["data 1 100"]);
  const r = env.get("f", { mode: "netascii", options: { tsize: 0, blksize: 512 } });
  t.deepEqual(r.oack, { blksize: 512 });
  must(writeAll(env.storage, "empty", new Uint8Array(0)));
  const e = env.get("empty", { options: { tsize: 0, blksize: 512 } });
  t.deepEqual(e.oack, { blksize: 512 }, "nor the size of an empty file, which curl would refuse");
  t.deepEqual(e.data, new Uint8Array(0));
});

test("option values outside their ranges fail negotiation with error 8", (t) => {
  const env = setup({ allowWrite: true });
  must(writeAll(env.storage, "f", bytes(10)));
  for (const options of [{ blksize: 7 }, { blksize: 65465 }, { timeout: 0 }, { timeout: 256 }, { windowsize: 0 }, { windowsize: 65536 }] as TftpOptions[]) {
    const r = env.get("f", { options });
    t.deepEqual(r.error, { code: 8, message: "bad option value" }, JSON.stringify(options));
  }
  // A value that is not a number at all cannot even be decoded.
  const p = env.peer();
  p.send(new TextEncoder().encode("\0\x01f\0octet\0blksize\0abc\0"));
  env.wait(50);
  t.deepEqual(ops(p.take()), ["error 8"]);
  t.is(env.drops.get("tftp-bad-option"), 1);
  t.is(env.drops.get("tftp-bad-option-value"), 6);
});

test("the negotiated timeout sets the retransmission interval", (t) => {
  const env = setup({ timeoutMs: 1000 });
  must(writeAll(env.storage, "f", bytes(10)));
  const p = env.peer();
  p.send({ op: "rrq", filename: "f", mode: "octet", options: { timeout: 3 } });
  env.wait(7000);
  const got = p.take();
  t.deepEqual(ops(got), ["oack", "oack", "oack"]);
  t.is(Math.round(got[1]!.at - got[0]!.at), 3000);
  const q = env.peer();
  q.send({ op: "rrq", filename: "f", mode: "octet", options: {} });
  env.wait(2500);
  const plain = q.take();
  t.deepEqual(ops(plain), ["data 1 10", "data 1 10", "data 1 10"]);
  t.is(Math.round(plain[1]!.at - plain[0]!.at), 1000);
});

test("a WRQ whose tsize exceeds the free space is refused with disk full; so is a write that runs out of room", (t) => {
  const env = setup({ allowWrite: true }, new MemoryStorage({ limit: 3000 }));
  const r = env.put("big", bytes(10), { options: { tsize: 3001 } });
  t.deepEqual(r.error, { code: 3, message: "file too big" });
  const ok = env.put("fits", bytes(3000), { options: { tsize: 3000 } });
  t.is(ok.error, undefined);
  t.deepEqual(ok.oack, { tsize: 3000 });
  must(env.storage.delete("fits"));
  must(writeAll(env.storage, "filler", bytes(2000)));
  const over = env.put("over", bytes(1500));
  t.deepEqual(over.error, { code: 3, message: "disk full" });
  t.is(env.storage.stat("over").ok, false, "nothing is left of the failed file");
  t.is(env.storage.free(), 1000);
  t.is(env.reports.at(-1)?.error, "storage-full");
});

// ---- block numbers ----

test("a read of more than 65535 blocks rolls the block number over to 0", (t) => {
  const env = setup();
  const size = 65537 * 8 + 3;
  must(writeAll(env.storage, "huge", bytes(size, 5), "create", 4096));
  const p = env.peer();
  p.send({ op: "rrq", filename: "huge", mode: "octet", options: { blksize: 8 } });
  env.wait(10);
  const oack = p.take();
  t.deepEqual(ops(oack), ["oack"]);
  // Lockstep by hand past the rollover, then let the client fetch it all.
  let tid = oack[0]!.port;
  const seen: number[] = [];
  for (let k = 0; k <= 65537; k++) {
    p.send({ op: "ack", block: k & 0xffff }, tid);
    env.b.clock.runUntil(() => p.inbox.length > 0);
    const [d] = p.take();
    tid = d!.port;
    if (d!.p.op !== "data") return t.fail(ops([d!])[0]);
    if (k >= 65533) seen.push(d!.p.block);
  }
  t.deepEqual(seen, [65534, 65535, 0, 1, 2]);
  const r = env.get("huge", { options: { blksize: 8, windowsize: 8 } });
  t.is(r.error, undefined);
  t.deepEqual(r.data, bytes(size, 5));
});

test("a write of more than 65535 blocks rolls over too, windowed", (t) => {
  const env = setup({ allowWrite: true }, new MemoryStorage({ limit: 1 << 22 }));
  const data = bytes(65540 * 8, 6);
  const r = env.put("huge", data, { options: { blksize: 8, windowsize: 8 } });
  t.is(r.error, undefined);
  t.deepEqual(readAll(env.storage, "huge"), data);
  t.is(env.reports[0]!.blocks, 65541);
});

// ---- retransmission ----

test("an unanswered block is sent again after the timeout, a bounded number of times, then an error ends the transfer", (t) => {
  const env = setup({ timeoutMs: 500, retries: 3 });
  must(writeAll(env.storage, "f", bytes(600)));
  const p = env.peer();
  p.send({ op: "rrq", filename: "f", mode: "octet", options: {} });
  env.wait(10_000);
  t.deepEqual(ops(p.take()), ["data 1 512", "data 1 512", "data 1 512", "data 1 512", "error 0"]);
  t.is(env.server.active, 0);
  t.is(env.reports[0]!.error, "tftp-timeout");
  t.is(env.reports[0]!.retransmits, 3);
});

test("a duplicate ACK never sends a block again (Sorcerer's Apprentice), windowed or not", (t) => {
  const env = setup();
  must(writeAll(env.storage, "f", bytes(5000)));
  const p = env.peer();
  p.send({ op: "rrq", filename: "f", mode: "octet", options: {} });
  env.wait(10);
  const [first] = p.take();
  const tid = first!.port;
  p.send({ op: "ack", block: 1 }, tid);
  p.send({ op: "ack", block: 1 }, tid);
  p.send({ op: "ack", block: 0 }, tid);
  env.wait(10);
  t.deepEqual(ops(p.take()), ["data 2 512"]);
  p.send({ op: "ack", block: 2 }, tid);
  p.send({ op: "ack", block: 2 }, tid);
  p.send({ op: "ack", block: 1 }, tid);
  env.wait(10);
  t.deepEqual(ops(p.take()), ["data 3 512"]);
  t.is(env.device.netif.stats.counters.get("tftp.duplicate-ack"), 4);

  const w = env.peer();
  w.send({ op: "rrq", filename: "f", mode: "octet", options: { windowsize: 4 } });
  env.wait(10);
  const wtid = w.take()[0]!.port;
  w.send({ op: "ack", block: 0 }, wtid);
  env.wait(10);
  t.deepEqual(ops(w.take()), ["data 1 512", "data 2 512", "data 3 512", "data 4 512"]);
  w.send({ op: "ack", block: 4 }, wtid);
  w.send({ op: "ack", block: 4 }, wtid);
  w.send({ op: "ack", block: 2 }, wtid);
  env.wait(10);
  t.deepEqual(ops(w.take()), ["data 5 512", "data 6 512", "data 7 512", "data 8 512"]);
});

test("an ACK in the middle of a window sends the rest of the window again (RFC 7440)", (t) => {
  const env = setup();
  must(writeAll(env.storage, "f", bytes(5000)));
  const p = env.peer();
  p.send({ op: "rrq", filename: "f", mode: "octet", options: { windowsize: 4 } });
  env.wait(10);
  const tid = p.take()[0]!.port;
  p.send({ op: "ack", block: 0 }, tid);
  env.wait(10);
  p.take();
  p.send({ op: "ack", block: 2 }, tid);
  env.wait(10);
  t.deepEqual(ops(p.take()), ["data 3 512", "data 4 512", "data 5 512", "data 6 512"]);
});

test("a lost final ACK on a write: the resent last block is acknowledged again, and the file is stored once", (t) => {
  const env = setup({ allowWrite: true });
  const p = env.peer();
  p.send({ op: "wrq", filename: "w", mode: "octet", options: {} });
  env.wait(10);
  const [ack0] = p.take();
  t.deepEqual(ops([ack0!]), ["ack 0"]);
  p.send({ op: "data", block: 1, data: bytes(100) }, ack0!.port);
  env.wait(10);
  t.deepEqual(ops(p.take()), ["ack 1"]);
  t.deepEqual(readAll(env.storage, "w"), bytes(100));
  p.send({ op: "data", block: 1, data: bytes(100) }, ack0!.port);
  env.wait(10);
  t.deepEqual(ops(p.take()), ["ack 1"]);
  t.is(env.reports.length, 1);
  env.wait(5000);
  t.is(env.server.active, 0, "it lingers only a while");
  t.deepEqual(ops(p.take()), []);
});

test("a write whose client vanishes is given up and leaves no file", (t) => {
  const env = setup({ allowWrite: true, timeoutMs: 200, retries: 2 });
  const p = env.peer();
  p.send({ op: "wrq", filename: "w", mode: "octet", options: {} });
  env.wait(10);
  const tid = p.take()[0]!.port;
  p.send({ op: "data", block: 1, data: bytes(512) }, tid);
  env.wait(5000);
  t.deepEqual(ops(p.take()), ["ack 1", "ack 1", "ack 1", "error 0"]);
  t.is(env.storage.stat("w").ok, false);
  t.is(env.reports[0]!.error, "tftp-timeout");
});

test("on a write, a lost block is asked for once at once with a window, and a stale block is answered only without one", (t) => {
  const env = setup({ allowWrite: true });
  const p = env.peer();
  p.send({ op: "wrq", filename: "w", mode: "octet", options: { windowsize: 4 } });
  env.wait(10);
  const tid = p.take()[0]!.port;
  const data = (block: number) => p.send({ op: "data", block, data: bytes(512, block) }, tid);
  data(1);
  data(3);
  data(4);
  env.wait(10);
  t.deepEqual(ops(p.take()), ["ack 1"], "one ACK for the gap, not one per block after it");
  data(2);
  data(3);
  data(4);
  data(5);
  env.wait(10);
  t.deepEqual(ops(p.take()), ["ack 5"], "a window counted from the last ACK");
  data(3);
  env.wait(10);
  t.deepEqual(ops(p.take()), [], "a stale block may still be in flight with a window: no ACK");
  p.send({ op: "data", block: 6, data: bytes(7) }, tid);
  env.wait(10);
  t.deepEqual(ops(p.take()), ["ack 6"]);
  t.deepEqual(readAll(env.storage, "w"), concat([1, 2, 3, 4, 5].map((k) => bytes(512, k)).concat([bytes(7)])));
});

// ---- TIDs, requests and errors ----

test("a packet from a wrong port gets error 5 and the transfer carries on undisturbed", (t) => {
  const env = setup();
  must(writeAll(env.storage, "f", bytes(2000)));
  const p = env.peer();
  const intruder = env.peer();
  p.send({ op: "rrq", filename: "f", mode: "octet", options: {} });
  env.wait(10);
  const tid = p.take()[0]!.port;
  intruder.send({ op: "ack", block: 1 }, tid);
  intruder.send({ op: "error", code: 0, message: "go away" }, tid);
  env.wait(10);
  t.deepEqual(ops(intruder.take()), ["error 5"], "an error is never answered with an error");
  t.deepEqual(ops(p.take()), [], "the intruder's ACK moved nothing");
  const got: TftpPacket[] = [];
  for (let k = 1; k <= 4; k++) {
    p.send({ op: "ack", block: k }, tid);
    env.wait(10);
    got.push(...p.take().map((r) => r.p));
  }
  t.deepEqual(ops(got.map((p) => ({ p }))), ["data 2 512", "data 3 512", "data 4 464"]);
  t.is(env.drops.get("tftp-unknown-tid"), 2);
  t.is(env.reports[0]!.error, undefined);
});

test("a resent request from the same port does not start a second transfer", (t) => {
  const env = setup();
  must(writeAll(env.storage, "f", bytes(100)));
  const p = env.peer();
  p.send({ op: "rrq", filename: "f", mode: "octet", options: {} });
  p.send({ op: "rrq", filename: "f", mode: "octet", options: {} });
  env.wait(10);
  t.deepEqual(ops(p.take()), ["data 1 100"]);
  t.is(env.server.active, 1);
  t.is(env.drops.get("tftp-duplicate-request"), 1);
});

test("error codes: not found, access violation, illegal operation, file exists, writing disabled", (t) => {
  const env = setup();
  must(writeAll(env.storage, "f", bytes(10)));
  must(env.storage.mkdir("dir"));
  const error = (r: { error?: unknown }) => r.error;
  t.deepEqual(error(env.get("missing")), { code: 1, message: "file not found" });
  t.deepEqual(error(env.get("dir")), { code: 2, message: "access violation" });
  t.deepEqual(error(env.put("new", bytes(10))), { code: 2, message: "writing is disabled" });
  const p = env.peer();
  p.send({ op: "rrq", filename: "f", mode: "mail", options: {} });
  p.send({ op: "data", block: 1, data: bytes(3) });
  p.send({ op: "ack", block: 1 });
  p.send(Uint8Array.of(0, 9, 1, 2));
  p.send({ op: "error", code: 0, message: "stray" });
  env.wait(10);
  t.deepEqual(ops(p.take()), ["error 4", "error 4", "error 4", "error 4"]);
  t.is(env.drops.get("tftp-stray-error"), 1);
  t.is(env.drops.get("tftp-bad-opcode"), 1);

  const w = setup({ allowWrite: true });
  must(writeAll(w.storage, "f", bytes(10)));
  t.deepEqual(error(w.put("f", bytes(20))), { code: 6, message: "file exists" });
  t.deepEqual(readAll(w.storage, "f"), bytes(10));
  t.deepEqual(error(w.put("nodir/f", bytes(20))), { code: 1, message: "file not found" });
  const o = setup({ allowWrite: true, allowOverwrite: true });
  must(writeAll(o.storage, "f", bytes(10)));
  t.is(error(o.put("f", bytes(20, 2))), undefined);
  t.deepEqual(readAll(o.storage, "f"), bytes(20, 2));
});

test("paths that climb out of the root get an access violation, read or write, whatever the separator", (t) => {
  const storage = new MemoryStorage();
  must(storage.mkdir("pub"));
  must(writeAll(storage, "pub/f", bytes(10)));
  must(writeAll(storage, "secret", bytes(5)));
  const env = setup({ allowWrite: true, allowOverwrite: true }, storage);
  for (const name of ["../secret", "../../etc/passwd", "/../etc/passwd", "pub/../../secret", "..\\..\\secret", "pub\\..\\..\\x", "C:\\boot.ini", "a\x01b"]) {
    t.deepEqual(env.get(name).error, { code: 2, message: "access violation" }, name);
    t.deepEqual(env.put(name, bytes(3)).error, { code: 2, message: "access violation" }, name);
  }
  t.deepEqual(env.get("/pub/../pub/f").data, bytes(10), "a path that stays inside is fine");
  t.deepEqual(env.get("\\pub\\f").data, bytes(10));
  t.deepEqual(
    must(storage.list("")).map((e) => e.name),
    ["pub", "secret"],
  );
  t.deepEqual(readAll(storage, "secret"), bytes(5));
  t.is(env.drops.get("path-escapes-root"), 12);
});

test("a peer's wrong packet ends its transfer with error 4; a peer's error ends it quietly and discards the upload", (t) => {
  const env = setup({ allowWrite: true });
  must(writeAll(env.storage, "f", bytes(2000)));
  const p = env.peer();
  p.send({ op: "rrq", filename: "f", mode: "octet", options: {} });
  env.wait(10);
  const tid = p.take()[0]!.port;
  p.send({ op: "data", block: 1, data: bytes(1) }, tid);
  env.wait(10);
  t.deepEqual(ops(p.take()), ["error 4"]);
  t.is(env.server.active, 0);

  const w = env.peer();
  w.send({ op: "wrq", filename: "up", mode: "octet", options: {} });
  env.wait(10);
  const wtid = w.take()[0]!.port;
  w.send({ op: "data", block: 1, data: bytes(512) }, wtid);
  w.send({ op: "data", block: 2, data: bytes(600) }, wtid);
  env.wait(10);
  t.deepEqual(ops(w.take()), ["ack 1", "error 4"], "a block larger than negotiated");
  t.is(env.storage.stat("up").ok, false);

  const e = env.peer();
  e.send({ op: "wrq", filename: "up2", mode: "octet", options: {} });
  env.wait(10);
  const etid = e.take()[0]!.port;
  e.send({ op: "data", block: 1, data: bytes(512) }, etid);
  e.send({ op: "error", code: 0, message: "cancelled" }, etid);
  env.wait(10);
  t.deepEqual(ops(e.take()), ["ack 1"]);
  t.is(env.storage.stat("up2").ok, false);
  t.deepEqual(
    env.reports.map((r) => r.error),
    ["tftp-unexpected-data", "tftp-block-too-large", "tftp-peer-error"],
  );
});

test("the number of transfers at once is limited; a slot frees when a transfer ends", (t) => {
  const env = setup({ maxTransfers: 2, timeoutMs: 100, retries: 1 });
  must(writeAll(env.storage, "f", bytes(10)));
  const peers = [env.peer(), env.peer(), env.peer()];
  for (const p of peers) p.send({ op: "rrq", filename: "f", mode: "octet", options: {} });
  env.wait(10);
  t.deepEqual(
    peers.map((p) => ops(p.take())),
    [["data 1 10"], ["data 1 10"], ["error 0"]],
  );
  t.is(env.server.active, 2);
  t.is(env.drops.get("tftp-busy"), 1);
  env.wait(1000);
  t.is(env.server.active, 0);
  t.deepEqual(env.get("f").data, bytes(10));
});

test("the server reads a block at a time and writes a block at a time", (t) => {
  const inner = new MemoryStorage({ limit: 1 << 22 });
  let reads = 0;
  let largestRead = 0;
  let largestWrite = 0;
  const spy: Storage = Object.assign(Object.create(inner) as Storage, {
    openRead(path: string) {
      const h = inner.openRead(path);
      if (!h.ok) return h;
      return ok({
        size: h.value.size,
        read: (buf: Uint8Array) => {
          const r = h.value.read(buf);
          if (r.ok) reads += r.value;
          largestRead = Math.max(largestRead, buf.length);
          return r;
        },
        close: () => h.value.close(),
      });
    },
    openWrite(path: string, mode: "create" | "replace" | "append") {
      const h = inner.openWrite(path, mode);
      if (!h.ok) return h;
      return ok({
        write: (d: Uint8Array) => {
          largestWrite = Math.max(largestWrite, d.length);
          return h.value.write(d);
        },
        close: () => h.value.close(),
        abort: () => h.value.abort(),
      });
    },
  });
  must(writeAll(inner, "big", bytes(1 << 20)));
  const env = setup({ allowWrite: true }, spy);
  const p = env.peer();
  p.send({ op: "rrq", filename: "big", mode: "octet", options: { windowsize: 4 } });
  env.wait(10);
  const tid = p.take()[0]!.port;
  for (let k = 0; k <= 40; k += 4) {
    p.send({ op: "ack", block: k }, tid);
    env.wait(10);
    p.take();
    t.true(reads <= (k + 4) * 512, `after ACK ${k}: ${reads} bytes read`);
  }
  t.is(largestRead, 512);
  t.is(env.put("copy", bytes(100_000), { options: { blksize: 1400 } }).error, undefined);
  t.is(largestWrite, 1400);
});

test("closing the server ends its transfers and discards uploads in progress", (t) => {
  const env = setup({ allowWrite: true });
  const p = env.peer();
  p.send({ op: "wrq", filename: "w", mode: "octet", options: {} });
  env.wait(10);
  const tid = p.take()[0]!.port;
  p.send({ op: "data", block: 1, data: bytes(512) }, tid);
  env.wait(10);
  t.deepEqual(ops(p.take()), ["ack 1"]);
  env.server.close();
  t.is(env.server.active, 0);
  t.deepEqual(
    env.reports.map((r) => r.error),
    ["tftp-server-closed"],
  );
  t.is(env.storage.stat("w").ok, false);
  p.send({ op: "rrq", filename: "w", mode: "octet", options: {} });
  env.wait(10);
  t.deepEqual(ops(p.take()), []);
  t.is(env.drops.get("udp-no-listener"), 1);
});
