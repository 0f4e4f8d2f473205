/**
 * TCP (RFC 9293) segments and options, plus the NAT rewrites of the forwarding fast path.
 *
 * | off | size | field                                         |
 * |-----|------|-----------------------------------------------|
 * | 0   | 2    | source port                                   |
 * | 2   | 2    | destination port                              |
 * | 4   | 4    | sequence number                               |
 * | 8   | 4    | acknowledgment number                         |
 * | 12  | 1    | data offset (high nibble, 32-bit words)       |
 * | 13  | 1    | flags CWR ECE URG ACK PSH RST SYN FIN         |
 * | 14  | 2    | window                                        |
 * | 16  | 2    | checksum (pseudo-header + segment)            |
 * | 18  | 2    | urgent pointer                                |
 * | 20  | …    | options (data offset×4 − 20), then payload    |
 *
 * Options: EOL(0) and NOP(1) are one byte; the rest are kind, length, data. Known kinds
 * with their standard length become typed values; any other kind, or a known kind with an
 * unexpected length, is kept as `unknown` with its data, so parse → emit keeps the bytes.
 * Kind 254 with length 8 is TOA (Alibaba LVS FullNAT: client port, then IPv4 address).
 */
import { type Ip4, readIp4, writeIp4 } from "./addr.js";
import { csumReplace16, csumReplace32, foldChecksum, onesSum, pseudoHeaderSum } from "./checksum.js";
import { IPPROTO_TCP, IPPROTO_UDP, IP4_OFF_CSUM, IP4_OFF_DST, IP4_OFF_SRC, IP_OFFMASK } from "./ipv4.js";
import { type WireResult, wireErr, wireOk } from "./result.js";
import { allocBytes } from "./alloc.js";

export const TCP_FIN = 1;
export const TCP_SYN = 2;
export const TCP_RST = 4;
export const TCP_PSH = 8;
export const TCP_ACK = 16;
export const TCP_URG = 32;
export const TCP_ECE = 64;
export const TCP_CWR = 128;

export const TCP_MIN_HLEN = 20;
export const TCP_MAX_HLEN = 60;
export const TCP_MAX_OPTLEN = 40;

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WSCALE = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;
/** TCPOPT_ADDR in Alibaba LVS, TCPOPT_TOA in the toa module. */
export const TCPOPT_TOA = 254;
export const TCPOLEN_TOA = 8;

export const TCP_OFF_SPORT = 0;
export const TCP_OFF_DPORT = 2;
export const TCP_OFF_SEQ = 4;
export const TCP_OFF_ACK = 8;
export const TCP_OFF_DOFF = 12;
export const TCP_OFF_FLAGS = 13;
export const TCP_OFF_WINDOW = 14;
export const TCP_OFF_CSUM = 16;
export const TCP_OFF_URG = 18;

export type TcpOption =
  | { kind: "eol" }
  | { kind: "nop" }
  | { kind: "mss"; value: number }
  | { kind: "wscale"; shift: number }
  | { kind: "sackOK" }
  | { kind: "sack"; blocks: [number, number][] }
  | { kind: "timestamp"; val: number; ecr: number }
  | { kind: "toa"; port: number; addr: Ip4 }
  | { kind: "unknown"; type: number; data: Uint8Array };

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** TCP_* bits (byte 13). */
  flags: number;
  window: number;
  urgent: number;
  checksum: number;
  /** Parsed up to EOL (included) or up to a malformed option (which ends parsing). */
  options: TcpOption[];
  payload: Uint8Array;
  /** Data offset × 4. */
  headerLength: number;
  /** The raw option area (a view), for printers that must show malformed options. */
  optionBytes: Uint8Array;
}

export interface TcpSegmentInit {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  urgent?: number;
  options?: readonly TcpOption[];
  payload?: Uint8Array;
}

// ---- options ----

/**
 * Options of an option area. Parsing stops after EOL (later bytes are padding), and at an
 * option whose length is < 2 or runs past the area (as Linux tcp_parse_options does).
 */
export function parseTcpOptions(b: Uint8Array): TcpOption[] {
  const out: TcpOption[] = [];
  let i = 0;
  while (i < b.length) {
    const kind = b[i]!;
    if (kind === TCPOPT_EOL) {
      out.push({ kind: "eol" });
      break;
    }
    if (kind === TCPOPT_NOP) {
      out.push({ kind: "nop" });
      i++;
      continue;
    }
    if (i + 1 >= b.length) break;
    const len = b[i + 1]!;
    if (len < 2 || i + len > b.length) break;
    const d = i + 2;
    switch (kind) {
      case TCPOPT_MSS:
        if (len === 4) { out.push({ kind: "mss", value: (b[d]! << 8) | b[d + 1]! }); break; }
        out.push(unknownOpt(b, kind, d, i + len)); break;
      case TCPOPT_WSCALE:
        if (len === 3) { out.push({ kind: "wscale", shift: b[d]! }); break; }
        out.push(unknownOpt(b, kind, d, i + len)); break;
      case TCPOPT_SACK_PERM:
        if (len === 2) { out.push({ kind: "sackOK" }); break; }
        out.push(unknownOpt(b, kind, d, i + len)); break;
      case TCPOPT_SACK:
        if ((len - 2) % 8 === 0) {
          const blocks: [number, number][] = [];
          for (let j = d; j < i + len; j += 8) blocks.push([readIp4(b, j), readIp4(b, j + 4)]);
          out.push({ kind: "sack", blocks });
          break;
        }
        out.push(unknownOpt(b, kind, d, i + len)); break;
      case TCPOPT_TIMESTAMP:
        if (len === 10) { out.push({ kind: "timestamp", val: readIp4(b, d), ecr: readIp4(b, d + 4) }); break; }
        out.push(unknownOpt(b, kind, d, i + len)); break;
      case TCPOPT_TOA:
        if (len === TCPOLEN_TOA) { out.push({ kind: "toa", port: (b[d]! << 8) | b[d + 1]!, addr: readIp4(b, d + 2) }); break; }
        out.push(unknownOpt(b, kind, d, i + len)); break;
      default:
        out.push(unknownOpt(b, kind, d, i + len));
    }
    i += len;
  }
  return out;
}

function unknownOpt(b: Uint8Array, type: number, start: number, end: number): TcpOption {
  return { kind: "unknown", type, data: b.slice(start, end) };
}

/** Encoded length of one option. */
export function tcpOptionLength(o: TcpOption): number {
  switch (o.kind) {
    case "eol": case "nop": return 1;
    case "mss": return 4;
    case "wscale": return 3;
    case "sackOK": return 2;
    case "sack": return 2 + 8 * o.blocks.length;
    case "timestamp": return 10;
    case "toa": return TCPOLEN_TOA;
    case "unknown": return 2 + o.data.length;
  }
}

/** Encoded length of an option list before padding. */
export function tcpOptionsLength(opts: readonly TcpOption[]): number {
  let n = 0;
  for (const o of opts) n += tcpOptionLength(o);
  return n;
}

/**
 * Writes the options at `off` and zero-pads (EOL, RFC 9293) to a multiple of 4.
 * Returns the padded length.
 */
export function writeTcpOptions(b: Uint8Array, off: number, opts: readonly TcpOption[]): number {
  let i = off;
  for (const o of opts) {
    switch (o.kind) {
      case "eol": b[i++] = TCPOPT_EOL; break;
      case "nop": b[i++] = TCPOPT_NOP; break;
      case "mss":
        b[i] = TCPOPT_MSS; b[i + 1] = 4; b[i + 2] = o.value >>> 8; b[i + 3] = o.value; i += 4; break;
      case "wscale":
        b[i] = TCPOPT_WSCALE; b[i + 1] = 3; b[i + 2] = o.shift; i += 3; break;
      case "sackOK":
        b[i] = TCPOPT_SACK_PERM; b[i + 1] = 2; i += 2; break;
      case "sack":
        b[i] = TCPOPT_SACK; b[i + 1] = 2 + 8 * o.blocks.length; i += 2;
        for (const [l, r] of o.blocks) { writeIp4(b, i, l); writeIp4(b, i + 4, r); i += 8; }
        break;
      case "timestamp":
        b[i] = TCPOPT_TIMESTAMP; b[i + 1] = 10; writeIp4(b, i + 2, o.val); writeIp4(b, i + 6, o.ecr); i += 10; break;
      case "toa":
        b[i] = TCPOPT_TOA; b[i + 1] = TCPOLEN_TOA; b[i + 2] = o.port >>> 8; b[i + 3] = o.port;
        writeIp4(b, i + 4, o.addr); i += TCPOLEN_TOA; break;
      case "unknown":
        b[i] = o.type; b[i + 1] = 2 + o.data.length; b.set(o.data, i + 2); i += 2 + o.data.length; break;
    }
  }
  while ((i - off) % 4 !== 0) b[i++] = TCPOPT_EOL;
  return i - off;
}

/** The option area for a list of options (padded to a multiple of 4). */
export function emitTcpOptions(opts: readonly TcpOption[]): Uint8Array {
  const out = new Uint8Array((tcpOptionsLength(opts) + 3) & ~3);
  writeTcpOptions(out, 0, opts);
  return out;
}

// ---- segments ----

/** Errors: "truncated", "bad-data-offset". The checksum is checked by `tcpChecksumOk`. */
export function parseTcp(b: Uint8Array): WireResult<TcpSegment> {
  if (b.length < TCP_MIN_HLEN) return wireErr("truncated");
  const hl = (b[TCP_OFF_DOFF]! >>> 4) * 4;
  if (hl < TCP_MIN_HLEN) return wireErr("bad-data-offset");
  if (hl > b.length) return wireErr("truncated");
  const optionBytes = b.subarray(TCP_MIN_HLEN, hl);
  return wireOk({
    srcPort: (b[0]! << 8) | b[1]!,
    dstPort: (b[2]! << 8) | b[3]!,
    seq: readIp4(b, TCP_OFF_SEQ),
    ack: readIp4(b, TCP_OFF_ACK),
    flags: b[TCP_OFF_FLAGS]!,
    window: (b[14]! << 8) | b[15]!,
    checksum: (b[16]! << 8) | b[17]!,
    urgent: (b[18]! << 8) | b[19]!,
    options: parseTcpOptions(optionBytes),
    payload: b.subarray(hl),
    headerLength: hl,
    optionBytes,
  });
}

/** Verifies the checksum of a whole TCP segment `l4` carried from src to dst. */
export function tcpChecksumOk(l4: Uint8Array, src: Ip4, dst: Ip4): boolean {
  return foldChecksum(onesSum(l4, 0, l4.length, pseudoHeaderSum(src, dst, IPPROTO_TCP, l4.length))) === 0;
}

/** The checksum a segment should carry (its checksum field is treated as zero). */
export function tcpChecksum(l4: Uint8Array, src: Ip4, dst: Ip4): number {
  const stored = (l4[TCP_OFF_CSUM]! << 8) | l4[TCP_OFF_CSUM + 1]!;
  return foldChecksum(onesSum(l4, 0, l4.length, pseudoHeaderSum(src, dst, IPPROTO_TCP, l4.length)) - stored);
}

/** Fresh segment bytes: options padded to 4 bytes, checksum computed for src → dst. */
export function emitTcp(seg: TcpSegmentInit, src: Ip4, dst: Ip4): Uint8Array {
  const opts = seg.options ?? [];
  const optLen = (tcpOptionsLength(opts) + 3) & ~3;
  if (optLen > TCP_MAX_OPTLEN) throw new RangeError(`TCP options too long: ${optLen} bytes`);
  const hl = TCP_MIN_HLEN + optLen;
  const payload = seg.payload ?? EMPTY;
  const out = allocBytes(hl + payload.length);
  out[0] = seg.srcPort >>> 8;
  out[1] = seg.srcPort;
  out[2] = seg.dstPort >>> 8;
  out[3] = seg.dstPort;
  writeIp4(out, TCP_OFF_SEQ, seg.seq);
  writeIp4(out, TCP_OFF_ACK, seg.ack ?? 0);
  out[TCP_OFF_DOFF] = (hl >>> 2) << 4;
  out[TCP_OFF_FLAGS] = seg.flags;
  const window = seg.window ?? 0;
  out[14] = window >>> 8;
  out[15] = window;
  const urgent = seg.urgent ?? 0;
  out[18] = urgent >>> 8;
  out[19] = urgent;
  writeTcpOptions(out, TCP_MIN_HLEN, opts);
  out.set(payload, hl);
  const c = foldChecksum(onesSum(out, 0, out.length, pseudoHeaderSum(src, dst, IPPROTO_TCP, out.length)));
  out[16] = c >>> 8;
  out[17] = c;
  return out;
}

const EMPTY = new Uint8Array(0);

// ---- fast readers on segment bytes (`off` = start of the TCP header) ----

export function tcpSrcPort(b: Uint8Array, off = 0): number {
  return (b[off]! << 8) | b[off + 1]!;
}

export function tcpDstPort(b: Uint8Array, off = 0): number {
  return (b[off + 2]! << 8) | b[off + 3]!;
}

export function tcpSeq(b: Uint8Array, off = 0): number {
  return readIp4(b, off + TCP_OFF_SEQ);
}

export function tcpAck(b: Uint8Array, off = 0): number {
  return readIp4(b, off + TCP_OFF_ACK);
}

export function tcpHeaderLen(b: Uint8Array, off = 0): number {
  return (b[off + TCP_OFF_DOFF]! >>> 4) << 2;
}

export function tcpFlags(b: Uint8Array, off = 0): number {
  return b[off + TCP_OFF_FLAGS]!;
}

export function tcpWindow(b: Uint8Array, off = 0): number {
  return (b[off + TCP_OFF_WINDOW]! << 8) | b[off + TCP_OFF_WINDOW + 1]!;
}

export function tcpChecksumField(b: Uint8Array, off = 0): number {
  return (b[off + TCP_OFF_CSUM]! << 8) | b[off + TCP_OFF_CSUM + 1]!;
}

// ---- NAT rewrites on whole IPv4 packets ----

const UDP_OFF_CSUM = 6;

/**
 * Rewrites the source address and port of an IPv4 TCP or UDP packet in place (`off` is
 * where the IPv4 header starts in `pkt`), fixing the IP header checksum and the transport
 * checksum (whose pseudo-header covers the address) incrementally, per RFC 1624.
 *
 * A UDP checksum of 0 means "none" and stays 0; an updated UDP checksum that comes out as
 * 0 is stored as 0xffff (RFC 768). A non-first fragment carries no transport header: only
 * its address is rewritten. Returns false, leaving the packet untouched, when it is not
 * TCP or UDP or is too short to hold the transport header fields involved.
 */
export function natRewriteSrc(pkt: Uint8Array, addr: Ip4, port: number, off = 0): boolean {
  return natRewrite(pkt, off, off + IP4_OFF_SRC, 0, addr, port);
}

/** As `natRewriteSrc`, for the destination address and port. */
export function natRewriteDst(pkt: Uint8Array, addr: Ip4, port: number, off = 0): boolean {
  return natRewrite(pkt, off, off + IP4_OFF_DST, 2, addr, port);
}

function natRewrite(pkt: Uint8Array, off: number, addrOff: number, portOff: number, addr: Ip4, port: number): boolean {
  const proto = pkt[off + 9];
  let csumOff: number;
  if (proto === IPPROTO_TCP) csumOff = TCP_OFF_CSUM;
  else if (proto === IPPROTO_UDP) csumOff = UDP_OFF_CSUM;
  else return false;
  const l4 = off + ((pkt[off]! & 0x0f) << 2);
  const firstFragment = ((((pkt[off + 6]! << 8) | pkt[off + 7]!) & IP_OFFMASK) === 0);
  if (firstFragment && pkt.length < l4 + csumOff + 2) return false;
  const newAddr = addr >>> 0;
  const oldAddr = readIp4(pkt, addrOff);
  // IP header checksum.
  const ipc = off + IP4_OFF_CSUM;
  const ipCsum = csumReplace32((pkt[ipc]! << 8) | pkt[ipc + 1]!, oldAddr, newAddr);
  pkt[ipc] = ipCsum >>> 8;
  pkt[ipc + 1] = ipCsum;
  writeIp4(pkt, addrOff, newAddr);
  if (!firstFragment) return true;
  // Transport checksum: the pseudo-header address and the port.
  const pOff = l4 + portOff;
  const oldPort = (pkt[pOff]! << 8) | pkt[pOff + 1]!;
  pkt[pOff] = port >>> 8;
  pkt[pOff + 1] = port;
  const cOff = l4 + csumOff;
  const old = (pkt[cOff]! << 8) | pkt[cOff + 1]!;
  if (proto === IPPROTO_UDP && old === 0) return true;
  let c = csumReplace16(csumReplace32(old, oldAddr, newAddr), oldPort, port & 0xffff);
  if (proto === IPPROTO_UDP && c === 0) c = 0xffff;
  pkt[cOff] = c >>> 8;
  pkt[cOff + 1] = c;
  return true;
}
