// The FTP server's pure parts: PORT/PASV and EPRT arguments (with the numbers of
// test/vectors/ftp-ports.json), TYPE A conversion, listing lines, MDTM times and UTF-8.

import test from "ava";
import fc from "fast-check";
import { formatHostPort, parseEprt, parseHostPort, type Source } from "../../modules/services/ftp-data.ts";
import { NetasciiDecoder, NetasciiEncoder } from "../../modules/services/netascii.ts";
import { CommandLines, OVERLONG } from "../../modules/services/ftp-lines.ts";
import { LineSource, ftpTime, lsLine, mlsxLine } from "../../modules/services/ftp-listing.ts";
import { utf8Decode, utf8Encode } from "../../modules/wire/text.ts";
import { ok } from "../../modules/wire/result.ts";
import { holds } from "../support/helpers.ts";
import { ip } from "../support/bench.ts";
import { concat } from "../../modules/wire/bytes.ts";
import { ftpPorts } from "../vectors/load.ts";

test("PORT arguments from FTP notes name the ports the notes compute (1663, 2343)", (t) => {
  const ports = ftpPorts().port;
  t.deepEqual(
    ports.map((p) => p.port),
    [1663, 2343],
  );
  for (const p of ports) t.deepEqual(parseHostPort(p.argument), ok({ ip: ip(p.ip), port: p.port }));
});

test("the PASV reply's argument from FTP notes names port 5365", (t) => {
  const { pasv } = ftpPorts();
  t.is(pasv.port, 20 * 256 + 245);
  t.is(formatHostPort(ip(pasv.ip), pasv.port), pasv.argument);
  t.deepEqual(parseHostPort(pasv.argument), ok({ ip: ip(pasv.ip), port: pasv.port }));
});

test("property: PORT's six numbers round trip any address and port", (t) => {
  holds(
    t,
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }), (a, port) => {
      const r = parseHostPort(formatHostPort(a, port));
      return r.ok && r.value.ip === a && r.value.port === port;
    }),
  );
});

test("malformed PORT arguments are refused", (t) => {
  for (const bad of [
    "",
    "1,2,3,4,5",
    "1,2,3,4,5,6,7",
    "256,0,0,1,4,1",
    "1,2,3,4,5,256",
    "1,2,3,4,-5,6",
    "a,b,c,d,e,f",
    "1,,3,4,5,6",
    "1.2.3.4,5,6",
    "1,2,3,4,5,6x",
  ]) {
    t.deepEqual(parseHostPort(bad), { ok: false, reason: "ftp-port-syntax" }, bad);
  }
});

test("EPRT: IPv4 with any delimiter; IPv6 is another protocol; the rest malformed", (t) => {
  t.deepEqual(parseEprt("|1|132.235.1.2|6275|"), ok({ ip: ip("132.235.1.2"), port: 6275 }));
  t.deepEqual(parseEprt("!1!10.0.0.3!40000!"), ok({ ip: ip("10.0.0.3"), port: 40000 }));
  t.deepEqual(parseEprt("|2|1080::8:800:200C:417A|5282|"), { ok: false, reason: "ftp-eprt-protocol" });
  for (const bad of [
    "",
    "|",
    "|1|10.0.0.3|0|",
    "|1|10.0.0.3|65536|",
    "|1|10.0.0|80|",
    "|1|10.0.0.3|80",
    "|x|10.0.0.3|80|",
    " 1 10.0.0.3 80 ",
    "|1|10.0.0.3|80|x",
  ]) {
    t.deepEqual(parseEprt(bad), { ok: false, reason: "ftp-eprt-syntax" }, bad);
  }
});

/** A source over bytes that gives at most `step` bytes a read. */
function source(data: Uint8Array, step: number): Source {
  let off = 0;
  return {
    read: (buf) => {
      const n = Math.min(buf.length, step, data.length - off);
      buf.set(data.subarray(off, off + n));
      off += n;
      return ok(n);
    },
  };
}

/** Everything a source gives, read `size` bytes at a time. */
function drainSource(s: Source, size: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(size);
  for (;;) {
    const r = s.read(buf);
    if (!r.ok) throw new Error(r.reason);
    if (r.value === 0) return concat(parts);
    parts.push(buf.slice(0, r.value));
  }
}

const text = (s: string) => new TextEncoder().encode(s);
/** TYPE A, as the session makes it. */
const AsciiEncoder = class extends NetasciiEncoder {
  constructor(s: Source, chunk: number) {
    super((b) => s.read(b), chunk, "as-is");
  }
};
const AsciiDecoder = class extends NetasciiDecoder {
  constructor() {
    super("as-is");
  }
};

test("TYPE A: LF goes out as CR LF, every one; CR LF comes in as LF, a lone CR stays", (t) => {
  t.deepEqual(drainSource(new AsciiEncoder(source(text("a\nb\r\nc\n\n"), 3), 4), 1), text("a\r\nb\r\r\nc\r\n\r\n"));
  const d = new AsciiDecoder();
  t.deepEqual(concat([d.decode(text("a\r")), d.decode(text("\nb\rc\r\r")), d.decode(text("\n")), d.end()]), text("a\nb\rc\r\n"));
  const e = new AsciiDecoder();
  t.deepEqual(concat([e.decode(text("x\r")), e.end()]), text("x\r"));
});

test("property: TYPE A round trips any bytes, however reads and segments split them, and sends no bare LF", (t) => {
  const bytesArb = fc.array(fc.oneof(fc.constantFrom(10, 13), fc.integer({ min: 0, max: 255 })), { maxLength: 200 }).map((a) => Uint8Array.from(a));
  holds(
    t,
    fc.property(
      bytesArb,
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 9 }),
      (data, step, chunk, out, seg) => {
        const wire = drainSource(new AsciiEncoder(source(data, step), chunk), out);
        for (let i = 0; i < wire.length; i++) if (wire[i] === 10 && wire[i - 1] !== 13) return false;
        const d = new AsciiDecoder();
        const parts: Uint8Array[] = [];
        for (let i = 0; i < wire.length; i += seg) parts.push(d.decode(wire.subarray(i, i + seg)));
        parts.push(d.end());
        return Buffer.from(concat(parts)).equals(Buffer.from(data));
      },
    ),
  );
});

const DAY = 24 * 3600 * 1000;

test("LIST lines: ls -l with the time of day for recent files and the year for old or future ones, in UTC", (t) => {
  const now = Date.UTC(2024, 5, 15, 12, 0, 0);
  const recent = { name: "report.txt", size: 1234, mtime: Date.UTC(2024, 2, 5, 14, 7, 9), isDirectory: false };
  t.is(lsLine(recent, now, true), "-rw-r--r-- 1 ftp ftp         1234 Mar  5 14:07 report.txt");
  t.is(lsLine({ ...recent, mtime: Date.UTC(2019, 10, 23, 1, 2) }, now, true), "-rw-r--r-- 1 ftp ftp         1234 Nov 23  2019 report.txt");
  t.is(lsLine({ ...recent, mtime: now + 2 * DAY }, now, true), "-rw-r--r-- 1 ftp ftp         1234 Jun 17  2024 report.txt");
  t.is(lsLine({ name: "pub", size: 0, mtime: now - DAY, isDirectory: true }, now, false), "dr-xr-xr-x 1 ftp ftp            0 Jun 14 12:00 pub");
  t.is(lsLine({ ...recent, name: "ro.bin" }, now, false), "-r--r--r-- 1 ftp ftp         1234 Mar  5 14:07 ro.bin");
});

test("MLSD facts and MDTM times", (t) => {
  const mtime = Date.UTC(2024, 0, 2, 3, 4, 5);
  t.is(ftpTime(mtime), "20240102030405");
  t.is(ftpTime(0), "19700101000000");
  const facts = ["type", "size", "modify", "perm"] as const;
  t.is(mlsxLine({ size: 42, mtime, isDirectory: false }, "a b.txt", facts, true), "type=file;size=42;modify=20240102030405;perm=adfrw; a b.txt");
  t.is(mlsxLine({ size: 42, mtime, isDirectory: false }, "a", facts, false), "type=file;size=42;modify=20240102030405;perm=r; a");
  t.is(mlsxLine({ size: 0, mtime, isDirectory: true }, "d", facts, true), "type=dir;modify=20240102030405;perm=cdeflmp; d");
  t.is(mlsxLine({ size: 0, mtime, isDirectory: true }, "d", ["type"], false), "type=dir; d");
});

test("LineSource gives the lines with CR LF in UTF-8, whatever the reads' sizes", (t) => {
  const lines = ["one", "naïve 日本", "", "last"];
  const want = text("one\r\nnaïve 日本\r\n\r\nlast\r\n");
  for (const size of [1, 2, 5, 64]) t.deepEqual(drainSource(new LineSource(lines.length, (i) => lines[i]!), size), want, `reads of ${size}`);
  t.deepEqual(drainSource(new LineSource(0, () => "x"), 8), new Uint8Array(0));
});

test("property: UTF-8 encodes as TextEncoder does and decodes what it encodes", (t) => {
  holds(
    t,
    fc.property(fc.fullUnicodeString(), (s) => {
      const b = utf8Encode(s);
      return Buffer.from(b).equals(Buffer.from(new TextEncoder().encode(s))) && utf8Decode(b) === s;
    }),
  );
});

test("property: UTF-8 decoding accepts exactly what a fatal TextDecoder accepts", (t) => {
  const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 12 }), (b) => {
      let want: string | undefined;
      try {
        want = fatal.decode(b);
      } catch {
        want = undefined;
      }
      return utf8Decode(b) === want;
    }),
    { numRuns: 2000 },
  );
  for (const bad of [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80]])
    t.is(utf8Decode(Uint8Array.from(bad)), undefined, bad.join(","));
});

/** Every line `input` holds, fed in pieces cut at `cuts`, and the bytes reported read. */
function lines(input: Uint8Array, cuts: number[], max = 10): { lines: string[]; consumed: number } {
  let consumed = 0;
  const r = new CommandLines(max, { recved: (n) => (consumed += n) });
  const out: string[] = [];
  let from = 0;
  for (const to of [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b).concat(input.length)) {
    r.push(input.subarray(from, to));
    from = to;
    for (let l = r.next(); l !== undefined; l = r.next()) out.push(l === OVERLONG ? l : String.fromCharCode(...l));
  }
  return { lines: out, consumed };
}

test("command lines: CR LF or LF ends one, Telnet negotiation is dropped, IAC IAC is 255, an overlong one is dropped whole", (t) => {
  const input = Uint8Array.from([...text("USER a\r\nNO"), 255, 251, 1, ...text("OP\n"), 255, 255, ...text("x\r\n"), ...text("0123456789A\r\nQUIT\r\n")]);
  t.deepEqual(lines(input, []), { lines: ["USER a", "NOOP", "\xffx", OVERLONG, "QUIT"], consumed: input.length });
});

test("property: command lines come out the same however TCP splits the bytes", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.array(fc.nat(), { maxLength: 10 }), (input, cuts) => {
      const whole = lines(input, []);
      const split = lines(input, cuts);
      return JSON.stringify(whole) === JSON.stringify(split) && whole.consumed === input.length;
    }),
  );
});
