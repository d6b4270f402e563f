// An ICMP error about a datagram we sent, as the transports see it (RFC 1122 3.2.2.1 and
// 4.2.3.9): the protocol and the addresses and ports of the datagram it quotes, and whether
// it is hard (nobody will answer: protocol or port unreachable) or soft (it may pass).

import type { Ip4 } from "../wire/address.ts";
import { ICMP_UNREACH_FRAG_NEEDED, ICMP_UNREACH_HOST, ICMP_UNREACH_NET, ICMP_UNREACH_PORT, ICMP_UNREACH_PROTOCOL, type IcmpMessage } from "../wire/icmp.ts";

export type IcmpErrorKind =
  | "net-unreachable"
  | "host-unreachable"
  | "protocol-unreachable"
  | "port-unreachable"
  | "fragmentation-needed"
  | "unreachable" // any other code: source route failed, administratively prohibited...
  | "time-exceeded";

export interface TransportError {
  kind: IcmpErrorKind;
  /** RFC 1122 4.2.3.9's codes 2 and 3: the destination host says nobody will ever answer. */
  hard: boolean;
  /** RFC 1191: the next hop's MTU, with "fragmentation-needed"; 0 if the router did not say. */
  nextHopMtu: number;
  protocol: number;
  localIp: Ip4;
  remoteIp: Ip4;
  localPort: number;
  remotePort: number;
  /** Bytes 4-7 of the quoted transport header: TCP's sequence number. */
  seq: number;
}

const KINDS = new Map<number, IcmpErrorKind>([
  [ICMP_UNREACH_NET, "net-unreachable"],
  [ICMP_UNREACH_HOST, "host-unreachable"],
  [ICMP_UNREACH_PROTOCOL, "protocol-unreachable"],
  [ICMP_UNREACH_PORT, "port-unreachable"],
  [ICMP_UNREACH_FRAG_NEEDED, "fragmentation-needed"],
]);

/** What an ICMP error says about a datagram of ours; undefined if it is no error or quotes too little. */
export function transportError(m: IcmpMessage): TransportError | undefined {
  if (m.kind !== "unreachable" && m.kind !== "time-exceeded") return undefined;
  const q = m.quoted;
  if (q.length < 28 || q[0]! >>> 4 !== 4) return undefined;
  const ihl = (q[0]! & 0xf) * 4;
  if (ihl < 20 || q.length < ihl + 8) return undefined;
  const v = new DataView(q.buffer, q.byteOffset, q.byteLength);
  if ((v.getUint16(6) & 0x1fff) !== 0) return undefined; // a later fragment quotes no ports
  const unreachable = m.kind === "unreachable";
  return {
    kind: unreachable ? (KINDS.get(m.code) ?? "unreachable") : "time-exceeded",
    hard: unreachable && (m.code === ICMP_UNREACH_PROTOCOL || m.code === ICMP_UNREACH_PORT),
    nextHopMtu: unreachable ? m.nextHopMtu : 0,
    protocol: v.getUint8(9),
    localIp: v.getUint32(12),
    remoteIp: v.getUint32(16),
    localPort: v.getUint16(ihl),
    remotePort: v.getUint16(ihl + 2),
    seq: v.getUint32(ihl + 4),
  };
}
