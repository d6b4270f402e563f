// ICMP for IPv4 (RFC 792). Echo, destination unreachable and time exceeded get their
// own fields; every other type is kept generic so the stack can count and drop it.
// The checksum covers the whole message.

import { checksum } from "./checksum.ts";
import { type Result, ok, fail } from "./result.ts";

/** Why a decoder refused the bytes; the reason a dropped frame is counted under. */
export type IcmpDecodeError = "icmp-short" | "icmp-bad-checksum";

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;

const ERROR_TYPES: ReadonlySet<number> = new Set([ICMP_DEST_UNREACHABLE, ICMP_SOURCE_QUENCH, ICMP_REDIRECT, ICMP_TIME_EXCEEDED, ICMP_PARAMETER_PROBLEM]);

/** Whether an ICMP type is an error message, which must never be answered by another (RFC 1122 3.2.2). */
export function isIcmpError(type: number): boolean {
  return ERROR_TYPES.has(type);
}

// Destination unreachable codes the stack sends or reacts to.
export const ICMP_UNREACH_NET = 0;
export const ICMP_UNREACH_HOST = 1;
export const ICMP_UNREACH_PROTOCOL = 2;
export const ICMP_UNREACH_PORT = 3;
export const ICMP_UNREACH_FRAG_NEEDED = 4; // RFC 1191: carries the next-hop MTU

export const ICMP_HEADER_LEN = 8;

export type IcmpMessage =
  | { kind: "echo-request" | "echo-reply"; code: number; id: number; seq: number; data: Uint8Array }
  /** `quoted` holds the offending datagram's IP header and at least 8 bytes of its payload. */
  | { kind: "unreachable"; code: number; nextHopMtu: number; quoted: Uint8Array }
  | { kind: "time-exceeded"; code: number; quoted: Uint8Array }
  /** Any type other than 0, 3, 8 and 11; `rest` is bytes 4..7 of the header. */
  | { kind: "other"; type: number; code: number; rest: Uint8Array; body: Uint8Array };

/** A decoded message also reports the checksum it carried (already verified). */
export type IcmpDecoded = IcmpMessage & { checksum: number };

export function decodeIcmp(b: Uint8Array): Result<IcmpDecoded, IcmpDecodeError> {
  const bad = icmpCheck(b);
  return bad ? fail(bad) : ok(readIcmp(b));
}

/** Why message `b` is bad (too short for a header, or a wrong checksum), or undefined. */
export function icmpCheck(b: Uint8Array): "icmp-short" | "icmp-bad-checksum" | undefined {
  if (b.length < ICMP_HEADER_LEN) return "icmp-short";
  if (checksum(b) !== 0) return "icmp-bad-checksum";
  return undefined;
}

/** decodeIcmp of a message icmpCheck has passed. */
export function readIcmp(b: Uint8Array): IcmpDecoded {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = v.getUint8(0);
  const code = v.getUint8(1);
  const sum = v.getUint16(2);
  const body = b.subarray(ICMP_HEADER_LEN);
  switch (type) {
    case ICMP_ECHO_REQUEST:
    case ICMP_ECHO_REPLY: {
      const kind = type === ICMP_ECHO_REQUEST ? "echo-request" : "echo-reply";
      return { kind, code, id: v.getUint16(4), seq: v.getUint16(6), data: body, checksum: sum };
    }
    case ICMP_DEST_UNREACHABLE:
      // Bytes 4-5 are unused; 6-7 hold the MTU for code 4 and are zero otherwise.
      return { kind: "unreachable", code, nextHopMtu: v.getUint16(6), quoted: body, checksum: sum };
    case ICMP_TIME_EXCEEDED:
      return { kind: "time-exceeded", code, quoted: body, checksum: sum };
    default:
      return { kind: "other", type, code, rest: b.subarray(4, ICMP_HEADER_LEN), body, checksum: sum };
  }
}

function bodyOf(m: IcmpMessage): Uint8Array {
  switch (m.kind) {
    case "echo-request":
    case "echo-reply":
      return m.data;
    case "unreachable":
    case "time-exceeded":
      return m.quoted;
    case "other":
      return m.body;
  }
}

export function icmpLength(m: IcmpMessage): number {
  return ICMP_HEADER_LEN + bodyOf(m).length;
}

/** Writes the message at `off` with its checksum; returns the number of bytes written. */
export function encodeIcmp(m: IcmpMessage, buf: Uint8Array, off = 0): number {
  const body = bodyOf(m);
  const end = off + ICMP_HEADER_LEN + body.length;
  buf.set(body, off + ICMP_HEADER_LEN);
  const v = new DataView(buf.buffer, buf.byteOffset + off, ICMP_HEADER_LEN);
  v.setUint8(1, m.code);
  v.setUint16(2, 0);
  v.setUint32(4, 0);
  switch (m.kind) {
    case "echo-request":
    case "echo-reply":
      v.setUint8(0, m.kind === "echo-request" ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY);
      v.setUint16(4, m.id);
      v.setUint16(6, m.seq);
      break;
    case "unreachable":
      v.setUint8(0, ICMP_DEST_UNREACHABLE);
      v.setUint16(6, m.nextHopMtu);
      break;
    case "time-exceeded":
      v.setUint8(0, ICMP_TIME_EXCEEDED);
      break;
    case "other":
      v.setUint8(0, m.type);
      buf.set(m.rest.subarray(0, 4), off + 4);
      break;
  }
  v.setUint16(2, checksum(buf, off, end));
  return end - off;
}
