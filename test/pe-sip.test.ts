/**
 * The sip persistence engine against the real kernel: test/golden/kernel/pe-sip.sh sent ten
 * SIP-like datagrams, each from a new source port, to a UDP service with `-p 60 --pe sip`
 * on Linux 6.1, and recorded the connection table, the listings and the counters. The same
 * datagrams through lvslab's director must give the same table (client ports and the
 * seconds left aside), the same listings and the same counters.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseIp4 } from "../src/wire/addr.js";
import { drive, runCommand, sleepWorld } from "../src/lab/runner.js";
import { sipCallId } from "../src/ipvs/pe_sip.js";
import { explainDrop } from "../src/explain/rules.js";
import { buildLabFile, repoPath } from "./helpers.js";

const golden = readFileSync(repoPath("test/golden/kernel/pe-sip.out"), "utf8");
const script = readFileSync(repoPath("test/golden/kernel/pe-sip.sh"), "utf8");

/** A section of the golden output: the lines after "### TITLE" up to the next "###". */
function section(title: string): string[] {
  const start = golden.indexOf(`### ${title}\n`);
  assert.ok(start >= 0, title);
  const rest = golden.slice(start + title.length + 5);
  return rest.slice(0, rest.indexOf("\n###") + 1).split("\n").filter((l) => l !== "");
}

/** The datagrams the script sends, in order, as bytes. */
function datagrams(): string[] {
  return [...script.matchAll(/^send \S+ '(.*)'$/gm)].map((m) => m[1]!.replace(/\\r/g, "\r").replace(/\\n/g, "\n"));
}

const norm = (lines: string[]): string[] =>
  lines.map((l) => l.replace(/^(UDP )\d\d:\d\d/, "$1--:--").replace(/(192\.168\.75\.150:)[1-9]\d*/, "$1*").replace(/^(UDP C0A84B96 )(?!0000)[0-9A-F]{4}/, "$1****").replace(/ (NONE|UDP) +\d+/, (m, s: string) => ` ${s} *`)).sort();

test("sip persistence: the Call-ID keeps a call on one real server, a datagram without one is dropped, as Linux 6.1 does", async () => {
  const msgs = datagrams();
  assert.equal(msgs.length, 10);
  const lab = buildLabFile("labs/lvs-nat.yaml");
  const { world } = lab;
  const vip = lab.hosts.get("vip")!;
  const client = lab.hosts.get("client")!;
  for (const line of [
    "sysctl -qw net.ipv4.ip_forward=1",
    "modprobe ip_vs_pe_sip",
    "ipvsadm -A -u 192.168.75.131:5060 -s rr -p 60 --pe sip",
    "ipvsadm -a -u 192.168.75.131:5060 -r 192.168.1.185:5060 -m",
    "ipvsadm -a -u 192.168.75.131:5060 -r 192.168.1.190:5060 -m",
  ]) assert.equal((await runCommand(vip, line)).exit, 0, line);
  for (let i = 0; i < msgs.length; i++) {
    assert.ok(client.udpSend(undefined, 41000 + i, parseIp4("192.168.75.131")!, 5060, Buffer.from(msgs[i]!, "latin1")));
    await drive(world, () => false, world.now() + 300_000);
  }
  await drive(world, () => false, world.now() + 2_000_000);
  // The three datagrams without a readable Call-ID: dropped on the director, said why.
  assert.equal(world.trace.drops.get("vip: IPVS: ipvs-pe-sip-no-call-id"), 3);
  assert.equal(explainDrop("IPVS: ipvs-pe-sip-no-call-id").rule, "ipvs-pe-sip");
  const conns = await runCommand(vip, "cat /proc/net/ip_vs_conn");
  assert.deepEqual(norm(conns.io.text.split("\n").filter((l) => l !== "")), norm(section("/proc/net/ip_vs_conn")));
  const pc = await runCommand(vip, "ipvsadm -L -n -c --persistent-conn");
  assert.deepEqual(norm(pc.io.text.split("\n").filter((l) => l !== "")), norm(section("ipvsadm -L -n -c --persistent-conn")));
  const plain = await runCommand(vip, "ipvsadm -L -n -c");
  assert.deepEqual(norm(plain.io.text.split("\n").filter((l) => l !== "")), norm(section("ipvsadm -L -n -c")));
  assert.deepEqual((await runCommand(vip, "ipvsadm -L -n --persistent-conn")).io.text.split("\n").filter((l) => l !== ""), section("ipvsadm -L -n --persistent-conn"));
  await drive(world, () => false, world.now() + 2_000_000);
  assert.deepEqual((await runCommand(vip, "ipvsadm -L -n --stats")).io.text.split("\n").filter((l) => l !== ""), section("ipvsadm -L -n --stats"));
});

test("sip Call-ID parsing: compact form, case, whitespace and continuation lines, word characters, @domain, line end", () => {
  const id = (s: string): string | undefined => sipCallId(Buffer.from(s, "latin1"));
  assert.equal(id("INVITE sip:a SIP/2.0\r\nCall-ID: abc@host\r\n\r\n"), "abc@host");
  assert.equal(id("INVITE sip:a SIP/2.0\ni:x.y-z\n"), "x.y-z");
  assert.equal(id("INVITE sip:a SIP/2.0\r\ncall-id :\r\n  folded@h\r\n"), "folded@h", "whitespace and a continuation line before the value");
  assert.equal(id("Call-ID: first-line\r\n\r\n"), undefined, "the request line is never a header");
  assert.equal(id("X\r\nCall-ID: a;b\r\n"), undefined, "a value must end at the line end");
  assert.equal(id("X\r\nCall-ID: a@\r\n"), undefined, "@ with no domain");
  assert.equal(id("X\r\nCall-ID: abc"), undefined, "no line end after the value");
  assert.equal(id("X\r\ni-x: 1\r\nCall-ID: b\r\n"), undefined, "a line that starts with the compact name but has no colon ends the search, as in nf_conntrack_sip");
  assert.equal(id("X\r\nIn-Reply-To: x\r\nCall-ID: b\r\n"), "b", "a longer name is passed over when a letter follows i");
  assert.equal(id(`X\r\nCall-ID: ${"a".repeat(255)}\r\n`), "a".repeat(255));
  assert.equal(id(`X\r\nCall-ID: ${"a".repeat(256)}\r\n`), undefined, "longer than IP_VS_PEDATA_MAXLEN");
});

test("sip templates: a service that loses its engine (-E) schedules afresh; templates expire even when FullNAT found no local address", async () => {
  const lab = buildLabFile("labs/lvs-nat.yaml");
  const { world } = lab;
  const vip = lab.hosts.get("vip")!;
  const client = lab.hosts.get("client")!;
  let port = 42000;
  const send = async (callId: string): Promise<void> => {
    assert.ok(client.udpSend(undefined, port++, parseIp4("192.168.75.131")!, 5060, Buffer.from(`INVITE sip:a SIP/2.0\r\nCall-ID: ${callId}\r\n\r\n`, "latin1")));
    await drive(world, () => false, world.now() + 300_000);
  };
  const templates = async (): Promise<string[]> =>
    (await runCommand(vip, "ipvsadm -L -n -c --persistent-conn")).io.text.split("\n").filter((l) => / NONE /.test(l)).map((l) => l.replace(/^UDP \d\d:\d\d +/, "").replace(/ +/g, " ").trim()).sort();
  for (const line of [
    "sysctl -qw net.ipv4.ip_forward=1",
    "ipvsadm -A -u 192.168.75.131:5060 -s rr -p 60 --pe sip",
    "ipvsadm -a -u 192.168.75.131:5060 -r 192.168.1.185:5060 -m",
    "ipvsadm -a -u 192.168.75.131:5060 -r 192.168.1.190:5060 -m",
  ]) assert.equal((await runCommand(vip, line)).exit, 0, line);
  await send("A");
  await send("B");
  assert.equal((await runCommand(vip, "ipvsadm -E -u 192.168.75.131:5060 -s rr -p 60")).exit, 0);
  await send("C");
  await send("D");
  // C: a plain template, scheduled by rr after B; D: the same client network, C's template.
  assert.deepEqual(await templates(), [
    "NONE 192.168.75.150:0 192.168.75.131:5060 192.168.1.185:5060 sip B",
    "NONE 192.168.75.150:0 192.168.75.131:5060 192.168.1.190:5060",
    "NONE 192.168.75.150:0 192.168.75.131:5060 192.168.1.190:5060 sip A",
  ]);
  // A FullNAT real server and no local address: every datagram is refused, and the
  // templates made for them still run out (60 s, then 60 s more, as the kernel re-arms them).
  assert.equal((await runCommand(vip, "ipvsadm -A -u 192.168.75.131:5070 -s rr -p 60 --pe sip")).exit, 0);
  assert.equal((await runCommand(vip, "ipvsadm -a -u 192.168.75.131:5070 -r 192.168.1.185:5070 --fullnat")).exit, 0);
  for (let i = 0; i < 5; i++) {
    assert.ok(client.udpSend(undefined, 43000 + i, parseIp4("192.168.75.131")!, 5070, Buffer.from(`INVITE sip:a SIP/2.0\r\nCall-ID: f${i}\r\n\r\n`, "latin1")));
    await drive(world, () => false, world.now() + 300_000);
  }
  const on5070 = async (): Promise<number> => (await runCommand(vip, "ipvsadm -L -n -c")).io.text.split("\n").filter((l) => l.includes(":5070 ")).length;
  assert.equal(await on5070(), 5);
  await sleepWorld(world, 10 * 60_000_000);
  assert.equal(await on5070(), 0);
});
