// Every reason something is dropped for, by layer: the keys of stats.drops. Stats.drop
// takes only these, so a misspelt reason, in the code or in a test, does not compile. A
// new reason goes into its layer's list here; the decoders' own reasons are declared
// beside them in wire/.

import type { ArpDecodeError } from "../wire/arp.ts";
import type { DhcpDecodeError } from "../wire/dhcp.ts";
import type { DnsDecodeError } from "../wire/dns.ts";
import type { EthernetDecodeError } from "../wire/ethernet.ts";
import type { IcmpDecodeError } from "../wire/icmp.ts";
import type { Ipv4DecodeError } from "../wire/ipv4.ts";
import type { TcpDecodeError } from "../wire/tcp.ts";
import type { TftpDecodeError, TftpPacket } from "../wire/tftp.ts";
import type { UdpDecodeError } from "../wire/udp.ts";
import type { StorageError } from "../storage/storage.ts";
import type { TcpError } from "./tcp.ts";

export type NetifDrop = EthernetDecodeError | "eth-not-for-us" | "eth-own-frame" | "eth-unknown-type" | "internal-error";

export type ArpDrop = ArpDecodeError | "arp-bad-sender" | "arp-not-for-us" | "arp-pending-evicted" | "arp-pending-overflow" | "arp-timeout";

export type Ipv4Drop =
  | Ipv4DecodeError
  | "ip-bad-source"
  | "ip-no-route"
  | "ip-not-for-us"
  | "ip-too-big"
  | "ip-unknown-protocol"
  | "ip-fragment-bad-length"
  | "ip-fragment-duplicate"
  | "ip-reassembly-evicted"
  | "ip-reassembly-overlap"
  | "ip-reassembly-past-end"
  | "ip-reassembly-timeout"
  | "ip-reassembly-too-big";

export type IcmpDrop = IcmpDecodeError | "icmp-broadcast-echo" | "icmp-error-not-ours" | "icmp-rate-limited";

export type UdpDrop = UdpDecodeError | "udp-icmp-no-pcb" | "udp-no-listener";

/** The reasons of modules/stack/tcp*.ts: a new TCP reason goes here. */
export type TcpDrop =
  | TcpDecodeError
  | "tcp-ack-too-old"
  | "tcp-ack-unsent"
  | "tcp-backlog-full"
  | "tcp-bad-ack"
  | "tcp-broadcast"
  | "tcp-challenge-ack-limited"
  | "tcp-data-after-fin"
  | "tcp-duplicate"
  | "tcp-icmp-no-pcb"
  | "tcp-icmp-out-of-window"
  | "tcp-listen-ack"
  | "tcp-listen-no-syn"
  | "tcp-listen-rst"
  | "tcp-no-ack"
  | "tcp-no-listener"
  | "tcp-no-syn"
  | "tcp-ooo-full"
  | "tcp-out-of-window"
  | "tcp-pcb-limit"
  | "tcp-rst-not-exact"
  | "tcp-rst-without-ack"
  | "tcp-syn-in-window";

export type DhcpDrop =
  | DhcpDecodeError
  | "dhcp-bad-chaddr"
  | "dhcp-bad-server"
  | "dhcp-bad-xid"
  | "dhcp-bad-yiaddr"
  | "dhcp-no-lease-time"
  | "dhcp-no-server-id"
  | "dhcp-not-reply"
  | "dhcp-not-request" // host-sim's DHCP server peer
  | "dhcp-unexpected";

export type DnsDrop = DnsDecodeError | "dns-bad-id" | "dns-bad-question" | "dns-bad-source";

export type TftpDrop =
  | TftpDecodeError
  | "tftp-bad-option-value"
  | "tftp-bad-source"
  | "tftp-block-too-large"
  | "tftp-busy"
  | "tftp-duplicate-request"
  | "tftp-evicted"
  | "tftp-mail-mode"
  | "tftp-no-port"
  | "tftp-not-a-request"
  | "tftp-peer-busy"
  | "tftp-peer-error"
  | "tftp-server-closed"
  | "tftp-stray-error"
  | "tftp-timeout"
  | "tftp-too-big"
  | "tftp-too-long"
  | "tftp-unknown-tid"
  | `tftp-unexpected-${TftpPacket["op"]}`
  | "tftp-write-disabled";

/** What the HTTP parser refuses a request for. */
export type HttpParseDrop =
  | "http-bad-chunk-end"
  | "http-bad-chunk-size"
  | "http-bad-content-length"
  | "http-bad-field-name"
  | "http-bad-field-value"
  | "http-bad-host"
  | "http-bad-request-line"
  | "http-bad-transfer-encoding"
  | "http-bad-version"
  | "http-bare-cr"
  | "http-body-too-large"
  | "http-chunk-bare-lf"
  | "http-chunk-line-too-long"
  | "http-conflicting-content-length"
  | "http-header-too-large"
  | "http-obs-fold"
  | "http-request-line-too-long"
  | "http-te-and-content-length"
  | "http-te-in-http-1.0"
  | "http-too-many-headers"
  | "http-unknown-coding"
  | "http-version-not-supported";

export type HttpDrop =
  | HttpParseDrop
  | "http-bad-expectation"
  | "http-bad-response-header"
  | "http-bad-target"
  | "http-body-overrun"
  | "http-body-short"
  | "http-body-timeout"
  | "http-body-too-slow"
  | "http-busy"
  | "http-discard-timeout"
  | "http-evicted"
  | "http-file-shrank"
  | "http-handler-error"
  | "http-listing-disabled"
  | "http-method-not-allowed"
  | "http-no-route"
  | "http-no-storage"
  | "http-output-overflow"
  | "http-range-not-satisfiable"
  | "http-request-timeout"
  | "http-send-timeout"
  | "http-send-too-slow"
  | "http-server-closed"
  | "http-truncated-body"
  | "http-truncated-request"
  | "http-unknown-method";

/** A data connection's failure (ftp-data.ts); every one starts with "ftp-data-". */
export type FtpDataDrop =
  | "ftp-data-closed"
  | "ftp-data-foreign-peer"
  | "ftp-data-no-pcb"
  | "ftp-data-stalled"
  | "ftp-data-timeout"
  | "ftp-data-too-slow"
  | `ftp-data-${TcpError}`;

export type FtpDrop =
  | FtpDataDrop
  | "ftp-aborted"
  | "ftp-data-unused"
  | "ftp-idle-timeout"
  | "ftp-line-too-long"
  | "ftp-login-failed"
  | "ftp-login-timeout"
  | "ftp-no-passive-port"
  | "ftp-port-refused"
  | "ftp-read-only"
  | "ftp-session-ended"
  | "ftp-session-yielded"
  | "ftp-too-many-data-connections"
  | "ftp-too-many-from-address"
  | "ftp-too-many-sessions"
  | "ftp-unknown-command";

/** Storage reasons are counted where a file server refuses a request for one. */
export type DropReason = NetifDrop | ArpDrop | Ipv4Drop | IcmpDrop | UdpDrop | TcpDrop | DhcpDrop | DnsDrop | TftpDrop | HttpDrop | FtpDrop | StorageError;
