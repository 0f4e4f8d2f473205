/**
 * Byte allocation for packets. `new Uint8Array(n)` costs an ArrayBuffer with its own
 * backing store (several hundred ns in V8 for packet sizes); views carved out of a shared
 * slab cost a tenth of that. The bytes are zeroed (slab memory is never reused) and
 * behave as any Uint8Array, except that `buffer` is the shared slab: code that wraps the
 * bytes in a DataView must pass `byteOffset` and `byteLength`, as it must for any view.
 * A slab stays alive while any view of it does.
 */
const SLAB_BYTES = 32 * 1024;
const MAX_SLAB_ALLOC = 2048;

let slab = new ArrayBuffer(SLAB_BYTES);
let pos = 0;

/** `n` zeroed bytes. */
export function allocBytes(n: number): Uint8Array {
  if (n > MAX_SLAB_ALLOC) return new Uint8Array(n);
  if (pos + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    pos = 0;
  }
  const b = new Uint8Array(slab, pos, n);
  pos = (pos + n + 7) & ~7;
  return b;
}

/** A copy of `src` (what `src.slice()` gives, from the slab). */
export function copyBytes(src: Uint8Array): Uint8Array {
  const b = allocBytes(src.length);
  b.set(src);
  return b;
}
