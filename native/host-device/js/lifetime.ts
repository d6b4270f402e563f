// The host program's lifetime script: what keeps a LwipLink and its receiver alive. The glue
// remembers the link from construction to close() (so XS never collects one that holds the
// interface, and its destructor never meets a remembered receiver), and close() releases both.
// Prints one JSON line and exits.

/// <reference path="./host.d.ts" />
import "./prelude.ts";
import Timer from "./timer.ts";
import { LwipLink } from "../../../modules/device/link.ts";

const collect = native<() => unknown>("host_heap");
const startEthernet = native<(onLink: (up: boolean) => void) => void>("xs_netstack_eth_start");

/** Whether `new LwipLink` succeeds now (closing it again), or the message it throws. */
function claim(): string {
  try {
    new LwipLink("ETH_DEF").close();
    return "claimed";
  } catch (e) {
    return (e as Error).message;
  }
}

/** A link (with a receiver, or none), referenced from nothing but the glue; returns weak references. */
function abandon(withReceiver: boolean): { link: WeakRef<LwipLink>; receiver: WeakRef<object> | undefined } {
  const link = new LwipLink("ETH_DEF");
  const receiver = (_frame: Uint8Array) => {};
  if (withReceiver) link.setReceiver(receiver);
  return { link: new WeakRef(link), receiver: withReceiver ? new WeakRef(receiver) : undefined };
}

function alive(refs: ReturnType<typeof abandon>) {
  return { link: refs.link.deref() !== undefined, receiver: refs.receiver?.deref() !== undefined };
}

/** Abandons a link, then in later jobs (weak references hold their targets until the job ends) collects, closes it, collects again. */
function lifetime(withReceiver: boolean, then: (r: unknown) => void): void {
  const refs = abandon(withReceiver);
  Timer.set(() => {
    collect();
    const beforeClose = { ...alive(refs), claim: claim() };
    refs.link.deref()?.close();
    Timer.set(() => {
      collect();
      then({ beforeClose, afterClose: { ...alive(refs), claim: claim() } });
    });
  });
}

startEthernet(() => {});
lifetime(false, (bare) => {
  lifetime(true, (withReceiver) => {
    trace(`${JSON.stringify({ bare, withReceiver })}\n`);
    __exit(0);
  });
});
