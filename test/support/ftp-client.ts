// The FTP test bench: a device serving FTP on a virtual LAN and a client host, with the
// client from host-sim/clients/ftp-client.ts.

import type { StackOptions } from "../../modules/stack/stack.ts";
import type { Clock, Link } from "../../modules/platform.ts";
import { FtpServer, type FtpServerOptions, type FtpTransferReport } from "../../modules/services/ftp-server.ts";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import type { Storage } from "../../modules/storage/storage.ts";
import { type DataConn, FtpClient } from "../../host-sim/clients/ftp-client.ts";
import { bench, ip } from "./bench.ts";

export * from "../../host-sim/clients/ftp-client.ts";

export const SERVER = ip("10.0.0.2");

export interface FtpBenchOptions {
  storage?: Storage;
  /** Wraps the client's link (a fault injector). */
  wrap?: (link: Link, clock: Clock) => Link;
  client?: Partial<StackOptions>;
}

/**
 * A device at 10.0.0.2 serving FTP from a MemoryStorage (bob/secret with the whole store,
 * anonymous under pub/), and a client host at 10.0.0.3; 10.0.0.4 is a third party.
 */
export function ftpBench(options: Partial<FtpServerOptions> = {}, o: FtpBenchOptions = {}) {
  const b = bench();
  const device = b.host(2);
  const wrap = o.wrap;
  const client = b.host(3, o.client, wrap && ((link) => wrap(link, b.clock)));
  const storage = o.storage ?? new MemoryStorage({ limit: 1 << 24, maxEntries: 1000, clock: b.clock });
  const reports: FtpTransferReport[] = [];
  const server = new FtpServer(device, storage, {
    users: [{ name: "bob", password: "secret" }],
    anonymousRoot: "pub",
    onTransfer: (r) => reports.push(r),
    ...options,
  });
  if (!server.listen()) throw new Error("port 21 taken");
  const connect = (host = client) => new FtpClient(host, b.clock, SERVER);
  /** A client logged in (and in TYPE I unless `ascii`). */
  const login = (user = "bob", pass = "secret", ascii = false) => {
    const c = connect();
    const r = c.login(user, pass);
    if (r.code !== 230) throw new Error(`login: ${r.lines.join("|")}`);
    if (!ascii && c.cmd("TYPE I").code !== 200) throw new Error("TYPE I");
    return c;
  };
  return { b, clock: b.clock, device, client, server, storage, reports, connect, login, stats: device.netif.stats };
}

/** Starts RETR of `path` over a passive data connection that reads nothing until released; throws unless the server says 150. */
export function heldRetr(c: FtpClient, path: string): DataConn {
  const { conn } = c.data("pasv");
  conn.hold = true;
  c.send(`RETR ${path}`);
  const r = c.next();
  if (r.code !== 150) throw new Error(`RETR: ${r.lines.join("|")}`);
  return conn;
}
