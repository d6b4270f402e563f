// UDP pcbs with lwIP's raw-API shape: bind, recv, sendTo, close. A datagram for a
// port nobody has bound is answered with ICMP port unreachable.

import type { Ip4 } from "../wire/address.ts";
import { fail, ok } from "../wire/result.ts";
import { decodeUdp, encodeUdp, UDP_HEADER_LEN } from "../wire/udp.ts";
import { ICMP_UNREACH_PORT } from "../wire/icmp.ts";
import { IP_PROTO_UDP } from "../wire/ipv4.ts";
import { type Datagram, type Ipv4, HEADROOM } from "./ipv4.ts";
import type { Icmp } from "./icmp.ts";
import type { IcmpErrorKind, TransportError } from "./transport-error.ts";
import { ephemeralPort, type OpenResult, validPort } from "./ports.ts";

export type UdpRecv = (data: Uint8Array, from: Ip4, fromPort: number, to: Ip4) => void;
/** An ICMP error about a datagram this pcb sent to `to`:`toPort`. */
export type UdpError = (kind: IcmpErrorKind, to: Ip4, toPort: number) => void;

export class UdpPcb {
  port = 0;
  private receiver: UdpRecv | undefined;
  private errorCb: UdpError | undefined;

  constructor(private readonly udp: Udp) {}

  /** Binds to `port`, or to a random ephemeral port when 0. */
  bind(port = 0): OpenResult<number> {
    return this.udp.bindPcb(this, port);
  }

  recv(cb: UdpRecv): void {
    this.receiver = cb;
  }

  /** Called with the ICMP errors about what this pcb sent (RFC 1122 4.1.3.3): port unreachable... */
  error(cb: UdpError): void {
    this.errorCb = cb;
  }

  /** Sends one datagram; binds an ephemeral port first if needed. Returns false if it could not be sent. */
  sendTo(data: Uint8Array, addr: Ip4, port: number, src?: Ip4): boolean {
    if (this.port === 0 && !this.bind(0).ok) return false;
    return this.udp.send(this.port, data, addr, port, src);
  }

  close(): void {
    this.udp.unbind(this);
    this.receiver = undefined;
    this.errorCb = undefined;
  }

  /** @internal an ICMP error from the UDP layer */
  errored(kind: IcmpErrorKind, to: Ip4, toPort: number): void {
    this.errorCb?.(kind, to, toPort);
  }

  /** @internal delivery from the UDP layer */
  deliver(data: Uint8Array, from: Ip4, fromPort: number, to: Ip4): void {
    this.receiver?.(data, from, fromPort, to);
  }
}

export interface UdpOptions {
  /** Bound pcbs at once, count (services' sockets and transfers included); one more bind fails with no-pcb. */
  maxPcbs: number;
}

export const UDP_DEFAULTS: UdpOptions = { maxPcbs: 16 };

export class Udp {
  private readonly pcbs = new Map<number, UdpPcb>();
  private readonly options: UdpOptions;

  constructor(
    private readonly ip: Ipv4,
    private readonly icmp: Icmp,
    options: Partial<UdpOptions> = {},
  ) {
    this.options = { ...UDP_DEFAULTS, ...options };
    ip.register(IP_PROTO_UDP, (d) => this.input(d));
  }

  pcb(): UdpPcb {
    return new UdpPcb(this);
  }

  /** @internal */
  bindPcb(pcb: UdpPcb, port: number): OpenResult<number> {
    if (port !== 0 && !validPort(port)) return fail("bad-port");
    if (this.pcbs.size >= this.options.maxPcbs && pcb.port === 0) return fail("no-pcb");
    const chosen = port || this.ephemeral();
    if (chosen === 0 || this.pcbs.has(chosen)) return fail("port-in-use");
    this.unbind(pcb);
    pcb.port = chosen;
    this.pcbs.set(chosen, pcb);
    return ok(chosen);
  }

  /** @internal */
  unbind(pcb: UdpPcb): void {
    if (this.pcbs.get(pcb.port) === pcb) this.pcbs.delete(pcb.port);
    pcb.port = 0;
  }

  /** @internal */
  send(srcPort: number, data: Uint8Array, dst: Ip4, dstPort: number, src?: Ip4): boolean {
    const from = src ?? this.ip.netif.ip;
    const frame = new Uint8Array(HEADROOM + UDP_HEADER_LEN + data.length);
    encodeUdp({ srcPort, dstPort, payload: data }, from, dst, frame, HEADROOM);
    this.ip.netif.stats.count("udp.tx");
    return this.ip.output(frame, dst, IP_PROTO_UDP, { src: from });
  }

  /** @internal an ICMP error about a datagram we sent */
  icmpError(e: TransportError): void {
    const pcb = this.pcbs.get(e.localPort);
    if (!pcb) return this.ip.netif.stats.drop("udp-icmp-no-pcb");
    this.ip.netif.stats.count("udp.icmp-errors");
    pcb.errored(e.kind, e.remoteIp, e.remotePort);
  }

  private input(d: Datagram): void {
    const stats = this.ip.netif.stats;
    const r = decodeUdp(d.payload, d.src, d.dst);
    if (!r.ok) return stats.drop(r.reason);
    const u = r.value;
    stats.count("udp.rx");
    const pcb = this.pcbs.get(u.dstPort);
    if (!pcb) {
      stats.drop("udp-no-listener");
      return this.icmp.unreachable(d, ICMP_UNREACH_PORT);
    }
    pcb.deliver(u.payload, d.src, u.srcPort, d.dst);
  }

  private ephemeral(): number {
    return ephemeralPort(this.ip.netif.random, (port) => this.pcbs.has(port));
  }
}
