import test from "ava";
import { fileURLToPath } from "node:url";
import { withXsBundle } from "../../host-sim/xs.ts";
import { session } from "./http-server-run.ts";

// The HTTP server, its client and the faulty LAN, bundled, run on the real XS engine and
// must send the very frames and give the very responses they do on Node.

const SEED = 0x80;
const entry = fileURLToPath(new URL("./http-server-run.ts", import.meta.url));

test("an HTTP session over a faulty link gives the same frames and responses on XS as on Node", async (t) => {
  const onNode = session(SEED);
  const responses = onNode.filter((l) => /^[a-z]+: \d{3} /.test(l));
  t.deepEqual(
    responses.map((l) => l.split(" ").slice(0, 2).join(" ")),
    [
      "get: 200",
      "head: 200",
      "range: 206",
      "conditional: 304",
      "listing: 301",
      "listing: 200",
      "listing: 200",
      "put: 100",
      "put: 201",
      "bad: 400",
      "version: 505",
      "escape: 403",
      "escape: 200",
    ],
  );
  const { value: onXs, computrons } = await withXsBundle(entry, (xs) => xs.evaluateJson<string[]>(`entry.session(${SEED})`));
  t.is(onXs.length, onNode.length);
  const firstDifference = onNode.findIndex((line, i) => line !== onXs[i]);
  t.is(firstDifference, -1, `first difference at line ${firstDifference}:\nnode ${onNode[firstDifference]}\nxs   ${onXs[firstDifference]}`);
  t.log(`${onNode.length - responses.length - 1} frames identical on both engines; the session took ${computrons} computrons on XS`);
});
