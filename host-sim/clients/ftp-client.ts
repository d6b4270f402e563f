// An FTP client for the simulator's scripted client and the tests, on our own TCP pcbs under a virtual clock. Each call runs the
// clock until what it waits for has happened, so a test reads as a session: send a
// command, look at the reply. Data connections go every way the server offers: PASV and
// EPSV (connecting before or after the transfer command), PORT and EPRT (listening).

import type { Stack } from "../../modules/stack/stack.ts";
import type { TcpListener, TcpPcb } from "../../modules/stack/tcp.ts";
import { type Ip4, ipToString } from "../../modules/wire/address.ts";
import type { VirtualClock } from "../clock.ts";
import type { Clock } from "../../modules/platform.ts";
import { concat } from "../../modules/wire/bytes.ts";
import { unwrap } from "../../modules/wire/result.ts";

export interface Reply {
  code: number;
  /** Every line without CR LF, the first with its code. */
  lines: string[];
  /** The text after the code on the first line. */
  text: string;
  /** Virtual time it was complete. */
  at: number;
}

export type DataMode = "pasv" | "epsv" | "port" | "eprt";

/** A data connection from the client's side: it collects what comes and can send. */
export class DataConn {
  pcb: TcpPcb | undefined;
  readonly chunks: Uint8Array[] = [];
  /** The server sent FIN, and when. */
  eof = false;
  eofAt = -1;
  /** Leave received data unacknowledged to the stack (a reader that stopped reading). */
  hold = false;
  error: string | undefined;
  /** The port the server's side of the connection used. */
  serverPort = 0;
  /** Called for each chunk received, before it is acknowledged to the stack. */
  onData: ((data: Uint8Array) => void) | undefined;
  private listener: TcpListener | undefined;

  constructor(private readonly clock: Clock) {}

  get data(): Uint8Array {
    return concat(this.chunks);
  }

  /** Passive: connect to the server's data port. */
  connect(stack: Stack, ip: Ip4, port: number): void {
    const pcb = stack.tcp.connect(ip, port, (err) => {
      if (err) this.error = err;
    });
    if (!pcb.ok) throw new Error("no pcb for the data connection");
    this.attach(pcb.value);
  }

  /** Active: listen for the server's connection. */
  listen(stack: Stack, port: number): void {
    const l = stack.tcp.listen(port, 1);
    if (!l.ok) throw new Error(`cannot listen on ${port}`);
    this.listener = l.value;
    this.listener.accept((pcb) => {
      this.listener!.close();
      this.attach(pcb);
    });
  }

  /** Reopens the window for everything held. */
  release(): void {
    this.hold = false;
    this.pcb?.recved(this.data.length);
  }

  /** Sends `data` as the window allows, then FIN. */
  send(data: Uint8Array): void {
    const pcb = this.pcb!;
    let off = 0;
    const pump = () => {
      while (off < data.length && pcb.sndbuf > 0) off += pcb.write(data.subarray(off, off + 4096));
      if (off === data.length) pcb.close();
    };
    pcb.sent(pump);
    pump();
  }

  close(): void {
    this.listener?.close();
    this.pcb?.close();
  }

  private attach(pcb: TcpPcb): void {
    this.pcb = pcb;
    this.serverPort = pcb.remotePort;
    pcb.err((e) => (this.error = e));
    pcb.recv((d) => {
      if (d === null) {
        this.eof = true;
        this.eofAt = this.clock.now();
        return pcb.close();
      }
      this.onData?.(d);
      this.chunks.push(d.slice());
      if (!this.hold) pcb.recved(d.length);
    });
  }
}

export class FtpClient {
  readonly replies: Reply[] = [];
  /** The control connection closed: FIN or reset. */
  closed = false;
  error: string | undefined;
  readonly pcb: TcpPcb;
  private taken = 0;
  private text = "";
  private pending: string[] = [];
  private nextActivePort = 40000;

  constructor(
    readonly stack: Stack,
    readonly clock: VirtualClock,
    readonly server: Ip4,
    port = 21,
  ) {
    const pcb = unwrap(
      stack.tcp.connect(server, port, (err) => {
        if (err) {
          this.error = err;
          this.closed = true;
        }
      }),
    );
    this.pcb = pcb;
    pcb.err((e) => {
      this.error = e;
      this.closed = true;
    });
    pcb.recv((d) => {
      if (d === null) {
        this.closed = true;
        return pcb.close();
      }
      this.text += new TextDecoder().decode(d);
      pcb.recved(d.length);
      this.parse();
    });
  }

  /** Runs the clock until `done` holds; throws after `maxMs` of virtual time. */
  wait(done: () => boolean, what: string, maxMs = 120_000): void {
    const deadline = this.clock.now() + maxMs;
    this.clock.runUntil(() => done() || this.clock.now() > deadline);
    if (!done()) throw new Error(`timed out waiting for ${what}`);
  }

  /** The next reply not yet taken. */
  next(maxMs?: number): Reply {
    this.wait(() => this.replies.length > this.taken, "a reply", maxMs);
    return this.replies[this.taken++]!;
  }

  /** Replies that arrived and were not taken, taken now. */
  rest(): Reply[] {
    const r = this.replies.slice(this.taken);
    this.taken = this.replies.length;
    return r;
  }

  /** Sends raw bytes or a line (CR LF added). */
  send(line: string | Uint8Array): void {
    const b = typeof line === "string" ? new TextEncoder().encode(`${line}\r\n`) : line;
    if (this.pcb.write(b) !== b.length) throw new Error("control send buffer full");
  }

  cmd(line: string, maxMs?: number): Reply {
    this.send(line);
    return this.next(maxMs);
  }

  /** The greeting, then USER and PASS; returns PASS's reply. */
  login(user: string, pass: string): Reply {
    const hello = this.next();
    if (hello.code !== 220) throw new Error(`greeting ${hello.lines.join("|")}`);
    const u = this.cmd(`USER ${user}`);
    if (u.code !== 331) throw new Error(`USER: ${u.lines.join("|")}`);
    return this.cmd(`PASS ${pass}`);
  }

  /** Prepares a data connection; for the passive modes, connects at once unless `late`. */
  data(mode: DataMode, late = false): { conn: DataConn; reply: Reply; connect: () => void } {
    const conn = new DataConn(this.clock);
    if (mode === "port" || mode === "eprt") {
      const port = this.nextActivePort++;
      conn.listen(this.stack, port);
      const me = this.pcb.localIp;
      const arg = mode === "port" ? `${ipToString(me).split(".").join(",")},${port >> 8},${port & 255}` : `|1|${ipToString(me)}|${port}|`;
      return { conn, reply: this.cmd(`${mode.toUpperCase()} ${arg}`), connect: () => {} };
    }
    const reply = this.cmd(mode.toUpperCase());
    const port = mode === "pasv" ? pasvPort(reply) : epsvPort(reply);
    const connect = () => conn.connect(this.stack, this.server, port);
    if (!late) connect();
    return { conn, reply, connect };
  }

  /** A command that uses a data connection: its first reply, the data, and the final reply. */
  transfer(mode: DataMode, line: string, upload?: Uint8Array, late = false): { first: Reply; final?: Reply; conn: DataConn } {
    const { conn, connect } = this.data(mode, late);
    this.send(line);
    if (late) connect();
    const first = this.next();
    if (first.code !== 150) {
      conn.close();
      return { first, conn };
    }
    if (upload) {
      this.wait(() => conn.pcb !== undefined, "the data connection");
      conn.send(upload);
    }
    const final = this.next();
    this.wait(() => conn.eof || conn.error !== undefined || upload !== undefined, "the data connection's end");
    return { first, final, conn };
  }

  retr(path: string, mode: DataMode = "pasv"): { first: Reply; final?: Reply; data: Uint8Array } {
    const r = this.transfer(mode, `RETR ${path}`);
    return { ...r, data: r.conn.data };
  }

  stor(path: string, data: Uint8Array, mode: DataMode = "pasv", verb = "STOR"): { first: Reply; final?: Reply } {
    return this.transfer(mode, `${verb} ${path}`, data);
  }

  /** LIST, NLST or MLSD: the lines of the listing. */
  list(verb: string, arg = "", mode: DataMode = "pasv"): { first: Reply; final?: Reply; lines: string[] } {
    const r = this.transfer(mode, arg ? `${verb} ${arg}` : verb);
    const text = new TextDecoder().decode(r.conn.data);
    return { ...r, lines: text ? text.replace(/\r\n$/, "").split("\r\n") : [] };
  }

  private parse(): void {
    for (let i = this.text.indexOf("\r\n"); i >= 0; i = this.text.indexOf("\r\n")) {
      const line = this.text.slice(0, i);
      this.text = this.text.slice(i + 2);
      this.pending.push(line);
      const first = this.pending[0]!;
      const code = first.slice(0, 3);
      const multi = first[3] === "-";
      if (multi && !(this.pending.length > 1 && line.startsWith(`${code} `))) continue;
      this.replies.push({ code: Number(code), lines: this.pending, text: first.slice(4), at: this.clock.now() });
      this.pending = [];
    }
  }
}

/** The port in a 227 reply's "(h1,h2,h3,h4,p1,p2)". */
export function pasvPort(r: Reply): number {
  const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(r.text);
  if (r.code !== 227 || !m) throw new Error(`PASV: ${r.lines.join("|")}`);
  return Number(m[5]) * 256 + Number(m[6]);
}

/** The port in a 229 reply's "(|||port|)". */
export function epsvPort(r: Reply): number {
  const m = /\(\|\|\|(\d+)\|\)/.exec(r.text);
  if (r.code !== 229 || !m) throw new Error(`EPSV: ${r.lines.join("|")}`);
  return Number(m[1]);
}
