// One FTP control connection (RFC 959 and the extensions in ftp-server.ts): its commands
// (the lines come from ftp-lines.ts), login, the command table and its handlers, the paths
// confined to the user's root, and the data transfers the commands start.

import type { TcpPcb } from "../stack/tcp.ts";
import type { Timer } from "../platform.ts";
import { type Ip4, ipToString } from "../wire/address.ts";
import { type Result, ok } from "../wire/result.ts";
import { latin1, utf8Decode, utf8Encode } from "../wire/text.ts";
import type { FtpDrop } from "../stack/drops.ts";
import { PATH_ESCAPES_ROOT, type PathError, confinePath, splitPath } from "../storage/path.ts";
import {
  type DirEntry,
  STORAGE_CLOSED,
  STORAGE_DENIED,
  STORAGE_EXISTS,
  STORAGE_FULL,
  STORAGE_IO,
  STORAGE_IS_DIRECTORY,
  STORAGE_NOT_DIRECTORY,
  STORAGE_NOT_EMPTY,
  STORAGE_NOT_FOUND,
  type StorageError,
  storageError,
} from "../storage/storage.ts";
import {
  type DataChannel,
  type FtpAddressError,
  type HostPort,
  type Transfer,
  type TransferDone,
  type TransferError,
  ActiveChannel,
  PassiveChannel,
  Pump,
  Receiver,
  Sender,
  formatHostPort,
  parseEprt,
  parseHostPort,
} from "./ftp-data.ts";
import { NetasciiDecoder, NetasciiEncoder } from "./netascii.ts";
import { CommandLines, OVERLONG } from "./ftp-lines.ts";
import { type MlstFact, LineSource, MLST_FACTS, ftpTime, lsLine, mlsxLine } from "./ftp-listing.ts";
import type { FtpServer, FtpServerOptions, FtpTransferReport, FtpUser } from "./ftp-server.ts";

/** Reply bytes waiting for the client to read before we stop reading its commands. */
const REPLY_BACKLOG = 2048;
/** Names that log in anonymously when anonymousRoot is set. */
const ANONYMOUS = new Set(["anonymous", "ftp"]);
/** Commands taken while a transfer runs; any other waits for its end (RFC 959 4.1.3). */
const DURING_TRANSFER = new Set(["ABOR", "STAT", "QUIT", "NOOP"]);
/** Commands that may wait for a transfer's end before we stop reading more. */
const MAX_DEFERRED = 4;

type Arg = "none" | "optional" | "required";

interface Command {
  arg: Arg;
  /** Allowed before login. */
  open?: true;
  run: (s: FtpSession, arg: string, renameFrom: string | undefined) => void;
}

interface Current {
  verb: string;
  path: string;
  channel: DataChannel;
  job: Transfer | undefined;
  /** Closes the file, whether the transfer ran or not; told why it failed, and how many bytes it moved. */
  release: (error: TransferError | FtpDrop | undefined, bytes: number) => void;
}

interface Resolved {
  /** Canonical path under the user's root. */
  rel: string;
  /** The path in the store. */
  store: string;
  /** The path as the client sees it: "/" and rel. */
  shown: string;
}

/** The reply for a storage or path failure. */
function refusal(reason: FtpDrop | StorageError): [number, string] {
  switch (reason) {
    case STORAGE_NOT_FOUND:
      return [550, "No such file or directory"];
    case STORAGE_EXISTS:
      return [550, "File exists"];
    case STORAGE_IS_DIRECTORY:
      return [550, "Is a directory"];
    case STORAGE_NOT_DIRECTORY:
      return [550, "Not a directory"];
    case STORAGE_NOT_EMPTY:
      return [550, "Directory not empty"];
    case STORAGE_FULL:
      return [552, "Exceeded storage allocation"];
    case STORAGE_IO:
    case STORAGE_CLOSED:
      return [451, "Local error in processing"];
    case STORAGE_DENIED:
    case PATH_ESCAPES_ROOT:
      return [550, "Permission denied"];
  }
  return [553, "File name not allowed"];
}

/** Compares without returning early, so the time taken does not tell how much of a password was right. */
function sameSecret(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i % Math.max(1, b.length));
  return diff === 0;
}

/** A path inside a 257 reply, where a quote is doubled (RFC 959 appendix II). */
function quoted(path: string): string {
  return `"${path.split('"').join('""')}"`;
}

/** LIST and NLST arguments may start with ls options such as "-la", which are ignored. */
function withoutOptions(arg: string): string {
  return arg.replace(/^(-[A-Za-z]+\s*)+/, "");
}

const NOT_IMPLEMENTED = ["STOU", "SMNT", "REIN", "SITE", "AUTH", "PBSZ", "PROT"];

export class FtpSession {
  /** The verbs and their handlers; a Map, so a peer's invented verb never becomes a property key. */
  private static readonly COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
    ["USER", { arg: "required", open: true, run: (s, a) => s.userCmd(a) }],
    ["PASS", { arg: "optional", open: true, run: (s, a) => s.pass(a) }],
    ["ACCT", { arg: "required", open: true, run: (s, a) => s.acct(a) }],
    ["QUIT", { arg: "none", open: true, run: (s) => s.quit() }],
    ["SYST", { arg: "none", open: true, run: (s) => s.reply(215, "UNIX Type: L8") }],
    ["FEAT", { arg: "none", open: true, run: (s) => s.feat() }],
    ["OPTS", { arg: "required", open: true, run: (s, a) => s.opts(a) }],
    ["HELP", { arg: "optional", open: true, run: (s, a) => s.help(a) }],
    ["NOOP", { arg: "none", open: true, run: (s) => s.reply(200, "NOOP ok") }],
    ["PWD", { arg: "none", run: (s) => s.pwd() }],
    ["XPWD", { arg: "none", run: (s) => s.pwd() }],
    ["CWD", { arg: "required", run: (s, a) => s.cwdCmd(a) }],
    ["XCWD", { arg: "required", run: (s, a) => s.cwdCmd(a) }],
    ["CDUP", { arg: "none", run: (s) => s.cdup() }],
    ["XCUP", { arg: "none", run: (s) => s.cdup() }],
    ["TYPE", { arg: "required", run: (s, a) => s.type(a) }],
    ["MODE", { arg: "required", run: (s, a) => s.only(a, "S", "SBC", "Mode") }],
    ["STRU", { arg: "required", run: (s, a) => s.only(a, "F", "FRP", "Structure") }],
    ["ALLO", { arg: "required", run: (s) => s.reply(202, "ALLO not needed") }],
    ["PASV", { arg: "none", run: (s) => s.passive(false, "") }],
    ["EPSV", { arg: "optional", run: (s, a) => s.passive(true, a) }],
    ["PORT", { arg: "required", run: (s, a) => s.active("PORT", parseHostPort(a)) }],
    ["EPRT", { arg: "required", run: (s, a) => s.active("EPRT", parseEprt(a)) }],
    ["REST", { arg: "required", run: (s, a) => s.restCmd(a) }],
    ["RETR", { arg: "required", run: (s, a) => s.retr(a) }],
    ["STOR", { arg: "required", run: (s, a) => s.store(a, "STOR") }],
    ["APPE", { arg: "required", run: (s, a) => s.store(a, "APPE") }],
    ["LIST", { arg: "optional", run: (s, a) => s.list(a, "LIST") }],
    ["NLST", { arg: "optional", run: (s, a) => s.list(a, "NLST") }],
    ["MLSD", { arg: "optional", run: (s, a) => s.list(a, "MLSD") }],
    ["MLST", { arg: "optional", run: (s, a) => s.mlst(a) }],
    ["SIZE", { arg: "required", run: (s, a) => s.fileInfo(a, "size") }],
    ["MDTM", { arg: "required", run: (s, a) => s.fileInfo(a, "mdtm") }],
    ["DELE", { arg: "required", run: (s, a) => s.change(a, "delete") }],
    ["MKD", { arg: "required", run: (s, a) => s.change(a, "mkdir") }],
    ["XMKD", { arg: "required", run: (s, a) => s.change(a, "mkdir") }],
    ["RMD", { arg: "required", run: (s, a) => s.change(a, "rmdir") }],
    ["XRMD", { arg: "required", run: (s, a) => s.change(a, "rmdir") }],
    ["RNFR", { arg: "required", run: (s, a) => s.rnfr(a) }],
    ["RNTO", { arg: "required", run: (s, a, from) => s.rnto(a, from) }],
    ["ABOR", { arg: "none", run: (s) => s.abor() }],
    ["STAT", { arg: "optional", run: (s, a) => s.stat(a) }],
    ...NOT_IMPLEMENTED.map((v): [string, Command] => [v, { arg: "optional", open: true, run: (s) => s.reply(502, "Command not implemented") }]),
  ]);

  private readonly out: Pump;
  private readonly options: FtpServerOptions;
  private readonly lines: CommandLines;
  private processing = false;
  private eof = false;
  private closing = false;
  private ended = false;
  private readonly deferred: Uint8Array[] = []; // commands that wait for the transfer to end
  private idle: Timer | undefined;
  private delay: Timer | undefined; // a failed login's answer, not yet given
  private loginTimer: Timer | undefined; // runs while nobody is logged in
  private unusedTimer: Timer | undefined; // runs while a data channel is prepared and unused
  private quitting = false; // QUIT came during a transfer: 221 follows its reply

  private pendingUser: string | undefined;
  private awaitingAccount: FtpUser | undefined;
  private user: { name: string; root: string; writable: boolean } | undefined;
  private failures = 0;

  private cwd = "";
  private ascii = true; // RFC 959's default TYPE
  private rest = 0;
  private renameFrom: string | undefined;
  private channel: DataChannel | undefined;
  private epsvAll = false;
  private facts: readonly MlstFact[] = MLST_FACTS; // OPTS MLST replaces it, never changes it
  private current: Current | undefined;

  constructor(
    private readonly server: FtpServer,
    private readonly pcb: TcpPcb,
  ) {
    this.options = server.options;
    this.out = new Pump(pcb, server.ctx.scratch);
    this.lines = new CommandLines(this.options.maxLineLength, pcb);
    pcb.recv((data) => this.input(data));
    pcb.sent(() => this.drained());
    pcb.err(() => this.end());
    this.server.stack.event("ftp", `session from ${ipToString(pcb.remoteIp)}:${pcb.remotePort}`);
    this.restartIdle();
    this.armLogin();
    this.reply(220, this.options.banner);
  }

  get peer(): Ip4 {
    return this.pcb.remoteIp;
  }

  /** Whether someone has logged in: a session that has not may yield its slot to a newcomer. */
  get loggedIn(): boolean {
    return this.user !== undefined;
  }

  /** Gives the slot up to a newcomer. */
  yieldSlot(): void {
    this.server.stack.stats.drop("ftp-session-yielded");
    this.reply(421, "Too many connections, closing control connection");
    this.end();
  }

  /** Ends the session: a transfer in progress is stopped, the connection closed. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.idle?.cancel();
    this.delay?.cancel();
    this.loginTimer?.cancel();
    if (this.current) this.endTransfer(this.current, "ftp-session-ended");
    this.dropChannel();
    this.server.remove(this);
    this.pcb.close();
  }

  // ---- Input: bytes to lines to commands ----

  private input(data: Uint8Array | null): void {
    if (data === null) this.eof = true;
    else this.lines.push(data);
    this.process();
  }

  private stalled(): boolean {
    const waiting = this.deferred.length >= MAX_DEFERRED || (this.deferred.length > 0 && !this.current);
    return this.ended || this.closing || this.quitting || waiting || this.delay !== undefined || this.out.queued > REPLY_BACKLOG || this.out.streaming;
  }

  private process(): void {
    if (this.processing) return;
    this.processing = true;
    while (!this.stalled()) {
      const line = this.nextLine();
      if (!line) break;
      this.command(line);
    }
    this.processing = false;
    if (this.eof && !this.stalled() && !this.lines.pending && !this.current) this.closeAfterReplies();
  }

  /** The next complete command line; an overlong one is refused on the way. */
  private nextLine(): Uint8Array | undefined {
    for (let line = this.lines.next(); line !== undefined; line = this.lines.next()) {
      if (line !== OVERLONG) return line;
      this.server.stack.stats.drop("ftp-line-too-long");
      this.reply(500, "Command line too long");
    }
    return undefined;
  }

  private command(bytes: Uint8Array): void {
    const text = utf8Decode(bytes) ?? latin1(bytes);
    const sp = text.indexOf(" ");
    const verb = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? "" : text.slice(sp + 1);
    if (this.current && !DURING_TRANSFER.has(verb)) {
      this.deferred.push(bytes);
      return;
    }
    this.restartIdle();
    const stats = this.server.stack.stats;
    const c = FtpSession.COMMANDS.get(verb);
    if (!c) {
      stats.drop("ftp-unknown-command");
      return this.reply(500, "Unknown command");
    }
    stats.count(`ftp.${verb.toLowerCase()}`);
    if (!c.open && !this.user) return this.reply(530, "Please log in with USER and PASS");
    if (c.arg === "none" && arg) return this.reply(501, "No argument expected");
    if (c.arg === "required" && !arg) return this.reply(501, "Argument required");
    const renameFrom = this.renameFrom; // RNTO must come right after RNFR
    this.renameFrom = undefined;
    c.run(this, arg, renameFrom);
  }

  // ---- Output ----

  private reply(code: number, text: string): void {
    this.send(`${code} ${text}\r\n`);
  }

  /** A multi-line reply; the lines between are indented by a space, as FEAT, STAT and MLST want. */
  private replyLines(code: number, first: string, lines: readonly string[], last: string): void {
    this.send(`${code}-${first}\r\n${lines.map((l) => ` ${l}\r\n`).join("")}${code} ${last}\r\n`);
  }

  private send(text: string): void {
    if (this.ended) return;
    this.out.push(utf8Encode(text));
    this.out.run();
  }

  private drained(): void {
    this.out.run();
    if (this.closing && this.out.empty) return this.end();
    this.process();
  }

  private closeAfterReplies(): void {
    this.closing = true;
    this.restartIdle(); // a client that never reads is cut off then
    if (this.out.empty) this.end();
  }

  /** A session must log in within loginTimeoutMs, however busy it keeps itself. */
  private armLogin(): void {
    this.loginTimer ??= this.server.stack.clock.setTimer(this.options.loginTimeoutMs, () => {
      this.loginTimer = undefined;
      if (this.user || this.closing) return;
      this.server.stack.stats.drop("ftp-login-timeout");
      this.reply(421, "Login timeout, closing control connection");
      this.closeAfterReplies();
    });
  }

  private restartIdle(): void {
    this.idle?.cancel();
    this.idle = this.server.stack.clock.setTimer(this.options.idleTimeoutMs, () => {
      this.idle = undefined;
      if (this.closing) return this.end();
      if (this.current) return this.restartIdle();
      this.server.stack.stats.drop("ftp-idle-timeout");
      this.reply(421, "Timeout, closing control connection");
      this.closeAfterReplies();
    });
  }

  // ---- Paths ----

  private resolve(arg: string): Result<Resolved, PathError> {
    const c = confinePath(arg.startsWith("/") ? arg : `${this.cwd}/${arg}`);
    if (!c.ok) return c;
    const root = this.user!.root;
    return ok({ rel: c.value, store: root && c.value ? `${root}/${c.value}` : root || c.value, shown: `/${c.value}` });
  }

  private refuse(reason: FtpDrop | StorageError): void {
    this.server.stack.stats.drop(reason);
    const [code, text] = refusal(reason);
    this.reply(code, text);
  }

  /** True when the user may change the store; otherwise refuses. */
  private writable(): boolean {
    if (this.user!.writable) return true;
    this.server.stack.stats.drop("ftp-read-only");
    this.reply(550, "Permission denied");
    return false;
  }

  // ---- Login ----

  private anonymous(name: string): boolean {
    return this.options.anonymousRoot !== undefined && ANONYMOUS.has(name.toLowerCase());
  }

  private userCmd(name: string): void {
    this.user = this.awaitingAccount = undefined;
    this.armLogin();
    this.cwd = "";
    this.pendingUser = name;
    this.reply(331, this.anonymous(name) ? "Anonymous login ok, send your email address as password" : "Please specify the password");
  }

  private pass(password: string): void {
    if (this.user) return this.reply(503, "Already logged in");
    const name = this.pendingUser;
    this.pendingUser = undefined;
    if (name === undefined) return this.reply(503, "Login with USER first");
    if (this.anonymous(name)) return this.login("anonymous", this.options.anonymousRoot!, false);
    const u = this.options.users.find((u) => u.name === name);
    if (!u || !sameSecret(u.password, password)) return this.loginFailed(name);
    if (u.account === undefined) return this.login(u.name, u.root ?? "", !u.readOnly);
    this.awaitingAccount = u;
    this.reply(332, "Need account for login");
  }

  private acct(account: string): void {
    const u = this.awaitingAccount;
    this.awaitingAccount = undefined;
    if (u) return sameSecret(u.account!, account) ? this.login(u.name, u.root ?? "", !u.readOnly) : this.loginFailed(u.name);
    this.reply(this.user ? 202 : 503, this.user ? "ACCT not needed" : "Login with USER first");
  }

  private login(name: string, root: string, writable: boolean): void {
    const r = confinePath(root);
    if (!r.ok) return this.loginFailed(name); // a root that leaves the store is a configuration error
    this.user = { name, root: r.value, writable };
    this.loginTimer?.cancel();
    this.loginTimer = undefined;
    this.failures = 0;
    this.server.stack.stats.count("ftp.login");
    this.server.stack.event("ftp", `${name} logged in from ${ipToString(this.pcb.remoteIp)}`);
    this.reply(230, writable ? "Login successful" : "Login successful, read-only access");
  }

  /** Answers late, and closes the session after too many failures: guessing is slow. */
  private loginFailed(name: string): void {
    this.failures++;
    this.server.stack.stats.drop("ftp-login-failed");
    this.server.stack.event("ftp", `login as ${JSON.stringify(name)} from ${ipToString(this.pcb.remoteIp)} failed`);
    this.delay = this.server.stack.clock.setTimer(this.options.loginDelayMs, () => {
      this.delay = undefined;
      this.reply(530, "Login incorrect");
      if (this.failures < this.options.maxLoginFailures) return this.process();
      this.reply(421, "Too many failed logins, closing control connection");
      this.closeAfterReplies();
    });
  }

  // ---- Simple commands ----

  private feat(): void {
    const mlst = MLST_FACTS.map((f) => `${f}${this.facts.includes(f) ? "*" : ""};`).join("");
    this.replyLines(211, "Features:", ["EPRT", "EPSV", "MDTM", `MLST ${mlst}`, "REST STREAM", "SIZE", "TVFS", "UTF8"], "End");
  }

  private opts(arg: string): void {
    const sp = arg.indexOf(" ");
    const name = (sp < 0 ? arg : arg.slice(0, sp)).toUpperCase();
    const value = sp < 0 ? "" : arg.slice(sp + 1).trim();
    if (name === "UTF8" && /^(ON)?$/i.test(value)) return this.reply(200, "Always in UTF8 mode");
    if (name !== "MLST") return this.reply(501, "Option not understood");
    const wanted = value.toLowerCase().split(";");
    this.facts = MLST_FACTS.filter((f) => wanted.includes(f));
    this.reply(200, `MLST OPTS ${this.facts.map((f) => `${f};`).join("")}`);
  }

  private help(arg: string): void {
    const v = arg.toUpperCase();
    if (v) return FtpSession.COMMANDS.has(v) && !NOT_IMPLEMENTED.includes(v) ? this.reply(214, `${v} is supported`) : this.reply(502, "Unknown command");
    const verbs = [...FtpSession.COMMANDS.keys()].filter((v) => !NOT_IMPLEMENTED.includes(v));
    const rows: string[] = [];
    for (let i = 0; i < verbs.length; i += 10) rows.push(verbs.slice(i, i + 10).join(" "));
    this.replyLines(214, "The following commands are recognized:", rows, "Help OK");
  }

  private pwd(): void {
    this.reply(257, `${quoted(`/${this.cwd}`)} is the current directory`);
  }

  private cwdCmd(arg: string): void {
    const p = this.resolve(arg);
    if (!p.ok) return this.refuse(p.reason);
    const st = this.server.storage.stat(p.value.store);
    if (!st.ok) return this.refuse(storageError(st.reason));
    if (!st.value.isDirectory) return this.refuse(STORAGE_NOT_DIRECTORY);
    this.cwd = p.value.rel;
    this.reply(250, "Directory successfully changed");
  }

  private cdup(): void {
    this.cwd = splitPath(this.cwd).parent;
    this.reply(250, "Directory successfully changed");
  }

  private type(arg: string): void {
    const t = arg.toUpperCase().trim().split(/\s+/);
    if ((t[0] === "I" && t.length === 1) || (t[0] === "L" && t[1] === "8" && t.length === 2)) {
      this.ascii = false;
      return this.reply(200, "Switching to Binary mode");
    }
    if (t[0] === "A" && (t.length === 1 || (t[1] === "N" && t.length === 2))) {
      this.ascii = true;
      return this.reply(200, "Switching to ASCII mode");
    }
    this.reply(["A", "E", "L"].includes(t[0]!) ? 504 : 501, "Type not supported");
  }

  /** MODE and STRU: only stream mode and file structure */
  private only(arg: string, supported: string, known: string, what: string): void {
    const a = arg.toUpperCase();
    if (a === supported) return this.reply(200, `${what} set to ${a}`);
    this.reply(a.length === 1 && known.includes(a) ? 504 : 501, `${what} not supported`);
  }

  private restCmd(arg: string): void {
    if (!/^\d{1,15}$/.test(arg)) return this.reply(501, "REST needs a byte offset");
    this.rest = Number(arg);
    this.reply(350, `Restarting at ${this.rest}. Send STOR or RETR`);
  }

  private stat(arg: string): void {
    if (!arg || this.current) {
      const cur = this.current;
      const lines = [
        `Connected to ${ipToString(this.pcb.remoteIp)}`,
        this.user ? `Logged in as ${this.user.name}` : "Not logged in",
        `TYPE: ${this.ascii ? "ASCII" : "BINARY"}, STRUcture: File, MODE: Stream`,
        cur ? `Transferring ${cur.path} (${cur.verb}): ${cur.job?.bytes ?? 0} bytes so far` : `Data connection: ${this.channel?.describe() ?? "none"}`,
      ];
      return this.replyLines(211, "FTP server status:", lines, "End of status");
    }
    const l = this.listing(withoutOptions(arg), "LIST");
    if (!l) return;
    this.out.push(utf8Encode(`213-Status of ${l.shown}:\r\n`));
    this.out.push(l.source);
    this.out.push(utf8Encode("213 End of status\r\n"));
    this.out.run();
  }

  // ---- Files and directories ----

  /** SIZE and MDTM */
  private fileInfo(arg: string, what: "size" | "mdtm"): void {
    const p = this.resolve(arg);
    if (!p.ok) return this.refuse(p.reason);
    const st = this.server.storage.stat(p.value.store);
    if (!st.ok) return this.refuse(storageError(st.reason));
    if (st.value.isDirectory) return this.reply(550, "Not a regular file");
    if (what === "mdtm") return this.reply(213, ftpTime(st.value.mtime));
    // In TYPE A the size on the wire differs and is not known without reading the file.
    if (this.ascii) return this.reply(550, "SIZE not allowed in ASCII mode");
    this.reply(213, String(st.value.size));
  }

  private mlst(arg: string): void {
    const p = this.resolve(arg);
    if (!p.ok) return this.refuse(p.reason);
    const st = this.server.storage.stat(p.value.store);
    if (!st.ok) return this.refuse(storageError(st.reason));
    this.replyLines(250, `Listing ${p.value.shown}`, [mlsxLine(st.value, p.value.shown, this.facts, this.user!.writable)], "End");
  }

  /** DELE, RMD and MKD */
  private change(arg: string, op: "delete" | "rmdir" | "mkdir"): void {
    if (!this.writable()) return;
    const p = this.resolve(arg);
    if (!p.ok) return this.refuse(p.reason);
    if (!p.value.rel) return this.refuse(STORAGE_DENIED); // the user's own root, which may be a directory of the store
    const r = this.server.storage[op](p.value.store);
    if (!r.ok) return this.refuse(storageError(r.reason));
    if (op === "mkdir") return this.reply(257, `${quoted(p.value.shown)} created`);
    this.reply(250, op === "delete" ? "File deleted" : "Directory removed");
  }

  private rnfr(arg: string): void {
    if (!this.writable()) return;
    const p = this.resolve(arg);
    if (!p.ok) return this.refuse(p.reason);
    const st = this.server.storage.stat(p.value.store);
    if (!st.ok) return this.refuse(storageError(st.reason));
    if (!p.value.rel) return this.refuse(STORAGE_DENIED);
    this.renameFrom = p.value.store;
    this.reply(350, "Ready for RNTO");
  }

  private rnto(arg: string, from: string | undefined): void {
    if (!this.writable()) return;
    if (from === undefined) return this.reply(503, "RNFR required first");
    const p = this.resolve(arg);
    if (!p.ok) return this.refuse(p.reason);
    if (!p.value.rel) return this.refuse(STORAGE_DENIED);
    const r = this.server.storage.rename(from, p.value.store);
    if (!r.ok) return this.refuse(storageError(r.reason));
    this.reply(250, "Rename successful");
  }

  // ---- Data connections ----

  /** PASV and EPSV */
  private passive(extended: boolean, arg: string): void {
    if (extended && arg) {
      if (arg.toUpperCase() === "ALL") {
        this.epsvAll = true;
        return this.reply(200, "EPSV ALL ok");
      }
      if (arg !== "1") return this.reply(/^\d+$/.test(arg) ? 522 : 501, "Network protocol not supported, use (1)");
    }
    if (!extended && this.epsvAll) return this.reply(503, "Only EPSV after EPSV ALL");
    if (!this.reserveChannel()) return;
    const ch = PassiveChannel.listen(this.server.stack, this.options.passivePorts, this.pcb.remoteIp, this.options.dataTimeoutMs);
    if (!ch) {
      this.server.dataInUse--;
      this.server.stack.stats.drop("ftp-no-passive-port");
      return this.reply(425, "No passive port free");
    }
    this.prepare(ch);
    if (extended) this.reply(229, `Entering Extended Passive Mode (|||${ch.port}|)`);
    else this.reply(227, `Entering Passive Mode (${formatHostPort(this.pcb.localIp, ch.port)}).`);
  }

  /** PORT and EPRT */
  private active(verb: string, target: Result<HostPort, FtpAddressError>): void {
    if (this.epsvAll) return this.reply(503, "Only EPSV after EPSV ALL");
    if (!target.ok)
      return this.reply(
        target.reason === "ftp-eprt-protocol" ? 522 : 501,
        target.reason === "ftp-eprt-protocol" ? "Network protocol not supported, use (1)" : `Bad ${verb} argument`,
      );
    const t = target.value;
    if (t.ip !== this.pcb.remoteIp || t.port < 1024) {
      // The FTP bounce attack: making us connect to a third party, or to a privileged port.
      this.server.stack.stats.drop("ftp-port-refused");
      this.server.stack.event("ftp", `${verb} to ${ipToString(t.ip)}:${t.port} from ${ipToString(this.pcb.remoteIp)} refused`);
      return this.reply(504, "Data connections only to your own address and an unprivileged port");
    }
    if (!this.reserveChannel()) return;
    this.prepare(new ActiveChannel(this.server.stack, t, this.options.dataPort, this.options.dataTimeoutMs));
    this.reply(200, `${verb} command successful`);
  }

  /** Drops the channel prepared before and counts a new one, unless the limit is reached. */
  private reserveChannel(): boolean {
    this.dropChannel();
    if (this.server.dataInUse >= this.options.maxDataConnections) {
      this.server.stack.stats.drop("ftp-too-many-data-connections");
      this.reply(425, "Too many data connections, try again later");
      return false;
    }
    this.server.dataInUse++;
    return true;
  }

  /** Holds a prepared channel until a transfer takes it; one left unused for dataTimeoutMs is given up (a listener or a connection held for nothing). */
  private prepare(ch: DataChannel): void {
    this.channel = ch;
    this.unusedTimer = this.server.stack.clock.setTimer(this.options.dataTimeoutMs, () => {
      this.unusedTimer = undefined;
      this.server.stack.stats.drop("ftp-data-unused");
      this.dropChannel();
    });
  }

  /** The prepared channel, now a transfer's. */
  private takeChannel(): DataChannel {
    const ch = this.channel!;
    this.channel = undefined;
    this.unusedTimer?.cancel();
    this.unusedTimer = undefined;
    return ch;
  }

  private dropChannel(): void {
    if (!this.channel) return;
    this.takeChannel().close();
    this.server.dataInUse--;
  }

  /** True when a channel is prepared; otherwise refuses. */
  private hasChannel(): boolean {
    if (this.channel) return true;
    this.reply(425, "Use PORT, PASV, EPRT or EPSV first");
    return false;
  }

  // ---- Transfers ----

  private retr(arg: string): void {
    const offset = this.rest;
    this.rest = 0;
    if (!this.hasChannel()) return;
    const p = this.resolve(arg);
    if (!p.ok) return this.refuse(p.reason);
    const h = this.server.storage.openRead(p.value.store, offset);
    if (!h.ok) return this.refuse(storageError(h.reason));
    const file = h.value;
    const source = this.ascii ? new NetasciiEncoder((b) => file.read(b), this.options.chunkSize, "as-is") : file;
    const label = `Opening ${this.ascii ? "ASCII" : "BINARY"} mode data connection for ${p.value.shown} (${file.size} bytes)`;
    this.transfer(
      "RETR",
      p.value.shown,
      label,
      (pcb, done) => new Sender(pcb, source, this.server.ctx, done),
      () => file.close(),
    );
  }

  /** STOR and APPE */
  private store(arg: string, verb: "STOR" | "APPE"): void {
    const offset = this.rest;
    this.rest = 0;
    if (!this.writable() || !this.hasChannel()) return;
    const p = this.resolve(arg);
    if (!p.ok) return this.refuse(p.reason);
    const storage = this.server.storage;
    if (verb === "STOR" && offset > 0) {
      // REST then STOR resumes an upload: it must continue where the file ends.
      const st = storage.stat(p.value.store);
      if (!st.ok || st.value.isDirectory || st.value.size !== offset) return this.reply(554, "Restart offset must be the size of the file");
    }
    const h = storage.openWrite(p.value.store, verb === "APPE" || offset > 0 ? "append" : "replace");
    if (!h.ok) return this.refuse(storageError(h.reason));
    const file = h.value;
    const decoder = this.ascii ? new NetasciiDecoder("as-is") : undefined;
    const label = `Opening ${this.ascii ? "ASCII" : "BINARY"} mode data connection for ${p.value.shown}`;
    this.transfer(
      verb,
      p.value.shown,
      label,
      (pcb, done) => new Receiver(pcb, file, decoder, this.server.ctx, done),
      // An upload whose data connection was cut keeps what arrived, so that REST and STOR
      // resume it (as vsftpd and pure-ftpd do); one aborted or refused by the store does not.
      (error, bytes) => (error?.startsWith("ftp-data-") && bytes > 0 ? file.close() : file.abort()),
    );
  }

  /** LIST, NLST and MLSD */
  private list(arg: string, verb: "LIST" | "NLST" | "MLSD"): void {
    this.rest = 0;
    if (!this.hasChannel()) return;
    const l = this.listing(verb === "MLSD" ? arg : withoutOptions(arg), verb);
    if (!l) return;
    const source = l.source;
    this.transfer(
      verb,
      l.shown,
      "Opening ASCII mode data connection for file list",
      (pcb, done) => new Sender(pcb, source, this.server.ctx, done),
      () => {},
    );
  }

  /** The lines of a listing, made as they are sent; undefined when refused (the reply is sent). */
  private listing(arg: string, verb: "LIST" | "NLST" | "MLSD"): { shown: string; source: LineSource } | undefined {
    const p = this.resolve(arg);
    if (!p.ok) return void this.refuse(p.reason);
    const storage = this.server.storage;
    const st = storage.stat(p.value.store);
    if (!st.ok) return void this.refuse(storageError(st.reason));
    let entries: DirEntry[];
    if (st.value.isDirectory) {
      const l = storage.list(p.value.store);
      if (!l.ok) return void this.refuse(storageError(l.reason));
      entries = l.value;
    } else if (verb === "MLSD") {
      return void this.reply(501, "Not a directory");
    } else entries = [{ name: splitPath(p.value.rel).name, ...st.value }];
    const now = this.server.stack.clock.now();
    const w = this.user!.writable;
    const facts = this.facts;
    const line =
      verb === "LIST"
        ? (i: number) => lsLine(entries[i]!, now, w)
        : verb === "NLST"
          ? (i: number) => entries[i]!.name
          : (i: number) => mlsxLine(entries[i]!, entries[i]!.name, facts, w);
    return { shown: p.value.shown, source: new LineSource(entries.length, line) };
  }

  /** Opens the prepared data connection, says 150, runs the transfer and answers its end. */
  private transfer(verb: string, path: string, label: string, start: (pcb: TcpPcb, done: TransferDone) => Transfer, release: Current["release"]): void {
    const cur: Current = { verb, path, channel: this.takeChannel(), job: undefined, release };
    this.current = cur;
    cur.channel.open((pcb, reason) => {
      if (this.current !== cur) return;
      if (!pcb) return this.transferDone(cur, reason ?? "ftp-data-closed");
      this.reply(150, label);
      cur.job = start(pcb, (error) => this.transferDone(cur, error));
    });
  }

  private transferDone(cur: Current, error?: TransferError): void {
    if (this.current !== cur) return;
    this.endTransfer(cur, error);
    if (!error) this.reply(226, "Transfer complete");
    else if (!cur.job) this.reply(425, "Can't open data connection");
    else if (error.startsWith("ftp-data-")) this.reply(426, "Connection closed; transfer aborted");
    else if (error === STORAGE_FULL) this.reply(552, "Exceeded storage allocation");
    else this.reply(451, "Local error in processing");
    if (this.quitting) return this.quit(); // what waited behind QUIT is not answered
    while (this.deferred.length && !this.current && !this.ended) this.command(this.deferred.shift()!);
    this.process();
  }

  /** Stops and releases the transfer, and reports it; the caller replies. */
  private endTransfer(cur: Current, error?: TransferError | FtpDrop): void {
    this.current = undefined;
    cur.job?.stop();
    const bytes = cur.job?.bytes ?? 0;
    cur.release(error, bytes);
    cur.channel.close();
    this.server.dataInUse--;
    const stack = this.server.stack;
    if (error) stack.stats.drop(error);
    else stack.stats.count("ftp.transfers");
    stack.event("ftp", `${cur.verb} ${cur.path} ${error ? `failed: ${error}` : "done"}, ${bytes} bytes`);
    const report: FtpTransferReport = { user: this.user?.name ?? "", command: cur.verb, path: cur.path, peer: this.pcb.remoteIp, bytes };
    if (error) report.error = error;
    this.options.onTransfer?.(report);
  }

  private abor(): void {
    this.rest = 0;
    const cur = this.current;
    if (!cur) {
      this.dropChannel();
      return this.reply(226, "No transfer to abort");
    }
    this.endTransfer(cur, "ftp-aborted");
    this.reply(426, "Connection closed; transfer aborted");
    this.reply(226, "Abort successful");
  }

  /** During a transfer, the transfer's reply comes first, then 221 (RFC 959 4.1.1). */
  private quit(): void {
    if (this.current) {
      this.quitting = true;
      return;
    }
    this.reply(221, "Goodbye");
    this.closeAfterReplies();
  }
}
