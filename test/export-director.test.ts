/**
 * `lvslab export --format director` with `--format real-servers`: both halves of a lab,
 * exported after its steps, rebuild it on a pristine copy of the lab (no step run) — the
 * clients' curls reach the real servers in the scheduler's proportions — and on the real
 * Linux 6.1 kernel for the seed's lab (test/golden/kernel/director-export.{sh,out}: the seed
 * lab's namespaces without the real servers' gateway, both scripts run verbatim, six curls).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { buildLabFile, repoPath } from "./helpers.js";
import { exportDirector, exportRealServers, runForExport } from "../src/export/index.js";
import { runCommand } from "../src/lab/runner.js";
import type { BuiltLab } from "../src/lab/build.js";

const WHEN = "after all the lab's steps";
/** The seed's wrr 1:2 order, as labs/lvs-nat.yaml expects it and the kernel recording served it. */
const SEED_ORDER = ["2222222222222slave", "1111111111111master", "2222222222222slave", "2222222222222slave", "1111111111111master", "2222222222222slave"];

async function scripts(rel: string, director: string): Promise<{ dir: string; rs: string; warnings: string[] }> {
  const lab = buildLabFile(rel);
  const report = await runForExport(lab);
  assert.ok(report.steps.every((s) => s.ok), rel);
  const d = await exportDirector(lab, director, WHEN);
  const r = exportRealServers(lab, director, WHEN);
  return { dir: d.text, rs: r.text, warnings: [...d.warnings, ...r.warnings] };
}

async function sh(lab: BuiltLab, host: string, line: string): Promise<{ exit: number; out: string; err: string }> {
  const r = await runCommand(lab.hosts.get(host)!, line);
  return { exit: r.exit, out: r.io.stdoutText, err: r.io.stderrText };
}

test("export director + real-servers: a pristine copy of the lab, set up by the two scripts, serves as the lab did", async () => {
  const cases: Array<[lab: string, director: string, client: string, vip: string, rs: string[], want: Record<string, number>]> = [
    ["labs/lvs-nat.yaml", "vip", "client", "192.168.75.131", ["real_server1", "real_server2"], { "1111111111111master": 2, "2222222222222slave": 4 }],
    ["labs/lvs-dr.yaml", "director", "client", "192.168.1.100", ["real_server1", "real_server2"], { "1111111111111master": 3, "2222222222222slave": 3 }],
    ["labs/lvs-tun.yaml", "director", "client", "192.168.1.100", ["real_server1", "real_server2"], { "1111111111111master": 3, "2222222222222slave": 3 }],
    ["labs/lvs-nat-one-armed-router.yaml", "director", "client", "192.168.1.100", ["real_server1", "real_server2"], { "1111111111111master": 3, "2222222222222slave": 3 }],
  ];
  for (const [rel, director, client, vip, servers, want] of cases) {
    const { dir, rs, warnings } = await scripts(rel, director);
    assert.deepEqual(warnings, [], rel);
    const lab = buildLabFile(rel);
    // Untouched, the VIP does not answer.
    assert.notEqual((await sh(lab, client, `curl -sS -m 1 ${vip}`)).exit, 0, `${rel}: nothing before the scripts`);
    lab.hosts.get(director)!.fs.write("/root/director.sh", dir);
    const d = await sh(lab, director, "sh /root/director.sh");
    assert.deepEqual(d, { exit: 0, out: "", err: "" }, `${rel}: director script`);
    for (const h of servers) {
      lab.hosts.get(h)!.fs.write("/root/rs.sh", rs);
      assert.deepEqual(await sh(lab, h, "sh /root/rs.sh"), { exit: 0, out: "", err: "" }, `${rel}: ${h}`);
    }
    const got: Record<string, number> = {};
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await sh(lab, client, `curl -sS -m 2 ${vip}`);
      assert.equal(r.exit, 0, `${rel}: curl ${i}: ${r.err}`);
      got[r.out.trim()] = (got[r.out.trim()] ?? 0) + 1;
      order.push(r.out.trim());
    }
    assert.deepEqual(got, want, rel);
    if (rel === "labs/lvs-nat.yaml") assert.deepEqual(order, SEED_ORDER);
    // Run again: the same table, no error.
    const table = (await sh(lab, director, "ipvsadm -S -n")).out;
    assert.deepEqual(await sh(lab, director, "sh /root/director.sh"), { exit: 0, out: "", err: "" });
    assert.equal((await sh(lab, director, "ipvsadm -S -n")).out, table);
  }
});

test("export director: firewall marks, changed knobs, timeouts and a sync daemon are carried; what the table lacks is warned", async () => {
  const done = buildLabFile("test/labs/export-features.yaml");
  await runForExport(done);
  const before = await exportDirector(done, "dir", WHEN);
  assert.deepEqual(before.warnings, [
    "dir has NAT real servers but ip_forward was 0 in the lab: their replies are not forwarded back to the clients",
    "dir has firewall-mark services but no mangle rules in the lab: nothing marks their packets",
  ]);
  const more = "iptables -t mangle -N MARKS; iptables -t mangle -A PREROUTING -d 10.0.0.100/32 -j MARKS; " +
    "iptables -t mangle -A MARKS -p tcp -m multiport --dports 25,110 -j MARK --set-mark 7; " +
    "sysctl -q -w net.ipv4.ip_forward=1; sysctl -q -w net.ipv4.vs.expire_nodest_conn=1; sysctl -q -w net.ipv4.vs.sloppy_tcp=1";
  assert.equal((await sh(done, "dir", more)).exit, 0);
  const { text, warnings } = await exportDirector(done, "dir", WHEN);
  assert.deepEqual(warnings.filter((w) => !w.includes("lvslab extensions")), []);
  const lab = buildLabFile("test/labs/export-features.yaml");
  lab.hosts.get("dir")!.fs.write("/root/director.sh", text);
  assert.deepEqual(await sh(lab, "dir", "sh /root/director.sh"), { exit: 0, out: "", err: "" });
  assert.deepEqual(await sh(lab, "dir", "sh /root/director.sh"), { exit: 0, out: "", err: "" }, "twice");
  const state = ["ipvsadm -S -n", "ipvsadm -L -n --timeout", "ipvsadm -L -n --daemon", "iptables -t mangle -S",
    "sysctl net.ipv4.ip_forward net.ipv4.vs.expire_nodest_conn net.ipv4.vs.sloppy_tcp net.ipv4.vs.conntrack"];
  for (const cmd of state) assert.equal((await sh(lab, "dir", cmd)).out, (await sh(done, "dir", cmd)).out, cmd);
  assert.match((await sh(lab, "dir", "iptables -t mangle -S")).out, /-A MARKS -p tcp -m multiport --dports 25,110 -j MARK --set-xmark 0x7\/0xffffffff/);
  assert.match((await sh(lab, "dir", "ipvsadm -L -n --daemon")).out, /master sync daemon \(mcast=eth0, syncid=5/);
});

test("export director: the kernel recording ran today's scripts and served the seed's wrr order", async () => {
  const sh0 = readFileSync(repoPath("test/golden/kernel/director-export.sh"), "utf8");
  const out = readFileSync(repoPath("test/golden/kernel/director-export.out"), "utf8");
  const heredoc = (name: string): string => {
    const m = new RegExp(`<<'${name}'\\n([\\s\\S]*?)\\n${name}\\n`).exec(sh0);
    assert.ok(m, name);
    return m![1]! + "\n";
  };
  const { dir, rs } = await scripts("labs/lvs-nat.yaml", "vip");
  assert.equal(heredoc("DIRECTOR_EOF"), dir, "re-record if the export changed");
  assert.equal(heredoc("RS_EOF"), rs, "re-record if the export changed");
  assert.match(out, /### vip\nexit=0\n/);
  assert.match(out, /### rs1\nexit=0\n/);
  assert.match(out, /### rs2\nexit=0\n/);
  const curls = out.split("### curls\n")[1]!.split("###")[0]!.trim().split("\n");
  assert.deepEqual(curls, SEED_ORDER);
});

test("export CLI: the setup scripts on stdout, warnings on stderr, exit 1 only when a need could not be met", () => {
  const run = (args: string[]) => spawnSync(process.execPath, [repoPath("dist", "src", "cli", "main.js"), ...args], { cwd: repoPath(), encoding: "utf8", timeout: 60_000 });
  const fn = run(["export", "lvs-fullnat-toa", "--format", "director"]);
  assert.equal(fn.status, 0);
  assert.match(fn.stdout, /^#!\/bin\/sh\n/);
  assert.match(fn.stdout, /^ip addr replace 192\.168\.1\.200\/24 dev eth0$/m);
  assert.equal(fn.stderr, "lvslab: warning: vip: its --fullnat, --add-laddr and --proxy-protocol options are lvslab extensions (after DPVS and Alibaba LVS): mainline ipvsadm-restore refuses them\n");
  const ng = run(["export", "lvs-nat-no-gateway", "--format", "real-servers"]);
  assert.equal(ng.status, 0);
  assert.equal(ng.stderr.split("\n").filter((l) => l.startsWith("lvslab: warning: ")).length, 2);
  // After no step the director has no service: nothing to set up, said, exit 1.
  const empty = run(["export", "lvs-nat", "--format", "real-servers", "--after-step", "0"]);
  assert.equal(empty.status, 1);
  assert.match(empty.stdout, /the director's table has no real server to set up" >&2\nexit 1\n$/);
  assert.match(empty.stderr, /warning: vip has no IPVS service after the lab's first 0 steps\n.*warning: vip has no real server to set up/s);
});
