/**
 * FullNAT (lvslab extension after Alibaba LVS ip_vs_fnat_xmit / ip_vs_fnat_response_xmit and
 * the TCP handlers of its ip_vs_proto_tcp.c; DPVS does the same in user space).
 *
 * In (client -> real server): caddr:cport -> vaddr:vport becomes laddr:lport -> rip:rport.
 * For TCP, tcp_fnat_in_handler also
 *  - on the client's SYN: overwrites the Timestamps option with 10 NOPs (local addresses are
 *    shared by many clients whose clocks differ), picks the director's own ISN towards the
 *    real server (delta = ISN - client seq), and inserts TOA;
 *  - when fullnat_toa_entry is set: inserts TOA into every client segment without
 *    SYN/RST/FIN whose ack is the real server's ISN + 1 (the handshake-completing ACK and
 *    data sent before any server data is acknowledged) — the ACK the RS toa module reads;
 *  - adds delta to the sequence number.
 * TOA (kind 254, length 8: client port, client IPv4) goes right after the fixed header,
 * before every other option; it is skipped (and counted) when the header has no 8 bytes
 * left (doff > 13) or the packet would exceed the MTU.
 * Out (real server -> laddr:lport): rip:rport becomes vaddr:vport and laddr:lport becomes
 * caddr:cport; tcp_fnat_out_handler lowers a SYN-ACK's MSS by 8 (room for TOA), subtracts
 * delta from the ack and every SACK block, and records the server's ISN + 1.
 * Neither direction decrements the TTL (Alibaba's xmit does not).
 *
 * With a service's PROXY protocol (DPVS `--proxy-protocol v1|v2`, tcp_in_add_proxy_proto)
 * there is no TOA: the header (client -> VIP addresses and ports) goes in front of the
 * payload of the client's first data segment — recognised by its ack (the server's ISN + 1)
 * and its seq (the client's ISN + 1), pure ACKs skipped — whose seq is lowered by the
 * header's length while delta grows by it, so everything after (retransmissions of that
 * segment included) lands behind the header and the server's acks map back. When the
 * header would push the segment over the MTU it travels alone just before it
 * (proxy_proto_send_standalone).
 */
import type { Ip4 } from "../api.js";
import { emitProxyV1, emitProxyV2 } from "../../wire/proxy.js";
import type { FnatConn } from "../laddr.js";
import {
  IPPROTO_TCP, IPPROTO_UDP, ip4FillChecksum, ip4SetDst, ip4SetSrc, onesSum, pseudoHeaderSum, foldChecksum,
  TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCPOPT_EOL, TCPOPT_MSS, TCPOPT_NOP, TCPOPT_SACK, TCPOPT_TIMESTAMP, TCPOPT_TOA, TCPOLEN_TOA,
} from "../../wire/index.js";

/** Counters kept as Alibaba's ip_vs_esmib names them (FULLNAT_ADD_TOA_*). */
export interface FnatStats {
  toaOk: number;
  toaFailLen: number;
  toaHeadFull: number;
  toaFailProto: number;
  noLocalPort: number;
  connReused: number;
  /** PROXY protocol headers put in front of a first segment / sent on their own. */
  ppInserted: number;
  ppStandalone: number;
}

export function newFnatStats(): FnatStats {
  return { toaOk: 0, toaFailLen: 0, toaHeadFull: 0, toaFailProto: 0, noLocalPort: 0, connReused: 0, ppInserted: 0, ppStandalone: 0 };
}

export interface FnatKnobs {
  timestampRemove: boolean;
  toaEntry: boolean;
  connReused: boolean;
  mssAdjust: boolean;
  /** The MTU of the route to the real server (set per packet by the engine). */
  mtu: number;
}

export interface FnatEnds {
  caddr: Ip4;
  cport: number;
  vaddr: Ip4;
  vport: number;
  daddr: Ip4;
  dport: number;
}

/** What happened to a packet, for the trace note. */
export interface FnatInResult {
  packet: Uint8Array;
  /** "syn" / "ack": TOA inserted; "head-full" / "too-long": wanted but skipped. */
  toa?: "syn" | "ack" | "head-full" | "too-long";
  tsRemoved: boolean;
  /** A PROXY protocol header went in front of the data ("inline") or ahead in `before`. */
  pp?: { version: 1 | 2; length: number; how: "inline" | "standalone" };
  /** A segment to send just before `packet` (a standalone PROXY protocol header). */
  before?: Uint8Array;
}

const rd32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}
function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
}

/** Walks the options of the TCP header at `t`: calls fn(kind, offset of kind byte, size). */
function eachOption(b: Uint8Array, t: number, fn: (kind: number, at: number, size: number) => boolean | void): void {
  const end = t + ((b[t + 12]! >> 4) << 2);
  let p = t + 20;
  while (p < end) {
    const kind = b[p]!;
    if (kind === TCPOPT_EOL) return;
    if (kind === TCPOPT_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= end) return;
    const size = b[p + 1]!;
    if (size < 2 || p + size > end) return; // silly or partial options: stop, as the kernel does
    if (fn(kind, p, size) === true) return;
    p += size;
  }
}

/** tcp_opt_remove_timestamp: the 10-byte Timestamps option becomes 10 NOPs. */
function removeTimestamp(b: Uint8Array, t: number): boolean {
  let done = false;
  eachOption(b, t, (kind, at, size) => {
    if (kind === TCPOPT_TIMESTAMP && size === 10) {
      b.fill(TCPOPT_NOP, at, at + 10);
      done = true;
      return true;
    }
    return false;
  });
  return done;
}

/** tcp_opt_add_toa: a new packet with the 8 TOA bytes after the fixed TCP header. */
function addToa(b: Uint8Array, ihl: number, tot: number, c: FnatEnds, knobs: FnatKnobs, st: FnatStats): Uint8Array | "head-full" | "too-long" {
  const t = ihl;
  if (tot > knobs.mtu - TCPOLEN_TOA) {
    st.toaFailLen++;
    return "too-long";
  }
  const doff = (b[t + 12]! >> 4) << 2;
  if (60 - doff < TCPOLEN_TOA) {
    st.toaHeadFull++;
    return "head-full";
  }
  const n = new Uint8Array(tot + TCPOLEN_TOA);
  n.set(b.subarray(0, t + 20), 0);
  n[t + 20] = TCPOPT_TOA;
  n[t + 21] = TCPOLEN_TOA;
  wr16(n, t + 22, c.cport);
  wr32(n, t + 24, c.caddr);
  n.set(b.subarray(t + 20, tot), t + 20 + TCPOLEN_TOA);
  n[t + 12] = (((doff + TCPOLEN_TOA) >> 2) << 4) | (b[t + 12]! & 0x0f);
  wr16(n, 2, tot + TCPOLEN_TOA);
  st.toaOk++;
  return n;
}

/**
 * proxy_proto_insert: the header in front of the payload (seq lowered by its length), or, when
 * that would exceed the MTU, a segment of its own ahead of this one (`res.before`). Either
 * way delta grows by the header's length.
 */
function addProxyHeader(b: Uint8Array, ihl: number, tot: number, c: FnatEnds, fc: FnatConn, knobs: FnatKnobs,
  st: FnatStats, res: FnatInResult): Uint8Array {
  const hdr = fc.pp === 2 ? emitProxyV2(c.caddr, c.vaddr, c.cport, c.vport) : emitProxyV1(c.caddr, c.vaddr, c.cport, c.vport);
  const t = ihl;
  const doff = (b[t + 12]! >> 4) << 2;
  const seq = rd32(b, t + 4);
  if (tot + hdr.length > knobs.mtu) {
    // A bare ACK (PSH as the segment had it) carrying the header, in the connection's
    // numbering before the shift; the segment itself then moves behind it.
    const n = new Uint8Array(ihl + 20 + hdr.length);
    n.set(b.subarray(0, ihl), 0);
    n.set(b.subarray(t, t + 16), ihl);
    n[t + 12] = 5 << 4;
    n[t + 13] = 0x10 | (b[t + 13]! & 0x08);
    n[t + 18] = 0;
    n[t + 19] = 0;
    n.set(hdr, ihl + 20);
    wr16(n, 2, n.length);
    wr32(n, t + 4, (seq + fc.delta) >>> 0);
    wr16(n, ihl, fc.lport);
    wr16(n, ihl + 2, c.dport);
    ip4SetSrc(n, fc.laddr.addr);
    ip4SetDst(n, c.daddr);
    ip4FillChecksum(n);
    fillL4Checksum(n, ihl, n.length, IPPROTO_TCP, fc.laddr.addr, c.daddr);
    res.before = n;
    fc.delta = (fc.delta + hdr.length) >>> 0;
    st.ppStandalone++;
    res.pp = { version: fc.pp as 1 | 2, length: hdr.length, how: "standalone" };
    return b;
  }
  const n = new Uint8Array(tot + hdr.length);
  n.set(b.subarray(0, t + doff), 0);
  n.set(hdr, t + doff);
  n.set(b.subarray(t + doff, tot), t + doff + hdr.length);
  wr16(n, 2, tot + hdr.length);
  wr32(n, t + 4, (seq - hdr.length) >>> 0);
  fc.delta = (fc.delta + hdr.length) >>> 0;
  st.ppInserted++;
  res.pp = { version: fc.pp as 1 | 2, length: hdr.length, how: "inline" };
  return n;
}

function fillL4Checksum(b: Uint8Array, ihl: number, tot: number, proto: number, src: Ip4, dst: Ip4): void {
  const off = proto === IPPROTO_TCP ? ihl + 16 : ihl + 6;
  if (proto === IPPROTO_UDP && b[off] === 0 && b[off + 1] === 0) return; // UDP without checksum
  b[off] = 0;
  b[off + 1] = 0;
  let cs = foldChecksum(onesSum(b, ihl, tot, pseudoHeaderSum(src, dst, proto, tot - ihl)));
  if (proto === IPPROTO_UDP && cs === 0) cs = 0xffff;
  wr16(b, off, cs);
}

/**
 * The client -> real server half. `state` is the connection's TCP state name after this
 * packet's transition (SYN_RECV for a fresh SYN), `isn` a fresh random ISN in case one is
 * needed. Returns the packet to send (a new buffer when TOA was inserted).
 */
export function fnatIn(b: Uint8Array, c: FnatEnds, fc: FnatConn, synState: boolean, isn: () => number,
  knobs: FnatKnobs, st: FnatStats): FnatInResult {
  const ihl = (b[0]! & 15) << 2;
  const tot = (b[2]! << 8) | b[3]!;
  const proto = b[9]!;
  let pkt = b.length === tot ? b : b.subarray(0, tot);
  const res: FnatInResult = { packet: pkt, tsRemoved: false };
  if (proto === IPPROTO_TCP) {
    const t = ihl;
    let flags = pkt[t + 13]!;
    if (flags & TCP_SYN && !(flags & TCP_ACK)) {
      if (knobs.timestampRemove) res.tsRemoved = removeTimestamp(pkt, t);
      // tcp_in_init_seq: a retransmitted SYN keeps its delta; a new SYN (or one reusing the
      // entry while it is still in SYN_RECV/SYN_SENT) gets a fresh ISN.
      const seq = rd32(pkt, t + 4);
      const retrans = fc.initSeq !== 0 && fc.delta === ((fc.initSeq - seq) >>> 0);
      if (!retrans) {
        const reused = knobs.connReused && fc.initSeq !== 0 && synState;
        if (fc.initSeq === 0 || reused) {
          fc.initSeq = (isn() >>> 0) || 1;
          fc.delta = (fc.initSeq - seq) >>> 0;
          if (reused) st.connReused++;
        }
      }
      const r = fc.pp ? undefined : addToa(pkt, ihl, tot, c, knobs, st);
      if (typeof r === "string") res.toa = r;
      else if (r) {
        pkt = r;
        res.toa = "syn";
      }
    }
    flags = pkt[t + 13]!;
    if (fc.pp && !(flags & (TCP_SYN | TCP_RST)) && rd32(pkt, t + 8) === fc.fdataSeq &&
      rd32(pkt, t + 4) === ((fc.initSeq - fc.delta + 1) >>> 0) && tot > ihl + ((pkt[t + 12]! >> 4) << 2)) {
      pkt = addProxyHeader(pkt, ihl, tot, c, fc, knobs, st, res);
    } else if (!fc.pp && knobs.toaEntry && !(flags & (TCP_SYN | TCP_RST | TCP_FIN)) && rd32(pkt, t + 8) === fc.fdataSeq) {
      const len = (pkt[2]! << 8) | pkt[3]!;
      const r = addToa(pkt, ihl, len, c, knobs, st);
      if (typeof r === "string") res.toa = r;
      else {
        pkt = r;
        res.toa = "ack";
      }
    }
    wr32(pkt, t + 4, (rd32(pkt, t + 4) + fc.delta) >>> 0);
  }
  const len = (pkt[2]! << 8) | pkt[3]!;
  wr16(pkt, ihl, fc.lport);
  wr16(pkt, ihl + 2, c.dport);
  ip4SetSrc(pkt, fc.laddr.addr);
  ip4SetDst(pkt, c.daddr);
  ip4FillChecksum(pkt);
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) fillL4Checksum(pkt, ihl, len, proto, fc.laddr.addr, c.daddr);
  res.packet = pkt;
  return res;
}

/** The real server -> client half (the reply came to laddr:lport). Rewrites in place. */
export function fnatOut(b: Uint8Array, c: FnatEnds, fc: FnatConn, knobs: FnatKnobs): { packet: Uint8Array; mss?: [number, number] } {
  const ihl = (b[0]! & 15) << 2;
  const tot = (b[2]! << 8) | b[3]!;
  const proto = b[9]!;
  const pkt = b.length === tot ? b : b.subarray(0, tot);
  let mss: [number, number] | undefined;
  if (proto === IPPROTO_TCP) {
    const t = ihl;
    const flags = pkt[t + 13]!;
    const synAck = (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);
    if (synAck && knobs.mssAdjust) {
      // tcp_opt_adjust_mss: leave room for the TOA the director adds to the client's segments.
      eachOption(pkt, t, (kind, at, size) => {
        if (kind === TCPOPT_MSS && size === 4) {
          const old = (pkt[at + 2]! << 8) | pkt[at + 3]!;
          wr16(pkt, at + 2, (old - TCPOLEN_TOA) & 0xffff);
          mss = [old, (old - TCPOLEN_TOA) & 0xffff];
          return true;
        }
        return false;
      });
    }
    // tcp_out_adjust_seq: the ack and every SACK block back into the client's numbering.
    if (flags & TCP_ACK) wr32(pkt, t + 8, (rd32(pkt, t + 8) - fc.delta) >>> 0);
    eachOption(pkt, t, (kind, at, size) => {
      if (kind === TCPOPT_SACK && size >= 10 && (size - 2) % 8 === 0) {
        for (let o = at + 2; o < at + size; o += 4) wr32(pkt, o, (rd32(pkt, o) - fc.delta) >>> 0);
        return true;
      }
      return false;
    });
    if (synAck) fc.fdataSeq = (rd32(pkt, t + 4) + 1) >>> 0;
  }
  wr16(pkt, ihl, c.vport);
  wr16(pkt, ihl + 2, c.cport);
  ip4SetSrc(pkt, c.vaddr);
  ip4SetDst(pkt, c.caddr);
  ip4FillChecksum(pkt);
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) fillL4Checksum(pkt, ihl, tot, proto, c.vaddr, c.caddr);
  return { packet: pkt, mss };
}
