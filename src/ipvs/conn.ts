/**
 * The connection table (net/netfilter/ipvs/ip_vs_conn.c): one table of 2^bits buckets,
 * every entry (connection or persistence template) hashed once by (protocol, caddr, cport)
 * with jhash and a per-engine random seed; new entries go to the head of their bucket, so
 * listing bucket by bucket, chain by chain, gives the kernel's /proc/net/ip_vs_conn order.
 *
 * Entries are rows of parallel typed arrays (about 80 bytes each, no objects, no closures,
 * no per-entry timers) addressed by an integer handle. Expiry is a binary min-heap of
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
  }

  /** In lookup (client -> VIP): exact (protocol, caddr, cport, vaddr, vport), no templates. */
  inLookup(proto: number, caddr: number, cport: number, vaddr: number, vport: number): number {
    let i = this.buckets[this.hashKey(proto, caddr, cport)]!;
    const caddrs = this.caddr, cports = this.cport, vaddrs = this.vaddr, vports = this.vport;
    while (i >= 0) {
      if (caddrs[i] === caddr && cports[i] === cport && vaddrs[i] === vaddr && vports[i] === vport &&
        this.proto[i] === proto && !(this.flags[i]! & CONN_F_TEMPLATE)) return i;
      i = this.next[i]!;
    }
    return NIL;
  }

  /**
   * Out lookup (a reply saddr:sport -> daddr:dport): the entry whose client is the
   * reply's destination and whose real server is the reply's source (ip_vs_conn_out_get).
   */
  outLookup(proto: number, saddr: number, sport: number, daddr: number, dport: number): number {
    let i = this.buckets[this.hashKey(proto, daddr, dport)]!;
    while (i >= 0) {
      if (this.caddr[i] === daddr && this.cport[i] === dport && this.daddr[i] === saddr &&
        this.dport[i] === sport && this.proto[i] === proto && !(this.flags[i]! & CONN_F_TEMPLATE)) return i;
      i = this.next[i]!;
    }
    return NIL;
  }

  /** Template lookup (ip_vs_ct_in_get): (protocol, snet, 0, vaddr, vport) with TEMPLATE. */
  templateLookup(proto: number, caddr: number, vaddr: number, vport: number): number {
    let i = this.buckets[this.hashKey(proto, caddr, 0)]!;
    while (i >= 0) {
      if (this.caddr[i] === caddr && this.cport[i] === 0 && this.vaddr[i] === vaddr && this.vport[i] === vport &&
        this.proto[i] === proto && (this.flags[i]! & CONN_F_TEMPLATE)) return i;
      i = this.next[i]!;
    }
    return NIL;
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
