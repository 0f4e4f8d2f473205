import { test } from "node:test";
import assert from "node:assert/strict";
import { PcapWriter, readPcap } from "./pcap.js";
import { tcp80 } from "./samples.test-helper.js";

test("header bytes are tcpdump's on x86 (capture.md §3.1)", () => {
  const w = new PcapWriter();
  assert.deepEqual([...w.bytes()], [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]);
  const n = new PcapWriter({ nano: true, linktype: 276 });
  assert.deepEqual([...n.bytes().subarray(0, 4)], [0x4d, 0x3c, 0xb2, 0xa1]);
  assert.deepEqual([...n.bytes().subarray(20, 24)], [0x14, 0x01, 0, 0]);
});

test("round trip: records, times, snaplen cut, ns precision", () => {
  const w = new PcapWriter({ snaplen: 60 });
  const s = tcp80();
  for (const x of s) w.add(x.usec, x.frame);
  const f = readPcap(w.bytes());
  assert.ok(typeof f !== "string");
  assert.equal(f.records.length, s.length);
  assert.equal(f.snaplen, 60);
  assert.equal(f.records[0]!.sec, 1700000000);
  assert.equal(f.records[0]!.nsec, 123456000);
  assert.deepEqual(f.records[0]!.data, s[0]!.frame.subarray(0, 60));
  assert.equal(f.records[0]!.origLen, 74);
  const n = new PcapWriter({ nano: true });
  n.add(1700000000_123456, s[0]!.frame, 74, 123456789);
  const g = readPcap(n.bytes());
  assert.ok(typeof g !== "string" && g.nano && g.records[0]!.nsec === 123456789);
});

test("take() hands out the file incrementally", () => {
  const w = new PcapWriter();
  const a = w.take();
  w.add(1, tcp80()[0]!.frame);
  const b = w.take();
  assert.equal(a.length, 24);
  assert.equal(b.length, 16 + 74);
  assert.equal(w.take().length, 0);
});

test("reader errors carry libpcap's texts; big-endian files are read", () => {
  assert.equal(readPcap(new Uint8Array(0)), "truncated dump file; tried to read 4 file header bytes, only got 0");
  assert.equal(readPcap(new Uint8Array(24).fill(7)), "unknown file format");
  const w = new PcapWriter();
  w.add(1, tcp80()[0]!.frame);
  const b = w.bytes();
  const v5 = b.slice(); v5[6] = 5;
  assert.equal(readPcap(v5), "unsupported pcap savefile version 2.5");
  const cut = readPcap(b.subarray(0, b.length - 14));
  assert.ok(typeof cut !== "string");
  assert.equal(cut.error, "truncated dump file; tried to read 74 captured bytes, only got 60");
  // byte-swap everything into a big-endian file
  const be = b.slice();
  const sw = (o: number) => { const t = be.subarray(o, o + 4).reverse(); be.set(t, o); };
  const sw16 = (o: number) => { const t = be.subarray(o, o + 2).reverse(); be.set(t, o); };
  sw(0); sw16(4); sw16(6); sw(16); sw(20); for (const o of [24, 28, 32, 36]) sw(o);
  const r = readPcap(be);
  assert.ok(typeof r !== "string" && r.records.length === 1 && r.records[0]!.origLen === 74);
});
