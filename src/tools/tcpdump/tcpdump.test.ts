import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpdump } from "./tcpdump.js";
import { fakeRun, MemFs, EPOCH_US } from "./fakehost.test-helper.js";
import { PcapWriter, readPcap } from "./pcap.js";
import { misc, tcp80 } from "./samples.test-helper.js";

const US = (s: { usec: number }) => s.usec - EPOCH_US;

test("live capture with -nn -c: banners on stderr, lines on stdout, summary", async () => {
  const r = fakeRun(["tcpdump", "-nn", "-i", "eth0", "-c", "2", "host", "192.168.1.10", "and", "!", "port", "22"]);
  const done = tcpdump(r.ctx);
  for (const s of tcp80().slice(0, 3)) r.emit("eth0", s.frame, US(s));
  assert.equal(await done, 0);
  assert.equal(r.err(), "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n"
    + "listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n"
    + "2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n");
  assert.equal(r.out().split("\n").length, 3);
  assert.match(r.out(), /^22:13:20\.123456 IP 192\.168\.1\.10\.54321 > 10\.0\.0\.100\.80: Flags \[S\]/);
});

test("interrupt ends the capture: empty line on stdout, singular summary", async () => {
  const r = fakeRun(["tcpdump", "-n", "-v", "arp"]);
  const done = tcpdump(r.ctx);
  for (const s of misc().slice(0, 3)) r.emit("eth0", s.frame, US(s));
  r.interrupt();
  assert.equal(await done, 0);
  assert.equal(r.err(), "tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n"
    + "2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n");
  assert.ok(r.out().endsWith("length 46\n\n"));
});

test("without -n port names come from /etc/services", async () => {
  const r = fakeRun(["tcpdump", "-c", "1"]);
  const done = tcpdump(r.ctx);
  r.emit("eth0", tcp80()[0]!.frame, 0);
  await done;
  assert.match(r.out(), /10\.0\.0\.100\.http: Flags \[S\]/);
});

test("-i any: cooked v2 banner and per-interface lines", async () => {
  const r = fakeRun(["tcpdump", "-nn", "-i", "any", "-c", "1"]);
  const done = tcpdump(r.ctx);
  r.emit("eth1", tcp80()[0]!.frame, 0, "out");
  await done;
  assert.equal(r.err().split("\n").slice(0, 3).join("\n"), "tcpdump: data link type LINUX_SLL2\n"
    + "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n"
    + "listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes");
  assert.match(r.out(), /^22:13:20\.000000 eth1  Out IP 192\.168\.1\.10\.54321 > 10\.0\.0\.100\.80: /);
});

test("-w writes a pcap (header first, records appended); -r reads it back", async () => {
  const fs = new MemFs();
  const w = fakeRun(["tcpdump", "-i", "eth0", "-w", "/tmp/c.pcap", "tcp"], { fs });
  const done = tcpdump(w.ctx);
  for (const s of [...tcp80().slice(0, 2), misc()[0]!]) w.emit("eth0", s.frame, US(s));
  w.interrupt();
  await done;
  assert.equal(w.out(), "");
  assert.ok(w.err().startsWith("tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n2 packets captured"));
  const f = readPcap(fs.files.get("/tmp/c.pcap")!);
  assert.ok(typeof f !== "string" && f.records.length === 2);
  const r = fakeRun(["tcpdump", "-nn", "-r", "/tmp/c.pcap"], { fs });
  assert.equal(await tcpdump(r.ctx), 0);
  assert.equal(r.err(), "reading from file /tmp/c.pcap, link-type EN10MB (Ethernet), snapshot length 262144\n");
  assert.equal(r.out().split("\n").length, 3);
});

test("-r with a filter, -c, --number, --count and -s", async () => {
  const fs = new MemFs();
  const pw = new PcapWriter();
  for (const s of [...tcp80(), ...misc()]) pw.add(s.usec, s.frame);
  fs.files.set("/f.pcap", pw.bytes());
  const a = fakeRun(["tcpdump", "-nn", "-r", "/f.pcap", "-c", "1", "--number", "udp"], { fs });
  await tcpdump(a.ctx);
  assert.equal(a.out(), "    1  22:13:20.506000 IP 192.168.1.10.40000 > 10.0.0.100.5005: UDP, length 5\n");
  const b = fakeRun(["tcpdump", "-r", "/f.pcap", "--count", "arp"], { fs });
  await tcpdump(b.ctx);
  assert.equal(b.out(), "2 packets\n");
  const c = fakeRun(["tcpdump", "-nn", "-s", "40", "-r", "/f.pcap", "port", "5005"], { fs });
  await tcpdump(c.ctx);
  assert.equal(c.out(), "22:13:20.506000 IP 192.168.1.10.40000 > 10.0.0.100.5005:  [|udp]\n");
});

test("errors: exit 1 with tcpdump's texts", async () => {
  const cases: [string[], string][] = [
    [["-i", "eth9"], "tcpdump: eth9: No such device exists\n(No such device exists)\n"],
    [["-c", "abc"], "tcpdump: invalid packet count abc\n"],
    [["-c", "0"], "tcpdump: invalid packet count 0\n"],
    [["-s", "abc"], "tcpdump: invalid snaplen abc (must be >= 0 and <= 262144)\n"],
    [["-Q", "foo"], "tcpdump: unknown capture direction `foo'\n"],
    [["-r", "/nonexistent.pcap"], "tcpdump: /nonexistent.pcap: No such file or directory\n"],
    [["--time-stamp-precision=foo"], "tcpdump: unsupported time stamp precision\n"],
    [["-nn", "tcp", "and", "80"], "tcpdump: syntax error in filter expression\n"],
    [["-nn", "port", "80", "or"], "tcpdump: can't parse filter expression: syntax error\n"],
    [["tcp", "and", "udp"], "tcpdump: expression rejects all packets\n"],
  ];
  for (const [args, err] of cases) {
    const r = fakeRun(["tcpdump", ...args]);
    assert.equal(await tcpdump(r.ctx), 1, args.join(" "));
    assert.equal(r.err(), err, args.join(" "));
  }
  const k = fakeRun(["tcpdump", "-k"]);
  assert.equal(await tcpdump(k.ctx), 1);
  assert.ok(k.err().startsWith("tcpdump: invalid option -- 'k'\ntcpdump version 4.99.3\n"));
  assert.ok(k.err().endsWith("[ -z postrotate-command ] [ -Z user ] [ expression ]\n"));
  const c = fakeRun(["tcpdump", "-c"]);
  assert.equal(await tcpdump(c.ctx), 1);
  assert.ok(c.err().startsWith("tcpdump: option requires an argument -- 'c'\n"));
  const h = fakeRun(["tcpdump", "-h"]);
  assert.equal(await tcpdump(h.ctx), 0);
  assert.ok(h.out().startsWith("tcpdump version 4.99.3\n"));
});
