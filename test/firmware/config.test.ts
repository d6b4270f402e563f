import test from "ava";
import { readFileSync } from "node:fs";
import { checkConfig, parseStatic } from "../../modules/firmware/config.ts";
import { parseIp } from "../../modules/wire/address.ts";

const manifest = JSON.parse(readFileSync(new URL("../../manifests/app/manifest_app.json", import.meta.url), "utf8")) as { config: { netstack: unknown } };
const good = () => structuredClone(manifest.config.netstack) as Record<string, Record<string, unknown>>;

test("the ESP32 app's config.netstack is a valid firmware config, and so is one with every optional field", (t) => {
  t.true(checkConfig(manifest.config.netstack).ok);
  const full = {
    ...good(),
    address: "192.168.1.57/24,192.168.1.1",
    echo: true,
    http: { root: "www", put: true, putLimit: 4096 },
    ftp: { root: "", users: [{ name: "a", password: "b", root: "x", readOnly: true, account: "c" }], anonymous: "pub" },
    tcp: { maxPcbs: 4, maxTimeWait: 0, sndbuf: 2920, wnd: 65536 * 4 },
  };
  t.deepEqual(checkConfig(full), { ok: true, value: full });
  t.true(checkConfig({ hostname: "bare" }).ok, "every service may be left out");
});

test("a wrong config names the first wrong field and what it should be", (t) => {
  const wrong = (edit: (c: Record<string, Record<string, unknown>>) => void, at = "netstack") => {
    const c = good();
    edit(c);
    const r = checkConfig(c, at);
    return r.ok ? "ok" : r.reason;
  };
  t.is(
    wrong((c) => (c.tftp!.write = "all")),
    'netstack.tftp.write: expected "none", "create", "overwrite", got "all"',
  );
  t.is(
    wrong((c) => (c.tfpt = {})),
    "netstack.tfpt: unknown field",
  );
  t.is(
    wrong((c) => delete c.hostname),
    "netstack.hostname: missing",
  );
  t.is(
    wrong((c) => (c.http!.put = "yes")),
    "netstack.http.put: expected true or false",
  );
  t.is(
    wrong((c) => (c.http!.putLimit = -1)),
    "netstack.http.putLimit: expected a whole number of bytes",
  );
  t.is(
    wrong((c) => ((c.ftp!.users as object[])[1] = { name: "guest" })),
    "netstack.ftp.users[1].password: missing",
  );
  t.is(
    wrong((c) => (c.ftp!.root = "../etc")),
    'netstack.ftp.root: expected a directory inside the storage, got "../etc"',
  );
  t.is(
    wrong((c) => ((c as Record<string, unknown>).address = "10.0.0.2")),
    'netstack.address: expected "dhcp", ADDR/PREFIX or ADDR/PREFIX,GATEWAY, got "10.0.0.2"',
  );
  t.is(
    wrong((c) => (c.ftp!.users = {}), "config.netstack"),
    "config.netstack.ftp.users: expected a list",
  );
  t.is(
    wrong((c) => (c.tcp = { maxPcbs: 0 })),
    "netstack.tcp.maxPcbs: expected a count from 1 to 64, got 0",
  );
  t.is(
    wrong((c) => (c.tcp = { sndbuf: 100 })),
    "netstack.tcp.sndbuf: expected bytes from 536 to 1048576, got 100",
  );
  t.is(
    wrong((c) => (c.tcp = { wnd: 1.5e3 + 0.5 })),
    "netstack.tcp.wnd: expected bytes from 536 to 1073741824, got 1500.5",
  );
  t.is(
    wrong((c) => (c.tcp = { maxPCBs: 4 })),
    "netstack.tcp.maxPCBs: unknown field",
  );
  t.is(checkConfig(null).ok ? "ok" : (checkConfig(null) as { reason: string }).reason, "netstack: expected an object");
  t.is(checkConfig([]).ok, false);
});

test("a static address is ADDR/PREFIX with an optional gateway", (t) => {
  const ip = (s: string) => parseIp(s)!;
  t.deepEqual(parseStatic("10.1.2.3/16"), { ok: true, value: { ip: ip("10.1.2.3"), mask: ip("255.255.0.0"), gateway: 0 } });
  t.deepEqual(parseStatic("192.168.1.57/24,192.168.1.1"), {
    ok: true,
    value: { ip: ip("192.168.1.57"), mask: ip("255.255.255.0"), gateway: ip("192.168.1.1") },
  });
  for (const bad of ["10.1.2.3", "10.1.2.3/33", "10.1.2.3/0", "10.1.2/24", "10.1.2.3/24,", "10.1.2.3/24,1.2.3", " 10.1.2.3/24"])
    t.false(parseStatic(bad).ok, bad);
});
