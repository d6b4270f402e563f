// ICMP: echo replies for any size that fits the MTU, and rate-limited destination
// unreachable errors. ICMP errors are never sent about ICMP errors, broadcasts or
// fragments other than the first (RFC 1122 3.2.2).

import {
  encodeIcmp,
  icmpCheck,
  icmpLength,
  isIcmpError,
  readIcmp,
  type IcmpMessage,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_UNREACH_PROTOCOL,
} from "../wire/icmp.ts";
import { copyAfterHeadroom } from "../wire/bytes.ts";
import { updateChecksum } from "../wire/checksum.ts";
import type { Ip4 } from "../wire/address.ts";
import { IP_PROTO_ICMP } from "../wire/ipv4.ts";
import { type Datagram, type Ipv4, HEADROOM, quote } from "./ipv4.ts";

export interface IcmpOptions {
  /** Token bucket rate for the errors we send, messages per second. */
  errorsPerSecond: number;
  /** Token bucket depth: errors sent back to back, count. */
  errorBurst: number;
}

export const ICMP_DEFAULTS: IcmpOptions = { errorsPerSecond: 10, errorBurst: 10 };

export class Icmp {
  private readonly options: IcmpOptions;
  private tokens: number;
  private refilled: number;
  /** Non-echo messages (errors quoting our datagrams) go here, for transports that care. */
  onError: ((src: Ip4, message: IcmpMessage) => void) | undefined;
  /** Echo replies to our own pings. */
  onEchoReply: ((src: Ip4, id: number, seq: number, data: Uint8Array) => void) | undefined;

  constructor(
    private readonly ip: Ipv4,
    options: Partial<IcmpOptions> = {},
  ) {
    this.options = { ...ICMP_DEFAULTS, ...options };
    this.tokens = this.options.errorBurst;
    this.refilled = ip.netif.clock.now();
    ip.register(IP_PROTO_ICMP, (d) => this.input(d));
    ip.onUnhandled = (d) => this.unreachable(d, ICMP_UNREACH_PROTOCOL);
  }

  /** Sends destination-unreachable about datagram `d`, unless the rules or the rate limit forbid it. */
  unreachable(d: Datagram, code: number): void {
    const stats = this.ip.netif.stats;
    if (d.broadcast || d.src === 0 || this.isError(d)) return;
    if (!this.takeToken()) return stats.drop("icmp-rate-limited");
    this.send(d.src, { kind: "unreachable", code, nextHopMtu: 0, quoted: quote(d) });
    stats.count("icmp.unreachable");
  }

  /** Sends an echo request (a ping); the answer arrives at onEchoReply. */
  echo(dst: Ip4, id: number, seq: number, data: Uint8Array): boolean {
    return this.send(dst, { kind: "echo-request", code: 0, id, seq, data });
  }

  private input(d: Datagram): void {
    const stats = this.ip.netif.stats;
    const bad = icmpCheck(d.payload);
    if (bad) return stats.drop(bad);
    stats.count("icmp.rx");
    if (d.payload[0] === ICMP_ECHO_REQUEST) {
      // Answering a broadcast ping invites amplification; RFC 1122 lets us stay silent.
      if (d.broadcast) return stats.drop("icmp-broadcast-echo");
      this.echoReply(d.src, d.payload);
      return stats.count("icmp.echo");
    }
    const m = readIcmp(d.payload);
    if (m.kind === "echo-reply") {
      this.onEchoReply?.(d.src, m.id, m.seq, m.data);
    } else {
      this.onError?.(d.src, m);
    }
  }

  /**
   * The request itself, copied once, as its reply: the type changes, so does the checksum
   * (RFC 1624), and the lower layers write their headers over whatever lies before it.
   */
  private echoReply(dst: Ip4, request: Uint8Array): void {
    const frame = copyAfterHeadroom(request, HEADROOM);
    const code = request[1]!;
    const sum = updateChecksum((request[2]! << 8) | request[3]!, (ICMP_ECHO_REQUEST << 8) | code, (ICMP_ECHO_REPLY << 8) | code);
    frame[HEADROOM] = ICMP_ECHO_REPLY;
    frame[HEADROOM + 2] = sum >>> 8;
    frame[HEADROOM + 3] = sum & 0xff;
    this.ip.output(frame, dst, IP_PROTO_ICMP);
  }

  private isError(d: Datagram): boolean {
    return d.protocol === IP_PROTO_ICMP && isIcmpError(d.payload[0] ?? 0);
  }

  private send(dst: Ip4, m: IcmpMessage): boolean {
    const frame = new Uint8Array(HEADROOM + icmpLength(m));
    encodeIcmp(m, frame, HEADROOM);
    return this.ip.output(frame, dst, IP_PROTO_ICMP);
  }

  private takeToken(): boolean {
    const now = this.ip.netif.clock.now();
    const o = this.options;
    this.tokens = Math.min(o.errorBurst, this.tokens + ((now - this.refilled) * o.errorsPerSecond) / 1000);
    this.refilled = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
