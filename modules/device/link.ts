// The Link the stack runs on, on the device: frames of one lwIP interface (the Wi-Fi station
// or the Ethernet port), taken over at lwIP's netif level by the C glue in netstack.c.
// Received frames are queued by the driver's task, with a bound, and delivered here on the
// XS thread; transmitted frames are handed to the interface's linkoutput on lwIP's tcpip
// thread. The glue has one interface at a time: a second LwipLink throws until close().

/// <reference path="./xs-native.d.ts" />
import type { Link } from "../platform.ts";
import type { Mac } from "../wire/address.ts";

/** What the glue counted since it attached. */
export interface LinkCounters {
  /** Frames caught at the netif's input and queued. */
  received: number;
  /** Frames dropped because the receive queue was full (or a frame could not be copied). */
  receiveDropped: number;
  /** Frames handed to linkoutput. */
  sent: number;
  /** Frames dropped on the way out: no buffer, or the tcpip thread's mailbox was full. */
  sendDropped: number;
  /** Frames waiting in the receive queue now. */
  queued: number;
}

export class LwipLink extends Native("xs_netstack_link_destructor") implements Link {
  /**
   * Attaches to the lwIP interface of an esp_netif, by its key ("WIFI_STA_DEF", "ETH_DEF"):
   * stops ESP-IDF's DHCP client on it and takes its frames. Throws if the interface does not
   * exist or the glue is attached already. The receive queue's bound is the board's
   * defines.netstack.queue.
   */
  constructor(ifkey: string) {
    super();
    native<(ifkey: string) => void>("xs_netstack_link").call(this, ifkey);
  }

  transmit(frame: Uint8Array): void {
    native<(frame: Uint8Array) => void>("xs_netstack_link_transmit").call(this, frame);
  }

  setReceiver(receiver: (frame: Uint8Array) => void): void {
    // The glue hands over each frame as an ArrayBuffer of its own: the stack may keep views of it.
    native<(deliver: (buffer: ArrayBuffer) => void) => void>("xs_netstack_link_receive").call(this, (buffer) => receiver(new Uint8Array(buffer)));
  }

  /** The interface's hardware address. */
  get mac(): Mac {
    return new Uint8Array(native<() => ArrayBuffer>("xs_netstack_link_mac").call(this));
  }

  get counters(): LinkCounters {
    const [received, receiveDropped, sent, sendDropped, queued] = native<() => number[]>("xs_netstack_link_counters").call(this);
    return { received: received!, receiveDropped: receiveDropped!, sent: sent!, sendDropped: sendDropped!, queued: queued! };
  }

  /** Gives the interface back to lwIP (its own input again) and frees what is queued. */
  close(): void {
    native<() => void>("xs_netstack_link_close").call(this);
  }
}
