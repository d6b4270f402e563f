// The device's random source: the ESP32's hardware RNG (esp_random), whose entropy comes from
// RF noise while Wi-Fi or Bluetooth runs and from the bootloader's SAR ADC seeding before. TCP
// ISNs, DHCP xids, DNS ids and ephemeral ports all come from here, so none can be predicted.

/// <reference path="./xs-native.d.ts" />
import type { Random } from "../platform.ts";

function u32(this: unknown): number {
  return native<() => number>("xs_netstack_random32").call(this);
}

export const hardwareRandom: Random = { u32 };
