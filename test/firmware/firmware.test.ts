// The firmware core on a virtual LAN: the ESP32 app's own config (manifest_app.json), its
// servers each on their root of an in-memory store, DHCP from the simulator's peer, and the
// write policies the config sets.

import test from "ava";
import { VirtualClock } from "../../host-sim/clock.ts";
import { VirtualLan } from "../../host-sim/lan.ts";
import { SeededRandom } from "../../host-sim/random.ts";
import { DhcpServer } from "../../host-sim/peers/dhcp-server.ts";
import { DEVICE_MAC, manifestConfig, memoryStore } from "../../host-sim/firmware.ts";
import { httpRequest } from "../../host-sim/clients/http-client.ts";
import { runTransfer, tftpGet, tftpPut } from "../../host-sim/clients/tftp-client.ts";
import { FtpClient } from "../../host-sim/clients/ftp-client.ts";
import { startFirmware, type FirmwareOptions } from "../../modules/firmware/firmware.ts";
import { createStack } from "../../modules/stack/stack.ts";
import { parseIp, parseMac } from "../../modules/wire/address.ts";
import { readAll } from "../support/storage.ts";

const ip = (s: string) => parseIp(s)!;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function rig(config: unknown, options: FirmwareOptions = {}) {
  const clock = new VirtualClock();
  const lan = new VirtualLan(clock);
  const infra = createStack(lan.attach("infra"), clock, new SeededRandom(2), {
    mac: parseMac("02:00:00:00:00:01")!,
    ip: ip("10.0.0.1"),
    mask: ip("255.255.255.0"),
    gateway: 0,
  });
  new DhcpServer(infra, { poolStart: ip("10.0.0.100"), poolSize: 10, mask: ip("255.255.255.0"), leaseTime: 3600, routers: [ip("10.0.0.1")], dnsServers: [] });
  const client = createStack(lan.attach("client"), clock, new SeededRandom(3), {
    mac: parseMac("02:00:00:00:00:09")!,
    ip: ip("10.0.0.9"),
    mask: ip("255.255.255.0"),
    gateway: 0,
  });
  const store = memoryStore({ "tftp/hello.txt": "hello over tftp\n", "www/index.html": "<p>hi</p>\n" });
  const log: string[] = [];
  const sent: Uint8Array[] = [];
  const port = lan.attach("device");
  const link = {
    transmit(f: Uint8Array) {
      sent.push(f);
      port.transmit(f);
    },
    setReceiver: (r: (f: Uint8Array) => void) => port.setReceiver(r),
  };
  const fw = startFirmware({ link, mac: DEVICE_MAC, clock, random: new SeededRandom(1), storage: store, log: (l) => log.push(l) }, config, options);
  return { clock, client, store, log, sent, fw };
}

test("the ESP32 app's config: a DHCP lease, each server on its own root, writes as configured, all of it logged", (t) => {
  const r = rig(manifestConfig());
  if (!r.fw.ok) return t.fail(r.fw.reason);
  const fw = r.fw.value;
  t.true(r.clock.runUntil(() => fw.address() !== undefined, 10_000));
  t.deepEqual(r.log, [
    "tftp on port 69, root /tftp, writes: create",
    "ftp on port 21, root /, users: esp, guest",
    "http on port 80, root /www, no PUT, routes /status",
    "address 10.0.0.100/24 gateway 10.0.0.1 lease 3600 s",
  ]);
  const device = fw.address()!;

  const page = httpRequest(r.client, r.clock, device, "/index.html");
  t.deepEqual([page.status, page.text], [200, "<p>hi</p>\n"]);
  t.is(httpRequest(r.client, r.clock, device, "/x.txt", { method: "PUT", body: "no" }).status, 405);

  const got = runTransfer(r.clock, (done) => tftpGet(r.client, device, "hello.txt", {}, done));
  t.is(text(got.data), "hello over tftp\n");
  const put = () => runTransfer(r.clock, (done) => tftpPut(r.client, device, "new.txt", new TextEncoder().encode("new\n"), {}, done));
  t.is(put().error, undefined);
  t.is(text(readAll(r.store, "tftp/new.txt")), "new\n");
  t.is((put().error as { code: number }).code, 6, "create: an existing file is not overwritten (file already exists)");

  const ftp = new FtpClient(r.client, r.clock, device);
  t.is(ftp.login("esp", "esp32").code, 230);
  ftp.cmd("TYPE I");
  t.is(text(ftp.retr("www/index.html").data), "<p>hi</p>\n");
  t.is(ftp.stor("up.bin", Uint8Array.of(1, 2, 3)).final?.code, 226);
  t.deepEqual(readAll(r.store, "up.bin"), Uint8Array.of(1, 2, 3));
  const guest = new FtpClient(r.client, r.clock, device);
  t.is(guest.login("guest", "guest").code, 230);
  guest.cmd("TYPE I");
  t.is(text(guest.retr("index.html").data), "<p>hi</p>\n", "guest's root is /www");
  t.is(guest.stor("x.bin", Uint8Array.of(1)).first.code, 550, "guest is read-only");
  t.true(r.log.includes("tftp write new.txt 4 bytes"));
  t.true(r.log.includes("ftp esp STOR /up.bin 3 bytes"));
});

test("a static address, no TFTP writes, and HTTP PUT up to its limit; routes of the application's own; stop closes the servers", (t) => {
  const config = {
    ...manifestConfig(),
    address: "10.0.0.2/24,10.0.0.1",
    tftp: { root: "tftp", write: "none" },
    http: { root: "www", put: true, putLimit: 100 },
  };
  const r = rig(config, { routes: [{ method: "GET", path: "/hello", handler: (_req, res) => res.end("hello from the app\n") }] });
  if (!r.fw.ok) return t.fail(r.fw.reason);
  const fw = r.fw.value;
  t.is(fw.dhcp, undefined);
  t.is(r.log[0], "address 10.0.0.2/24 gateway 10.0.0.1 (static)");
  t.true(r.log.includes("http on port 80, root /www, PUT up to 100 bytes, routes /status, /hello"));
  const device = ip("10.0.0.2");
  t.is(httpRequest(r.client, r.clock, device, "/hello").text, "hello from the app\n");
  t.is(httpRequest(r.client, r.clock, device, "/a.txt", { method: "PUT", body: "a".repeat(100) }).status, 201);
  t.is(text(readAll(r.store, "www/a.txt")), "a".repeat(100));
  t.is(httpRequest(r.client, r.clock, device, "/b.txt", { method: "PUT", body: "b".repeat(101) }).status, 413);
  const put = runTransfer(r.clock, (done) => tftpPut(r.client, device, "no.txt", Uint8Array.of(1), {}, done));
  t.is((put.error as { code: number }).code, 2, "access violation");
  fw.stop();
  t.not(httpRequest(r.client, r.clock, device, "/hello").error, undefined, "nothing listens after stop");
});

test("config.tcp bounds the stack, and the servers' sessions follow TCP's: HTTP within maxPcbs, FTP half of it, each session with its data connection", (t) => {
  const limits = (tcp?: object) => {
    const r = rig({ ...manifestConfig(), tcp }, { stack: { tcp: { maxListeners: 3, sndbuf: 1000 } } });
    if (!r.fw.ok) throw new Error(r.fw.reason);
    const { stack, ftp, http } = r.fw.value;
    const c = stack.tcp.config;
    return [
      c.maxPcbs,
      c.maxTimeWait,
      c.sndbuf,
      c.wnd,
      c.maxListeners,
      http!.options.maxConnections,
      ftp!.options.maxSessions,
      ftp!.options.maxSessionsPerAddress,
      ftp!.options.maxDataConnections,
    ];
  };
  t.deepEqual(limits({ maxPcbs: 4, maxTimeWait: 2, sndbuf: 2920, wnd: 4380 }), [4, 2, 2920, 4380, 3, 4, 2, 2, 2], "the config over the port's options");
  t.deepEqual(limits(), [8, 8, 1000, 5840, 3, 4, 4, 2, 4], "TCP's defaults, the port's options kept");
  t.deepEqual(limits({ maxPcbs: 2 }).slice(5), [2, 1, 1, 1]);
});

test("a wrong config starts nothing and says which field is wrong", (t) => {
  const r = rig({ ...manifestConfig(), tftp: { root: "tftp", write: "always" } });
  t.false(r.fw.ok);
  t.is(r.fw.ok ? "" : r.fw.reason, 'netstack.tftp.write: expected "none", "create", "overwrite", got "always"');
  r.clock.advance(60_000);
  t.deepEqual([r.sent.length, r.log.length], [0, 0]);
});
