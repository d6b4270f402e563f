// Operations whose cost on XS, in computrons per call, bench (npm run bench) prints and
// test/xs/xs.test.ts logs. Each runs its operation n times on inputs built once here,
// so the harness can subtract the fixed cost of a call (n = 0) from the cost of n calls.
// Portable: bundled for XS.

import { SeededRandom } from "../host-sim/random.ts";
import { checksum } from "../modules/wire/checksum.ts";
import { decodeEthernet, encodeEthernet, ETHERTYPE_IPV4 } from "../modules/wire/ethernet.ts";
import { decodeIpv4, encodeIpv4, IP_PROTO_UDP } from "../modules/wire/ipv4.ts";
import { ACK, PSH, decodeTcp, encodeTcp } from "../modules/wire/tcp.ts";
import { decodeUdp, encodeUdp } from "../modules/wire/udp.ts";

const rng = new SeededRandom(7);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.int(256));
const [src, dst] = [0xc0a80002, 0xc0a80001];
const payload1460 = bytes(1460);

// A full-size Ethernet frame holding an IPv4 packet holding a UDP datagram.
const datagram = { srcPort: 5000, dstPort: 69, payload: bytes(1472) };
const packet = {
  dscp: 0,
  ecn: 0,
  id: 1,
  df: true,
  mf: false,
  fragmentOffsetBytes: 0,
  ttl: 64,
  protocol: IP_PROTO_UDP,
  src,
  dst,
  options: new Uint8Array(0),
  payload: new Uint8Array(1480),
};
encodeUdp(datagram, src, dst, packet.payload);
const frame = new Uint8Array(1514);
encodeEthernet({ dst: bytes(6), src: bytes(6), ethertype: ETHERTYPE_IPV4, payload: new Uint8Array(1500) }, frame);
encodeIpv4(packet, frame, 14);
const out = new Uint8Array(1514);

const segment = {
  srcPort: 80,
  dstPort: 40000,
  seq: 1,
  ack: 2,
  flags: ACK | PSH,
  window: 5840,
  urgent: 0,
  options: { timestamp: { tsval: 1, tsecr: 2 } },
  payload: bytes(1448),
};
const tcpBytes = new Uint8Array(1480);
encodeTcp(segment, src, dst, tcpBytes);

function repeat(op: () => unknown): (n: number) => void {
  return (n) => {
    for (let i = 0; i < n; i++) op();
  };
}

export const ops: Record<string, (n: number) => void> = {
  "empty call (overhead)": repeat(() => 0),
  "checksum over 1460 B": repeat(() => checksum(payload1460)),
  "ethernet decode, 1514 B frame": repeat(() => decodeEthernet(frame)),
  "ethernet encode, 1500 B payload": repeat(() =>
    encodeEthernet({ dst: frame.subarray(0, 6), src: frame.subarray(6, 12), ethertype: ETHERTYPE_IPV4, payload: frame.subarray(14) }, out),
  ),
  "ipv4 decode, 1500 B packet": repeat(() => decodeIpv4(frame.subarray(14))),
  "ipv4 encode, 1480 B payload": repeat(() => encodeIpv4(packet, frame, 14)),
  "udp decode + checksum, 1472 B payload": repeat(() => decodeUdp(packet.payload, src, dst)),
  "udp encode + checksum, 1472 B payload": repeat(() => encodeUdp(datagram, src, dst, packet.payload)),
  "tcp decode + checksum, 1448 B payload, timestamps": repeat(() => decodeTcp(tcpBytes, src, dst)),
  "tcp encode + checksum, 1448 B payload, timestamps": repeat(() => encodeTcp(segment, src, dst, tcpBytes)),
};
