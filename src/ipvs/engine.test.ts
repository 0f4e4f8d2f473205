import { test } from "node:test";
import assert from "node:assert/strict";
import { buildIcmpPacket, buildTcpPacket, buildUdpPacket, describePacket } from "../wire/testing.js";
import { parseIpv4, parseIcmp, parseTcp, formatIp4, ipv4ChecksumOk, tcpChecksumOk, IPPROTO_IPIP } from "../wire/index.js";
import { FwdMethod, SVC_F_PERSISTENT, IPPROTO_UDP, type Verdict, type ServiceKey } from "./api.js";
import { destSpec, ip, newEngine, SEC, svcSpec, tcpKey } from "./test_util.js";
import { renderIpVs, renderIpVsConn, renderIpVsStats } from "./procfs.js";

const VIP = "192.168.75.131";
const CIP = "192.168.75.1";
const KEY = tcpKey(VIP, 80);
const CTX = { inIf: "eth0", fwmark: 0 };

function natLab(sched = "wrr", fwd = FwdMethod.Masq) {
  const { e, w } = newEngine();
  assert.equal(e.addService(svcSpec(KEY, sched)), undefined);
  assert.equal(e.addDest(KEY, destSpec("192.168.1.185", 80, { fwd, weight: 1 })), undefined);
  assert.equal(e.addDest(KEY, destSpec("192.168.1.190", 80, { fwd, weight: 1 })), undefined);
  return { e, w };
}

function syn(sport = 40000, flags = "S", ttl = 64) {
  return buildTcpPacket({ src: CIP, dst: VIP, sport, dport: 80, flags, seq: 1000, ttl });
}

function outPkt(v: Verdict): Uint8Array {
  if (v.action === "stolen") return v.out[0]!.packet;
  if (v.action === "accept") return v.packet;
  assert.fail(`dropped: ${v.reason}`);
}

test("NAT table: in-path DNAT and out-path SNAT, bytes and checksums", () => {
  const { e } = natLab();
  const rows: { desc: string; hook: "in" | "fwd"; pkt: Uint8Array; action: string; want: string; note?: RegExp }[] = [
    {
      desc: "client SYN to VIP is DNATed to the newest dest (wrr)", hook: "in", pkt: syn(), action: "stolen",
      want: "192.168.75.1.40000 > 192.168.1.190.80", note: /^wrr chose 192\.168\.1\.190:80; DNAT 192\.168\.75\.131:80 -> 192\.168\.1\.190:80$/,
    },
    {
      desc: "server SYN+ACK is SNATed back to VIP", hook: "fwd",
      pkt: buildTcpPacket({ src: "192.168.1.190", dst: CIP, sport: 80, dport: 40000, flags: "S.", ttl: 63 }), action: "accept",
      want: "192.168.75.131.80 > 192.168.75.1.40000", note: /SNAT reply 192\.168\.1\.190:80 -> 192\.168\.75\.131:80/,
    },
    { desc: "client ACK follows the entry", hook: "in", pkt: syn(40000, "."), action: "stolen", want: "192.168.75.1.40000 > 192.168.1.190.80", note: /^DNAT/ },
    { desc: "second client goes to the other dest", hook: "in", pkt: syn(40001), action: "stolen", want: "192.168.75.1.40001 > 192.168.1.185.80" },
    { desc: "non-SYN without entry is not ours", hook: "in", pkt: syn(40002, "."), action: "accept", want: "192.168.75.1.40002 > 192.168.75.131.80" },
    {
      desc: "reply without entry passes untouched", hook: "fwd",
      pkt: buildTcpPacket({ src: "192.168.1.190", dst: CIP, sport: 80, dport: 5555, flags: "." }), action: "accept",
      want: "192.168.1.190.80 > 192.168.75.1.5555",
    },
  ];
  for (const r of rows) {
    const before = r.pkt.slice();
    const v = r.hook === "in" ? e.localIn(r.pkt, CTX) : e.forward(r.pkt, CTX);
    assert.equal(v.action, r.action, r.desc);
    const p = outPkt(v);
    const ipv = parseIpv4(p);
    assert.ok(ipv.ok, r.desc);
    assert.ok(ipv4ChecksumOk(p), `${r.desc}: IP checksum`);
    assert.ok(tcpChecksumOk(ipv.value.payload, ipv.value.header.src, ipv.value.header.dst), `${r.desc}: TCP checksum`);
    const d = describePacket(p);
    assert.ok(d.includes(r.want), `${r.desc}: ${d}`);
    if (r.hook === "in" && r.action === "stolen") assert.equal(ipv.value.header.ttl, before[8]! - 1, `${r.desc}: TTL`);
    if (r.note) {
      const note = v.action === "stolen" ? v.out[0]!.note : v.action === "accept" ? v.note : "";
      assert.match(note ?? "", r.note, r.desc);
    }
  }
});

test("NAT: payload bytes other than addresses/ports/TTL/checksums are unchanged", () => {
  const { e } = natLab();
  const p = buildTcpPacket({ src: CIP, dst: VIP, sport: 40000, dport: 80, flags: "S", payload: "hello" });
  const orig = p.slice();
  const v = e.localIn(p, CTX);
  const out = outPkt(v);
  const a = parseTcp(parseIpv4(orig).ok ? (parseIpv4(orig) as { value: { payload: Uint8Array } }).value.payload : new Uint8Array());
  const b = parseTcp((parseIpv4(out) as { ok: true; value: { payload: Uint8Array } }).value.payload);
  assert.ok(a.ok && b.ok);
  assert.equal(b.value.seq, a.value.seq);
  assert.deepEqual(b.value.payload, a.value.payload);
});

test("state machine: NAT handshake, close, timeouts and counters", () => {
  const { e, w } = natLab("rr");
  const conn = () => e.conns()[0]!;
  e.localIn(syn(), CTX);
  assert.equal(conn().state, "SYN_RECV");
  assert.equal(conn().expiresSec, 60);
  let d = e.service(KEY)!.dests.find((x) => x.activeConns + x.inactConns > 0)!;
  assert.equal(d.activeConns, 1, "SYN_RECV is active [current]");
  e.forward(buildTcpPacket({ src: formatIp4(conn().daddr), dst: CIP, sport: 80, dport: 40000, flags: "S." }), CTX);
  assert.equal(conn().state, "SYN_RECV");
  e.localIn(syn(40000, "."), CTX);
  assert.equal(conn().state, "ESTABLISHED");
  assert.equal(conn().expiresSec, 900);
  w.t += 100 * SEC;
  assert.equal(conn().expiresSec, 800);
  e.forward(buildTcpPacket({ src: formatIp4(conn().daddr), dst: CIP, sport: 80, dport: 40000, flags: "F." }), CTX);
  assert.equal(conn().state, "FIN_WAIT");
  d = e.service(KEY)!.dests.find((x) => x.activeConns + x.inactConns > 0)!;
  assert.deepEqual([d.activeConns, d.inactConns], [0, 1]);
  e.localIn(syn(40000, "F."), CTX);
  assert.equal(conn().state, "TIME_WAIT");
  assert.equal(conn().expiresSec, 120);
  assert.equal(e.poll(w.t), w.t + 2 * SEC, "next: the estimator");
  w.t += 119 * SEC;
  e.poll(w.t);
  assert.equal(e.conns().length, 1);
  w.t += 1 * SEC;
  e.poll(w.t);
  assert.equal(e.conns().length, 0);
  d = e.service(KEY)!.dests.find((x) => x.addr === ip("192.168.1.190"))!;
  assert.deepEqual([d.activeConns, d.inactConns], [0, 0]);
  assert.deepEqual(d.stats, { conns: 1, inpkts: 3, outpkts: 2, inbytes: 120, outbytes: 80 });
  assert.deepEqual(e.totals().stats, { conns: 1, inpkts: 3, outpkts: 2, inbytes: 120, outbytes: 80 });
});

test("state machine: classic flavour counts only ESTABLISHED as active", () => {
  const { e } = newEngine({ flavour: "classic" });
  e.addService(svcSpec(KEY, "rr"));
  e.addDest(KEY, destSpec("192.168.1.185", 80));
  e.localIn(syn(), CTX);
  assert.deepEqual([e.service(KEY)!.dests[0]!.activeConns, e.service(KEY)!.dests[0]!.inactConns], [0, 1]);
  e.localIn(syn(40000, "."), CTX);
  assert.deepEqual([e.service(KEY)!.dests[0]!.activeConns, e.service(KEY)!.dests[0]!.inactConns], [1, 0]);
});

test("DR: stolen with next hop = RIP, packet unchanged but TTL; INPUT-ONLY states", () => {
  const { e } = natLab("rr", FwdMethod.Route);
  const p = syn();
  const orig = p.slice();
  const v = e.localIn(p, CTX);
  assert.equal(v.action, "stolen");
  if (v.action !== "stolen") return;
  assert.equal(v.out[0]!.nextHop, ip("192.168.1.190"));
  const out = v.out[0]!.packet;
  assert.equal(out[8], orig[8]! - 1);
  assert.deepEqual(out.subarray(12), orig.subarray(12));
  assert.match(v.out[0]!.note!, /direct routing/);
  assert.equal(e.conns()[0]!.state, "SYN_RECV");
  e.localIn(syn(40000, "."), CTX);
  assert.equal(e.conns()[0]!.state, "ESTABLISHED");
  e.localIn(syn(40000, "F."), CTX);
  assert.equal(e.conns()[0]!.state, "FIN_WAIT", "INPUT-ONLY: client FIN -> FIN_WAIT");
  e.localIn(syn(40000, "."), CTX);
  assert.equal(e.conns()[0]!.state, "FIN_WAIT");
});

test("TUN: IPIP outer header from sourceFor(rip) to rip, TTL/TOS/DF copied", () => {
  const { e } = natLab("rr", FwdMethod.Tunnel);
  const p = buildTcpPacket({ src: CIP, dst: VIP, sport: 40000, dport: 80, flags: "S", tos: 0x13, ttl: 50 });
  const v = e.localIn(p, CTX);
  assert.equal(v.action, "stolen");
  if (v.action !== "stolen") return;
  const outer = parseIpv4(v.out[0]!.packet);
  assert.ok(outer.ok);
  const h = outer.value.header;
  assert.equal(h.protocol, IPPROTO_IPIP);
  assert.equal(h.src, ip("192.168.1.1"));
  assert.equal(h.dst, ip("192.168.1.190"));
  assert.equal(h.ttl, 49);
  assert.equal(h.tos, 0x12, "CE becomes ECT(0)");
  assert.equal(h.df, true);
  const inner = parseIpv4(outer.value.payload);
  assert.ok(inner.ok);
  assert.equal(inner.value.header.dst, ip(VIP));
  assert.equal(inner.value.header.ttl, 49);
});

test("no destination: log line, drop, ICMP port unreachable to the client", () => {
  const { e, w } = newEngine();
  e.addService(svcSpec(KEY, "wrr"));
  const p = syn();
  const v = e.localIn(p, CTX);
  assert.equal(v.action, "drop");
  if (v.action !== "drop") return;
  assert.equal(v.reason, "ipvs-no-destination");
  assert.deepEqual(w.logs.filter((l) => l.includes("no destination")), ["IPVS: wrr: TCP 192.168.75.131:80 - no destination available"]);
  const icmp = parseIpv4(v.out![0]!.packet);
  assert.ok(icmp.ok);
  assert.equal(icmp.value.header.src, ip(VIP));
  assert.equal(icmp.value.header.dst, ip(CIP));
  const m = parseIcmp(icmp.value.payload);
  assert.ok(m.ok);
  assert.deepEqual([m.value.type, m.value.code], [3, 3]);
  assert.deepEqual(m.value.payload.subarray(0, 20), p.subarray(0, 20));
});

test("malformed packets are dropped with a reason, never thrown", () => {
  const { e } = natLab();
  for (const b of [new Uint8Array(0), new Uint8Array(10), Uint8Array.from([0x45, 0, 0, 200, ...new Array(36).fill(0)])]) {
    const v = e.localIn(b, CTX);
    assert.equal(v.action, "drop");
  }
  const trunc = syn().slice(0, 30);
  trunc[2] = 0; trunc[3] = 30;
  assert.equal(e.localIn(trunc, CTX).action, "drop");
});

test("persistence: template reuse, expiry, and the 60 s sticky timeout", () => {
  const { e, w } = newEngine();
  e.addService(svcSpec(KEY, "rr", { flags: SVC_F_PERSISTENT, timeout: 300, netmask: ip("255.255.255.0") }));
  e.addDest(KEY, destSpec("192.168.1.185", 80));
  e.addDest(KEY, destSpec("192.168.1.190", 80));
  const first = outPkt(e.localIn(syn(40000), CTX));
  const second = outPkt(e.localIn(buildTcpPacket({ src: "192.168.75.9", dst: VIP, sport: 41000, dport: 80, flags: "S" }), CTX));
  assert.equal(parseIpv4(first).ok && (parseIpv4(first) as { value: { header: { dst: number } } }).value.header.dst, ip("192.168.1.190"));
  assert.equal((parseIpv4(second) as { value: { header: { dst: number } } }).value.header.dst, ip("192.168.1.190"), "same /24 -> same server");
  const tpl = e.conns().filter((c) => c.cport === 0);
  assert.equal(tpl.length, 1);
  assert.equal(tpl[0]!.caddr, ip("192.168.75.0"));
  assert.equal(tpl[0]!.state, "NONE");
  assert.equal(tpl[0]!.expiresSec, 300);
  assert.equal(e.service(KEY)!.dests.find((d) => d.addr === ip("192.168.1.190"))!.persistConns, 1);
  e.localIn(syn(40000, "."), CTX);
  assert.equal(e.conns().find((c) => c.cport === 0)!.state, "ASSURED");
  // Connections expire at 60 s (SYN_RECV of the second) and 900 s; the template fires at
  // 300 s while the first still lives: kept with 60 s.
  w.t = 300 * SEC;
  e.poll(w.t);
  assert.equal(e.conns().find((c) => c.cport === 0)!.expiresSec, 60);
  w.t = 900 * SEC;
  e.poll(w.t);
  assert.equal(e.conns().length, 1, "only the template is left");
  w.t = 960 * SEC;
  e.poll(w.t);
  assert.equal(e.conns().length, 0);
  assert.equal(e.service(KEY)!.dests.find((d) => d.addr === ip("192.168.1.190"))!.persistConns, 0);
});

test("persistence: a template to a deleted dest is neutralised and a new server chosen", () => {
  const { e } = newEngine();
  e.addService(svcSpec(KEY, "rr", { flags: SVC_F_PERSISTENT, timeout: 300, netmask: 0xffffffff }));
  e.addDest(KEY, destSpec("192.168.1.185", 80));
  e.addDest(KEY, destSpec("192.168.1.190", 80));
  e.localIn(syn(40000), CTX);
  e.delDest(KEY, ip("192.168.1.190"), 80);
  const v = e.localIn(syn(40001), CTX);
  assert.equal((parseIpv4(outPkt(v)) as { value: { header: { dst: number } } }).value.header.dst, ip("192.168.1.185"));
  const dead = e.conns().find((c) => c.vport === 0xffff);
  assert.ok(dead, "old template re-keyed with port 0xffff");
  // Packets of the old connection to the deleted dest are dropped.
  assert.deepEqual(e.localIn(syn(40000, "."), CTX), { action: "drop", reason: "ipvs-dest-unavailable" });
});

test("conn_reuse_mode: SYN on a TIME_WAIT entry is rescheduled", () => {
  const { e } = natLab("rr");
  e.localIn(syn(), CTX);
  e.localIn(syn(40000, "F."), CTX); // SR -> TW (INPUT fin)
  assert.equal(e.conns()[0]!.state, "TIME_WAIT");
  const v = e.localIn(syn(), CTX);
  assert.equal((parseIpv4(outPkt(v)) as { value: { header: { dst: number } } }).value.header.dst, ip("192.168.1.185"));
  assert.equal(e.conns().length, 1);
  assert.equal(e.setSysctl("conn_reuse_mode", "0"), undefined);
  e.localIn(syn(40000, "F."), CTX);
  const v2 = e.localIn(syn(), CTX);
  assert.equal((parseIpv4(outPkt(v2)) as { value: { header: { dst: number } } }).value.header.dst, ip("192.168.1.185"), "continues the old entry");
});

test("expire_nodest_conn: the entry goes and the SYN is rescheduled", () => {
  const { e } = natLab("rr");
  e.setSysctl("expire_nodest_conn", "1");
  e.localIn(syn(), CTX);
  e.delDest(KEY, ip("192.168.1.190"), 80);
  assert.equal(e.conns().length, 0, "flushed");
  const v = e.localIn(syn(), CTX);
  assert.equal((parseIpv4(outPkt(v)) as { value: { header: { dst: number } } }).value.header.dst, ip("192.168.1.185"));
});

test("UDP: 300 s entries, always inactive, timeouts editable", () => {
  const { e, w } = newEngine();
  const key: ServiceKey = { fwmark: 0, protocol: IPPROTO_UDP, addr: ip(VIP), port: 53 };
  e.addService(svcSpec(key, "rr"));
  e.addDest(key, destSpec("192.168.1.185", 53));
  assert.equal(e.setTimeouts({ tcp: 0, tcpfin: 0, udp: 30 }), undefined);
  assert.deepEqual(e.getTimeouts(), { tcp: 900, tcpfin: 120, udp: 30 });
  const v = e.localIn(buildUdpPacket({ src: CIP, dst: VIP, sport: 5353, dport: 53, payload: "q" }), CTX);
  assert.equal(v.action, "stolen");
  const c = e.conns()[0]!;
  assert.deepEqual([c.protocolName, c.state, c.expiresSec], ["UDP", "UDP", 30]);
  assert.equal(e.service(key)!.dests[0]!.inactConns, 1);
  w.t += 30 * SEC;
  e.poll(w.t);
  assert.equal(e.conns().length, 0);
});

test("thresholds: u=10 sets OVERLOAD at the 10th connection, clears at 8 -> 7 (§13)", () => {
  const { e, w } = newEngine();
  e.addService(svcSpec(KEY, "rr"));
  e.addDest(KEY, destSpec("192.168.1.185", 80, { uThreshold: 10 }));
  for (let i = 0; i < 9; i++) e.localIn(syn(41000 + i), CTX);
  assert.equal(e.serviceObjects()[0]!.dests[0]!.overloaded, false);
  e.localIn(syn(41009), CTX);
  assert.equal(e.serviceObjects()[0]!.dests[0]!.overloaded, true);
  assert.equal(e.localIn(syn(42000), CTX).action, "drop", "no dest while overloaded");
  // Expire connections one by one (1 s apart).
  for (let i = 0; i < 10; i++) {
    w.t = (60 + i) * SEC;
    e.localIn(syn(41000 + i, "."), CTX); // ESTABLISHED keeps them; re-arm stagger
  }
  const d = e.serviceObjects()[0]!.dests[0]!;
  assert.equal(d.totalConns, 10);
  for (let i = 0; i < 10; i++) {
    w.t = (960 + i) * SEC;
    e.poll(w.t);
    const total: number = d.totalConns;
    if (total === 8) assert.equal(d.overloaded, true);
    if (total === 7) assert.equal(d.overloaded, false);
  }
});

test("control plane errors as the kernel returns them", () => {
  const { e, w } = newEngine();
  assert.equal(e.addService(svcSpec(KEY, "nope")), "ENOENT");
  assert.ok(w.logs.includes("IPVS: Scheduler module ip_vs_nope not found"));
  assert.equal(e.addService(svcSpec(KEY, "wlc")), undefined);
  assert.equal(e.addService(svcSpec(KEY, "wlc")), "EEXIST");
  assert.equal(e.editService(svcSpec(tcpKey("1.2.3.4", 80), "wlc")), "ESRCH");
  assert.equal(e.delService(tcpKey("1.2.3.4", 80)), "ESRCH");
  assert.equal(e.zero(tcpKey("1.2.3.4", 80)), "ESRCH");
  assert.equal(e.addDest(tcpKey("1.2.3.4", 80), destSpec("192.168.1.185", 80)), "ESRCH");
  assert.equal(e.addDest(KEY, destSpec("192.168.1.185", 80, { weight: -1 })), "ERANGE");
  assert.ok(w.logs.includes("IPVS: ip_vs_add_dest(): server weight less than zero"));
  assert.equal(e.addDest(KEY, destSpec("192.168.1.185", 80, { lThreshold: 5 })), "ERANGE");
  assert.equal(e.addDest(KEY, destSpec("224.0.0.1", 80)), "EINVAL");
  assert.equal(e.addDest(KEY, destSpec("0.0.0.0", 80)), "EINVAL");
  assert.equal(e.addDest(KEY, destSpec("255.255.255.255", 80)), "EINVAL");
  assert.equal(e.addDest(KEY, destSpec("192.168.1.185", 80, { tunType: "gue", fwd: FwdMethod.Tunnel })), "EINVAL");
  assert.equal(e.addDest(KEY, destSpec("192.168.1.185", 80)), undefined);
  assert.equal(e.addDest(KEY, destSpec("192.168.1.185", 80)), "EEXIST");
  assert.equal(e.editDest(KEY, destSpec("192.168.1.186", 80)), "ENOENT");
  assert.equal(e.delDest(KEY, ip("192.168.1.186"), 80), "ENOENT");
  assert.equal(e.setTimeouts({ tcp: -1, tcpfin: 0, udp: 0 }), "EINVAL");
  assert.equal(e.setSysctl("secure_tcp", "4"), "EINVAL");
  assert.equal(e.setSysctl("secure_tcp", "x"), "EINVAL");
  assert.equal(e.setSysctl("secure_tcp", "2"), undefined);
  assert.equal(e.getSysctl("secure_tcp"), "1");
  assert.equal(e.getSysctl("nope"), undefined);
  assert.equal(e.getSysctl("snat_reroute"), "1");
  assert.equal(e.getSysctl("lblc_expiration"), undefined, "module not loaded yet");
  assert.equal(e.startDaemon({ state: "master", mcastIfn: "eth0", syncId: 0, maxLen: 0, group: 0, port: 0, ttl: 0 }), undefined);
  assert.equal(e.startDaemon({ state: "master", mcastIfn: "eth0", syncId: 0, maxLen: 0, group: 0, port: 0, ttl: 0 }), "EEXIST");
  assert.equal(e.stopDaemon("backup"), "ESRCH");
  assert.equal(e.stopDaemon("master"), undefined);
});

test("trash: a deleted dest is resurrected with its counters", () => {
  const { e, w } = natLab("rr");
  e.localIn(syn(), CTX);
  e.delDest(KEY, ip("192.168.1.190"), 80);
  assert.equal(e.service(KEY)!.dests.length, 1);
  e.addDest(KEY, destSpec("192.168.1.190", 80, { weight: 3 }));
  let d = e.service(KEY)!.dests[0]!;
  assert.equal(d.addr, ip("192.168.1.190"), "at the head");
  assert.equal(d.stats.conns, 0, "counters are summed at the estimator's next tick");
  w.t = 2 * SEC;
  d = e.service(KEY)!.dests[0]!;
  assert.equal(d.stats.conns, 1);
  assert.equal(d.activeConns, 1);
  assert.equal(d.weight, 3);
});

test("zero and rates: estimator every 2 s", () => {
  const { e, w } = natLab("rr");
  for (let i = 0; i < 20; i++) e.localIn(syn(30000 + i), CTX);
  w.t = 2 * SEC;
  e.poll(w.t);
  const r = e.totals().rates;
  assert.equal(r.cps, 2, "20 conns in 2 s, 1/4 of the way: (20<<9)/4 -> 2560 -> (2560+511)>>10 = 2");
  assert.equal(e.zero(), undefined);
  assert.deepEqual(e.totals().stats, { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 });
  assert.equal(e.service(KEY)!.dests[0]!.activeConns + e.service(KEY)!.dests[1]!.activeConns, 20, "-Z keeps ActiveConn");
});

test("procfs renders the kernel formats", () => {
  const { e, w } = natLab("wlc");
  e.localIn(syn(), CTX);
  assert.equal(renderIpVs(e), [
    "IP Virtual Server version 1.2.1 (size=4096)",
    "Prot LocalAddress:Port Scheduler Flags",
    "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn",
    "TCP  C0A84B83:0050 wlc  ",
    "  -> C0A801BE:0050      Masq    1      1          0         ",
    "  -> C0A801B9:0050      Masq    1      0          0         ",
    "",
  ].join("\n"));
  assert.equal(renderIpVsConn(e), [
    "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData",
    "TCP C0A84B01 9C40 C0A84B83 0050 C0A801BE 0050 SYN_RECV         60",
    "",
  ].join("\n"));
  const stats = (conns: number, bytes: string, bps: string) =>
    "   Total Incoming Outgoing         Incoming         Outgoing\n   Conns  Packets  Packets            Bytes            Bytes\n" +
    `       ${conns}        ${conns}        0 ${bytes.padStart(16)}                0\n\n` +
    " Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n" +
    `       0        0        0 ${bps.padStart(16)}                0\n`;
  assert.equal(renderIpVsStats(e), stats(0, "0", "0"), "counters are summed at the estimator's tick");
  w.t = 2 * SEC;
  assert.equal(renderIpVsStats(e), stats(1, "28", "5"), "40 bytes: (40<<4)>>2 = 160, (160+15)>>5 = 5");
});

test("ICMP errors about NAT flows are translated both ways", () => {
  const { e } = natLab("rr");
  e.localIn(syn(), CTX); // CIP:40000 -> VIP:80 goes to .190
  // The real server says "port unreachable" about the client's packet (CIP -> RIP).
  const quoted = buildTcpPacket({ src: CIP, dst: "192.168.1.190", sport: 40000, dport: 80, flags: "S" });
  const fromRs = buildIcmpPacket({ src: "192.168.1.190", dst: CIP, type: 3, code: 3, payload: quoted.subarray(0, 28) });
  const v = e.forward(fromRs, CTX);
  assert.equal(v.action, "accept");
  const p = outPkt(v);
  const outer = parseIpv4(p);
  assert.ok(outer.ok && ipv4ChecksumOk(p));
  assert.equal(outer.value.header.src, ip(VIP));
  const m = parseIcmp(outer.value.payload);
  assert.ok(m.ok, "ICMP checksum");
  const inner = parseIpv4(m.value.payload, { verifyChecksum: true });
  assert.ok(!inner.ok || inner.value.header.dst === ip(VIP));
  assert.equal(ipv4ChecksumOk(m.value.payload), true);
  assert.deepEqual([...m.value.payload.subarray(16, 20)], [192, 168, 75, 131]);
  assert.equal((m.value.payload[22]! << 8) | m.value.payload[23]!, 80);
  // The client says "time exceeded" about a reply it got from VIP:80.
  const reply = buildTcpPacket({ src: VIP, dst: CIP, sport: 80, dport: 40000, flags: "S." });
  const fromClient = buildIcmpPacket({ src: CIP, dst: VIP, type: 11, code: 0, payload: reply.subarray(0, 28) });
  const v2 = e.localIn(fromClient, CTX);
  assert.equal(v2.action, "stolen");
  const p2 = outPkt(v2);
  const o2 = parseIpv4(p2);
  assert.ok(o2.ok);
  assert.equal(o2.value.header.dst, ip("192.168.1.190"));
  const m2 = parseIcmp(o2.value.payload);
  assert.ok(m2.ok);
  assert.deepEqual([...m2.value.payload.subarray(12, 16)], [192, 168, 1, 190]);
});
