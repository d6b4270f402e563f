// Typed readers for the JSON files of this folder; README.md says what each holds and where
// it comes from. Frames are hex text as the notes print them (see hex() in test/support/helpers.ts).

import { readFileSync } from "node:fs";

function load<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(file, import.meta.url), "utf8")) as T;
}

/** The FTP session and ARP exchange of a student's capture report. */
export interface FtpCapture {
  client: string;
  server: string;
  /** Whole Ethernet frames. */
  syn: string;
  synAck: string;
  arpTable6: string;
  arpTable7: string;
  /** Bare TCP segments (the report prints them without Ethernet or IP headers). */
  portSegment: string;
  dataSynSegment: string;
  openingSegment: string;
}

/** A DNS A query and its answer, as tcpdump and dig summarise them. */
export interface DnsExchange {
  id: number;
  name: string;
  address: string;
  ttl: number;
  queryLength: number;
  answerLength: number;
  query: string;
  answer: string;
}

/** A PORT or PASV argument and the address and port it names. */
export interface HostPort {
  argument: string;
  ip: string;
  port: number;
}

export const ftpCapture = (): FtpCapture => load("ftp-capture.json");
export const dnsExchange = (): DnsExchange => load("dns-exchange.json");
export const ftpPorts = (): { port: HostPort[]; pasv: HostPort } => load("ftp-ports.json");
