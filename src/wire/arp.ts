/**
 * ARP for Ethernet/IPv4 (RFC 826): 28 bytes after the Ethernet header.
 *
 * | off | size | field                   |
 * |-----|------|-------------------------|
 * | 0   | 2    | htype (1 Ethernet)      |
 * | 2   | 2    | ptype (0x0800)          |
 * | 4   | 1    | hlen (6)                |
 * | 5   | 1    | plen (4)                |
 * | 6   | 2    | op (1 request, 2 reply) |
 * | 8   | 6    | sha                     |
 * | 14  | 4    | spa                     |
 * | 18  | 6    | tha                     |
 * | 24  | 4    | tpa                     |
 */
import { type Ip4, type Mac, readIp4, readMac, writeIp4, writeMac } from "./addr.js";
import { type WireResult, wireErr, wireOk } from "./result.js";

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ARP_LEN = 28;
export const ARP_HTYPE_ETHER = 1;

export interface ArpPacket {
  op: number;
  /** Sender hardware / protocol address. */
  sha: Mac;
  spa: Ip4;
  /** Target hardware / protocol address (tha is zero in requests). */
  tha: Mac;
  tpa: Ip4;
}

/** Only Ethernet/IPv4 ARP is understood; trailing bytes (frame padding) are ignored. */
export function parseArp(b: Uint8Array): WireResult<ArpPacket> {
  if (b.length < ARP_LEN) return wireErr("truncated");
  if (((b[0]! << 8) | b[1]!) !== ARP_HTYPE_ETHER) return wireErr("bad-htype");
  if (((b[2]! << 8) | b[3]!) !== 0x0800) return wireErr("bad-ptype");
  if (b[4] !== 6 || b[5] !== 4) return wireErr("bad-addr-len");
  return wireOk({
    op: (b[6]! << 8) | b[7]!,
    sha: readMac(b, 8),
    spa: readIp4(b, 14),
    tha: readMac(b, 18),
    tpa: readIp4(b, 24),
  });
}

/** 28 bytes (unpadded: `emitEthernet` pads the frame). */
export function emitArp(p: ArpPacket): Uint8Array {
  const out = new Uint8Array(ARP_LEN);
  out[1] = ARP_HTYPE_ETHER;
  out[2] = 0x08;
  out[4] = 6;
  out[5] = 4;
  out[6] = p.op >>> 8;
  out[7] = p.op;
  writeMac(out, 8, p.sha);
  writeIp4(out, 14, p.spa);
  writeMac(out, 18, p.tha);
  writeIp4(out, 24, p.tpa);
  return out;
}
