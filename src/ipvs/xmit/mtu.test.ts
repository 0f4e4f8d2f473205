import { test } from "node:test";
import assert from "node:assert/strict";
import { emitIpv4, IPPROTO_TCP } from "../../wire/index.js";
import { fakePorts, ip } from "../test_util.js";
import { mtuCheck, type XmitEnv } from "./common.js";

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
