import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { buildUdpPacket, fromHex } from "./testing.js";
import { emitUdp, parseUdp, udpChecksumField, udpChecksumOk, udpDstPort, udpLength, udpSrcPort } from "./udp.js";

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

test("round trip parse(emit(x)) == x", () => {
  fc.assert(fc.property(u16, u16, fc.uint8Array({ maxLength: 100 }), u32, u32, fc.boolean(), (srcPort, dstPort, payload, src, dst, sum) => {
    const b = emitUdp({ srcPort, dstPort, payload }, src, dst, { checksum: sum });
    const r = parseUdp(b);
    assert.ok(r.ok);
    assert.deepEqual({ srcPort: r.value.srcPort, dstPort: r.value.dstPort, payload: r.value.payload }, { srcPort, dstPort, payload });
    assert.equal(r.value.length, 8 + payload.length);
    if (sum) assert.notEqual(r.value.checksum, 0);
    else assert.equal(r.value.checksum, 0);
    assert.ok(udpChecksumOk(b, src, dst));
    assert.deepEqual(emitUdp(r.value, src, dst, { checksum: sum }), b);
    assert.equal(udpSrcPort(b), srcPort);
    assert.equal(udpDstPort(b), dstPort);
    assert.equal(udpLength(b), b.length);
    assert.equal(udpChecksumField(b), r.value.checksum);
  }), { numRuns: 1000 });
});

test("a known datagram; bad checksum detected", () => {
  const pkt = buildUdpPacket({ src: "192.168.1.10", sport: 40000, dst: "10.0.0.100", dport: 5005, payload: "hello" });
  assert.equal(pkt.length, 33);
  const l4 = pkt.subarray(20);
  assert.ok(udpChecksumOk(l4, 0xc0a8010a, 0x0a000064));
  l4[8] ^= 0xff;
  assert.ok(!udpChecksumOk(l4, 0xc0a8010a, 0x0a000064));
});

test("a computed checksum of 0 is sent as 0xffff", () => {
  // Source port chosen so that the whole sum is 0xffff: 0 + 0 + 0 + 17 + 8 (pseudo) + 8 (length).
  const b = emitUdp({ srcPort: 0xffff - 17 - 8 - 8, dstPort: 0 }, 0, 0);
  assert.equal(udpChecksumField(b), 0xffff);
  assert.ok(udpChecksumOk(b, 0, 0));
});

test("errors; payload stops at the length field", () => {
  assert.deepEqual(parseUdp(fromHex("0001 0002 0008 00")), { ok: false, error: "truncated" });
  assert.deepEqual(parseUdp(fromHex("0001 0002 0007 0000")), { ok: false, error: "bad-length" });
  assert.deepEqual(parseUdp(fromHex("0001 0002 000a 0000 01")), { ok: false, error: "truncated" });
  const r = parseUdp(fromHex("0001 0002 0009 0000 01 02 03"));
  assert.ok(r.ok);
  assert.deepEqual(r.value.payload, fromHex("01"));
});

test("parseUdp never throws", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => { parseUdp(b); }), { numRuns: 3000 });
});
