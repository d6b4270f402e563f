// A minimal HTTP/1.1 client for the simulator's scripted client, the examples and the tests:
// one request per connection ("Connection: close") over our own TCP pcb, the response read
// until the server closes, while the virtual clock runs.

import type { Stack } from "../../modules/stack/stack.ts";
import type { VirtualClock } from "../clock.ts";
import { type Ip4, ipToString } from "../../modules/wire/address.ts";
import { concat } from "../../modules/wire/bytes.ts";

export interface HttpRequestOptions {
  method?: string;
  body?: Uint8Array | string;
  port?: number;
  /** Extra header lines, e.g. { "Content-Type": "text/plain" }. */
  headers?: Record<string, string>;
  /** Virtual time allowed for the whole exchange. Default 60 s. */
  timeoutMs?: number;
}

export interface HttpResult {
  /** 0 when no status line came back. */
  status: number;
  /** The head without its blank line: status line and fields. */
  head: string;
  body: Uint8Array;
  /** The body as UTF-8 text. */
  text: string;
  /** What went wrong at the TCP level (e.g. "timeout", a reset), if anything. */
  error?: string;
}

/** Sends one request from `client` to `server` and runs `clock` until the server closes or the time is up. */
export function httpRequest(client: Stack, clock: VirtualClock, server: Ip4, path: string, o: HttpRequestOptions = {}): HttpResult {
  const body = typeof o.body === "string" ? new TextEncoder().encode(o.body) : (o.body ?? new Uint8Array(0));
  const fields = { Host: ipToString(server), Connection: "close", ...(o.body === undefined ? {} : { "Content-Length": String(body.length) }), ...o.headers };
  const head = `${o.method ?? "GET"} ${path} HTTP/1.1\r\n${Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
  const request = concat([new TextEncoder().encode(head), body]);
  const chunks: Uint8Array[] = [];
  let closed = false;
  let error: string | undefined;
  let sent = 0;
  const opened = client.tcp.connect(server, o.port ?? 80, (err) => {
    if (err) {
      error = err;
      closed = true;
    } else pump();
  });
  if (!opened.ok) return { status: 0, head: "", body: new Uint8Array(0), text: "", error: opened.reason };
  const pcb = opened.value;
  const pump = () => {
    while (sent < request.length && pcb.sndbuf > 0) sent += pcb.write(request.subarray(sent, sent + pcb.sndbuf));
  };
  pcb.sent(pump);
  pcb.err((e) => {
    error = e;
    closed = true;
  });
  pcb.recv((data) => {
    if (data === null) {
      closed = true;
      return pcb.close();
    }
    chunks.push(data.slice());
    pcb.recved(data.length);
  });
  const deadline = clock.now() + (o.timeoutMs ?? 60_000);
  clock.runUntil(() => closed || clock.now() > deadline);
  if (!closed) {
    pcb.abort();
    error = "timeout";
  }
  const bytes = concat(chunks);
  const split = headEnd(bytes);
  const headText = new TextDecoder().decode(split < 0 ? bytes : bytes.subarray(0, split));
  const bodyBytes = split < 0 ? new Uint8Array(0) : bytes.subarray(split + 4);
  const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(headText)?.[1] ?? 0);
  return { status, head: headText, body: bodyBytes, text: new TextDecoder().decode(bodyBytes), ...(error ? { error } : {}) };
}

/** Where the blank line after the head starts, or -1. */
function headEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  return -1;
}
