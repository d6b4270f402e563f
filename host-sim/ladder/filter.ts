// Which frames a ladder draws: those matching every filter given (each filter matches when
// any of its values does), up to a cap, so that a long capture still gives a picture one can read.

import type { LadderFrame } from "./analyse.ts";

export interface LadderFilter {
  /** IP or MAC addresses (or "broadcast"): a frame from or to any of them. */
  hosts?: string[];
  /** TCP or UDP ports: a frame from or to any of them. */
  ports?: number[];
  /** Protocol names as analyse() tags them: arp, ip, icmp, udp, tcp, dhcp, dns, tftp, ftp, ftp-data, http, eth, ipv6. */
  protos?: string[];
  /** Seconds since the capture's first frame. */
  from?: number;
  to?: number;
  /** At most this many frames, the first that match. */
  max?: number;
}

export const DEFAULT_MAX_FRAMES = 500;

export interface Selection {
  shown: LadderFrame[];
  /** Frames that matched the filters, drawn or not. */
  matched: number;
}

export function select(frames: readonly LadderFrame[], f: LadderFilter): Selection {
  const hosts = f.hosts?.map((h) => h.toLowerCase());
  const matching = frames.filter(
    (x) =>
      (!hosts?.length || hosts.some((h) => x.src === h || x.dst === h || x.addresses.includes(h))) &&
      (!f.ports?.length || f.ports.some((p) => x.ports?.includes(p))) &&
      (!f.protos?.length || f.protos.some((p) => x.protos.includes(p))) &&
      (f.from === undefined || x.t >= f.from * 1000) &&
      (f.to === undefined || x.t <= f.to * 1000),
  );
  return { shown: matching.slice(0, f.max ?? DEFAULT_MAX_FRAMES), matched: matching.length };
}

/** The filters in words, for the picture's caption. */
export function describeFilter(f: LadderFilter): string {
  const parts: string[] = [];
  if (f.hosts?.length) parts.push(`host ${f.hosts.join(" or ")}`);
  if (f.ports?.length) parts.push(`port ${f.ports.join(" or ")}`);
  if (f.protos?.length) parts.push(`proto ${f.protos.join(" or ")}`);
  if (f.from !== undefined) parts.push(`from ${f.from} s`);
  if (f.to !== undefined) parts.push(`to ${f.to} s`);
  return parts.join(", ");
}
