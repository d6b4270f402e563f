// One readable line per frame, in the manner of tcpdump, built from our own decoders.
// Frames that fail to decode say why, so a trace doubles as a check of the codecs.

import { ipToString, macToString, type Ip4 } from "../modules/wire/address.ts";
import { decodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "../modules/wire/ethernet.ts";
import { decodeArp, ARP_REQUEST } from "../modules/wire/arp.ts";
import { decodeIpv4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP } from "../modules/wire/ipv4.ts";
import { decodeIcmp } from "../modules/wire/icmp.ts";
import { decodeUdp } from "../modules/wire/udp.ts";
import { decodeTcp, FIN, SYN, RST, PSH, ACK, URG, type TcpOptions } from "../modules/wire/tcp.ts";
import { decodeDns, type DnsMessage } from "../modules/wire/dns.ts";
import { decodeDhcp, type DhcpMessage } from "../modules/wire/dhcp.ts";
import { decodeTftp } from "../modules/wire/tftp.ts";
import type { NetEvent } from "../modules/stack/netif.ts";

export function describeFrame(frame: Uint8Array): string {
  const eth = decodeEthernet(frame);
  if (!eth.ok) return `[${eth.reason}] ${frame.length} bytes`;
  const e = eth.value;
  const vlan = e.vlan ? `vlan ${e.vlan.id} ` : "";
  if (e.ethertype === ETHERTYPE_ARP) return vlan + describeArp(e.payload);
  if (e.ethertype === ETHERTYPE_IPV4) return vlan + describeIp(e.payload);
  return `${vlan}${macToString(e.src)} > ${macToString(e.dst)} ethertype 0x${e.ethertype.toString(16).padStart(4, "0")}, length ${frame.length}`;
}

function describeArp(b: Uint8Array): string {
  const r = decodeArp(b);
  if (!r.ok) return `ARP [${r.reason}]`;
  const a = r.value;
  if (a.op === ARP_REQUEST) {
    if (a.senderIp === 0) return `ARP probe who-has ${ipToString(a.targetIp)} from ${macToString(a.senderMac)}`;
    if (a.senderIp === a.targetIp) return `ARP announce ${ipToString(a.senderIp)} is-at ${macToString(a.senderMac)}`;
    return `ARP who-has ${ipToString(a.targetIp)} tell ${ipToString(a.senderIp)}`;
  }
  return `ARP reply ${ipToString(a.senderIp)} is-at ${macToString(a.senderMac)}`;
}

function describeIp(b: Uint8Array): string {
  const r = decodeIpv4(b);
  if (!r.ok) return `IP [${r.reason}]`;
  const p = r.value;
  const frag = p.mf || p.fragmentOffsetBytes ? ` (frag id ${p.id} offset ${p.fragmentOffsetBytes}${p.mf ? "+" : ""})` : "";
  if (p.fragmentOffsetBytes !== 0) return `IP ${ipToString(p.src)} > ${ipToString(p.dst)}: proto ${p.protocol}${frag}`;
  const s = ipToString(p.src);
  const d = ipToString(p.dst);
  switch (p.protocol) {
    case IP_PROTO_ICMP:
      return `IP ${s} > ${d}: ${describeIcmp(p.payload)}${frag}`;
    case IP_PROTO_UDP:
      return describeUdp(p.payload, p.src, p.dst) + frag;
    case IP_PROTO_TCP:
      return describeTcp(p.payload, p.src, p.dst) + frag;
  }
  return `IP ${s} > ${d}: proto ${p.protocol}, length ${p.payload.length}${frag}`;
}

function describeIcmp(b: Uint8Array): string {
  const r = decodeIcmp(b);
  if (!r.ok) return `ICMP [${r.reason}]`;
  const m = r.value;
  switch (m.kind) {
    case "echo-request":
    case "echo-reply":
      return `ICMP echo ${m.kind === "echo-request" ? "request" : "reply"}, id ${m.id}, seq ${m.seq}, length ${b.length}`;
    case "unreachable":
      return `ICMP unreachable code ${m.code}, length ${b.length}`;
    case "time-exceeded":
      return `ICMP time exceeded code ${m.code}`;
    case "other":
      return `ICMP type ${m.type} code ${m.code}`;
  }
}

function describeUdp(b: Uint8Array, src: Ip4, dst: Ip4): string {
  const r = decodeUdp(b, src, dst);
  const head = `IP ${ipToString(src)}`;
  if (!r.ok) return `${head} > ${ipToString(dst)}: UDP [${r.reason}]`;
  const u = r.value;
  const ends = `${head}.${u.srcPort} > ${ipToString(dst)}.${u.dstPort}: UDP`;
  if (u.dstPort === 67 || u.dstPort === 68) {
    const dhcp = decodeDhcp(u.payload);
    return `${ends} ${dhcp.ok ? describeDhcp(dhcp.value) : `DHCP [${dhcp.reason}]`}`;
  }
  if (u.dstPort === 69) {
    const t = decodeTftp(u.payload);
    return `${ends} ${t.ok && (t.value.op === "rrq" || t.value.op === "wrq") ? `TFTP ${t.value.op.toUpperCase()} "${t.value.filename}" ${t.value.mode}` : `length ${u.payload.length}`}`;
  }
  if (u.srcPort === 53 || u.dstPort === 53) {
    const dns = decodeDns(u.payload);
    return `${ends} ${dns.ok ? describeDns(dns.value) : `DNS [${dns.reason}]`}`;
  }
  return `${ends}, length ${u.payload.length}`;
}

function describeDns(m: DnsMessage): string {
  const q = m.questions.map((x) => `${typeof x.type === "number" ? `TYPE${x.type}` : x.type}? ${x.name}`).join(", ");
  if (!m.qr) return `DNS ${m.id} ${q}`;
  const answers = m.answers.map((a) => (a.type === "A" ? `A ${ipToString(a.address)}` : a.type === "CNAME" ? `CNAME ${a.target}` : String(a.type)));
  return `DNS ${m.id} ${m.rcode ? `rcode ${m.rcode} ` : ""}${m.tc ? "TC " : ""}${answers.length}/${m.authorities.length}/${m.additionals.length} ${answers.join(", ")}`;
}

const DHCP_TYPES = ["", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"];

function describeDhcp(m: DhcpMessage): string {
  const type = DHCP_TYPES[m.options.messageType ?? 0] || "BOOTP";
  const offered = m.yiaddr ? ` ${ipToString(m.yiaddr)}` : "";
  const requested = m.options.requestedIp ? ` for ${ipToString(m.options.requestedIp)}` : "";
  return `DHCP ${type}${offered}${requested} xid 0x${m.xid.toString(16).padStart(8, "0")}`;
}

const FLAG_LETTERS: Array<[number, string]> = [
  [SYN, "S"],
  [FIN, "F"],
  [RST, "R"],
  [PSH, "P"],
  [URG, "U"],
  [ACK, "."],
];

/** tcpdump's letters for a segment's flags: "S", "S.", "P.", "F.", "R"... */
export function tcpFlagLetters(flags: number): string {
  return FLAG_LETTERS.filter(([bit]) => flags & bit)
    .map(([, l]) => l)
    .join("");
}

function describeTcp(b: Uint8Array, src: Ip4, dst: Ip4): string {
  const r = decodeTcp(b, src, dst);
  if (!r.ok) return `IP ${ipToString(src)} > ${ipToString(dst)}: TCP [${r.reason}]`;
  const s = r.value;
  const flags = tcpFlagLetters(s.flags);
  const ack = s.flags & ACK ? `, ack ${s.ack}` : "";
  const opts = describeTcpOptions(s.options);
  return `IP ${ipToString(src)}.${s.srcPort} > ${ipToString(dst)}.${s.dstPort}: Flags [${flags}], seq ${s.seq}${ack}, win ${s.window}${opts}, length ${s.payload.length}`;
}

function describeTcpOptions(o: TcpOptions): string {
  const parts: string[] = [];
  if (o.mss !== undefined) parts.push(`mss ${o.mss}`);
  if (o.windowScale !== undefined) parts.push(`wscale ${o.windowScale}`);
  if (o.sackPermitted) parts.push("sackOK");
  if (o.sack) parts.push(`sack ${o.sack.map((x) => `{${x.left}:${x.right}}`).join("")}`);
  if (o.timestamp) parts.push(`TS val ${o.timestamp.tsval} ecr ${o.timestamp.tsecr}`);
  return parts.length ? `, options [${parts.join(",")}]` : "";
}

/** A line of the trace at `ms`: "<" or ">" and the frame, or "--" and a protocol event. */
export function traceLine(ms: number, e: NetEvent): string {
  if (e.kind === "event") return noteLine(ms, e.layer, e.text);
  return `${seconds(ms)} ${e.kind === "rx" ? "<" : ">"} ${describeFrame(e.frame)}`;
}

/** A line of the trace at `ms` for what `who` (a layer, a host, the firmware) says. */
export function noteLine(ms: number, who: string, text: string): string {
  return `${seconds(ms)}   -- ${who}: ${text}`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(6).padStart(11);
}
