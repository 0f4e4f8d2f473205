import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ETH_HLEN, ETHERTYPE_IPV4, IPPROTO_TCP, IPPROTO_UDP, emitEthernet, foldChecksum, pseudoHeaderSum, emitIpv4, emitTcp, emitUdp, ipv4ChecksumOk, parseIp4,
  tcpChecksumOk, udpChecksumOk,
} from "../wire/index.js";
import { completeChecksum, completePartialChecksum, segmentTcp } from "./offload.js";

const SRC = parseIp4("192.168.1.185")!;
const DST = parseIp4("192.168.75.150")!;

function tcpFrame(payloadLen: number, flags: number, id = 0x1234): Uint8Array {
  const payload = new Uint8Array(payloadLen).map((_, i) => (i * 7 + 3) & 0xff);
  const seg = emitTcp({ srcPort: 80, dstPort: 41690, seq: 0xfffff000, ack: 77, flags, window: 512, options: [{ kind: "nop" }, { kind: "nop" }, { kind: "timestamp", val: 1, ecr: 2 }], payload }, SRC, DST);
  const ip = emitIpv4({ id, df: true, ttl: 64, protocol: IPPROTO_TCP, src: SRC, dst: DST }, seg);
  return emitEthernet({ dst: 0x020000000001, src: 0x020000000002, ethertype: ETHERTYPE_IPV4, payload: ip }, { pad: false });
}

test("segmentTcp cuts a super-frame as tcp_gso_segment does", () => {
  const FIN = 0x01, PSH = 0x08, ACK = 0x10, CWR = 0x80;
  const big = tcpFrame(4000, ACK | PSH | FIN | CWR);
  const segs = segmentTcp(big, 1500);
  const ihl = 20, thl = 32, mss = 1500 - ihl - thl;
  assert.equal(segs.length, Math.ceil(4000 / mss));
  let payload: number[] = [];
  segs.forEach((f, i) => {
    const ip = f.subarray(ETH_HLEN);
    assert.ok(ip.length <= 1500);
    assert.ok(ipv4ChecksumOk(ip));
    assert.equal((ip[4]! << 8) | ip[5]!, 0x1234 + i, "IP ids count up");
    const l4 = ip.subarray(ihl);
    assert.ok(tcpChecksumOk(l4, SRC, DST), `segment ${i} checksum`);
    const seq = ((l4[4]! << 24) | (l4[5]! << 16) | (l4[6]! << 8) | l4[7]!) >>> 0;
    assert.equal(seq, (0xfffff000 + i * mss) >>> 0, "sequence numbers wrap as u32");
    const last = i === segs.length - 1;
    assert.equal(l4[13], ACK | (last ? PSH | FIN : 0) | (i === 0 ? CWR : 0));
    payload = payload.concat([...l4.subarray(thl)]);
  });
  const orig = [...big.subarray(ETH_HLEN + ihl + thl)];
  assert.deepEqual(payload, orig);
});

test("segmentTcp leaves what fits, and what is not TCP, whole", () => {
  const small = tcpFrame(100, 0x18);
  assert.deepEqual(segmentTcp(small, 1500), [small]);
  const udp = emitEthernet({ dst: 1, src: 2, ethertype: ETHERTYPE_IPV4, payload: emitIpv4({ id: 1, ttl: 64, protocol: IPPROTO_UDP, src: SRC, dst: DST }, emitUdp({ srcPort: 1, dstPort: 2, payload: new Uint8Array(3000) }, SRC, DST)) }, { pad: false });
  assert.deepEqual(segmentTcp(udp, 1500), [udp]);
  assert.deepEqual(segmentTcp(new Uint8Array(3000), 1500).length, 1);
});

test("completeChecksum finishes a partial TCP and UDP checksum", () => {
  for (const proto of [IPPROTO_TCP, IPPROTO_UDP]) {
    const f = proto === IPPROTO_TCP ? tcpFrame(300, 0x18) : emitEthernet({ dst: 1, src: 2, ethertype: ETHERTYPE_IPV4, payload: emitIpv4({ id: 1, ttl: 64, protocol: IPPROTO_UDP, src: SRC, dst: DST }, emitUdp({ srcPort: 1, dstPort: 2, payload: new Uint8Array(33).fill(9) }, SRC, DST)) }, { pad: false });
    const good = f.slice();
    // What the sender's kernel leaves for the NIC: the folded pseudo-header sum, uncomplemented.
    const off = ETH_HLEN + 20 + (proto === IPPROTO_TCP ? 16 : 6);
    f[off] = 0x5a;
    f[off + 1] = 0xa5;
    assert.equal(completeChecksum(f), true);
    assert.deepEqual(f, good);
    const l4 = f.subarray(ETH_HLEN + 20);
    assert.ok(proto === IPPROTO_TCP ? tcpChecksumOk(l4, SRC, DST) : udpChecksumOk(l4, SRC, DST));
  }
  assert.equal(completeChecksum(new Uint8Array(20)), false);
});

test("completePartialChecksum finishes only what carries CHECKSUM_PARTIAL's mark", () => {
  const good = tcpFrame(300, 0x18);
  const l4len = good.length - ETH_HLEN - 20;
  const off = ETH_HLEN + 20 + 16;
  // What tcp_v4_send_check leaves with offload on: ~tcp_v4_check(len, saddr, daddr, 0).
  const mark = ~foldChecksum(pseudoHeaderSum(SRC, DST, IPPROTO_TCP, l4len)) & 0xffff;
  const partial = good.slice();
  partial[off] = mark >> 8;
  partial[off + 1] = mark & 0xff;
  assert.equal(completePartialChecksum(partial), true);
  assert.deepEqual(partial, good);
  // A complete checksum, or a wrong one without the mark, is left as it is.
  const same = good.slice();
  assert.equal(completePartialChecksum(same), false);
  assert.deepEqual(same, good);
  const corrupt = good.slice();
  corrupt[off] ^= 0x40;
  assert.equal(completePartialChecksum(corrupt), false);
  assert.equal(corrupt[off], good[off]! ^ 0x40);
  // A fragment's checksum covers the other fragments too: not touched.
  const frag = partial.slice();
  frag.set(good.subarray(0, ETH_HLEN + 20));
  frag[off] = mark >> 8;
  frag[off + 1] = mark & 0xff;
  frag[ETH_HLEN + 6] |= 0x20; // MF
  assert.equal(completePartialChecksum(frag), false);
});
