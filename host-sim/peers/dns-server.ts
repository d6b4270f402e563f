// A small authoritative DNS server for the simulator's virtual LAN, on a stack's own UDP
// pcb at port 53. It answers from a list of records, follows CNAMEs among them (or stops
// at the first, if told to), sends NXDOMAIN and NODATA with an optional SOA for negative
// caching, and truncates UDP answers over 512 bytes with TC set as RFC 1035 asks. Tests
// can make it silent, failing or slow, and watch or act on each query as it arrives.

import type { Stack } from "../../modules/stack/stack.ts";
import type { UdpPcb } from "../../modules/stack/udp.ts";
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
}

export interface DnsServerQuery {
  msg: DnsMessage;
  from: Ip4;
  port: number;
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

  constructor(
    private readonly stack: Stack,
    options: DnsServerOptions,
  ) {
    this.records = options.records;
    this.soa = options.soa;
    this.chase = options.chase ?? true;
    this.udpLimit = options.udpLimit ?? 512;
    this.pcb = stack.udp.pcb();
    if (!this.pcb.bind(DNS_PORT)) throw new Error("dns-server: port 53 is taken");
    this.pcb.recv((data, from, port) => this.receive(data, from, port));
  }

  close(): void {
    this.pcb.close();
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
      if (!cname || cname.type !== "CNAME") {
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

  private receive(data: Uint8Array, from: Ip4, port: number): void {
    const decoded = decodeDns(data);
    if (!decoded.ok) return this.stack.netif.stats.drop(decoded.reason);
    const query = { msg: decoded.value, from, port };
    this.queries.push(query);
    this.onQuery?.(query);
    const reply = this.reply(decoded.value);
    if (!reply) return;
    const bytes = this.encodeUdp(reply);
    const send = () => this.pcb.sendTo(bytes, from, port);
    if (this.delayMs > 0) this.stack.netif.clock.setTimer(this.delayMs, send);
    else send();
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
