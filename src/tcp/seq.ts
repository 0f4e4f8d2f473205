/**
 * Sequence-number arithmetic (RFC 9293 §3.4, modulo 2^32, as Linux's before()/after())
 * and the byte queue that holds a connection's unacknowledged send data.
 */

/** a + n modulo 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance a − b (as a 32-bit difference). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** a comes before b. */
export function before(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

/** a comes after b. */
export function after(a: number, b: number): boolean {
  return seqDiff(b, a) < 0;
}

/** lo <= x <= hi in sequence space. */
export function between(x: number, lo: number, hi: number): boolean {
  return seqDiff(hi, lo) >= seqDiff(x, lo) && seqDiff(x, lo) >= 0;
}

/** Bytes in order, appended at the tail and dropped from the head; slices copy. */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // offset into chunks[0]
  length = 0;

  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  /** Drops n bytes from the head. */
  drop(n: number): void {
    n = Math.min(n, this.length);
    this.length -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const avail = c.length - this.head;
      if (n < avail) {
        this.head += n;
        return;
      }
      n -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** A copy of `len` bytes starting `off` bytes after the head. */
  slice(off: number, len: number): Uint8Array {
    len = Math.max(0, Math.min(len, this.length - off));
    const out = new Uint8Array(len);
    let skip = off + this.head;
    let w = 0;
    for (const c of this.chunks) {
      if (w >= len) break;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const take = Math.min(c.length - skip, len - w);
      out.set(c.subarray(skip, skip + take), w);
      w += take;
      skip = 0;
    }
    return out;
  }

  /** Everything, emptied. */
  takeAll(): Uint8Array {
    const out = this.slice(0, this.length);
    this.chunks = [];
    this.head = 0;
    this.length = 0;
    return out;
  }
}
