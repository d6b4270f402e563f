// The Link the stack runs on, on the device: frames of one lwIP interface (the Wi-Fi station
// or the Ethernet port), taken over at lwIP's netif level by the C glue in netstack.c.
// Received frames are queued by the driver's task in a bounded ring, never waiting, and
// delivered here on the XS thread; transmitted frames are handed to the interface's
// linkoutput on lwIP's tcpip thread. The glue has one interface at a time: a second LwipLink
// throws until close(), and XS keeps a LwipLink alive until its close().

/// <reference path="./xs-native.d.ts" />
import type { Link } from "../platform.ts";
import type { Mac } from "../wire/address.ts";

/** What the glue counted since it attached. */
export interface LinkCounters {
  /** Frames caught at the netif's input and queued. */
  received: number;
  /** Frames dropped because the receive queue was full. */
  receiveDropped: number;
  /** Queued frames dropped because the XS thread could not be told (Moddable's message queue was full). */
  postFailed: number;
  /** Frames handed to linkoutput. */
  sent: number;
  /** Frames dropped on the way out: no buffer, the tcpip thread's mailbox was full, or the interface stopped. */
  sendDropped: number;
  /** Frames lwIP itself tried to send on the interface (IPv6 neighbour discovery, MLD...), dropped. */
  lwipDropped: number;
  /** Frames waiting in the receive queue now. */
  queued: number;
  /** Whether the glue holds the interface's netif now (false before it starts and while it is stopped). */
  attached: boolean;
}

// xsc turns each method below into the host function itself ("native optimization"): the body
// must be nothing but native("...").call(this, ...the parameters).
class NativeLink extends Native("xs_netstack_link_destructor") {
  constructor(ifkey: string) {
    super();
    native<(ifkey: string) => void>("xs_netstack_link").call(this, ifkey);
  }

  transmit(frame: Uint8Array): void {
    native<(frame: Uint8Array) => void>("xs_netstack_link_transmit").call(this, frame);
  }

  /** Each frame comes in an ArrayBuffer of its own: the stack may keep views of it. */
  protected receive(deliver: (buffer: ArrayBuffer) => void): void {
    native<(deliver: (buffer: ArrayBuffer) => void) => void>("xs_netstack_link_receive").call(this, deliver);
  }

  protected macBuffer(): ArrayBuffer {
    return native<() => ArrayBuffer>("xs_netstack_link_mac").call(this);
  }

  protected counterValues(): number[] {
    return native<() => number[]>("xs_netstack_link_counters").call(this);
  }

  /** Gives the interface back to lwIP (its own input and output again) and frees what is queued. */
  close(): void {
    native<() => void>("xs_netstack_link_close").call(this);
  }
}

/**
 * `new LwipLink(ifkey)` claims the esp_netif with this key ("WIFI_STA_DEF", "ETH_DEF"): stops
 * ESP-IDF's DHCP client on it and takes its lwIP netif, now or as soon as the interface starts
 * (again). Throws if the interface does not exist or the glue is attached already. The receive
 * queue's bound is the board's defines.netstack.queue.
 */
export class LwipLink extends NativeLink implements Link {
  setReceiver(receiver: (frame: Uint8Array) => void): void {
    this.receive((buffer) => receiver(new Uint8Array(buffer)));
  }

  /** The interface's hardware address; throws until the interface has started. */
  get mac(): Mac {
    return new Uint8Array(this.macBuffer());
  }

  get counters(): LinkCounters {
    const [received, receiveDropped, postFailed, sent, sendDropped, lwipDropped, queued, attached] = this.counterValues();
    return {
      received: received!,
      receiveDropped: receiveDropped!,
      postFailed: postFailed!,
      sent: sent!,
      sendDropped: sendDropped!,
      lwipDropped: lwipDropped!,
      queued: queued!,
      attached: attached === 1,
    };
  }
}
