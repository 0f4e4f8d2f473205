/**
 * The connection table (net/netfilter/ipvs/ip_vs_conn.c): one table of 2^bits buckets,
 * every entry (connection or persistence template) hashed once by (protocol, caddr, cport)
 * with jhash and a per-engine random seed; new entries go to the head of their bucket, so
 * listing bucket by bucket, chain by chain, gives the kernel's /proc/net/ip_vs_conn order.
 *
 * Lookups do not walk the chains: beside the buckets two open-addressing indexes (linear
 * probing, at most half full) map the full lookup keys straight to a row, the "in" key
 * (protocol, client, virtual address, template or not) and the "out" key (protocol,
 * client, real server), so a lookup costs the same whatever the bucket count and table
 * size. The buckets still decide the listing order. When two hashed entries share a key,
 * the index points at the newest (the one a chain walk meets first, as new entries go to
 * the head); removing it falls back to the next one in its chain.
 *
 * Entries are rows of parallel typed arrays (about 80 bytes each, plus 16 for the two
 * indexes; no objects, no closures, no per-entry timers) addressed by an integer handle. Expiry is a binary min-heap of
 * (deadline, handle) with lazy re-keying: a packet that only pushes a deadline later
 * writes one number; the heap fixes itself up when the stale key reaches the top.
 */
import type { Micros } from "../sim/clock.js";
import { jhash3, swab16 } from "./hash.js";

// Connection flags (uapi IP_VS_CONN_F_*).
export const CONN_F_FWD_MASK = 0x0007;
export const CONN_F_MASQ = 0x0000;
export const CONN_F_LOCALNODE = 0x0001;
export const CONN_F_TUNNEL = 0x0002;
export const CONN_F_DROUTE = 0x0003;
export const CONN_F_BYPASS = 0x0004;
export const CONN_F_SYNC = 0x0020;
export const CONN_F_HASHED = 0x0040;
export const CONN_F_NOOUTPUT = 0x0080;
export const CONN_F_INACTIVE = 0x0100;
export const CONN_F_NO_CPORT = 0x0800;
export const CONN_F_TEMPLATE = 0x1000;
export const CONN_F_ONE_PACKET = 0x2000;
export const CONN_F_NFCT = 0x10000;

/** Template states (IP_VS_CTPL_S_*). */
export const CTPL_S_NONE = 0;
export const CTPL_S_ASSURED = 1;

export const NIL = -1;

/** Index slots hold row + 1; 0 is an empty slot. */
const EMPTY = 0;

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x9e3779b1);
  return h ^ (h >>> 15);
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class ConnTable {
  readonly bits: number;
  readonly size: number;
  private readonly mask: number;
  private readonly seed: number;
  private readonly buckets: Int32Array;

  /** Number of live entries (connections and templates). */
  count = 0;
  private cap = 0;
  private freeHead = NIL;

  proto!: Uint8Array;
  state!: Uint8Array;
  flags!: Uint32Array;
  caddr!: Uint32Array;
  vaddr!: Uint32Array;
  daddr!: Uint32Array;
  cport!: Uint16Array;
  vport!: Uint16Array;
  dport!: Uint16Array;
  /** Current timeout in seconds (the deadline is re-armed to now + timeout after each packet). */
  timeout!: Uint32Array;
  /** Deadline in µs. */
  expires!: Float64Array;
  next!: Int32Array;
  /** Previous entry in the chain, or -1 - bucket when at the head. */
  prev!: Int32Array;
  /** Dest id (engine registry), -1 for none. */
  dest!: Int32Array;
  /** Controlling entry (template), -1 for none. */
  control!: Int32Array;
  nControl!: Uint32Array;
  inPkts!: Uint32Array;
  fwmark!: Uint32Array;
  private heapPos!: Int32Array;

  /** The in-key and out-key indexes (see the header); the out index has no templates. */
  private inIdx = new Int32Array(2048);
  private outIdx = new Int32Array(2048);
  private idxMask = 2047;
  private hashed = 0;

  private heap!: Int32Array;
  private heapKey!: Float64Array;
  private heapLen = 0;

  constructor(bits: number, seed: number, initialCapacity = 1024) {
    this.bits = bits;
    this.size = 1 << bits;
    this.mask = this.size - 1;
    this.seed = seed >>> 0;
    this.buckets = new Int32Array(this.size).fill(NIL);
    this.grow(initialCapacity);
  }

  private grow(newCap: number): void {
    const old = this.cap;
    const g8 = (a: Uint8Array | undefined) => { const n = new Uint8Array(newCap); if (a) n.set(a); return n; };
    const g16 = (a: Uint16Array | undefined) => { const n = new Uint16Array(newCap); if (a) n.set(a); return n; };
    const g32 = (a: Uint32Array | undefined) => { const n = new Uint32Array(newCap); if (a) n.set(a); return n; };
    const gi = (a: Int32Array | undefined) => { const n = new Int32Array(newCap); if (a) n.set(a); return n; };
    const gf = (a: Float64Array | undefined) => { const n = new Float64Array(newCap); if (a) n.set(a); return n; };
    this.proto = g8(this.proto);
    this.state = g8(this.state);
    this.flags = g32(this.flags);
    this.caddr = g32(this.caddr);
    this.vaddr = g32(this.vaddr);
    this.daddr = g32(this.daddr);
    this.cport = g16(this.cport);
    this.vport = g16(this.vport);
    this.dport = g16(this.dport);
    this.timeout = g32(this.timeout);
    this.expires = gf(this.expires);
    this.next = gi(this.next);
    this.prev = gi(this.prev);
    this.dest = gi(this.dest);
    this.control = gi(this.control);
    this.nControl = g32(this.nControl);
    this.inPkts = g32(this.inPkts);
    this.fwmark = g32(this.fwmark);
    this.heapPos = gi(this.heapPos);
    this.heap = gi(this.heap);
    this.heapKey = gf(this.heapKey);
    // Thread the new rows onto the free list (lowest index first).
    for (let i = newCap - 1; i >= old; i--) {
      this.next[i] = this.freeHead;
      this.freeHead = i;
    }
    this.cap = newCap;
  }

  hashKey(proto: number, caddr: number, cport: number): number {
    // ip_vs_conn_hashkey: jhash_3words(caddr, port as stored (network order), proto, rnd).
    return jhash3(caddr, swab16(cport), proto, this.seed) & this.mask;
  }

  /** A fresh row (not hashed, not timed). */
  alloc(proto: number, caddr: number, cport: number, vaddr: number, vport: number,
    daddr: number, dport: number, flags: number, dest: number, fwmark: number): number {
    if (this.freeHead === NIL) this.grow(this.cap * 2);
    const i = this.freeHead;
    this.freeHead = this.next[i]!;
    this.proto[i] = proto;
    this.state[i] = 0;
    this.flags[i] = flags;
    this.caddr[i] = caddr;
    this.cport[i] = cport;
    this.vaddr[i] = vaddr;
    this.vport[i] = vport;
    this.daddr[i] = daddr;
    this.dport[i] = dport;
    this.timeout[i] = 3; // ip_vs_conn_new: 3 s until the first state transition
    this.expires[i] = 0;
    this.next[i] = NIL;
    this.prev[i] = NIL;
    this.dest[i] = dest;
    this.control[i] = NIL;
    this.nControl[i] = 0;
    this.inPkts[i] = 0;
    this.fwmark[i] = fwmark;
    this.heapPos[i] = NIL;
    this.count++;
    return i;
  }

  /** Return a row to the free list (must be unhashed and out of the heap). */
  free(i: number): void {
    if (this.heapPos[i]! >= 0) this.heapRemove(i);
    this.flags[i] = 0;
    this.dest[i] = NIL;
    this.next[i] = this.freeHead;
    this.freeHead = i;
    this.count--;
  }

  /** Link at the head of its bucket (ip_vs_conn_hash). */
  hash(i: number): void {
    const b = this.hashKey(this.proto[i]!, this.caddr[i]!, this.cport[i]!);
    const h = this.buckets[b]!;
    this.next[i] = h;
    this.prev[i] = -1 - b;
    if (h >= 0) this.prev[h] = i;
    this.buckets[b] = i;
    this.flags[i] |= CONN_F_HASHED;
    if (++this.hashed * 2 > this.idxMask + 1) this.rebuildIndexes((this.idxMask + 1) * 2);
    else this.indexAdd(i, true);
  }

  unhash(i: number): void {
    if (!(this.flags[i]! & CONN_F_HASHED)) return;
    const p = this.prev[i]!;
    const n = this.next[i]!;
    if (p >= 0) this.next[p] = n;
    else this.buckets[-1 - p] = n;
    if (n >= 0) this.prev[n] = p;
    this.next[i] = NIL;
    this.prev[i] = NIL;
    this.flags[i] &= ~CONN_F_HASHED;
    this.hashed--;
    this.indexRemove(this.inIdx, i, false);
    if (!(this.flags[i]! & CONN_F_TEMPLATE)) this.indexRemove(this.outIdx, i, true);
  }

  /** In lookup (client -> VIP): exact (protocol, caddr, cport, vaddr, vport), no templates. */
  inLookup(proto: number, caddr: number, cport: number, vaddr: number, vport: number): number {
    return this.findIn(proto, caddr, cport, vaddr, vport, 0);
  }

  /**
   * Out lookup (a reply saddr:sport -> daddr:dport): the entry whose client is the
   * reply's destination and whose real server is the reply's source (ip_vs_conn_out_get).
   */
  outLookup(proto: number, saddr: number, sport: number, daddr: number, dport: number): number {
    const idx = this.outIdx, mask = this.idxMask;
    for (let k = outHash(proto, daddr, dport, saddr, sport) & mask; ; k = (k + 1) & mask) {
      const v = idx[k]!;
      if (v === EMPTY) return NIL;
      const i = v - 1;
      if (this.caddr[i] === daddr && this.cport[i] === dport && this.daddr[i] === saddr &&
        this.dport[i] === sport && this.proto[i] === proto) return i;
    }
  }

  /** Template lookup (ip_vs_ct_in_get): (protocol, snet, 0, vaddr, vport) with TEMPLATE. */
  templateLookup(proto: number, caddr: number, vaddr: number, vport: number): number {
    return this.findIn(proto, caddr, 0, vaddr, vport, CONN_F_TEMPLATE);
  }

  private findIn(proto: number, caddr: number, cport: number, vaddr: number, vport: number, tpl: number): number {
    const idx = this.inIdx, mask = this.idxMask;
    for (let k = inHash(proto, caddr, cport, vaddr, vport, tpl) & mask; ; k = (k + 1) & mask) {
      const v = idx[k]!;
      if (v === EMPTY) return NIL;
      const i = v - 1;
      if (this.caddr[i] === caddr && this.cport[i] === cport && this.vaddr[i] === vaddr && this.vport[i] === vport &&
        this.proto[i] === proto && (this.flags[i]! & CONN_F_TEMPLATE) === tpl) return i;
    }
  }

  // ---- the lookup indexes ----

  private inKeyHash(i: number): number {
    return inHash(this.proto[i]!, this.caddr[i]!, this.cport[i]!, this.vaddr[i]!, this.vport[i]!, this.flags[i]! & CONN_F_TEMPLATE);
  }

  private outKeyHash(i: number): number {
    return outHash(this.proto[i]!, this.caddr[i]!, this.cport[i]!, this.daddr[i]!, this.dport[i]!);
  }

  private sameKey(out: boolean, a: number, b: number): boolean {
    if (this.proto[a] !== this.proto[b] || this.caddr[a] !== this.caddr[b] || this.cport[a] !== this.cport[b]) return false;
    if (out) return this.daddr[a] === this.daddr[b] && this.dport[a] === this.dport[b];
    return this.vaddr[a] === this.vaddr[b] && this.vport[a] === this.vport[b] &&
      (this.flags[a]! & CONN_F_TEMPLATE) === (this.flags[b]! & CONN_F_TEMPLATE);
  }

  /** Index row i under both keys; `newest`: it replaces an entry with the same key. */
  private indexAdd(i: number, newest: boolean): void {
    this.indexPut(this.inIdx, i, false, newest);
    if (!(this.flags[i]! & CONN_F_TEMPLATE)) this.indexPut(this.outIdx, i, true, newest);
  }

  private indexPut(idx: Int32Array, i: number, out: boolean, newest: boolean): void {
    const mask = this.idxMask;
    for (let k = (out ? this.outKeyHash(i) : this.inKeyHash(i)) & mask; ; k = (k + 1) & mask) {
      const v = idx[k]!;
      if (v === EMPTY) {
        idx[k] = i + 1;
        return;
      }
      if (this.sameKey(out, v - 1, i)) {
        if (newest) idx[k] = i + 1;
        return;
      }
    }
  }

  /**
   * Row i (just unlinked) leaves the index. If it was the indexed entry for its key, the
   * next entry with that key in its chain (the next a chain walk would meet) takes its
   * place; otherwise the slot is emptied with backward-shift deletion.
   */
  private indexRemove(idx: Int32Array, i: number, out: boolean): void {
    const mask = this.idxMask;
    let k = (out ? this.outKeyHash(i) : this.inKeyHash(i)) & mask;
    for (; ; k = (k + 1) & mask) {
      const v = idx[k]!;
      if (v === EMPTY) return; // an older duplicate: the index holds a newer entry
      if (v === i + 1) break;
    }
    for (let j = this.buckets[this.hashKey(this.proto[i]!, this.caddr[i]!, this.cport[i]!)]!; j >= 0; j = this.next[j]!) {
      if ((!out || !(this.flags[j]! & CONN_F_TEMPLATE)) && this.sameKey(out, j, i)) {
        idx[k] = j + 1;
        return;
      }
    }
    // Backward-shift deletion (linear probing keeps no tombstones).
    for (;;) {
      idx[k] = EMPTY;
      let m = k;
      for (;;) {
        m = (m + 1) & mask;
        const v = idx[m]!;
        if (v === EMPTY) return;
        const home = (out ? this.outKeyHash(v - 1) : this.inKeyHash(v - 1)) & mask;
        // Move it back unless its home lies cyclically in (k, m].
        if (k <= m ? home <= k || home > m : home <= k && home > m) {
          idx[k] = v;
          k = m;
          break;
        }
      }
    }
  }

  private rebuildIndexes(cap: number): void {
    this.inIdx = new Int32Array(cap);
    this.outIdx = new Int32Array(cap);
    this.idxMask = cap - 1;
    // Chain order is newest first, so the first entry indexed for a key is the newest.
    this.forEach((i) => this.indexAdd(i, false));
  }

  /** Live entries in bucket order, then chain order. */
  forEach(fn: (i: number) => void): void {
    for (let b = 0; b < this.size; b++) {
      let i = this.buckets[b]!;
      while (i >= 0) {
        const n = this.next[i]!;
        fn(i);
        i = n;
      }
    }
  }

  // ---- expiry heap ----

  /** Set the deadline of entry i; O(1) when it moves later, O(log n) when earlier or new. */
  arm(i: number, at: Micros): void {
    this.expires[i] = at;
    const p = this.heapPos[i]!;
    if (p < 0) {
      if (this.heapLen === this.heap.length) this.growHeap();
      const k = this.heapLen++;
      this.heap[k] = i;
      this.heapKey[k] = at;
      this.heapPos[i] = k;
      this.siftUp(k);
    } else if (at < this.heapKey[p]!) {
      this.heapKey[p] = at;
      this.siftUp(p);
    }
  }

  private growHeap(): void {
    const h = new Int32Array(this.heap.length * 2 || 1024);
    h.set(this.heap);
    this.heap = h;
    const k = new Float64Array(h.length);
    k.set(this.heapKey);
    this.heapKey = k;
  }

  /** Earliest deadline on file (a lower bound: entries may have moved later). */
  nextDeadline(): Micros | undefined {
    return this.heapLen > 0 ? this.heapKey[0] : undefined;
  }

  /** The next entry whose deadline is <= now, taken out of the heap; -1 when none. */
  popExpired(now: Micros): number {
    while (this.heapLen > 0 && this.heapKey[0]! <= now) {
      const i = this.heap[0]!;
      const real = this.expires[i]!;
      if (real > this.heapKey[0]!) {
        this.heapKey[0] = real;
        this.siftDown(0);
        continue;
      }
      this.heapRemove(i);
      return i;
    }
    return NIL;
  }

  private heapRemove(i: number): void {
    const p = this.heapPos[i]!;
    this.heapPos[i] = NIL;
    const last = --this.heapLen;
    if (p === last) return;
    const j = this.heap[last]!;
    this.heap[p] = j;
    this.heapKey[p] = this.heapKey[last]!;
    this.heapPos[j] = p;
    this.siftUp(p);
    this.siftDown(this.heapPos[j]!);
  }

  private siftUp(k: number): void {
    const heap = this.heap, key = this.heapKey, pos = this.heapPos;
    const i = heap[k]!, ki = key[k]!;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (key[parent]! <= ki) break;
      heap[k] = heap[parent]!;
      key[k] = key[parent]!;
      pos[heap[k]!] = k;
      k = parent;
    }
    heap[k] = i;
    key[k] = ki;
    pos[i] = k;
  }

  private siftDown(k: number): void {
    const heap = this.heap, key = this.heapKey, pos = this.heapPos, n = this.heapLen;
    const i = heap[k]!, ki = key[k]!;
    for (;;) {
      let c = 2 * k + 1;
      if (c >= n) break;
      if (c + 1 < n && key[c + 1]! < key[c]!) c++;
      if (key[c]! >= ki) break;
      heap[k] = heap[c]!;
      key[k] = key[c]!;
      pos[heap[k]!] = k;
      k = c;
    }
    heap[k] = i;
    key[k] = ki;
    pos[i] = k;
  }
}

function inHash(proto: number, caddr: number, cport: number, vaddr: number, vport: number, tpl: number): number {
  return fmix(mix(mix(mix(proto | (tpl ? 0x100 : 0), caddr), vaddr), (cport << 16) | vport));
}

function outHash(proto: number, caddr: number, cport: number, daddr: number, dport: number): number {
  return fmix(mix(mix(mix(proto | 0x200, caddr), daddr), (cport << 16) | dport));
}
