// `npm run bench -- --svg FILE`: the same-run comparison (bench/compare.ts) as a bar chart, a
// self-contained SVG written by hand: one panel for the GET's MB/s, one for ping's RTT; and
// below them (or alone, when the comparison could not run) goodput under loss with SACK and
// without (bench/sack.ts), on a logarithmic scale.

import { type Comparison, type Figure, SERVERS, type Server } from "./compare.ts";
import { BUFFERS, LOSSES, type LossPoint } from "./sack.ts";

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

const LOSS = { height: 330, plot: { left: 110, top: 70, width: 420, height: 210 } };
const SERIES_COLOURS = ["#2f6fb0", "#d9822b"]; // one per buffer size

/** Goodput against loss, one line per buffer size and SACK setting, starting `top` px down. */
function lossPanel(top: number, points: LossPoint[]): string {
  const { left, width, height } = LOSS.plot;
  const plotTop = top + LOSS.plot.top;
  const bottom = plotTop + height;
  const mib = points.map((p) => p.goodput / 2 ** 20);
  const lo = Math.floor(Math.log10(Math.min(...mib)));
  const hi = Math.ceil(Math.log10(Math.max(...mib)));
  const y = (v: number) => bottom - ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * height;
  const x = (loss: number) => left + (LOSSES.indexOf(loss) / (LOSSES.length - 1)) * width;
  const out = [
    text(WIDTH / 2, top + 26, "goodput under loss, with SACK and without", 'font-size="17" font-weight="bold" text-anchor="middle"'),
    text(
      WIDTH / 2,
      top + 44,
      "1 MiB on the virtual LAN; MiB per virtual second, median of the seeds, log scale",
      'font-size="12" text-anchor="middle" fill="#555"',
    ),
  ];
  for (let e = lo; e <= hi; e++) {
    out.push(`<line x1="${left}" x2="${left + width}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/>`);
    out.push(text(left - 6, y(10 ** e) + 4, Number((10 ** e).toPrecision(1)).toString(), 'font-size="11" text-anchor="end" fill="#555"'));
  }
  for (const loss of LOSSES) out.push(text(x(loss), bottom + 18, `${loss * 100}% loss`, 'font-size="12" text-anchor="middle"'));
  out.push(`<line x1="${left}" x2="${left + width}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
  for (const [i, buffers] of Object.keys(BUFFERS).entries()) {
    for (const sack of [true, false]) {
      const line = LOSSES.map((loss) => points.find((p) => p.loss === loss && p.buffers === buffers && p.sack === sack)!);
      const xy = line.map((p) => `${x(p.loss)},${y(p.goodput / 2 ** 20)}`).join(" ");
      const dash = sack ? "" : ' stroke-dasharray="6 4"';
      out.push(`<polyline points="${xy}" fill="none" stroke="${SERIES_COLOURS[i]}" stroke-width="2"${dash}/>`);
      for (const p of line) out.push(`<circle cx="${x(p.loss)}" cy="${y(p.goodput / 2 ** 20)}" r="3" fill="${SERIES_COLOURS[i]}"/>`);
      const legendY = plotTop + 12 + (i * 2 + (sack ? 0 : 1)) * 20;
      const lx = left + width + 30;
      out.push(`<line x1="${lx}" x2="${lx + 30}" y1="${legendY}" y2="${legendY}" stroke="${SERIES_COLOURS[i]}" stroke-width="2"${dash}/>`);
      out.push(text(lx + 38, legendY + 4, `${buffers} buffers, ${sack ? "SACK" : "no SACK"}`, 'font-size="12"'));
    }
  }
  return out.join("\n  ");
}

/** The comparison's bars when it ran, and the loss curves. */
export function chart(c: Comparison | undefined, loss: LossPoint[]): string {
  const bars = c ? HEIGHT : 0;
  const total = bars + LOSS.height;
  const body = [...(c ? comparisonPanels(c) : []), lossPanel(bars, loss)];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${total}" viewBox="0 0 ${WIDTH} ${total}" font-family="sans-serif">`,
    `  <rect width="${WIDTH}" height="${total}" fill="#fff"/>`,
    `  ${body.join("\n  ")}`,
    "</svg>",
    "",
  ].join("\n");
}

function comparisonPanels(c: Comparison): string[] {
  const mib = c.bodyBytes / 2 ** 20;
  return [
    text(WIDTH / 2, 26, "ours, lwIP and the Linux kernel, measured in one run", 'font-size="17" font-weight="bold" text-anchor="middle"'),
    panel(40, `HTTP GET of ${mib} MiB by curl`, "MB/s, higher is better", c.getMBps, 0),
    panel(420, "ping round trip", "median ms, lower is better", c.pingMs, 3),
    ...[
      "curl and ping over a TAP (ours, lwIP) or a veth (kernel), every link MTU 1500;",
      `medians of ${c.rounds} alternating rounds; each ratio is the median of the rounds' ratios`,
    ].map((line, i) => text(WIDTH / 2, HEIGHT - 28 + 15 * i, line, 'font-size="11" text-anchor="middle" fill="#555"')),
  ];
}
