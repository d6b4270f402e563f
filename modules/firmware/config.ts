// The firmware's configuration: what `config.netstack` in manifests/app/manifest_app.json
// holds on the ESP32, and what the simulator reads with --config. checkConfig takes it from
// JSON (or mc/config) and either gives it back typed or names the first field that is wrong,
// unknown fields included, so a misspelt service is an error rather than a service left off.

import { type Result, fail, ok } from "../wire/result.ts";
import { parseIp, type Ip4 } from "../wire/address.ts";
import { confinePath } from "../storage/path.ts";
import type { FtpUser } from "../services/ftp-server.ts";
import type { TcpConfig } from "../stack/tcp-config.ts";

export type TftpWrite = "none" | "create" | "overwrite";

/** Roots are directories of the device's storage ("" for all of it), created at boot when missing. A service left out is not started. */
export interface FirmwareConfig {
  /** The DHCP host name (option 12). */
  hostname: string;
  /** "dhcp" (the default), or a static "ADDR/PREFIX" or "ADDR/PREFIX,GATEWAY". */
  address?: string;
  tftp?: { root: string; write: TftpWrite };
  /** `anonymous`: the root "anonymous" and "ftp" may read, with any password; absent, they may not log in. */
  ftp?: { root: string; users: FtpUser[]; anonymous?: string };
  /** `put`: PUT stores files; `putLimit`: the largest request body in bytes (default 1 MiB). */
  http?: { root: string; put: boolean; putLimit?: number };
  /** UDP echo (RFC 862) on port 7. */
  echo?: boolean;
  /** TCP's bounds, each defaulting to TCP_DEFAULTS (modules/stack/tcp-config.ts): the board's memory sets them (docs/MEMORY.md). */
  tcp?: FirmwareTcp;
}

/** Connections open at once (TIME-WAIT not counted), TIME-WAIT pcbs kept, and each connection's send buffer and receive window in bytes. */
export type FirmwareTcp = Partial<Pick<TcpConfig, "maxPcbs" | "maxTimeWait" | "sndbuf" | "wnd">>;

export interface StaticAddress {
  ip: Ip4;
  mask: Ip4;
  /** 0 for none. */
  gateway: Ip4;
}

const STATIC_FORM = "expected ADDR/PREFIX or ADDR/PREFIX,GATEWAY";

/** "ADDR/PREFIX[,GATEWAY]", e.g. "192.168.1.57/24,192.168.1.1". */
export function parseStatic(text: string): Result<StaticAddress> {
  const m = /^([\d.]+)\/(\d{1,2})(?:,([\d.]+))?$/.exec(text);
  if (!m) return fail(STATIC_FORM);
  const ip = parseIp(m[1]!);
  const prefix = Number(m[2]);
  const gateway = m[3] === undefined ? 0 : parseIp(m[3]);
  if (ip === undefined || gateway === undefined || prefix < 1 || prefix > 30) return fail(STATIC_FORM);
  return ok({ ip, mask: (0xffffffff << (32 - prefix)) >>> 0, gateway });
}

/** A field's check: undefined when it is right, else what is wrong with it (the caller adds where). */
type Check = (value: unknown, at: string) => string | undefined;

const text: Check = (v, at) => (typeof v === "string" ? undefined : `${at}: expected a string`);
const flag: Check = (v, at) => (typeof v === "boolean" ? undefined : `${at}: expected true or false`);
const bytes: Check = (v, at) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : `${at}: expected a whole number of bytes`);
/** A whole number from `least` to `most`, in `unit`. */
function whole(least: number, most: number, unit: string): Check {
  return (v, at) =>
    Number.isSafeInteger(v) && (v as number) >= least && (v as number) <= most
      ? undefined
      : `${at}: expected ${unit} from ${least} to ${most}, got ${JSON.stringify(v)}`;
}
const dir: Check = (v, at) =>
  text(v, at) ?? (confinePath(v as string).ok ? undefined : `${at}: expected a directory inside the storage, got ${JSON.stringify(v)}`);
const address: Check = (v, at) =>
  text(v, at) ??
  (v === "dhcp" || parseStatic(v as string).ok ? undefined : `${at}: expected "dhcp", ADDR/PREFIX or ADDR/PREFIX,GATEWAY, got ${JSON.stringify(v)}`);

function oneOf(...choices: string[]): Check {
  return (v, at) =>
    choices.includes(v as string) ? undefined : `${at}: expected ${choices.map((c) => JSON.stringify(c)).join(", ")}, got ${JSON.stringify(v)}`;
}

function list(item: Check): Check {
  return (v, at) => {
    if (!Array.isArray(v)) return `${at}: expected a list`;
    for (let i = 0; i < v.length; i++) {
      const wrong = item(v[i], `${at}[${i}]`);
      if (wrong) return wrong;
    }
    return undefined;
  };
}

/** An object whose fields are those listed: [check, required]. */
function object(fields: Record<string, [Check, boolean]>): Check {
  const known = new Map(Object.entries(fields));
  return (v, at) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return `${at}: expected an object`;
    for (const key of Object.keys(v)) if (!known.has(key)) return `${at}.${key}: unknown field`;
    for (const [key, [check, required]] of known) {
      const value = (v as Record<string, unknown>)[key];
      if (value === undefined && !required) continue;
      if (value === undefined) return `${at}.${key}: missing`;
      const wrong = check(value, `${at}.${key}`);
      if (wrong) return wrong;
    }
    return undefined;
  };
}

const user = object({ name: [text, true], password: [text, true], root: [dir, false], readOnly: [flag, false], account: [text, false] });

const config = object({
  hostname: [text, true],
  address: [address, false],
  tftp: [object({ root: [dir, true], write: [oneOf("none", "create", "overwrite"), true] }), false],
  ftp: [object({ root: [dir, true], users: [list(user), true], anonymous: [dir, false] }), false],
  http: [object({ root: [dir, true], put: [flag, true], putLimit: [bytes, false] }), false],
  echo: [flag, false],
  // A buffer of at least one segment (TCP's default MSS); a window within what window scaling can offer (RFC 7323 2.3).
  tcp: [
    object({
      maxPcbs: [whole(1, 64, "a count"), false],
      maxTimeWait: [whole(0, 64, "a count"), false],
      sndbuf: [whole(536, 1 << 20, "bytes"), false],
      wnd: [whole(536, 1 << 30, "bytes"), false],
    }),
    false,
  ],
});

/** `value` as a FirmwareConfig, or the first wrong field, named from `at` (e.g. "netstack.tftp.write: expected ..."). */
export function checkConfig(value: unknown, at = "netstack"): Result<FirmwareConfig> {
  const wrong = config(value, at);
  return wrong ? fail(wrong) : ok(value as FirmwareConfig);
}
