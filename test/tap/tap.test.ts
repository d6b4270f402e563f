import test, { type ExecutionContext } from "ava";
import { TapLink } from "../../host-sim/tap.ts";
import { Netns, run } from "../../bench/netns.ts";
import { BROADCAST_MAC, type Mac, ipToString, macEqual, macToString, parseIp, parseMac } from "../../modules/wire/address.ts";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, decodeEthernet, encodeEthernet } from "../../modules/wire/ethernet.ts";
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, type ArpPacket, decodeArp, encodeArp } from "../../modules/wire/arp.ts";

// The Linux kernel is the peer: a TAP moved into a namespace of the test's own, where the kernel
// side is 10.77.0.1/24 and we play 10.77.0.2. Runs as root (CI does).

const KERNEL_IP = parseIp("10.77.0.1")!;
const OUR_IP = parseIp("10.77.0.2")!;
const OUR_MAC = parseMac("02:00:0a:4d:00:02")!;

/** A TAP inside a fresh namespace with its kernel side addressed and up; closed before the namespace goes. */
async function tapInNetns(t: ExecutionContext, name = ""): Promise<{ tap: TapLink; ns: Netns; kernelMac: Mac }> {
  const ns = await Netns.create(t);
  const tap = TapLink.open(name);
  t.teardown(() => tap.close()); // teardowns run last-first, so this closes before the namespace is deleted
  await ns.adopt(tap.name);
  await ns.addAddress(tap.name, `${ipToString(KERNEL_IP)}/24`);
  await ns.up(tap.name);
  return { tap, ns, kernelMac: await ns.mac(tap.name) };
}

/** The first frame `match` maps to a value; rejects if none arrives within `timeoutMs` (a guard, not a timing check). */
function nextFrame<T>(link: TapLink, match: (frame: Uint8Array) => T | undefined, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching frame on ${link.name} within ${timeoutMs} ms`)), timeoutMs);
    link.setReceiver((frame) => {
      const value = match(frame);
      if (value === undefined) return;
      clearTimeout(timer);
      link.setReceiver(() => {});
      resolve(value);
    });
  });
}

/** An ARP frame's Ethernet header and ARP packet, or undefined for any other frame. */
function arpIn(frame: Uint8Array): { dst: Mac; src: Mac; arp: ArpPacket } | undefined {
  const eth = decodeEthernet(frame);
  if (!eth.ok || eth.value.ethertype !== ETHERTYPE_ARP) return undefined;
  const arp = decodeArp(eth.value.payload);
  return arp.ok ? { dst: eth.value.dst, src: eth.value.src, arp: arp.value } : undefined;
}

function arpFrame(dst: Mac, arp: ArpPacket): Uint8Array {
  const payload = new Uint8Array(ARP_LEN);
  encodeArp(arp, payload);
  const frame = new Uint8Array(60); // minimum Ethernet frame, zero padded
  encodeEthernet({ dst, src: arp.senderMac, ethertype: ETHERTYPE_ARP, payload }, frame);
  return frame;
}

test("the kernel's ARP request for 10.77.0.2 arrives through a kernel-named TAP", async (t) => {
  const { tap, ns, kernelMac } = await tapInNetns(t);
  t.regex(tap.name, /^tap\d+$/);
  const request = nextFrame(tap, arpIn);
  const ping = await ns.run("ping", ["-c", "1", "-W", "1", ipToString(OUR_IP)]);
  t.is(ping.code, 1, "nobody answers, so ping reports no reply");

  const { dst, src, arp } = await request;
  t.deepEqual(dst, BROADCAST_MAC);
  t.deepEqual(src, kernelMac);
  t.is(arp.op, ARP_REQUEST);
  t.deepEqual(arp.senderMac, kernelMac);
  t.is(ipToString(arp.senderIp), "10.77.0.1");
  t.is(ipToString(arp.targetIp), "10.77.0.2");
  t.true(tap.stats.rxFrames >= 1);
});

test("our ARP reply puts 10.77.0.2 at our MAC in the kernel's neighbour table, and its echo request follows", async (t) => {
  const name = `mcutap${process.pid % 1_000_000}`;
  const { tap, ns, kernelMac } = await tapInNetns(t, name);
  t.is(tap.name, name);
  const request = nextFrame(tap, arpIn);
  const ping = ns.run("ping", ["-c", "1", "-W", "1", ipToString(OUR_IP)]);
  const { arp } = await request;

  const echo = nextFrame(tap, (frame) => {
    const eth = decodeEthernet(frame);
    return eth.ok && eth.value.ethertype === ETHERTYPE_IPV4 ? eth.value : undefined;
  });
  tap.transmit(arpFrame(kernelMac, { op: ARP_REPLY, senderMac: OUR_MAC, senderIp: OUR_IP, targetMac: arp.senderMac, targetIp: arp.senderIp }));
  t.deepEqual(tap.stats, { rxFrames: tap.stats.rxFrames, txFrames: 1, txDropped: 0, txErrors: 0 });

  const ip = await echo;
  t.true(macEqual(ip.dst, OUR_MAC), `echo request went to ${macToString(ip.dst)}`);
  t.is(ip.payload[9], 1, "an ICMP packet");
  t.is(ip.payload[20], 8, "an echo request");
  await ping;

  const neigh = JSON.parse(await ns.mustRun("ip", ["-j", "neigh", "show", ipToString(OUR_IP), "dev", name])) as { dst: string; lladdr?: string }[];
  t.deepEqual(
    neigh.map((n) => [n.dst, n.lladdr]),
    [[ipToString(OUR_IP), macToString(OUR_MAC)]],
  );
});

test("closing the TAP removes its interface; transmitting afterwards counts an error instead of throwing", async (t) => {
  const { tap, ns } = await tapInNetns(t);
  t.is((await ns.run("ip", ["link", "show", "dev", tap.name])).code, 0);
  tap.close();
  t.true(tap.closed);
  t.not((await ns.run("ip", ["link", "show", "dev", tap.name])).code, 0);
  tap.transmit(new Uint8Array(60));
  t.is(tap.stats.txErrors, 1);
  t.is(tap.stats.lastTxError, "EBADF");
  t.throws(() => tap.setReceiver(() => {}), { message: /closed/ });
});

test("a TAP whose interface is deleted under it reports a read error and closes", async (t) => {
  const { tap, ns } = await tapInNetns(t);
  const failed = new Promise<Error>((resolve) => tap.onError(resolve));
  tap.setReceiver(() => {});
  await ns.delete(); // takes the TAP interface with it
  const error = await failed;
  t.regex(error.message, new RegExp(`TAP device '${tap.name}': read failed`));
  t.true(tap.closed);
});

test("an interface name longer than 15 bytes is refused with a clear error", (t) => {
  t.throws(() => TapLink.open("a-name-far-too-long"), { message: /at most 15 bytes/ });
});

// Runs in a child node process that has lost CAP_NET_ADMIN; prints what opening a TAP did.
const CHILD = `
import { readFileSync } from "node:fs";
const capEff = BigInt("0x" + /CapEff:\\s*([0-9a-f]+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);
const { TapLink } = await import(process.argv[1]);
const netAdmin = (capEff & (1n << 12n)) !== 0n;
try {
  TapLink.open("").close();
  console.log(JSON.stringify({ netAdmin, opened: true }));
} catch (e) {
  console.log(JSON.stringify({ netAdmin, opened: false, code: e.code, message: e.message }));
}
`;

test("without CAP_NET_ADMIN opening fails with a message saying TAP needs root or CAP_NET_ADMIN", async (t) => {
  const tapModule = new URL("../../host-sim/tap.ts", import.meta.url).href;
  const child = await run(
    "setpriv",
    ["--bounding-set=-net_admin", "--inh-caps=-net_admin", "--", process.execPath, "--import=tsx", "--input-type=module", "-e", CHILD, tapModule],
    30_000,
  );
  t.is(child.code, 0, child.stderr);
  const result = JSON.parse(child.stdout) as { netAdmin: boolean; opened: boolean; code?: string; message?: string };
  t.false(result.netAdmin, "the child really lacks CAP_NET_ADMIN");
  t.false(result.opened);
  t.is(result.code, "EPERM");
  t.regex(result.message ?? "", /TAP needs root or CAP_NET_ADMIN/);
});
