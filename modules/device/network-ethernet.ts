// Ethernet bring-up for boards with the ESP32's internal EMAC (boards/esp32/wt32_eth01 with a
// LAN8720, boards/esp32/ethernet_kit with an IP101). The manifests give this file the module
// name of network.ts on those boards. Our glue takes the interface once the link is up.

/// <reference path="./moddable-ethernet.d.ts" />
import Ethernet from "ethernet";
import type { LinkEvents } from "./network-events.ts";

export const IFKEY = "ETH_DEF";

export function bringUp(events: LinkEvents): void {
  events.log("Ethernet: starting the EMAC and PHY");
  Ethernet.start();
  new Ethernet((message) => {
    if (message === Ethernet.connected) events.up();
    else if (message === Ethernet.disconnected) events.down();
  });
}
