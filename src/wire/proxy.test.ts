import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseIp4 } from "./addr.js";
import { emitProxyV1, emitProxyV2, readProxyHeader } from "./proxy.js";
import { hex } from "./testing.js";

const enc = new TextEncoder();
const A = parseIp4("192.168.1.10")!;
const B = parseIp4("10.0.0.100")!;

test("PROXY v2: the reference's example bytes, and read back", () => {
  const b = emitProxyV2(A, B, 54321, 80);
  // capture.md §4.9: signature, 21 11, length 000c, addresses, ports
  assert.equal(hex(b, ""), "0d0a0d0a000d0a515549540a" + "2111" + "000c" + "c0a8010a" + "0a000064" + "d431" + "0050");
  assert.deepEqual(readProxyHeader(b), {
    ok: true, version: 2, length: 28,
    addrs: { srcAddr: "192.168.1.10", dstAddr: "10.0.0.100", srcPort: 54321, dstPort: 80 },
  });
});

test("PROXY v1: round trip, UNKNOWN, and what nginx calls a broken header", () => {
  const line = emitProxyV1(A, B, 56324, 443);
  assert.equal(new TextDecoder().decode(line), "PROXY TCP4 192.168.1.10 10.0.0.100 56324 443\r\n");
  const withData = new Uint8Array([...line, ...enc.encode("GET / HTTP/1.1\r\n")]);
  assert.deepEqual(readProxyHeader(withData), {
    ok: true, version: 1, length: line.length,
    addrs: { srcAddr: "192.168.1.10", dstAddr: "10.0.0.100", srcPort: 56324, dstPort: 443 },
  });
  assert.deepEqual(readProxyHeader(enc.encode("PROXY UNKNOWN ignored stuff\r\nGET")), { ok: true, version: 1, length: 29 });
  const rows: [string, string][] = [
    // nginx 1.22.1 quotes the whole buffer, CR and LF included (real mode's nginx printed it so).
    ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", 'broken header: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"'],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2", 'broken header: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2"'], // no CRLF yet
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n", 'broken header: "PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n"'],
    ["PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n", 'broken header: "PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n"'],
    ["PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", 'broken header: "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"'],
  ];
  for (const [input, error] of rows) assert.deepEqual(readProxyHeader(enc.encode(input)), { ok: false, error }, input);
});

test("PROXY v2: LOCAL is skipped without addresses; a short buffer is 'header is too large'", () => {
  const local = emitProxyV2(A, B, 1, 2);
  local[12] = 0x20;
  assert.deepEqual(readProxyHeader(local), { ok: true, version: 2, length: 28 });
  assert.deepEqual(readProxyHeader(emitProxyV2(A, B, 1, 2).subarray(0, 20)), { ok: false, error: "header is too large" });
  const v3 = emitProxyV2(A, B, 1, 2);
  v3[12] = 0x31;
  assert.deepEqual(readProxyHeader(v3), { ok: false, error: "unknown PROXY protocol version: 3" });
});

test("readProxyHeader never throws on random bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    const r = readProxyHeader(b);
    if (r.ok) assert.ok(r.length <= b.length);
  }));
});
