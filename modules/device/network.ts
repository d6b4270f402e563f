// Wi-Fi bring-up for the station interface (boards/esp32). The SSID and password come from
// mcconfig's command line (ssid=... password=...), as in every Moddable app. The app claims
// the interface (LwipLink) right after this returns, before the station associates, so
// ESP-IDF's DHCP client never starts: our DHCP client gets the address. After a loss the
// station joins again with a growing wait (reconnect.ts).

import WiFi from "wifi";
import config from "mc/config";
import { TickClock } from "./clock.ts";
import { Reconnect } from "./reconnect.ts";
import type { LinkEvents } from "./network-events.ts";

export const IFKEY = "WIFI_STA_DEF";

export function bringUp(events: LinkEvents): void {
  const ssid = config.ssid as string | undefined;
  if (!ssid) throw new Error("no Wi-Fi SSID: build with mcconfig ... ssid=NAME password=SECRET");
  const options = { ssid, password: config.password as string | undefined };
  const retry = new Reconnect(new TickClock(), () => WiFi.connect(options));
  events.log(`Wi-Fi: joining "${ssid}"`);
  new WiFi(options, (message) => {
    if (message === WiFi.connected) {
      retry.connected();
      events.up();
    } else if (message === WiFi.disconnected) {
      events.down();
      events.log(`Wi-Fi: joining again in ${retry.lost() / 1000} s`);
    }
  });
}
