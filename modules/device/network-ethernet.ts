// Ethernet bring-up for boards with the ESP32's internal EMAC (boards/esp32/wt32_eth01 with a
// LAN8720, boards/esp32/ethernet_kit with an IP101), by our own glue, netstack_eth.c: ESP-IDF
// 6.0's generic PHY driver, pins from the board's defines.netstack.eth. The manifests give this
// file the module name of network.ts on those boards.

/// <reference path="./xs-native.d.ts" />
import type { LinkEvents } from "./network-events.ts";

export const IFKEY = "ETH_DEF";

/** Brings up the EMAC, the PHY and the ETH_DEF interface once; onLink(up) follows the cable from then on. */
function start(this: void, onLink: (up: boolean) => void): void {
  native<(onLink: (up: boolean) => void) => void>("xs_netstack_eth_start").call(this, onLink);
}

export function bringUp(events: LinkEvents): void {
  events.log("Ethernet: starting the EMAC and PHY");
  start((up) => (up ? events.up() : events.down()));
}
