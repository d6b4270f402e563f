// The FTP server's defences on the virtual LAN: the bounce attack, foreign data connections,
// path traversal, read-only users, slow and limited logins, idle sessions, and the limits
// on sessions, data connections and a client that does not read.

import test from "ava";
import fc from "fast-check";
import { bytes, must, readAll, writeAll } from "../support/storage.ts";
import { holds } from "../support/helpers.ts";
import { DataConn, FtpClient, SERVER, ftpBench, heldRetr, pasvPort } from "../support/ftp-client.ts";
import { unwrap } from "../../modules/wire/result.ts";

const text = (s: string) => new TextEncoder().encode(s);
const codes = (rs: { code: number }[]) => rs.map((r) => r.code);

test("bounce: PORT and EPRT to another address or to a privileged port are refused with 504, and no SYN leaves", (t) => {
  const env = ftpBench();
  const third = env.b.host(4);
  unwrap(third.tcp.listen(8080)).accept(() => t.fail("the server connected to a third party"));
  must(writeAll(env.storage, "f", bytes(100)));
  const c = env.login();
  for (const cmd of [
    "PORT 10,0,0,4,31,144",
    "EPRT |1|10.0.0.4|8080|",
    "PORT 10,0,0,3,0,25",
    "EPRT |1|10.0.0.3|1023|",
    "PORT 0,0,0,0,156,64",
    "PORT 10,0,0,3,0,0",
  ]) {
    t.is(c.cmd(cmd).lines[0], "504 Data connections only to your own address and an unprivileged port", cmd);
  }
  t.is(c.cmd("RETR f").code, 425, "no data connection was prepared");
  t.is(c.cmd("EPRT |2|::1|5000|").code, 522);
  env.clock.advance(5000);
  t.is(third.netif.stats.counters.get("tcp.rx") ?? 0, 0);
  t.is(env.stats.drops.get("ftp-port-refused"), 6);
  t.deepEqual(c.retr("f", "port").data, bytes(100), "its own address and port 40000 are fine");
});

test("a passive data port takes a connection only from the control connection's peer; others are reset", (t) => {
  const env = ftpBench();
  must(writeAll(env.storage, "f", bytes(20_000)));
  const third = env.b.host(4);
  const c = env.login();
  const port = pasvPort(c.cmd("PASV"));
  const intruder = new DataConn(env.clock);
  intruder.connect(third, SERVER, port);
  c.wait(() => intruder.error !== undefined || intruder.eof, "the intruder's end");
  t.is(intruder.error, "reset");
  t.deepEqual(intruder.data, new Uint8Array(0));
  t.is(env.stats.drops.get("ftp-data-foreign-peer"), 1);
  const mine = new DataConn(env.clock);
  mine.connect(env.client, SERVER, port);
  c.send("RETR f");
  t.deepEqual(codes([c.next(), c.next()]), [150, 226]);
  t.deepEqual(mine.data, bytes(20_000));
});

test("traversal: a user confined to home/bob cannot leave it by .., absolute paths, backslashes or RNTO", (t) => {
  const env = ftpBench({ users: [{ name: "bob", password: "secret", root: "home/bob" }] });
  must(env.storage.mkdir("home"));
  must(env.storage.mkdir("home/bob"));
  must(writeAll(env.storage, "home/bob/mine.txt", text("mine")));
  must(writeAll(env.storage, "home/secret.txt", text("not bob's")));
  must(writeAll(env.storage, "top.txt", text("top")));
  const c = env.login();
  t.deepEqual(c.list("NLST", "/").lines, ["mine.txt"]);
  for (const cmd of [
    "CWD ..",
    "CWD ../..",
    "CWD /..",
    "CWD ..\\..",
    "SIZE ../secret.txt",
    "MDTM /../../top.txt",
    "DELE ../secret.txt",
    "MKD ../evil",
    "RMD ../bob",
    "RNFR ../secret.txt",
    "MLST ..",
    "STAT ../",
  ]) {
    t.is(c.cmd(cmd).lines[0], "550 Permission denied", cmd);
  }
  t.is(c.list("LIST", "..").first.code, 550);
  t.is(c.retr("../secret.txt").first.code, 550);
  t.is(c.retr("sub/../../secret.txt").first.code, 550);
  t.is(c.stor("../../planted.txt", text("x")).first.code, 550);
  t.is(c.cmd("RNFR mine.txt").code, 350);
  t.is(c.cmd("RNTO ../../moved.txt").code, 550);
  t.is(c.cmd("PWD").lines[0], '257 "/" is the current directory');
  t.is(c.cmd("CWD /").code, 250);
  t.deepEqual(c.retr("/mine.txt").data, text("mine"));
  t.deepEqual(c.retr("./x/../mine.txt").data, text("mine"), ".. inside the root is fine");
  t.deepEqual(readAll(env.storage, "home/secret.txt"), text("not bob's"));
  t.false(env.storage.stat("planted.txt").ok);
  t.false(env.storage.stat("moved.txt").ok);
  t.true((env.stats.drops.get("path-escapes-root") ?? 0) >= 15);
});

test("a file name with a control character or a colon is refused (553 for STOR and MKD)", (t) => {
  const env = ftpBench();
  const c = env.login();
  t.is(c.stor("a:b", text("x")).first.code, 553);
  t.is(c.cmd("MKD bad\u0001name").code, 553);
  t.is(c.cmd(`MKD ${"n".repeat(300)}`).code, 553);
});

test("anonymous users read under pub/ only: STOR, APPE, DELE, MKD, RMD, RNFR and RNTO are refused with 550", (t) => {
  const env = ftpBench();
  must(env.storage.mkdir("pub"));
  must(writeAll(env.storage, "pub/readme.txt", text("welcome")));
  must(writeAll(env.storage, "private.txt", text("no")));
  const c = env.connect();
  c.next();
  t.is(c.cmd("USER anonymous").lines[0], "331 Anonymous login ok, send your email address as password");
  t.is(c.cmd("PASS guest@example.com").lines[0], "230 Login successful, read-only access");
  c.cmd("TYPE I");
  t.deepEqual(c.list("NLST").lines, ["readme.txt"]);
  t.deepEqual(c.retr("readme.txt").data, text("welcome"));
  t.is(c.retr("../private.txt").first.code, 550);
  t.is(c.stor("up.txt", text("x")).first.lines[0], "550 Permission denied");
  t.is(c.stor("readme.txt", text("x"), "pasv", "APPE").first.code, 550);
  for (const cmd of ["DELE readme.txt", "MKD d", "RMD d", "RNFR readme.txt", "RNTO x"]) t.is(c.cmd(cmd).code, 550, cmd);
  t.deepEqual(readAll(env.storage, "pub/readme.txt"), text("welcome"));
  t.false(env.storage.stat("pub/up.txt").ok);
  t.regex(c.list("LIST").lines.join("\n"), /^-r--r--r-- 1 ftp ftp +7 \w{3} [ \d]\d +[\d:]+ readme\.txt$/);
  t.regex(c.list("MLSD").lines[0]!, /perm=r; readme\.txt$/);
  t.is(env.stats.drops.get("ftp-read-only"), 7);
  t.is(env.server.dataInUse, 0);
});

test("anonymous login is off unless anonymousRoot is set; a readOnly user cannot write", (t) => {
  const env = ftpBench({ anonymousRoot: undefined, loginDelayMs: 10, users: [{ name: "ro", password: "pw", readOnly: true }] });
  const a = env.connect();
  a.next();
  t.is(a.cmd("USER anonymous").lines[0], "331 Please specify the password");
  t.is(a.cmd("PASS x@y").code, 530);
  const c = env.login("ro", "pw");
  t.is(c.cmd("MKD d").code, 550);
  t.is(c.stor("f", text("x")).first.code, 550);
});

test("failed logins are answered only after loginDelayMs, whatever comes meanwhile; the third closes the session with 421", (t) => {
  const env = ftpBench({ loginDelayMs: 2000, maxLoginFailures: 3 });
  const c = env.connect();
  c.next();
  for (let i = 1; i <= 3; i++) {
    c.cmd(i === 2 ? "USER nobody" : "USER bob");
    const sent = env.clock.now();
    c.send("PASS wrong");
    c.send("NOOP");
    const fail = c.next();
    t.is(fail.code, 530);
    t.true(fail.at - sent >= 2000, `answered after ${fail.at - sent} ms`);
    if (i < 3) t.is(c.next().code, 200, "the NOOP waited");
  }
  t.is(c.next().lines[0], "421 Too many failed logins, closing control connection");
  c.wait(() => c.closed, "the close");
  t.is(env.stats.drops.get("ftp-login-failed"), 3);
  t.is(env.server.active, 0);
  t.is(env.login().cmd("NOOP").code, 200, "a new session may try again");
});

test("an idle session is told 421 and closed after idleTimeoutMs; a transfer keeps it alive", (t) => {
  const env = ftpBench({ idleTimeoutMs: 60_000, dataTimeoutMs: 200_000 });
  must(writeAll(env.storage, "big", bytes(300_000)));
  const c = env.login();
  const start = env.clock.now();
  const r = c.next(200_000);
  t.is(r.lines[0], "421 Timeout, closing control connection");
  t.true(r.at - start >= 60_000 && r.at - start < 61_000);
  c.wait(() => c.closed, "the close");
  t.is(env.stats.drops.get("ftp-idle-timeout"), 1);

  const d = env.login();
  const { conn } = d.data("pasv");
  conn.hold = true;
  d.send("RETR big");
  t.is(d.next().code, 150);
  env.clock.advance(150_000);
  t.is(d.rest().length, 0, "no 421 while the transfer runs");
  conn.release();
  t.is(d.next().code, 226);
  t.deepEqual(conn.data, bytes(300_000));
});

test("a transfer that stands still longer than dataTimeoutMs ends with 426", (t) => {
  const env = ftpBench({ dataTimeoutMs: 20_000 });
  must(writeAll(env.storage, "big", bytes(300_000)));
  const c = env.login();
  heldRetr(c, "big");
  const r = c.next();
  t.is(r.code, 426);
  t.is(env.reports[0]!.error, "ftp-data-stalled");
  t.is(c.cmd("NOOP").code, 200);
});

test("a transfer that averages less than minDataRate ends with 426 once its allowance is spent; a steady one completes", (t) => {
  const env = ftpBench({ dataTimeoutMs: 20_000, minDataRate: 500 });
  must(writeAll(env.storage, "big", bytes(300_000)));
  const c = env.login();
  const conn = heldRetr(c, "big");
  const start = env.clock.now();
  let read = 0;
  while (!c.replies.some((r) => r.code === 426) && env.clock.now() - start < 600_000) {
    const n = Math.min(100, conn.data.length - read); // 100 bytes a second: never a stall, far too slow
    conn.pcb!.recved(n);
    read += n;
    env.clock.advance(1_000);
  }
  const r = c.next();
  t.is(r.code, 426);
  t.is(env.reports[0]!.error, "ftp-data-too-slow");
  const due = 20_000 + (conn.data.length * 1000) / 500; // the allowance and what was acknowledged, at 500 B/s
  t.true(r.at - start >= due - 1_500 && r.at - start <= due + 1_500, `426 after ${r.at - start} ms, due at ${due} ms`);
  t.deepEqual(c.retr("big").data, bytes(300_000), "a reader at full speed is not affected");
});

test("a data connection that never comes: 425 after dataTimeoutMs in passive mode, at once when active mode is refused", (t) => {
  const env = ftpBench({ dataTimeoutMs: 10_000 });
  must(writeAll(env.storage, "f", bytes(10)));
  const c = env.login();
  c.cmd("PASV");
  const sent = env.clock.now();
  const r = c.cmd("RETR f");
  t.is(r.lines[0], "425 Can't open data connection");
  t.true(r.at - sent >= 10_000);
  t.is(c.cmd("PORT 10,0,0,3,200,0").code, 200); // nobody listens there
  t.is(c.cmd("RETR f").code, 425);
  t.is(env.server.dataInUse, 0);
  t.is(env.reports.map((x) => x.error).join(), "ftp-data-timeout,ftp-data-refused");
});

test("sessions are limited: one too many is told 421 and closed; when one leaves another may come", (t) => {
  const env = ftpBench({ maxSessions: 2 });
  const a = env.login();
  env.login();
  const c = env.connect();
  t.is(c.next().lines[0], "421 Too many connections, try again later");
  c.wait(() => c.closed, "the close");
  t.is(env.stats.drops.get("ftp-too-many-sessions"), 1);
  a.cmd("QUIT");
  a.wait(() => a.closed, "the close");
  t.is(env.login().cmd("NOOP").code, 200);
});

test("a session must log in within loginTimeoutMs (30 s), however busy it keeps itself; a logged-in one is not cut", (t) => {
  const env = ftpBench({ loginTimeoutMs: 30_000 });
  const c = env.connect();
  const hello = c.next();
  t.is(c.cmd("USER bob").code, 331);
  for (let i = 0; i < 8 && !c.closed; i++) {
    c.send("NOOP"); // commands keep the idle timer away, not this one
    env.clock.advance(5_000);
  }
  const r = c.replies.find((x) => x.code === 421);
  t.is(r?.lines[0], "421 Login timeout, closing control connection");
  t.true(r!.at - hello.at >= 29_999 && r!.at - hello.at <= 30_050, `${r!.at - hello.at} ms after the greeting`);
  c.wait(() => c.closed, "the close");
  t.is(env.stats.drops.get("ftp-login-timeout"), 1);
  const d = env.login();
  env.clock.advance(60_000);
  t.is(d.cmd("NOOP").code, 200);
  t.is(d.cmd("USER bob").code, 331, "USER starts a new login, with its own deadline");
  env.clock.advance(31_000);
  t.true(d.rest().some((x) => x.code === 421));
});

test("when every slot is taken, the oldest session that has not logged in yields it to a newcomer", (t) => {
  const env = ftpBench({ maxSessions: 4 });
  const silent = [4, 5, 6, 7].map((n) => {
    const c = new FtpClient(env.b.host(n), env.clock, SERVER);
    t.is(c.next().code, 220);
    env.clock.advance(1_000);
    return c;
  });
  t.is(env.server.active, 4);
  const real = env.login(); // from 10.0.0.3, at once
  t.is(real.cmd("NOOP").code, 200);
  t.is(silent[0]!.next().lines[0], "421 Too many connections, closing control connection");
  silent[0]!.wait(() => silent[0]!.closed, "the close");
  t.deepEqual(
    silent.map((c) => c.closed),
    [true, false, false, false],
  );
  t.is(env.stats.drops.get("ftp-session-yielded"), 1);
  t.is(env.server.active, 4);
});

test("sessions from one address are limited to maxSessionsPerAddress; other addresses still come in", (t) => {
  const env = ftpBench({ maxSessions: 4, maxSessionsPerAddress: 2 });
  t.is(env.connect().next().code, 220);
  t.is(env.connect().next().code, 220);
  const c = env.connect();
  t.is(c.next().lines[0], "421 Too many connections from your address");
  c.wait(() => c.closed, "the close");
  t.is(env.stats.drops.get("ftp-too-many-from-address"), 1);
  const other = new FtpClient(env.b.host(4), env.clock, SERVER);
  t.is(other.next().code, 220);
  t.is(env.server.active, 3);
});

test("a data channel prepared and left unused is given up after dataTimeoutMs: its port closes, its slot frees", (t) => {
  const env = ftpBench({ dataTimeoutMs: 10_000, maxDataConnections: 1 });
  must(writeAll(env.storage, "f", bytes(100)));
  const a = env.login();
  const b = env.login();
  const prepared = a.cmd("PASV");
  const port = pasvPort(prepared);
  t.is(b.cmd("PASV").code, 425);
  env.clock.advance(prepared.at + 9_900 - env.clock.now());
  t.is(env.server.dataInUse, 1, "still held before the timeout");
  env.clock.advance(200);
  t.is(env.server.dataInUse, 0);
  t.is(env.stats.drops.get("ftp-data-unused"), 1);
  const late = new DataConn(env.clock);
  late.connect(env.client, SERVER, port);
  a.wait(() => late.error !== undefined, "the refusal");
  t.is(late.error, "refused");
  t.is(a.cmd("RETR f").code, 425);
  t.deepEqual(b.retr("f").data, bytes(100));
});

test("data connections are limited across sessions: PASV and PORT beyond the limit get 425 until one is free", (t) => {
  const env = ftpBench({ maxDataConnections: 1 });
  must(writeAll(env.storage, "f", bytes(1000)));
  const a = env.login();
  const b = env.login();
  t.is(a.cmd("PASV").code, 227);
  t.is(b.cmd("PASV").lines[0], "425 Too many data connections, try again later");
  t.is(b.cmd("PORT 10,0,0,3,200,0").code, 425);
  t.is(a.cmd("PASV").code, 227, "a new PASV replaces the session's own");
  a.cmd("ABOR");
  t.deepEqual(b.retr("f", "epsv").data, bytes(1000));
  t.is(env.stats.drops.get("ftp-too-many-data-connections"), 2);
  t.is(env.server.dataInUse, 0);
});

test("a client that sends without reading our replies is not read either: the replies waiting stay bounded", (t) => {
  const env = ftpBench();
  const c = env.login();
  c.pcb.recv(() => {}); // stops reading: our window to the server closes
  let sent = 0;
  const noop = text("NOOP\r\n");
  for (let round = 0; round < 200; round++) {
    while (c.pcb.sndbuf >= noop.length) {
      c.pcb.write(noop);
      sent++;
    }
    env.clock.advance(100);
  }
  const answered = env.stats.counters.get("ftp.noop") ?? 0;
  t.log(`sent ${sent} NOOPs, ${answered} answered`);
  t.true(sent > answered, `sent ${sent}, answered ${answered}`);
  // What the server answered fits in our receive window, its send buffer and its reply backlog.
  const reply = "200 NOOP ok\r\n".length;
  t.true(answered * reply <= env.client.tcp.config.wnd + env.device.tcp.config.sndbuf + 2048 + reply, `${answered} replies`);
  t.is(env.server.active, 1);
});

test("property: any bytes on the control connection get replies, never an internal error, and the session survives", (t) => {
  const line = fc.oneof(
    fc.constantFrom("NOOP", "PWD", "CWD ..", "LIST", "ABOR", "REST 1", "RETR x", "PORT 1,2,3,4,5,6", "EPSV 2", "MLST", "TYPE A", "STAT", "RNTO y", "FEAT"),
    fc.string({ maxLength: 40 }),
  );
  const chunk = fc.oneof(
    line.map((l) => text(`${l}\r\n`)),
    fc.uint8Array({ maxLength: 60 }),
  );
  holds(
    t,
    fc.property(fc.array(chunk, { maxLength: 12 }), (chunks) => {
      const env = ftpBench({ loginDelayMs: 10 });
      const c = env.login();
      for (const b of chunks) if (b.length && c.pcb.sndbuf >= b.length) c.pcb.write(b);
      c.send("\r\nNOOP");
      c.wait(() => c.replies.some((r, i) => i > 1 && r.code === 200 && r.text === "NOOP ok") || c.closed, "the final NOOP", 400_000);
      return !c.closed && env.stats.drops.get("internal-error") === undefined && c.replies.every((r) => r.code >= 100 && r.code < 600);
    }),
    { numRuns: 60 },
  );
});

test("10 000 distinct invented verbs before login are each told 500, and the session then logs in and transfers", (t) => {
  const env = ftpBench({ loginTimeoutMs: 3_600_000 });
  must(writeAll(env.storage, "f", bytes(1000)));
  const c = env.connect();
  t.is(c.next().code, 220);
  const batch = 50;
  for (let i = 0; i < 10_000; i += batch) {
    for (let j = i; j < i + batch; j++) c.send(`X${j.toString(36)}Y arg`);
    c.wait(() => c.replies.length === 1 + i + batch, "the replies");
  }
  const replies = c.rest();
  t.is(replies.length, 10_000);
  t.true(replies.every((r) => r.lines[0] === "500 Unknown command"));
  t.is(env.stats.drops.get("ftp-unknown-command"), 10_000);
  t.is(c.cmd("USER bob").code, 331);
  t.is(c.cmd("PASS secret").code, 230);
  c.cmd("TYPE I");
  t.deepEqual(c.retr("f").data, bytes(1000));
});

test("server.close() ends every session and stops listening", (t) => {
  const env = ftpBench();
  const c = env.login();
  env.server.close();
  c.wait(() => c.closed, "the close");
  t.is(env.server.active, 0);
  const d = new FtpClient(env.client, env.clock, SERVER);
  d.wait(() => d.closed, "the refusal");
  t.is(d.error, "refused");
});
