/**
 * FullNAT, TOA and the ipvsadm local-address extension (lvslab extensions after Alibaba's
 * LVS-FullNAT and DPVS): the engine's packets byte by byte, local port allocation and
 * exhaustion, the real server's view of the peer with and without the toa module, and the
 * ipvsadm commands, listings and errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildTcpPacket, buildUdpPacket, hex } from "../src/wire/testing.js";
import {
  formatIp4, ipv4ChecksumOk, parseIcmp, parseIpv4, parseTcp, parseUdp, tcpChecksumOk, udpChecksumOk, type TcpSegment,
} from "../src/wire/index.js";
import { FwdMethod, type Verdict } from "../src/ipvs/api.js";
import { IpvsEngine } from "../src/ipvs/engine.js";
import { destSpec, ip, newEngine, SEC, svcSpec, tcpKey } from "../src/ipvs/test_util.js";
import { makeIpvsadm } from "../src/tools/ipvsadm/index.js";
import { fakeCtx } from "../src/tools/ipvsadm/fake-control.test-helper.js";
import { runLabFile } from "./helpers.js";

const VIP = "192.168.75.131";
const CIP = "192.168.75.150";
const LIP = "192.168.1.200";
const RIP = "192.168.1.185";
const KEY = tcpKey(VIP, 80);
const CTX = { inIf: "eth1", fwmark: 0 };
const LINUX_SYN_OPTS = "mss 1460,sackOK,TS val 2392243940 ecr 0,nop,wscale 7";

function fullnat(rips = [RIP]): { e: IpvsEngine; w: ReturnType<typeof newEngine>["w"] } {
  const { e, w } = newEngine({}, [VIP, "192.168.1.186", LIP]);
  assert.equal(e.addService(svcSpec(KEY, "rr")), undefined);
  for (const r of rips) assert.equal(e.addDest(KEY, destSpec(r, 80, { fwd: FwdMethod.FullNat })), undefined);
  assert.equal(e.addLaddr(KEY, ip(LIP)), undefined);
  return { e, w };
}

function sent(v: Verdict): Uint8Array {
  if (v.action !== "stolen") assert.fail(`expected the packet to be forwarded, got ${v.action}${v.action === "drop" ? ` (${v.reason})` : ""}`);
  assert.equal(v.out.length, 1);
  return v.out[0]!.packet;
}

function tcpOf(pkt: Uint8Array): { src: string; dst: string; seg: TcpSegment; ttl: number } {
  const p = parseIpv4(pkt);
  assert.ok(p.ok, "a valid IPv4 packet");
  assert.ok(ipv4ChecksumOk(pkt), "IPv4 header checksum");
  assert.ok(tcpChecksumOk(p.value.payload, p.value.header.src, p.value.header.dst), "TCP checksum");
  const t = parseTcp(p.value.payload);
  assert.ok(t.ok);
  return { src: formatIp4(p.value.header.src), dst: formatIp4(p.value.header.dst), seg: t.value, ttl: p.value.header.ttl };
}

test("FullNAT: the client's SYN leaves from the local address with TOA first, timestamps as NOPs, its own ISN", () => {
  const { e } = fullnat();
  const syn = buildTcpPacket({ src: CIP, dst: VIP, sport: 50182, dport: 80, flags: "S", seq: 1000, options: LINUX_SYN_OPTS });
  const v = e.localIn(syn, CTX);
  const out = sent(v);
  const t = tcpOf(out);
  assert.equal(`${t.src}.${t.seg.srcPort} > ${t.dst}.${t.seg.dstPort}`, `${LIP}.5001 > ${RIP}.80`);
  // 20 bytes of IP, 20 of TCP, then TOA (fe 08, port 50182 = c406, 192.168.75.150 = c0a8 4b96),
  // then the client's options with the 10-byte Timestamps option overwritten by NOPs.
  assert.equal(out.length, 20 + 20 + 8 + 20);
  assert.equal(hex(out.subarray(40, 48), ""), "fe08c406c0a84b96");
  assert.equal(hex(out.subarray(48, 68), ""), "020405b4" + "0402" + "01".repeat(10) + "01" + "030307");
  assert.equal(out[32]! >> 4, 12, "data offset 48 bytes");
  assert.equal((out[2]! << 8) | out[3]!, 68, "IP total length grew by 8");
  assert.deepEqual(t.seg.options[0], { kind: "toa", port: 50182, addr: ip(CIP) });
  assert.notEqual(t.seg.seq, 1000, "the director's own ISN towards the real server");
  assert.equal(t.ttl, 64, "Alibaba's FullNAT transmitter leaves the TTL alone");
  assert.equal(e.fnatStats.toaOk, 1);
  const note = v.action === "stolen" ? v.out[0]!.note ?? "" : "";
  assert.match(note, /^rr chose 192\.168\.1\.185:80, local address 192\.168\.1\.200:5001; FullNAT 192\.168\.75\.150:50182 -> 192\.168\.75\.131:80 becomes 192\.168\.1\.200:5001 -> 192\.168\.1\.185:80; TCP timestamps replaced by NOPs; TOA 192\.168\.75\.150:50182 inserted/);
});

test("FullNAT: a whole handshake both ways — MSS lowered by 8, sequence numbers mapped, TOA on the completing ACK only", () => {
  const { e } = fullnat();
  const cseq = 3564922219;
  const syn = tcpOf(sent(e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 50172, dport: 80, flags: "S", seq: cseq, options: LINUX_SYN_OPTS }), CTX)));
  const delta = (syn.seg.seq - cseq) >>> 0;
  const rseq = 2407288460;
  // The real server answers the local address (no TS: the SYN carried none).
  const synack = buildTcpPacket({
    src: RIP, dst: LIP, sport: 80, dport: 5001, flags: "S.", seq: rseq, ack: (syn.seg.seq + 1) >>> 0,
    options: "mss 1460,nop,nop,sackOK,nop,wscale 7",
  });
  const v = e.localIn(synack, { inIf: "eth0", fwmark: 0 });
  const back = tcpOf(sent(v));
  assert.equal(`${back.src}.${back.seg.srcPort} > ${back.dst}.${back.seg.dstPort}`, `${VIP}.80 > ${CIP}.50172`);
  assert.equal(back.seg.ack, (cseq + 1) >>> 0, "ack back in the client's numbering");
  assert.equal(back.seg.seq, rseq, "the server's numbering is not touched");
  assert.deepEqual(back.seg.options[0], { kind: "mss", value: 1452 });
  assert.match(v.action === "stolen" ? v.out[0]!.note ?? "" : "", /MSS 1460 lowered to 1452 \(room for TOA\)/);

  const rows: { desc: string; flags: string; seq: number; ack: number; payload?: string; toa: boolean }[] = [
    { desc: "the ACK completing the handshake", flags: ".", seq: cseq + 1, ack: rseq + 1, toa: true },
    { desc: "the request sent before any server data", flags: "P.", seq: cseq + 1, ack: rseq + 1, payload: "GET / HTTP/1.1\r\n\r\n", toa: true },
    { desc: "an ACK of server data", flags: ".", seq: cseq + 19, ack: rseq + 256, toa: false },
    { desc: "a FIN", flags: "F.", seq: cseq + 19, ack: rseq + 1, toa: false },
  ];
  for (const r of rows) {
    const p = tcpOf(sent(e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 50172, dport: 80, flags: r.flags, seq: r.seq >>> 0, ack: r.ack >>> 0, payload: r.payload }), CTX)));
    assert.equal(p.seg.seq, (r.seq + delta) >>> 0, `${r.desc}: seq + delta`);
    assert.equal(p.seg.ack, r.ack >>> 0, `${r.desc}: ack untouched`);
    assert.equal(p.seg.options.some((o) => o.kind === "toa"), r.toa, `${r.desc}: TOA ${r.toa ? "" : "not "}inserted`);
  }
  // A SACK block from the real server is mapped back too.
  const sack = tcpOf(sent(e.localIn(buildTcpPacket({
    src: RIP, dst: LIP, sport: 80, dport: 5001, flags: ".", seq: rseq + 1, ack: (cseq + 1 + delta) >>> 0,
    options: `nop,nop,sack {${(cseq + 100 + delta) >>> 0}:${(cseq + 200 + delta) >>> 0}}`,
  }), { inIf: "eth0", fwmark: 0 })));
  assert.deepEqual(sack.seg.options.find((o) => o.kind === "sack"), { kind: "sack", blocks: [[(cseq + 100) >>> 0, (cseq + 200) >>> 0]] });
});

test("FullNAT: no TOA when the TCP header has no 8 bytes left, counted, the packet still forwarded", () => {
  const { e } = fullnat();
  // 40 bytes of options (the maximum): mss, sackOK, TS (kept: 10 NOPs), wscale, and padding NOPs.
  const full = "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop";
  const syn = buildTcpPacket({ src: CIP, dst: VIP, sport: 40000, dport: 80, flags: "S", seq: 1, options: full });
  const v = e.localIn(syn, CTX);
  const out = tcpOf(sent(v));
  assert.equal(out.seg.headerLength, 60);
  assert.ok(!out.seg.options.some((o) => o.kind === "toa"));
  assert.equal(e.fnatStats.toaHeadFull, 1);
  assert.equal(e.fnatStats.toaOk, 0);
  assert.match(v.action === "stolen" ? v.out[0]!.note ?? "" : "", /no TOA: the TCP header has no 8 bytes of option space left/);
});

test("FullNAT: with fullnat_toa_entry=0 only the SYN carries TOA (what the Alibaba RS module then misses)", () => {
  const { e } = fullnat();
  assert.equal(e.setSysctl("fullnat_toa_entry", "0"), undefined);
  const syn = tcpOf(sent(e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 40001, dport: 80, flags: "S", seq: 5, options: LINUX_SYN_OPTS }), CTX)));
  assert.ok(syn.seg.options.some((o) => o.kind === "toa"));
  sent(e.localIn(buildTcpPacket({ src: RIP, dst: LIP, sport: 80, dport: 5001, flags: "S.", seq: 77, ack: (syn.seg.seq + 1) >>> 0, options: "mss 1460" }), { inIf: "eth0", fwmark: 0 }));
  const ack = tcpOf(sent(e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 40001, dport: 80, flags: ".", seq: 6, ack: 78 }), CTX)));
  assert.ok(!ack.seg.options.some((o) => o.kind === "toa"));
});

test("FullNAT: local ports run out per real server; new connections then fail with ICMP and a log line", () => {
  const { e, w } = fullnat([RIP, "192.168.1.190"]);
  assert.equal(e.setSysctl("fullnat_lport_min", "65534"), undefined);
  assert.equal(e.setSysctl("fullnat_lport_max", "65535"), undefined);
  assert.equal(e.setSysctl("fullnat_lport_tries", "10"), undefined);
  assert.equal(e.setSysctl("fullnat_lport_tries", "9"), "EINVAL", "Alibaba's range for lport_tries is 10..60000");
  const open = (sport: number): Verdict => e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport, dport: 80, flags: "S", seq: 9 }), CTX);
  // rr: .190, .185, .190, .185. One counter per local address: 65535, 65534, (65535 taken
  // towards .190: a conflict) 65534, 65535 — two ports towards each real server.
  const got: string[] = [];
  for (let p = 41000; p < 41004; p++) {
    const t = tcpOf(sent(open(p)));
    got.push(`${t.src}:${t.seg.srcPort} > ${t.dst}`);
  }
  assert.deepEqual(got, [
    "192.168.1.200:65535 > 192.168.1.190", "192.168.1.200:65534 > 192.168.1.185",
    "192.168.1.200:65534 > 192.168.1.190", "192.168.1.200:65535 > 192.168.1.185",
  ]);
  const v = open(41004);
  assert.equal(v.action, "drop");
  assert.equal(v.action === "drop" && v.reason, "ipvs-fullnat-no-local-port");
  const icmp = v.action === "drop" ? v.out?.[0] : undefined;
  assert.ok(icmp);
  const ip4 = parseIpv4(icmp.packet);
  assert.ok(ip4.ok && formatIp4(ip4.value.header.dst) === CIP);
  const m = parseIcmp(ip4.ok ? ip4.value.payload : new Uint8Array());
  assert.ok(m.ok && m.value.type === 3 && m.value.code === 3, "ICMP port unreachable");
  assert.match(icmp.note ?? "", /^FullNAT: no connection created: every local port of 192\.168\.1\.200 \(65534-65535\) towards that real server is taken/);
  assert.ok(w.logs.includes("IPVS: bind local address: no port available"));
  assert.equal(e.fnatStats.noLocalPort, 1);
  const l = e.laddrs(KEY);
  assert.ok(Array.isArray(l));
  assert.deepEqual(l.map((x) => [formatIp4(x.addr), x.connCounts, x.portConflict]), [[LIP, 4, 1 + 10]]);
  // The failed connection left no entry (and was not counted: see after the next tick).
  assert.equal(e.conns().length, 4);
  assert.deepEqual(e.service(KEY)!.dests.map((d) => d.activeConns + d.inactConns), [2, 2]);
  // Entries in SYN_RECV expire after 60 s and give their ports back.
  w.t += 61 * SEC;
  e.poll(w.t); // the host polls the engine before each packet
  assert.equal(e.conns().length, 0);
  assert.equal(e.totals().stats.conns, 4, "counted at the estimator's 2 s ticks");
  const t = tcpOf(sent(open(41005)));
  assert.equal(t.src, LIP);
  const after = e.laddrs(KEY);
  assert.ok(Array.isArray(after));
  assert.equal(after[0]!.connCounts, 1);
});

test("FullNAT: a service without a local address cannot connect", () => {
  const { e, w } = newEngine({}, [VIP]);
  e.addService(svcSpec(KEY, "rr"));
  e.addDest(KEY, destSpec(RIP, 80, { fwd: FwdMethod.FullNat }));
  const v = e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 1234, dport: 80, flags: "S" }), CTX);
  assert.equal(v.action === "drop" && v.reason, "ipvs-fullnat-no-local-port");
  assert.match(v.action === "drop" ? v.out?.[0]?.note ?? "" : "", /TCP 192\.168\.75\.131:80 has no local address \(ipvsadm --add-laddr\)/);
  assert.deepEqual(w.logs.slice(-1), ["IPVS: bind local address: no port available"]);
});

test("FullNAT: local addresses are used round robin, each with its own port counter", () => {
  const { e } = fullnat();
  assert.equal(e.addLaddr(KEY, ip("192.168.1.201")), undefined);
  const src: string[] = [];
  for (let p = 0; p < 4; p++) {
    const t = tcpOf(sent(e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 42000 + p, dport: 80, flags: "S" }), CTX)));
    src.push(`${t.src}:${t.seg.srcPort}`);
  }
  assert.deepEqual(src, ["192.168.1.200:5001", "192.168.1.201:5001", "192.168.1.200:5002", "192.168.1.201:5002"]);
});

// ---- ipvsadm ----------------------------------------------------------------------------------

async function ipvsadm(e: IpvsEngine, line: string, stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const argv = line.split(" ").filter((x) => x !== "");
  const t = fakeCtx(argv, stdin);
  const code = await makeIpvsadm(() => e)(t.ctx);
  return { code, out: t.out(), err: t.err() };
}

test("ipvsadm: --fullnat servers, --add-laddr/--del-laddr/--get-laddr local addresses, listings and -S", async () => {
  const { e } = newEngine({}, [VIP]);
  for (const line of [
    "ipvsadm -A -t 192.168.75.131:80 -s wrr",
    "ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.185:80 --fullnat -w 1",
    "ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.190 --fullnat -w 2",
    "ipvsadm --add-laddr -t 192.168.75.131:80 -z 192.168.1.200",
    "ipvsadm --add-laddr -t 192.168.75.131:80 --laddr 192.168.1.201",
    "ipvsadm -A -t 192.168.75.131:443 -s rr -b flag-1",
  ]) assert.deepEqual(await ipvsadm(e, line), { code: 0, out: "", err: "" }, line);
  const ln = await ipvsadm(e, "ipvsadm -L -n");
  assert.equal(ln.out,
    "IP Virtual Server version 1.2.1 (size=4096)\n" +
    "Prot LocalAddress:Port Scheduler Flags\n" +
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
    "TCP  192.168.75.131:80 wrr\n" +
    "  -> 192.168.1.185:80             FullNat 1      0          0         \n" +
    "  -> 192.168.1.190:80             FullNat 2      0          0         \n" +
    "TCP  192.168.75.131:443 rr (flag-1)\n");
  assert.equal((await ipvsadm(e, "ipvsadm --get-laddr -t 192.168.75.131:80")).out,
    "VIP:VPORT            TOTAL    LADDR                CONFLICTS  CONNS     \n" +
    "192.168.75.131:80    2        \n" +
    "                              192.168.1.200        0          0         \n" +
    "                              192.168.1.201        0          0         \n");
  const all = await ipvsadm(e, "ipvsadm --get-laddr");
  assert.match(all.out, /^VIP:VPORT {12}TOTAL/);
  assert.equal(all.out.split("VIP:VPORT").length, 2, "one title for every service");
  assert.match(all.out, /\n192\.168\.75\.131:443   0        \n/);
  const save = await ipvsadm(e, "ipvsadm -S -n");
  assert.equal(save.out,
    "-A -t 192.168.75.131:80 -s wrr\n" +
    "-a -t 192.168.75.131:80 -r 192.168.1.185:80 --fullnat -w 1\n" +
    "-a -t 192.168.75.131:80 -r 192.168.1.190:80 --fullnat -w 2\n" +
    "--add-laddr -t 192.168.75.131:80 -z 192.168.1.200\n" +
    "--add-laddr -t 192.168.75.131:80 -z 192.168.1.201\n" +
    "-A -t 192.168.75.131:443 -s rr -b flag-1\n");
  // -R of the saved rules rebuilds the same table, local addresses included.
  const { e: e2 } = newEngine({}, [VIP]);
  assert.equal((await ipvsadm(e2, "ipvsadm -R", save.out)).code, 0);
  assert.equal((await ipvsadm(e2, "ipvsadm -S -n")).out, save.out);
  // --del-laddr deletes; the FullNAT sysctls appeared with the first local address.
  assert.deepEqual(await ipvsadm(e, "ipvsadm --del-laddr -t 192.168.75.131:80 -z 192.168.1.200"), { code: 0, out: "", err: "" });
  assert.match((await ipvsadm(e, "ipvsadm --get-laddr -t 192.168.75.131:80")).out, /192\.168\.75\.131:80    1        \n {30}192\.168\.1\.201 /);
  assert.ok(e.sysctlNames().includes("fullnat_toa_entry"));
  assert.ok(!newEngine().e.sysctlNames().includes("fullnat_toa_entry"), "no FullNAT knobs before FullNAT is used");
});

test("ipvsadm: errors of the local-address commands, in the style (and texts) of Alibaba's ipvsadm", async () => {
  const { e } = newEngine({}, [VIP]);
  await ipvsadm(e, "ipvsadm -A -t 192.168.75.131:80 -s rr");
  await ipvsadm(e, "ipvsadm --add-laddr -t 192.168.75.131:80 -z 192.168.1.200");
  const cases: [string, number, string][] = [
    ["ipvsadm --add-laddr -t 192.168.75.131:80 -z 192.168.1.200", 255, "Local address already exists\n"],
    ["ipvsadm --del-laddr -t 192.168.75.131:80 -z 192.168.1.9", 255, "No such Local address\n"],
    ["ipvsadm --add-laddr -t 192.168.75.131:81 -z 192.168.1.9", 255, "Service not defined\n"],
    ["ipvsadm --del-laddr -t 192.168.75.131:81 -z 192.168.1.9", 255, "Service not defined\n"],
    ["ipvsadm --get-laddr -t 192.168.75.131:81", 255, "No such service\n"],
    ["ipvsadm --add-laddr -t 192.168.75.131:80", 2, "You need to supply the 'local-address' option for the 'add-laddr' command\n"],
    ["ipvsadm --add-laddr -z 192.168.1.9", 2, "You need to supply the 'service-address' option for the 'add-laddr' command\n"],
    ["ipvsadm --get-laddr -t 192.168.75.131:80 -z 192.168.1.9", 2, "Illegal 'local-address' option with the 'get-laddr' command\n"],
    ["ipvsadm --add-laddr -t 192.168.75.131:80 -z 12345", 2, "illegal local address\n"],
    ["ipvsadm --add-laddr -t 192.168.75.131:80 -z nosuchhost", 2, "illegal local address\n"],
    ["ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.185 --fullnat -z 192.168.1.9", 2, "Illegal 'local-address' option with the 'add-server' command\n"],
    ["ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.185 --fullnat -m", 2, "multiple 'forwarding-method' options specified\n"],
  ];
  for (const [line, code, err] of cases) {
    const r = await ipvsadm(e, line);
    assert.deepEqual([r.code, r.err, r.out], [code, err, ""], line);
  }
  // 1.31's -b is still --sched-flags, not FullNAT.
  const b = await ipvsadm(e, "ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.185 -b");
  assert.equal(b.code, 255);
  assert.match(b.err, /^-b: missing argument\n?/);
});

// ---- the labs ---------------------------------------------------------------------------------

test("lvs-fullnat lab: both addresses rewritten on each side, the real servers log the local address (or the PROXY protocol's)", async () => {
  const { lab, report, transcript } = await runLabFile("labs/lvs-fullnat.yaml");
  assert.ok(report.ok, JSON.stringify(report.steps.filter((s) => !s.ok)));
  const rs1 = lab.hosts.get("real_server1")!;
  const log = new TextDecoder().decode(rs1.fs.read("/var/log/nginx/access.log") as Uint8Array);
  assert.equal(log,
    `${LIP} - - [24/Nov/2026:00:58:01 +0000] "GET / HTTP/1.1" 200 20 "-" "curl/7.88.1"\n` +
    // port 8080: listen ... proxy_protocol, with $proxy_protocol_addr first in its log_format
    `${CIP} - - [24/Nov/2026:00:58:03 +0000] "GET / HTTP/1.1" 200 20 "-" "curl/7.88.1" via ${LIP}\n` +
    // port 8081: the director wrote the header (DPVS --proxy-protocol v2), curl knew nothing
    `${CIP}:45880 - [24/Nov/2026:00:58:05 +0000] "GET / HTTP/1.1" 200 via ${LIP}:5001\n`);
  // The director's inside capture never shows the client, the outside one never the inside.
  assert.match(transcript, /IP 192\.168\.1\.200\.5002 > 192\.168\.1\.185\.80: Flags \[S\], seq \d+, win 64240, options \[exp-c406,mss 1460,sackOK,(nop,){11}wscale 7\], length 0/);
  assert.match(transcript, /IP 192\.168\.75\.131\.80 > 192\.168\.75\.150\.50182: Flags \[S\.\], seq \d+, ack \d+, win 64240, options \[mss 1452,nop,nop,sackOK,nop,wscale 7\], length 0/);
});

test("lvs-fullnat-toa lab: getpeername() gives the client with the toa module and the local address without it", async () => {
  const { lab, report } = await runLabFile("labs/lvs-fullnat-toa.yaml");
  assert.ok(report.ok, JSON.stringify(report.steps.filter((s) => !s.ok)));
  const text = (h: string, p: string) => new TextDecoder().decode(lab.hosts.get(h)!.fs.read(p) as Uint8Array);
  assert.match(text("real_server1", "/var/log/nginx/access.log"), /^192\.168\.75\.150 - - /);
  const rs2 = text("real_server2", "/var/log/nginx/access.log").trim().split("\n");
  assert.equal(rs2.length, 2);
  for (const l of rs2) assert.match(l, /^192\.168\.1\.200 - - /);
  const rs1 = lab.hosts.get("real_server1")!;
  assert.equal(rs1.tcp.toaStats.syn_recv_sock_toa, 1);
  assert.ok(rs1.dmesg.some((l) => l.endsWith("TOA: toa loaded")));
  assert.equal(lab.hosts.get("real_server2")!.tcp.toaStats.syn_recv_sock_toa, 0, "the option came, but nobody looked");
});

// ---- PROXY protocol written by the director (DPVS --proxy-protocol) -----------------------------

test("FullNAT with --proxy-protocol v2: the header in front of the first data, seq shifted, no TOA, retransmission safe", () => {
  const { e } = newEngine({}, [VIP, LIP]);
  assert.equal(e.addService({ ...svcSpec(KEY, "rr"), proxyProtocol: 2 }), undefined);
  e.addDest(KEY, destSpec(RIP, 80, { fwd: FwdMethod.FullNat }));
  e.addLaddr(KEY, ip(LIP));
  const cseq = 1000;
  const syn = tcpOf(sent(e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 50182, dport: 80, flags: "S", seq: cseq, options: LINUX_SYN_OPTS }), CTX)));
  assert.ok(!syn.seg.options.some((o) => o.kind === "toa"), "PROXY protocol instead of TOA");
  const isn = syn.seg.seq;
  const rseq = 5000;
  sent(e.localIn(buildTcpPacket({ src: RIP, dst: LIP, sport: 80, dport: 5001, flags: "S.", seq: rseq, ack: isn + 1, options: "mss 1460" }), { inIf: "eth0", fwmark: 0 }));
  const inb = (flags: string, seq: number, ack: number, payload?: string) =>
    e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 50182, dport: 80, flags, seq, ack, payload }), CTX);
  // The pure ACK of the handshake passes untouched (no header in a segment without data).
  const ack = tcpOf(sent(inb(".", cseq + 1, rseq + 1)));
  assert.equal(ack.seg.payload.length, 0);
  assert.equal(ack.seg.seq, isn + 1);
  // The request: 28 bytes of v2 header in front, at the segment's old place.
  const req = "GET / HTTP/1.1\r\n\r\n";
  const v = inb("P.", cseq + 1, rseq + 1, req);
  const first = tcpOf(sent(v));
  assert.equal(first.seg.seq, isn + 1);
  assert.equal(first.seg.payload.length, 28 + req.length);
  assert.equal(hex(first.seg.payload.subarray(0, 28), ""),
    "0d0a0d0a000d0a515549540a" + "2111000c" + "c0a84b96" + "c0a84b83" + "c406" + "0050");
  assert.match(v.action === "stolen" ? v.out[0]!.note ?? "" : "", /PROXY protocol v2 header \(28 bytes: client 192\.168\.75\.150:50182\) put in front of the client's first data, later sequence numbers shifted by 28/);
  assert.equal(e.fnatStats.ppInserted, 1);
  // A retransmission of that segment gets no second header and lands behind the first one.
  const again = tcpOf(sent(inb("P.", cseq + 1, rseq + 1, req)));
  assert.equal(again.seg.payload.length, req.length);
  assert.equal(again.seg.seq, isn + 1 + 28);
  // The server acknowledges header + request; the client sees only its own bytes acked.
  const back = tcpOf(sent(e.localIn(buildTcpPacket({ src: RIP, dst: LIP, sport: 80, dport: 5001, flags: ".", seq: rseq + 1, ack: isn + 1 + 28 + req.length }), { inIf: "eth0", fwmark: 0 })));
  assert.equal(back.seg.ack, cseq + 1 + req.length);
  // Later data follows at +delta+28.
  const next = tcpOf(sent(inb("P.", cseq + 1 + req.length, rseq + 1, "x")));
  assert.equal(next.seg.seq, isn + 1 + 28 + req.length);
});

test("FullNAT with --proxy-protocol v1: a full-size first segment gets the header in a segment of its own", () => {
  const { e } = newEngine({}, [VIP, LIP]);
  e.addService({ ...svcSpec(KEY, "rr"), proxyProtocol: 1 });
  e.addDest(KEY, destSpec(RIP, 80, { fwd: FwdMethod.FullNat }));
  e.addLaddr(KEY, ip(LIP));
  const isn = tcpOf(sent(e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 40000, dport: 80, flags: "S", seq: 7 }), CTX))).seg.seq;
  sent(e.localIn(buildTcpPacket({ src: RIP, dst: LIP, sport: 80, dport: 5001, flags: "S.", seq: 1, ack: isn + 1 }), { inIf: "eth0", fwmark: 0 }));
  const big = "A".repeat(1460);
  const v = e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 40000, dport: 80, flags: "P.", seq: 8, ack: 2, payload: big }), CTX);
  assert.equal(v.action, "stolen");
  const out = v.action === "stolen" ? v.out : [];
  assert.equal(out.length, 2);
  const hdr = tcpOf(out[0]!.packet), data = tcpOf(out[1]!.packet);
  const line = "PROXY TCP4 192.168.75.150 192.168.75.131 40000 80\r\n";
  assert.equal(new TextDecoder().decode(hdr.seg.payload), line);
  assert.equal(hdr.seg.seq, isn + 1);
  assert.equal(data.seg.seq, isn + 1 + line.length);
  assert.equal(data.seg.payload.length, 1460);
  assert.equal(`${hdr.src}.${hdr.seg.srcPort} > ${hdr.dst}.${hdr.seg.dstPort}`, `${LIP}.5001 > ${RIP}.80`);
  assert.equal(e.fnatStats.ppStandalone, 1);
});

test("ipvsadm --proxy-protocol: listed as DPVS lists it, saved, and checked", async () => {
  const { e } = newEngine({}, [VIP]);
  assert.deepEqual(await ipvsadm(e, "ipvsadm -A -t 192.168.75.131:80 -s rr --proxy-protocol V2"), { code: 0, out: "", err: "" });
  assert.match((await ipvsadm(e, "ipvsadm -L -n")).out, /\nTCP  192\.168\.75\.131:80 rr ppv2\n/);
  assert.equal((await ipvsadm(e, "ipvsadm -S -n")).out, "-A -t 192.168.75.131:80 -s rr --proxy-protocol v2\n");
  assert.deepEqual(await ipvsadm(e, "ipvsadm -E -t 192.168.75.131:80 -s rr --proxy-protocol disable"), { code: 0, out: "", err: "" });
  assert.equal((await ipvsadm(e, "ipvsadm -S -n")).out, "-A -t 192.168.75.131:80 -s rr\n");
  assert.deepEqual(await ipvsadm(e, "ipvsadm -A -t 192.168.75.131:81 --proxy-protocol v3"),
    { code: 2, out: "", err: "invalid proxy-protocol `v3' specified (v1, v2 or disable)\n" });
  assert.deepEqual(await ipvsadm(e, "ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.185 --fullnat --proxy-protocol v1"),
    { code: 2, out: "", err: "Illegal 'proxy-protocol' option with the 'add-server' command\n" });
});

test("FullNAT: UDP both ways, and a deleted local address keeps serving its connections", () => {
  const { e } = newEngine({}, [VIP, LIP]);
  const ukey = { fwmark: 0 as const, protocol: 17, addr: ip(VIP), port: 53 };
  e.addService(svcSpec(ukey, "rr"));
  e.addDest(ukey, destSpec(RIP, 53, { fwd: FwdMethod.FullNat }));
  e.addLaddr(ukey, ip(LIP));
  const q = buildUdpPacket({ src: CIP, dst: VIP, sport: 33333, dport: 53, payload: "query" });
  const out = sent(e.localIn(q, CTX));
  const p = parseIpv4(out);
  assert.ok(p.ok && ipv4ChecksumOk(out));
  const u = parseUdp(p.value.payload);
  assert.ok(u.ok);
  assert.equal(`${formatIp4(p.value.header.src)}.${u.value.srcPort} > ${formatIp4(p.value.header.dst)}.${u.value.dstPort}`, `${LIP}.5001 > ${RIP}.53`);
  assert.equal(new TextDecoder().decode(u.value.payload), "query");
  assert.ok(udpChecksumOk(p.value.payload, p.value.header.src, p.value.header.dst));
  assert.equal(e.delLaddr(ukey, ip(LIP)), undefined);
  const answer = sent(e.localIn(buildUdpPacket({ src: RIP, dst: LIP, sport: 53, dport: 5001, payload: "answer" }), { inIf: "eth0", fwmark: 0 }));
  const a = parseIpv4(answer);
  assert.ok(a.ok);
  const au = parseUdp(a.value.payload);
  assert.ok(au.ok && udpChecksumOk(a.value.payload, a.value.header.src, a.value.header.dst));
  assert.equal(`${formatIp4(a.value.header.src)}.${au.value.srcPort} > ${formatIp4(a.value.header.dst)}.${au.value.dstPort}`, `${VIP}.53 > ${CIP}.33333`);
  // A new flow has no local address left.
  const v = e.localIn(buildUdpPacket({ src: CIP, dst: VIP, sport: 33334, dport: 53, payload: "q" }), CTX);
  assert.equal(v.action === "drop" && v.reason, "ipvs-fullnat-no-local-port");
});

test("FullNAT: the PROXY header's room is measured against the route to the real server, not a fixed 1500", () => {
  const first = (routeMtu: number | undefined): number => {
    const { e, w } = newEngine({}, [VIP, LIP]);
    (w as { routeMtu?: (dst: number) => number | undefined }).routeMtu = () => routeMtu;
    e.addService({ ...svcSpec(KEY, "rr"), proxyProtocol: 1 });
    e.addDest(KEY, destSpec(RIP, 80, { fwd: FwdMethod.FullNat }));
    e.addLaddr(KEY, ip(LIP));
    const isn = tcpOf(sent(e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 40000, dport: 80, flags: "S", seq: 7 }), CTX))).seg.seq;
    sent(e.localIn(buildTcpPacket({ src: RIP, dst: LIP, sport: 80, dport: 5001, flags: "S.", seq: 1, ack: isn + 1 }), { inIf: "eth0", fwmark: 0 }));
    // 1360 bytes of data: 1400 with the headers, so a 50-byte v1 header fits 1500 but not 1400.
    const v = e.localIn(buildTcpPacket({ src: CIP, dst: VIP, sport: 40000, dport: 80, flags: "P.", seq: 8, ack: 2, payload: "A".repeat(1360) }), CTX);
    assert.equal(v.action, "stolen");
    return v.action === "stolen" ? v.out.length : 0;
  };
  assert.equal(first(undefined), 1, "MTU 1500: the header rides in front of the data");
  assert.equal(first(1500), 1);
  assert.equal(first(1400), 2, "MTU 1400: the header goes in a segment of its own");
});
