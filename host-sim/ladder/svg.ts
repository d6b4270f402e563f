// Draws a ladder (sequence) diagram as a self-contained SVG: a column per host, an arrow per
// frame from sender to receiver, one row per frame with the time on the left, and idle gaps
// cut short and marked. Every text comes from a capture, so all of it is escaped; the same
// input always gives the same bytes.

import { BROADCAST, type LadderFrame } from "./analyse.ts";

export interface Picture {
  /** What the picture shows, for readers that cannot see it. */
  title: string;
  frames: readonly LadderFrame[];
  /** MAC shown under an IP column's address. */
  macOf: ReadonlyMap<string, string>;
  /** Gaps between drawn frames longer than this (ms) take one short marked row. */
  idleMs: number;
  /** Lines under the ladder: what was drawn from what. */
  caption: string[];
}

const FONT = 11;
const CHAR = 6.7; // advance of an 11 px monospace character, a little more than DejaVu Sans Mono's
const MAX_CHARS = 84; // longer labels are cut, the whole line stays in the frame's tooltip
const LEFT = 150; // time and frame number
const TOP = 56; // host names
const ROW = 38;
const BREAK = 30;
const MARGIN = 20;
const LINE = 16; // caption and legend lines
const PALETTE = ["#1f77b4", "#2ca02c", "#9467bd", "#e67e00", "#8c564b", "#d6399b", "#0f9aa8", "#8a8a00", "#0b5394", "#38761d", "#741b47", "#134f5c"];
const PLAIN = "#555555"; // frames outside any 4-tuple: ARP, ICMP
const MALFORMED = "#d00000";
const RETRANSMITTED = "#c05000";

export function renderSvg(p: Picture): string {
  const columns = columnsOf(p.frames);
  const at = new Map(columns.map((c, i) => [c, i]));
  const colours = coloursOf(p.frames);
  const gap = columnGap(p.frames, at);
  const x = (host: string) => LEFT + gap / 2 + at.get(host)! * gap;
  const width = Math.round(
    Math.max(LEFT + Math.max(columns.length, 1) * gap, ...p.frames.filter((f) => f.src === f.dst).map((f) => x(f.src) + 40 + labelWidth(f))) + MARGIN,
  );
  const body: string[] = [];
  const bands: string[] = [];
  const breaks: number[] = [];
  let y = TOP;
  let last: LadderFrame | undefined;
  for (const f of p.frames) {
    if (last && f.t - last.t > p.idleMs) {
      bands.push(idleMark(y, width, f.t - last.t, f.n - last.n - 1));
      breaks.push(y);
      y += BREAK;
    }
    y += ROW;
    last = f;
    body.push(frame(f, y, x(f.src), x(f.dst), colours));
  }
  const end = y + ROW / 2;
  const legend = [...colours].map(([conn, colour], i) => swatch(end + LINE * (i + 1), conn, colour));
  const caption = p.caption.map((c, i) => text(MARGIN, end + LINE * (colours.size + i + 2), c, { fill: "#333" }));
  const height = Math.round(end + LINE * (colours.size + p.caption.length + 2));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="${FONT}">`,
    `<title>${esc(p.title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...bands,
    ...columns.map((c) => lifeline(c, x(c), end, breaks, p.macOf.get(c))),
    ...body,
    ...legend,
    ...caption,
    "</svg>",
    "",
  ].join("\n");
}

/** Hosts in the order they first appear; the broadcast column goes last. */
function columnsOf(frames: readonly LadderFrame[]): string[] {
  const seen = new Set<string>();
  for (const f of frames) seen.add(f.src).add(f.dst);
  return [...seen].filter((c) => c !== BROADCAST).concat(seen.has(BROADCAST) ? [BROADCAST] : []);
}

function coloursOf(frames: readonly LadderFrame[]): Map<string, string> {
  const colours = new Map<string, string>();
  for (const f of frames) if (f.conn && !colours.has(f.conn)) colours.set(f.conn, PALETTE[colours.size % PALETTE.length]!);
  return colours;
}

/** Wide enough for most labels between the columns their arrow spans, within bounds. */
function columnGap(frames: readonly LadderFrame[], at: Map<string, number>): number {
  let gap = 220;
  for (const f of frames) {
    const span = Math.max(1, Math.abs(at.get(f.src)! - at.get(f.dst)!));
    gap = Math.max(gap, (labelWidth(f) + 40) / span);
  }
  return Math.round(Math.min(gap, MAX_CHARS * CHAR + 40));
}

function labelWidth(f: LadderFrame): number {
  return Math.min(MAX_CHARS, Math.max(visible(label(f)).length, visible(f.app ?? "").length)) * CHAR;
}

function lifeline(host: string, x: number, end: number, breaks: number[], mac: string | undefined): string {
  const parts = [`<g class="host" data-host="${esc(host)}">`, text(x, 22, host, { anchor: "middle", weight: "bold" })];
  if (mac) parts.push(text(x, 36, mac, { anchor: "middle", fill: "#666" }));
  // Broken where idle time was cut out: the gap between two short slanted strokes.
  let from = TOP - 12;
  for (const b of [...breaks, end]) {
    parts.push(`<line x1="${n(x)}" y1="${from}" x2="${n(x)}" y2="${b + 14}" stroke="#bbbbbb"/>`);
    if (b !== end) parts.push(`<path d="M${n(x - 6)} ${b + 17} l12 -6 M${n(x - 6)} ${b + 25} l12 -6" stroke="#888888"/>`);
    from = b + 22;
  }
  parts.push("</g>");
  return parts.join("");
}

/** A band across the ladder where idle time was cut out; it also counts the frames filtered out there. */
function idleMark(y: number, width: number, ms: number, hidden: number): string {
  const words = `… ${(ms / 1000).toFixed(3)} s later${hidden > 0 ? ` (${hidden} frame${hidden > 1 ? "s" : ""} not drawn)` : ""}`;
  return `<g class="idle"><rect x="0" y="${y + 10}" width="${width}" height="18" fill="#f0f0f0"/>${text(MARGIN, y + 23, words, { fill: "#666" })}</g>`;
}

function frame(f: LadderFrame, y: number, x1: number, x2: number, colours: Map<string, string>): string {
  const colour = f.malformed ? MALFORMED : f.conn ? colours.get(f.conn)! : PLAIN;
  const kinds = ["frame", ...f.protos, ...(f.retransmission ? ["retransmission"] : []), ...(f.malformed ? ["malformed"] : [])];
  const attrs = `class="${esc(kinds.join(" "))}" data-n="${f.n}" data-src="${esc(f.src)}" data-dst="${esc(f.dst)}"${f.conn ? ` data-conn="${esc(f.conn)}"` : ""}`;
  const dash = f.malformed ? ` stroke-dasharray="2 3"` : f.retransmission ? ` stroke-dasharray="6 3"` : "";
  const parts = [`<g ${attrs}>`, `<title>${esc(`#${f.n} ${seconds(f.t)} s: ${[...marks(f), f.trace].join(" ")}`)}</title>`];
  parts.push(text(MARGIN, y + 4, `#${f.n}`, { fill: "#999" }), text(LEFT - 14, y + 4, seconds(f.t), { anchor: "end", fill: "#333" }));
  const self = x1 === x2;
  // Labels sit above the arrow, centred over it (to the right of a frame a host sends itself).
  const lx = self ? x1 + 40 : (x1 + x2) / 2;
  const anchor = self ? "start" : "middle";
  parts.push(text(lx, y - 5, cut(label(f)), { anchor, fill: f.malformed ? MALFORMED : f.retransmission ? RETRANSMITTED : "#000", halo: true }));
  if (f.app) parts.push(text(lx, y - 19, cut(f.app), { anchor, fill: colour, weight: "bold", halo: true }));
  parts.push(arrow(x1, x2, y, colour, dash, f.malformed !== undefined), "</g>");
  return parts.join("");
}

/** A line from x1 to x2 (a loop when they are the same) ending in an arrowhead, or in a cross where it was dropped. */
function arrow(x1: number, x2: number, y: number, colour: string, dash: string, dropped: boolean): string {
  const self = x1 === x2;
  const line = self
    ? `<path d="M${n(x1)} ${y - 6} h30 v10 h-28" fill="none" stroke="${colour}"${dash}/>`
    : `<line x1="${n(x1)}" y1="${y}" x2="${n(x2 - Math.sign(x2 - x1) * 3)}" y2="${y}" stroke="${colour}" stroke-width="1.5"${dash}/>`;
  const [tip, ty, dir] = self ? [x1 + 2, y + 4, -1] : [x2, y, Math.sign(x2 - x1)];
  const end = dropped
    ? `<path class="drop" d="M${n(tip - 5)} ${ty - 5} l10 10 M${n(tip - 5)} ${ty + 5} l10 -10" stroke="${MALFORMED}" stroke-width="2"/>`
    : `<path d="M${n(tip)} ${ty} l${-dir * 8} -4 v8 z" fill="${colour}"/>`;
  return line + end;
}

/** The trace's words, and what is wrong with the frame if they do not already say. */
function label(f: LadderFrame): string {
  return [...marks(f), f.words].join(" ");
}

function marks(f: LadderFrame): string[] {
  const m = f.retransmission ? ["[retransmission]"] : [];
  if (f.malformed && !f.trace.includes(`[${f.malformed}]`)) m.push(`[${f.malformed}]`);
  return m;
}

function swatch(y: number, conn: string, colour: string): string {
  return `<g class="conn"><rect x="${MARGIN}" y="${y - 9}" width="24" height="10" fill="${colour}"/>${text(MARGIN + 32, y, conn, {})}</g>`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(6);
}

function n(v: number): string {
  return String(Math.round(v * 10) / 10);
}

interface TextStyle {
  anchor?: "start" | "middle" | "end";
  fill?: string;
  weight?: "bold";
  /** A white outline, so that lifelines do not run through the letters. */
  halo?: boolean;
}

function text(x: number, y: number, s: string, style: TextStyle): string {
  const attrs = [`x="${n(x)}"`, `y="${n(y)}"`];
  if (style.anchor && style.anchor !== "start") attrs.push(`text-anchor="${style.anchor}"`);
  if (style.fill) attrs.push(`fill="${style.fill}"`);
  if (style.weight) attrs.push(`font-weight="${style.weight}"`);
  if (style.halo) attrs.push(`stroke="#ffffff" stroke-width="3" paint-order="stroke"`);
  return `<text ${attrs.join(" ")}>${esc(s)}</text>`;
}

/** A label cut to length, counting the characters shown for control characters. */
function cut(text: string): string {
  const s = visible(text);
  return s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS - 1)}…` : s;
}

const ENTITIES = new Map([
  ["&", "&amp;"],
  ["<", "&lt;"],
  [">", "&gt;"],
  ['"', "&quot;"],
  ["'", "&#39;"],
]);

/**
 * The characters XML cannot carry at all (C0 controls, and DEL and C1 controls with them;
 * lone surrogates) written out as \xNN or \uNNNN, so that a label shows what was sent.
 */
export function visible(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += s.slice(i, i + 2);
      i++;
    } else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if ((c >= 0xd800 && c < 0xe000) || c >= 0xfffe) out += `\\u${c.toString(16)}`;
    else out += s[i];
  }
  return out;
}

/** Text safe in XML and HTML, in content and in quoted attributes. */
export function esc(s: string): string {
  return visible(s).replace(/[&<>"']/g, (c) => ENTITIES.get(c)!);
}

/** An HTML page with the SVG inline, so that one file shows it anywhere. */
export function renderHtml(title: string, svg: string): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${esc(title)}</title>`,
    "<style>body{margin:1em;font-family:sans-serif} g.frame:hover text{font-weight:bold} g.frame:hover line{stroke-width:3}</style></head>",
    `<body><h1>${esc(title)}</h1>`,
    svg.trimEnd(),
    "</body></html>",
    "",
  ].join("\n");
}
