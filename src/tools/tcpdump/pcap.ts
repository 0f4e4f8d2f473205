/**
 * Classic pcap files ("libpcap savefile", pcap-savefile(5)): what `tcpdump -w` writes and
 * `tcpdump -r` reads. The writer produces little-endian files exactly as tcpdump 4.99 on
 * x86 does (magic a1b2c3d4 for µs, a1b23c4d for ns; version 2.4; snaplen 262144). The reader
 * accepts either byte order and either precision and reports libpcap's error texts.
 * pcapng is not supported (tcpdump -w never writes it).
 */
import { ARPHRD_ETHER } from "../../wire/ethernet.js";

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const LINKTYPE_EN10MB = 1;
export const LINKTYPE_SLL2 = 276;
export const LINKTYPE_RAW = 101;
export const DEFAULT_SNAPLEN = 262144;

export interface PcapWriterOptions {
  /** Link type in the file header: 1 (EN10MB, default) or 276 (LINUX_SLL2). */
  linktype?: number;
  /** Snapshot length recorded in the header and applied to each record (default 262144). */
  snaplen?: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nano?: boolean;
}

/**
 * Builds a pcap file incrementally: `add()` records, then `bytes()` for the whole file so
 * far (header included), or `take()` for what was added since the last `take()`.
 */
export class PcapWriter {
  readonly linktype: number;
  readonly snaplen: number;
  readonly nano: boolean;
  private chunks: Uint8Array[] = [];
  private size = 0;
  private taken = 0;
  private count = 0;

  constructor(opts: PcapWriterOptions = {}) {
    this.linktype = opts.linktype ?? LINKTYPE_EN10MB;
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    this.nano = opts.nano ?? false;
    const h = new Uint8Array(24);
    const v = new DataView(h.buffer);
    v.setUint32(0, this.nano ? PCAP_MAGIC_NS : PCAP_MAGIC_US, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, this.linktype, true);
    this.push(h);
  }

  /**
   * Appends one record. `epochMicros` is the capture time in µs since the epoch (an integer;
   * `nsec` overrides the sub-second part for nano files). The frame is cut to the snaplen;
   * `origLen` defaults to the frame's length.
   */
  add(epochMicros: number, frame: Uint8Array, origLen: number = frame.length, nsec?: number): void {
    const sec = Math.floor(epochMicros / 1e6);
    const frac = this.nano ? (nsec ?? (epochMicros - sec * 1e6) * 1000) : epochMicros - sec * 1e6;
    const incl = Math.min(frame.length, this.snaplen);
    const rec = new Uint8Array(16 + incl);
    const v = new DataView(rec.buffer);
    v.setUint32(0, sec >>> 0, true);
    v.setUint32(4, frac >>> 0, true);
    v.setUint32(8, incl, true);
    v.setUint32(12, origLen, true);
    rec.set(frame.subarray(0, incl), 16);
    this.push(rec);
    this.count++;
  }

  /** Records added so far. */
  get packets(): number { return this.count; }

  /** The whole file so far. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    this.chunks = [out];
    return out;
  }

  /** The bytes added since the previous take() (the first call includes the header). */
  take(): Uint8Array {
    const all = this.bytes();
    const out = all.slice(this.taken);
    this.taken = all.length;
    return out;
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }
}

export interface PcapRecord {
  sec: number;
  /** Sub-second part in nanoseconds (µs files are scaled). */
  nsec: number;
  data: Uint8Array;
  origLen: number;
}

export interface PcapFile {
  linktype: number;
  snaplen: number;
  nano: boolean;
  versionMajor: number;
  versionMinor: number;
  records: PcapRecord[];
  /** libpcap's text when a record is cut short (printed after the records before it). */
  error?: string;
}

/** The maximum capture length libpcap accepts for a link type (max_snaplen_for_dlt). */
function maxSnaplen(linktype: number): number {
  return linktype === 1 || linktype === 276 || linktype === 113 ? 262144 : 262144;
}

/** Reads a classic pcap file; the string is libpcap's error for a bad header. */
export function readPcap(b: Uint8Array): PcapFile | string {
  if (b.length < 4) return `truncated dump file; tried to read 4 file header bytes, only got ${b.length}`;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const m = v.getUint32(0, true);
  let le: boolean;
  let nano: boolean;
  if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) { le = true; nano = m === PCAP_MAGIC_NS; }
  else {
    const mb = v.getUint32(0, false);
    if (mb === PCAP_MAGIC_US || mb === PCAP_MAGIC_NS) { le = false; nano = mb === PCAP_MAGIC_NS; }
    else return "unknown file format";
  }
  if (b.length < 24) return `truncated dump file; tried to read 24 file header bytes, only got ${b.length}`;
  const versionMajor = v.getUint16(4, le), versionMinor = v.getUint16(6, le);
  if (!(versionMajor === 2 && versionMinor <= 4) && versionMajor !== 1) {
    return `unsupported pcap savefile version ${versionMajor}.${versionMinor}`;
  }
  const snaplen = v.getUint32(16, le);
  const linktype = v.getUint32(20, le) & 0x03ffffff;
  const file: PcapFile = { linktype, snaplen, nano, versionMajor, versionMinor, records: [] };
  let off = 24;
  while (off < b.length) {
    if (b.length - off < 16) {
      file.error = `truncated dump file; tried to read 16 header bytes, only got ${b.length - off}`;
      break;
    }
    const sec = v.getUint32(off, le), frac = v.getUint32(off + 4, le);
    const incl = v.getUint32(off + 8, le), orig = v.getUint32(off + 12, le);
    if (incl > maxSnaplen(linktype)) {
      file.error = `invalid packet capture length ${incl}, bigger than maximum of ${maxSnaplen(linktype)}`;
      break;
    }
    off += 16;
    if (b.length - off < incl) {
      file.error = `truncated dump file; tried to read ${incl} captured bytes, only got ${b.length - off}`;
      break;
    }
    file.records.push({ sec, nsec: nano ? frac : frac * 1000, data: b.subarray(off, off + incl), origLen: orig });
    off += incl;
  }
  return file;
}

/** `link-type NAME (Description)` as tcpdump's banners show it. */
export function linktypeText(linktype: number): string {
  switch (linktype) {
    case 1: return "EN10MB (Ethernet)";
    case 276: return "LINUX_SLL2 (Linux cooked v2)";
    case 113: return "LINUX_SLL (Linux cooked v1)";
    case 101: return "RAW (Raw IP)";
    case 228: return "IPV4 (Raw IPv4)";
    case 0: return "NULL (BSD loopback)";
    default: return String(linktype);
  }
}

/** ARPHRD_* device types, as the cooked (-i any) header carries them. */
export { ARPHRD_ETHER, ARPHRD_IPGRE, ARPHRD_LOOPBACK, ARPHRD_TUNNEL } from "../../wire/ethernet.js";

/** An IPv4 packet from a tunnel device as `-i any` captures it: cooked, no link address. */
export function rawToSll2(packet: Uint8Array, ifindex: number, pkttype: number, hatype: number): Uint8Array {
  const out = new Uint8Array(20 + packet.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0x0800);
  v.setUint32(4, ifindex);
  v.setUint16(8, hatype);
  out[10] = pkttype;
  out.set(packet, 20);
  return out;
}

/**
 * A Linux cooked v2 header (20 bytes) for an Ethernet frame seen on interface `ifindex`,
 * followed by the frame's payload: what `-i any` captures. pkttype: 0 host, 1 broadcast,
 * 2 multicast, 3 other host, 4 outgoing. hatype: ARPHRD_ETHER, or ARPHRD_LOOPBACK for `lo`
 * (whose 6-byte "MAC" is all zeros).
 */
export function toSll2(frame: Uint8Array, ifindex: number, pkttype: number, hatype = ARPHRD_ETHER): Uint8Array {
  const out = new Uint8Array(20 + Math.max(frame.length - 14, 0));
  const v = new DataView(out.buffer);
  v.setUint16(0, frame.length >= 14 ? (frame[12]! << 8) | frame[13]! : 0);
  v.setUint32(4, ifindex);
  v.setUint16(8, hatype);
  out[10] = pkttype;
  out[11] = 6;
  out.set(frame.subarray(6, 12), 12);
  if (frame.length > 14) out.set(frame.subarray(14), 20);
  return out;
}
