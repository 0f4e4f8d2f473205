/**
 * IPv4 (RFC 791).
 *
 * | off | size | field                                           |
 * |-----|------|-------------------------------------------------|
 * | 0   | 1    | version (high nibble) / IHL in 32-bit words     |
 * | 1   | 1    | TOS (DSCP + ECN)                                |
 * | 2   | 2    | total length                                    |
 * | 4   | 2    | identification                                  |
 * | 6   | 2    | flags (0x4000 DF, 0x2000 MF) + offset in 8-byte units |
 * | 8   | 1    | TTL                                             |
 * | 9   | 1    | protocol                                        |
 * | 10  | 2    | header checksum                                 |
 * | 12  | 4    | source address                                  |
 * | 16  | 4    | destination address                             |
 * | 20  | …    | options (IHL×4 − 20), then payload              |
 *
 * The fast readers and writers take the packet bytes and an optional offset of the IPv4
 * header within them (so a frame can be worked on in place: `ip4Dst(frame, ETH_HLEN)`).
 * They do not validate: run `parseIpv4` (or an equivalent check) first.
 */
import { type Ip4, readIp4, writeIp4 } from "./addr.js";
import { csumReplace16, csumReplace32, internetChecksum } from "./checksum.js";
import { type WireResult, wireErr, wireOk } from "./result.js";
import { allocBytes } from "./alloc.js";

export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_GRE = 47;

export const IPV4_MIN_HLEN = 20;
export const IPV4_MAX_HLEN = 60;
export const IPV4_MAX_LEN = 65535;

export const IP4_OFF_VIHL = 0;
export const IP4_OFF_TOS = 1;
export const IP4_OFF_TOTLEN = 2;
export const IP4_OFF_ID = 4;
export const IP4_OFF_FRAG = 6;
export const IP4_OFF_TTL = 8;
export const IP4_OFF_PROTO = 9;
export const IP4_OFF_CSUM = 10;
export const IP4_OFF_SRC = 12;
export const IP4_OFF_DST = 16;

export const IP_RF = 0x8000;
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFMASK = 0x1fff;

export interface Ipv4Header {
  tos: number;
  totalLength: number;
  id: number;
  df: boolean;
  mf: boolean;
  /** Fragment offset in bytes (the wire field × 8). */
  fragOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: Ip4;
  dst: Ip4;
  /** Option bytes (IHL×4 − 20, possibly empty), a view into the parsed bytes. */
  options: Uint8Array;
  /** IHL×4. */
  headerLength: number;
}

export interface Ipv4Packet {
  header: Ipv4Header;
  /** Bytes after the header up to the total length: link-layer padding is not included. */
  payload: Uint8Array;
}

export interface Ipv4HeaderInit {
  tos?: number;
  id: number;
  df?: boolean;
  mf?: boolean;
  /** Bytes; a multiple of 8. */
  fragOffset?: number;
  ttl: number;
  protocol: number;
  src: Ip4;
  dst: Ip4;
  /** Padded with zeros (EOL) to a multiple of 4; at most 40 bytes. */
  options?: Uint8Array;
}

export interface ParseIpv4Options {
  /** Check the header checksum (default true). tcpdump-like readers turn it off. */
  verifyChecksum?: boolean;
}

/**
 * Validates as Linux's ip_rcv_core does, in its order: version and IHL, header present,
 * header checksum, then total length against the buffer and the header.
 * Errors: "truncated", "bad-version", "bad-ihl", "bad-checksum", "bad-total-length".
 */
export function parseIpv4(b: Uint8Array, opts: ParseIpv4Options = {}): WireResult<Ipv4Packet> {
  if (b.length < IPV4_MIN_HLEN) return wireErr("truncated");
  const vihl = b[0]!;
  if (vihl >>> 4 !== 4) return wireErr("bad-version");
  const hl = (vihl & 0x0f) * 4;
  if (hl < IPV4_MIN_HLEN) return wireErr("bad-ihl");
  if (b.length < hl) return wireErr("truncated");
  if (opts.verifyChecksum !== false && internetChecksum(b, 0, hl) !== 0) return wireErr("bad-checksum");
  const totalLength = (b[2]! << 8) | b[3]!;
  if (totalLength > b.length) return wireErr("truncated");
  if (totalLength < hl) return wireErr("bad-total-length");
  const frag = (b[6]! << 8) | b[7]!;
  return wireOk({
    header: {
      tos: b[1]!,
      totalLength,
      id: (b[4]! << 8) | b[5]!,
      df: (frag & IP_DF) !== 0,
      mf: (frag & IP_MF) !== 0,
      fragOffset: (frag & IP_OFFMASK) * 8,
      ttl: b[8]!,
      protocol: b[9]!,
      checksum: (b[10]! << 8) | b[11]!,
      src: readIp4(b, IP4_OFF_SRC),
      dst: readIp4(b, IP4_OFF_DST),
      options: b.subarray(IPV4_MIN_HLEN, hl),
      headerLength: hl,
    },
    payload: b.subarray(hl, totalLength),
  });
}

/** Fresh packet bytes: header (total length and checksum computed) then the payload. */
export function emitIpv4(h: Ipv4HeaderInit, payload: Uint8Array): Uint8Array {
  return emitIpv4After(0, h, payload);
}

/**
 * The same packet `headroom` bytes into a fresh buffer (zeroed before it): the buffer is
 * returned, the packet is `out.subarray(headroom)`. With 14 bytes the buffer becomes the
 * Ethernet frame once its header is written, without copying the packet again.
 */
export function emitIpv4After(headroom: number, h: Ipv4HeaderInit, payload: Uint8Array): Uint8Array {
  const optLen = h.options === undefined ? 0 : (h.options.length + 3) & ~3;
  if (optLen > IPV4_MAX_HLEN - IPV4_MIN_HLEN) throw new RangeError(`IPv4 options too long: ${optLen} bytes`);
  const hl = IPV4_MIN_HLEN + optLen;
  const total = hl + payload.length;
  if (total > IPV4_MAX_LEN) throw new RangeError(`IPv4 packet too long: ${total} bytes`);
  const fragOffset = h.fragOffset ?? 0;
  if (fragOffset % 8 !== 0 || fragOffset < 0 || fragOffset / 8 > IP_OFFMASK) {
    throw new RangeError(`bad IPv4 fragment offset ${fragOffset}`);
  }
  const out = allocBytes(headroom + total);
  const o = headroom;
  out[o] = 0x40 | (hl >>> 2);
  out[o + 1] = h.tos ?? 0;
  out[o + 2] = total >>> 8;
  out[o + 3] = total;
  out[o + 4] = h.id >>> 8;
  out[o + 5] = h.id;
  const frag = (h.df ? IP_DF : 0) | (h.mf ? IP_MF : 0) | (fragOffset / 8);
  out[o + 6] = frag >>> 8;
  out[o + 7] = frag;
  out[o + 8] = h.ttl;
  out[o + 9] = h.protocol;
  writeIp4(out, o + IP4_OFF_SRC, h.src);
  writeIp4(out, o + IP4_OFF_DST, h.dst);
  if (h.options !== undefined) out.set(h.options, o + IPV4_MIN_HLEN);
  const c = internetChecksum(out, o, o + hl);
  out[o + 10] = c >>> 8;
  out[o + 11] = c;
  out.set(payload, o + hl);
  return out;
}

/** True when the header checksum of the header at `off` verifies. */
export function ipv4ChecksumOk(b: Uint8Array, off = 0): boolean {
  const hl = ip4HeaderLen(b, off);
  if (hl === IPV4_MIN_HLEN && b.length >= off + IPV4_MIN_HLEN) {
    // The usual header, without options: its ten words summed in line.
    const o = off;
    let s = ((b[o]! << 8) | b[o + 1]!) + ((b[o + 2]! << 8) | b[o + 3]!) + ((b[o + 4]! << 8) | b[o + 5]!) +
      ((b[o + 6]! << 8) | b[o + 7]!) + ((b[o + 8]! << 8) | b[o + 9]!) + ((b[o + 10]! << 8) | b[o + 11]!) +
      ((b[o + 12]! << 8) | b[o + 13]!) + ((b[o + 14]! << 8) | b[o + 15]!) + ((b[o + 16]! << 8) | b[o + 17]!) +
      ((b[o + 18]! << 8) | b[o + 19]!);
    s = (s & 0xffff) + (s >>> 16);
    s = (s & 0xffff) + (s >>> 16);
    return (~s & 0xffff) === 0;
  }
  return internetChecksum(b, off, off + hl) === 0;
}

// ---- fast readers ----

export function ip4Version(b: Uint8Array, off = 0): number {
  return b[off]! >>> 4;
}

export function ip4HeaderLen(b: Uint8Array, off = 0): number {
  return (b[off]! & 0x0f) << 2;
}

export function ip4Tos(b: Uint8Array, off = 0): number {
  return b[off + IP4_OFF_TOS]!;
}

export function ip4TotalLen(b: Uint8Array, off = 0): number {
  return (b[off + IP4_OFF_TOTLEN]! << 8) | b[off + IP4_OFF_TOTLEN + 1]!;
}

export function ip4Id(b: Uint8Array, off = 0): number {
  return (b[off + IP4_OFF_ID]! << 8) | b[off + IP4_OFF_ID + 1]!;
}

/** The raw flags + fragment offset word. */
export function ip4FragWord(b: Uint8Array, off = 0): number {
  return (b[off + IP4_OFF_FRAG]! << 8) | b[off + IP4_OFF_FRAG + 1]!;
}

export function ip4Df(b: Uint8Array, off = 0): boolean {
  return (b[off + IP4_OFF_FRAG]! & 0x40) !== 0;
}

export function ip4Mf(b: Uint8Array, off = 0): boolean {
  return (b[off + IP4_OFF_FRAG]! & 0x20) !== 0;
}

/** Fragment offset in bytes. */
export function ip4FragOffset(b: Uint8Array, off = 0): number {
  return (ip4FragWord(b, off) & IP_OFFMASK) * 8;
}

/** MF set or a non-zero offset: part of a fragmented datagram. */
export function ip4IsFragment(b: Uint8Array, off = 0): boolean {
  return (ip4FragWord(b, off) & (IP_MF | IP_OFFMASK)) !== 0;
}

export function ip4Ttl(b: Uint8Array, off = 0): number {
  return b[off + IP4_OFF_TTL]!;
}

export function ip4Proto(b: Uint8Array, off = 0): number {
  return b[off + IP4_OFF_PROTO]!;
}

export function ip4Checksum(b: Uint8Array, off = 0): number {
  return (b[off + IP4_OFF_CSUM]! << 8) | b[off + IP4_OFF_CSUM + 1]!;
}

export function ip4Src(b: Uint8Array, off = 0): Ip4 {
  return readIp4(b, off + IP4_OFF_SRC);
}

export function ip4Dst(b: Uint8Array, off = 0): Ip4 {
  return readIp4(b, off + IP4_OFF_DST);
}

// ---- in-place writers that keep the header checksum right (RFC 1624) ----

function setCsum(b: Uint8Array, off: number, c: number): void {
  b[off + IP4_OFF_CSUM] = c >>> 8;
  b[off + IP4_OFF_CSUM + 1] = c;
}

export function ip4SetSrc(b: Uint8Array, a: Ip4, off = 0): void {
  const old = readIp4(b, off + IP4_OFF_SRC);
  writeIp4(b, off + IP4_OFF_SRC, a);
  setCsum(b, off, csumReplace32(ip4Checksum(b, off), old, a >>> 0));
}

export function ip4SetDst(b: Uint8Array, a: Ip4, off = 0): void {
  const old = readIp4(b, off + IP4_OFF_DST);
  writeIp4(b, off + IP4_OFF_DST, a);
  setCsum(b, off, csumReplace32(ip4Checksum(b, off), old, a >>> 0));
}

/** TTL shares a 16-bit word with the protocol; that word is what the checksum sees. */
export function ip4SetTtl(b: Uint8Array, ttl: number, off = 0): void {
  const proto = b[off + IP4_OFF_PROTO]!;
  const oldWord = (b[off + IP4_OFF_TTL]! << 8) | proto;
  b[off + IP4_OFF_TTL] = ttl;
  setCsum(b, off, csumReplace16(ip4Checksum(b, off), oldWord, ((ttl & 0xff) << 8) | proto));
}

/** Decrements the TTL (as ip_decrease_ttl does) and returns the new value. */
export function ip4DecTtl(b: Uint8Array, off = 0): number {
  const ttl = (b[off + IP4_OFF_TTL]! - 1) & 0xff;
  ip4SetTtl(b, ttl, off);
  return ttl;
}

/** TOS shares a word with version/IHL. */
export function ip4SetTos(b: Uint8Array, tos: number, off = 0): void {
  const vihl = b[off]!;
  const oldWord = (vihl << 8) | b[off + IP4_OFF_TOS]!;
  b[off + IP4_OFF_TOS] = tos;
  setCsum(b, off, csumReplace16(ip4Checksum(b, off), oldWord, (vihl << 8) | (tos & 0xff)));
}

/** Sets the identification field (checksum updated). */
export function ip4SetId(b: Uint8Array, id: number, off = 0): void {
  const old = ip4Id(b, off);
  b[off + IP4_OFF_ID] = id >>> 8;
  b[off + IP4_OFF_ID + 1] = id;
  setCsum(b, off, csumReplace16(ip4Checksum(b, off), old, id & 0xffff));
}

/** Recomputes the header checksum from scratch (after arbitrary edits). */
export function ip4FillChecksum(b: Uint8Array, off = 0): void {
  setCsum(b, off, 0);
  setCsum(b, off, internetChecksum(b, off, off + ip4HeaderLen(b, off)));
}
