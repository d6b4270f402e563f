// Directory listings for FTP: LIST's `ls -l` lines, the machine-readable facts of MLSD and
// MLST (RFC 3659), the time format of MDTM and modify=, and a Source that formats lines
// only as the data connection takes them. Names travel as UTF-8 (RFC 2640). Times are UTC:
// a device has no time zone.

import type { DirEntry, FileStat } from "../storage/storage.ts";
import { type Result, ok } from "../wire/result.ts";
import type { Source } from "./ftp-data.ts";
import { utf8Encode } from "../wire/text.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** `ls` shows the time of day for files younger than about half a year, else the year. */
const HALF_YEAR_MS = 182 * 24 * 3600 * 1000;

/** The facts MLST and MLSD can give, in the order they are written. */
export const MLST_FACTS = ["type", "size", "modify", "perm"] as const;
export type MlstFact = (typeof MLST_FACTS)[number];

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** YYYYMMDDHHMMSS in UTC, as MDTM and the modify fact give it. */
export function ftpTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}`;
}

/**
 * One line of `ls -l`, as clients parse it:
 * `-rw-r--r-- 1 ftp ftp         1234 Mar  5 14:07 name`, or with ` 2019` in place of the
 * time of day when the file is older than half a year (or in the future).
 */
export function lsLine(e: DirEntry, now: number, writable: boolean): string {
  const d = new Date(e.mtime);
  const age = now - e.mtime;
  const when = age >= 0 && age < HALF_YEAR_MS ? `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}` : ` ${d.getUTCFullYear()}`;
  const w = writable ? "w" : "-";
  const mode = e.isDirectory ? `dr${w}xr-xr-x` : `-r${w}-r--r--`;
  return `${mode} 1 ftp ftp ${String(e.size).padStart(12)} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${when} ${e.name}`;
}

/** RFC 3659's perm fact: what this user may do with the entry. */
function perm(e: FileStat, writable: boolean): string {
  if (e.isDirectory) return writable ? "cdeflmp" : "el";
  return writable ? "adfrw" : "r";
}

/** An MLSD line or MLST's fact line (without its leading space): `type=file;size=5;... name`. */
export function mlsxLine(e: FileStat, name: string, facts: readonly MlstFact[], writable: boolean): string {
  let s = "";
  for (const f of facts) {
    if (f === "type") s += `type=${e.isDirectory ? "dir" : "file"};`;
    else if (f === "size" && !e.isDirectory) s += `size=${e.size};`;
    else if (f === "modify") s += `modify=${ftpTime(e.mtime)};`;
    else if (f === "perm") s += `perm=${perm(e, writable)};`;
  }
  return `${s} ${name}`;
}

/** Lines made one at a time, each as the reader gets to it, and sent as UTF-8 with CR LF. */
export class LineSource implements Source {
  private pending: Uint8Array = new Uint8Array(0);
  private off = 0;
  private next = 0;

  constructor(
    private readonly count: number,
    private readonly line: (i: number) => string,
  ) {}

  read(out: Uint8Array): Result<number> {
    let n = 0;
    while (n < out.length) {
      if (this.off === this.pending.length) {
        if (this.next === this.count) break;
        this.pending = utf8Encode(`${this.line(this.next++)}\r\n`);
        this.off = 0;
      }
      const k = Math.min(out.length - n, this.pending.length - this.off);
      out.set(this.pending.subarray(this.off, this.off + k), n);
      n += k;
      this.off += k;
    }
    return ok(n);
  }
}
