/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Sums are kept unfolded in a JS number (exact to 2^53, far beyond any packet), so
 * partial sums over several ranges can simply be added before `foldChecksum`. A range
 * must start at an even offset relative to the start of the checksummed data, except the
 * last one: an odd final byte is padded with a zero byte, as RFC 1071 says.
 */

/** One's-complement sum (unfolded) of the big-endian 16-bit words of b[start, end). */
export function onesSum(b: Uint8Array, start: number, end: number, acc = 0): number {
  let sum = acc;
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i === last) sum += b[i]! << 8;
  return sum;
}

/** Folds an unfolded sum to 16 bits with end-around carry and returns its complement. */
export function foldChecksum(sum: number): number {
  // Fold the bits above 32 first so the 32-bit operators below see an exact value (a
  // header's or a packet's sum is far below 2^32: no division then).
  let s = sum < 0x100000000 ? sum : (sum % 0x100000000) + Math.floor(sum / 0x100000000);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** The checksum of b[start, end) (checksum field included as stored). */
export function internetChecksum(b: Uint8Array, start = 0, end = b.length): number {
  return foldChecksum(onesSum(b, start, end));
}

/** Unfolded sum of the TCP/UDP pseudo-header: src, dst, zero, protocol, L4 length. */
export function pseudoHeaderSum(src: number, dst: number, proto: number, l4len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4len;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from m to m'.
 * Unlike RFC 1141's form it never turns a checksum into -0 wrongly. Per erratum 4782 the
 * update is skipped when m == m' (with HC = 0 it would yield 0xffff).
 */
export function csumReplace16(csum: number, old: number, next: number): number {
  if (old === next) return csum;
  let s = (~csum & 0xffff) + (~old & 0xffff) + (next & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** RFC 1624 eqn. 3 for a 32-bit field (an address): both halves at once. */
export function csumReplace32(csum: number, old: number, next: number): number {
  if (old === next) return csum;
  let s = (~csum & 0xffff)
    + (~(old >>> 16) & 0xffff) + (~old & 0xffff)
    + (next >>> 16) + (next & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
