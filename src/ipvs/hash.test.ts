import { test } from "node:test";
import assert from "node:assert/strict";
import { hash32, hsiphash } from "./hash.js";

test("hash_32 vectors (§13)", () => {
  assert.equal(hash32(0, 8), 0);
  assert.equal(hash32(1, 8), 97);
  assert.equal(hash32(0x0a000001, 8), 39);
});

test("hsiphash (64-bit) matches the kernel's siphash_kunit vectors", () => {
  const key = { k0: 0x0706050403020100n, k1: 0x0f0e0d0c0b0a0908n };
  const want = [0x050fc4dc, 0x7d57ca93, 0x4dc7d44d, 0xe7ddf7fb, 0x88d38328, 0x49533b67, 0xc59f22a7, 0x9bb11140, 0x8d299a8e];
  for (let len = 0; len <= 8; len++) {
    const data = Uint8Array.from({ length: len }, (_, i) => i);
    assert.equal(hsiphash(data, key) >>> 0, want[len], `len ${len}`);
  }
});
