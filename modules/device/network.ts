// Wi-Fi bring-up for the station interface (boards/esp32). The SSID and password come from
// mcconfig's command line (ssid=... password=...), as in every Moddable app. Our glue takes
// the interface once it is associated; ESP-IDF's DHCP client is stopped there, so the
// "gotIP" Moddable would wait for never comes: our DHCP client gets the address.

import WiFi from "wifi";
import config from "mc/config";
import type { LinkEvents } from "./network-events.ts";

export const IFKEY = "WIFI_STA_DEF";

export function bringUp(events: LinkEvents): void {
  const ssid = config.ssid as string | undefined;
  if (!ssid) throw new Error("no Wi-Fi SSID: build with mcconfig ... ssid=NAME password=SECRET");
  const options = { ssid, password: config.password as string | undefined };
  events.log(`Wi-Fi: joining "${ssid}"`);
  new WiFi(options, (message) => {
    if (message === WiFi.connected) events.up();
    else if (message === WiFi.disconnected) {
      events.down();
      WiFi.connect(options); // keep trying, as Moddable's examples do
    }
  });
}
