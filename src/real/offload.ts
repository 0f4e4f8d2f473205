/**
 * What a NIC's offloads leave undone in frames read from a raw socket, finished in software
 * so the director's stack sees what a wire would carry:
 * - CHECKSUM_PARTIAL (the sender's kernel left the TCP/UDP checksum to the NIC: the field
 *   holds the folded pseudo-header sum, uncomplemented);
 * - TSO/GSO/GRO super-frames: one TCP segment larger than the MTU, cut back into segments
 *   as tcp_gso_segment() would (sequence numbers, IP ids, flags, fresh checksums).
 */
import {
  ETH_HLEN, ETHERTYPE_IPV4, IPPROTO_TCP, IPPROTO_UDP, foldChecksum, ip4FillChecksum, onesSum, pseudoHeaderSum, readIp4,
} from "../wire/index.js";

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

interface Ip4View {
  ihl: number;
  end: number;
  proto: number;
}

function ipv4Of(frame: Uint8Array): Ip4View | undefined {
  if (frame.length < ETH_HLEN + 20 || ((frame[12]! << 8) | frame[13]!) !== ETHERTYPE_IPV4 || frame[ETH_HLEN]! >> 4 !== 4) return undefined;
  const ihl = (frame[ETH_HLEN]! & 0x0f) * 4;
  const end = ETH_HLEN + ((frame[ETH_HLEN + 2]! << 8) | frame[ETH_HLEN + 3]!);
  if (ihl < 20 || end > frame.length || end <= ETH_HLEN + ihl) return undefined;
  return { ihl, end, proto: frame[ETH_HLEN + 9]! };
}

/** Write the full TCP/UDP checksum of an IPv4 frame (the field's old content ignored). */
function fillL4Checksum(frame: Uint8Array, l4: number, end: number, proto: number, off: number): void {
  frame[l4 + off] = 0;
  frame[l4 + off + 1] = 0;
  const sum = onesSum(frame, l4, end, pseudoHeaderSum(readIp4(frame, ETH_HLEN + 12), readIp4(frame, ETH_HLEN + 16), proto, end - l4));
  let c = foldChecksum(sum);
  if (c === 0 && proto === IPPROTO_UDP) c = 0xffff;
  frame[l4 + off] = c >> 8;
  frame[l4 + off + 1] = c & 0xff;
}

/** Finish a partial TCP/UDP checksum in place. False when the frame is not IPv4 TCP/UDP. */
export function completeChecksum(frame: Uint8Array): boolean {
  const ip = ipv4Of(frame);
  if (!ip) return false;
  const l4 = ETH_HLEN + ip.ihl;
  const off = ip.proto === IPPROTO_TCP ? 16 : ip.proto === IPPROTO_UDP ? 6 : -1;
  if (off < 0 || ip.end - l4 < off + 2) return false;
  fillL4Checksum(frame, l4, ip.end, ip.proto, off);
  return true;
}

/**
 * Finish the checksum of a frame that carries CHECKSUM_PARTIAL's mark: the field equals the
 * folded pseudo-header sum (what tcp_v4_send_check / udp4_hwcsum leave for the NIC, and
 * what NAT keeps up to date) while the full sum is wrong. Costs a few additions per frame;
 * only such candidates are summed in full. Fragments are left alone (their L4 sum spans
 * the other fragments). True when the frame was changed.
 */
export function completePartialChecksum(frame: Uint8Array): boolean {
  const ip = ipv4Of(frame);
  if (!ip || (ip.proto !== IPPROTO_TCP && ip.proto !== IPPROTO_UDP)) return false;
  if ((((frame[ETH_HLEN + 6]! << 8) | frame[ETH_HLEN + 7]!) & 0x3fff) !== 0) return false;
  const l4 = ETH_HLEN + ip.ihl;
  const off = ip.proto === IPPROTO_TCP ? 16 : 6;
  if (ip.end - l4 < off + 2) return false;
  const field = (frame[l4 + off]! << 8) | frame[l4 + off + 1]!;
  const pseudo = pseudoHeaderSum(readIp4(frame, ETH_HLEN + 12), readIp4(frame, ETH_HLEN + 16), ip.proto, ip.end - l4);
  if (field !== (~foldChecksum(pseudo) & 0xffff)) return false;
  if (foldChecksum(onesSum(frame, l4, ip.end, pseudo)) === 0) return false; // a full sum that happens to match
  fillL4Checksum(frame, l4, ip.end, ip.proto, off);
  return true;
}

/**
 * Cut an IPv4 TCP frame whose IP packet exceeds `mtu` into frames that fit. Anything
 * else (not TCP, a fragment, a header that does not fit) is returned whole: the stack
 * then treats it as the oversized packet it is.
 */
export function segmentTcp(frame: Uint8Array, mtu: number): Uint8Array[] {
  const ip = ipv4Of(frame);
  if (!ip || ip.proto !== IPPROTO_TCP || ip.end - ETH_HLEN <= mtu) return [frame];
  const fragBits = (frame[ETH_HLEN + 6]! << 8) | frame[ETH_HLEN + 7]!;
  if ((fragBits & 0x3fff) !== 0) return [frame];
  const l4 = ETH_HLEN + ip.ihl;
  if (ip.end - l4 < 20) return [frame];
  const thl = (frame[l4 + 12]! >> 4) * 4;
  const hdr = l4 + thl; // end of all headers
  if (thl < 20 || hdr > ip.end) return [frame];
  const mss = mtu - ip.ihl - thl;
  if (mss <= 0) return [frame];
  const seq0 = ((frame[l4 + 4]! << 24) | (frame[l4 + 5]! << 16) | (frame[l4 + 6]! << 8) | frame[l4 + 7]!) >>> 0;
  const id0 = (frame[ETH_HLEN + 4]! << 8) | frame[ETH_HLEN + 5]!;
  const flags = frame[l4 + 13]!;
  const out: Uint8Array[] = [];
  const total = ip.end - hdr;
  for (let off = 0, i = 0; off < total; off += mss, i++) {
    const len = Math.min(mss, total - off);
    const f = new Uint8Array(hdr + len);
    f.set(frame.subarray(0, hdr), 0);
    f.set(frame.subarray(hdr + off, hdr + off + len), hdr);
    const tot = ip.ihl + thl + len;
    f[ETH_HLEN + 2] = tot >> 8;
    f[ETH_HLEN + 3] = tot & 0xff;
    const id = (id0 + i) & 0xffff;
    f[ETH_HLEN + 4] = id >> 8;
    f[ETH_HLEN + 5] = id & 0xff;
    ip4FillChecksum(f, ETH_HLEN);
    const seq = (seq0 + off) >>> 0;
    f[l4 + 4] = seq >>> 24;
    f[l4 + 5] = (seq >>> 16) & 0xff;
    f[l4 + 6] = (seq >>> 8) & 0xff;
    f[l4 + 7] = seq & 0xff;
    const last = off + len >= total;
    let fl = flags;
    if (!last) fl &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) fl &= ~TCP_CWR;
    f[l4 + 13] = fl;
    fillL4Checksum(f, l4, f.length, IPPROTO_TCP, 16);
    out.push(f);
  }
  return out;
}
