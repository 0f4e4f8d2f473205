import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { internetChecksum } from "./checksum.js";
import {
  IPPROTO_TCP, type Ipv4HeaderInit, emitIpv4, ip4Checksum, ip4DecTtl, ip4Df, ip4Dst, ip4FillChecksum, ip4FragOffset,
  ip4HeaderLen, ip4Id, ip4IsFragment, ip4Mf, ip4Proto, ip4SetDst, ip4SetId, ip4SetSrc, ip4SetTos, ip4SetTtl, ip4Src,
  ip4TotalLen, ip4Ttl, ipv4ChecksumOk, parseIpv4,
} from "./ipv4.js";
import { fromHex } from "./testing.js";

// capture.md §1.16: the first tcp80 SYN, IPv4 header + TCP header with options.
const SYN = fromHex(`
  4500 003c 0001 4000 4006 6ea5 c0a8 010a
  0a00 0064 d431 0050 3b9a ca00 0000 0000
  a002 faf0 a678 0000 0204 05b4 0402 080a
  0000 0064 0000 0000 0103 0307`);

test("parse a known packet", () => {
  const r = parseIpv4(SYN);
  assert.ok(r.ok);
  const h = r.value.header;
  assert.equal(h.headerLength, 20);
  assert.equal(h.totalLength, 60);
  assert.equal(h.id, 1);
  assert.equal(h.df, true);
  assert.equal(h.mf, false);
  assert.equal(h.fragOffset, 0);
  assert.equal(h.ttl, 64);
  assert.equal(h.protocol, IPPROTO_TCP);
  assert.equal(h.checksum, 0x6ea5);
  assert.equal(h.src, 0xc0a8010a);
  assert.equal(h.dst, 0x0a000064);
  assert.equal(h.options.length, 0);
  assert.equal(r.value.payload.length, 40);
});

test("emit reproduces the known header", () => {
  const r = parseIpv4(SYN);
  assert.ok(r.ok);
  const out = emitIpv4({ id: 1, df: true, ttl: 64, protocol: 6, src: 0xc0a8010a, dst: 0x0a000064 }, r.value.payload);
  assert.deepEqual(out, SYN);
});

test("payload stops at total length (link padding dropped)", () => {
  const padded = new Uint8Array(SYN.length + 6);
  padded.set(SYN);
  padded.fill(0xee, SYN.length);
  const r = parseIpv4(padded);
  assert.ok(r.ok);
  assert.equal(r.value.payload.length, 40);
  assert.equal(r.value.payload.at(-1), 0x07);
});

test("error names", () => {
  const err = (b: Uint8Array) => { const r = parseIpv4(b); return r.ok ? "ok" : r.error; };
  assert.equal(err(SYN.subarray(0, 19)), "truncated");
  const v6 = SYN.slice(); v6[0] = 0x65;
  assert.equal(err(v6), "bad-version");
  const ihl = SYN.slice(); ihl[0] = 0x44;
  assert.equal(err(ihl), "bad-ihl");
  const longHdr = SYN.slice(0, 24); longHdr[0] = 0x47;
  assert.equal(err(longHdr), "truncated");
  const csum = SYN.slice(); csum[11] ^= 1;
  assert.equal(err(csum), "bad-checksum");
  assert.equal(parseIpv4(csum, { verifyChecksum: false }).ok, true);
  assert.equal(err(SYN.subarray(0, 59)), "truncated", "total length beyond the buffer");
  const short = SYN.slice(); short[3] = 19; ip4FillChecksum(short);
  assert.equal(err(short), "bad-total-length");
});

test("options are padded and parsed back", () => {
  const opt = fromHex("94 04 00"); // router alert, 3 of its 4 bytes
  const b = emitIpv4({ id: 7, ttl: 1, protocol: 2, src: 1, dst: 2, options: opt }, fromHex("aabb"));
  assert.equal(ip4HeaderLen(b), 24);
  const r = parseIpv4(b);
  assert.ok(r.ok);
  assert.deepEqual(r.value.header.options, fromHex("94 04 00 00"));
  assert.deepEqual(r.value.payload, fromHex("aabb"));
  assert.throws(() => emitIpv4({ id: 0, ttl: 1, protocol: 2, src: 1, dst: 2, options: new Uint8Array(41) }, new Uint8Array(0)));
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const headerInit: fc.Arbitrary<Ipv4HeaderInit> = fc.record({
  tos: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 0xffff }),
  df: fc.boolean(),
  mf: fc.boolean(),
  fragOffset: fc.integer({ min: 0, max: 0x1fff }).map((x) => x * 8),
  ttl: fc.integer({ min: 0, max: 255 }),
  protocol: fc.integer({ min: 0, max: 255 }),
  src: u32,
  dst: u32,
  options: fc.integer({ min: 0, max: 10 }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n })),
});

test("round trip parse(emit(x)) == x", () => {
  fc.assert(fc.property(headerInit, fc.uint8Array({ maxLength: 100 }), (h, payload) => {
    const b = emitIpv4(h, payload);
    const r = parseIpv4(b);
    assert.ok(r.ok);
    const p = r.value.header;
    assert.deepEqual(
      { tos: p.tos, id: p.id, df: p.df, mf: p.mf, fragOffset: p.fragOffset, ttl: p.ttl, protocol: p.protocol, src: p.src, dst: p.dst, options: p.options },
      { ...h });
    assert.equal(p.totalLength, b.length);
    assert.equal(p.headerLength, 20 + h.options!.length);
    assert.deepEqual(r.value.payload, payload);
    // fast readers agree with the parsed value
    assert.equal(ip4Src(b), h.src);
    assert.equal(ip4Dst(b), h.dst);
    assert.equal(ip4Proto(b), h.protocol);
    assert.equal(ip4Ttl(b), h.ttl);
    assert.equal(ip4TotalLen(b), b.length);
    assert.equal(ip4Id(b), h.id);
    assert.equal(ip4Df(b), h.df);
    assert.equal(ip4Mf(b), h.mf);
    assert.equal(ip4FragOffset(b), h.fragOffset);
    assert.equal(ip4IsFragment(b), h.mf! || h.fragOffset !== 0);
    // and re-emitting the parsed value gives the same bytes
    assert.deepEqual(emitIpv4(p, r.value.payload), b);
  }), { numRuns: 1000 });
});

test("in-place rewrites keep the header checksum equal to a full recompute", () => {
  const edit = fc.oneof(
    fc.record({ k: fc.constant("src" as const), v: u32 }),
    fc.record({ k: fc.constant("dst" as const), v: u32 }),
    fc.record({ k: fc.constant("ttl" as const), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ k: fc.constant("dec" as const), v: fc.constant(0) }),
    fc.record({ k: fc.constant("tos" as const), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ k: fc.constant("id" as const), v: fc.integer({ min: 0, max: 0xffff }) }),
  );
  fc.assert(fc.property(headerInit, fc.array(edit, { minLength: 1, maxLength: 6 }), fc.nat({ max: 8 }), (h, edits, off) => {
    const pkt = emitIpv4(h, fromHex("0102030405"));
    const b = new Uint8Array(off + pkt.length);
    b.set(pkt, off);
    for (const e of edits) {
      if (e.k === "src") ip4SetSrc(b, e.v, off);
      else if (e.k === "dst") ip4SetDst(b, e.v, off);
      else if (e.k === "ttl") ip4SetTtl(b, e.v, off);
      else if (e.k === "dec") ip4DecTtl(b, off);
      else if (e.k === "tos") ip4SetTos(b, e.v, off);
      else ip4SetId(b, e.v, off);
    }
    const incremental = ip4Checksum(b, off);
    ip4FillChecksum(b, off);
    assert.equal(incremental, ip4Checksum(b, off));
    assert.ok(ipv4ChecksumOk(b, off));
  }), { numRuns: 2000 });
});

test("ip4DecTtl returns the new TTL", () => {
  const b = SYN.slice();
  assert.equal(ip4DecTtl(b), 63);
  assert.equal(ip4Checksum(b), 0x6fa5);
  assert.equal(internetChecksum(b, 0, 20), 0);
});

test("parseIpv4 never throws", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => { parseIpv4(b); }), { numRuns: 3000 });
  // mostly-valid headers exercise the deeper checks
  fc.assert(fc.property(fc.uint8Array({ minLength: 20, maxLength: 80 }), fc.integer({ min: 0, max: 15 }), (b, ihl) => {
    b[0] = 0x40 | ihl;
    parseIpv4(b);
    parseIpv4(b, { verifyChecksum: false });
  }), { numRuns: 3000 });
});

test("ipv4ChecksumOk agrees with the Internet checksum, options or not, at any offset", () => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 60, maxLength: 80 }), fc.integer({ min: 5, max: 15 }), fc.integer({ min: 0, max: 20 }), fc.boolean(),
    (bytes, ihl, off, fill) => {
      const b = bytes.slice();
      b[off] = 0x40 | ihl;
      if (fill) ip4FillChecksum(b, off);
      const want = internetChecksum(b, off, off + ihl * 4) === 0;
      assert.equal(ipv4ChecksumOk(b, off), want);
      if (fill) assert.equal(want, true);
    },
  ), { numRuns: 2000 });
  // A header cut short sums its missing bytes as zeros, as before.
  const h = emitIpv4({ id: 1, ttl: 64, protocol: IPPROTO_TCP, src: 0x0a000001, dst: 0x0a000002 }, new Uint8Array(0));
  for (let n = 1; n < 20; n++) assert.equal(ipv4ChecksumOk(h.subarray(0, n)), internetChecksum(h.subarray(0, n), 0, 20) === 0);
});
