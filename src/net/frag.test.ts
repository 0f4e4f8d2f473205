import { test } from "node:test";
import assert from "node:assert/strict";
import { emitIpv4, ip4TotalLen, ipv4ChecksumOk } from "../wire/index.js";
import { fragmentIpv4, Reassembler } from "./frag.js";

const payload = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
const pkt = emitIpv4({ id: 0x1234, ttl: 64, protocol: 17, src: 0x0a000001, dst: 0x0a000002 }, payload);
const counters = () => ({ ReasmReqds: 0, ReasmOKs: 0, ReasmFails: 0, ReasmTimeout: 0 });

test("fragmentIpv4 cuts at multiples of 8 with MF on all but the last, same id, valid headers", () => {
  const f = fragmentIpv4(pkt, 1500);
  assert.deepEqual(f.map((x) => ip4TotalLen(x)), [1500, 1500, 60]);
  assert.deepEqual(f.map((x) => ((x[6]! << 8) | x[7]!)), [0x2000 | 0, 0x2000 | 185, 370]);
  assert.ok(f.every((x) => ipv4ChecksumOk(x) && x[4] === 0x12 && x[5] === 0x34));
  assert.equal(fragmentIpv4(pkt, 1000)[0]!.length, 20 + 976);
});

test("Reassembler puts fragments back in any order, ignores duplicates, and expires after ipfrag_time", () => {
  let now = 0;
  const c = counters();
  const r = new Reassembler(() => now, c);
  const [a, b, d] = fragmentIpv4(pkt, 1500);
  assert.equal(r.add(d!), undefined);
  assert.equal(r.add(a!), undefined);
  assert.equal(r.add(a!), undefined);
  const whole = r.add(b!);
  assert.ok(whole);
  assert.deepEqual(whole, pkt);
  assert.deepEqual(c, { ReasmReqds: 4, ReasmOKs: 1, ReasmFails: 0, ReasmTimeout: 0 });
  // A datagram missing a piece is dropped 30 s later (seen when the next fragment comes).
  assert.equal(r.add(a!), undefined);
  now = 30_000_000;
  assert.equal(r.add(d!), undefined);
  assert.deepEqual([c.ReasmTimeout, c.ReasmFails], [1, 1]);
});
