/**
 * Ethernet II framing (IEEE 802.3 frames without the FCS, as a capture shows them).
 *
 * | off | size | field     |
 * |-----|------|-----------|
 * | 0   | 6    | dst MAC   |
 * | 6   | 6    | src MAC   |
 * | 12  | 2    | EtherType |
 * | 14  | …    | payload   |
 */
import { type Mac, readMac, writeMac } from "./addr.js";
import { type WireResult, wireErr, wireOk } from "./result.js";
import { allocBytes } from "./alloc.js";

export const ETH_HLEN = 14;
/** Minimum frame length without FCS: shorter frames are zero-padded by the sender. */
export const ETH_ZLEN = 60;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;

/** ARPHRD_* device types (include/uapi/linux/if_arp.h) of the devices a host can have. */
export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;
/** tunl0, ipip's fallback device. */
export const ARPHRD_TUNNEL = 768;
/** gre0, ip_gre's fallback device. */
export const ARPHRD_IPGRE = 778;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;

export const ETH_OFF_DST = 0;
export const ETH_OFF_SRC = 6;
export const ETH_OFF_TYPE = 12;

export interface EthernetFrame {
  dst: Mac;
  src: Mac;
  /** EtherType (an 802.1Q tag shows up as 0x8100 with the TCI first in the payload). */
  ethertype: number;
  /** Everything after the header, padding included (a view into the parsed bytes). */
  payload: Uint8Array;
}

export interface EmitEthernetOptions {
  /** Zero-pad to ETH_ZLEN (60) bytes, as a NIC does on the wire. Default true. */
  pad?: boolean;
}

export function parseEthernet(b: Uint8Array): WireResult<EthernetFrame> {
  if (b.length < ETH_HLEN) return wireErr("truncated");
  return wireOk({
    dst: readMac(b, ETH_OFF_DST),
    src: readMac(b, ETH_OFF_SRC),
    ethertype: (b[ETH_OFF_TYPE]! << 8) | b[ETH_OFF_TYPE + 1]!,
    payload: b.subarray(ETH_HLEN),
  });
}

/**
 * Fresh frame bytes. Frames shorter than 60 bytes are zero-padded unless `pad: false`
 * (Linux captures locally sent frames before the NIC pads them, so an ARP request seen
 * on its sender is 42 bytes while the reply it receives is 60).
 */
export function emitEthernet(f: EthernetFrame, opts: EmitEthernetOptions = {}): Uint8Array {
  const len = ETH_HLEN + f.payload.length;
  const out = allocBytes(opts.pad === false ? len : Math.max(len, ETH_ZLEN));
  writeEthHeader(out, f.dst, f.src, f.ethertype);
  out.set(f.payload, ETH_HLEN);
  return out;
}

/** The 14-byte header at the start of `out` (a frame whose payload is already in place). */
export function writeEthHeader(out: Uint8Array, dst: Mac, src: Mac, ethertype: number): void {
  writeMac(out, ETH_OFF_DST, dst);
  writeMac(out, ETH_OFF_SRC, src);
  out[ETH_OFF_TYPE] = ethertype >>> 8;
  out[ETH_OFF_TYPE + 1] = ethertype;
}

// Fast readers/writers on frame bytes (caller guarantees length >= ETH_HLEN).

export function ethDst(b: Uint8Array): Mac {
  return readMac(b, ETH_OFF_DST);
}

export function ethSrc(b: Uint8Array): Mac {
  return readMac(b, ETH_OFF_SRC);
}

export function ethType(b: Uint8Array): number {
  return (b[ETH_OFF_TYPE]! << 8) | b[ETH_OFF_TYPE + 1]!;
}

export function ethSetDst(b: Uint8Array, m: Mac): void {
  writeMac(b, ETH_OFF_DST, m);
}

export function ethSetSrc(b: Uint8Array, m: Mac): void {
  writeMac(b, ETH_OFF_SRC, m);
}
