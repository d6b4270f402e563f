// The firmware on the ESP32: brings up the board's interface (Wi-Fi or Ethernet, network.ts),
// claims it with the lwIP glue before it associates or links, and at the first link-up hands
// it, with the board's clock, random source and files, to the firmware core
// (firmware/firmware.ts), which runs our DHCP client and starts the configured servers. Later
// link changes go to the firmware, whose DHCP client asks again for its lease (INIT-REBOOT). Everything it is told comes from mc/config: the manifest's "config"
// section and mcconfig's command line. It logs through trace(), which mcconfig -d shows on the
// serial console (and xsbug).

import config from "mc/config";
import { File, Iterator, Directory, System } from "file";
import { LwipLink } from "./link.ts";
import { TickClock } from "./clock.ts";
import { hardwareRandom } from "./random.ts";
import { FileStorage, type FileModule } from "./storage.ts";
import { bringUp, IFKEY } from "./network.ts";
import { startFirmware, type Firmware } from "../firmware/firmware.ts";
import { macToString } from "../wire/address.ts";

const files: FileModule = { File, Iterator, Directory, System };

function log(text: string): void {
  trace(`netstack: ${text}\n`);
}

let firmware: Firmware | undefined;

function linkUp(): void {
  if (firmware) {
    log("link up again");
    return firmware.linkChanged(true);
  }
  log(`took ${IFKEY}, MAC ${macToString(link.mac)}`);
  const started = startFirmware(
    { link, mac: link.mac, clock: new TickClock(), random: hardwareRandom, storage: new FileStorage(files, config.file.root), log },
    config.netstack,
    {
      routes: [
        {
          method: "GET",
          path: "/link",
          handler: (_req, res) => {
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify(link.counters));
          },
        },
      ],
    },
  );
  if (started.ok) firmware = started.value;
  else log(`config.${started.reason}`);
}

function linkDown(): void {
  log("link down");
  firmware?.linkChanged(false);
}

bringUp({ up: linkUp, down: linkDown, log });
const link = new LwipLink(IFKEY);
