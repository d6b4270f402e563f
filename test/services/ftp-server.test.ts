import test from "ava";
import { bench, ip } from "../stack/bench.ts";
import { FtpServer, type FtpServerOptions, type FtpTransferReport } from "../../modules/services/ftp-server.ts";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import type { Storage } from "../../modules/storage/storage.ts";
import { bytes, must, readAll, writeAll } from "../storage/contract.ts";
import { FtpClient } from "./ftp-client.ts";

const SERVER = ip("10.0.0.2");

export function setup(options: Partial<FtpServerOptions> = {}, storage: Storage = new MemoryStorage({ limit: 1 << 24, maxEntries: 1000 })) {
  const b = bench();
  const device = b.host(2);
  const client = b.host(3);
  const reports: FtpTransferReport[] = [];
  const server = new FtpServer(device, storage, {
    users: [{ name: "bob", password: "secret" }],
    anonymousRoot: "pub",
    onTransfer: (r) => reports.push(r),
    ...options,
  });
  if (!server.listen()) throw new Error("port 21 taken");
  const connect = (host = client) => new FtpClient(host, b.clock, SERVER);
  const login = (user = "bob", pass = "secret") => {
    const c = connect();
    const r = c.login(user, pass);
    if (r.code !== 230) throw new Error(`login: ${r.lines.join("|")}`);
    return c;
  };
  return { b, device, client, server, storage, reports, connect, login, stats: device.netif.stats };
}

test("smoke: login, RETR and STOR over PASV", (t) => {
  const env = setup();
  must(writeAll(env.storage, "hello.bin", bytes(10000, 3)));
  const c = env.login();
  t.is(c.cmd("TYPE I").code, 200);
  const r = c.retr("hello.bin");
  t.is(r.first.code, 150);
  t.is(r.final?.code, 226);
  t.deepEqual(r.data, bytes(10000, 3));
  const s = c.stor("up.bin", bytes(20000, 4));
  t.is(s.first.code, 150);
  t.is(s.final?.code, 226);
  t.deepEqual(readAll(env.storage, "up.bin"), bytes(20000, 4));
  t.is(c.cmd("QUIT").code, 221);
});
