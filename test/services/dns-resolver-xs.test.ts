import test from "ava";
import { fileURLToPath } from "node:url";
import { withXsBundle } from "../../host-sim/xs.ts";
import { session } from "./dns-resolver-run.ts";

// The resolver and the DNS server peer, bundled, run on the real XS engine and must send
// the very frames and report the very outcomes they do on Node.

const SEED = 0xd05;
const entry = fileURLToPath(new URL("./dns-resolver-run.ts", import.meta.url));

test("a resolver session with faults gives the same frames and outcomes on XS as on Node", async (t) => {
  const onNode = session(SEED);
  const outcomes = onNode.filter((l) => / (A|AAAA|PTR): /.test(l));
  t.is(outcomes.length, 9);
  t.regex(outcomes.at(-2) ?? "", /www\.example\.test A: cache /);
  t.regex(outcomes.find((l) => l.includes("many.example.test")) ?? "", /network many\.example\.test ttl 300 (10\.0\.2\.\d+,){39}10\.0\.2\.\d+$/);
  t.regex(outcomes.find((l) => l.includes("nope.example.test")) ?? "", /nxdomain/);
  t.regex(outcomes.find((l) => l.includes("silent.example.test")) ?? "", /timeout/);
  const { value: onXs, computrons } = await withXsBundle(entry, (xs) => xs.evaluateJson<string[]>(`entry.session(${SEED})`));
  t.is(onXs.length, onNode.length);
  const firstDifference = onNode.findIndex((line, i) => line !== onXs[i]);
  t.is(firstDifference, -1, `first difference at line ${firstDifference}:\nnode ${onNode[firstDifference]}\nxs   ${onXs[firstDifference]}`);
  t.log(outcomes.join("\n"));
  t.log(
    `${onNode.length - outcomes.length - 1} frames identical on both engines; the whole session (both servers and the LAN included) took ${computrons} computrons on XS`,
  );
});
