import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_FRAG_NEEDED, ICMP_PORT_UNREACH, ICMP_REDIRECT, ICMP_REDIR_HOST,
  ICMP_TIME_EXCEEDED, emitIcmp, icmpEcho, icmpEchoId, icmpEchoSeq, icmpError, icmpErrorQuoteLength, icmpFragNeededRest,
  icmpIsError, icmpRedirectRest, parseIcmp,
} from "./icmp.js";
import { emitIpv4 } from "./ipv4.js";
import { buildPing, buildTcpPacket, buildUdpPacket, fromHex } from "./testing.js";

test("round trip parse(emit(x)) == x", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffffffff }),
    fc.uint8Array({ maxLength: 100 }), (type, code, rest, payload) => {
      const b = emitIcmp({ type, code, rest, payload });
      const r = parseIcmp(b);
      assert.ok(r.ok);
      assert.deepEqual({ type: r.value.type, code: r.value.code, rest: r.value.rest, payload: r.value.payload }, { type, code, rest, payload });
      assert.deepEqual(emitIcmp(r.value), b);
    }), { numRuns: 1000 });
});

test("echo: ping's default is 64 ICMP bytes, 84 IP bytes", () => {
  const pkt = buildPing({ src: "192.168.1.10", dst: "10.0.0.100", icmpId: 0x1234, seq: 1 });
  assert.equal(pkt.length, 84);
  const m = pkt.subarray(20);
  assert.equal(icmpEchoId(m), 0x1234);
  assert.equal(icmpEchoSeq(m), 1);
  const r = parseIcmp(m);
  assert.ok(r.ok && r.value.type === ICMP_ECHO && r.value.rest === 0x12340001);
  const reply = icmpEcho(ICMP_ECHOREPLY, 0x1234, 1, r.value.payload);
  assert.equal(reply[0], 0);
  assert.ok(parseIcmp(reply).ok);
  const bad = m.slice(); bad[10] ^= 1;
  assert.deepEqual(parseIcmp(bad), { ok: false, error: "bad-checksum" });
  assert.ok(parseIcmp(bad, { verifyChecksum: false }).ok);
  assert.deepEqual(parseIcmp(m.subarray(0, 7)), { ok: false, error: "truncated" });
});

test("errors quote the whole original when it fits (Linux, not just header + 8)", () => {
  const orig = buildUdpPacket({ src: "192.168.1.10", sport: 40000, dst: "10.0.0.100", dport: 5005, payload: "hello" });
  const m = icmpError(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, orig);
  assert.equal(m.length, 8 + 33);
  const r = parseIcmp(m);
  assert.ok(r.ok);
  assert.equal(r.value.rest, 0);
  assert.deepEqual(r.value.payload, orig);
});

test("errors stop at 576 bytes of IP: 548 bytes quoted", () => {
  const big = buildTcpPacket({ src: "10.0.0.1", sport: 1, dst: "10.0.0.2", dport: 2, payload: new Uint8Array(1460) });
  const m = icmpError(ICMP_TIME_EXCEEDED, 0, big);
  assert.equal(m.length, 8 + 548);
  assert.equal(20 + m.length, 576);
  assert.deepEqual(m.subarray(8), big.subarray(0, 548));
  assert.equal(icmpErrorQuoteLength(1500), 548);
  assert.equal(icmpErrorQuoteLength(100), 100);
  assert.equal(icmpErrorQuoteLength(1500, { mtu: 300 }), 272);
  assert.equal(icmpErrorQuoteLength(1500, { mtu: 1500, replyOptionsLength: 8 }), 540);
  assert.equal(icmpErrorQuoteLength(1500, { mtu: 48 }), 0);
});

test("link padding after the original datagram is not quoted", () => {
  const ip = emitIpv4({ id: 1, ttl: 64, protocol: 17, src: 1, dst: 2 }, fromHex("0001 0002 0008 0000"));
  const padded = new Uint8Array(46);
  padded.set(ip);
  padded.fill(0xee, ip.length);
  assert.equal(icmpError(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, padded).length, 8 + 28);
});

test("rest helpers and error classification", () => {
  const m = icmpError(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, buildPing({ src: 1, dst: 2 }), icmpFragNeededRest(1400));
  assert.deepEqual(m.subarray(4, 8), fromHex("0000 0578"));
  const red = icmpError(ICMP_REDIRECT, ICMP_REDIR_HOST, buildPing({ src: 1, dst: 2 }), icmpRedirectRest(0xc0a801fe));
  assert.deepEqual(red.subarray(4, 8), fromHex("c0a8 01fe"));
  assert.ok(icmpIsError(ICMP_DEST_UNREACH) && icmpIsError(ICMP_REDIRECT) && icmpIsError(ICMP_TIME_EXCEEDED));
  assert.ok(!icmpIsError(ICMP_ECHO) && !icmpIsError(ICMP_ECHOREPLY));
});

test("parseIcmp never throws", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }), (b) => {
    parseIcmp(b);
    parseIcmp(b, { verifyChecksum: false });
  }), { numRuns: 3000 });
});
