// A TFTP client for the simulator's scripted client and the tests, on our stack's UDP pcbs under a virtual clock: get and put
// with options, windows (RFC 7440 receiver and sender), block-number rollover and
// retransmission. And a raw peer that sends whatever a test scripts and keeps what comes back.

import type { Stack } from "../../modules/stack/stack.ts";
import type { UdpPcb } from "../../modules/stack/udp.ts";
import type { Timer } from "../../modules/platform.ts";
import type { Ip4 } from "../../modules/wire/address.ts";
import type { VirtualClock } from "../clock.ts";
import { type TftpOptions, type TftpPacket, decodeTftp, encodeTftp, tftpLength, TFTP_PORT } from "../../modules/wire/tftp.ts";
import { concat } from "../../modules/wire/bytes.ts";

export function encode(p: TftpPacket): Uint8Array {
  const b = new Uint8Array(tftpLength(p));
  encodeTftp(p, b);
  return b;
}

export interface ClientOptions {
  mode?: "octet" | "netascii";
  /** Options to request (blksize, tsize, timeout, windowsize, others). */
  options?: TftpOptions;
  timeoutMs?: number;
  retries?: number;
  serverPort?: number;
  /** How long a get keeps answering a resent last block. Default 5000 ms. */
  lingerMs?: number;
}

export interface ClientResult {
  /** The file's bytes as they came (get), or the bytes sent (put). */
  data: Uint8Array;
  error?: { code: number; message: string } | "timeout";
  oack?: TftpOptions;
  /** The server's transfer port. */
  tid?: number;
  /** DATA packets sent (put) or received (get), duplicates included. */
  dataPackets: number;
  /** Packets that came from a port other than the transfer's. */
  strays: number;
}

/** Starts a client transfer and runs the clock until it ends. */
export function runTransfer(clock: VirtualClock, start: (done: (r: ClientResult) => void) => void, maxSteps?: number): ClientResult {
  let result: ClientResult | undefined;
  start((r) => (result ??= r));
  clock.runUntil(() => result !== undefined, maxSteps);
  if (!result) throw new Error("the transfer never ended");
  return result;
}

/** The common part of both directions: one pcb, the server's TID, a retransmission timer. */
class Session {
  readonly pcb: UdpPcb;
  readonly result: ClientResult = { data: new Uint8Array(0), dataPackets: 0, strays: 0 };
  private timer: Timer | undefined;
  private tries = 0;
  private over = false;
  private lingerAgain: (() => void) | undefined;

  constructor(
    private readonly stack: Stack,
    private readonly server: Ip4,
    private readonly o: ClientOptions,
    private readonly done: (r: ClientResult) => void,
    private readonly onPacket: (p: TftpPacket) => void,
    private readonly onTimeout: () => void,
  ) {
    this.pcb = stack.udp.pcb();
    this.pcb.bind(0);
    this.pcb.recv((data, from, port) => {
      if (this.over || from !== server) return;
      if (this.result.tid === undefined) this.result.tid = port;
      if (port !== this.result.tid) {
        this.result.strays++;
        return;
      }
      const d = decodeTftp(data);
      if (!d.ok) return;
      if (this.lingerAgain) return d.value.op === "data" ? this.lingerAgain() : undefined;
      if (d.value.op === "error") return this.finish({ code: d.value.code, message: d.value.message });
      this.onPacket(d.value);
    });
  }

  request(p: TftpPacket): void {
    this.pcb.sendTo(encode(p), this.server, this.o.serverPort ?? TFTP_PORT);
    this.arm();
  }

  send(p: TftpPacket | Uint8Array): void {
    this.pcb.sendTo(p instanceof Uint8Array ? p : encode(p), this.server, this.result.tid!);
  }

  progress(): void {
    this.tries = 0;
    this.arm();
  }

  arm(): void {
    this.timer?.cancel();
    this.timer = this.stack.netif.clock.setTimer(this.o.timeoutMs ?? 300, () => {
      if (++this.tries > (this.o.retries ?? 10)) return this.finish("timeout");
      this.onTimeout();
      this.arm();
    });
  }

  finish(error?: ClientResult["error"]): void {
    if (this.over) return;
    this.over = true;
    this.timer?.cancel();
    this.pcb.close();
    if (error) this.result.error = error;
    this.done(this.result);
  }

  /** Reports success now, and keeps answering with `again` for a while in case the final ACK was lost. */
  linger(again: () => void): void {
    this.timer?.cancel();
    this.done(this.result);
    this.lingerAgain = again;
    this.timer = this.stack.netif.clock.setTimer(this.o.lingerMs ?? 5000, () => {
      this.over = true;
      this.pcb.close();
    });
  }
}

/** Reads `file` from the server: ACKs every window, once per gap, and again on timeout; then lingers. */
export function tftpGet(stack: Stack, server: Ip4, file: string, o: ClientOptions, done: (r: ClientResult) => void): void {
  const chunks: Uint8Array[] = [];
  let received = 0;
  let sinceAck = 0;
  let gapAcked = false;
  let blksize = 512;
  let window = 1;
  let started = false;
  const ack = () => {
    sinceAck = 0;
    s.send({ op: "ack", block: received & 0xffff });
  };
  const s = new Session(
    stack,
    server,
    o,
    (r) => {
      r.data = concat(chunks);
      done(r);
    },
    (p) => {
      if (p.op === "oack" && !started) {
        s.result.oack = p.options;
        blksize = p.options.blksize ?? 512;
        window = p.options.windowsize ?? 1;
        started = true;
        ack();
        return s.progress();
      }
      if (p.op !== "data") return;
      started = true;
      s.result.dataPackets++;
      if (p.block !== ((received + 1) & 0xffff)) {
        const ahead = ((p.block - received - 1) & 0xffff) < window;
        if ((ahead && !gapAcked) || (!ahead && window === 1)) ack();
        gapAcked ||= ahead;
        return;
      }
      chunks.push(p.data.slice());
      received++;
      gapAcked = false;
      s.progress();
      if (p.data.length < blksize) {
        ack();
        return s.linger(ack);
      }
      if (++sinceAck >= window) ack();
    },
    () => (started ? ack() : s.request({ op: "rrq", filename: file, mode: o.mode ?? "octet", options: o.options ?? {} })),
  );
  s.request({ op: "rrq", filename: file, mode: o.mode ?? "octet", options: o.options ?? {} });
}

/** Writes `data` to the server as `file`, a window at a time; a duplicate ACK is ignored, a short one resends. */
export function tftpPut(stack: Stack, server: Ip4, file: string, data: Uint8Array, o: ClientOptions, done: (r: ClientResult) => void): void {
  let blksize = 512;
  let window = 1;
  let acked = -1; // -1 until the server answers the request
  let sent = 0;
  const last = () => Math.floor(data.length / blksize) + 1;
  const packet = (k: number) => encode({ op: "data", block: k & 0xffff, data: data.subarray((k - 1) * blksize, k * blksize) });
  const fill = () => {
    for (; sent < acked + window && sent < last(); sent++) {
      s.send(packet(sent + 1));
      s.result.dataPackets++;
    }
  };
  const resendAll = () => {
    for (let k = acked + 1; k <= sent; k++) {
      s.send(packet(k));
      s.result.dataPackets++;
    }
  };
  const s = new Session(
    stack,
    server,
    o,
    (r) => {
      r.data = data;
      done(r);
    },
    (p) => {
      if (acked < 0) {
        if (p.op === "oack") {
          s.result.oack = p.options;
          blksize = p.options.blksize ?? 512;
          window = p.options.windowsize ?? 1;
        } else if (p.op !== "ack" || p.block !== 0) return;
        acked = sent = 0;
        fill();
        return s.progress();
      }
      if (p.op !== "ack") return;
      let k = acked + 1;
      while (k <= sent && (k & 0xffff) !== p.block) k++;
      if (k > sent) return; // a duplicate: never a reason to resend
      acked = k;
      if (acked === last()) return s.finish();
      s.progress();
      resendAll();
      fill();
    },
    () => (acked < 0 ? s.request({ op: "wrq", filename: file, mode: o.mode ?? "octet", options: o.options ?? {} }) : resendAll()),
  );
  s.request({ op: "wrq", filename: file, mode: o.mode ?? "octet", options: o.options ?? {} });
}

export interface Received {
  p: TftpPacket;
  /** The port it came from. */
  port: number;
  /** The virtual time it arrived. */
  at: number;
}

/** A scripted peer: sends what the test says and keeps every packet that comes back, with its source port. */
export class RawPeer {
  readonly pcb: UdpPcb;
  readonly inbox: Received[] = [];

  constructor(
    stack: Stack,
    private readonly server: Ip4,
  ) {
    this.pcb = stack.udp.pcb();
    this.pcb.bind(0);
    this.pcb.recv((data, from, port) => {
      const d = decodeTftp(data);
      if (from === server && d.ok) this.inbox.push({ p: d.value, port, at: stack.netif.clock.now() });
    });
  }

  send(p: TftpPacket | Uint8Array, port = TFTP_PORT): void {
    this.pcb.sendTo(p instanceof Uint8Array ? p : encode(p), this.server, port);
  }

  /** The packets received so far, emptying the inbox. */
  take(): Received[] {
    return this.inbox.splice(0);
  }
}
