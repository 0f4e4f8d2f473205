import { test } from "node:test";
import assert from "node:assert/strict";
import { emitIpv4, foldChecksum, internetChecksum, IPPROTO_TCP, onesSum, pseudoHeaderSum } from "../../wire/index.js";
import { explainDrop } from "../../explain/rules.js";
import { fakePorts, ip } from "../test_util.js";
import { mtuCheck, type XmitEnv } from "./common.js";
import { flowSrcPort, tunXmit, type TunnelDest } from "./tun.js";

function env(routeMtu: number, pmtuDisc = true) {
  const sent: Array<[number, number, number]> = [];
  const counted: number[] = [];
  const ports = Object.assign(fakePorts(), {
    routeMtu: () => routeMtu,
    icmpSend: (_o: Uint8Array, type: number, code: number, rest: number) => void sent.push([type, code, rest]),
  });
  const e: XmitEnv = { ports, nextIpId: () => 1, pmtuDisc: () => pmtuDisc, countOut: (_cp, bytes) => void counted.push(bytes) };
  return { e, sent, counted };
}
const conn = { caddr: ip("192.168.1.150"), cport: 40000, vaddr: ip("192.168.1.100"), vport: 80, daddr: ip("192.168.1.190"), dport: 80, sched: "", cp: 7 };
const pkt = (len: number, df = true) =>
  emitIpv4({ id: 1, df, ttl: 63, protocol: IPPROTO_TCP, src: conn.caddr, dst: conn.vaddr }, new Uint8Array(len - 20));

test("mtuCheck: the tunnel takes 20 bytes; a DF packet over the rest is refused with frag-needed and counted out (576 bytes)", () => {
  const { e, sent, counted } = env(1500);
  assert.equal(mtuCheck(e, pkt(1480), conn, 20), undefined);
  const v = mtuCheck(e, pkt(1500), conn, 20);
  assert.equal(v?.action, "drop");
  assert.deepEqual(sent, [[3, 4, 1480]]);
  assert.deepEqual(counted, [576]);
  // Without DF, or with pmtu_disc off for the tunnel, it goes on (the outer packet is fragmented).
  assert.equal(mtuCheck(e, pkt(1500, false), conn, 20), undefined);
  assert.equal(mtuCheck(env(1500, false).e, pkt(1500), conn, 20), undefined);
  // A tunnel MTU below 68 drops everything.
  assert.equal(mtuCheck(env(80).e, pkt(60), conn, 20)?.action, "drop");
});

test("mtuCheck: NAT and DR use the route's MTU as it is; only DR/TUN count the ICMP as the connection's", () => {
  const dr = env(1400);
  assert.equal(mtuCheck(dr.e, pkt(1400), conn, 0), undefined);
  assert.equal(mtuCheck(dr.e, pkt(1401), conn, 0)?.action, "drop");
  assert.deepEqual([dr.sent, dr.counted], [[[3, 4, 1400]], [576]]);
  const nat = env(1400);
  assert.equal(mtuCheck(nat.e, pkt(1500), conn, 0, true)?.action, "drop");
  assert.deepEqual([nat.sent, nat.counted], [[[3, 4, 1400]], []]);
});

test("tunXmit: GUE and GRE headers as the kernel builds them, and their share of the MTU", () => {
  const tcp = (len: number) => emitIpv4({ id: 1, df: true, ttl: 64, protocol: IPPROTO_TCP, src: conn.caddr, dst: conn.vaddr }, new Uint8Array(len - 20));
  const outer = (d: TunnelDest, len: number) => {
    const v = tunXmit(env(1500).e, tcp(len), conn, d);
    assert.equal(v.action, "stolen");
    return (v as { out: ReadonlyArray<{ packet: Uint8Array }> }).out[0]!.packet;
  };
  // GUE: UDP to the tunnel port, length and no checksum; GUE version 0, protocol 4.
  const gue = outer({ tunType: "gue", tunPort: 6080, tunFlags: 0 }, 60);
  assert.equal(gue[9], 17);
  assert.deepEqual([...gue.subarray(22, 32)], [0x17, 0xc0, 0, 72, 0, 0, 0, 4, 0, 0]);
  assert.equal((gue[20]! << 8) | gue[21]!, flowSrcPort(tcp(60)));
  // --tun-csum: a UDP checksum that verifies.
  const gc = outer({ tunType: "gue", tunPort: 6080, tunFlags: 2 }, 60);
  assert.notEqual((gc[26]! << 8) | gc[27]!, 0);
  assert.equal(foldChecksum(onesSum(gc, 20, gc.length, pseudoHeaderSum(ip("192.168.1.1"), conn.daddr, 17, gc.length - 20))), 0);
  // GRE: 4 bytes, or 8 with a checksum over the GRE header and what it carries.
  const gre = outer({ tunType: "gre", tunPort: 0, tunFlags: 1 }, 60);
  assert.deepEqual([gre[9], ...gre.subarray(20, 24)], [47, 0, 0, 8, 0]);
  const grc = outer({ tunType: "gre", tunPort: 0, tunFlags: 2 }, 60);
  assert.deepEqual([...grc.subarray(20, 24)], [0x80, 0, 8, 0]);
  assert.equal(internetChecksum(grc, 20), 0);
  // The MTU left: 1500 - 20 - 8 - 4 for GUE, - 20 - 4 for GRE, - 28 with its checksum.
  for (const [d, mtu] of [[{ tunType: "gue", tunPort: 6080, tunFlags: 0 }, 1468], [{ tunType: "gre", tunPort: 0, tunFlags: 0 }, 1476], [{ tunType: "gre", tunPort: 0, tunFlags: 2 }, 1472]] as const) {
    const { e, sent } = env(1500);
    assert.equal(tunXmit(e, tcp(mtu), conn, d).action, "stolen");
    const v = tunXmit(e, tcp(mtu + 1), conn, d);
    assert.equal(v.action, "drop");
    assert.deepEqual(sent, [[3, 4, mtu]]);
    const why = explainDrop(`IPVS: ${(v as { reason: string }).reason}`);
    assert.equal(why.rule, "ipvs-tunnel-mtu");
    assert.match(why.plain, new RegExp(`^the ${d.tunType.toUpperCase()} tunnel to 192\\.168\\.1\\.190 adds ${1500 - mtu} bytes of headers \\(.*\\), so only ${mtu} of`));
  }
});
