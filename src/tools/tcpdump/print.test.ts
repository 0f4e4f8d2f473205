import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Printer, type PrintOptions, LINKTYPE_LINUX_SLL2 } from "./print.js";
import { extra, misc, tcp80, type Sample } from "./samples.test-helper.js";
import { toSll2 } from "./pcap.js";
import { buildArpFrame, buildFrame, buildTcpPacket } from "../../wire/testing.js";

function lines(samples: Sample[], opts: PrintOptions = { numeric: 2 }): string[] {
  const p = new Printer({ tz: "UTC", ...opts });
  return samples.map((s) => {
    const sec = Math.floor(s.usec / 1e6);
    return p.format({ sec, nsec: (s.usec - sec * 1e6) * 1000, data: s.frame, origLen: s.origLen ?? s.frame.length });
  }).join("").split("\n").slice(0, -1);
}

// capture.md §1.5, verified against tcpdump 4.99.3.
const TCP80_NN = `22:13:20.123456 IP 192.168.1.10.54321 > 10.0.0.100.80: Flags [S], seq 1000000000, win 64240, options [mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7], length 0
22:13:20.124456 IP 10.0.0.100.80 > 192.168.1.10.54321: Flags [S.], seq 3000000000, ack 1000000001, win 65160, options [mss 1460,sackOK,TS val 200 ecr 100,nop,wscale 7], length 0
22:13:20.125456 IP 192.168.1.10.54321 > 10.0.0.100.80: Flags [.], ack 1, win 502, options [nop,nop,TS val 101 ecr 200], length 0
22:13:20.126456 IP 192.168.1.10.54321 > 10.0.0.100.80: Flags [P.], seq 1:34, ack 1, win 502, options [nop,nop,TS val 102 ecr 200], length 33: HTTP: GET / HTTP/1.1
22:13:20.127456 IP 10.0.0.100.80 > 192.168.1.10.54321: Flags [.], ack 34, win 509, options [nop,nop,TS val 201 ecr 102], length 0
22:13:20.128456 IP 10.0.0.100.80 > 192.168.1.10.54321: Flags [P.], seq 1:41, ack 34, win 509, options [nop,nop,TS val 202 ecr 102], length 40: HTTP: HTTP/1.1 200 OK
22:13:20.129456 IP 192.168.1.10.54321 > 10.0.0.100.80: Flags [.], ack 41, win 501, options [nop,nop,TS val 103 ecr 202,nop,nop,sack 1 {100:200}], length 0
22:13:20.130456 IP 192.168.1.10.54321 > 10.0.0.100.80: Flags [F.], seq 34, ack 41, win 501, options [nop,nop,TS val 104 ecr 202], length 0
22:13:20.131456 IP 10.0.0.100.80 > 192.168.1.10.54321: Flags [F.], seq 41, ack 35, win 509, options [nop,nop,TS val 203 ecr 104], length 0
22:13:20.132456 IP 192.168.1.10.54321 > 10.0.0.100.80: Flags [.], ack 42, win 501, options [nop,nop,TS val 105 ecr 203], length 0
22:13:20.133456 IP 10.0.0.100.80 > 192.168.1.10.54321: Flags [R], seq 3000000042, win 0, length 0
22:13:20.134456 IP 10.0.0.100.80 > 192.168.1.10.54321: Flags [R.], seq 42, ack 35, win 0, length 0`.split("\n");

// capture.md §1.13.
const MISC_NN = `22:13:20.500000 ARP, Request who-has 192.168.1.1 tell 192.168.1.10, length 46
22:13:20.501000 ARP, Reply 192.168.1.1 is-at 02:00:00:00:00:03, length 46
22:13:20.502000 IP 192.168.1.10 > 10.0.0.100: ICMP echo request, id 4660, seq 1, length 40
22:13:20.503000 IP 10.0.0.100 > 192.168.1.10: ICMP echo reply, id 4660, seq 1, length 40
22:13:20.504000 IP 192.168.1.1 > 192.168.1.10: ICMP redirect 10.0.0.100 to host 192.168.1.254, length 36
22:13:20.505000 IP 192.168.1.1 > 192.168.1.10: ICMP redirect 10.0.0.100 to net 192.168.1.254, length 36
22:13:20.506000 IP 192.168.1.10.40000 > 10.0.0.100.5005: UDP, length 5
22:13:20.507000 IP 10.0.0.1 > 10.0.0.2: IP 192.168.1.10.54321 > 10.0.0.100.80: Flags [S], seq 1000000000, win 64240, options [mss 1460], length 0
22:13:20.508000 IP 10.0.0.1.5000 > 10.0.0.2.8080: Flags [S], seq 111, win 64240, options [mss 1460,exp-d431], length 0
22:13:20.509000 IP 10.0.0.1.5000 > 10.0.0.2.8080: Flags [.], ack 223, win 502, options [exp-d431], length 0
22:13:20.510000 IP 10.0.0.1.5001 > 10.0.0.2.9000: Flags [S], seq 5, win 1024, options [unknown-200 0x01020304,eol], length 0
22:13:20.511000 IP 10.0.0.1.5001 > 10.0.0.2.9000: Flags [P.], seq 6:18, ack 1, win 1024, length 12
22:13:20.512000 IP 10.0.0.1.5002 > 10.0.0.2.9000: Flags [SEW], seq 7, win 1024, length 0
22:13:20.513000 IP 10.0.0.1.5002 > 10.0.0.2.9000: Flags [none], win 1024, length 0
22:13:20.514000 IP 10.0.0.1.5002 > 10.0.0.2.9000: Flags [FSRP.UEW], seq 7:10, ack 9, win 1024, urg 3, length 3
22:13:20.515000 IP 10.0.0.1.5003 > 10.0.0.2.9000: Flags [S], seq 7, win 1024, length 0
22:13:20.516000 IP 10.0.0.100 > 192.168.1.10: ICMP 10.0.0.100 udp port 5005 unreachable, length 36
22:13:20.517000 IP 192.168.1.10.40001 > 10.0.0.100.5006: UDP, length 100
22:13:20.518000 IP 192.168.1.10 > 10.0.0.100: ip-proto-17
22:13:20.519000 IP 192.168.1.10.40000 > 10.0.0.100.5005: UDP, length 5`.split("\n");

test("tcp80 conversation with -nn: relative sequence numbers, options, HTTP suffixes", () => {
  assert.deepEqual(lines(tcp80()), TCP80_NN);
});

test("-n prints the same as -nn (one counter since tcpdump 3.9.8)", () => {
  assert.deepEqual(lines(tcp80(), { numeric: 1 }), TCP80_NN);
});

test("-S prints absolute numbers, SACK blocks included", () => {
  const l = lines(tcp80(), { numeric: 2, absoluteSeq: true });
  assert.match(l[2]!, /Flags \[\.\], ack 3000000001, win 502,/);
  assert.match(l[3]!, /Flags \[P\.\], seq 1000000001:1000000034, ack 3000000001,/);
  assert.match(l[6]!, /sack 1 \{3000000100:3000000200\}\], length 0$/);
  assert.match(l[11]!, /Flags \[R\.\], seq 3000000042, ack 1000000035, win 0, length 0$/);
});

test("one direction only: relative numbers start at 0 after the first ACK", () => {
  const l = lines(tcp80().filter((_, i) => [0, 2, 3, 7].includes(i)));
  assert.match(l[1]!, /Flags \[\.\], ack 3000000001, win 502/);
  assert.match(l[2]!, /Flags \[P\.\], seq 0:33, ack 1,/);
  assert.match(l[3]!, /Flags \[F\.\], seq 33, ack 41,/);
});

test("misc sample with -nn: ARP, ICMP, UDP, IP-in-IP, TOA, unknown options, flags, fragments, VLAN", () => {
  assert.deepEqual(lines(misc()), MISC_NN);
});

test("-v header rendering, checksums, and the datagram quoted by ICMP errors", () => {
  const l = lines(misc(), { numeric: 2, verbose: 1 });
  assert.equal(l[0], "22:13:20.500000 ARP, Ethernet (len 6), IPv4 (len 4), Request who-has 192.168.1.1 tell 192.168.1.10, length 46");
  assert.equal(l[2], "22:13:20.502000 IP (tos 0x0, ttl 64, id 256, offset 0, flags [DF], proto ICMP (1), length 60)");
  assert.equal(l[3], "    192.168.1.10 > 10.0.0.100: ICMP echo request, id 4660, seq 1, length 40");
  const redirect = l.indexOf("    192.168.1.1 > 192.168.1.10: ICMP redirect 10.0.0.100 to host 192.168.1.254, length 36");
  assert.ok(redirect > 0);
  assert.equal(l[redirect - 1], "22:13:20.504000 IP (tos 0x0, ttl 64, id 768, offset 0, flags [none], proto ICMP (1), length 56)");
  assert.equal(l[redirect + 1], "\tIP (tos 0x0, ttl 64, id 7, offset 0, flags [DF], proto UDP (17), length 33)");
  assert.equal(l[redirect + 2], "    192.168.1.10.40000 > 10.0.0.100.5005: UDP, length 5");
  const ipip = l.indexOf("22:13:20.507000 IP (tos 0x0, ttl 64, id 10, offset 0, flags [none], proto IPIP (4), length 64)");
  assert.ok(ipip > 0);
  assert.equal(l[ipip + 1], "    10.0.0.1 > 10.0.0.2: IP (tos 0x0, ttl 64, id 9, offset 0, flags [DF], proto TCP (6), length 44)");
  assert.equal(l[ipip + 2], "    192.168.1.10.54321 > 10.0.0.100.80: Flags [S], cksum 0xf702 (correct), seq 1000000000, win 64240, options [mss 1460], length 0");
  assert.ok(l.includes("22:13:20.517000 IP (tos 0x0, ttl 64, id 119, offset 0, flags [+], proto UDP (17), length 84)"));
  assert.ok(l.includes("22:13:20.518000 IP (tos 0x0, ttl 64, id 119, offset 64, flags [none], proto UDP (17), length 64)"));
  assert.ok(l.some((x) => /^ {4}10\.0\.0\.1\.5003 > 10\.0\.0\.2\.9000: Flags \[S\], cksum 0x[0-9a-f]{4} \(incorrect -> 0x[0-9a-f]{4}\), seq 7,/.test(x)));
});

test("-vv: forced seq on pure ACKs and UDP checksum verdicts", () => {
  const l = lines(tcp80(), { numeric: 2, verbose: 2 });
  assert.match(l[5]!, /Flags \[\.\], cksum 0x[0-9a-f]{4} \(correct\), seq 1, ack 1, win 502,/);
  const m = lines(misc(), { numeric: 2, verbose: 2 });
  assert.ok(m.includes("    192.168.1.10.40000 > 10.0.0.100.5005: [udp sum ok] UDP, length 5"));
});

test("-e: MACs, ethertype and frame length; no IP/ARP prefix; VLAN tag", () => {
  const l = lines(tcp80(), { numeric: 2, link: true });
  assert.equal(l[0], "22:13:20.123456 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 74: 192.168.1.10.54321 > 10.0.0.100.80: Flags [S], seq 1000000000, win 64240, options [mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7], length 0");
  const m = lines(misc(), { numeric: 2, link: true });
  assert.equal(m[0], "22:13:20.500000 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 60: Request who-has 192.168.1.1 tell 192.168.1.10, length 46");
  assert.equal(m[7], "22:13:20.507000 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 78: 10.0.0.1 > 10.0.0.2: 192.168.1.10.54321 > 10.0.0.100.80: Flags [S], seq 1000000000, win 64240, options [mss 1460], length 0");
  assert.equal(m[19], "22:13:20.519000 02:00:00:00:00:01 > 02:00:00:00:00:03, ethertype 802.1Q (0x8100), length 60: vlan 100, p 0, ethertype IPv4 (0x0800), 192.168.1.10.40000 > 10.0.0.100.5005: UDP, length 5");
});

test("-x dumps the IP layer (§1.16)", () => {
  const l = lines(tcp80().slice(0, 1), { numeric: 2, hex: 1 });
  assert.deepEqual(l.slice(1), [
    "\t0x0000:  4500 003c 0001 4000 4006 6ea5 c0a8 010a",
    "\t0x0010:  0a00 0064 d431 0050 3b9a ca00 0000 0000",
    "\t0x0020:  a002 faf0 a678 0000 0204 05b4 0402 080a",
    "\t0x0030:  0000 0064 0000 0000 0103 0307",
  ]);
  const x = lines(tcp80().slice(3, 4), { numeric: 2, hexAscii: 1 });
  assert.equal(x[6], "\t0x0050:  650d 0a0d 0a                             e....");
});

test("-q, -t/-tt/-ttt/-tttt/-ttttt and TZ", () => {
  assert.equal(lines(tcp80().slice(0, 1), { numeric: 2, quiet: 1 })[0], "22:13:20.123456 IP 192.168.1.10.54321 > 10.0.0.100.80: tcp 0");
  assert.match(lines(tcp80().slice(0, 1), { numeric: 2, tsFormat: 1 })[0]!, /^IP 192/);
  assert.match(lines(tcp80().slice(0, 1), { numeric: 2, tsFormat: 2 })[0]!, /^1700000000\.123456 IP/);
  const d = lines(tcp80().slice(0, 3), { numeric: 2, tsFormat: 3 });
  assert.deepEqual(d.map((x) => x.slice(0, 16)), [" 00:00:00.000000", " 00:00:00.001000", " 00:00:00.001000"]);
  const f = lines(tcp80().slice(0, 3), { numeric: 2, tsFormat: 5 });
  assert.deepEqual(f.map((x) => x.slice(0, 16)), [" 00:00:00.000000", " 00:00:00.001000", " 00:00:00.002000"]);
  assert.match(lines(tcp80().slice(0, 1), { numeric: 2, tsFormat: 4 })[0]!, /^2023-11-14 22:13:20\.123456 IP/);
  assert.match(lines(tcp80().slice(0, 1), { numeric: 2, tz: "Asia/Shanghai" })[0]!, /^06:13:20\.123456 IP/);
  assert.match(lines(tcp80().slice(0, 1), { numeric: 2, nano: true })[0]!, /^22:13:20\.123456000 IP/);
});

test("without -n: port and host names through the resolver hook, MAC annotations with -e", () => {
  const names = { host: (ip: number) => (ip === 0x0a000064 ? "web" : undefined), tcpPort: (p: number) => (p === 80 ? "http" : undefined) };
  const l = lines(tcp80().slice(0, 1), { names });
  assert.match(l[0]!, /IP 192\.168\.1\.10\.54321 > web\.http: Flags \[S\]/);
  const a = lines(misc().slice(0, 2), { link: true });
  assert.match(a[0]!, /^22:13:20\.500000 02:00:00:00:00:01 \(oui Unknown\) > Broadcast, ethertype ARP/);
  assert.match(a[1]!, /is-at 02:00:00:00:00:03 \(oui Unknown\), length 46$/);
});

test("the seed capture (director eth1): NAT lab lines, ARP without and with padding", () => {
  const cmac = "00:0c:29:5a:c3:3e", dmac = "00:0c:29:00:00:01";
  const c = { src: "192.168.75.150", sport: 53919, dst: "192.168.75.131", dport: 80 };
  const s = { src: "192.168.75.131", sport: 80, dst: "192.168.75.150", dport: 53919 };
  const req = "GET / HTTP/1.1\r\nUser-Agent: curl/7.19.7\r\nHost: 192.168.75.131\r\nAccept: */*\r\n\r\n".padEnd(175, "x");
  const rsp = "HTTP/1.1 200 OK\r\n".padEnd(245, "y");
  const ci = 4207417558, si = 3392244670;
  const pk = [
    buildFrame({ src: cmac, dst: dmac, payload: buildTcpPacket({ ...c, flags: "S", seq: ci, win: 14600, options: "mss 1460,sackOK,TS val 4562638 ecr 0,nop,wscale 6" }), pad: false }),
    buildFrame({ src: dmac, dst: cmac, payload: buildTcpPacket({ ...s, flags: "S.", seq: si, ack: ci + 1, win: 14480, options: "mss 1460,sackOK,TS val 5501088 ecr 4562638,nop,wscale 6" }), pad: false }),
    buildFrame({ src: cmac, dst: dmac, payload: buildTcpPacket({ ...c, flags: ".", seq: ci + 1, ack: si + 1, win: 229, options: "nop,nop,TS val 4562642 ecr 5501088" }), pad: false }),
    buildFrame({ src: cmac, dst: dmac, payload: buildTcpPacket({ ...c, flags: "P.", seq: ci + 1, ack: si + 1, win: 229, options: "nop,nop,TS val 4562642 ecr 5501088", payload: req }), pad: false }),
    buildFrame({ src: dmac, dst: cmac, payload: buildTcpPacket({ ...s, flags: ".", seq: si + 1, ack: ci + 176, win: 243, options: "nop,nop,TS val 5501096 ecr 4562642" }), pad: false }),
    buildFrame({ src: dmac, dst: cmac, payload: buildTcpPacket({ ...s, flags: "P.", seq: si + 1, ack: ci + 176, win: 243, options: "nop,nop,TS val 5501098 ecr 4562642", payload: rsp }), pad: false }),
    buildFrame({ src: cmac, dst: dmac, payload: buildTcpPacket({ ...c, flags: "F.", seq: ci + 176, ack: si + 246, win: 245, options: "nop,nop,TS val 4562657 ecr 5501098" }), pad: false }),
    buildFrame({ src: dmac, dst: cmac, payload: buildTcpPacket({ ...s, flags: "F.", seq: si + 246, ack: ci + 177, win: 243, options: "nop,nop,TS val 5501134 ecr 4562657" }), pad: false }),
    buildFrame({ src: cmac, dst: dmac, payload: buildTcpPacket({ ...c, flags: ".", seq: ci + 177, ack: si + 247, win: 245, options: "nop,nop,TS val 4562695 ecr 5501134" }), pad: false }),
    buildArpFrame({ op: "request", sha: dmac, spa: "192.168.75.131", tpa: "192.168.75.150", pad: false }),
    buildArpFrame({ op: "reply", sha: cmac, spa: "192.168.75.150", tha: dmac, tpa: "192.168.75.131" }),
  ];
  const t0 = Date.UTC(2014, 0, 1, 1, 0, 19) * 1000 + 513727;
  const l = lines(pk.map((frame, i) => ({ usec: t0 + i * 1000, frame }))).map((x) => x.slice(16));
  // tcpdump 4.99 adds the HTTP first line that the seed's 4.1 did not print.
  assert.deepEqual(l, [
    "IP 192.168.75.150.53919 > 192.168.75.131.80: Flags [S], seq 4207417558, win 14600, options [mss 1460,sackOK,TS val 4562638 ecr 0,nop,wscale 6], length 0",
    "IP 192.168.75.131.80 > 192.168.75.150.53919: Flags [S.], seq 3392244670, ack 4207417559, win 14480, options [mss 1460,sackOK,TS val 5501088 ecr 4562638,nop,wscale 6], length 0",
    "IP 192.168.75.150.53919 > 192.168.75.131.80: Flags [.], ack 1, win 229, options [nop,nop,TS val 4562642 ecr 5501088], length 0",
    "IP 192.168.75.150.53919 > 192.168.75.131.80: Flags [P.], seq 1:176, ack 1, win 229, options [nop,nop,TS val 4562642 ecr 5501088], length 175: HTTP: GET / HTTP/1.1",
    "IP 192.168.75.131.80 > 192.168.75.150.53919: Flags [.], ack 176, win 243, options [nop,nop,TS val 5501096 ecr 4562642], length 0",
    "IP 192.168.75.131.80 > 192.168.75.150.53919: Flags [P.], seq 1:246, ack 176, win 243, options [nop,nop,TS val 5501098 ecr 4562642], length 245: HTTP: HTTP/1.1 200 OK",
    "IP 192.168.75.150.53919 > 192.168.75.131.80: Flags [F.], seq 176, ack 246, win 245, options [nop,nop,TS val 4562657 ecr 5501098], length 0",
    "IP 192.168.75.131.80 > 192.168.75.150.53919: Flags [F.], seq 246, ack 177, win 243, options [nop,nop,TS val 5501134 ecr 4562657], length 0",
    "IP 192.168.75.150.53919 > 192.168.75.131.80: Flags [.], ack 247, win 245, options [nop,nop,TS val 4562695 ecr 5501134], length 0",
    "ARP, Request who-has 192.168.75.150 tell 192.168.75.131, length 28",
    "ARP, Reply 192.168.75.150 is-at 00:0c:29:5a:c3:3e, length 46",
  ]);
});

test("truncation markers: snaplen cuts inside UDP, TCP options and IP", () => {
  const udp = misc()[6]!;
  assert.equal(lines([{ ...udp, frame: udp.frame.subarray(0, 40), origLen: 60 }])[0], "22:13:20.506000 IP 192.168.1.10.40000 > 10.0.0.100.5005:  [|udp]");
  const syn = tcp80()[0]!;
  assert.equal(lines([{ ...syn, frame: syn.frame.subarray(0, 40), origLen: 74 }])[0], "22:13:20.123456 IP 192.168.1.10.54321 > 10.0.0.100.80:  [|tcp]");
  assert.equal(lines([{ ...syn, frame: syn.frame.subarray(0, 62), origLen: 74 }])[0],
    "22:13:20.123456 IP 192.168.1.10.54321 > 10.0.0.100.80: Flags [S], seq 1000000000, win 64240, options [mss 1460,sackOK,TS [|tcp]>");
  assert.equal(lines([{ ...syn, frame: syn.frame.subarray(0, 20), origLen: 74 }])[0], "22:13:20.123456 IP  [|ip]");
});

test("-i any: Linux cooked v2 lines with interface and direction", () => {
  const syn = tcp80()[0]!;
  const p = new Printer({ numeric: 2, tz: "UTC", ifnameByIndex: (i) => ["lo", "eth0"][i - 1] }, LINKTYPE_LINUX_SLL2);
  const rec = { sec: 1700000000, nsec: 123456000, data: toSll2(syn.frame, 2, 4), origLen: 80 };
  assert.equal(p.format(rec), "22:13:20.123456 eth0  Out IP 192.168.1.10.54321 > 10.0.0.100.80: Flags [S], seq 1000000000, win 64240, options [mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7], length 0\n");
  const e = new Printer({ numeric: 2, tz: "UTC", link: true, ifnameByIndex: () => "lo" }, LINKTYPE_LINUX_SLL2);
  assert.match(e.format({ ...rec, data: toSll2(syn.frame, 1, 0) }), /^22:13:20\.123456 lo {4}In {2}ifindex 1 02:00:00:00:00:01 ethertype IPv4 \(0x0800\), length 80: 192\.168/);
});

test("property: the printer never throws on random or mutated bytes", () => {
  const base = [...tcp80(), ...misc(), ...extra()].map((s) => s.frame);
  const opts: PrintOptions[] = [{ numeric: 2 }, { numeric: 2, verbose: 2, link: true }, { numeric: 2, hexAscii: 1, verbose: 1 }, { ascii: 1, quiet: 1 }];
  fc.assert(fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc.tuple(fc.constantFrom(...base), fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(200))
        .map(([b, muts, cut]) => {
          const c = b.slice(0, Math.max(cut, 14));
          for (const [i, v] of muts) if (i < c.length) c[i] = v;
          return c;
        }),
    ),
    fc.constantFrom(...opts),
    (data, o) => {
      const s = new Printer(o).format({ sec: 1700000000, nsec: 0, data, origLen: data.length });
      assert.ok(s.endsWith("\n"));
    },
  ), { numRuns: 2000 });
});
