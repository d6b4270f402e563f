// Ladder diagrams of a capture: `drawLadder` makes the SVG and its HTML page from a capture,
// `writeLadder` does it for a pcap or pcapng file and writes both beside it (or where told).

import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { type Result, ok, fail } from "../../modules/wire/result.ts";
import { readCaptureFile } from "../capture.ts";
import type { Capture } from "../pcap.ts";
import { analyse } from "./analyse.ts";
import { type LadderFilter, describeFilter, select } from "./filter.ts";
import { renderHtml, renderSvg } from "./svg.ts";

export interface LadderOptions extends LadderFilter {
  /** Gaps between drawn frames longer than this many seconds are cut short and marked. Default 0.5. */
  idle?: number;
  /** TCP and UDP checksums that do not add up are no fault: the capture's host offloads them. */
  ignoreChecksums?: boolean;
  /** Names the capture in the caption and the page title. */
  title?: string;
}

export interface Ladder {
  svg: string;
  html: string;
  /** Frames drawn, and frames in the capture. */
  shown: number;
  total: number;
}

export function drawLadder(capture: Capture, o: LadderOptions = {}): Ladder {
  const { frames, macOf } = analyse(capture, o.ignoreChecksums);
  const { shown, matched } = select(frames, o);
  const title = o.title ?? "capture";
  const filter = describeFilter(o);
  const checksums = shown.filter((f) => f.malformed?.endsWith("-bad-checksum")).length;
  const caption = [
    `${title} (${capture.format}): ${shown.length} of ${frames.length} frames drawn${filter ? `, filter: ${filter}` : ""}${matched > shown.length ? `; ${matched - shown.length} more matched (raise --max or narrow --from/--to)` : ""}`,
    `${shown.filter((f) => f.retransmission).length} retransmitted, ${shown.filter((f) => f.malformed).length} malformed (red, crossed: our decoders reject them)${checksums ? `, ${checksums} for a TCP/UDP checksum (if captured on the sender, its NIC fills them in: --ignore-checksums)` : ""}${capture.error ? `; the capture stops early: ${capture.error}` : ""}`,
  ];
  const svg = renderSvg({ title: `Ladder diagram of ${caption[0]}`, frames: shown, macOf, idleMs: (o.idle ?? 0.5) * 1000, caption });
  return { svg, html: renderHtml(`Ladder of ${title}`, svg), shown: shown.length, total: frames.length };
}

export interface Written extends Ladder {
  svgPath: string;
  htmlPath: string;
}

/** Reads `pcapPath` and writes `<out>.svg` and `<out>.html`; `out` defaults to the capture's path less its extension. */
export function writeLadder(pcapPath: string, o: LadderOptions & { out?: string } = {}): Result<Written> {
  const capture = readCaptureFile(pcapPath);
  if (!capture.ok) return fail(capture.reason);
  const out = o.out ?? pcapPath.replace(/\.(pcap|pcapng|cap)$/i, "");
  const ladder = drawLadder(capture.value, { title: basename(pcapPath), ...o });
  const svgPath = `${out}.svg`;
  const htmlPath = `${out}.html`;
  mkdirSync(dirname(svgPath), { recursive: true });
  writeFileSync(svgPath, ladder.svg);
  writeFileSync(htmlPath, ladder.html);
  return ok({ ...ladder, svgPath, htmlPath });
}
