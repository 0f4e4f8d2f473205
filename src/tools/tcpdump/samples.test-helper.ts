/**
 * The sample captures of the capture reference (§1.13 "tcp80" and "misc"), rebuilt as
 * frames, plus a few extra shapes (fragments, unreachables, truncations) for the tests.
 */
import {
  buildArpFrame, buildFrame, buildIcmpPacket, buildIpPacket, buildPing, buildTcpPacket,
  buildUdpPacket, fromHex, toIp4,
} from "../../wire/testing.js";
import { emitIpv4 } from "../../wire/ipv4.js";
import { icmpError } from "../../wire/icmp.js";

export interface Sample { usec: number; frame: Uint8Array; origLen?: number }

const C = "02:00:00:00:00:01", S = "02:00:00:00:00:02", R = "02:00:00:00:00:03";
const T0 = 1700000000_000000;

function fr(src: string, dst: string, pkt: Uint8Array, pad = true): Uint8Array {
  return buildFrame({ src, dst, payload: pkt, pad });
}

export function tcp80(): Sample[] {
  const c = { src: "192.168.1.10", sport: 54321, dst: "10.0.0.100", dport: 80, id: 1 };
  const s = { src: "10.0.0.100", sport: 80, dst: "192.168.1.10", dport: 54321, id: 0 };
  const ci = 1000000000, si = 3000000000;
  const pk = [
    fr(C, S, buildTcpPacket({ ...c, flags: "S", seq: ci, win: 64240, options: "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7" }), false),
    fr(S, C, buildTcpPacket({ ...s, flags: "S.", seq: si, ack: ci + 1, win: 65160, options: "mss 1460,sackOK,TS val 200 ecr 100,nop,wscale 7" }), false),
    fr(C, S, buildTcpPacket({ ...c, flags: ".", seq: ci + 1, ack: si + 1, win: 502, options: "nop,nop,TS val 101 ecr 200" }), false),
    fr(C, S, buildTcpPacket({ ...c, flags: "P.", seq: ci + 1, ack: si + 1, win: 502, options: "nop,nop,TS val 102 ecr 200", payload: "GET / HTTP/1.1\r\nHost: example\r\n\r\n" }), false),
    fr(S, C, buildTcpPacket({ ...s, flags: ".", seq: si + 1, ack: ci + 34, win: 509, options: "nop,nop,TS val 201 ecr 102" }), false),
    fr(S, C, buildTcpPacket({ ...s, flags: "P.", seq: si + 1, ack: ci + 34, win: 509, options: "nop,nop,TS val 202 ecr 102", payload: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" }), false),
    fr(C, S, buildTcpPacket({ ...c, flags: ".", seq: ci + 34, ack: si + 41, win: 501, options: `nop,nop,TS val 103 ecr 202,nop,nop,sack {${si + 100}:${si + 200}}` }), false),
    fr(C, S, buildTcpPacket({ ...c, flags: "F.", seq: ci + 34, ack: si + 41, win: 501, options: "nop,nop,TS val 104 ecr 202" }), false),
    fr(S, C, buildTcpPacket({ ...s, flags: "F.", seq: si + 41, ack: ci + 35, win: 509, options: "nop,nop,TS val 203 ecr 104" }), false),
    fr(C, S, buildTcpPacket({ ...c, flags: ".", seq: ci + 35, ack: si + 42, win: 501, options: "nop,nop,TS val 105 ecr 203" }), false),
    fr(S, C, buildTcpPacket({ ...s, flags: "R", seq: si + 42, win: 0 })),
    fr(S, C, buildTcpPacket({ ...s, flags: "R.", seq: si + 42, ack: ci + 35, win: 0 })),
  ];
  return pk.map((frame, i) => ({ usec: T0 + 123456 + i * 1000, frame }));
}

/** A TCP segment with raw option bytes (the builders only emit well-formed options). */
export function rawTcp(src: string, dst: string, sport: number, dport: number, flags: number, seq: number, ack: number,
  win: number, opts: Uint8Array, payload: Uint8Array = new Uint8Array(0), id = 0, urg = 0): Uint8Array {
  const hl = 20 + opts.length;
  const t = new Uint8Array(hl + payload.length);
  const v = new DataView(t.buffer);
  v.setUint16(0, sport); v.setUint16(2, dport); v.setUint32(4, seq >>> 0); v.setUint32(8, ack >>> 0);
  t[12] = (hl / 4) << 4; t[13] = flags; v.setUint16(14, win); v.setUint16(18, urg);
  t.set(opts, 20); t.set(payload, hl);
  const s = toIp4(src), d = toIp4(dst);
  let sum = (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff) + 6 + t.length;
  for (let i = 0; i < t.length; i += 2) sum += (t[i]! << 8) | (t[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(16, ~sum & 0xffff);
  return emitIpv4({ id, df: true, ttl: 64, protocol: 6, src: s, dst: d }, t);
}

export function misc(): Sample[] {
  const out: Uint8Array[] = [];
  out.push(buildArpFrame({ op: "request", sha: C, spa: "192.168.1.10", tpa: "192.168.1.1" }));
  out.push(buildArpFrame({ op: "reply", sha: R, spa: "192.168.1.1", tha: C, tpa: "192.168.1.10" }));
  const data32 = new Uint8Array(32).map((_, i) => i);
  out.push(fr(C, S, buildPing({ src: "192.168.1.10", dst: "10.0.0.100", icmpId: 0x1234, seq: 1, data: data32, id: 256 })));
  out.push(fr(S, C, buildPing({ src: "10.0.0.100", dst: "192.168.1.10", icmpId: 0x1234, seq: 1, data: data32, reply: true, id: 257 })));
  const udp5005 = buildUdpPacket({ src: "192.168.1.10", sport: 40000, dst: "10.0.0.100", dport: 5005, payload: "hello", id: 7, df: true });
  const gw = toIp4("192.168.1.254");
  for (const code of [1, 0]) {
    out.push(fr(R, C, emitIpv4({ id: 768, ttl: 64, protocol: 1, src: toIp4("192.168.1.1"), dst: toIp4("192.168.1.10") }, icmpError(5, code, udp5005.subarray(0, 28), gw))));
  }
  out.push(fr(C, S, udp5005));
  const inner = buildTcpPacket({ src: "192.168.1.10", sport: 54321, dst: "10.0.0.100", dport: 80, flags: "S", seq: 1000000000, options: "mss 1460", id: 9 });
  out.push(fr(C, S, buildIpPacket({ src: "10.0.0.1", dst: "10.0.0.2", protocol: 4, payload: inner, df: false, id: 10 })));
  const toa = fromHex("fe08d431c0a8010a");
  out.push(fr(C, S, rawTcp("10.0.0.1", "10.0.0.2", 5000, 8080, 0x02, 111, 0, 64240, new Uint8Array([2, 4, 5, 0xb4, ...toa]))));
  out.push(fr(C, S, rawTcp("10.0.0.1", "10.0.0.2", 5000, 8080, 0x10, 112, 223, 502, toa)));
  out.push(fr(C, S, rawTcp("10.0.0.1", "10.0.0.2", 5001, 9000, 0x02, 5, 0, 1024, fromHex("c80601020304 0000"))));
  out.push(fr(C, S, rawTcp("10.0.0.1", "10.0.0.2", 5001, 9000, 0x18, 6, 1, 1024, new Uint8Array(0), new TextEncoder().encode("twelve bytes"))));
  out.push(fr(C, S, rawTcp("10.0.0.1", "10.0.0.2", 5002, 9000, 0xc2, 7, 0, 1024, new Uint8Array(0))));
  out.push(fr(C, S, rawTcp("10.0.0.1", "10.0.0.2", 5002, 9000, 0x00, 7, 0, 1024, new Uint8Array(0))));
  out.push(fr(C, S, rawTcp("10.0.0.1", "10.0.0.2", 5002, 9000, 0xff, 7, 9, 1024, new Uint8Array(0), new Uint8Array([1, 2, 3]), 0, 3)));
  const bad = rawTcp("10.0.0.1", "10.0.0.2", 5003, 9000, 0x02, 7, 0, 1024, new Uint8Array(0), undefined, 18);
  bad[36]! ^= 0x12;
  out.push(fr(C, S, bad));
  out.push(fr(S, C, emitIpv4({ id: 3, ttl: 64, protocol: 1, src: toIp4("10.0.0.100"), dst: toIp4("192.168.1.10") }, icmpError(3, 3, udp5005.subarray(0, 28)))));
  // two fragments of a 100-byte UDP datagram
  const big = buildUdpPacket({ src: "192.168.1.10", sport: 40001, dst: "10.0.0.100", dport: 5006, payload: new Uint8Array(100).fill(0x61), id: 119 });
  const l4 = big.subarray(20);
  const f1 = emitIpv4({ id: 119, ttl: 64, protocol: 17, src: toIp4("192.168.1.10"), dst: toIp4("10.0.0.100") }, l4.subarray(0, 64));
  f1[6] = 0x20; fixIpSum(f1);
  const f2 = emitIpv4({ id: 119, ttl: 64, protocol: 17, src: toIp4("192.168.1.10"), dst: toIp4("10.0.0.100") }, l4.subarray(64));
  f2[6] = 0x00; f2[7] = 8; fixIpSum(f2);
  out.push(fr(C, S, f1), fr(C, S, f2));
  // VLAN 100
  const vl = new Uint8Array(4 + udp5005.length);
  vl.set([0x00, 0x64, 0x08, 0x00]); vl.set(udp5005, 4);
  out.push(buildFrame({ src: C, dst: R, ethertype: 0x8100, payload: vl }));
  return out.map((frame, i) => ({ usec: T0 + 500000 + i * 1000, frame }));
}

export function fixIpSum(p: Uint8Array): void {
  p[10] = 0; p[11] = 0;
  const hl = (p[0]! & 15) * 4;
  let sum = 0;
  for (let i = 0; i < hl; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  p[10] = (~sum >> 8) & 0xff; p[11] = ~sum & 0xff;
}

/** Further shapes: ICMP errors of all kinds, SSH banner, unknown protocol, odd ARP. */
export function extra(): Sample[] {
  const out: Uint8Array[] = [];
  const tcpSyn = buildTcpPacket({ src: "192.168.1.10", sport: 40000, dst: "10.0.0.100", dport: 80, flags: "S", seq: 5, options: "mss 1460" });
  const udp = buildUdpPacket({ src: "192.168.1.10", sport: 40000, dst: "10.0.0.100", dport: 7777, payload: "x" });
  const src = toIp4("10.0.0.254"), dst = toIp4("192.168.1.10");
  for (const [t, c, rest, orig] of [
    [3, 0, 0, tcpSyn], [3, 1, 0, tcpSyn], [3, 2, 0, udp], [3, 3, 0, tcpSyn], [3, 4, 1400, tcpSyn], [3, 4, 0, tcpSyn],
    [3, 13, 0, tcpSyn], [3, 10, 0, udp], [11, 0, 0, udp], [11, 1, 0, udp], [5, 2, toIp4("1.2.3.4"), udp], [5, 7, toIp4("1.2.3.4"), udp],
    [12, 0, 0x14000000, udp], [4, 0, 0, udp],
  ] as [number, number, number, Uint8Array][]) {
    out.push(fr(R, C, emitIpv4({ id: 1, ttl: 64, protocol: 1, src, dst }, icmpError(t, c, orig, rest))));
  }
  out.push(fr(C, S, buildIcmpPacket({ src: "1.1.1.1", dst: "2.2.2.2", type: 10, payload: "" })));
  out.push(fr(C, S, buildIcmpPacket({ src: "1.1.1.1", dst: "2.2.2.2", type: 42, code: 3, payload: "abcd" })));
  out.push(fr(C, S, buildIpPacket({ src: "1.1.1.1", dst: "2.2.2.2", protocol: 253, payload: new Uint8Array(20) })));
  out.push(fr(C, S, buildTcpPacket({ src: "10.0.0.5", sport: 22, dst: "10.0.0.6", dport: 50000, flags: "P.", seq: 1, ack: 1, payload: "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n" })));
  out.push(fr(C, S, buildTcpPacket({ src: "10.0.0.5", sport: 8080, dst: "10.0.0.6", dport: 50000, flags: "P.", seq: 1, ack: 1, payload: "HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n" })));
  out.push(fr(C, S, buildTcpPacket({ src: "10.0.0.5", sport: 50001, dst: "10.0.0.6", dport: 80, flags: "P.", seq: 1, ack: 1, payload: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET" })));
  out.push(fr(C, S, buildTcpPacket({ src: "10.0.0.5", sport: 50001, dst: "10.0.0.6", dport: 80, flags: "P.", seq: 1, ack: 1, payload: new Uint8Array([0, 1, 2, 3]) })));
  out.push(fr(C, S, buildTcpPacket({ src: "10.0.0.5", sport: 50002, dst: "10.0.0.6", dport: 80, flags: "P.", seq: 1, ack: 1, payload: "GET /x HTTP/1.0" })));
  out.push(fr(C, S, buildTcpPacket({ src: "10.0.0.5", sport: 50002, dst: "10.0.0.6", dport: 9999, flags: "R.", seq: 1, ack: 1, payload: "reset reason text that is longer than thirty" })));
  out.push(fr(C, S, buildUdpPacket({ src: "10.0.0.5", sport: 5000, dst: "10.0.0.6", dport: 5001, payload: "abc", checksum: false })));
  out.push(buildArpFrame({ op: "request", sha: C, spa: "192.168.1.10", tha: R, tpa: "192.168.1.1" }));
  out.push(buildArpFrame({ op: 3, sha: C, spa: "192.168.1.10", tha: R, tpa: "192.168.1.1" }));
  out.push(buildArpFrame({ op: 4, sha: C, spa: "192.168.1.10", tha: R, tpa: "192.168.1.1" }));
  out.push(buildArpFrame({ op: 9, sha: C, spa: "192.168.1.10", tha: R, tpa: "192.168.1.1", pad: false }));
  out.push(buildArpFrame({ op: 77, sha: C, spa: "192.168.1.10", tha: R, tpa: "192.168.1.1", pad: false }));
  out.push(buildFrame({ src: C, dst: "01:00:5e:00:00:01", ethertype: 0x9999, payload: "unknown ethertype payload" }));
  // TOS/ECN, TTL 0, IP options, reserved flag, bad IP checksum
  const ipo = buildPing({ src: "1.1.1.1", dst: "2.2.2.2", tos: 0x12 });
  out.push(fr(C, S, ipo));
  const ttl0 = buildPing({ src: "1.1.1.1", dst: "2.2.2.2", ttl: 0, tos: 3 }); out.push(fr(C, S, ttl0));
  const rsvd = buildPing({ src: "1.1.1.1", dst: "2.2.2.2" }); rsvd[6]! |= 0x80; fixIpSum(rsvd); out.push(fr(C, S, rsvd));
  const badsum = buildPing({ src: "1.1.1.1", dst: "2.2.2.2" }); badsum[10]! ^= 1; out.push(fr(C, S, badsum));
  const badicmp = buildPing({ src: "1.1.1.1", dst: "2.2.2.2" }); badicmp[22]! ^= 1; out.push(fr(C, S, badicmp));
  const withOpts = emitIpv4({ id: 5, ttl: 64, protocol: 17, src: toIp4("1.1.1.1"), dst: toIp4("2.2.2.2"), options: new Uint8Array([1, 1, 1, 0]) }, new Uint8Array([0, 1, 0, 2, 0, 8, 0, 0]));
  out.push(fr(C, S, withOpts));
  return out.map((frame, i) => ({ usec: T0 + 600000 + i * 1000, frame }));
}

/**
 * Tunnelled packets (kept apart from extra(): the filter cases number the samples): GRE as
 * IPVS sends it (no checksum; with one), with a key and a sequence number, with the s and A
 * bits, and truncated. (GRE around Ethernet or PPP, with routing (R bit), and version 1 are not
 * printed as tcpdump does.)
 */
export function tunnels(): Sample[] {
  const out: Uint8Array[] = [];
  const tcpSyn = buildTcpPacket({ src: "192.168.1.10", sport: 40000, dst: "10.0.0.100", dport: 80, flags: "S", seq: 5, options: "mss 1460" });
  const udp = buildUdpPacket({ src: "192.168.1.10", sport: 40000, dst: "10.0.0.100", dport: 7777, payload: "x" });
  const gre = (hdr: number[], inner: Uint8Array): Uint8Array =>
    emitIpv4({ id: 0, df: true, ttl: 63, protocol: 47, src: toIp4("192.168.1.186"), dst: toIp4("192.168.1.190") }, new Uint8Array([...hdr, ...inner]));
  out.push(fr(C, S, gre([0, 0, 8, 0], tcpSyn)));
  out.push(fr(C, S, gre([0x80, 0, 8, 0, 0x12, 0x34, 0, 0], tcpSyn)));
  out.push(fr(C, S, gre([0x30, 0, 8, 0, 0, 0, 0, 7, 0, 0, 1, 0], udp)));
  out.push(fr(C, S, gre([0x08, 0x80, 8, 0], tcpSyn)));
  out.push(fr(C, S, gre([0x80, 0], new Uint8Array(0))));
  return out.map((frame, i) => ({ usec: T0 + 700000 + i * 1000, frame }));
}
