// Moddable's `ethernet` module on the host program: the TAP link is up from the start, so
// start() has nothing to do and a new instance reports "connect" as soon as the script yields.

import Timer from "./timer.ts";

type EthernetMessage = "start" | "connect" | "disconnect" | "gotIP" | "lostIP";

export default class Ethernet {
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";

  constructor(onNotify?: (message: EthernetMessage) => void) {
    if (onNotify) Timer.set(() => onNotify("connect"));
  }

  close(): void {}

  static start(): void {}
}
