// TFTP packets (RFC 1350) with option negotiation (RFC 2347) and the options blksize
// (RFC 2348), timeout and tsize (RFC 2349) and windowsize (RFC 7440).
//
// Strings are one character per byte (code 0-255). Modes and the names of the typed
// options are matched without case and come out in lower case; other options keep
// the name and value as sent. Range checks on option values are the server's choice.

import { type Result, ok, fail } from "./result.ts";
import { latin1, writeLatin1 } from "./text.ts";

/** Why a decoder refused the bytes; the reason a dropped frame is counted under. */
export type TftpDecodeError =
  | "tftp-short"
  | "tftp-unterminated"
  | "tftp-empty-filename"
  | "tftp-no-mode"
  | "tftp-bad-mode"
  | "tftp-bad-option"
  | "tftp-bad-opcode";

export const TFTP_PORT = 69;
export const TFTP_DEFAULT_BLKSIZE = 512;
/** Opcode and block number in front of a DATA packet's bytes. */
export const TFTP_DATA_HEADER_LEN = 4;

// Error codes (RFC 1350, 8 from RFC 2347).
export const TFTP_ERR_UNDEFINED = 0;
export const TFTP_ERR_NOT_FOUND = 1;
export const TFTP_ERR_ACCESS = 2;
export const TFTP_ERR_DISK_FULL = 3;
export const TFTP_ERR_ILLEGAL_OP = 4;
export const TFTP_ERR_UNKNOWN_TID = 5;
export const TFTP_ERR_EXISTS = 6;
export const TFTP_ERR_NO_USER = 7;
export const TFTP_ERR_OPTIONS = 8;

const MODES = ["netascii", "octet", "mail"];
const NUMERIC = ["blksize", "tsize", "timeout", "windowsize"] as const;

export interface TftpOptions {
  blksize?: number;
  tsize?: number;
  timeout?: number;
  windowsize?: number;
  /** Every other option, in order; decoding sets it only when there is one. */
  other?: { name: string; value: string }[];
}

export type TftpPacket =
  | { op: "rrq" | "wrq"; filename: string; mode: string; options: TftpOptions }
  | { op: "data"; block: number; data: Uint8Array } // data is a view
  | { op: "ack"; block: number }
  | { op: "error"; code: number; message: string }
  | { op: "oack"; options: TftpOptions };

const OPCODES = { rrq: 1, wrq: 2, data: 3, ack: 4, error: 5, oack: 6 } as const;

export function decodeTftp(b: Uint8Array): Result<TftpPacket, TftpDecodeError> {
  if (b.length < 2) return fail("tftp-short");
  const op = (b[0]! << 8) | b[1]!;
  if (op === OPCODES.rrq || op === OPCODES.wrq) {
    const s = strings(b, 2);
    if (!s) return fail("tftp-unterminated");
    const [filename, mode, ...pairs] = s;
    if (!filename) return fail("tftp-empty-filename");
    if (mode === undefined) return fail("tftp-no-mode");
    if (!MODES.includes(mode.toLowerCase())) return fail("tftp-bad-mode");
    const options = readOptions(pairs);
    if (!options) return fail("tftp-bad-option");
    return ok({ op: op === OPCODES.rrq ? "rrq" : "wrq", filename, mode: mode.toLowerCase(), options });
  }
  if (op === OPCODES.oack) {
    const s = strings(b, 2);
    if (!s) return fail("tftp-unterminated");
    const options = readOptions(s);
    return options ? ok({ op: "oack", options }) : fail("tftp-bad-option");
  }
  if (op < OPCODES.data || op > OPCODES.error) return fail("tftp-bad-opcode");
  if (b.length < TFTP_DATA_HEADER_LEN) return fail("tftp-short");
  const n = (b[2]! << 8) | b[3]!;
  if (op === OPCODES.data) return ok({ op: "data", block: n, data: b.subarray(TFTP_DATA_HEADER_LEN) });
  if (op === OPCODES.ack) return ok({ op: "ack", block: n });
  const message = strings(b, 4)?.[0]; // anything after the message's NUL is ignored
  return message === undefined ? fail("tftp-unterminated") : ok({ op: "error", code: n, message });
}

/** The NUL-terminated strings from `off` to the end, or undefined if the last one has no NUL. */
function strings(b: Uint8Array, off: number): string[] | undefined {
  const list: string[] = [];
  while (off < b.length) {
    const nul = b.indexOf(0, off);
    if (nul < 0) return undefined;
    list.push(latin1(b.subarray(off, nul)));
    off = nul + 1;
  }
  return list;
}

/** Name/value pairs to options, or undefined for a missing value, an empty name or a typed value that is not a decimal number. */
function readOptions(pairs: string[]): TftpOptions | undefined {
  if (pairs.length % 2) return undefined;
  const options: TftpOptions = {};
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!;
    const value = pairs[i + 1]!;
    const key = NUMERIC.find((k) => k === name.toLowerCase());
    if (!name || (key && !/^\d{1,15}$/.test(value))) return undefined;
    if (key) options[key] = Number(value);
    else (options.other ??= []).push({ name, value });
  }
  return options;
}

// ---- encoding ----

/** A packet as its 16-bit words (opcode first), NUL-terminated strings and trailing data. */
function layout(p: TftpPacket): { words: number[]; strings: string[]; data?: Uint8Array } {
  switch (p.op) {
    case "rrq":
    case "wrq":
      return { words: [OPCODES[p.op]], strings: [p.filename, p.mode, ...optionStrings(p.options)] };
    case "data":
      return { words: [OPCODES.data, p.block], strings: [], data: p.data };
    case "ack":
      return { words: [OPCODES.ack, p.block], strings: [] };
    case "error":
      return { words: [OPCODES.error, p.code], strings: [p.message] };
    case "oack":
      return { words: [OPCODES.oack], strings: optionStrings(p.options) };
  }
}

function optionStrings(o: TftpOptions): string[] {
  const list: string[] = [];
  for (const key of NUMERIC) if (o[key] !== undefined) list.push(key, String(o[key]));
  for (const { name, value } of o.other ?? []) list.push(name, value);
  return list;
}

export function tftpLength(p: TftpPacket): number {
  const { words, strings, data } = layout(p);
  let n = 2 * words.length + (data?.length ?? 0);
  for (const s of strings) n += s.length + 1;
  return n;
}

/** Writes `p` at `off`; returns the number of bytes written. Strings must not contain NUL. */
export function encodeTftp(p: TftpPacket, buf: Uint8Array, off = 0): number {
  const { words, strings, data } = layout(p);
  let i = off;
  for (const w of words) {
    buf[i++] = w >>> 8;
    buf[i++] = w & 0xff;
  }
  for (const s of strings) {
    i = writeLatin1(buf, i, s);
    buf[i++] = 0;
  }
  if (data) {
    buf.set(data, i);
    i += data.length;
  }
  return i - off;
}
