// An HTTP session that runs on XS as on Node (portable): the server over a MemoryStorage on
// a faulty virtual LAN, asked for a file, HEAD, a range, a conditional GET, a listing, a
// chunked PUT, a pipelined burst, the status route and some bad requests. It returns one
// line per response and one per frame the device sent, to compare engines.

import { FaultInjector } from "../../host-sim/faults.ts";
import { MemoryStorage } from "../../modules/storage/memory.ts";
import { setup, type Client } from "../support/http-server-client.ts";

function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? "0" : "") + b[i]!.toString(16);
  return s;
}

/** FNV-1a, enough to tell bodies apart without node:crypto. */
function fnv(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h.toString(16);
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

export function session(seed: number): string[] {
  const lines: string[] = [];
  let clockNow = () => 0;
  const storage = new MemoryStorage({ limit: 1 << 20, clock: { now: () => 1_700_000_000_000 + clockNow(), setTimer: () => ({ cancel() {} }) } });
  const env = setup(
    { allowPut: true, date: () => 1_700_000_000_000 + clockNow() },
    storage,
    (link, clock) => new FaultInjector(link, clock, { seed, rates: { drop: 0.05, duplicate: 0.03, reorder: 0.05 } }),
    seed,
  );
  clockNow = () => env.clock.now();
  storage.mkdir("www");
  for (const [name, size] of [
    ["www/index.html", 700],
    ["www/a b.bin", 40_000],
    ["www/data.json", 90],
  ] as const) {
    const h = storage.openWrite(name, "create");
    if (h.ok) {
      h.value.write(pattern(size, size));
      h.value.close();
    }
  }
  env.device.netif.onEvent = (e) => {
    if (e.kind === "tx") lines.push(`${env.clock.now().toFixed(3)} ${hex(e.frame)}`);
  };
  const report = (label: string, c: Client, heads: boolean[] = []) => {
    for (const r of c.responses(heads)) lines.push(`${label}: ${r.status} ${JSON.stringify(r.headers)} ${r.body.length} ${fnv(r.body)}`);
  };
  const requests: Array<[string, string, boolean[]?]> = [
    ["get", "GET /www/a%20b.bin HTTP/1.1\r\nHost: d\r\n\r\n"],
    ["head", "HEAD /www/data.json HTTP/1.1\r\nHost: d\r\n\r\n", [true]],
    ["range", "GET /www/a%20b.bin HTTP/1.1\r\nHost: d\r\nRange: bytes=-1000\r\n\r\n"],
    ["conditional", "GET /www/data.json HTTP/1.1\r\nHost: d\r\nIf-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n\r\n"],
    ["listing", "GET /www HTTP/1.1\r\nHost: d\r\n\r\nGET /www/?x HTTP/1.1\r\nHost: d\r\n\r\nGET / HTTP/1.1\r\nHost: d\r\n\r\n"],
    ["put", "PUT /www/new.txt HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5\r\nhello\r\n6;x=1\r\n world\r\n0\r\n\r\n"],
    ["bad", "GET / HTTP/1.1\r\nHost: d\r\nContent-Length: 1, 2\r\n\r\n"],
    ["version", "GET / HTTP/2.0\r\n\r\n"],
    ["escape", "GET /%2e%2e/%2e%2e/x HTTP/1.1\r\nHost: d\r\n\r\nGET /status HTTP/1.1\r\nHost: d\r\n\r\n"],
  ];
  for (const [label, text, heads] of requests) {
    const c = env.connect();
    c.send(text);
    env.until(() => c.fin, 30_000);
    report(label, c, heads);
    c.pcb.close();
  }
  env.until(() => env.server.connections === 0);
  lines.push(`stats ${env.device.netif.stats.json()}`);
  return lines;
}
