/**
 * IPv4 fragmentation and reassembly (net/ipv4/ip_output.c ip_do_fragment, ip_fragment.c
 * ip_defrag), for packets without DF that do not fit the MTU of the device they leave by.
 * Each fragment repeats the header (lvslab's packets carry no IP options), carries a
 * multiple of 8 bytes but the last, and keeps the id; the receiver puts the pieces back
 * together by (source, destination, protocol, id) and gives up after ipfrag_time (30 s).
 */
import type { Micros } from "../sim/clock.js";
import { copyBytes, ip4Dst, ip4HeaderLen, ip4Proto, ip4Src, ip4TotalLen, ip4FillChecksum } from "../wire/index.js";

const IP_MF = 0x2000;
const IP_OFFMASK = 0x1fff;

/** ip_do_fragment: the pieces of `pkt` for an MTU of `mtu` bytes. */
export function fragmentIpv4(pkt: Uint8Array, mtu: number): Uint8Array[] {
  const hl = ip4HeaderLen(pkt);
  const tot = ip4TotalLen(pkt);
  const room = (mtu - hl) & ~7;
  const word = (pkt[6]! << 8) | pkt[7]!;
  const baseOff = (word & IP_OFFMASK) * 8;
  const moreAfter = (word & IP_MF) !== 0;
  const out: Uint8Array[] = [];
  for (let off = hl; off < tot; off += room) {
    const len = Math.min(room, tot - off);
    const last = off + len >= tot;
    const f = new Uint8Array(hl + len);
    f.set(pkt.subarray(0, hl), 0);
    f.set(pkt.subarray(off, off + len), hl);
    f[2] = (hl + len) >>> 8;
    f[3] = (hl + len) & 0xff;
    const w = (((baseOff + off - hl) / 8) & IP_OFFMASK) | (!last || moreAfter ? IP_MF : 0);
    f[6] = w >>> 8;
    f[7] = w & 0xff;
    ip4FillChecksum(f);
    out.push(f);
  }
  return out;
}

interface Pending {
  pieces: Array<{ off: number; data: Uint8Array }>;
  /** Total payload length, known once the last fragment (MF clear) arrived. */
  total: number | undefined;
  header: Uint8Array | undefined;
  expires: Micros;
}

export interface ReasmCounters {
  ReasmReqds: number;
  ReasmOKs: number;
  ReasmFails: number;
  ReasmTimeout: number;
}

/** ip_defrag's queues for one host. */
export class Reassembler {
  private readonly q = new Map<string, Pending>();

  constructor(
    private readonly now: () => Micros,
    private readonly counters: ReasmCounters,
    private readonly timeout: () => Micros = () => 30_000_000,
  ) {}

  /** A fragment in; the whole datagram when this piece completed it, else undefined. */
  add(frag: Uint8Array): Uint8Array | undefined {
    this.counters.ReasmReqds++;
    this.expire();
    const hl = ip4HeaderLen(frag);
    const tot = ip4TotalLen(frag);
    const word = (frag[6]! << 8) | frag[7]!;
    const off = (word & IP_OFFMASK) * 8;
    const mf = (word & IP_MF) !== 0;
    const key = `${ip4Src(frag)}|${ip4Dst(frag)}|${ip4Proto(frag)}|${(frag[4]! << 8) | frag[5]!}`;
    let p = this.q.get(key);
    if (!p) {
      p = { pieces: [], total: undefined, header: undefined, expires: this.now() + this.timeout() };
      this.q.set(key, p);
    }
    const data = copyBytes(frag.subarray(hl, tot));
    if (!mf) p.total = off + data.length;
    if (off === 0) p.header = copyBytes(frag.subarray(0, hl));
    if (!p.pieces.some((x) => x.off === off)) p.pieces.push({ off, data });
    if (p.total === undefined || p.header === undefined) return undefined;
    p.pieces.sort((a, b) => a.off - b.off);
    let have = 0;
    for (const x of p.pieces) {
      if (x.off > have) return undefined;
      have = Math.max(have, x.off + x.data.length);
    }
    if (have < p.total) return undefined;
    this.q.delete(key);
    const h = p.header;
    const whole = new Uint8Array(h.length + p.total);
    whole.set(h, 0);
    for (const x of p.pieces) whole.set(x.data.subarray(0, Math.max(0, Math.min(x.data.length, p.total - x.off))), h.length + x.off);
    const len = whole.length;
    whole[2] = len >>> 8;
    whole[3] = len & 0xff;
    whole[6] &= 0x40; // keep DF, clear MF and the offset
    whole[7] = 0;
    ip4FillChecksum(whole);
    this.counters.ReasmOKs++;
    return whole;
  }

  /** ip_expire: queues older than ipfrag_time are dropped. */
  private expire(): void {
    const now = this.now();
    for (const [k, p] of this.q) {
      if (now >= p.expires) {
        this.q.delete(k);
        this.counters.ReasmTimeout++;
        this.counters.ReasmFails++;
      }
    }
  }
}
