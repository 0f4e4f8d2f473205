import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  MAC_BROADCAST, broadcastOf, formatIp4, formatMac, ip4, isMulticastMac, maskToPrefix, networkOf,
  parseIp4, parseMac, prefixToMask, readMac, sameSubnet, writeMac,
} from "./addr.js";

test("parseIp4 accepts strict dotted quads", () => {
  assert.equal(parseIp4("10.0.0.1"), 0x0a000001);
  assert.equal(parseIp4("255.255.255.255"), 0xffffffff);
  assert.equal(parseIp4("0.0.0.0"), 0);
  assert.equal(parseIp4("192.168.1.10"), ip4(192, 168, 1, 10));
});

test("parseIp4 refuses everything else", () => {
  for (const s of ["", "10.0.0", "10.0.0.1.2", "256.0.0.1", "010.0.0.1", "10.0.0.01", " 10.0.0.1",
    "10.0.0.1 ", "10.0.0.-1", "0x0a.0.0.1", "10..0.1", "a.b.c.d", "1e1.0.0.1"]) {
    assert.equal(parseIp4(s), undefined, s);
  }
});

test("formatIp4 / parseIp4 round trip", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (a) => parseIp4(formatIp4(a)) === a), { numRuns: 1000 });
});

test("MAC text forms", () => {
  assert.equal(parseMac("00:0c:29:5a:c3:3e"), 0x000c295ac33e);
  assert.equal(parseMac("FF:FF:FF:FF:FF:FF"), MAC_BROADCAST);
  assert.equal(formatMac(0x000c295ac33e), "00:0c:29:5a:c3:3e");
  assert.equal(formatMac(MAC_BROADCAST), "ff:ff:ff:ff:ff:ff");
  for (const s of ["00:0c:29:5a:c3", "000c295ac33e", "00-0c-29-5a-c3-3e", "0:c:29:5a:c3:3e", "00:0c:29:5a:c3:3g"]) {
    assert.equal(parseMac(s), undefined, s);
  }
  assert.ok(isMulticastMac(MAC_BROADCAST));
  assert.ok(!isMulticastMac(0x020000000001));
  assert.ok(isMulticastMac(0x01005e000001));
});

test("MAC round trips through text and bytes", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (m) => {
    const b = new Uint8Array(8);
    writeMac(b, 1, m);
    return parseMac(formatMac(m)) === m && readMac(b, 1) === m;
  }), { numRuns: 1000 });
});

test("prefixes and masks", () => {
  assert.equal(prefixToMask(0), 0);
  assert.equal(prefixToMask(24), 0xffffff00);
  assert.equal(prefixToMask(32), 0xffffffff);
  for (let len = 0; len <= 32; len++) assert.equal(maskToPrefix(prefixToMask(len)), len);
  assert.equal(maskToPrefix(0xff00ff00), undefined);
  assert.equal(maskToPrefix(0x00ffffff), undefined);
  assert.ok(sameSubnet(parseIp4("10.0.0.1")!, parseIp4("10.0.0.254")!, 24));
  assert.ok(!sameSubnet(parseIp4("10.0.0.1")!, parseIp4("10.0.1.1")!, 24));
  assert.ok(sameSubnet(parseIp4("10.0.0.1")!, parseIp4("192.168.0.1")!, 0));
  assert.equal(formatIp4(networkOf(parseIp4("10.1.2.3")!, 16)), "10.1.0.0");
  assert.equal(formatIp4(broadcastOf(parseIp4("10.1.2.3")!, 24)), "10.1.2.255");
});
