/**
 * The hash functions IPVS uses, bit for bit: jhash_3words (connection table,
 * include/linux/jhash.h), hash_32 (sh/dh/lblc/lblcr buckets, include/linux/hash.h) and
 * hsiphash as 64-bit kernels compute it (SipHash-1-3, mh; lib/siphash.c).
 */

function rol32(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** jhash_3words(a, b, c, initval): the kernel's __jhash_final over three words. */
export function jhash3(a: number, b: number, c: number, initval: number): number {
  const iv = (initval + 0xdeadbeef + (3 << 2)) >>> 0;
  a = (a + iv) >>> 0;
  b = (b + iv) >>> 0;
  c = (c + iv) >>> 0;
  c = ((c ^ b) - rol32(b, 14)) >>> 0;
  a = ((a ^ c) - rol32(c, 11)) >>> 0;
  b = ((b ^ a) - rol32(a, 25)) >>> 0;
  c = ((c ^ b) - rol32(b, 16)) >>> 0;
  a = ((a ^ c) - rol32(c, 4)) >>> 0;
  b = ((b ^ a) - rol32(a, 14)) >>> 0;
  c = ((c ^ b) - rol32(b, 24)) >>> 0;
  return c;
}

/** hash_32(x, bits): high bits of x * GOLDEN_RATIO_32 (0x61C88647). */
export function hash32(x: number, bits: number): number {
  return Math.imul(x >>> 0, 0x61c88647) >>> (32 - bits);
}

/** The pre-6.1 multiplicative hash (low bits of x * 2654435761), [classic] sh/dh. */
export function hashClassic(x: number, mask: number): number {
  return (Math.imul(x >>> 0, 2654435761 | 0) >>> 0) & mask;
}

export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// ---- SipHash-1-3 on 64-bit halves held as BigInt (mh builds tables rarely; lookups are
// one hash per new connection).
const M64 = (1n << 64n) - 1n;
function rol64(x: bigint, k: bigint): bigint {
  return ((x << k) | (x >> (64n - k))) & M64;
}

/** A 64-bit-kernel hsiphash key: two unsigned longs. */
export interface HsipKey {
  readonly k0: bigint;
  readonly k1: bigint;
}

/**
 * hsiphash(data, len, key) on a 64-bit kernel: SipHash with one compression round and
 * three finalisation rounds, result truncated to 32 bits.
 */
export function hsiphash(data: Uint8Array, key: HsipKey): number {
  let v0 = 0x736f6d6570736575n ^ key.k0;
  let v1 = 0x646f72616e646f6dn ^ key.k1;
  let v2 = 0x6c7967656e657261n ^ key.k0;
  let v3 = 0x7465646279746573n ^ key.k1;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rol64(v1, 13n); v1 ^= v0; v0 = rol64(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rol64(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rol64(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rol64(v1, 17n); v1 ^= v2; v2 = rol64(v2, 32n);
  };
  const len = data.length;
  const full = len - (len % 8);
  for (let i = 0; i < full; i += 8) {
    let m = 0n;
    for (let j = 7; j >= 0; j--) m = (m << 8n) | BigInt(data[i + j]!);
    v3 ^= m;
    round();
    v0 ^= m;
  }
  let b = BigInt(len) << 56n;
  for (let j = len - 1; j >= full; j--) b |= BigInt(data[j]!) << BigInt(8 * (j - full));
  v3 ^= b;
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  round();
  round();
  round();
  return Number((v0 ^ v1 ^ v2 ^ v3) & 0xffffffffn);
}

const u32buf = new Uint8Array(4);
/** hsiphash over one host u32 serialised little-endian (what mh hashes). */
export function hsiphashU32(v: number, key: HsipKey): number {
  v >>>= 0;
  u32buf[0] = v & 0xff;
  u32buf[1] = (v >>> 8) & 0xff;
  u32buf[2] = (v >>> 16) & 0xff;
  u32buf[3] = v >>> 24;
  return hsiphash(u32buf, key);
}

export function swab16(p: number): number {
  return ((p & 0xff) << 8) | (p >>> 8);
}
