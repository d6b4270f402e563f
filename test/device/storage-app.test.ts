// The README's walk-through on each file system: the firmware core with the ESP32 app's own
// config, its files in FileStorage over a stand-in of Moddable's LittleFS or SPIFFS module
// (empty, as a freshly flashed partition is), then what `lftp put … -o www/index.html; ls www`,
// `curl` and `tftp put` do. Without the SPIFFS volume, the same boot cannot make its roots.

import test from "ava";
import { VirtualClock } from "../../host-sim/clock.ts";
import { VirtualLan } from "../../host-sim/lan.ts";
import { SeededRandom } from "../../host-sim/random.ts";
import { DEVICE_MAC, manifestConfig } from "../../host-sim/firmware.ts";
import { httpRequest } from "../../host-sim/clients/http-client.ts";
import { runTransfer, tftpPut } from "../../host-sim/clients/tftp-client.ts";
import { FtpClient } from "../../host-sim/clients/ftp-client.ts";
import { FileStorage } from "../../modules/device/storage.ts";
import { FileStorage as SpiffsStorage } from "../../modules/device/storage-spiffs.ts";
import { startFirmware } from "../../modules/firmware/firmware.ts";
import type { Storage } from "../../modules/storage/storage.ts";
import { createStack } from "../../modules/stack/stack.ts";
import { parseIp, parseMac } from "../../modules/wire/address.ts";
import { readAll } from "../support/storage.ts";
import { littlefs, spiffs } from "./moddable-file.ts";

const ip = (s: string) => parseIp(s)!;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const DEVICE = ip("10.0.0.2");

function boot(storage: Storage) {
  const clock = new VirtualClock();
  const lan = new VirtualLan(clock);
  const client = createStack(lan.attach("client"), clock, new SeededRandom(3), {
    mac: parseMac("02:00:00:00:00:09")!,
    ip: ip("10.0.0.9"),
    mask: ip("255.255.255.0"),
    gateway: 0,
  });
  const log: string[] = [];
  const fw = startFirmware(
    { link: lan.attach("device"), mac: DEVICE_MAC, clock, random: new SeededRandom(1), storage, log: (l) => log.push(l) },
    { ...manifestConfig(), address: "10.0.0.2/24,10.0.0.1" },
  );
  if (!fw.ok) throw new Error(fw.reason);
  return { clock, client, log };
}

for (const sys of [
  { name: "LittleFS", storage: () => new FileStorage(littlefs(), "/") },
  { name: "SPIFFS", storage: () => new SpiffsStorage(spiffs(), "/mod/") },
]) {
  test(`${sys.name}: the roots are made at boot, lftp puts www/index.html and lists www, curl gets it, tftp puts into /tftp`, (t) => {
    const storage = sys.storage();
    const r = boot(storage);
    t.false(
      r.log.some((l) => l.startsWith("cannot create")),
      r.log.join("\n"),
    );
    const page = enc("<h1>netstack</h1>\n");
    const ftp = new FtpClient(r.client, r.clock, DEVICE);
    t.is(ftp.login("esp", "esp32").code, 230);
    ftp.cmd("TYPE I");
    t.is(ftp.stor("www/index.html", page).final?.code, 226);
    const ls = ftp.list("LIST", "www");
    t.is(ls.final?.code, 226);
    t.is(ls.lines.length, 1);
    t.regex(ls.lines[0] ?? "", / index\.html$/);
    t.deepEqual(dec(readAll(storage, "www/index.html")), dec(page));

    const got = httpRequest(r.client, r.clock, DEVICE, "/index.html");
    t.deepEqual([got.status, got.text], [200, dec(page)]);

    const put = runTransfer(r.clock, (done) => tftpPut(r.client, DEVICE, "notes.txt", enc("notes\n"), {}, done));
    t.is(put.error, undefined);
    t.is(dec(readAll(storage, "tftp/notes.txt")), "notes\n");
  });
}

test("SPIFFS without its volume: boot cannot make the roots, and the upload to www/ fails, as the issue reports", (t) => {
  const fs = spiffs();
  const r = boot(new FileStorage(fs, "/mod/"));
  t.true(r.log.includes("cannot create /tftp: storage-io"), r.log.join("\n"));
  t.true(r.log.includes("cannot create /www: storage-io"));
  const ftp = new FtpClient(r.client, r.clock, DEVICE);
  t.is(ftp.login("esp", "esp32").code, 230);
  ftp.cmd("TYPE I");
  t.not(ftp.stor("www/index.html", enc("x")).first.code, 150);
  t.deepEqual([...(fs.image() as Map<string, Uint8Array>).keys()], []);
});
