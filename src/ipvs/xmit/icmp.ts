/**
 * ICMP errors about IPVS flows (ip_vs_in_icmp / ip_vs_out_icmp / ip_vs_nat_icmp): only
 * DEST_UNREACH, SOURCE_QUENCH and TIME_EXCEEDED are "related". The quoted packet is parsed
 * to find the connection; for NAT the outer and quoted addresses (and the quoted port) are
 * rewritten, the quoted IP checksum redone and the ICMP checksum recomputed in full. The
 * quoted transport checksum is left alone, as the kernel leaves it.
 */
import { internetChecksum, ip4SetDst, ip4SetSrc, ip4FillChecksum } from "../../wire/index.js";

export interface IcmpQuote {
  /** Offset of the ICMP header. */
  icmpOff: number;
  /** Offset of the quoted IPv4 header. */
  qOff: number;
  /** Offset of the quoted transport header. */
  qL4: number;
  proto: number;
  saddr: number;
  daddr: number;
  sport: number;
  dport: number;
}

const RELATED = new Set([3, 4, 11]);

function rd32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** The quoted flow of a related ICMP error carrying TCP/UDP, or undefined. */
export function parseIcmpQuote(b: Uint8Array, ihl: number, tot: number): IcmpQuote | undefined {
  const icmpOff = ihl;
  if (tot < icmpOff + 8 + 20) return undefined;
  if (!RELATED.has(b[icmpOff]!)) return undefined;
  const qOff = icmpOff + 8;
  if (b[qOff]! >> 4 !== 4) return undefined;
  const qihl = (b[qOff]! & 15) << 2;
  if (qihl < 20) return undefined;
  const proto = b[qOff + 9]!;
  if (proto !== 6 && proto !== 17) return undefined;
  if (((b[qOff + 6]! << 8) | b[qOff + 7]!) & 0x1fff) return undefined; // not the first fragment
  const qL4 = qOff + qihl;
  if (tot < qL4 + 4) return undefined;
  return {
    icmpOff, qOff, qL4, proto,
    saddr: rd32(b, qOff + 12), daddr: rd32(b, qOff + 16),
    sport: (b[qL4]! << 8) | b[qL4 + 1]!, dport: (b[qL4 + 2]! << 8) | b[qL4 + 3]!,
  };
}

/**
 * ip_vs_nat_icmp. out=true (reply direction, from the real server): outer saddr and
 * quoted daddr:dport become vaddr:vport. out=false (towards the real server): outer daddr
 * and quoted saddr:sport become daddr:dport.
 */
export function natIcmp(b: Uint8Array, q: IcmpQuote, out: boolean, addr: number, port: number, tot: number): void {
  if (out) {
    ip4SetSrc(b, addr);
    wr32(b, q.qOff + 16, addr);
    b[q.qL4 + 2] = port >>> 8;
    b[q.qL4 + 3] = port & 0xff;
  } else {
    ip4SetDst(b, addr);
    wr32(b, q.qOff + 12, addr);
    b[q.qL4] = port >>> 8;
    b[q.qL4 + 1] = port & 0xff;
  }
  ip4FillChecksum(b, q.qOff);
  b[q.icmpOff + 2] = 0;
  b[q.icmpOff + 3] = 0;
  const c = internetChecksum(b, q.icmpOff, tot);
  b[q.icmpOff + 2] = c >>> 8;
  b[q.icmpOff + 3] = c & 0xff;
}

function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
