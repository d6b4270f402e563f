// Reading a ladder back for tests: its columns and arrows out of the SVG, and the pixels of
// the PNG a renderer made of it (8-bit RGB or RGBA, non-interlaced, as rsvg-convert writes).

import { inflateSync } from "node:zlib";

export interface Arrow {
  n: number;
  kinds: string[];
  src: string;
  dst: string;
  conn?: string;
  /** Label lines: the application's words (if any) above the trace's words. */
  app?: string;
  words: string;
  title: string;
  /** Where the arrow starts and ends, and its colour. */
  x1: number;
  x2: number;
  stroke: string;
}

export interface Drawn {
  /** Column centres by host. */
  columns: Map<string, number>;
  arrows: Arrow[];
  /** The texts of the idle-gap marks. */
  idle: string[];
  /** Every text outside the arrows (legend, caption). */
  notes: string[];
}

export function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e]!);
}

const texts = (s: string) => [...s.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => unescapeXml(m[1]!));

export function readLadder(svg: string): Drawn {
  const columns = new Map<string, number>();
  for (const m of svg.matchAll(/<g class="host" data-host="([^"]*)"><text x="([\d.]+)"/g)) columns.set(unescapeXml(m[1]!), Number(m[2]));
  const arrows: Arrow[] = [];
  for (const m of svg.matchAll(/<g class="([^"]*)" data-n="(\d+)" data-src="([^"]*)" data-dst="([^"]*)"(?: data-conn="([^"]*)")?>(.*?)<\/g>/g)) {
    const inner = m[6]!;
    const [, , words, app] = texts(inner); // frame number, time, words, then the application's words
    // A line between two columns, or a loop (a path) for a frame a host sends itself.
    const line = /<(?:line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)" y2="[\d.]+"|path d="[^"]*" fill="none") stroke="([^"]+)"/.exec(inner);
    const arrow: Arrow = {
      n: Number(m[2]),
      kinds: m[1]!.split(" "),
      src: unescapeXml(m[3]!),
      dst: unescapeXml(m[4]!),
      words: words ?? "",
      title: unescapeXml(/<title>([^<]*)<\/title>/.exec(inner)?.[1] ?? ""),
      x1: Number(line?.[1]),
      x2: Number(line?.[2]),
      stroke: line?.[3] ?? "",
    };
    if (m[5] !== undefined) arrow.conn = unescapeXml(m[5]);
    if (app !== undefined) arrow.app = app;
    arrows.push(arrow);
  }
  const idle = [...svg.matchAll(/<g class="idle">(.*?)<\/g>/g)].flatMap((m) => texts(m[1]!));
  const outside = svg.replace(/<g class="(frame|host|idle)[^"]*"[^>]*>.*?<\/g>/g, "");
  return { columns, arrows, idle, notes: texts(outside) };
}

/** "src > dst: app | words" for each arrow, for golden comparisons. */
export function lines(d: Drawn): string[] {
  return d.arrows.map((a) => `${a.src} > ${a.dst}: ${a.app ? `${a.app} | ` : ""}${a.words}`);
}

export interface Png {
  width: number;
  height: number;
  /** RGB triples, row by row. */
  rgb: Uint8Array;
}

export function decodePng(b: Uint8Array): Png {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(0) !== 0x89504e47) throw new Error("not a PNG");
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  for (let off = 8; off + 8 <= b.length; ) {
    const length = v.getUint32(off);
    const type = String.fromCharCode(...b.subarray(off + 4, off + 8));
    const data = b.subarray(off + 8, off + 8 + length);
    if (type === "IHDR") {
      width = v.getUint32(off + 8);
      height = v.getUint32(off + 12);
      const [depth, colour, , , interlace] = data.subarray(8);
      if (depth !== 8 || interlace !== 0 || (colour !== 2 && colour !== 6)) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}`);
      channels = colour === 2 ? 3 : 4;
    } else if (type === "IDAT") idat.push(data);
    off += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) unfilter(raw, y * (stride + 1), pixels, y * stride, stride, channels);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    // Composited over white, as a viewer shows a transparent pixel.
    const a = channels === 4 ? pixels[i * 4 + 3]! / 255 : 1;
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(pixels[i * channels + c]! * a + 255 * (1 - a));
  }
  return { width, height, rgb };
}

/** Undoes one row's filter (PNG spec, 9.2) into `out`. */
function unfilter(raw: Uint8Array, at: number, out: Uint8Array, to: number, stride: number, bpp: number): void {
  const type = raw[at]!;
  for (let i = 0; i < stride; i++) {
    const x = raw[at + 1 + i]!;
    const a = i >= bpp ? out[to + i - bpp]! : 0;
    const up = to >= stride ? out[to - stride + i]! : 0;
    const c = i >= bpp && to >= stride ? out[to - stride + i - bpp]! : 0;
    let p = 0;
    if (type === 1) p = a;
    else if (type === 2) p = up;
    else if (type === 3) p = (a + up) >> 1;
    else if (type === 4) {
      const e = a + up - c;
      const [da, db, dc] = [Math.abs(e - a), Math.abs(e - up), Math.abs(e - c)];
      p = da <= db && da <= dc ? a : db <= dc ? up : c;
    }
    out[to + i] = (x + p) & 0xff;
  }
}

/** How many pixels have exactly this colour ("#rrggbb"). */
export function countColour(png: Png, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < png.rgb.length; i += 3) if (png.rgb[i] === r && png.rgb[i + 1] === g && png.rgb[i + 2] === b) n++;
  return n;
}

/** The share of pixels that are not white. */
export function inked(png: Png): number {
  let n = 0;
  for (let i = 0; i < png.rgb.length; i += 3) if (png.rgb[i]! < 250 || png.rgb[i + 1]! < 250 || png.rgb[i + 2]! < 250) n++;
  return n / (png.width * png.height);
}
