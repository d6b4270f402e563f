// One HTTP connection: requests parsed in turn from its bytes, their responses queued in
// order behind TCP's send buffer, timeouts, and the lingering close (RFC 9112 9.6).

import type { TcpPcb } from "../stack/tcp.ts";
import type { Timer } from "../platform.ts";
import { ipToString } from "../wire/address.ts";
import { type ReadHandle, type StorageError, storageError } from "../storage/storage.ts";
import type { HttpDrop } from "../stack/drops.ts";
import { type RequestHead, RequestParser, splitTarget } from "./http-parser.ts";
import { EMPTY, HttpRequest, HttpResponse, errorText, latin1Bytes, reasonPhrase } from "./http-message.ts";
import type { HttpServer } from "./http-server.ts";

interface FileBody {
  handle: ReadHandle;
  left: number;
}

/** One TCP connection: its requests parsed in turn, its responses queued in order. */
export class Connection {
  /** Whether the connection stays open after the current response. */
  keepAlive = true;
  private parser: RequestParser | undefined; // only while a request is being read: an idle connection holds none
  private readonly inq: Uint8Array[] = []; // received, not yet parsed (nor acknowledged to TCP)
  private readonly out: Array<Uint8Array | FileBody> = []; // what TCP's send buffer has no room for yet
  private queued = 0; // bytes in `out` arrays
  private res: HttpResponse | undefined; // the exchange in progress
  private requests = 0;
  private since: number; // start of the wait for a request, of the discard of a body, or of lingering
  private lastSent: number;
  private sending = 0; // time spent with bytes unacknowledged, and the bytes acknowledged
  private acked = 0;
  private processing = false;
  private kick: Timer | undefined;
  private peerDone = false; // the client sent FIN
  private closing = false; // close once `out` is empty
  private lingering = false; // FIN sent, reading until the client's
  private closed = false;

  constructor(
    readonly server: HttpServer,
    readonly pcb: TcpPcb,
  ) {
    this.since = this.lastSent = this.now();
    pcb.nodelay = true; // responses are written whole: never hold their tail back for an ACK
    pcb.recv((d) => this.received(d));
    pcb.sent((n) => {
      this.lastSent = this.now();
      this.acked += n;
      const queued = this.out.length;
      this.pump();
      if (this.out.length) return;
      if (queued) this.process(); // a pipelined request may start now
      const res = this.res;
      if (res) this.safely(res, () => res.drained());
    });
    pcb.err((reason) => this.gone(`http-tcp-${reason}`));
    pcb.poll(() => this.tick(), server.options.pollMs);
  }

  now(): number {
    return this.server.stack.clock.now();
  }

  stats() {
    return this.server.stack.stats;
  }

  /** Bytes TCP takes at once: none while anything waits in the queue. */
  room(): number {
    return this.out.length ? 0 : this.pcb.sndbuf;
  }

  /** @internal queues bytes after what is queued; what TCP does not take now is copied */
  send(b: Uint8Array): void {
    if (this.closed) return;
    if (!this.out.length) b = b.subarray(this.pcb.write(b));
    if (!b.length) return;
    if (this.queued + b.length > this.server.options.maxQueuedBytes) return this.abort("http-output-overflow");
    this.out.push(b.slice());
    this.queued += b.length;
  }

  sendFile(handle: ReadHandle, left: number): void {
    if (this.closed) return handle.close();
    this.out.push({ handle, left });
    this.pump();
  }

  /** The handler wants the body (again): send 100 Continue if the client waits for it, and read on. */
  wanted(req: HttpRequest): void {
    if (req !== this.res?.request || this.closed) return;
    req.progress = this.now();
    if (req.expecting && !this.res.headersSent) {
      req.expecting = false;
      this.send(latin1Bytes("HTTP/1.1 100 Continue\r\n\r\n"));
    }
    if (!this.processing) this.kick ??= this.server.stack.clock.setTimer(0, () => this.process());
  }

  responseEnded(res: HttpResponse): void {
    if (this.closed) return;
    const req = res.request;
    if (!req.done) {
      req.discard = true;
      this.since = this.now();
    }
    if (req.done) this.finish();
    if (!this.keepAlive) this.close();
    this.pump();
    if (!this.processing) this.kick ??= this.server.stack.clock.setTimer(0, () => this.process());
  }

  /** Answers with an error and closes: the request can't be parsed on, or came too slowly. */
  refuse(status: number, reason: HttpDrop, extra = ""): void {
    if (this.closed) return;
    const res = this.res;
    this.res = undefined;
    if (res?.finished) {
      this.stats().drop(reason); // the response is whole: just read no further
      return this.close();
    }
    if (res?.headersSent) {
      res.kill(reason);
      return this.abort(reason);
    }
    this.stats().drop(reason);
    this.server.stack.event("http", `${ipToString(this.pcb.remoteIp)}:${this.pcb.remotePort} refused ${status}: ${reason}`);
    res?.kill(reason);
    this.stats().count(`http.status.${status}`);
    const body = errorText(status);
    this.keepAlive = false;
    this.send(
      latin1Bytes(
        `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n${extra}\r\n${body}`,
      ),
    );
    this.close();
  }

  /**
   * Since when the connection waits for a complete request head, with no response under way
   * and nothing left to send, or lingers with all it sent acknowledged; undefined when it is
   * doing anything else. Such a connection has not earned its slot, or is done with it, so a
   * newcomer may take it.
   */
  waitingSince(): number | undefined {
    if (this.lingering) return this.pcb.unacknowledged ? undefined : this.since;
    return this.res || this.out.length || this.closing || this.closed ? undefined : this.since;
  }

  /** Resets the connection. */
  abort(reason: HttpDrop | StorageError): void {
    if (this.closed) return;
    this.stats().drop(reason);
    this.gone(reason);
    this.pcb.abort();
  }

  private received(d: Uint8Array | null): void {
    if (this.closed) return;
    if (this.closing) {
      // Nothing more is read: what still comes is acknowledged and dropped.
      if (d) return this.pcb.recved(d.length);
      this.peerDone = true;
      if (this.lingering) this.shut();
      return;
    }
    if (d === null) this.peerDone = true;
    else {
      if (!this.res && this.betweenRequests()) this.since = this.now(); // the first byte of a request
      this.inq.push(d);
    }
    this.process();
  }

  private process(): void {
    this.kick?.cancel();
    this.kick = undefined;
    if (this.processing || this.closed) return;
    this.processing = true;
    while (!this.closing && !this.closed && !this.blocked()) {
      const chunk = this.inq[0] ?? EMPTY;
      const { used, step } = (this.parser ??= new RequestParser(this.server.options)).next(chunk);
      if (used) this.consume(used);
      if (step.kind === "more") {
        if (!this.inq.length) break;
      } else if (step.kind === "head") this.begin(step.head);
      else if (step.kind === "data") this.body(step.data);
      else if (step.kind === "end") this.bodyEnd();
      else this.refuse(step.status, step.reason);
    }
    this.processing = false;
    if (this.betweenRequests()) this.parser = undefined;
    if (this.peerDone) this.peerClosed();
  }

  /** Nothing of a next request read yet. */
  private betweenRequests(): boolean {
    return (this.parser?.idle ?? true) && !this.inq.length;
  }

  /**
   * Nothing more to parse until the handler reads the body, or the response ends; and no
   * next request while the last response is still queued, so one connection holds at most
   * one response's queue and one open file.
   */
  private blocked(): boolean {
    const req = this.res?.request;
    if (!req) return this.out.length > 0;
    return req.done || (!req.discard && (req.paused || !req.reader));
  }

  private consume(n: number): void {
    const rest = this.inq[0]!.subarray(n);
    if (rest.length) this.inq[0] = rest;
    else this.inq.shift();
    this.pcb.recved(n);
  }

  private begin(head: RequestHead): void {
    this.stats().count("http.requests");
    const target = splitTarget(head.target);
    let path: string | undefined;
    try {
      path = target && decodeURIComponent(target.path);
    } catch {
      path = undefined; // a malformed escape
    }
    const req = new HttpRequest(head, target?.path ?? "", path ?? "", target?.query ?? "", this);
    const res = (this.res = new HttpResponse(this, req));
    const tokens = (req.header("connection") ?? "")
      .toLowerCase()
      .split(",")
      .map((t) => t.trim());
    this.keepAlive = head.minor ? !tokens.includes("close") : tokens.includes("keep-alive");
    if (this.requests + 1 >= this.server.options.maxRequests) this.keepAlive = false; // a connection's life has a bound too
    if (path === undefined) return res.fail(400, "http-bad-target");
    const expect = head.minor ? req.header("expect") : undefined;
    if (expect !== undefined && expect.toLowerCase() !== "100-continue") return res.fail(417, "http-bad-expectation");
    req.expecting = expect !== undefined && head.body !== 0;
    this.safely(res, () => this.server.dispatch(req, res));
  }

  private body(data: Uint8Array): void {
    const res = this.res!;
    res.request.progress = this.now();
    res.request.received += data.length;
    if (!res.request.discard) this.safely(res, () => res.request.reader!(data));
  }

  private bodyEnd(): void {
    const res = this.res!;
    res.request.done = true;
    if (res.finished) this.finish();
    else this.safely(res, () => res.request.reader!(null));
  }

  /** Runs handler code: a throw is answered 500, or resets a response already under way. */
  private safely(res: HttpResponse, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.server.stack.event("http", `handler error: ${String(e)}`);
      if (res.finished) this.stats().drop("http-handler-error");
      else res.fail(500, "http-handler-error");
    }
  }

  /** The exchange is over: wait for the next request. */
  private finish(): void {
    this.res = undefined;
    this.requests++;
    this.since = this.now();
  }

  /** The client will send nothing more: serve what is complete, then close. */
  private peerClosed(): void {
    if (this.closing || this.closed) return;
    const req = this.res?.request;
    if (!req) {
      if (this.inq.length) return; // a whole request may be waiting for the last response to go out
      if (!this.betweenRequests()) this.stats().drop("http-truncated-request");
      return this.close();
    }
    if (req.done || this.blocked()) {
      this.keepAlive = false;
      return;
    }
    this.res!.kill("http-truncated-body");
    if (this.res!.headersSent) return this.abort("http-truncated-body");
    this.stats().drop("http-truncated-body");
    this.close();
  }

  private tick(): void {
    if (this.closed) return;
    const o = this.server.options;
    const now = this.now();
    if (this.out.length || this.pcb.unacknowledged) {
      // Each acknowledgement must come in time, and they must add up to an average rate: a
      // client that reads a few bytes now and then holds a slot and a file no less.
      this.sending += o.pollMs;
      if (now - this.lastSent >= o.sendTimeoutMs) this.abort("http-send-timeout");
      else if (this.sending > o.sendTimeoutMs + (this.acked * 1000) / o.minSendRate) this.abort("http-send-too-slow");
      return;
    }
    this.lastSent = now;
    if (this.lingering) {
      if (now - this.since >= o.requestTimeoutMs) this.shut();
      return;
    }
    const req = this.res?.request;
    if (req) {
      // What is dropped has a bound on its whole time, not just on each byte (nginx's lingering_time).
      if (req.discard && now - this.since >= o.discardTimeoutMs) this.refuse(408, "http-discard-timeout");
      else if (!req.done && !this.blocked()) {
        // Each piece must come in time, and what the handler reads at an average rate (Apache's
        // mod_reqtimeout MinRate); what is dropped has its own bound above.
        if (!req.discard) req.waited += o.pollMs;
        if (now - req.progress >= o.requestTimeoutMs) this.refuse(408, "http-body-timeout");
        else if (req.waited > o.requestTimeoutMs + (req.received * 1000) / o.minBodyRate) this.refuse(408, "http-body-too-slow");
      }
    } else if (this.betweenRequests() && this.requests > 0) {
      if (now - this.since < o.idleTimeoutMs) return;
      this.stats().count("http.idle-closed");
      this.close();
    } else if (now - this.since >= o.requestTimeoutMs) this.refuse(408, "http-request-timeout");
  }

  /** Closes once the queue is empty. */
  private close(): void {
    this.closing = true;
    this.pump();
  }

  private pump(): void {
    const pcb = this.pcb;
    const buf = this.server.readBuffer;
    while (!this.closed && this.out.length && pcb.sndbuf > 0) {
      const item = this.out[0]!;
      if (item instanceof Uint8Array) {
        const n = pcb.write(item);
        this.queued -= n;
        if (n < item.length) {
          this.out[0] = item.subarray(n);
          return;
        }
      } else {
        const r = item.handle.read(buf.subarray(0, Math.min(pcb.sndbuf, item.left, buf.length)));
        if (!r.ok || r.value === 0) return this.abort(r.ok ? "http-file-shrank" : storageError(r.reason));
        pcb.write(buf.subarray(0, r.value));
        item.left -= r.value;
        if (item.left > 0) continue;
        item.handle.close();
      }
      this.out.shift();
    }
    if (this.closing && !this.out.length && !this.lingering && !this.closed) this.linger();
  }

  /** FIN, then read until the client's FIN (or a timeout) so that nothing it still sends resets the connection. */
  private linger(): void {
    if (this.peerDone) return this.shut();
    this.lingering = true;
    this.since = this.now();
    this.pcb.shutdown();
  }

  private shut(): void {
    this.closed = true;
    this.server.remove(this);
    this.pcb.close();
  }

  /** The connection is dead: release what it holds. */
  private gone(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.kick?.cancel();
    this.server.remove(this);
    for (const item of this.out) if (!(item instanceof Uint8Array)) item.handle.close();
    this.out.length = 0;
    this.res?.kill(reason);
  }
}
