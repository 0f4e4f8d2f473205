/**
 * The classic LVS-NAT mistake: the real servers' default gateway is the LAN's own router,
 * not the director. Compared with the real kernel's recording of the same topology
 * (test/golden/kernel/seed-nat-no-gateway.sh, variant B).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { goldenSections, normalizeCapture, runLabFile, transcriptBlocks } from "./helpers.js";

test("no-gateway lab: curl times out as on the real kernel", async () => {
  const { transcript, report } = await runLabFile("labs/lvs-nat-no-gateway.yaml");
  assert.deepEqual(report.steps.filter((s) => !s.ok), []);
  const golden = goldenSections("test/golden/kernel/seed-nat-no-gateway.out");
  const curl = transcriptBlocks(transcript).find((b) => b.prompt.includes("# curl "));
  // The elapsed milliseconds are timing, not behaviour (the real run took 5002 ms).
  const ms = (s: string) => s.replace(/after \d+ milliseconds/, "after N milliseconds");
  assert.equal(ms(curl?.output ?? ""), ms(golden.get("B: curl -sS -m 5 192.168.75.131")!.replace(/exit=\d+\n$/, "")));
  assert.match(curl?.output ?? "", /after 50\d\d milliseconds/);
});

test("no-gateway lab: the client's capture matches the real kernel's line for line", async () => {
  const { transcript } = await runLabFile("labs/lvs-nat-no-gateway.yaml");
  const cap = transcriptBlocks(transcript).find((b) => b.prompt.startsWith("[root@client ~]# tcpdump"));
  const golden = goldenSections("test/golden/kernel/seed-nat-no-gateway.out");
  assert.deepEqual(normalizeCapture(cap?.output ?? ""), normalizeCapture(golden.get("B: tcpdump -nn -r client-eth0") ?? ""));
});

test("no-gateway lab: the director keeps a SYN_RECV entry, counted active", async () => {
  const { transcript } = await runLabFile("labs/lvs-nat-no-gateway.yaml");
  const c = transcriptBlocks(transcript).find((b) => b.prompt.endsWith("# ipvsadm -L -n -c"));
  assert.match(c?.output ?? "", /^TCP 00:5\d  SYN_RECV    192\.168\.75\.150:\d+ 192\.168\.75\.131:80\s+192\.168\.1\.190:80$/m);
});
