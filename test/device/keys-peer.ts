// The peer of test/device/keys.test.ts, run inside the device's namespace:
//   node --import tsx keys-peer.ts IP KIND COUNT
// sends COUNT distinct invented names of one KIND to the firmware and prints, as JSON, how
// many answers came back: ftp (verbs before login), http-method, http-header (header names),
// tftp (option names in read requests). Each name is new, e.g. "XV4KQ0017".

import { createSocket } from "node:dgram";
import { connect } from "node:net";

const [ip, kind, countText] = process.argv.slice(2);
const count = Number(countText);
/** Requests on one HTTP connection: the server closes it after 100 (HTTP_SERVER_DEFAULTS.maxRequests). */
const MAX_REQUESTS = 90;
const name = (i: number) => `XV4KQ${String(i).padStart(5, "0")}`;

/** Writes `requests` on one TCP connection after `greeting` (a regex the first reply must match) and counts replies matching `reply`; resolves at `expected` replies or when the server closes. */
function exchange(port: number, requests: string, reply: RegExp, expected: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, ip);
    let text = "";
    let seen = 0;
    const done = () => {
      socket.destroy();
      resolve(seen);
    };
    socket.setEncoding("latin1");
    socket.on("connect", () => socket.write(requests));
    socket.on("data", (d: string) => {
      text += d;
      const lines = text.split("\n");
      text = lines.pop()!;
      seen += lines.filter((l) => reply.test(l)).length;
      if (seen >= expected) done();
    });
    socket.on("end", done);
    socket.on("error", reject);
    socket.setTimeout(20_000, () => reject(new Error(`${kind}: no answer for 20 s after ${seen} replies`)));
  });
}

/** Sends `total` items in batches on fresh connections; `batch(from, n)` sends n items starting at `from` and returns how many were answered. */
async function inBatches(total: number, size: number, batch: (from: number, n: number) => Promise<number>): Promise<number> {
  let answered = 0;
  for (let from = 0; from < total; from += size) answered += await batch(from, Math.min(size, total - from));
  return answered;
}

async function tftp(total: number): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, r));
  let answered = 0; // requests answered (each with an ERROR: the file is missing)
  socket.on("message", () => answered++);
  const perRequest = 40; // 40 options of 12 bytes: a request of about 500 bytes, inside the TAP's MTU
  for (let from = 0; from < total; from += perRequest) {
    const options = Array.from({ length: Math.min(perRequest, total - from) }, (_, i) => `${name(from + i)}\0${1}\0`).join("");
    const before = answered;
    socket.send(Buffer.from(`\0\x01missing-${from}.bin\0octet\0${options}`, "latin1"), 69, ip);
    for (let wait = 0; answered === before && wait < 200; wait++) await new Promise((r) => setTimeout(r, 10));
  }
  socket.close();
  return Math.min(total, answered * perRequest);
}

const kinds: Record<string, () => Promise<number>> = {
  ftp: () => inBatches(count, 2000, (from, n) => exchange(21, Array.from({ length: n }, (_, i) => `${name(from + i)} x\r\n`).join(""), /^500 /, n)),
  "http-method": () =>
    inBatches(count, MAX_REQUESTS, (from, n) =>
      exchange(80, Array.from({ length: n }, (_, i) => `${name(from + i)} / HTTP/1.1\r\nHost: d\r\n\r\n`).join(""), /^HTTP\/1\.1 501 /, n),
    ),
  "http-header": () =>
    // 31 invented fields and Host in each request: the server's limit is 32.
    inBatches(count, 31 * MAX_REQUESTS, (from, n) => {
      const requests: string[] = [];
      for (let i = 0; i < n; i += 31) {
        const headers = Array.from({ length: Math.min(31, n - i) }, (_, j) => `${name(from + i + j)}: v\r\n`).join("");
        requests.push(`GET /missing HTTP/1.1\r\nHost: d\r\n${headers}\r\n`);
      }
      return exchange(80, requests.join(""), /^HTTP\/1\.1 404 /, requests.length).then((r) => Math.min(n, r * 31));
    }),
  tftp: () => tftp(count),
};

const run = kinds[kind ?? ""];
if (!run || !ip || !Number.isSafeInteger(count)) throw new Error("usage: keys-peer.ts IP ftp|http-method|http-header|tftp COUNT");
console.log(JSON.stringify({ kind, sent: count, answered: await run() }));
