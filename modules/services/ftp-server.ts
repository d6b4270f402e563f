// FTP server (RFC 959) with the extensions clients rely on: EPSV and EPRT (RFC 2428), FEAT
// and OPTS (RFC 2389), SIZE, MDTM, REST STREAM, MLST and MLSD (RFC 3659) and UTF-8 names
// (RFC 2640). This file is the server: its options and its sessions. A control connection,
// its commands and their replies are in ftp-session.ts, data connections and transfers in
// ftp-data.ts, listings in ftp-listing.ts.
//
// Security: users and passwords come from the options, and every path is confined to the
// user's root (confinePath); anonymous users only read. Failed logins are answered late and
// a session that fails too often is closed. PORT and EPRT may name only the client's own
// address and an unprivileged port (no FTP bounce), and a passive data port takes a
// connection only from the client. Sessions are limited, in all and per address (one too
// many is told 421, unless a session that has not logged in yields its slot), and so are
// data connections (PASV or PORT beyond the limit is told 425, and the session goes on).
// A session must log in within a short time; idle sessions time out with 421, and a client
// that sends without reading our replies is not read either.

import type { Stack, StackContext } from "../stack/stack.ts";
import type { Netif } from "../stack/netif.ts";
import type { TcpListener, TcpPcb } from "../stack/tcp.ts";
import type { Ip4 } from "../wire/address.ts";
import { utf8Encode } from "../wire/text.ts";
import type { Storage } from "../storage/storage.ts";
import type { FtpDrop } from "../stack/drops.ts";
import type { TransferContext, TransferError } from "./ftp-data.ts";
import { FtpSession } from "./ftp-session.ts";

export const FTP_PORT = 21;
export const FTP_DATA_PORT = 20;

export interface FtpUser {
  name: string;
  password: string;
  /** The directory of the store the user is confined to; default "", the whole store. */
  root?: string;
  /** Refuse everything that changes the store. */
  readOnly?: boolean;
  /** When set, login asks for this account too (332, then ACCT). */
  account?: string;
}

export interface FtpServerOptions {
  /** TCP port of the control connection. Default 21. */
  port: number;
  /** Where active-mode data connections come from. Default 20. */
  dataPort: number;
  /** Who may log in. Default none. */
  users: FtpUser[];
  /** When set, "anonymous" and "ftp" log in with any password, read-only, confined to this directory of the store. Default undefined: no anonymous login. */
  anonymousRoot: string | undefined;
  /** The ports PASV and EPSV listen on, first and last. Default 50000-50063. */
  passivePorts: readonly [number, number];
  /** Control connections at once, count. One more takes the slot of the oldest session that has not logged in; when every one has, it is answered 421 and closed. Default 4. */
  maxSessions: number;
  /** Control connections at once from one address, count; one more is answered 421 and closed. Default 2. */
  maxSessionsPerAddress: number;
  /** Data connections at once (prepared, opening or transferring), all sessions together, count. Default 4. */
  maxDataConnections: number;
  /** A session that has not logged in this long after it connected (or after USER began a new login) is told 421 and closed. Default 30 s. */
  loginTimeoutMs: number;
  /** A session without a command for this long is told 421 and closed (transfers keep it alive). Default 300 s. */
  idleTimeoutMs: number;
  /** How long a data connection may take to open, and a transfer may stand still. Default 30 s. */
  dataTimeoutMs: number;
  /** Bytes per second a transfer must average beyond its first dataTimeoutMs; slower ends with 426. Default 500. */
  minDataRate: number;
  /** A failed login is answered only after this long. Default 1000 ms. */
  loginDelayMs: number;
  /** Failed logins after which the session is closed, count. Default 3. */
  maxLoginFailures: number;
  /** Longest command line in bytes; a longer one is refused with 500. Default 1024. */
  maxLineLength: number;
  /** Bytes read from a file at a time. Default 2048. */
  chunkSize: number;
  /** The text of the 220 greeting. */
  banner: string;
  /** Called when a transfer (RETR, STOR, APPE, LIST, NLST, MLSD) ends, whether it succeeded or not. */
  onTransfer: ((report: FtpTransferReport) => void) | undefined;
}

export const FTP_SERVER_DEFAULTS: FtpServerOptions = {
  port: FTP_PORT,
  dataPort: FTP_DATA_PORT,
  users: [],
  anonymousRoot: undefined,
  passivePorts: [50000, 50063],
  maxSessions: 4,
  maxSessionsPerAddress: 2,
  maxDataConnections: 4,
  loginTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  dataTimeoutMs: 30_000,
  minDataRate: 500,
  loginDelayMs: 1000,
  maxLoginFailures: 3,
  maxLineLength: 1024,
  chunkSize: 2048,
  banner: "FTP server ready",
  onTransfer: undefined,
};

export interface FtpTransferReport {
  user: string;
  command: string;
  /** The path as the client sees it, from its root. */
  path: string;
  peer: Ip4;
  /** Bytes over the data connection (after TYPE A conversion when sending). */
  bytes: number;
  /** Why it failed; absent when it succeeded. */
  error?: TransferError | FtpDrop;
}

export class FtpServer {
  readonly options: FtpServerOptions;
  readonly netif: Netif;
  /** @internal data channels held by sessions: prepared, opening or transferring */
  dataInUse = 0;
  /** @internal what every transfer needs; one scratch buffer serves all, as transfers never run at the same instant */
  readonly ctx: TransferContext;
  private listener: TcpListener | undefined;
  private readonly sessions = new Set<FtpSession>();

  constructor(
    readonly stack: Pick<Stack, "netif" | "tcp" | keyof StackContext>,
    readonly storage: Storage,
    options: Partial<FtpServerOptions> = {},
  ) {
    this.netif = stack.netif;
    this.options = { ...FTP_SERVER_DEFAULTS, ...options };
    this.ctx = {
      clock: this.stack.clock,
      stallMs: this.options.dataTimeoutMs,
      minRate: this.options.minDataRate,
      scratch: new Uint8Array(this.options.chunkSize),
    };
  }

  /** Listens on the control port; false if it is taken. */
  listen(): boolean {
    const l = this.stack.tcp.listen(this.options.port, this.options.maxSessions);
    this.listener = l.ok ? l.value : undefined;
    this.listener?.accept((pcb) => this.accept(pcb));
    return this.listener !== undefined;
  }

  /** Sessions connected now. */
  get active(): number {
    return this.sessions.size;
  }

  /** Stops listening and ends every session; uploads in progress are discarded. */
  close(): void {
    this.listener?.close();
    for (const s of [...this.sessions]) s.end();
  }

  /** @internal */
  remove(s: FtpSession): void {
    this.sessions.delete(s);
  }

  private accept(pcb: TcpPcb): void {
    pcb.nodelay = true; // replies are short and each one is awaited
    let fromPeer = 0;
    let waiting: FtpSession | undefined; // the oldest not logged in: the set keeps the order they came in
    for (const s of this.sessions) {
      if (s.peer === pcb.remoteIp) fromPeer++;
      if (!s.loggedIn) waiting ??= s;
    }
    const full = this.sessions.size >= this.options.maxSessions;
    if (full && !waiting) return this.turnAway(pcb, "ftp-too-many-sessions", "Too many connections, try again later");
    if (fromPeer >= this.options.maxSessionsPerAddress) return this.turnAway(pcb, "ftp-too-many-from-address", "Too many connections from your address");
    if (full) waiting!.yieldSlot();
    this.sessions.add(new FtpSession(this, pcb));
  }

  private turnAway(pcb: TcpPcb, reason: FtpDrop, text: string): void {
    this.stack.stats.drop(reason);
    pcb.write(utf8Encode(`421 ${text}\r\n`));
    pcb.close();
  }
}
