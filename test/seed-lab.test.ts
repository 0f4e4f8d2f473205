/**
 * The seed's LVS-NAT lab against the real kernel: labs/lvs-nat.yaml must produce what
 * Linux 6.1 + ipvsadm 1.31 + curl 7.88 + nginx 1.22 produced for the same lab
 * (test/golden/kernel/seed-nat.sh -> seed-nat.out), line for line, except timestamps,
 * sequence numbers, TCP timestamps, ports and MACs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildLabFile, goldenSections, normalizeCapture, runLabFile, transcriptBlocks } from "./helpers.js";
import { runSteps } from "../src/lab/runner.js";

const GOLDEN = "test/golden/kernel/seed-nat.out";

test("seed lab: every step passes its expectations", async () => {
  const { report } = await runLabFile("labs/lvs-nat.yaml");
  const failed = report.steps.filter((s) => !s.ok);
  assert.deepEqual(failed, []);
});

test("seed lab: captures match the real kernel's line for line", async () => {
  const { transcript } = await runLabFile("labs/lvs-nat.yaml");
  const blocks = transcriptBlocks(transcript);
  const golden = goldenSections(GOLDEN);
  const pick = (host: string, iface: string): string => {
    const b = blocks.find((x) => x.prompt.startsWith(`[root@${host} ~]# tcpdump`) && x.prompt.includes(`-i ${iface} `));
    assert.ok(b, `no capture on ${host} ${iface} in the transcript`);
    return b.output;
  };
  for (const [host, iface, section] of [
    ["vip", "eth1", "tcpdump -nn -r vip-eth1"],
    ["vip", "eth0", "tcpdump -nn -r vip-eth0"],
    ["real_server1", "eth0", "tcpdump -nn -r rs1-eth0"],
  ] as const) {
    const want = normalizeCapture(golden.get(section) ?? "");
    assert.ok(want.length > 10, `golden section ${section} is empty`);
    assert.deepEqual(normalizeCapture(pick(host, iface)), want, `${host} ${iface} differs from ${section}`);
  }
});

test("seed lab: ipvsadm listings match the real kernel's", async () => {
  const { transcript } = await runLabFile("labs/lvs-nat.yaml");
  const blocks = transcriptBlocks(transcript);
  const golden = goldenSections(GOLDEN);
  const lists = blocks.filter((b) => b.prompt.endsWith("# ipvsadm -L -n"));
  assert.equal(lists[0]!.output, golden.get("ipvsadm -L -n (before)"));
  assert.equal(lists[1]!.output, golden.get("ipvsadm -L -n (after)"));
  const stats = blocks.find((b) => b.prompt.endsWith("# ipvsadm -L -n --stats"));
  assert.equal(stats?.output, golden.get("ipvsadm -L -n --stats"));
  // Connection entries: same states and destinations; expiry and ports differ run to run.
  const conns = (s: string) =>
    s.split("\n").filter((l) => l.startsWith("TCP ")).map((l) => l.replace(/^TCP \d\d:\d\d  /, "TCP ").replace(/:\d{4,5}\s+/, ":PORT ").replace(/\s+/g, " ")).sort();
  const ours = blocks.find((b) => b.prompt.endsWith("# ipvsadm -L -n -c"));
  assert.deepEqual(conns(ours?.output ?? ""), conns(golden.get("ipvsadm -L -n -c") ?? ""));
});

test("seed lab: curls return the pages in the kernel's wrr order", async () => {
  const { transcript } = await runLabFile("labs/lvs-nat.yaml");
  const pages = transcriptBlocks(transcript).filter((b) => b.prompt.endsWith("# curl 192.168.75.131")).map((b) => b.output.trim());
  const golden = goldenSections(GOLDEN);
  const want = [1, 2, 3, 4, 5, 6].map((i) => golden.get(`curl -s 192.168.75.131 #${i}`)!.split("\n")[0]);
  assert.deepEqual(pages, want);
});

test("seed lab: the same seed gives a byte-identical transcript", async () => {
  const a = await runLabFile("labs/lvs-nat.yaml", 7);
  const b = await runLabFile("labs/lvs-nat.yaml", 7);
  assert.equal(a.transcript, b.transcript);
  const c = await runLabFile("labs/lvs-nat.yaml", 8);
  assert.notEqual(a.transcript, c.transcript);
});

test("seed lab: IP ids follow Linux (SYN-ACK 0, then per-connection counters) as in the kernel's -v capture", async () => {
  // For every packet on vip eth1: "0" for id 0, "+1" when it follows the previous packet of the
  // same direction of the same connection, else "new" (a connection's random start).
  const pattern = (pkts: Array<{ flow: string; id: number }>): string[] => {
    // A connection's first id is random: it must not continue the sending host's last id.
    const last = new Map<string, number>();
    const lastBySrc = new Map<string, number>();
    return pkts.map(({ flow, id }) => {
      const src = flow.split(">")[0]!.replace(/\.\d+$/, "");
      const prev = last.get(flow);
      const prevHost = lastBySrc.get(src);
      last.set(flow, id);
      lastBySrc.set(src, id);
      if (id === 0) return "0";
      if (prev !== undefined && prev !== 0 && id === ((prev + 1) & 0xffff)) return "+1";
      return prevHost !== undefined && id === ((prevHost + 1) & 0xffff) ? "continues the host's ids" : "new";
    });
  };
  const golden = goldenSections(GOLDEN).get("tcpdump -nn -v -r vip-eth1") ?? "";
  const want: Array<{ flow: string; id: number }> = [];
  const lines = golden.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\S+ IP \(tos \S+, ttl \d+, id (\d+),.*proto TCP/.exec(lines[i]!);
    const f = m && /^\s+(\S+) > (\S+):/.exec(lines[i + 1] ?? "");
    if (m && f) want.push({ flow: `${f[1]}>${f[2]}`, id: Number(m[1]) });
  }
  assert.ok(want.length > 50);
  const lab = buildLabFile("labs/lvs-nat.yaml");
  const got: Array<{ flow: string; id: number }> = [];
  lab.hosts.get("vip")!.capture.tap("eth1", (f) => {
    const b = f.frame;
    if (b.length < 54 || b[12] !== 0x08 || b[13] !== 0x00 || b[23] !== 6) return;
    const ip = (o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
    const port = (o: number) => (b[o]! << 8) | b[o + 1]!;
    got.push({ flow: `${ip(26)}.${port(34)}>${ip(30)}.${port(36)}`, id: (b[18]! << 8) | b[19]! });
  });
  await runSteps(lab, { out: () => undefined });
  assert.deepEqual(pattern(got), pattern(want));
});
