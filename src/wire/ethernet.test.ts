import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ARP_REPLY, ARP_REQUEST, emitArp, parseArp } from "./arp.js";
import {
  ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_HLEN, emitEthernet, ethDst, ethSetDst, ethSetSrc, ethSrc, ethType, parseEthernet,
} from "./ethernet.js";
import { buildArpFrame, fromHex } from "./testing.js";

const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 });

test("ethernet round trip (unpadded lengths)", () => {
  fc.assert(fc.property(mac, mac, fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ minLength: 46, maxLength: 200 }),
    (dst, src, ethertype, payload) => {
      const r = parseEthernet(emitEthernet({ dst, src, ethertype, payload }));
      assert.ok(r.ok);
      assert.deepEqual(r.value, { dst, src, ethertype, payload });
    }), { numRuns: 500 });
});

test("emitEthernet pads to 60 bytes with zeros unless told not to", () => {
  const f = { dst: 0x020000000002, src: 0x020000000001, ethertype: ETHERTYPE_IPV4, payload: fromHex("01 02 03") };
  const padded = emitEthernet(f);
  assert.equal(padded.length, 60);
  assert.deepEqual(padded.subarray(17), new Uint8Array(43));
  assert.equal(emitEthernet(f, { pad: false }).length, 17);
  assert.equal(emitEthernet({ ...f, payload: new Uint8Array(100) }).length, 114);
});

test("fast readers and writers", () => {
  const b = fromHex("ffffffffffff 020000000001 0806");
  assert.equal(ethDst(b), 0xffffffffffff);
  assert.equal(ethSrc(b), 0x020000000001);
  assert.equal(ethType(b), ETHERTYPE_ARP);
  ethSetDst(b, 0x0a0b0c0d0e0f);
  ethSetSrc(b, 0x1);
  assert.deepEqual(b, fromHex("0a0b0c0d0e0f 000000000001 0806"));
});

test("ARP round trip", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), mac, fc.nat({ max: 0xffffffff }), mac, fc.nat({ max: 0xffffffff }),
    (op, sha, spa, tha, tpa) => {
      const bytes = emitArp({ op, sha, spa, tha, tpa });
      assert.equal(bytes.length, 28);
      const r = parseArp(bytes);
      assert.ok(r.ok);
      assert.deepEqual(r.value, { op, sha, spa, tha, tpa });
    }), { numRuns: 500 });
});

test("ARP request bytes; a padded frame is 60 bytes (tcpdump: length 46)", () => {
  const frame = buildArpFrame({ op: "request", sha: "02:00:00:00:00:01", spa: "192.168.1.10", tpa: "192.168.1.1" });
  assert.equal(frame.length, 60);
  assert.equal(frame.length - ETH_HLEN, 46);
  assert.deepEqual(frame.subarray(0, 42), fromHex(
    "ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 c0a8010a 000000000000 c0a80101"));
  const e = parseEthernet(frame);
  assert.ok(e.ok);
  const a = parseArp(e.value.payload);
  assert.ok(a.ok);
  assert.equal(a.value.op, ARP_REQUEST);
  const unpadded = buildArpFrame({ op: "reply", sha: "02:00:00:00:00:03", spa: "192.168.1.1", tha: "02:00:00:00:00:01", tpa: "192.168.1.10", pad: false });
  assert.equal(unpadded.length - ETH_HLEN, 28);
  assert.equal(ethDst(unpadded), 0x020000000001);
  const r = parseArp(unpadded.subarray(ETH_HLEN));
  assert.ok(r.ok && r.value.op === ARP_REPLY);
});

test("ARP errors", () => {
  const good = emitArp({ op: 1, sha: 1, spa: 2, tha: 0, tpa: 3 });
  assert.deepEqual(parseArp(good.subarray(0, 27)), { ok: false, error: "truncated" });
  const b1 = good.slice(); b1[1] = 6;
  assert.deepEqual(parseArp(b1), { ok: false, error: "bad-htype" });
  const b2 = good.slice(); b2[2] = 0x86; b2[3] = 0xdd;
  assert.deepEqual(parseArp(b2), { ok: false, error: "bad-ptype" });
  const b3 = good.slice(); b3[5] = 16;
  assert.deepEqual(parseArp(b3), { ok: false, error: "bad-addr-len" });
});

test("parseEthernet and parseArp never throw", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    parseEthernet(b);
    parseArp(b);
  }), { numRuns: 3000 });
});
