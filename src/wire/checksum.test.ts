import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { csumReplace16, csumReplace32, foldChecksum, internetChecksum, onesSum, pseudoHeaderSum } from "./checksum.js";
import { fromHex } from "./testing.js";

// The first SYN of capture.md's tcp80 sample, IPv4 header with its checksum zeroed.
const HDR = fromHex("4500 003c 0001 4000 4006 0000 c0a8 010a 0a00 0064");

test("IPv4 header checksum of a known header is 0x6ea5", () => {
  assert.equal(internetChecksum(HDR), 0x6ea5);
  const full = HDR.slice();
  full[10] = 0x6e; full[11] = 0xa5;
  assert.equal(internetChecksum(full), 0, "a correct header sums to 0xffff");
});

test("RFC 1624 update of TTL 64 -> 63 gives 0x6fa5 like a full recompute", () => {
  assert.equal(csumReplace16(0x6ea5, 0x4006, 0x3f06), 0x6fa5);
  const h = HDR.slice();
  h[8] = 63;
  assert.equal(internetChecksum(h), 0x6fa5);
});

test("odd lengths pad the last byte with zero", () => {
  assert.equal(onesSum(fromHex("0102 03"), 0, 3), 0x0102 + 0x0300);
  assert.equal(internetChecksum(fromHex("ff")), (~0xff00) & 0xffff);
  assert.equal(internetChecksum(new Uint8Array(0)), 0xffff);
});

test("foldChecksum folds big sums exactly", () => {
  const b = new Uint8Array(65536).fill(0xff);
  assert.equal(internetChecksum(b), 0);
  assert.equal(foldChecksum(0xffff * 1000003), 0);
  assert.equal(foldChecksum(2 ** 40 + 1), (~(1 + 0x100)) & 0xffff);
});

test("pseudo-header sum", () => {
  assert.equal(pseudoHeaderSum(0xc0a8010a, 0x0a000064, 6, 40), 0xc0a8 + 0x010a + 0x0a00 + 0x0064 + 6 + 40);
});

// Random data whose first word is non-zero (as every real header's is), so that the sum
// is never the all-zero +0 for which no update formula can know the stored -0.
const block = fc.uint8Array({ minLength: 4, maxLength: 64 }).filter((b) => b.length % 2 === 0 && (b[0]! | b[1]!) !== 0);

test("csumReplace16 equals a full recompute", () => {
  fc.assert(fc.property(block, fc.nat(), fc.integer({ min: 0, max: 0xffff }), (b0, pick, word) => {
    const b = b0.slice();
    const i = 2 + 2 * (pick % ((b.length - 2) / 2));
    const before = internetChecksum(b);
    const old = (b[i]! << 8) | b[i + 1]!;
    b[i] = word >>> 8; b[i + 1] = word;
    return csumReplace16(before, old, word) === internetChecksum(b);
  }), { numRuns: 3000 });
});

test("csumReplace32 equals a full recompute", () => {
  const b4 = fc.uint8Array({ minLength: 8, maxLength: 64 }).filter((b) => b.length % 4 === 0 && (b[0]! | b[1]!) !== 0);
  fc.assert(fc.property(b4, fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), (b0, pick, v) => {
    const b = b0.slice();
    const i = 4 + 4 * (pick % ((b.length - 4) / 4));
    const before = internetChecksum(b);
    const old = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
    b[i] = v >>> 24; b[i + 1] = v >>> 16; b[i + 2] = v >>> 8; b[i + 3] = v;
    return csumReplace32(before, old, v) === internetChecksum(b);
  }), { numRuns: 3000 });
});

test("the 0x0000 / 0xffff boundaries", () => {
  // Unchanged word: the checksum stays as it is, even 0 (RFC 1624 erratum 4782).
  assert.equal(csumReplace16(0, 0x1234, 0x1234), 0);
  assert.equal(csumReplace32(0xffff, 0xdeadbeef, 0xdeadbeef), 0xffff);
  // A header whose data sums to 0xffff has checksum 0; a change away and back restores it.
  const b = fromHex("ff00 00ff 0000");
  assert.equal(internetChecksum(b), 0);
  const c1 = csumReplace16(0, 0x00ff, 0x0100);
  b[2] = 0x01; b[3] = 0x00;
  assert.equal(c1, internetChecksum(b));
  assert.equal(csumReplace16(c1, 0x0100, 0x00ff), 0);
});
