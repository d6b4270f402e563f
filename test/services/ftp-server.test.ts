// The FTP server's commands on the virtual LAN, with a client written over our own TCP pcbs
// (ftp-client.ts): login, every command and its replies, transfers in each data mode,
// REST, TYPE A, listings, ABOR, pipelining and streaming.

import test from "ava";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import type { ReadHandle, Storage } from "../../modules/storage/storage.ts";
import { bytes, must, readAll, writeAll } from "../support/storage.ts";
import { type DataMode, ftpBench, heldRetr } from "../support/ftp-client.ts";

const text = (s: string) => new TextEncoder().encode(s);
const codes = (rs: { code: number }[]) => rs.map((r) => r.code);

test("greeting 220; before login only USER, PASS, ACCT, QUIT, SYST, FEAT, OPTS, HELP and NOOP are taken, the rest get 530", (t) => {
  const env = ftpBench();
  const c = env.connect();
  const hello = c.next();
  t.is(hello.code, 220);
  for (const cmd of ["PWD", "CWD /", "LIST", "RETR x", "STOR x", "PASV", "PORT 10,0,0,3,156,64", "TYPE I", "MKD d", "SIZE x", "STAT", "ABOR", "REST 5"])
    t.is(c.cmd(cmd).code, 530, cmd);
  t.is(c.cmd("SYST").text, "UNIX Type: L8");
  t.is(c.cmd("NOOP").code, 200);
  t.is(c.cmd("FEAT").code, 211);
  t.is(c.cmd("HELP").code, 214);
  t.is(c.cmd("OPTS UTF8 ON").code, 200);
  t.is(c.cmd("FOO").code, 500, "unknown is unknown, logged in or not");
  t.is(c.cmd("QUIT").code, 221);
  c.wait(() => c.closed, "the close");
  t.is(env.server.active, 0);
});

test("USER/PASS: 331 then 230; PASS without USER and twice are 503; USER again logs in anew", (t) => {
  const env = ftpBench({
    users: [
      { name: "bob", password: "secret" },
      { name: "eve", password: "pw" },
    ],
  });
  const c = env.connect();
  c.next();
  t.is(c.cmd("PASS secret").code, 503);
  t.is(c.cmd("USER bob").code, 331);
  t.is(c.cmd("PASS secret").code, 230);
  t.is(c.cmd("PASS secret").code, 503);
  t.is(c.cmd("ACCT whatever").code, 202);
  t.is(c.cmd("USER eve").code, 331);
  t.is(c.cmd("PWD").code, 530, "USER ends the previous login");
  t.is(c.cmd("PASS pw").code, 230);
  t.is(c.cmd("PWD").text, '"/" is the current directory');
});

test("a user with an account: PASS gets 332, ACCT completes the login", (t) => {
  const env = ftpBench({ users: [{ name: "acc", password: "pw", account: "dept7" }] });
  const c = env.connect();
  c.next();
  t.is(c.cmd("USER acc").code, 331);
  t.is(c.cmd("PASS pw").code, 332);
  t.is(c.cmd("PWD").code, 530);
  t.is(c.cmd("ACCT dept7").code, 230);
  t.is(c.cmd("PWD").code, 257);
  const d = env.connect();
  d.next();
  d.cmd("USER acc");
  t.is(d.cmd("PASS pw").code, 332);
  t.is(d.cmd("ACCT wrong").code, 530);
  t.is(d.cmd("ACCT dept7").code, 503, "the account was asked for once");
});

test("FEAT advertises what is implemented; OPTS MLST chooses the facts, OPTS UTF8 ON is accepted, others 501", (t) => {
  const env = ftpBench();
  must(writeAll(env.storage, "f.txt", text("hello")));
  const c = env.login();
  t.deepEqual(c.cmd("FEAT").lines, [
    "211-Features:",
    " EPRT",
    " EPSV",
    " MDTM",
    " MLST type*;size*;modify*;perm*;",
    " REST STREAM",
    " SIZE",
    " TVFS",
    " UTF8",
    "211 End",
  ]);
  t.is(c.cmd("OPTS UTF8 ON").code, 200);
  t.is(c.cmd("OPTS MLST size;type;bogus;").lines[0], "200 MLST OPTS type;size;");
  t.is(c.cmd("FEAT").lines[4], " MLST type*;size*;modify;perm;");
  t.deepEqual(c.cmd("MLST f.txt").lines, ["250-Listing /f.txt", " type=file;size=5; /f.txt", "250 End"]);
  t.is(c.cmd("OPTS MLST").lines[0], "200 MLST OPTS ");
  t.deepEqual(c.cmd("MLST f.txt").lines[1], "  /f.txt");
  t.is(c.cmd("OPTS FROB on").code, 501);
  t.is(c.cmd("OPTS UTF8 maybe").code, 501);
});

test("HELP lists the commands in a multi-line 214; HELP of one says whether it is supported", (t) => {
  const env = ftpBench();
  const c = env.login();
  const help = c.cmd("HELP");
  t.is(help.lines[0], "214-The following commands are recognized:");
  t.is(help.lines.at(-1), "214 Help OK");
  const listed = help.lines.slice(1, -1).join(" ").trim().split(/\s+/);
  for (const v of ["USER", "PASS", "RETR", "STOR", "APPE", "EPSV", "EPRT", "MLSD", "MLST", "REST", "ABOR", "RNFR", "RNTO", "XPWD"])
    t.true(listed.includes(v), v);
  t.false(listed.includes("SITE"));
  t.is(c.cmd("HELP retr").text, "RETR is supported");
  t.is(c.cmd("HELP SITE").code, 502);
});

test("unknown commands 500, unimplemented 502, bad arguments 501, and the session goes on", (t) => {
  const env = ftpBench();
  const c = env.login();
  t.is(c.cmd("XYZZY").code, 500);
  t.is(c.cmd("").code, 500);
  for (const cmd of ["SITE CHMOD 644 x", "STOU", "REIN", "SMNT /", "AUTH TLS"]) t.is(c.cmd(cmd).code, 502, cmd);
  for (const cmd of [
    "NOOP now",
    "PWD x",
    "RETR",
    "STOR",
    "CWD",
    "REST",
    "REST -1",
    "REST abc",
    "PORT 1,2,3",
    "EPRT |1|x|1|",
    "TYPE X",
    "MODE Z",
    "STRU Q",
    "MKD",
    "DELE",
    "QUIT now",
  ]) {
    t.is(c.cmd(cmd).code, 501, cmd);
  }
  t.is(c.cmd("NOOP").code, 200);
  t.is(env.stats.drops.get("ftp-unknown-command"), 2);
});

test("TYPE A, A N, I and L 8 are taken; E, A T and L 16 are 504; MODE S and STRU F only", (t) => {
  const env = ftpBench();
  const c = env.login();
  t.deepEqual(codes(["TYPE A", "TYPE a n", "TYPE I", "TYPE L 8", "TYPE E", "TYPE A T", "TYPE L 16"].map((x) => c.cmd(x))), [200, 200, 200, 200, 504, 504, 504]);
  t.deepEqual(codes(["MODE S", "MODE B", "MODE C", "STRU F", "STRU R", "STRU P", "ALLO 100"].map((x) => c.cmd(x))), [200, 504, 504, 200, 504, 504, 202]);
});

test("RMD, DELE and RNTO never remove or replace the user's own root, however it is named", (t) => {
  const env = ftpBench({ users: [{ name: "bob", password: "secret", root: "home/bob" }] });
  must(env.storage.mkdir("home"));
  must(env.storage.mkdir("home/bob"));
  must(writeAll(env.storage, "home/x", bytes(1)));
  const c = env.login();
  for (const cmd of ["RMD /", "RMD .", "XRMD sub/..", "RMD \\", "DELE /"]) t.is(c.cmd(cmd).lines[0], "550 Permission denied", cmd);
  t.is(c.cmd("MKD f").code, 257);
  t.is(c.cmd("RNFR f").code, 350);
  t.is(c.cmd("RNTO /").lines[0], "550 Permission denied");
  t.true(must(env.storage.stat("home/bob")).isDirectory);
  t.true(must(env.storage.stat("home/bob/f")).isDirectory);
  t.is(c.cmd("RMD f").code, 250, "what lies under the root can go");
});

test("directories: PWD/XPWD, CWD/XCWD, CDUP/XCUP, MKD/XMKD (257 with quotes doubled), RMD/XRMD, DELE, RNFR/RNTO", (t) => {
  const env = ftpBench();
  const c = env.login();
  t.is(c.cmd("MKD a").lines[0], '257 "/a" created');
  t.is(c.cmd("XMKD a/b").lines[0], '257 "/a/b" created');
  t.is(c.cmd('MKD say "hi"').lines[0], '257 "/say ""hi""" created');
  t.is(c.cmd("CWD a/b").code, 250);
  t.is(c.cmd("PWD").lines[0], '257 "/a/b" is the current directory');
  t.is(c.cmd("XCUP").code, 250);
  t.is(c.cmd("XPWD").lines[0], '257 "/a" is the current directory');
  t.is(c.cmd("CDUP").code, 250);
  t.is(c.cmd("CDUP").code, 250, "the root's parent is the root");
  t.is(c.cmd("XCWD /a/b").code, 250);
  t.is(c.cmd("CWD /").code, 250);
  t.is(c.cmd("CWD nowhere").code, 550);
  must(writeAll(env.storage, "a/f.txt", text("x")));
  t.is(c.cmd("CWD a/f.txt").code, 550);
  t.is(c.cmd("RMD a").code, 550, "not empty");
  t.is(c.cmd("RNFR a/f.txt").code, 350);
  t.is(c.cmd("RNTO a/g.txt").code, 250);
  t.deepEqual(readAll(env.storage, "a/g.txt"), text("x"));
  t.is(c.cmd("RNTO a/h.txt").code, 503, "RNTO without RNFR");
  t.is(c.cmd("RNFR a/g.txt").code, 350);
  t.is(c.cmd("NOOP").code, 200);
  t.is(c.cmd("RNTO a/h.txt").code, 503, "RNTO must follow RNFR at once");
  t.is(c.cmd("RNFR missing").code, 550);
  t.is(c.cmd("DELE a/g.txt").code, 250);
  t.is(c.cmd("DELE a/g.txt").code, 550);
  t.is(c.cmd("DELE a").code, 550, "DELE of a directory");
  t.is(c.cmd("RMD a/b").code, 250);
  t.is(c.cmd("XRMD a").code, 250);
  t.is(c.cmd("MKD missing/deep").code, 550);
  t.false(env.storage.stat("a").ok);
});

const MODES: DataMode[] = ["pasv", "epsv", "port", "eprt"];

test("RETR in every data mode (PASV, EPSV, PORT, EPRT), 0 to 100 000 bytes, byte-exact; active mode connects from port 20", (t) => {
  const env = ftpBench();
  const sizes = [0, 1, 1460, 5841, 100_000];
  for (const n of sizes) must(writeAll(env.storage, `f${n}`, bytes(n, n)));
  const c = env.login();
  for (const mode of MODES) {
    for (const n of sizes) {
      const r = c.retr(`f${n}`, mode);
      t.is(r.first.lines[0], `150 Opening BINARY mode data connection for /f${n} (${n} bytes)`);
      t.is(r.final?.code, 226, `${mode} ${n}`);
      t.deepEqual(r.data, bytes(n, n), `${mode} ${n}`);
    }
  }
  // Passive again, but connecting only after the command, as lftp does.
  const late = c.transfer("pasv", "RETR f5841", undefined, true);
  t.is(late.final?.code, 226);
  t.deepEqual(late.conn.data, bytes(5841, 5841));
  const active = c.transfer("port", "RETR f1");
  t.is(active.conn.serverPort, 20);
  const passive = c.transfer("pasv", "RETR f1");
  t.true(passive.conn.serverPort >= 50000 && passive.conn.serverPort <= 50063);
  t.is(env.reports.length, 4 * sizes.length + 3);
  t.true(env.reports.every((r) => r.error === undefined && r.user === "bob"));
});

test("226 comes only after the data connection's FIN reached the client", (t) => {
  const env = ftpBench();
  must(writeAll(env.storage, "f", bytes(30_000)));
  const c = env.login();
  for (const mode of MODES) {
    const r = c.transfer(mode, "RETR f");
    t.true(r.conn.eof);
    t.true(r.conn.eofAt <= r.final!.at, mode);
  }
});

test("STOR and APPE in every data mode; STOR replaces; a failed STOR leaves nothing", (t) => {
  const env = ftpBench();
  const c = env.login();
  for (const mode of MODES) {
    const r = c.stor(`up-${mode}`, bytes(70_000, 5), mode);
    t.is(r.first.lines[0], `150 Opening BINARY mode data connection for /up-${mode}`);
    t.is(r.final?.code, 226, mode);
    t.deepEqual(readAll(env.storage, `up-${mode}`), bytes(70_000, 5));
  }
  t.is(c.stor("up-pasv", bytes(10, 6)).final?.code, 226);
  t.deepEqual(readAll(env.storage, "up-pasv"), bytes(10, 6));
  t.is(c.stor("up-pasv", bytes(20, 7), "epsv", "APPE").final?.code, 226);
  t.deepEqual(readAll(env.storage, "up-pasv"), Uint8Array.from([...bytes(10, 6), ...bytes(20, 7)]));
  t.is(c.stor("new-by-appe", bytes(5, 8), "pasv", "APPE").final?.code, 226);
  t.deepEqual(readAll(env.storage, "new-by-appe"), bytes(5, 8));
  t.is(c.stor("missing/dir/x", bytes(5)).first.code, 550);
  t.deepEqual(
    env.reports.slice(0, 4).map((r) => [r.command, r.bytes]),
    MODES.map(() => ["STOR", 70_000]),
  );
});

test("REST resumes RETR from an offset, and STOR from the end of the partial file; a wrong STOR offset is 554", (t) => {
  const env = ftpBench();
  const data = bytes(50_000, 9);
  must(writeAll(env.storage, "f", data));
  const c = env.login();
  t.is(c.cmd("REST 12345").lines[0], "350 Restarting at 12345. Send STOR or RETR");
  const r = c.retr("f");
  t.deepEqual(r.data, data.subarray(12345));
  t.deepEqual(c.retr("f").data, data, "REST is used once");
  c.cmd("REST 60000");
  t.deepEqual(c.retr("f").data, new Uint8Array(0), "past the end there is nothing");
  must(writeAll(env.storage, "part", data.subarray(0, 20_000)));
  t.is(c.cmd("REST 20000").code, 350);
  t.is(c.stor("part", data.subarray(20_000)).final?.code, 226);
  t.deepEqual(readAll(env.storage, "part"), data);
  c.cmd("REST 100");
  t.is(c.stor("part", data).first.code, 554);
  t.deepEqual(readAll(env.storage, "part"), data);
});

test("TYPE A converts LF to CR LF on RETR and CR LF to LF on STOR; SIZE is refused in ASCII, given in binary", (t) => {
  const env = ftpBench();
  const stored = text("line 1\nline 2\r\nend\n");
  must(writeAll(env.storage, "t.txt", stored));
  const c = env.login("bob", "secret", true);
  const r = c.retr("t.txt");
  t.is(r.first.lines[0], "150 Opening ASCII mode data connection for /t.txt (19 bytes)");
  t.deepEqual(r.data, text("line 1\r\nline 2\r\r\nend\r\n"));
  t.is(c.stor("u.txt", text("a\r\nb\r\n\r\nlone\rcr\r")).final?.code, 226);
  t.deepEqual(readAll(env.storage, "u.txt"), text("a\nb\n\nlone\rcr\r"));
  t.is(c.cmd("SIZE t.txt").code, 550);
  c.cmd("TYPE I");
  t.is(c.cmd("SIZE t.txt").lines[0], "213 19");
  t.deepEqual(c.retr("t.txt").data, stored);
  t.is(c.cmd("SIZE nowhere").code, 550);
  c.cmd("MKD d");
  t.is(c.cmd("SIZE d").code, 550);
});

test("MDTM gives the modification time in UTC as YYYYMMDDHHMMSS", (t) => {
  const env = ftpBench();
  env.clock.advance(Date.UTC(2024, 1, 29, 23, 59, 58) - env.clock.now());
  must(writeAll(env.storage, "f", text("x")));
  const c = env.login();
  t.is(c.cmd("MDTM f").lines[0], "213 20240229235958");
  t.is(c.cmd("MDTM nope").code, 550);
});

test("LIST, NLST, MLSD, MLST and STAT with a path: each format, of a directory and of a file", (t) => {
  const env = ftpBench();
  env.clock.advance(Date.UTC(2024, 5, 1, 10, 30) - env.clock.now());
  must(env.storage.mkdir("dir"));
  must(writeAll(env.storage, "dir/a.txt", text("hello")));
  must(env.storage.mkdir("dir/sub"));
  env.clock.advance(3600_000);
  const c = env.login();
  const list = c.list("LIST", "dir");
  t.is(list.first.lines[0], "150 Opening ASCII mode data connection for file list");
  t.is(list.final?.code, 226);
  t.deepEqual(list.lines, ["-rw-r--r-- 1 ftp ftp            5 Jun  1 10:30 a.txt", "drwxr-xr-x 1 ftp ftp            0 Jun  1 10:30 sub"]);
  t.deepEqual(c.list("LIST", "-la dir").lines, list.lines, "ls options are ignored");
  t.deepEqual(c.list("LIST", "dir/a.txt").lines, [list.lines[0]]);
  c.cmd("CWD dir");
  t.deepEqual(c.list("LIST").lines, list.lines);
  t.deepEqual(c.list("NLST").lines, ["a.txt", "sub"]);
  t.deepEqual(c.list("MLSD", "", "port").lines, [
    "type=file;size=5;modify=20240601103000;perm=adfrw; a.txt",
    "type=dir;modify=20240601103000;perm=cdeflmp; sub",
  ]);
  t.is(c.list("MLSD", "a.txt").first.code, 501);
  t.is(c.list("NLST", "nowhere").first.code, 550);
  t.deepEqual(c.cmd("MLST").lines, ["250-Listing /dir", " type=dir;modify=20240601103000;perm=cdeflmp; /dir", "250 End"]);
  t.deepEqual(c.cmd("STAT .").lines, ["213-Status of /dir:", ...list.lines, "213 End of status"]);
  c.cmd("CWD /");
  t.deepEqual(c.list("NLST", "", "eprt").lines, ["dir"]);
});

test("STAT without a path: status in a multi-line 211, with the data connection", (t) => {
  const env = ftpBench();
  const c = env.login();
  const s = c.cmd("STAT");
  t.deepEqual(s.lines, [
    "211-FTP server status:",
    " Connected to 10.0.0.3",
    " Logged in as bob",
    " TYPE: BINARY, STRUcture: File, MODE: Stream",
    " Data connection: none",
    "211 End of status",
  ]);
  const { conn, reply: port } = c.data("epsv");
  c.wait(() => conn.pcb?.state === "established", "the data connection");
  env.clock.advance(1);
  t.regex(c.cmd("STAT").lines[4]!, new RegExp(`^ Data connection: passive on port ${/\|\|\|(\d+)\|/.exec(port.text)![1]}, connected$`));
});

test("UTF-8 names go both ways", (t) => {
  const env = ftpBench();
  const c = env.login();
  c.cmd("OPTS UTF8 ON");
  t.is(c.stor("naïve 日本.txt", text("ok")).final?.code, 226);
  t.deepEqual(readAll(env.storage, "naïve 日本.txt"), text("ok"));
  t.deepEqual(c.list("NLST").lines, ["naïve 日本.txt"]);
  t.is(c.cmd("MKD κατάλογος").lines[0], '257 "/κατάλογος" created');
});

test("ABOR during a RETR: the data connection is reset, 426 then 226; then the session goes on; ABOR with nothing running is 226", (t) => {
  const env = ftpBench();
  must(writeAll(env.storage, "big", bytes(2_000_000)));
  const c = env.login();
  t.is(c.cmd("ABOR").code, 226);
  const { conn } = c.data("pasv");
  c.send("RETR big");
  t.is(c.next().code, 150);
  c.wait(() => conn.data.length > 50_000, "some data");
  // Telnet IP and Synch before ABOR, as RFC 959 asks clients to send it.
  c.send(Uint8Array.from([255, 244, 255, 242, ...text("ABOR\r\n")]));
  t.deepEqual(codes([c.next(), c.next()]), [426, 226]);
  c.wait(() => conn.error !== undefined || conn.eof, "the data connection's end");
  t.is(conn.error, "reset");
  t.true(conn.data.length < 2_000_000);
  t.is(env.reports[0]!.error, "ftp-aborted");
  t.deepEqual(c.retr("big").data.length, 2_000_000);
  t.is(env.server.dataInUse, 0);
});

test("an upload whose data connection is cut keeps what arrived; SIZE, REST and STOR resume it", (t) => {
  const env = ftpBench();
  const data = bytes(50_000, 3);
  const c = env.login();
  const { conn } = c.data("pasv");
  c.send("STOR up");
  t.is(c.next().code, 150);
  c.wait(() => conn.pcb !== undefined, "the data connection");
  const pcb = conn.pcb!;
  let off = 0;
  c.wait(() => {
    while (off < 20_000 && pcb.sndbuf > 0) off += pcb.write(data.subarray(off, 20_000));
    return off === 20_000 && pcb.unacknowledged === 0;
  }, "20 000 bytes acknowledged");
  pcb.abort();
  t.is(c.next().code, 426);
  t.is(env.reports[0]!.error, "ftp-data-reset");
  t.deepEqual(readAll(env.storage, "up"), data.subarray(0, 20_000));
  t.is(c.cmd("SIZE up").lines[0], "213 20000");
  t.is(c.cmd("REST 20000").code, 350);
  t.is(c.stor("up", data.subarray(20_000)).final?.code, 226);
  t.deepEqual(readAll(env.storage, "up"), data);
});

test("QUIT during a transfer waits for its reply: 226, then 221 and the close; nothing after QUIT is answered", (t) => {
  const env = ftpBench();
  must(writeAll(env.storage, "big", bytes(300_000)));
  const c = env.login();
  const conn = heldRetr(c, "big");
  c.send("QUIT");
  c.send("NOOP");
  env.clock.advance(5_000);
  t.deepEqual(c.rest(), [], "no reply while the transfer runs");
  conn.release();
  t.deepEqual(
    [c.next(), c.next()].map((r) => r.lines[0]),
    ["226 Transfer complete", "221 Goodbye"],
  );
  c.wait(() => c.closed, "the close");
  t.deepEqual(conn.data, bytes(300_000));
  t.deepEqual(c.rest(), []);
  t.is(env.server.active, 0);
});

test("ABOR during a STOR discards the upload", (t) => {
  const env = ftpBench();
  const c = env.login();
  const { conn } = c.data("pasv");
  c.send("STOR up");
  t.is(c.next().code, 150);
  conn.pcb!.write(bytes(3000));
  c.wait(() => (env.stats.counters.get("tcp.rx") ?? 0) > 10, "some data in");
  c.send("ABOR");
  t.deepEqual(codes([c.next(), c.next()]), [426, 226]);
  t.false(env.storage.stat("up").ok);
});

test("during a transfer STAT, NOOP and ABOR are answered at once; other commands wait for the 226", (t) => {
  const env = ftpBench();
  must(writeAll(env.storage, "big", bytes(500_000)));
  const c = env.login();
  const { conn } = c.data("pasv");
  conn.hold = true; // a slow reader keeps the transfer going
  c.send("RETR big");
  t.is(c.next().code, 150);
  c.send("PWD");
  c.send("STAT");
  const stat = c.next();
  t.is(stat.code, 211);
  t.regex(stat.lines.join("\n"), /Transferring \/big \(RETR\): \d+ bytes so far/);
  t.is(c.cmd("NOOP").code, 200);
  conn.release();
  conn.hold = false;
  t.deepEqual(codes([c.next(), c.next()]), [226, 257]);
  t.deepEqual(conn.data, bytes(500_000));
});

test("pipelined commands in one segment are answered in order", (t) => {
  const env = ftpBench();
  const c = env.connect();
  c.next();
  c.send(text("USER bob\r\nPASS secret\r\nTYPE I\r\nMKD p\r\nCWD p\r\nPWD\r\nNOOP\n"));
  const rs = [c.next(), c.next(), c.next(), c.next(), c.next(), c.next(), c.next()];
  t.deepEqual(codes(rs), [331, 230, 200, 257, 250, 257, 200]);
  t.is(rs[5]!.lines[0], '257 "/p" is the current directory');
});

test("a line longer than the limit is refused with 500 and the session goes on; Telnet negotiation is ignored", (t) => {
  const env = ftpBench({ maxLineLength: 64 });
  const c = env.login();
  t.is(c.cmd(`MKD ${"x".repeat(200)}`).lines[0], "500 Command line too long");
  t.is(c.cmd("NOOP").code, 200);
  c.send(Uint8Array.from([255, 251, 1, 255, 253, 3, ...text("NO"), 255, 255, ...text("OP\r\n")]));
  t.is(c.next().code, 500, "IAC IAC is a 255 in the line");
  c.send(Uint8Array.from([255, 251, 1, 255, 253, 3, ...text("NOOP\r\n")]));
  t.is(c.next().code, 200);
  t.is(env.stats.drops.get("ftp-line-too-long"), 1);
});

test("the client closing the control connection ends the session after its last command is answered", (t) => {
  const env = ftpBench();
  const c = env.login();
  c.send("NOOP");
  c.pcb.shutdown();
  t.is(c.next().code, 200);
  c.wait(() => c.closed, "the server's FIN");
  t.is(env.server.active, 0);
});

/** A store whose reads are watched: the largest buffer asked for, and the bytes read so far. */
function watched(inner: Storage) {
  const seen = { maxRead: 0, bytesRead: 0, open: 0 };
  const store: Storage = Object.create(inner) as Storage;
  store.openRead = (path, offset) => {
    const h = inner.openRead(path, offset);
    if (!h.ok) return h;
    seen.open++;
    const handle: ReadHandle = {
      size: h.value.size,
      read: (buf) => {
        seen.maxRead = Math.max(seen.maxRead, buf.length);
        const r = h.value.read(buf);
        if (r.ok) seen.bytesRead += r.value;
        return r;
      },
      close: () => {
        seen.open--;
        h.value.close();
      },
    };
    return { ok: true, value: handle };
  };
  return { store, seen };
}

test("RETR streams: reads of at most chunkSize, only as far ahead of the client as the send buffer, and the file is closed after", (t) => {
  const inner = new MemoryStorage({ limit: 1 << 22 });
  must(writeAll(inner, "big", bytes(1_000_000)));
  const { store, seen } = watched(inner);
  const env = ftpBench({ chunkSize: 1000 }, { storage: store });
  const c = env.login();
  const { conn } = c.data("pasv");
  let received = 0;
  let ahead = 0;
  conn.onData = (d) => {
    received += d.length;
    ahead = Math.max(ahead, seen.bytesRead - received);
  };
  c.send("RETR big");
  t.is(c.next().code, 150);
  t.is(c.next().code, 226);
  t.is(received, 1_000_000);
  t.true(seen.maxRead <= 1000);
  const sndbuf = env.device.tcp.config.sndbuf;
  t.true(ahead <= sndbuf + 1000, `read ${ahead} bytes ahead of the client, send buffer ${sndbuf}`);
  t.is(seen.open, 0);
});

test("STOR: the window is reopened only for what the store took, so a full store stops the client; 552, nothing left behind", (t) => {
  const env = ftpBench({}, { storage: new MemoryStorage({ limit: 50_000 }) });
  const c = env.login();
  const r = c.stor("big", bytes(200_000));
  t.is(r.first.code, 150);
  t.is(r.final?.lines[0], "552 Exceeded storage allocation");
  t.false(env.storage.stat("big").ok);
  t.is(env.storage.free(), 50_000);
  t.is(env.reports[0]!.error, "storage-full");
  t.is(c.cmd("NOOP").code, 200);
});
