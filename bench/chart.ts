// `npm run bench -- --svg FILE`: the same-run comparison (bench/compare.ts) as a bar chart, a
// self-contained SVG written by hand: one panel for the GET's MB/s, one for ping's RTT.

import { type Comparison, type Figure, SERVERS, type Server } from "./compare.ts";

const COLOURS: Record<Server, string> = { ours: "#2f6fb0", lwIP: "#d9822b", kernel: "#7d7d7d" };
const WIDTH = 760;
const HEIGHT = 380;
const PANEL = { top: 84, height: 200, width: 300 };

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function text(x: number, y: number, s: string, attrs = ""): string {
  return `<text x="${x}" y="${y}" ${attrs}>${xmlEscape(s)}</text>`;
}

/** A step of 1, 2 or 5 times a power of ten that cuts 0..max into at most 5 parts. */
function tickStep(max: number): number {
  const base = 10 ** Math.floor(Math.log10(max / 5));
  return [1, 2, 5, 10].map((m) => m * base).find((step) => max / step <= 5)!;
}

function panel(left: number, title: string, subtitle: string, f: Figure, digits: number): string {
  const { top, height, width } = PANEL;
  const bottom = top + height;
  const max = Math.max(...SERVERS.map((s) => f.value[s]));
  const step = tickStep(max || 1); // all zero: still a scale
  const scaleMax = Math.ceil((max * 1.08) / step) * step;
  const y = (v: number) => bottom - (v / scaleMax) * height;
  const centre = left + 40 + (width - 40) / 2;
  const out = [
    text(centre, top - 30, title, 'font-size="14" font-weight="bold" text-anchor="middle"'),
    text(centre, top - 14, subtitle, 'font-size="12" text-anchor="middle" fill="#555"'),
  ];
  for (let v = 0; v <= scaleMax + step / 2; v += step) {
    const label = Number(v.toFixed(6)).toString();
    out.push(`<line x1="${left + 40}" x2="${left + width}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(text(left + 34, y(v) + 4, label, 'font-size="11" text-anchor="end" fill="#555"'));
  }
  const slot = (width - 40) / SERVERS.length;
  for (const [i, s] of SERVERS.entries()) {
    const x = left + 40 + i * slot + slot * 0.2;
    const w = slot * 0.6;
    const v = f.value[s];
    out.push(`<rect x="${x}" y="${y(v)}" width="${w}" height="${bottom - y(v)}" fill="${COLOURS[s]}"/>`);
    out.push(text(x + w / 2, y(v) - 5, v.toFixed(digits), 'font-size="12" text-anchor="middle"'));
    out.push(text(x + w / 2, bottom + 16, s, 'font-size="13" text-anchor="middle"'));
  }
  out.push(`<line x1="${left + 40}" x2="${left + width}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
  const ratios = `ours/lwIP ${f.oursOverLwip.toPrecision(3)} · ours/kernel ${f.oursOverKernel.toPrecision(3)}`;
  out.push(text(centre, bottom + 38, ratios, 'font-size="12" text-anchor="middle" fill="#333"'));
  return out.join("\n  ");
}

export function chart(c: Comparison): string {
  const mib = c.bodyBytes / 2 ** 20;
  const body = [
    text(WIDTH / 2, 26, "ours, lwIP and the Linux kernel, measured in one run", 'font-size="17" font-weight="bold" text-anchor="middle"'),
    panel(40, `HTTP GET of ${mib} MiB by curl`, "MB/s, higher is better", c.getMBps, 0),
    panel(420, "ping round trip", "median ms, lower is better", c.pingMs, 3),
    ...[
      "curl and ping over a TAP (ours, lwIP) or a veth (kernel), every link MTU 1500;",
      `medians of ${c.rounds} alternating rounds; each ratio is the median of the rounds' ratios`,
    ].map((line, i) => text(WIDTH / 2, HEIGHT - 28 + 15 * i, line, 'font-size="11" text-anchor="middle" fill="#555"')),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif">`,
    `  <rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `  ${body.join("\n  ")}`,
    "</svg>",
    "",
  ].join("\n");
}
