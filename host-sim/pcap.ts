// Capture files: classic pcap (read in either byte order with micro- or nanosecond stamps;
// written little-endian with microseconds) and pcapng (read only: section header, interface
// description, enhanced and simple packet blocks; other blocks are skipped). Plain Uint8Array
// and DataView, no Buffer. Decoders never throw: a file that goes bad part-way keeps the
// packets read so far and names the problem in `error`.

import { type Result, ok, fail } from "../modules/wire/result.ts";

export const LINKTYPE_ETHERNET = 1;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
/** Snapshot length written in pcap headers; large enough for any frame we produce. */
export const PCAP_SNAPLEN = 262_144;

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;
const PCAPNG_IDB = 1;
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
const OPT_IF_TSRESOL = 9;

export interface PcapPacket {
  /** Seconds since the Unix epoch. */
  seconds: number;
  /** Nanoseconds within the second. */
  nanos: number;
  /** Captured bytes: a view into the file's bytes (no copy). */
  data: Uint8Array;
  /** Length on the wire; more than data.length when the capture cut the packet short. */
  originalLength: number;
  linkType: number;
}

export interface Capture {
  format: "pcap" | "pcapng";
  packets: PcapPacket[];
  /** Why reading stopped early, if it did; the packets before that point are kept. */
  error?: string;
}

/** What the writer needs of a packet: originalLength defaults to data.length. */
export type WritablePacket = Pick<PcapPacket, "seconds" | "nanos" | "data"> & { originalLength?: number };

/** Splits milliseconds since the epoch (a clock reading) into whole seconds and nanoseconds. */
export function timestampFromMs(ms: number): { seconds: number; nanos: number } {
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds++;
    nanos -= 1e9;
  }
  return { seconds, nanos };
}

export function timestampToMs(p: Pick<PcapPacket, "seconds" | "nanos">): number {
  return p.seconds * 1000 + p.nanos / 1e6;
}

// ---- classic pcap, writing

/** Writes a little-endian, microsecond pcap file header at `off`; returns the bytes written. */
export function encodePcapHeader(buf: Uint8Array, off = 0, linkType = LINKTYPE_ETHERNET): number {
  const v = new DataView(buf.buffer, buf.byteOffset + off, PCAP_HEADER_LEN);
  v.setUint32(0, MAGIC_MICRO, true);
  v.setUint16(4, 2, true); // version 2.4
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true); // this zone: always UTC
  v.setUint32(12, 0, true); // sigfigs
  v.setUint32(16, PCAP_SNAPLEN, true);
  v.setUint32(20, linkType, true);
  return PCAP_HEADER_LEN;
}

export function pcapRecordLength(p: WritablePacket): number {
  return PCAP_RECORD_HEADER_LEN + p.data.length;
}

/** Writes one record (microsecond stamp; sub-microsecond digits are dropped) at `off`; returns the bytes written. */
export function encodePcapRecord(p: WritablePacket, buf: Uint8Array, off = 0): number {
  const v = new DataView(buf.buffer, buf.byteOffset + off, PCAP_RECORD_HEADER_LEN);
  v.setUint32(0, p.seconds, true);
  v.setUint32(4, Math.floor(p.nanos / 1000), true);
  v.setUint32(8, p.data.length, true);
  v.setUint32(12, p.originalLength ?? p.data.length, true);
  buf.set(p.data, off + PCAP_RECORD_HEADER_LEN);
  return pcapRecordLength(p);
}

/** A whole pcap file. */
export function encodePcap(packets: readonly WritablePacket[], linkType = LINKTYPE_ETHERNET): Uint8Array {
  const out = new Uint8Array(packets.reduce((n, p) => n + pcapRecordLength(p), PCAP_HEADER_LEN));
  let off = encodePcapHeader(out, 0, linkType);
  for (const p of packets) off += encodePcapRecord(p, out, off);
  return out;
}

// ---- reading

/** Reads pcap or pcapng, told apart by their first four bytes. */
export function decodeCapture(b: Uint8Array): Result<Capture> {
  return b.length >= 4 && view(b).getUint32(0) === PCAPNG_SHB ? decodePcapng(b) : decodePcap(b);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function decodePcap(b: Uint8Array): Result<Capture> {
  if (b.length < PCAP_HEADER_LEN) return fail("pcap-short");
  const v = view(b);
  let le = true;
  let magic = v.getUint32(0, true);
  if (magic !== MAGIC_MICRO && magic !== MAGIC_NANO) {
    le = false;
    magic = v.getUint32(0, false);
    if (magic !== MAGIC_MICRO && magic !== MAGIC_NANO) return fail("pcap-bad-magic");
  }
  if (v.getUint16(4, le) !== 2) return fail("pcap-bad-version");
  const fractionToNanos = magic === MAGIC_NANO ? 1 : 1000;
  const linkType = v.getUint32(20, le) & 0xffff; // the upper bits may describe an FCS
  const capture: Capture = { format: "pcap", packets: [] };
  for (let off = PCAP_HEADER_LEN; off < b.length; ) {
    if (off + PCAP_RECORD_HEADER_LEN > b.length) return ok({ ...capture, error: "pcap-truncated" });
    const included = v.getUint32(off + 8, le);
    const start = off + PCAP_RECORD_HEADER_LEN;
    if (included > b.length - start) return ok({ ...capture, error: "pcap-truncated" });
    capture.packets.push({
      seconds: v.getUint32(off, le),
      nanos: v.getUint32(off + 4, le) * fractionToNanos,
      data: b.subarray(start, start + included),
      originalLength: v.getUint32(off + 12, le),
      linkType,
    });
    off = start + included;
  }
  return ok(capture);
}

interface Interface {
  linkType: number;
  snapLen: number;
  unitsPerSecond: bigint; // timestamp resolution
}

/** pcapng: a sequence of sections, each a section header block followed by blocks in its byte order. */
export function decodePcapng(b: Uint8Array): Result<Capture> {
  const v = view(b);
  if (b.length < 4 || v.getUint32(0) !== PCAPNG_SHB) return fail("pcapng-bad-magic");
  const capture: Capture = { format: "pcapng", packets: [] };
  const stop = (error: string) => ok({ ...capture, error });
  let le = true;
  let interfaces: Interface[] = [];
  let last = { seconds: 0, nanos: 0 };
  for (let off = 0; off < b.length; ) {
    if (off + 12 > b.length) return stop("pcapng-truncated");
    const type = v.getUint32(off, le);
    if (type === PCAPNG_SHB) {
      // A new section may switch byte order; its byte-order magic says which.
      const bom = v.getUint32(off + 8, true);
      if (bom !== PCAPNG_BYTE_ORDER && v.getUint32(off + 8, false) !== PCAPNG_BYTE_ORDER) return stop("pcapng-bad-byte-order");
      le = bom === PCAPNG_BYTE_ORDER;
      interfaces = [];
    }
    const total = v.getUint32(off + 4, le);
    if (total < 12 || total % 4) return stop("pcapng-bad-block-length");
    if (total > b.length - off) return stop("pcapng-truncated");
    if (v.getUint32(off + total - 4, le) !== total) return stop("pcapng-bad-block-length");
    const body = b.subarray(off + 8, off + total - 4);
    const bv = view(body);
    if (type === PCAPNG_SHB) {
      if (body.length < 16 || bv.getUint16(4, le) !== 1) return stop("pcapng-bad-version");
    } else if (type === PCAPNG_IDB) {
      const iface = readInterface(body, le);
      if (!iface) return stop("pcapng-bad-interface");
      interfaces.push(iface);
    } else if (type === PCAPNG_EPB) {
      if (body.length < 20) return stop("pcapng-bad-packet");
      const iface = interfaces[bv.getUint32(0, le)];
      if (!iface) return stop("pcapng-unknown-interface");
      const captured = bv.getUint32(12, le);
      if (captured > body.length - 20) return stop("pcapng-bad-packet");
      const units = (BigInt(bv.getUint32(4, le)) << 32n) | BigInt(bv.getUint32(8, le));
      last = {
        seconds: Number(units / iface.unitsPerSecond),
        nanos: Number(((units % iface.unitsPerSecond) * 1_000_000_000n) / iface.unitsPerSecond),
      };
      const data = body.subarray(20, 20 + captured);
      capture.packets.push({ ...last, data, originalLength: bv.getUint32(16, le), linkType: iface.linkType });
    } else if (type === PCAPNG_SPB) {
      // No interface id (it is always the first) and no timestamp: it takes the time of the packet before it.
      const iface = interfaces[0];
      if (!iface) return stop("pcapng-unknown-interface");
      if (body.length < 4) return stop("pcapng-bad-packet");
      const originalLength = bv.getUint32(0, le);
      const captured = Math.min(originalLength, iface.snapLen || originalLength, body.length - 4);
      capture.packets.push({ ...last, data: body.subarray(4, 4 + captured), originalLength, linkType: iface.linkType });
    }
    off += total;
  }
  return ok(capture);
}

/** Interface description block body: link type, snap length, and the if_tsresol option (default microseconds). */
function readInterface(body: Uint8Array, le: boolean): Interface | undefined {
  if (body.length < 8) return undefined;
  const v = view(body);
  const iface: Interface = { linkType: v.getUint16(0, le), snapLen: v.getUint32(4, le), unitsPerSecond: 1_000_000n };
  for (let off = 8; off + 4 <= body.length; ) {
    const code = v.getUint16(off, le);
    const length = v.getUint16(off + 2, le);
    if (code === 0) break; // end of options
    if (off + 4 + length > body.length) return undefined;
    if (code === OPT_IF_TSRESOL && length >= 1) {
      const r = body[off + 4]!;
      const exponent = BigInt(r & 0x7f);
      iface.unitsPerSecond = r & 0x80 ? 1n << exponent : 10n ** exponent; // top bit: a power of two, else of ten
    }
    off += 4 + ((length + 3) & ~3); // values are padded to 32 bits
  }
  return iface;
}
