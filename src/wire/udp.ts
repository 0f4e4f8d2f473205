/**
 * UDP (RFC 768).
 *
 * | off | size | field                                                 |
 * |-----|------|-------------------------------------------------------|
 * | 0   | 2    | source port                                           |
 * | 2   | 2    | destination port                                      |
 * | 4   | 2    | length (header + data, >= 8)                          |
 * | 6   | 2    | checksum (pseudo-header as TCP, protocol 17; 0 = none) |
 */
import type { Ip4 } from "./addr.js";
import { foldChecksum, onesSum, pseudoHeaderSum } from "./checksum.js";
import { IPPROTO_UDP } from "./ipv4.js";
import { type WireResult, wireErr, wireOk } from "./result.js";

export const UDP_HLEN = 8;
export const UDP_OFF_SPORT = 0;
export const UDP_OFF_DPORT = 2;
export const UDP_OFF_LEN = 4;
export const UDP_OFF_CSUM = 6;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  /** The length field: header + data. */
  length: number;
  /** 0 when the sender computed none. */
  checksum: number;
  /** Data up to `length` (bytes beyond it are ignored). */
  payload: Uint8Array;
}

export interface UdpDatagramInit {
  srcPort: number;
  dstPort: number;
  payload?: Uint8Array;
}

export interface EmitUdpOptions {
  /** Compute a checksum (default true); false sends 0, "none". */
  checksum?: boolean;
}

/** Errors: "truncated" (buffer shorter than header or length field), "bad-length" (< 8). */
export function parseUdp(b: Uint8Array): WireResult<UdpDatagram> {
  if (b.length < UDP_HLEN) return wireErr("truncated");
  const length = (b[4]! << 8) | b[5]!;
  if (length < UDP_HLEN) return wireErr("bad-length");
  if (length > b.length) return wireErr("truncated");
  return wireOk({
    srcPort: (b[0]! << 8) | b[1]!,
    dstPort: (b[2]! << 8) | b[3]!,
    length,
    checksum: (b[6]! << 8) | b[7]!,
    payload: b.subarray(UDP_HLEN, length),
  });
}

/** True when the checksum verifies or is 0 (none). `l4` is the datagram up to its length. */
export function udpChecksumOk(l4: Uint8Array, src: Ip4, dst: Ip4): boolean {
  if (l4.length < UDP_HLEN) return false;
  if (l4[6] === 0 && l4[7] === 0) return true;
  return foldChecksum(onesSum(l4, 0, l4.length, pseudoHeaderSum(src, dst, IPPROTO_UDP, l4.length))) === 0;
}

/** Fresh datagram bytes, checksum computed (a computed 0 is sent as 0xffff) unless disabled. */
export function emitUdp(d: UdpDatagramInit, src: Ip4, dst: Ip4, opts: EmitUdpOptions = {}): Uint8Array {
  const payload = d.payload ?? new Uint8Array(0);
  const len = UDP_HLEN + payload.length;
  if (len > 0xffff) throw new RangeError(`UDP datagram too long: ${len} bytes`);
  const out = new Uint8Array(len);
  out[0] = d.srcPort >>> 8;
  out[1] = d.srcPort;
  out[2] = d.dstPort >>> 8;
  out[3] = d.dstPort;
  out[4] = len >>> 8;
  out[5] = len;
  out.set(payload, UDP_HLEN);
  if (opts.checksum !== false) {
    let c = foldChecksum(onesSum(out, 0, len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len)));
    if (c === 0) c = 0xffff;
    out[6] = c >>> 8;
    out[7] = c;
  }
  return out;
}

// ---- fast readers (`off` = start of the UDP header) ----

export function udpSrcPort(b: Uint8Array, off = 0): number {
  return (b[off]! << 8) | b[off + 1]!;
}

export function udpDstPort(b: Uint8Array, off = 0): number {
  return (b[off + 2]! << 8) | b[off + 3]!;
}

export function udpLength(b: Uint8Array, off = 0): number {
  return (b[off + 4]! << 8) | b[off + 5]!;
}

export function udpChecksumField(b: Uint8Array, off = 0): number {
  return (b[off + 6]! << 8) | b[off + 7]!;
}
