// Moddable's `ethernet` module (modules/network/ethernet), which @moddable/typings does not
// declare: start() brings up the board's EMAC and PHY from the manifest's ethernet defines;
// an instance reports the link's events to its callback.

declare module "ethernet" {
  type EthernetMessage = "start" | "connect" | "disconnect" | "gotIP" | "lostIP";
  export default class Ethernet {
    constructor(onNotify?: (message: EthernetMessage) => void);
    close(): void;
    static start(): void;
    static readonly connected: "connect";
    static readonly disconnected: "disconnect";
  }
}
