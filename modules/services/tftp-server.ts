// TFTP server (RFC 1350) with option negotiation (RFC 2347): blksize (RFC 2348), timeout
// and tsize (RFC 2349) and windowsize (RFC 7440). Files come from a Storage a block at a
// time, so no transfer holds more than its window. Each transfer answers from a port of
// its own (its TID); block numbers roll over from 65535 to 0.
//
// The sender never resends because of a duplicate ACK (the Sorcerer's Apprentice bug):
// only a timeout, or an ACK that moves the window but stops short of its end (the receiver
// lost a block, RFC 7440), sends blocks again.

import type { Stack, StackContext } from "../stack/stack.ts";
import type { Netif } from "../stack/netif.ts";
import type { UdpPcb } from "../stack/udp.ts";
import type { Timer } from "../platform.ts";
import { type Ip4, IP_BROADCAST, ipToString } from "../wire/address.ts";
import { type Result, ok } from "../wire/result.ts";
import { IPV4_MIN_HEADER_LEN } from "../wire/ipv4.ts";
import { UDP_HEADER_LEN } from "../wire/udp.ts";
import {
  type TftpOptions,
  type TftpPacket,
  decodeTftp,
  encodeTftp,
  tftpLength,
  TFTP_PORT,
  TFTP_DEFAULT_BLKSIZE,
  TFTP_DATA_HEADER_LEN,
  TFTP_ERR_UNDEFINED,
  TFTP_ERR_NOT_FOUND,
  TFTP_ERR_ACCESS,
  TFTP_ERR_DISK_FULL,
  TFTP_ERR_ILLEGAL_OP,
  TFTP_ERR_UNKNOWN_TID,
  TFTP_ERR_EXISTS,
  TFTP_ERR_OPTIONS,
} from "../wire/tftp.ts";
import {
  type Storage,
  type ReadHandle,
  type WriteHandle,
  STORAGE_NOT_FOUND,
  STORAGE_EXISTS,
  STORAGE_FULL,
  STORAGE_IO,
  STORAGE_CLOSED,
  type StorageError,
  storageError,
} from "../storage/storage.ts";
import type { TftpDrop } from "../stack/drops.ts";
import { NetasciiDecoder, NetasciiEncoder } from "./netascii.ts";

/** IPv4 and UDP headers and the DATA header: what a block leaves of the MTU. */
const BLOCK_OVERHEAD = IPV4_MIN_HEADER_LEN + UDP_HEADER_LEN + TFTP_DATA_HEADER_LEN;

export interface TftpServerOptions {
  /** UDP port requests arrive on. Default 69. */
  port: number;
  /** Accept write requests. Default false. */
  allowWrite: boolean;
  /** Let a write request replace an existing file. Default false. */
  allowOverwrite: boolean;
  /**
   * Transfers at once, each with its own port and at most a window of blocks in memory.
   * When all are taken, one that never heard from its peer and has already timed out
   * gives its slot to a new request. Count; default 4.
   */
  maxTransfers: number;
  /** Transfers at once with one peer address, count. Default 2. */
  maxTransfersPerPeer: number;
  /** A transfer's whole life; past it, the transfer ends with an error. Default 300 000 ms. */
  maxTransferMs: number;
  /** Wait before sending again, unless the client negotiates a timeout. Default 1000 ms. */
  timeoutMs: number;
  /** Largest timeout option accepted, in seconds; a longer one is left out of the OACK (RFC 2349). Default 10. */
  maxTimeoutS: number;
  /** Sends again before a transfer is given up, count. Default 5. */
  retries: number;
  /** Largest block offered, bytes; never more than the MTU allows (1468 bytes on Ethernet). Default 65464 (RFC 2348's largest). */
  maxBlksize: number;
  /** Largest window offered, in blocks. Default 8. */
  maxWindowsize: number;
  /** Called once when a transfer ends, whether it succeeded or not. */
  onTransfer: ((report: TftpTransferReport) => void) | undefined;
}

export const TFTP_SERVER_DEFAULTS: TftpServerOptions = {
  port: TFTP_PORT,
  allowWrite: false,
  allowOverwrite: false,
  maxTransfers: 4,
  maxTransfersPerPeer: 2,
  maxTransferMs: 300_000,
  timeoutMs: 1000,
  maxTimeoutS: 10,
  retries: 5,
  maxBlksize: 65464,
  maxWindowsize: 8,
  onTransfer: undefined,
};

/** Why a request or a transfer failed. */
export type TftpError = TftpDrop | StorageError;

export interface TftpTransferReport {
  op: "read" | "write";
  file: string;
  mode: string;
  peer: Ip4;
  port: number;
  /** The options granted in the OACK (none: no OACK was sent). */
  options: TftpOptions;
  /** Data bytes carried in DATA blocks (netascii counted as sent), retransmissions not counted. */
  bytes: number;
  blocks: number;
  retransmits: number;
  /** Why the transfer failed; absent when it succeeded. */
  error?: TftpError;
}

type Request = Extract<TftpPacket, { op: "rrq" | "wrq" }>;

interface Negotiated {
  blksize: number;
  windowsize: number;
  timeoutMs: number;
  /** The options to acknowledge; empty means no OACK. */
  oack: TftpOptions;
}

interface Refusal {
  code: number;
  message: string;
  reason: TftpError;
}

export class TftpServer {
  readonly options: TftpServerOptions;
  readonly netif: Netif;
  private readonly pcb: UdpPcb;
  private readonly transfers = new Map<string, Transfer>();

  constructor(
    readonly stack: Pick<Stack, "netif" | "udp" | keyof StackContext>,
    readonly storage: Storage,
    options: Partial<TftpServerOptions> = {},
  ) {
    this.netif = stack.netif;
    const mtuBlock = this.netif.mtu - BLOCK_OVERHEAD;
    const maxBlksize = Math.min(options.maxBlksize ?? TFTP_SERVER_DEFAULTS.maxBlksize, mtuBlock);
    this.options = { ...TFTP_SERVER_DEFAULTS, ...options, maxBlksize };
    this.pcb = stack.udp.pcb();
    this.pcb.recv((data, from, port) => this.request(data, from, port));
  }

  /** Binds the server's port; false if it is taken. */
  listen(): boolean {
    return this.pcb.bind(this.options.port).ok;
  }

  /** Transfers in progress; uploads that are complete and only linger in case their final ACK was lost do not count. */
  get active(): number {
    let n = 0;
    for (const t of this.transfers.values()) if (!t.lingering) n++;
    return n;
  }

  /** Stops listening and ends every transfer; files being written are discarded. */
  close(): void {
    this.pcb.close();
    for (const t of [...this.transfers.values()]) t.end("tftp-server-closed");
  }

  /** @internal */
  remove(key: string): void {
    this.transfers.delete(key);
  }

  /** @internal a packet to a client from the server's own port */
  send(p: TftpPacket, to: Ip4, port: number, pcb = this.pcb): void {
    const b = new Uint8Array(tftpLength(p));
    encodeTftp(p, b);
    pcb.sendTo(b, to, port);
  }

  private request(data: Uint8Array, from: Ip4, port: number): void {
    const stats = this.stack.stats;
    if (port === 0 || from === 0 || from === IP_BROADCAST) return stats.drop("tftp-bad-source");
    const d = decodeTftp(data);
    if (!d.ok) {
      stats.drop(d.reason);
      const code = d.reason === "tftp-bad-option" ? TFTP_ERR_OPTIONS : TFTP_ERR_ILLEGAL_OP;
      return this.send({ op: "error", code, message: "malformed request" }, from, port);
    }
    const p = d.value;
    if (p.op === "error") return stats.drop("tftp-stray-error");
    if (p.op !== "rrq" && p.op !== "wrq") {
      stats.drop("tftp-not-a-request");
      return this.send({ op: "error", code: TFTP_ERR_ILLEGAL_OP, message: "not a request" }, from, port);
    }
    // A client that resends its request is answered by the transfer it already has; one
    // that asks again after its upload is complete has moved on.
    const key = `${from}:${port}`;
    const old = this.transfers.get(key);
    if (old && !old.lingering) return stats.drop("tftp-duplicate-request");
    old?.end();
    stats.count(`tftp.${p.op}`);
    const refusal = this.start(p, from, port, key);
    if (!refusal) return;
    stats.drop(refusal.reason);
    this.stack.event("tftp", `${p.op} ${p.filename} from ${ipToString(from)}:${port} refused: ${refusal.reason}`);
    this.send({ op: "error", code: refusal.code, message: refusal.message }, from, port);
  }

  private start(p: Request, peer: Ip4, port: number, key: string): Refusal | undefined {
    const o = this.options;
    const stale = this.active >= o.maxTransfers ? this.stale() : undefined;
    if (this.active >= o.maxTransfers && !stale) return { code: TFTP_ERR_UNDEFINED, message: "too many transfers", reason: "tftp-busy" };
    if (this.activeWith(peer) >= o.maxTransfersPerPeer) return { code: TFTP_ERR_UNDEFINED, message: "too many transfers", reason: "tftp-peer-busy" };
    if (p.mode === "mail") return { code: TFTP_ERR_ILLEGAL_OP, message: "mail mode is not supported", reason: "tftp-mail-mode" };
    const n = negotiate(p.options, o);
    if (!n) return { code: TFTP_ERR_OPTIONS, message: "bad option value", reason: "tftp-bad-option-value" };
    stale?.evict();
    const pcb = this.stack.udp.pcb();
    if (!pcb.bind(0).ok) return { code: TFTP_ERR_UNDEFINED, message: "no free port", reason: "tftp-no-port" };
    const report: TftpTransferReport = {
      op: p.op === "rrq" ? "read" : "write",
      file: p.filename,
      mode: p.mode,
      peer,
      port,
      options: n.oack,
      bytes: 0,
      blocks: 0,
      retransmits: 0,
    };
    const t = this.open(p, key, pcb, n, report);
    if (!(t instanceof Transfer)) {
      pcb.close();
      return t;
    }
    this.transfers.set(key, t);
    this.stack.event("tftp", `${p.op} ${p.filename} (${p.mode}) from ${ipToString(peer)}:${port} on port ${pcb.port}`);
    t.begin();
    return undefined;
  }

  /** The oldest transfer that has not earned its place: its peer never answered, and it already timed out. */
  private stale(): Transfer | undefined {
    for (const t of this.transfers.values()) if (t.unanswered) return t;
    return undefined;
  }

  private activeWith(peer: Ip4): number {
    let n = 0;
    for (const t of this.transfers.values()) if (!t.lingering && t.peer === peer) n++;
    return n;
  }

  /** Opens the file and makes the transfer, or says why not. */
  private open(p: Request, key: string, pcb: UdpPcb, n: Negotiated, report: TftpTransferReport): Transfer | Refusal {
    const netascii = p.mode === "netascii";
    if (p.op === "rrq") {
      const h = this.storage.openRead(p.filename);
      if (!h.ok) return refusalFor(storageError(h.reason));
      // A netascii size is unknown until sent; and curl refuses a tsize of 0, so an empty
      // file's goes unsaid (acknowledging an option is the server's choice, RFC 2347).
      if (p.options.tsize !== undefined && !netascii && h.value.size > 0) n.oack.tsize = h.value.size;
      return new ReadTransfer(this, key, pcb, n, report, h.value, netascii);
    }
    if (!this.options.allowWrite) return { code: TFTP_ERR_ACCESS, message: "writing is disabled", reason: "tftp-write-disabled" };
    if (p.options.tsize !== undefined) {
      if (p.options.tsize > this.storage.free()) return { code: TFTP_ERR_DISK_FULL, message: "file too big", reason: "tftp-too-big" };
      n.oack.tsize = p.options.tsize;
    }
    const h = this.storage.openWrite(p.filename, this.options.allowOverwrite ? "replace" : "create");
    if (!h.ok) return refusalFor(storageError(h.reason));
    return new WriteTransfer(this, key, pcb, n, report, h.value, netascii);
  }
}

/** The options granted, or undefined when a value lies outside its RFC's range. */
function negotiate(req: TftpOptions, o: TftpServerOptions): Negotiated | undefined {
  const n: Negotiated = { blksize: TFTP_DEFAULT_BLKSIZE, windowsize: 1, timeoutMs: o.timeoutMs, oack: {} };
  if (req.blksize !== undefined) {
    if (req.blksize < 8 || req.blksize > 65464) return undefined;
    n.blksize = n.oack.blksize = Math.min(req.blksize, o.maxBlksize);
  }
  if (req.timeout !== undefined) {
    if (req.timeout < 1 || req.timeout > 255) return undefined;
    // RFC 2349 lets the server decline it; a long timeout would hold a slot for minutes.
    if (req.timeout <= o.maxTimeoutS) {
      n.oack.timeout = req.timeout;
      n.timeoutMs = req.timeout * 1000;
    }
  }
  if (req.windowsize !== undefined) {
    if (req.windowsize < 1 || req.windowsize > 65535) return undefined;
    n.windowsize = n.oack.windowsize = Math.min(req.windowsize, o.maxWindowsize);
  }
  return n;
}

/** The TFTP error for a storage failure; paths that leave the root, links out of it and directories are access violations. */
function refusalFor(reason: StorageError): Refusal {
  if (reason === STORAGE_NOT_FOUND) return { code: TFTP_ERR_NOT_FOUND, message: "file not found", reason };
  if (reason === STORAGE_EXISTS) return { code: TFTP_ERR_EXISTS, message: "file exists", reason };
  if (reason === STORAGE_FULL) return { code: TFTP_ERR_DISK_FULL, message: "disk full", reason };
  if (reason === STORAGE_IO || reason === STORAGE_CLOSED) return { code: TFTP_ERR_UNDEFINED, message: "storage error", reason };
  return { code: TFTP_ERR_ACCESS, message: "access violation", reason };
}

/** What both directions share: the peer's TID, the retransmission timer, the report. */
abstract class Transfer {
  protected tries = 0;
  protected finished = false;
  private timer: Timer | undefined;
  private readonly life: Timer;
  private ended = false;
  private heard = false; // a packet came from the peer

  constructor(
    protected readonly server: TftpServer,
    private readonly key: string,
    protected readonly pcb: UdpPcb,
    protected readonly n: Negotiated,
    protected readonly report: TftpTransferReport,
  ) {
    pcb.recv((data, from, port) => this.input(data, from, port));
    this.life = server.stack.clock.setTimer(server.options.maxTransferMs, () =>
      this.finished ? this.end() : this.fail(TFTP_ERR_UNDEFINED, "transfer took too long", "tftp-too-long"),
    );
  }

  abstract begin(): void;
  protected abstract packet(p: TftpPacket): void;
  protected abstract timeout(): void;
  /** Closes or discards the file. */
  protected abstract release(): void;

  /** Done, and only waiting in case the peer missed the final ACK. */
  get lingering(): boolean {
    return this.finished;
  }

  get peer(): Ip4 {
    return this.report.peer;
  }

  /** Never heard from its peer, and already timed out: it may yield its slot. */
  get unanswered(): boolean {
    return !this.heard && this.tries > 0 && !this.finished;
  }

  /** Gives the slot up to a new request. */
  evict(): void {
    this.fail(TFTP_ERR_UNDEFINED, "server busy", "tftp-evicted");
  }

  protected get hasOack(): boolean {
    return Object.keys(this.n.oack).length > 0;
  }

  protected send(p: TftpPacket): void {
    this.server.send(p, this.report.peer, this.report.port, this.pcb);
  }

  protected sendBytes(b: Uint8Array): void {
    this.pcb.sendTo(b, this.report.peer, this.report.port);
  }

  protected arm(ms = this.n.timeoutMs): void {
    this.timer?.cancel();
    this.timer = this.server.stack.clock.setTimer(ms, () => this.timeout());
  }

  /** Counts one more try; gives up with an error past the limit, else calls `resend`. */
  protected retry(resend: () => void): void {
    if (++this.tries > this.server.options.retries) return this.fail(TFTP_ERR_UNDEFINED, "timed out", "tftp-timeout");
    this.report.retransmits++;
    this.server.stack.stats.count("tftp.retransmit");
    resend();
    this.arm();
  }

  protected fail(code: number, message: string, reason: TftpError): void {
    this.send({ op: "error", code, message });
    this.end(reason);
  }

  /** Reports the outcome once. */
  protected done(error?: TftpError): void {
    if (this.finished) return;
    this.finished = true;
    const r = this.report;
    if (error) r.error = error;
    const stats = this.server.stack.stats;
    if (error) stats.drop(error);
    else stats.count("tftp.done");
    this.server.stack.event("tftp", `${r.op} ${r.file} with ${ipToString(r.peer)}:${r.port} ${error ? `failed: ${error}` : "done"}, ${r.bytes} bytes`);
    this.server.options.onTransfer?.(r);
  }

  /** Frees everything; reports `error` unless the outcome was reported already. */
  end(error?: TftpError): void {
    if (this.ended) return;
    this.ended = true;
    this.timer?.cancel();
    this.life.cancel();
    this.pcb.close();
    this.release();
    this.server.remove(this.key);
    this.done(error);
  }

  private input(data: Uint8Array, from: Ip4, port: number): void {
    const stats = this.server.stack.stats;
    if (from !== this.report.peer || port !== this.report.port) {
      // Someone else: tell them, and carry on with our peer as if nothing happened.
      stats.drop("tftp-unknown-tid");
      const d = decodeTftp(data);
      if (!d.ok || d.value.op !== "error") this.server.send({ op: "error", code: TFTP_ERR_UNKNOWN_TID, message: "unknown transfer ID" }, from, port, this.pcb);
      return;
    }
    const d = decodeTftp(data);
    if (!d.ok) return stats.drop(d.reason);
    this.heard = true;
    if (d.value.op === "error") return this.end("tftp-peer-error");
    this.packet(d.value);
  }
}

/** A read request: we send DATA, the client ACKs. */
class ReadTransfer extends Transfer {
  /** The absolute number of the last block acknowledged (0 before the first). */
  private acked = 0;
  /** Encoded DATA packets for blocks acked+1 onwards, sent and not yet acknowledged. */
  private window: Uint8Array[] = [];
  /** The absolute number of the final (short) block, once it has been read. */
  private last = -1;
  private waitingOack = false;
  private readonly block: Uint8Array;
  private readonly fill: (out: Uint8Array) => Result<number>;

  constructor(
    server: TftpServer,
    key: string,
    pcb: UdpPcb,
    n: Negotiated,
    report: TftpTransferReport,
    private readonly file: ReadHandle,
    netascii: boolean,
  ) {
    super(server, key, pcb, n, report);
    this.block = new Uint8Array(n.blksize);
    const encoder = netascii ? new NetasciiEncoder((b) => file.read(b)) : undefined;
    this.fill = encoder ? (out) => encoder.read(out) : (out) => readFull(file, out);
  }

  begin(): void {
    if (this.hasOack) {
      this.waitingOack = true;
      this.send({ op: "oack", options: this.n.oack });
      this.arm();
    } else this.advance();
  }

  protected packet(p: TftpPacket): void {
    if (p.op !== "ack") return this.fail(TFTP_ERR_ILLEGAL_OP, "expected ACK", `tftp-unexpected-${p.op}`);
    const k = this.waitingOack ? (p.block === 0 ? 0 : -1) : this.inWindow(p.block);
    if (k < 0) return this.server.stack.stats.count("tftp.duplicate-ack"); // never a reason to resend
    this.waitingOack = false;
    this.window.splice(0, k - this.acked);
    this.acked = k;
    this.tries = 0;
    if (k === this.last) return this.end();
    // The receiver stopped short of what we sent: it dropped the rest, so send it again.
    for (const b of this.window) this.resend(b);
    this.advance();
  }

  protected timeout(): void {
    this.retry(() => {
      if (this.waitingOack) this.send({ op: "oack", options: this.n.oack });
      else for (const b of this.window) this.sendBytes(b);
    });
  }

  protected release(): void {
    this.file.close();
  }

  /** The absolute number of a sent, unacknowledged block with this 16-bit number, or -1. */
  private inWindow(block: number): number {
    for (let k = this.acked + 1; k <= this.acked + this.window.length; k++) if ((k & 0xffff) === block) return k;
    return -1;
  }

  private resend(b: Uint8Array): void {
    this.report.retransmits++;
    this.server.stack.stats.count("tftp.retransmit");
    this.sendBytes(b);
  }

  /** Reads and sends new blocks until the window is full or the file is all sent. */
  private advance(): void {
    while (this.window.length < this.n.windowsize && this.last < 0) {
      const r = this.fill(this.block);
      if (!r.ok) return this.fail(TFTP_ERR_UNDEFINED, "read error", storageError(r.reason));
      const k = this.acked + this.window.length + 1;
      const packet = new Uint8Array(TFTP_DATA_HEADER_LEN + r.value);
      encodeTftp({ op: "data", block: k & 0xffff, data: this.block.subarray(0, r.value) }, packet);
      this.window.push(packet);
      this.report.bytes += r.value;
      this.report.blocks++;
      if (r.value < this.n.blksize) this.last = k;
      this.sendBytes(packet);
    }
    this.arm();
  }
}

/** A write request: the client sends DATA, we ACK. */
class WriteTransfer extends Transfer {
  /** The absolute number of the last block taken in order (0 before the first). */
  private received = 0;
  private unacked = 0;
  private gapAcked = false;
  private readonly decoder: NetasciiDecoder | undefined;

  constructor(
    server: TftpServer,
    key: string,
    pcb: UdpPcb,
    n: Negotiated,
    report: TftpTransferReport,
    private readonly file: WriteHandle,
    netascii: boolean,
  ) {
    super(server, key, pcb, n, report);
    this.decoder = netascii ? new NetasciiDecoder() : undefined;
  }

  begin(): void {
    this.acknowledge();
    this.arm();
  }

  protected packet(p: TftpPacket): void {
    if (p.op !== "data") return this.fail(TFTP_ERR_ILLEGAL_OP, "expected DATA", `tftp-unexpected-${p.op}`);
    if (this.finished) {
      // Lingering after the last block: its sender missed our final ACK.
      if (p.block === (this.received & 0xffff)) this.acknowledge();
      return;
    }
    if (p.block !== ((this.received + 1) & 0xffff)) return this.outOfOrder(p.block);
    if (p.data.length > this.n.blksize) return this.fail(TFTP_ERR_ILLEGAL_OP, "block too large", "tftp-block-too-large");
    const w = this.file.write(this.decoder ? this.decoder.decode(p.data) : p.data);
    if (!w.ok) return this.failOn(storageError(w.reason));
    this.received++;
    this.unacked++;
    this.tries = 0;
    this.gapAcked = false;
    this.report.bytes += p.data.length;
    this.report.blocks++;
    if (p.data.length < this.n.blksize) return this.complete();
    if (this.unacked >= this.n.windowsize) this.acknowledge();
    this.arm();
  }

  protected timeout(): void {
    if (this.finished) return this.end();
    this.retry(() => this.acknowledge());
  }

  protected release(): void {
    if (!this.finished) this.file.abort();
  }

  private outOfOrder(block: number): void {
    this.server.stack.stats.count("tftp.out-of-order");
    const ahead = ((block - this.received - 1) & 0xffff) < this.n.windowsize;
    if (ahead) {
      // One was lost: say where we are, once, and the sender goes back at once.
      if (this.gapAcked) return;
      this.gapAcked = true;
      this.acknowledge();
    } else if (this.n.windowsize === 1) {
      // A block from before: our ACK went missing. With a window, answering every stale
      // block would send the sender back again and again, so there our timeout answers.
      this.acknowledge();
    }
  }

  /** ACK of the last block taken in order; before any, the OACK if options were granted. */
  private acknowledge(): void {
    this.unacked = 0;
    if (this.received === 0 && this.hasOack) this.send({ op: "oack", options: this.n.oack });
    else this.send({ op: "ack", block: this.received & 0xffff });
  }

  private failOn(reason: StorageError): void {
    const r = refusalFor(reason);
    this.fail(r.code, r.message, reason);
  }

  /** The last block is in: the file is finished, then we linger a while for a resent last block. */
  private complete(): void {
    const tail = this.decoder?.end();
    const w = tail?.length ? this.file.write(tail) : ok(undefined);
    const c = w.ok ? this.file.close() : w;
    if (!c.ok) return this.failOn(storageError(c.reason)); // release() discards the file
    this.acknowledge();
    this.done();
    this.arm();
  }
}

/** Fills `out` from the file unless the file ends first; returns how much it filled. */
function readFull(file: ReadHandle, out: Uint8Array): Result<number> {
  let n = 0;
  while (n < out.length) {
    const r = file.read(out.subarray(n));
    if (!r.ok) return r;
    if (r.value === 0) break;
    n += r.value;
  }
  return ok(n);
}
