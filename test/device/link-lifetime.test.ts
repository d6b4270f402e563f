// Item: XS's garbage-collection destructor runs on no thread that may touch JavaScript values,
// so it cannot release a remembered receiver. The glue instead remembers the LwipLink itself from
// construction to close(): XS cannot collect a link that holds the interface, with or without a
// receiver, and close() releases the link and its receiver (native/host-device/js/lifetime.ts).

import test from "ava";
import { execFileSync } from "node:child_process";
import { bundleForHost, hostDevicePath } from "../../native/host-device/bundle.ts";

test("a LwipLink nothing references lives until close(), which lets XS collect it and its receiver", async (t) => {
  const { path } = await bundleForHost("native/host-device/js/lifetime.ts", "lifetime");
  const out = execFileSync(hostDevicePath(), [path], { input: "", encoding: "utf8", timeout: 60_000 });
  const r = JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>;
  const held = "netstack: an interface is attached already";
  t.deepEqual(r.bare, {
    beforeClose: { link: true, receiver: false, claim: held },
    afterClose: { link: false, receiver: false, claim: "claimed" },
  });
  t.deepEqual(r.withReceiver, {
    beforeClose: { link: true, receiver: true, claim: held },
    afterClose: { link: false, receiver: false, claim: "claimed" },
  });
});
