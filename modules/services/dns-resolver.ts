// A stub DNS resolver (RFC 1035): A, AAAA and PTR look-ups through configured or
// DHCP-supplied servers, following CNAME chains, with a static hosts table and a bounded
// cache that also remembers NXDOMAIN and NODATA answers (RFC 2308).
//
// Against off-path spoofing (RFC 5452) every exchange has its own random ID and its own
// pcb on a random ephemeral port, and a reply counts only if it comes from a server that
// was asked, from port 53, with that ID and the same question. Anything else is dropped
// and counted in netif.stats under a "dns-" reason.
//
// A truncated UDP answer (TC) is asked again over TCP on port 53, each message framed by
// a two-byte length (RFC 1035 4.2.2, RFC 7766).
//
// Results arrive through callbacks, always on a later turn (a clock timer), never inside
// the call that asked.

import type { Timer } from "../platform.ts";
import type { Stack } from "../stack/stack.ts";
import type { UdpPcb } from "../stack/udp.ts";
import type { TcpPcb } from "../stack/tcp.ts";
import { type Ip4, IP_ANY, IP_BROADCAST, ipToString, parseIp } from "../wire/address.ts";
import {
  type DnsMessage,
  type DnsRecord,
  DNS_CLASS_IN,
  DNS_PORT,
  DNS_RCODE_NOERROR,
  DNS_RCODE_NXDOMAIN,
  DNS_RCODE_REFUSED,
  DNS_RCODE_SERVFAIL,
  decodeDns,
  dnsLength,
  dnsNameEqual,
  dnsNameValid,
  dnsQuery,
  encodeDns,
} from "../wire/dns.ts";

export type DnsLookupType = "A" | "AAAA" | "PTR";

/** Where an answer came from: the hosts table, the name itself (an IPv4 literal), the cache or a server. */
export type DnsSource = "hosts" | "literal" | "cache" | "network";

interface DnsResultBase {
  /** The name as asked, without a trailing dot. */
  name: string;
  /** The name the records belong to, at the end of any CNAME chain. */
  canonical: string;
  /** Seconds the answer stays valid: the smallest TTL along the chain, as much as is left of it. */
  ttl: number;
  source: DnsSource;
}

export type DnsResult = DnsResultBase & ({ type: "A"; addresses: Ip4[] } | { type: "AAAA"; addresses: Uint8Array[] } | { type: "PTR"; names: string[] });

export type DnsErrorCode =
  | "bad-name"
  | "nxdomain"
  | "nodata"
  | "servfail"
  | "refused"
  | "timeout"
  | "cname-limit"
  | "truncated"
  | "no-servers"
  | "busy"
  | "closed";

const EXPLANATIONS: Record<DnsErrorCode, string> = {
  "bad-name": "not a valid domain name",
  nxdomain: "no such name",
  nodata: "the name has no record of that type",
  servfail: "the server could not answer",
  refused: "the server refused to answer",
  timeout: "no server answered",
  "cname-limit": "the CNAME chain is too long (a loop?)",
  truncated: "the answer was truncated and could not be fetched whole",
  "no-servers": "no DNS server is configured",
  busy: "too many look-ups are waiting",
  closed: "the resolver was closed",
};

export class DnsError extends Error {
  constructor(
    readonly code: DnsErrorCode,
    readonly query: string,
    readonly type: DnsLookupType,
  ) {
    super(`${code}: ${query} ${type}: ${EXPLANATIONS[code]}`);
    this.name = "DnsError";
  }
}

/** Called once per look-up: with an error, or with the result. */
export type DnsCallback = (err: DnsError | undefined, result: DnsResult | undefined) => void;

export interface DnsResolverOptions {
  /** Servers, used in order; setServers replaces them (e.g. from a DHCP lease). */
  servers: Ip4[];
  /** Names answered without asking anyone. */
  hosts: Array<[name: string, address: Ip4 | Uint8Array]>;
  /** Wait for the first answer, ms; doubles after each round over the servers. */
  timeoutMs: number;
  /** Times every server is tried before giving up, count. */
  rounds: number;
  /** CNAME links followed per look-up, count. */
  maxCnameDepth: number;
  /** Answers remembered, count (0 turns the cache off). */
  cacheSize: number;
  /** Longest an answer is cached, s. */
  maxTtl: number;
  /** Longest an NXDOMAIN or NODATA answer is cached, s. */
  maxNegativeTtl: number;
  /** Exchanges with servers at once, count. */
  maxInFlight: number;
  /** Look-ups waiting for an exchange slot, count; beyond this they fail as busy. */
  maxQueued: number;
  /** Servers kept, count; the rest of a longer list is left out. */
  maxServers: number;
  /** Hosts-table entries, count. */
  maxHosts: number;
  /** A whole TCP exchange after a truncated answer (connect, ask, read), ms. */
  tcpTimeoutMs: number;
  /** Longest answer read over TCP, bytes. */
  maxTcpMessage: number;
  /** A look-up's whole life, queued, CNAME links and TCP included, ms; then it fails as a timeout. */
  lookupTimeoutMs: number;
}

export const DNS_RESOLVER_DEFAULTS: DnsResolverOptions = {
  servers: [],
  hosts: [],
  timeoutMs: 1000,
  rounds: 3,
  maxCnameDepth: 8,
  cacheSize: 32,
  maxTtl: 86_400,
  maxNegativeTtl: 3600,
  maxInFlight: 4,
  maxQueued: 8,
  maxServers: 3,
  maxHosts: 16,
  tcpTimeoutMs: 5000,
  maxTcpMessage: 4096,
  lookupTimeoutMs: 30_000,
};

/** One record's data: an IPv4 address, an IPv6 address or a PTR target. */
type Value = Ip4 | Uint8Array | string;

type NegativeCode = "nxdomain" | "nodata";

interface CacheEntry {
  expires: number; // clock ms
  canonical: string;
  values: Value[];
  error?: NegativeCode;
}

/** A look-up in progress; identical concurrent look-ups share it. */
interface Job {
  key: string;
  name: string;
  type: DnsLookupType;
  current: string; // the name asked now; it moves along CNAME links
  hops: number; // CNAME links followed
  ttl: number; // smallest TTL seen along the chain, seconds
  callbacks: DnsCallback[];
  exchange?: Exchange;
  deadline?: Timer;
}

export class DnsResolver {
  private readonly options: DnsResolverOptions;
  private servers: Ip4[] = [];
  private readonly hosts = new Map<string, Value[]>();
  private hostCount = 0;
  private readonly cache = new Map<string, CacheEntry>(); // oldest use first
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private active = 0;
  private closed = false;

  constructor(
    private readonly stack: Stack,
    options: Partial<DnsResolverOptions> = {},
  ) {
    this.options = { ...DNS_RESOLVER_DEFAULTS, ...options };
    this.setServers(this.options.servers);
    for (const [name, address] of this.options.hosts) this.addHost(name, address);
  }

  /** Replaces the server list (duplicates, 0.0.0.0 and broadcast left out; at most maxServers). Look-ups under way keep theirs. */
  setServers(servers: readonly Ip4[]): void {
    const list: Ip4[] = [];
    for (const s of servers) {
      const ip = s >>> 0;
      if (ip !== IP_ANY && ip !== IP_BROADCAST && !list.includes(ip) && list.length < this.options.maxServers) list.push(ip);
    }
    this.servers = list;
  }

  getServers(): Ip4[] {
    return this.servers.slice();
  }

  /** Adds a hosts-table entry; its address also answers the reverse (PTR) look-up. False for a bad name or a full table. */
  addHost(name: string, address: Ip4 | Uint8Array): boolean {
    const n = normalize(name);
    if (n === undefined || this.hostCount >= this.options.maxHosts) return false;
    const value = typeof address === "number" ? address >>> 0 : address.slice(0, 16);
    if (typeof value !== "number" && value.length !== 16) return false;
    this.hostCount++;
    this.hostValues(typeof value === "number" ? "A" : "AAAA", n).push(value);
    this.hostValues("PTR", reverseName(value)).push(n);
    return true;
  }

  /** Looks up `name`; `cb` is called once, on a later turn. */
  resolve(name: string, type: DnsLookupType, cb: DnsCallback): void {
    const n = normalize(name);
    if (this.closed || n === undefined) return this.later([cb], new DnsError(this.closed ? "closed" : "bad-name", name, type));
    const literal = type === "A" ? parseIp(n) : undefined;
    if (literal !== undefined) return this.later([cb], undefined, { name: n, canonical: n, ttl: 0, source: "literal", type: "A", addresses: [literal] });
    const key = cacheKey(type, n);
    const shared = this.jobs.get(key);
    if (shared) return void shared.callbacks.push(cb);
    const job: Job = { key, name: n, type, current: n, hops: 0, ttl: this.options.maxTtl, callbacks: [cb] };
    this.jobs.set(key, job);
    job.deadline = this.stack.clock.setTimer(this.options.lookupTimeoutMs, () => this.expire(job));
    this.step(job);
  }

  /** The PTR look-up for an IPv4 address (in-addr.arpa) or a 16-byte IPv6 address (ip6.arpa). */
  reverse(address: Ip4 | Uint8Array, cb: DnsCallback): void {
    this.resolve(reverseName(address), "PTR", cb);
  }

  resolveAsync(name: string, type: DnsLookupType): Promise<DnsResult> {
    return new Promise((resolve, reject) => this.resolve(name, type, (err, result) => (err ? reject(err) : resolve(result!))));
  }

  /** Forgets every cached answer. */
  flush(): void {
    this.cache.clear();
  }

  /** Ends every look-up under way with a "closed" error and releases their pcbs. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    for (const job of [...this.jobs.values()]) {
      job.exchange?.abort();
      this.fail(job, "closed");
    }
  }

  // ---- look-ups ----

  /** Answers the job's current name from the hosts table or the cache, or asks a server. */
  private step(job: Job): void {
    const host = this.hosts.get(cacheKey(job.type, job.current));
    if (host) return this.succeed(job, job.current, host, 0, "hosts");
    const cached = this.cached(cacheKey(job.type, job.current));
    if (cached) {
      const ttl = Math.min(job.ttl, Math.floor((cached.expires - this.stack.clock.now()) / 1000));
      return cached.error ? this.fail(job, cached.error) : this.succeed(job, cached.canonical, cached.values, ttl, "cache");
    }
    if (this.servers.length === 0) return this.fail(job, "no-servers");
    if (this.active < this.options.maxInFlight) return this.ask(job);
    if (this.queue.length >= this.options.maxQueued) return this.fail(job, "busy");
    this.queue.push(job);
  }

  private ask(job: Job): void {
    const pcb = this.stack.udp.pcb();
    if (!pcb.bind(0).ok) return this.fail(job, "busy"); // no free pcb in the stack
    this.active++;
    job.exchange = new Exchange(this.stack, pcb, job.current, job.type, this.servers.slice(), this.options, (msg, error) => {
      job.exchange = undefined;
      this.active--;
      if (msg) this.answered(job, msg);
      else this.fail(job, error);
      this.pump();
    });
  }

  /** A look-up past its deadline: servers slow on every link of a chain must not hold a slot for long. */
  private expire(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    if (job.exchange) {
      job.exchange.abort();
      job.exchange = undefined;
      this.active--;
    }
    this.fail(job, "timeout");
    this.pump();
  }

  /** Starts queued look-ups while there are free exchange slots. */
  private pump(): void {
    while (this.active < this.options.maxInFlight && this.queue.length) this.step(this.queue.shift()!);
  }

  /** Interprets an accepted reply (NOERROR or NXDOMAIN) to the job's current question. */
  private answered(job: Job, msg: DnsMessage): void {
    let name = job.current;
    const values: Value[] = [];
    let ttl = job.ttl;
    for (;;) {
      let cname: { target: string; ttl: number } | undefined;
      for (const r of msg.answers) {
        if (r.class !== DNS_CLASS_IN || !dnsNameEqual(r.name, name)) continue;
        const v = recordValue(r, job.type);
        if (v !== undefined) {
          values.push(v);
          ttl = Math.min(ttl, ttlOf(r.ttl));
        } else if (r.type === "CNAME") cname = r;
      }
      if (values.length || !cname) break;
      if (++job.hops > this.options.maxCnameDepth) return this.fail(job, "cname-limit");
      ttl = Math.min(ttl, ttlOf(cname.ttl));
      name = cname.target;
    }
    job.ttl = ttl;
    if (values.length) {
      this.remember(job.key, { expires: this.expiry(ttl), canonical: name, values });
      return this.succeed(job, name, values, ttl, "network");
    }
    if (msg.rcode === DNS_RCODE_NOERROR && !dnsNameEqual(name, job.current)) {
      job.current = name; // the server stopped at a CNAME: ask for its target
      return this.step(job);
    }
    const error: NegativeCode = msg.rcode === DNS_RCODE_NXDOMAIN ? "nxdomain" : "nodata";
    const negativeTtl = soaTtl(msg);
    if (negativeTtl !== undefined) {
      const seconds = Math.min(job.ttl, negativeTtl, this.options.maxNegativeTtl);
      this.remember(job.key, { expires: this.expiry(seconds), canonical: name, values: [], error });
    }
    this.fail(job, error);
  }

  // ---- cache ----

  private cached(key: string): CacheEntry | undefined {
    const e = this.cache.get(key);
    if (!e) return undefined;
    this.cache.delete(key);
    if (e.expires <= this.stack.clock.now()) return undefined;
    this.cache.set(key, e); // now the most recently used
    return e;
  }

  private remember(key: string, entry: CacheEntry): void {
    const now = this.stack.clock.now();
    if (entry.expires <= now || this.options.cacheSize <= 0) return;
    this.cache.delete(key);
    if (this.cache.size >= this.options.cacheSize) {
      for (const [k, e] of this.cache) if (e.expires <= now) this.cache.delete(k);
    }
    if (this.cache.size >= this.options.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, entry);
  }

  private expiry(ttlSeconds: number): number {
    return this.stack.clock.now() + Math.min(ttlSeconds, this.options.maxTtl) * 1000;
  }

  private hostValues(type: DnsLookupType, name: string): Value[] {
    const key = cacheKey(type, name);
    let list = this.hosts.get(key);
    if (!list) this.hosts.set(key, (list = []));
    return list;
  }

  // ---- completion ----

  private succeed(job: Job, canonical: string, values: Value[], ttl: number, source: DnsSource): void {
    this.jobs.delete(job.key);
    job.deadline?.cancel();
    const base = { name: job.name, canonical, ttl: Math.max(0, Math.min(ttl, this.options.maxTtl)), source };
    const result = (): DnsResult =>
      job.type === "A"
        ? { ...base, type: "A", addresses: values.slice() as Ip4[] }
        : job.type === "AAAA"
          ? { ...base, type: "AAAA", addresses: (values as Uint8Array[]).map((a) => a.slice()) }
          : { ...base, type: "PTR", names: values.slice() as string[] };
    const clock = this.stack.clock;
    clock.setTimer(0, () => {
      for (const cb of job.callbacks) cb(undefined, result());
    });
  }

  private fail(job: Job, code: DnsErrorCode): void {
    this.jobs.delete(job.key);
    job.deadline?.cancel();
    this.later(job.callbacks, new DnsError(code, job.name, job.type));
  }

  private later(callbacks: DnsCallback[], err: DnsError | undefined, result?: DnsResult): void {
    this.stack.clock.setTimer(0, () => {
      for (const cb of callbacks) cb(err, result);
    });
  }
}

/**
 * One question put to the servers: a random ID and a pcb on a random port for the whole
 * exchange, sent to each server in turn with a timeout that doubles every round, until a
 * reply that matches is accepted. SERVFAIL, REFUSED and other failures move on to the next
 * server at once. A truncated reply is fetched again over TCP from the same server.
 */
class Exchange {
  private readonly id: number;
  private readonly query: Uint8Array;
  private readonly asked = new Set<Ip4>();
  private attempt = 0;
  private timer: Timer | undefined;
  private error: DnsErrorCode = "timeout";
  private done = false;
  private tcp: TcpPcb | undefined;

  constructor(
    private readonly stack: Stack,
    private readonly pcb: UdpPcb,
    private readonly name: string,
    private readonly type: DnsLookupType,
    private readonly servers: Ip4[],
    private readonly options: DnsResolverOptions,
    private readonly onDone: (msg: DnsMessage | undefined, error: DnsErrorCode) => void,
  ) {
    this.id = stack.random.u32() & 0xffff;
    const q = dnsQuery(this.id, name, type);
    this.query = new Uint8Array(dnsLength(q));
    encodeDns(q, this.query);
    pcb.recv((data, from, fromPort) => this.receiveUdp(data, from, fromPort));
    pcb.error(
      (kind, to, toPort) =>
        !this.done && kind === "port-unreachable" && toPort === DNS_PORT && to === this.servers[this.attempt % this.servers.length] && this.next("refused"),
    );
    this.send();
  }

  /** Stops without reporting: no more sends, and the pcbs are released. */
  abort(): void {
    this.done = true;
    this.timer?.cancel();
    this.pcb.close();
    this.dropTcp();
  }

  private send(): void {
    const n = this.servers.length;
    const server = this.servers[this.attempt % n]!;
    this.asked.add(server);
    this.stack.stats.count("dns.query");
    this.stack.event("dns", `query ${this.name} ${this.type} id ${this.id} to ${ipToString(server)}`);
    this.pcb.sendTo(this.query, server, DNS_PORT);
    const wait = this.options.timeoutMs * 2 ** Math.floor(this.attempt / n);
    this.timer = this.stack.clock.setTimer(wait, () => this.next());
  }

  /** Moves on to the next server (or round), or gives up with the most telling error seen. */
  private next(error?: DnsErrorCode): void {
    this.timer?.cancel();
    this.dropTcp();
    if (error) this.error = error;
    if (++this.attempt >= this.servers.length * this.options.rounds) return this.finish(undefined);
    this.send();
  }

  private receiveUdp(data: Uint8Array, from: Ip4, fromPort: number): void {
    if (this.done) return;
    if (!this.asked.has(from) || fromPort !== DNS_PORT) return this.stack.stats.drop("dns-bad-source");
    const msg = this.check(data);
    if (!msg) return;
    if (!msg.tc) return this.answered(msg);
    if (!this.tcp) this.askTcp(from); // a copy of the TC reply changes nothing while TCP runs
  }

  /** The reply if it answers our question (counted), or undefined (dropped and counted). */
  private check(data: Uint8Array): DnsMessage | undefined {
    const stats = this.stack.stats;
    const r = decodeDns(data);
    if (!r.ok) return void stats.drop(r.reason);
    const msg = r.value;
    if (!msg.qr || msg.id !== this.id) return void stats.drop("dns-bad-id");
    const q = msg.questions[0];
    if (msg.questions.length !== 1 || q!.type !== this.type || q!.class !== DNS_CLASS_IN || !dnsNameEqual(q!.name, this.name)) {
      return void stats.drop("dns-bad-question");
    }
    stats.count("dns.answer");
    return msg;
  }

  private answered(msg: DnsMessage): void {
    if (msg.rcode === DNS_RCODE_NOERROR || msg.rcode === DNS_RCODE_NXDOMAIN) return this.finish(msg);
    this.next(msg.rcode === DNS_RCODE_REFUSED ? "refused" : "servfail");
  }

  /** Asks `server` again over TCP; any failure on the way counts as a truncated answer. */
  private askTcp(server: Ip4): void {
    this.timer?.cancel();
    const reader = new DnsStreamReader(this.options.maxTcpMessage, (message) => {
      const msg = pcb === this.tcp ? this.check(message) : undefined;
      if (msg) this.answered(msg.tc ? { ...msg, rcode: DNS_RCODE_SERVFAIL } : msg); // TC over TCP is the server's fault
    });
    const opened = this.stack.tcp.connect(server, DNS_PORT, (err) => {
      if (!pcb || pcb !== this.tcp) return;
      const frame = dnsTcpFrame(this.query);
      if (err || pcb.write(frame) < frame.length) this.next("truncated");
    });
    if (!opened.ok) return this.next("truncated");
    const pcb = opened.value;
    this.tcp = pcb;
    this.stack.stats.count("dns.tcp");
    this.stack.event("dns", `truncated answer for ${this.name} ${this.type}: asking ${ipToString(server)} over TCP`);
    this.timer = this.stack.clock.setTimer(this.options.tcpTimeoutMs, () => this.next("truncated"));
    pcb.err(() => pcb === this.tcp && this.next("truncated"));
    pcb.recv((data) => {
      if (pcb !== this.tcp) return;
      if (data === null) return this.next("truncated");
      pcb.recved(data.length);
      if (!reader.push(data)) this.next("truncated");
    });
  }

  /** Releases the TCP pcb: a FIN once the answer is in, else a reset. */
  private dropTcp(): void {
    const pcb = this.tcp;
    if (!pcb) return;
    this.tcp = undefined;
    if (this.done) pcb.close();
    else pcb.abort();
  }

  private finish(msg: DnsMessage | undefined): void {
    this.abort();
    this.onDone(msg, this.error);
  }
}

/** A DNS message with RFC 1035 4.2.2's two-byte length in front, for TCP. */
export function dnsTcpFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(2 + message.length);
  frame[0] = message.length >>> 8;
  frame[1] = message.length & 0xff;
  frame.set(message, 2);
  return frame;
}

/** Cuts a TCP byte stream into length-prefixed DNS messages of at most `maxLength` bytes. */
export class DnsStreamReader {
  private length = 0;
  private lengthBytes = 0;
  private body: Uint8Array | undefined;
  private filled = 0;

  constructor(
    private readonly maxLength: number,
    private readonly onMessage: (message: Uint8Array) => void,
  ) {}

  /** Takes the next bytes of the stream, calling onMessage for each message they complete; false once a length is over the limit. */
  push(data: Uint8Array): boolean {
    for (let i = 0; i < data.length; ) {
      if (!this.body) {
        this.length = (this.length << 8) | data[i++]!;
        if (++this.lengthBytes < 2) continue;
        if (this.length > this.maxLength) return false;
        this.body = new Uint8Array(this.length);
        this.filled = 0;
      }
      const n = Math.min(this.body.length - this.filled, data.length - i);
      this.body.set(data.subarray(i, i + n), this.filled);
      this.filled += n;
      i += n;
      if (this.filled === this.body.length) {
        const message = this.body;
        this.body = undefined;
        this.length = this.lengthBytes = 0;
        this.onMessage(message);
      }
    }
    return true;
  }
}

function normalize(name: string): string | undefined {
  const n = name.endsWith(".") ? name.slice(0, -1) : name;
  if (n === "" || !dnsNameValid(n)) return undefined;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return undefined; // printable ASCII only: IDNs come punycoded
  }
  return n;
}

function cacheKey(type: DnsLookupType, name: string): string {
  return `${type} ${name.toLowerCase()}`;
}

function recordValue(r: DnsRecord, type: DnsLookupType): Value | undefined {
  if (r.type !== type) return undefined;
  if (r.type === "A" || r.type === "AAAA") return r.address;
  return r.type === "PTR" ? r.target : undefined;
}

/** RFC 2308 section 5: a negative answer lives as long as the smaller of its SOA's TTL and MINIMUM. */
function soaTtl(msg: DnsMessage): number | undefined {
  for (const r of msg.authorities) if (r.type === "SOA") return Math.min(ttlOf(r.ttl), ttlOf(r.minimum));
  return undefined;
}

/** RFC 2181 8: a TTL with the top bit set counts as 0 (it is not cached for long). */
function ttlOf(seconds: number): number {
  return seconds > 0x7fffffff ? 0 : seconds;
}

/** The in-addr.arpa or ip6.arpa name that a PTR look-up for `address` asks about. */
export function reverseName(address: Ip4 | Uint8Array): string {
  if (typeof address === "number") {
    const ip = address >>> 0;
    return `${ip & 0xff}.${(ip >>> 8) & 0xff}.${(ip >>> 16) & 0xff}.${ip >>> 24}.in-addr.arpa`;
  }
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((address[i]! & 0xf).toString(16), (address[i]! >>> 4).toString(16));
  return `${nibbles.join(".")}.ip6.arpa`;
}
