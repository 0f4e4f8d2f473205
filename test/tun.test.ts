/**
 * LVS-TUN against the real kernel (test/golden/kernel/lvs-tun.sh -> lvs-tun.out):
 * labs/lvs-tun.yaml (real servers decapsulate on tunl0, rp_filter 0) must capture with
 * `tcpdump -e` the frames Linux 6.1 captured, IPIP-in-Ethernet included, and list the same
 * IPVS tables; labs/lvs-tun-rp-filter.yaml (rp_filter 1) must fail the way the kernel did.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { runSteps } from "../src/lab/runner.js";
import { assertCapturesMatch, buildLabText, captureOf, connRows, goldenSections, lastOutput, repoPath, runLabFile, transcriptBlocks } from "./helpers.js";

const GOLDEN = "test/golden/kernel/lvs-tun.out";

/**
 * The recorded captures, as `tcpdump -nn -e -r` (4.99.3, the VM's version) prints the
 * golden pcaps: lvs-tun.<variant>.<host>-eth0.txt. The printed .out lost lines in this run,
 * and the captures of the first variant kept running into the second (stop_captures kills
 * the shell, not tcpdump), so the first variant's frames are those before 19:14:10.
 */
function goldenCapture(variant: "ok" | "broken", g: string): string {
  const text = readFileSync(repoPath(`test/golden/kernel/lvs-tun.${variant}.${g}-eth0.txt`), "utf8");
  return text.split("\n").filter((l) => variant === "broken" || l < "19:14:10").join("\n");
}

test("lvs-tun: every step passes its expectations", async () => {
  const { report } = await runLabFile("labs/lvs-tun.yaml");
  assert.deepEqual(report.steps.filter((s) => !s.ok), []);
});

test("lvs-tun: tcpdump -e on every host matches the real kernel's frame for frame", async () => {
  const { transcript } = await runLabFile("labs/lvs-tun.yaml");
  const blocks = transcriptBlocks(transcript);
  const golden = goldenSections(GOLDEN);
  assertCapturesMatch(blocks, (g) => goldenCapture("ok", g), {
    moreThan: 5,
    // The director's recorded capture started late, with the second connection's SYN.
    ours: (lines, host, want) => (host === "director" ? lines.slice(lines.length - want.length) : lines),
  });
});

test("lvs-tun: ipvsadm listings and stats (OutPkts 0) match the real kernel's", async () => {
  const { transcript } = await runLabFile("labs/lvs-tun.yaml");
  const blocks = transcriptBlocks(transcript);
  const golden = goldenSections(GOLDEN);
  const trim = (s: string | undefined) => (s ?? "").trimEnd();
  const lists = blocks.filter((b) => b.prompt === "[root@director ~]# ipvsadm -L -n");
  assert.equal(lists[0]!.output, golden.get("ipvsadm -L -n (before)"));
  assert.equal(lists[1]!.output, golden.get("ipvsadm -L -n"));
  assert.equal(trim(lastOutput(blocks, "director", "ipvsadm -L -n --stats")), trim(golden.get("ipvsadm -L -n --stats")));
  assert.deepEqual(connRows(lastOutput(blocks, "director", "ipvsadm -L -n -c")), connRows(golden.get("ipvsadm -L -n -c") ?? ""));
  const pages = blocks.filter((b) => b.prompt === "[root@client ~]# curl -sS -m 3 192.168.1.100").map((b) => b.output);
  assert.deepEqual(pages, [1, 2, 3].map((i) => golden.get(`curl -sS -m 3 192.168.1.100 #${i}`)!.replace(/exit=0\n$/, "")));
});

const BROKEN = "labs/lvs-tun-rp-filter.yaml";

test("lvs-tun-rp-filter: the decapsulated packets fail rp_filter on tunl0, as on the real kernel", async () => {
  const { lab, report, transcript } = await runLabFile(BROKEN);
  assert.deepEqual(report.steps.filter((s) => !s.ok), []);
  const blocks = transcriptBlocks(transcript);
  const golden = goldenSections(GOLDEN);
  // Linux's SYN retransmission timer fires a little after 3 s, after curl -m 3 gave up;
  // lvslab's at 3 s, just before. Each connection has one SYN (and on the director one
  // IPIP copy) more here: compare the frames each side shows, in order of first sight.
  assertCapturesMatch(blocks, (g) => goldenCapture("broken", g), { moreThan: 0, label: "broken ", distinct: true });
  const ms = (t: string | undefined) => (t ?? "").replace(/after 300\d milliseconds/, "after 300x milliseconds");
  for (let i = 1; i <= 3; i++) {
    assert.equal(
      ms(blocks.filter((b) => b.prompt === "[root@client ~]# curl -sS -m 3 192.168.1.100")[i - 1]?.output),
      ms(golden.get(`broken: curl -sS -m 3 192.168.1.100 #${i}`)!.replace(/exit=28\n$/, "")),
    );
  }
  assert.deepEqual(connRows(lastOutput(blocks, "director", "ipvsadm -L -n -c")), connRows(golden.get("broken: ipvsadm -L -n -c") ?? "").filter((l) => l.includes("SYN_RECV")));
  // Every tunnelled packet was dropped by rp_filter and counted (golden: TcpExtIPReversePathFilter 2 and 4).
  const hosts = lab.hosts;
  const rs1 = hosts.get("real_server1")!;
  const rs2 = hosts.get("real_server2")!;
  assert.deepEqual([rs1.ipExt.IPReversePathFilter, rs2.ipExt.IPReversePathFilter], [3, 6]);
  assert.equal(rs2.nics.get("tunl0")!.stats.rxPackets, 6);
  assert.equal(rs2.nics.get("tunl0")!.stats.rxDropped, 0);
  assert.equal(rs2.ip.InReceives, 12);
  assert.equal(rs2.ip.InDelivers, 6);
});

test("lvs-tun: the outer IPIP header has DF copied and IP id 0, TTL and TOS from the inner packet (tcpdump -v)", async () => {
  const yaml = readFileSync(repoPath("labs/lvs-tun.yaml"), "utf8").replace(
    `tcpdump -nn -e -i eth0 'arp or ip proto 4 or (ip and host 192.168.1.150)'", background: true, name: cap-director`,
    `tcpdump -nn -v -i eth0 ip proto 4", background: true, name: cap-director`,
  );
  const lab = buildLabText(yaml, "lvs-tun-v.yaml");
  let transcript = "";
  await runSteps(lab, { out: (s) => (transcript += s) });
  const outer = captureOf(transcriptBlocks(transcript), "director").split("\n").filter((l) => l.includes("proto IPIP"));
  const golden = readFileSync(repoPath("test/golden/kernel/lvs-tun.out"), "utf8").split("\n").filter((l) => l.includes("proto IPIP"));
  assert.equal(outer.length, 18);
  const shape = (l: string) => l.replace(/^\d\d:\d\d:\d\d\.\d{6} /, "").replace(/length \d+\)$/, "length L)");
  assert.deepEqual([...new Set(outer.map(shape))], [...new Set(golden.map(shape))]);
  assert.deepEqual([...new Set(outer.map(shape))], ["IP (tos 0x0, ttl 63, id 0, offset 0, flags [DF], proto IPIP (4), length L)"]);
});
