import test from "ava";
import { execFileSync } from "node:child_process";
import { hostDevicePath, bundleForHost } from "../../native/host-device/bundle.ts";

// The script (native/host-device/js/checksum-check.ts) runs both checksums on XS in the host
// program, over 3000 buffers of up to 1600 bytes with random ranges, odd lengths, all-0xff
// contents and starting sums at the folding edges, and reports the inputs that differ.
test("the device's native checksum answers exactly what the TypeScript one answers, function by function", async (t) => {
  const bin = hostDevicePath();
  const { path } = await bundleForHost("native/host-device/js/checksum-check.ts", "checksum-check");
  // The host program always opens its TAP; a name of its own keeps it apart from other tests.
  const out = execFileSync(bin, [path], {
    env: { ...process.env, PRECONFIGURED_TAPIF: `tapck${process.pid}`.slice(0, 15) },
    encoding: "utf8",
    timeout: 60_000,
  });
  const { cases, differences } = JSON.parse(out.trim().split("\n").pop()!) as { cases: number; differences: unknown[] };
  t.is(cases, 18000);
  t.deepEqual(differences, []);
});
