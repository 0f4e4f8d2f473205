/**
 * One-armed LVS-NAT gone wrong: the client shares the real servers' LAN, so their replies
 * skip the director. Compared with the real kernel's recording of the same topology
 * (test/golden/kernel/nat-one-armed.sh): phase A with send_redirects at its default, phase
 * B with send_redirects=0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connRows, goldenSections, normalizeCapture, runLabFile, transcriptBlocks, type Blocks } from "./helpers.js";

const LAB = "labs/lvs-nat-one-armed.yaml";
const GOLDEN = "test/golden/kernel/nat-one-armed.out";
const golden = () => goldenSections(GOLDEN);
const all = (b: Blocks, prompt: string) => b.filter((x) => x.prompt === prompt).map((x) => x.output);
const captures = (b: Blocks, host: string) => b.filter((x) => x.prompt.startsWith(`[root@${host} ~]# tcpdump`)).map((x) => x.output);
// The elapsed milliseconds are timing, not behaviour.
const ms = (s: string) => s.replace(/after \d+ milliseconds/, "after N milliseconds");

test("one-armed NAT lab: every curl times out, as on the real kernel", async () => {
  const { transcript, report } = await runLabFile(LAB);
  assert.deepEqual(report.steps.filter((s) => !s.ok), []);
  const curls = all(transcriptBlocks(transcript), "[root@client ~]# curl -sS -m 5 192.168.1.100");
  const g = golden();
  const want = ["A", "B"].flatMap((v) => [1, 2].map((i) => g.get(`${v}: curl -sS -m 5 192.168.1.100 #${i}`)!.replace(/exit=\d+\n$/, "")));
  assert.equal(curls.length, 4);
  assert.deepEqual(curls.map(ms), want.map(ms));
  assert.ok(want.every((w) => w.startsWith("curl: (28) Connection timed out")));
});

test("one-armed NAT lab: client and director captures match the real kernel's line for line", async () => {
  const { transcript } = await runLabFile(LAB);
  const b = transcriptBlocks(transcript);
  const g = golden();
  for (const [host, nic] of [["client", "client-eth0"], ["director", "dir-eth0"]] as const) {
    const caps = captures(b, host);
    assert.equal(caps.length, 2, host);
    ["A", "B"].forEach((v, i) => {
      const want = normalizeCapture(g.get(`${v}: tcpdump -nn -r ${nic}`) ?? "");
      assert.ok(want.length > 0, `${v} ${nic}`);
      assert.deepEqual(normalizeCapture(caps[i]!), want, `${v} ${nic}`);
    });
  }
});

test("one-armed NAT lab: the director sends no ICMP redirect, with send_redirects 1 or 0", async () => {
  const { transcript } = await runLabFile(LAB);
  const b = transcriptBlocks(transcript);
  const g = golden();
  // The real director's IcmpOut counters stayed at zero in both phases (nstat -a hides zeros).
  assert.equal(g.get("A: dir nstat Icmp (since phase start)"), "");
  assert.equal(g.get("B: dir nstat Icmp (since phase start)"), "");
  assert.equal(g.get("A: send_redirects (all default eth0)"), "1\n1\n1\n");
  for (const c of [...captures(b, "director"), ...captures(b, "client")]) assert.doesNotMatch(c, /ICMP/);
});

test("one-armed NAT lab: the IPVS table and connections match the real kernel's", async () => {
  const { transcript } = await runLabFile(LAB);
  const b = transcriptBlocks(transcript);
  const g = golden();
  const lists = all(b, "[root@director ~]# ipvsadm -L -n");
  const conns = all(b, "[root@director ~]# ipvsadm -L -n -c");
  ["A", "B"].forEach((v, i) => {
    // B: ipvsadm -C keeps the connections; re-adding the destinations takes them back from
    // the trash with their counters (ip_vs_trash_get_dest), so ActiveConn is 2 each.
    assert.equal(lists[i], g.get(`${v}: ipvsadm -L -n`), v);
    assert.deepEqual(connRows(conns[i]!), connRows(g.get(`${v}: ipvsadm -L -n -c`)!), v);
  });
});

test("one-armed NAT lab: the VIP is eth0's secondary address", async () => {
  const { transcript } = await runLabFile(LAB);
  const out = all(transcriptBlocks(transcript), "[root@director ~]# ip -4 addr show dev eth0")[0] ?? "";
  const inet = (s: string) => s.split("\n").filter((l) => l.includes("inet 192.168.1.100"));
  assert.deepEqual(inet(out), inet(golden().get("ip -4 addr show dev eth0 (on dir)")!));
});
