// A small authoritative DNS server for the simulator's virtual LAN, on a stack's own UDP
// and TCP pcbs at port 53. It answers from a list of records, follows CNAMEs among them
// (or stops at the first, if told to), sends NXDOMAIN and NODATA with an optional SOA for
// negative caching, and truncates UDP answers over 512 bytes with TC set as RFC 1035 asks;
// over TCP (length-prefixed, RFC 7766, several queries per connection) it answers whole.
// Tests can make it silent, failing or slow, and watch or act on each query as it arrives.

import type { Stack } from "../../modules/stack/stack.ts";
import type { UdpPcb } from "../../modules/stack/udp.ts";
import type { TcpListener, TcpPcb } from "../../modules/stack/tcp.ts";
import { DnsStreamReader, dnsTcpFrame } from "../../modules/services/dns-resolver.ts";
import type { Ip4 } from "../../modules/wire/address.ts";
import {
  type DnsMessage,
  type DnsQuestion,
  type DnsRecord,
  DNS_OPCODE_QUERY,
  DNS_PORT,
  DNS_RCODE_FORMERR,
  DNS_RCODE_NXDOMAIN,
  DNS_RCODE_REFUSED,
  DNS_RCODE_SERVFAIL,
  decodeDns,
  dnsLength,
  dnsNameEqual,
  encodeDns,
} from "../../modules/wire/dns.ts";

const RCODE_NOTIMP = 4;

export type DnsServerMode = "answer" | "silent" | "servfail" | "refused";

export interface DnsServerOptions {
  records: DnsRecord[];
  /** Sent in the authority section of NXDOMAIN and NODATA answers; without it they carry none. */
  soa?: DnsRecord;
  /** Follow CNAMEs to their targets within the records (default), or answer with the first CNAME only. */
  chase?: boolean;
  /** Largest UDP answer in bytes; a longer one loses records from its end and gets TC. Default 512. */
  udpLimit?: number;
  /** Listen on TCP port 53 too. Default true. */
  tcp?: boolean;
}

export interface DnsServerQuery {
  msg: DnsMessage;
  from: Ip4;
  port: number;
  tcp: boolean;
}

export class DnsServer {
  records: DnsRecord[];
  soa: DnsRecord | undefined;
  chase: boolean;
  udpLimit: number;
  mode: DnsServerMode = "answer";
  /** Answers leave this many ms after the query arrived. */
  delayMs = 0;
  /** Every query received, in order. */
  readonly queries: DnsServerQuery[] = [];
  /** Called with each query before it is answered. */
  onQuery: ((q: DnsServerQuery) => void) | undefined;
  private readonly pcb: UdpPcb;
  private readonly listener: TcpListener | undefined;

  constructor(
    private readonly stack: Stack,
    options: DnsServerOptions,
  ) {
    this.records = options.records;
    this.soa = options.soa;
    this.chase = options.chase ?? true;
    this.udpLimit = options.udpLimit ?? 512;
    this.pcb = stack.udp.pcb();
    if (!this.pcb.bind(DNS_PORT).ok) throw new Error("dns-server: port 53 is taken");
    this.pcb.recv((data, from, port) => this.receiveUdp(data, from, port));
    if (options.tcp ?? true) {
      const l = stack.tcp.listen(DNS_PORT);
      if (!l.ok) throw new Error("dns-server: TCP port 53 is taken");
      this.listener = l.value;
      this.listener.accept((pcb) => this.serveTcp(pcb));
    }
  }

  close(): void {
    this.pcb.close();
    this.listener?.close();
  }

  /** The reply to `query`, whole (before any truncation), or undefined to stay silent. */
  reply(query: DnsMessage): DnsMessage | undefined {
    if (query.qr || this.mode === "silent") return undefined;
    const r: DnsMessage = { ...query, qr: true, aa: true, ra: false, ad: false, tc: false, rcode: 0, answers: [], authorities: [], additionals: [] };
    const q = query.questions[0];
    if (query.opcode !== DNS_OPCODE_QUERY) r.rcode = RCODE_NOTIMP;
    else if (query.questions.length !== 1 || !q) r.rcode = DNS_RCODE_FORMERR;
    else if (this.mode === "servfail") r.rcode = DNS_RCODE_SERVFAIL;
    else if (this.mode === "refused") r.rcode = DNS_RCODE_REFUSED;
    else this.lookUp(q, r);
    return r;
  }

  /** Fills in answers for `q`; a chain that ends without the asked type is a negative answer. */
  private lookUp(q: DnsQuestion, r: DnsMessage): void {
    const seen: string[] = [];
    let name = q.name;
    for (;;) {
      const here = this.records.filter((rec) => dnsNameEqual(rec.name, name));
      const wanted = here.filter((rec) => rec.type === q.type);
      if (wanted.length) return void r.answers.push(...wanted);
      const cname = here.find((rec) => rec.type === "CNAME");
      if (cname?.type !== "CNAME") {
        if (!here.length) r.rcode = DNS_RCODE_NXDOMAIN;
        if (this.soa) r.authorities.push(this.soa);
        return;
      }
      r.answers.push(cname);
      seen.push(name.toLowerCase());
      name = cname.target;
      if (!this.chase || seen.includes(name.toLowerCase())) return; // a loop ends where it closes
    }
  }

  /** Logs the query, lets onQuery see it, and returns the reply to send, if any. */
  private take(data: Uint8Array, from: Ip4, port: number, tcp: boolean): DnsMessage | undefined {
    const decoded = decodeDns(data);
    if (!decoded.ok) return void this.stack.netif.stats.drop(decoded.reason);
    const query = { msg: decoded.value, from, port, tcp };
    this.queries.push(query);
    this.onQuery?.(query);
    return this.reply(decoded.value);
  }

  private later(send: () => void): void {
    if (this.delayMs > 0) this.stack.netif.clock.setTimer(this.delayMs, send);
    else send();
  }

  private receiveUdp(data: Uint8Array, from: Ip4, port: number): void {
    const reply = this.take(data, from, port, false);
    if (!reply) return;
    const bytes = this.encodeUdp(reply);
    this.later(() => this.pcb.sendTo(bytes, from, port));
  }

  /** Answers each length-prefixed query on the connection until the client closes it. */
  private serveTcp(pcb: TcpPcb): void {
    const out: Uint8Array[] = [];
    const flush = () => {
      while (out.length) {
        const n = pcb.write(out[0]!);
        if (n < out[0]!.length) return void (out[0] = out[0]!.subarray(n));
        out.shift();
      }
    };
    const reader = new DnsStreamReader(0xffff, (message) => {
      const reply = this.take(message, pcb.remoteIp, pcb.remotePort, true);
      if (!reply) return;
      const bytes = new Uint8Array(dnsLength(reply));
      encodeDns(reply, bytes);
      this.later(() => {
        out.push(dnsTcpFrame(bytes));
        flush();
      });
    });
    pcb.sent(flush);
    pcb.recv((data) => {
      if (data === null) return pcb.close();
      pcb.recved(data.length);
      reader.push(data);
    });
  }

  /** Drops records from the end until the answer fits udpLimit, setting TC if any had to go. */
  private encodeUdp(reply: DnsMessage): Uint8Array {
    const m = { ...reply, answers: reply.answers.slice(), authorities: reply.authorities.slice() };
    while (dnsLength(m) > this.udpLimit && (m.answers.length || m.authorities.length)) {
      m.tc = true;
      if (m.authorities.length) m.authorities.pop();
      else m.answers.pop();
    }
    const bytes = new Uint8Array(dnsLength(m));
    encodeDns(m, bytes);
    return bytes;
  }
}
