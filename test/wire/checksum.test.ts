import test from "ava";
import fc from "fast-check";
import { checksum, sum16, finish, updateChecksum } from "../../modules/wire/checksum.ts";
import { hex, holds } from "../support/helpers.ts";
import { ftpCapture } from "../vectors/load.ts";

test("RFC 1071 worked example sums to 0xddf2 before complement", (t) => {
  // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 have one's-complement sum 0xddf2.
  const b = hex("0001f203f4f5f6f7");
  t.is(finish(sum16(b, 0, b.length)), ~0xddf2 & 0xffff);
});

test("a header containing its own checksum verifies to zero (the captured SYN's IP header)", (t) => {
  const ipHeader = hex(ftpCapture().syn).slice(14, 34);
  t.is(checksum(ipHeader), 0);
  ipHeader[10] = 0;
  ipHeader[11] = 0;
  t.is(checksum(ipHeader), 0x611f);
});

test("odd length pads with a zero byte", (t) => {
  t.is(checksum(hex("01")), checksum(hex("0100")));
});

test("incremental update (RFC 1624) equals a full recomputation", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 64 }), fc.nat(31), fc.integer({ min: 0, max: 0xffff }), (data, w, newWord) => {
      const b = Uint8Array.from(data.length % 2 ? [...data, 0] : data);
      const i = (w * 2) % b.length;
      const old = checksum(b);
      const oldWord = (b[i]! << 8) | b[i + 1]!;
      b[i] = newWord >>> 8;
      b[i + 1] = newWord & 0xff;
      const full = checksum(b);
      const inc = updateChecksum(old, oldWord, newWord);
      // 0x0000 and 0xffff are the same value in one's complement arithmetic.
      return inc === full || (inc ^ full) === 0xffff;
    }),
  );
});
