import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { foldChecksum, onesSum, pseudoHeaderSum } from "./checksum.js";
import { ETH_HLEN } from "./ethernet.js";
import { IPPROTO_ICMP, IPPROTO_UDP, emitIpv4, ip4Dst, ip4Src, ipv4ChecksumOk, parseIpv4 } from "./ipv4.js";
import {
  TCP_ACK, TCP_SYN, type TcpOption, emitTcp, emitTcpOptions, natRewriteDst, natRewriteSrc, parseTcp, parseTcpOptions,
  tcpAck, tcpChecksum, tcpChecksumField, tcpChecksumOk, tcpDstPort, tcpFlags, tcpHeaderLen, tcpOptionsLength, tcpSeq, tcpSrcPort, tcpWindow,
} from "./tcp.js";
import { buildFrame, buildTcpPacket, buildUdpPacket, fromHex, hex } from "./testing.js";
import { emitUdp, parseUdp, udpChecksumOk } from "./udp.js";

// capture.md §1.16: the first tcp80 SYN.
const SYN = fromHex(`
  4500 003c 0001 4000 4006 6ea5 c0a8 010a
  0a00 0064 d431 0050 3b9a ca00 0000 0000
  a002 faf0 a678 0000 0204 05b4 0402 080a
  0000 0064 0000 0000 0103 0307`);
const CIP = 0xc0a8010a;
const VIP = 0x0a000064;

test("parse a known SYN", () => {
  const l4 = SYN.subarray(20);
  const r = parseTcp(l4);
  assert.ok(r.ok);
  const s = r.value;
  assert.equal(s.srcPort, 54321);
  assert.equal(s.dstPort, 80);
  assert.equal(s.seq, 1000000000);
  assert.equal(s.ack, 0);
  assert.equal(s.flags, TCP_SYN);
  assert.equal(s.window, 64240);
  assert.equal(s.checksum, 0xa678);
  assert.equal(s.headerLength, 40);
  assert.deepEqual(s.options, [
    { kind: "mss", value: 1460 }, { kind: "sackOK" }, { kind: "timestamp", val: 100, ecr: 0 },
    { kind: "nop" }, { kind: "wscale", shift: 7 },
  ]);
  assert.equal(s.payload.length, 0);
  assert.ok(tcpChecksumOk(l4, CIP, VIP));
  assert.ok(!tcpChecksumOk(l4, CIP, VIP + 1));
  assert.equal(tcpChecksum(l4, CIP, VIP), 0xa678);
  assert.deepEqual(emitTcp(s, CIP, VIP), l4);
});

test("the builder reproduces the known SYN byte for byte", () => {
  const b = buildTcpPacket({
    src: "192.168.1.10", sport: 54321, dst: "10.0.0.100", dport: 80, id: 1, flags: "S", seq: 1000000000,
    options: "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7",
  });
  assert.equal(hex(b), hex(SYN));
});

test("Linux SYN options parse back in order", () => {
  const area = fromHex("0204 05b4 0402 080a 0045 9ece 0000 0000 0103 0306");
  const expected: TcpOption[] = [
    { kind: "mss", value: 1460 }, { kind: "sackOK" }, { kind: "timestamp", val: 4562638, ecr: 0 },
    { kind: "nop" }, { kind: "wscale", shift: 6 },
  ];
  assert.deepEqual(parseTcpOptions(area), expected);
  assert.deepEqual(emitTcpOptions(expected), area);
});

test("TOA: kind 254, length 8, port then address", () => {
  const bytes = fromHex("fe 08 d4 31 c0 a8 01 0a");
  assert.deepEqual(parseTcpOptions(bytes), [{ kind: "toa", port: 54321, addr: CIP }]);
  assert.deepEqual(emitTcpOptions([{ kind: "toa", port: 54321, addr: CIP }]), bytes);
  // Other lengths of kind 254 (RFC 6994 experiments, the IPv6 TOA) stay unknown.
  assert.deepEqual(parseTcpOptions(fromHex("fe 04 f9 89")), [{ kind: "unknown", type: 254, data: fromHex("f989") }]);
  // A TOA-carrying SYN as FullNAT sends it: TOA first, then MSS.
  const pkt = buildTcpPacket({ src: "10.0.0.1", sport: 5000, dst: "10.0.0.2", dport: 8080, flags: "S", seq: 111, options: "toa 192.168.1.10:54321,mss 1460" });
  assert.equal(pkt.length, 52);
  const seg = parseTcp(pkt.subarray(20));
  assert.ok(seg.ok);
  assert.deepEqual(seg.value.options[0], { kind: "toa", port: 54321, addr: CIP });
});

test("unknown kinds and odd lengths are kept", () => {
  assert.deepEqual(parseTcpOptions(fromHex("c8 06 01 02 03 04 00 00")), [
    { kind: "unknown", type: 200, data: fromHex("01020304") }, { kind: "eol" },
  ]);
  assert.deepEqual(parseTcpOptions(fromHex("02 06 05 b4 00 00 01 01")), [
    { kind: "unknown", type: 2, data: fromHex("05b40000") }, { kind: "nop" }, { kind: "nop" },
  ]);
  assert.deepEqual(parseTcpOptions(fromHex("05 12 00000001 00000002 00000003 00000004")),
    [{ kind: "sack", blocks: [[1, 2], [3, 4]] }]);
  assert.deepEqual(emitTcpOptions([{ kind: "wscale", shift: 7 }]), fromHex("03 03 07 00"));
});

test("parsing stops at EOL and at a malformed option", () => {
  assert.deepEqual(parseTcpOptions(fromHex("01 00 02 04 05 b4")), [{ kind: "nop" }, { kind: "eol" }]);
  assert.deepEqual(parseTcpOptions(fromHex("01 02 01 01")), [{ kind: "nop" }]);
  assert.deepEqual(parseTcpOptions(fromHex("01 08 0a 00")), [{ kind: "nop" }]);
  assert.deepEqual(parseTcpOptions(fromHex("01 01 01 08")), [{ kind: "nop" }, { kind: "nop" }, { kind: "nop" }]);
  const seg = emitTcp({ srcPort: 1, dstPort: 2, seq: 0, flags: 0, options: [{ kind: "unknown", type: 99, data: new Uint8Array(2) }] }, 1, 2);
  seg[21] = 0; // option length 0
  const r = parseTcp(seg);
  assert.ok(r.ok);
  assert.deepEqual(r.value.options, []);
  assert.deepEqual(r.value.optionBytes, fromHex("63 00 00 00"));
});

test("segment errors", () => {
  const l4 = SYN.slice(20);
  assert.deepEqual(parseTcp(l4.subarray(0, 19)), { ok: false, error: "truncated" });
  assert.deepEqual(parseTcp(l4.subarray(0, 39)), { ok: false, error: "truncated" });
  l4[12] = 0x40;
  assert.deepEqual(parseTcp(l4), { ok: false, error: "bad-data-offset" });
  assert.throws(() => emitTcp({ srcPort: 1, dstPort: 2, seq: 0, flags: 0, options: Array(41).fill({ kind: "nop" }) }, 1, 2));
});

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const option: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: "nop" }),
  u16.map((value): TcpOption => ({ kind: "mss", value })),
  fc.integer({ min: 0, max: 255 }).map((shift): TcpOption => ({ kind: "wscale", shift })),
  fc.constant<TcpOption>({ kind: "sackOK" }),
  fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 4 }).map((blocks): TcpOption => ({ kind: "sack", blocks })),
  fc.tuple(u32, u32).map(([val, ecr]): TcpOption => ({ kind: "timestamp", val, ecr })),
  fc.tuple(u16, u32).map(([port, addr]): TcpOption => ({ kind: "toa", port, addr })),
  fc.tuple(fc.integer({ min: 9, max: 253 }), fc.uint8Array({ maxLength: 12 })).map(([type, data]): TcpOption => ({ kind: "unknown", type, data })),
);
const options = fc.array(option, { maxLength: 8 }).filter((o) => emitTcpOptions(o).length <= 40);

test("round trip parse(emit(x)) == x for segments and options", () => {
  fc.assert(fc.property(u16, u16, u32, u32, fc.integer({ min: 0, max: 255 }), u16, u16, options, fc.uint8Array({ maxLength: 64 }), u32, u32,
    (srcPort, dstPort, seq, ack, flags, window, urgent, opts, payload, src, dst) => {
      const b = emitTcp({ srcPort, dstPort, seq, ack, flags, window, urgent, options: opts, payload }, src, dst);
      const r = parseTcp(b);
      assert.ok(r.ok);
      const s = r.value;
      // Unaligned option lists come back with the EOL padding that ends them.
      const expectOpts = tcpOptionsLength(opts) % 4 !== 0 ? [...opts, { kind: "eol" }] : opts;
      assert.deepEqual(
        { srcPort: s.srcPort, dstPort: s.dstPort, seq: s.seq, ack: s.ack, flags: s.flags, window: s.window, urgent: s.urgent, options: s.options, payload: s.payload },
        { srcPort, dstPort, seq, ack, flags, window, urgent, options: expectOpts, payload });
      assert.ok(tcpChecksumOk(b, src, dst));
      assert.deepEqual(emitTcp(s, src, dst), b);
      assert.equal(tcpSrcPort(b), srcPort);
      assert.equal(tcpDstPort(b), dstPort);
      assert.equal(tcpSeq(b), seq);
      assert.equal(tcpAck(b), ack);
      assert.equal(tcpFlags(b), flags);
      assert.equal(tcpWindow(b), window);
      assert.equal(tcpHeaderLen(b), s.headerLength);
      assert.equal(tcpChecksumField(b), s.checksum);
    }), { numRuns: 1000 });
});

// ---- NAT rewrites ----

const l4proto = fc.constantFrom("tcp" as const, "udp" as const, "udp0" as const);

function build(proto: "tcp" | "udp" | "udp0", src: number, sport: number, dst: number, dport: number, payload: Uint8Array): Uint8Array {
  if (proto === "tcp") return buildTcpPacket({ src, sport, dst, dport, flags: TCP_ACK, seq: 1, ack: 2, payload });
  return buildUdpPacket({ src, sport, dst, dport, payload, checksum: proto === "udp" });
}

test("NAT rewrites equal building the packet with the new addresses", () => {
  fc.assert(fc.property(l4proto, u32, u16, u32, u16, fc.uint8Array({ maxLength: 40 }), u32, u16, fc.boolean(), fc.nat({ max: 6 }),
    (proto, src, sport, dst, dport, payload, addr, port, rewriteSrc, off) => {
      const orig = build(proto, src, sport, dst, dport, payload);
      const b = new Uint8Array(off + orig.length);
      b.set(orig, off);
      const done = rewriteSrc ? natRewriteSrc(b, addr, port, off) : natRewriteDst(b, addr, port, off);
      assert.ok(done);
      const want = rewriteSrc ? build(proto, addr, port, dst, dport, payload) : build(proto, src, sport, addr, port, payload);
      assert.equal(hex(b.subarray(off)), hex(want));
    }), { numRuns: 3000 });
});

test("UDP: checksum 0 stays 0; a computed 0 is sent as 0xffff", () => {
  const none = buildUdpPacket({ src: "10.0.0.1", sport: 1, dst: "10.0.0.2", dport: 2, payload: "x", checksum: false });
  natRewriteDst(none, 0x0a000003, 3);
  assert.equal((none[26]! << 8) | none[27]!, 0);
  assert.equal(ip4Dst(none), 0x0a000003);
  assert.ok(ipv4ChecksumOk(none));
  // Choose the new port so that the datagram sums to 0xffff, whose checksum is 0.
  const pkt = buildUdpPacket({ src: "10.0.0.1", sport: 1, dst: "10.0.0.2", dport: 2, payload: "hello" });
  const addr = 0x0a000063;
  const probe = emitUdp({ srcPort: 1, dstPort: 0, payload: new TextEncoder().encode("hello") }, 0x0a000001, addr, { checksum: false });
  const s0 = 0xffff - foldChecksum(onesSum(probe, 0, probe.length, pseudoHeaderSum(0x0a000001, addr, IPPROTO_UDP, probe.length)));
  const port = (0xffff - s0) & 0xffff;
  assert.ok(natRewriteDst(pkt, addr, port));
  assert.equal((pkt[26]! << 8) | pkt[27]!, 0xffff);
  assert.ok(udpChecksumOk(pkt.subarray(20), 0x0a000001, addr));
  const fresh = buildUdpPacket({ src: "10.0.0.1", sport: 1, dst: addr, dport: port, payload: "hello" });
  assert.equal(hex(pkt), hex(fresh));
  // ...and rewriting back from 0xffff lands on the original checksum again.
  const orig = buildUdpPacket({ src: "10.0.0.1", sport: 1, dst: "10.0.0.2", dport: 2, payload: "hello" });
  natRewriteDst(pkt, 0x0a000002, 2);
  assert.equal(hex(pkt), hex(orig));
});

test("NAT rewrite in a frame, a fragment, and other protocols", () => {
  const ip = buildTcpPacket({ src: "192.168.1.10", sport: 54321, dst: "10.0.0.100", dport: 80, flags: "S", seq: 7 });
  const frame = buildFrame({ src: "02:00:00:00:00:01", dst: "02:00:00:00:00:02", payload: ip });
  assert.ok(natRewriteDst(frame, 0x0a000102, 8080, ETH_HLEN));
  const r = parseIpv4(frame.subarray(ETH_HLEN));
  assert.ok(r.ok);
  assert.equal(r.value.header.dst, 0x0a000102);
  assert.ok(tcpChecksumOk(r.value.payload, r.value.header.src, r.value.header.dst));
  assert.equal(tcpDstPort(r.value.payload), 8080);

  // A non-first fragment has no ports: only the address changes.
  const frag = emitIpv4({ id: 1, ttl: 64, protocol: IPPROTO_UDP, src: 1, dst: 2, fragOffset: 64 }, fromHex("0102030405060708"));
  assert.ok(natRewriteSrc(frag, 9, 9));
  assert.equal(ip4Src(frag), 9);
  assert.ok(ipv4ChecksumOk(frag));
  assert.deepEqual(frag.subarray(20), fromHex("0102030405060708"));

  const icmp = emitIpv4({ id: 1, ttl: 64, protocol: IPPROTO_ICMP, src: 1, dst: 2 }, new Uint8Array(8));
  const before = hex(icmp);
  assert.equal(natRewriteDst(icmp, 5, 5), false);
  assert.equal(hex(icmp), before);
  const short = emitIpv4({ id: 1, ttl: 64, protocol: 6, src: 1, dst: 2 }, new Uint8Array(10));
  assert.equal(natRewriteDst(short, 5, 5), false);
  const u = parseUdp(buildUdpPacket({ src: 1, sport: 1, dst: 2, dport: 2 }).subarray(20));
  assert.ok(u.ok);
});

test("parseTcp and parseTcpOptions never throw", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    parseTcp(b);
    parseTcpOptions(b);
  }), { numRuns: 3000 });
  fc.assert(fc.property(fc.uint8Array({ minLength: 20, maxLength: 80 }), fc.integer({ min: 5, max: 15 }), (b, doff) => {
    b[12] = doff << 4;
    parseTcp(b);
  }), { numRuns: 3000 });
});
