/**
 * ICMP for IPv4 (RFC 792).
 *
 * | off | size | field                                                       |
 * |-----|------|-------------------------------------------------------------|
 * | 0   | 1    | type                                                        |
 * | 1   | 1    | code                                                        |
 * | 2   | 2    | checksum over the whole message (no pseudo-header)          |
 * | 4   | 4    | "rest": echo id + seq, redirect gateway, frag-needed MTU, 0 |
 * | 8   | …    | echo data, or the original datagram for errors              |
 */
import type { Ip4 } from "./addr.js";
import { internetChecksum } from "./checksum.js";
import { IPV4_MIN_HLEN } from "./ipv4.js";
import { type WireResult, wireErr, wireOk } from "./result.js";

export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETERPROB = 12;
export const ICMP_TIMESTAMP = 13;
export const ICMP_TIMESTAMPREPLY = 14;

/** Codes for ICMP_DEST_UNREACH. */
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_SR_FAILED = 5;
export const ICMP_NET_UNKNOWN = 6;
export const ICMP_HOST_UNKNOWN = 7;
export const ICMP_NET_ANO = 9;
export const ICMP_HOST_ANO = 10;
export const ICMP_PKT_FILTERED = 13;

/** Codes for ICMP_REDIRECT. */
export const ICMP_REDIR_NET = 0;
export const ICMP_REDIR_HOST = 1;
export const ICMP_REDIR_NETTOS = 2;
export const ICMP_REDIR_HOSTTOS = 3;

/** Codes for ICMP_TIME_EXCEEDED. */
export const ICMP_EXC_TTL = 0;
export const ICMP_EXC_FRAGTIME = 1;

export const ICMP_HLEN = 8;

/** "RFC says return as much as we can without exceeding 576 bytes" (Linux icmp.c). */
export const ICMP_ERROR_MAX_IP_LEN = 576;

export interface IcmpMessage {
  type: number;
  code: number;
  checksum: number;
  /** Bytes 4..7 as an unsigned 32-bit number. */
  rest: number;
  /** Bytes after the 8-byte header (a view). */
  payload: Uint8Array;
}

export interface IcmpMessageInit {
  type: number;
  code: number;
  rest?: number;
  payload?: Uint8Array;
}

export interface ParseIcmpOptions {
  /** Check the checksum (default true). */
  verifyChecksum?: boolean;
}

/** Errors: "truncated", "bad-checksum". `b` is the whole message (the IPv4 payload). */
export function parseIcmp(b: Uint8Array, opts: ParseIcmpOptions = {}): WireResult<IcmpMessage> {
  if (b.length < ICMP_HLEN) return wireErr("truncated");
  if (opts.verifyChecksum !== false && internetChecksum(b) !== 0) return wireErr("bad-checksum");
  return wireOk({
    type: b[0]!,
    code: b[1]!,
    checksum: (b[2]! << 8) | b[3]!,
    rest: ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0,
    payload: b.subarray(ICMP_HLEN),
  });
}

/** Fresh message bytes with the checksum computed. */
export function emitIcmp(m: IcmpMessageInit): Uint8Array {
  const payload = m.payload ?? new Uint8Array(0);
  const out = new Uint8Array(ICMP_HLEN + payload.length);
  out[0] = m.type;
  out[1] = m.code;
  const rest = m.rest ?? 0;
  out[4] = rest >>> 24;
  out[5] = rest >>> 16;
  out[6] = rest >>> 8;
  out[7] = rest;
  out.set(payload, ICMP_HLEN);
  const c = internetChecksum(out);
  out[2] = c >>> 8;
  out[3] = c;
  return out;
}

/** Echo request (ICMP_ECHO) or reply (ICMP_ECHOREPLY): id and sequence in `rest`. */
export function icmpEcho(type: number, id: number, seq: number, data: Uint8Array): Uint8Array {
  return emitIcmp({ type, code: 0, rest: (((id & 0xffff) << 16) | (seq & 0xffff)) >>> 0, payload: data });
}

/** Types that report an error about another datagram (Linux icmp_pointers[].error). */
export function icmpIsError(type: number): boolean {
  return type === ICMP_DEST_UNREACH || type === ICMP_SOURCE_QUENCH || type === ICMP_REDIRECT
    || type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETERPROB;
}

export interface IcmpErrorOptions {
  /** MTU of the route back to the sender (default and cap: 576). */
  mtu?: number;
  /** Length of IP options the reply will carry (default 0). */
  replyOptionsLength?: number;
}

/**
 * How many bytes of the original datagram an ICMP error quotes, as Linux __icmp_send
 * computes it: room = min(mtu, 576) − 20 − reply options − 8, and it copies
 * min(original length, room). Returns 0 when room <= 20 (Linux sends nothing then).
 */
export function icmpErrorQuoteLength(originalLength: number, opts: IcmpErrorOptions = {}): number {
  const room = Math.min(opts.mtu ?? ICMP_ERROR_MAX_IP_LEN, ICMP_ERROR_MAX_IP_LEN)
    - IPV4_MIN_HLEN - (opts.replyOptionsLength ?? 0) - ICMP_HLEN;
  if (room <= IPV4_MIN_HLEN) return 0;
  return Math.min(originalLength, room);
}

/**
 * An ICMP error message about `original` (the offending IPv4 packet, from its header).
 * Linux quotes not just the header + 8 bytes RFC 792 requires but as much of the datagram
 * as fits in a 576-byte reply: with no reply options, up to 548 bytes. The original's
 * length is its IPv4 total length when that is plausible (so link padding is not quoted).
 * `rest` is bytes 4..7: the gateway for a redirect, the next-hop MTU for frag-needed.
 */
export function icmpError(type: number, code: number, original: Uint8Array, rest = 0, opts: IcmpErrorOptions = {}): Uint8Array {
  let len = original.length;
  if (len >= IPV4_MIN_HLEN && original[0]! >>> 4 === 4) {
    const total = (original[2]! << 8) | original[3]!;
    if (total >= IPV4_MIN_HLEN && total < len) len = total;
  }
  const quote = icmpErrorQuoteLength(len, opts);
  return emitIcmp({ type, code, rest, payload: original.subarray(0, quote) });
}

/** `rest` for ICMP_FRAG_NEEDED: unused (0) then the next-hop MTU. */
export function icmpFragNeededRest(mtu: number): number {
  return mtu & 0xffff;
}

/** `rest` for ICMP_REDIRECT: the gateway address. */
export function icmpRedirectRest(gateway: Ip4): number {
  return gateway >>> 0;
}

// ---- fast readers (`off` = start of the ICMP header) ----

export function icmpType(b: Uint8Array, off = 0): number {
  return b[off]!;
}

export function icmpCode(b: Uint8Array, off = 0): number {
  return b[off + 1]!;
}

export function icmpEchoId(b: Uint8Array, off = 0): number {
  return (b[off + 4]! << 8) | b[off + 5]!;
}

export function icmpEchoSeq(b: Uint8Array, off = 0): number {
  return (b[off + 6]! << 8) | b[off + 7]!;
}
