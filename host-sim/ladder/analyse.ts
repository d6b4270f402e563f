// A capture as the ladder draws it: each frame placed between two hosts and labelled, with
// what only the whole capture tells: which host a MAC is, each TCP side's initial sequence
// number (for relative seq/ack, as tcpdump and Wireshark show them), which segments resend
// bytes already sent, and which UDP and TCP ports a TFTP or FTP exchange moved to.

import { ipToString } from "../../modules/wire/address.ts";
import { ACK, FIN, SYN, type TcpDecoded } from "../../modules/wire/tcp.ts";
import { latin1 } from "../../modules/wire/text.ts";
import { decodeTftp, type TftpOptions } from "../../modules/wire/tftp.ts";
import type { Capture, PcapPacket } from "../pcap.ts";
import { tcpFlagLetters } from "../trace.ts";
import { type Dissected, dissect } from "./dissect.ts";

/** The column of frames sent to the link-layer or limited broadcast address. */
export const BROADCAST = "broadcast";

export interface LadderFrame {
  /** Frame number in the capture, from 1 as tshark counts. */
  n: number;
  /** Milliseconds since the capture's first frame. */
  t: number;
  /** Columns: an IP address, a MAC for a host seen only below IP, or BROADCAST. */
  src: string;
  dst: string;
  /** Every address the frame carries (IP and MAC), for filters. */
  addresses: string[];
  protos: string[];
  ports?: [number, number];
  /** Transport and both endpoints, the same for both directions: "tcp 10.0.0.9:40000 10.0.0.2:21". */
  conn?: string;
  /** The trace's words without the addresses the columns already show. */
  words: string;
  /** What the application said, when the trace does not: an FTP or HTTP line, a TFTP packet. */
  app?: string;
  /** The whole trace line. */
  trace: string;
  retransmission: boolean;
  malformed?: string;
}

export interface Analysis {
  frames: LadderFrame[];
  /** For an IP column, the one MAC that sent from that address, if there was exactly one. */
  macOf: Map<string, string>;
}

export function analyse(capture: Capture, ignoreChecksums = false): Analysis {
  const parts = capture.packets.map((p) => dissect(p, ignoreChecksums));
  const ipOf = single(parts.flatMap((d) => (d.srcMac ? sourceIps(d).map((ip) => [d.srcMac!, ip] as const) : [])));
  const macOf = single(parts.flatMap((d) => (d.srcMac ? sourceIps(d).map((ip) => [ip, d.srcMac!] as const) : [])));
  const first = capture.packets[0];
  const state = new SessionState();
  const frames = parts.map((d, i) => place(d, i + 1, since(first!, capture.packets[i]!), ipOf, state));
  return { frames, macOf };
}

function since(first: PcapPacket, p: PcapPacket): number {
  return (p.seconds - first.seconds) * 1000 + (p.nanos - first.nanos) / 1e6;
}

/** The unicast addresses a frame shows its sender using. */
function sourceIps(d: Dissected): string[] {
  const ip = d.arp ? d.arp.senderIp : d.srcIp;
  return ip && ip !== 0xffffffff ? [ipToString(ip)] : [];
}

/** Keys paired with exactly one value. */
function single(pairs: (readonly [string, string])[]): Map<string, string> {
  const seen = new Map<string, string | null>();
  for (const [k, v] of pairs) seen.set(k, seen.has(k) && seen.get(k) !== v ? null : v);
  return new Map([...seen].filter((e): e is [string, string] => e[1] !== null));
}

function place(d: Dissected, n: number, t: number, ipOf: Map<string, string>, state: SessionState): LadderFrame {
  const byMac = (mac: string | undefined) => (mac ? (ipOf.get(mac) ?? mac) : "?");
  const ip = (x: number | undefined) => (x ? ipToString(x) : undefined);
  const src = ip(d.arp?.senderIp ?? d.srcIp) ?? byMac(d.srcMac);
  const dst = d.broadcast || d.dstIp === 0xffffffff ? BROADCAST : (ip(d.arp?.targetIp ?? d.dstIp) ?? byMac(d.dstMac));
  const addresses = [d.srcMac, d.dstMac, ip(d.srcIp), ip(d.dstIp)].filter((a): a is string => a !== undefined);
  const f: LadderFrame = { n, t, src, dst, addresses, protos: d.protos, words: stripAddresses(d.trace), trace: d.trace, retransmission: false };
  if (d.malformed) f.malformed = d.malformed;
  const l4 = d.tcp ?? d.udp;
  if (l4 && d.srcIp !== undefined && d.dstIp !== undefined) {
    const from = `${ipToString(d.srcIp)}:${l4.srcPort}`;
    const to = `${ipToString(d.dstIp)}:${l4.dstPort}`;
    f.ports = [l4.srcPort, l4.dstPort];
    f.conn = `${d.tcp ? "tcp" : "udp"} ${[from, to].sort().join(" ")}`;
    f.words = `${l4.srcPort} > ${l4.dstPort} ${f.words}`;
    if (d.tcp) state.tcp(f, d.tcp, from, to);
    else state.udp(f, l4.payload, from, to);
  }
  return f;
}

/** The trace line less its "IP a.p > b.q: " or "mac > mac " head. */
function stripAddresses(trace: string): string {
  return trace.replace(/^(vlan \d+ )?(IP \S+ > \S+: |\S+ > \S+ (?=ethertype))/, "$1");
}

interface Side {
  isn: number;
  /** Just past the highest sequence number sent. */
  next: number;
}

/** What earlier frames told about later ones: TCP sides, TFTP and FTP data endpoints. */
class SessionState {
  readonly #sides = new Map<string, Side>();
  readonly #tftp = new Set<string>();
  readonly #ftpData = new Set<string>();

  tcp(f: LadderFrame, s: TcpDecoded, from: string, to: string): void {
    const key = `${from}>${to}`;
    let side = this.#sides.get(key);
    if (!side || (s.flags & SYN && s.seq !== side.isn)) this.#sides.set(key, (side = { isn: s.seq, next: s.seq }));
    const length = s.payload.length + (s.flags & SYN ? 1 : 0) + (s.flags & FIN ? 1 : 0);
    const end = (s.seq + length) >>> 0;
    if (length > 0 && before(s.seq, side.next)) f.retransmission = true;
    if (before(side.next, end)) side.next = end;
    f.words = `${f.ports![0]} > ${f.ports![1]} ${tcpWords(s, side, this.#sides.get(`${to}>${from}`))}`;
    if (this.#ftpData.has(from) || this.#ftpData.has(to)) f.protos = [...f.protos, "ftp", "ftp-data"];
    else if (s.srcPort === 21 || s.dstPort === 21) {
      f.protos = [...f.protos, "ftp"];
      this.#ftpLines(f, s.payload, from);
    } else {
      // HTTP on its port, and a request or status line on any other.
      const line = firstLine(s.payload);
      const http = /^(HTTP\/\d|[A-Z]+ \S+ HTTP\/\d)/.test(line);
      if (http || s.srcPort === 80 || s.dstPort === 80) f.protos = [...f.protos, "http"];
      if (http) f.app = `HTTP ${line}`;
    }
  }

  udp(f: LadderFrame, payload: Uint8Array, from: string, to: string): void {
    const request = to.endsWith(":69");
    if (!request && !this.#tftp.has(from) && !this.#tftp.has(to)) return;
    f.protos = [...f.protos, "tftp"];
    const r = decodeTftp(payload);
    if (!r.ok) {
      f.malformed ??= r.reason;
      return;
    }
    const p = r.value;
    if (p.op === "rrq" || p.op === "wrq") {
      if (request) this.#tftp.add(from); // the server answers from a port of its own, to this one
      f.app = `TFTP ${p.op.toUpperCase()} ${p.filename} ${p.mode}${tftpOptions(p.options)}`;
    } else if (p.op === "data") f.app = `TFTP DATA block ${p.block}, ${p.data.length} bytes`;
    else if (p.op === "ack") f.app = `TFTP ACK block ${p.block}`;
    else if (p.op === "error") f.app = `TFTP ERROR ${p.code} ${p.message}`;
    else f.app = `TFTP OACK${tftpOptions(p.options)}`;
  }

  /** The first line of an FTP command or reply; PASV, EPSV, PORT and EPRT name a data endpoint. */
  #ftpLines(f: LadderFrame, payload: Uint8Array, from: string): void {
    if (!payload.length) return;
    const lines = latin1(payload).split("\r\n").filter(Boolean);
    f.app = `FTP ${lines[0] ?? ""}${lines.length > 1 ? ` (+${lines.length - 1} lines)` : ""}`;
    const text = lines.join("\n");
    const six = /^(?:227 .*?|PORT )(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/m.exec(text);
    if (six) this.#ftpData.add(`${six.slice(1, 5).join(".")}:${Number(six[5]) * 256 + Number(six[6])}`);
    const epsv = /^229 .*\(\|\|\|(\d+)\|\)/m.exec(text);
    if (epsv) this.#ftpData.add(`${from.slice(0, from.lastIndexOf(":"))}:${epsv[1]}`);
    const eprt = /^EPRT \|1\|([\d.]+)\|(\d+)\|/m.exec(text);
    if (eprt) this.#ftpData.add(`${eprt[1]}:${eprt[2]}`);
  }
}

/** a < b in sequence space (RFC 9293 3.4). */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** The trace's TCP words with seq and ack relative to each side's first sequence number. */
function tcpWords(s: TcpDecoded, side: Side, other: Side | undefined): string {
  const seq = (s.seq - side.isn) >>> 0;
  const range = s.payload.length ? `${seq}:${(seq + s.payload.length) >>> 0}` : `${seq}`;
  const ack = s.flags & ACK ? `, ack ${other ? (s.ack - other.isn) >>> 0 : s.ack}` : "";
  return `Flags [${tcpFlagLetters(s.flags)}], seq ${range}${ack}, length ${s.payload.length}`;
}

function firstLine(b: Uint8Array): string {
  const text = latin1(b.subarray(0, 200));
  const end = text.indexOf("\r\n");
  return end < 0 ? text : text.slice(0, end);
}

function tftpOptions(o: TftpOptions): string {
  const named = (["blksize", "tsize", "timeout", "windowsize"] as const).filter((k) => o[k] !== undefined).map((k) => `${k}=${o[k]}`);
  const other = (o.other ?? []).map((x) => `${x.name}=${x.value}`);
  return [...named, ...other].map((x) => ` ${x}`).join("");
}
