// Line ends between local files (LF) and the network's CR LF, as streams: FTP's TYPE A
// (RFC 959 3.1.1.1) and TFTP's netascii (RFC 1350, after Telnet's NVT, RFC 854). They
// differ only in a bare CR: netascii sends it as CR NUL, while TYPE A as clients speak it
// leaves it alone. A pair split across two reads or two segments is handled either way.

import { type Result, ok } from "../wire/result.ts";

const CR = 13;
const LF = 10;
const NUL = 0;

/** How a CR that is not part of a line end travels: as CR NUL (netascii), or as a CR. */
export type BareCr = "cr-nul" | "as-is";

/** Local bytes to the network's: every LF goes out as CR LF, whatever precedes it, so the receiver gets back exactly what is stored. */
export class NetasciiEncoder {
  private readonly buf: Uint8Array;
  private pos = 0;
  private len = 0;
  private carry = -1; // the second byte of a pair that did not fit
  private eof = false;

  constructor(
    private readonly source: (buf: Uint8Array) => Result<number>,
    chunk = 512,
    private readonly bareCr: BareCr = "cr-nul",
  ) {
    this.buf = new Uint8Array(chunk);
  }

  /** Fills `out`; fewer bytes than its length only at the end of the input (0 then means the end). */
  read(out: Uint8Array): Result<number> {
    let n = 0;
    while (n < out.length) {
      if (this.carry >= 0) {
        out[n++] = this.carry;
        this.carry = -1;
      } else if (this.pos < this.len) {
        const c = this.buf[this.pos++]!;
        out[n++] = c === LF ? CR : c;
        if (c === LF) this.carry = LF;
        else if (c === CR && this.bareCr === "cr-nul") this.carry = NUL;
      } else if (this.eof) break;
      else {
        const r = this.source(this.buf);
        if (!r.ok) return r;
        this.pos = 0;
        this.len = r.value;
        this.eof = r.value === 0;
      }
    }
    return ok(n);
  }
}

/** The network's bytes to local ones: CR LF comes in as LF (and CR NUL as CR for netascii); any other CR is kept as it is. */
export class NetasciiDecoder {
  private cr = false;

  constructor(private readonly bareCr: BareCr = "cr-nul") {}

  decode(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data.length + 1);
    let n = 0;
    for (let i = 0; i < data.length; i++) {
      const c = data[i]!;
      if (this.cr) {
        this.cr = false;
        if (c === LF) {
          out[n++] = LF;
          continue;
        }
        out[n++] = CR;
        if (c === NUL && this.bareCr === "cr-nul") continue;
      }
      if (c === CR) this.cr = true;
      else out[n++] = c;
    }
    return out.subarray(0, n);
  }

  /** What is still held at the end of the input: a final CR stands for itself. */
  end(): Uint8Array {
    const tail = this.cr ? Uint8Array.of(CR) : new Uint8Array(0);
    this.cr = false;
    return tail;
  }
}
