// Initial sequence numbers as RFC 6528 asks: ISN = M + F(4-tuple, key), with M a clock
// that ticks every 4 microseconds and F a keyed hash, so a connection's ISNs move on with
// time while an off-path attacker cannot guess another's. The hash is SipHash-2-4
// (Aumasson and Bernstein), on 32-bit halves so it needs no BigInt on XS. The same hash
// signs SYN cookies.

import type { Random } from "../platform.ts";

/** SipHash-2-4 of `msg` under a 128-bit key given as four little-endian 32-bit words; the 64-bit result as [lo, hi]. */
export function siphash24(key: readonly [number, number, number, number], msg: Uint8Array): [number, number] {
  const s = new SipState(key);
  const n = msg.length;
  const end = n - (n % 8);
  for (let i = 0; i < end; i += 8) s.absorb(word(msg, i), word(msg, i + 4));
  const tail = new Uint8Array(8);
  tail.set(msg.subarray(end));
  tail[7] = n & 0xff;
  s.absorb(word(tail, 0), word(tail, 4));
  return s.finish();
}

function word(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** The four 64-bit state words, each as a lo and a hi 32-bit half. */
class SipState {
  private readonly v = new Uint32Array(8); // v0 lo, v0 hi, v1 lo, v1 hi, ...

  constructor(k: readonly [number, number, number, number]) {
    const v = this.v;
    // "somepseudorandomlygeneratedbytes" XOR the key halves.
    v[0] = k[0] ^ 0x70736575;
    v[1] = k[1] ^ 0x736f6d65;
    v[2] = k[2] ^ 0x6e646f6d;
    v[3] = k[3] ^ 0x646f7261;
    v[4] = k[0] ^ 0x6e657261;
    v[5] = k[1] ^ 0x6c796765;
    v[6] = k[2] ^ 0x79746573;
    v[7] = k[3] ^ 0x74656462;
  }

  absorb(lo: number, hi: number): void {
    const v = this.v;
    v[6]! ^= lo;
    v[7]! ^= hi;
    this.round();
    this.round();
    v[0]! ^= lo;
    v[1]! ^= hi;
  }

  finish(): [number, number] {
    const v = this.v;
    v[4]! ^= 0xff;
    for (let i = 0; i < 4; i++) this.round();
    return [(v[0]! ^ v[2]! ^ v[4]! ^ v[6]!) >>> 0, (v[1]! ^ v[3]! ^ v[5]! ^ v[7]!) >>> 0];
  }

  private round(): void {
    this.add(0, 2);
    this.rotl(2, 13);
    this.xor(2, 0);
    this.rotl32(0);
    this.add(4, 6);
    this.rotl(6, 16);
    this.xor(6, 4);
    this.add(0, 6);
    this.rotl(6, 21);
    this.xor(6, 0);
    this.add(4, 2);
    this.rotl(2, 17);
    this.xor(2, 4);
    this.rotl32(4);
  }

  /** v[a] += v[b], modulo 2^64. */
  private add(a: number, b: number): void {
    const v = this.v;
    const lo = v[a]! + v[b]!;
    v[a + 1] = v[a + 1]! + v[b + 1]! + (lo > 0xffffffff ? 1 : 0);
    v[a] = lo;
  }

  private xor(a: number, b: number): void {
    const v = this.v;
    v[a]! ^= v[b]!;
    v[a + 1]! ^= v[b + 1]!;
  }

  /** Rotates v[a] left by n bits, 0 < n < 32. */
  private rotl(a: number, n: number): void {
    const v = this.v;
    const lo = v[a]!;
    const hi = v[a + 1]!;
    v[a] = (lo << n) | (hi >>> (32 - n));
    v[a + 1] = (hi << n) | (lo >>> (32 - n));
  }

  /** Rotates v[a] by 32 bits: swaps its halves. */
  private rotl32(a: number): void {
    const v = this.v;
    const lo = v[a]!;
    v[a] = v[a + 1]!;
    v[a + 1] = lo;
  }
}

const TICKS_PER_MS = 250; // RFC 6528's 4-microsecond clock
/** The MSS a SYN cookie can keep, by its two low bits: the largest at most the peer's. */
const COOKIE_MSS = [536, 1220, 1400, 1460];
const COOKIE_SLOT_MS = 64_000; // a cookie is good for one to two slots

/** ISNs and SYN cookies for one stack, under a key drawn from its random source at start. */
export class SequenceKey {
  private readonly key: [number, number, number, number];
  private readonly msg = new Uint8Array(20); // the 4-tuple, then two words for cookies
  private readonly view = new DataView(this.msg.buffer);

  constructor(random: Random) {
    this.key = [random.u32(), random.u32(), random.u32(), random.u32()];
  }

  /** RFC 6528's ISN for a connection at `nowMs`. */
  isn(localIp: number, localPort: number, remoteIp: number, remotePort: number, nowMs: number): number {
    const m = Math.floor(nowMs * TICKS_PER_MS) % 0x100000000;
    return (m + this.hash(localIp, localPort, remoteIp, remotePort, 12)) >>> 0;
  }

  /**
   * A SYN cookie, the ISN of a SYN-ACK that keeps no state: the signature of the 4-tuple,
   * the peer's ISN and the time slot, with the peer's MSS (rounded down) in its two low bits.
   */
  cookie(localIp: number, localPort: number, remoteIp: number, remotePort: number, irs: number, peerMss: number, nowMs: number): number {
    let i = COOKIE_MSS.length - 1;
    while (i > 0 && COOKIE_MSS[i]! > peerMss) i--;
    const slot = Math.floor(nowMs / COOKIE_SLOT_MS);
    return ((this.sign(localIp, localPort, remoteIp, remotePort, irs, slot) & ~3) | i) >>> 0;
  }

  /** The MSS that cookie `iss` keeps, if it is ours for that SYN from this slot or the one before; else 0. */
  cookieMss(localIp: number, localPort: number, remoteIp: number, remotePort: number, irs: number, iss: number, nowMs: number): number {
    const slot = Math.floor(nowMs / COOKIE_SLOT_MS);
    for (let s = slot; s >= slot - 1; s--) {
      if (((this.sign(localIp, localPort, remoteIp, remotePort, irs, s) ^ iss) & ~3) === 0) return COOKIE_MSS[iss & 3]!;
    }
    return 0;
  }

  /** A 32-bit keyed hash of the 4-tuple and two more words. */
  private sign(localIp: number, localPort: number, remoteIp: number, remotePort: number, a: number, b: number): number {
    this.view.setUint32(12, a >>> 0);
    this.view.setUint32(16, b >>> 0);
    return this.hash(localIp, localPort, remoteIp, remotePort, 20);
  }

  private hash(localIp: number, localPort: number, remoteIp: number, remotePort: number, len: number): number {
    const v = this.view;
    v.setUint32(0, localIp >>> 0);
    v.setUint32(4, remoteIp >>> 0);
    v.setUint16(8, localPort);
    v.setUint16(10, remotePort);
    return siphash24(this.key, this.msg.subarray(0, len))[0];
  }
}
