// A peer that holds connections open to the firmware on the host program, run inside its
// namespace: `node --import tsx bench/device-peer.ts IP PORT N [TEXT [FROM]]` opens N
// connections one after another (from the local address FROM if given), writes TEXT (\r\n
// allowed as written) on each and waits for the first answer, then prints "ready" and holds
// them until its stdin closes.

import { connect, type Socket } from "node:net";

const [ip, port, n, text, from] = process.argv.slice(2);

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port: Number(port), host: ip, ...(from ? { localAddress: from } : {}) });
    s.once("error", reject);
    s.once("connect", () => {
      if (!text) return resolve(s);
      s.write(text.replaceAll("\\r\\n", "\r\n"));
      s.once("data", () => resolve(s));
    });
  });
}

const sockets: Socket[] = [];
for (let i = 0; i < Number(n); i++) sockets.push(await open());
console.log("ready");
process.stdin.resume();
process.stdin.on("end", () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
