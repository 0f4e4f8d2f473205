/**
 * `lvslab export --format real-servers`: the script each real server needs. Run on the lab's
 * own unconfigured real servers, it must make every service answer (NAT, DR, and TUN over
 * IPIP, GRE and GUE); run twice it changes nothing; run elsewhere it refuses. The same script
 * ran on the real Linux 6.1 kernel for every method, GRE and GUE included
 * (test/golden/kernel/real-servers-export.{sh,out}); the fixture must still be what lvslab
 * exports, and its curls must have reached the real servers the schedulers chose.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { buildLabFile, buildLabText, repoPath, transcriptBlocks } from "./helpers.js";
import { exportRealServers, ipvsadmSave, runForExport } from "../src/export/index.js";
import { runCommand, runSteps } from "../src/lab/runner.js";
import type { BuiltLab } from "../src/lab/build.js";

const LAB = "test/labs/export-real-servers.yaml";
const WHEN = "after all the lab's steps";

async function exported(rel: string): Promise<{ lab: BuiltLab; text: string; warnings: string[]; incomplete: number }> {
  const lab = buildLabFile(rel);
  const report = await runForExport(lab);
  assert.ok(report.steps.every((s) => s.ok), `${rel}: the lab's steps went as expected`);
  const director = [...lab.hosts.values()].find((h) => h.ipvs)!.name;
  return { lab, ...exportRealServers(lab, director, WHEN) };
}

async function sh(lab: BuiltLab, host: string, line: string): Promise<{ exit: number; out: string; err: string }> {
  const r = await runCommand(lab.hosts.get(host)!, line);
  return { exit: r.exit, out: r.io.stdoutText, err: r.io.stderrText };
}

async function applyScript(lab: BuiltLab, text: string, hosts: string[]): Promise<void> {
  for (const h of hosts) {
    lab.hosts.get(h)!.fs.write("/root/rs.sh", text);
    const r = await sh(lab, h, "sh /root/rs.sh");
    assert.deepEqual(r, { exit: 0, out: "", err: "" }, `${h}: the exported script runs cleanly`);
  }
}

test("export real-servers: unconfigured real servers work once the script has run on them", async () => {
  const { lab, text, warnings, incomplete } = await exported(LAB);
  assert.equal(incomplete, 0);
  // The lab left everything undone, and the export says so for each server.
  for (const rs of ["real_server1", "real_server2"]) {
    assert.ok(warnings.includes(`${rs}: in the lab its replies do not go through the director (it has no default route); the script routes them via 192.168.1.186`));
    assert.ok(warnings.includes(`${rs}: in the lab it does not hold the VIP 192.168.1.100: the director's frames for it would be dropped`));
    assert.ok(warnings.includes(`${rs}: in the lab arp_ignore was 0 on eth0: it would answer ARP for the VIP`));
  }
  // Before: the NAT service's reply leaves by no route, the DR one is dropped.
  assert.notEqual((await sh(lab, "client", "curl -sS -m 1 192.168.75.131")).exit, 0);
  assert.notEqual((await sh(lab, "client2", "curl -sS -m 1 192.168.1.100")).exit, 0);

  await applyScript(lab, text, ["real_server1", "real_server2"]);
  // Every service reaches both real servers (NAT from the outside client; DR, IPIP/GRE and
  // GUE from the LAN's, which the real servers answer straight), as on the real kernel.
  for (const vip of ["192.168.75.131", "192.168.1.100", "192.168.1.101", "192.168.1.102"]) {
    const got: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await sh(lab, vip.startsWith("192.168.75.") ? "client" : "client2", `curl -sS -m 2 ${vip}`);
      assert.equal(r.exit, 0, `curl ${vip}: ${r.err}`);
      got.push(r.out.trim());
    }
    assert.deepEqual(got.sort(), ["1111111111111master", "2222222222222slave"], vip);
  }
  const rs1 = await sh(lab, "real_server1", "ip -4 addr show tunl0");
  assert.match(rs1.out, /inet 192\.168\.1\.101\/32 .*tunl0/);
  assert.equal((await sh(lab, "real_server1", "sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.tunl0.rp_filter")).out, "1\n2\n0\n");

  // Exported again, the lab as the script left it has nothing left to warn about.
  const again = exportRealServers(lab, "director", WHEN);
  assert.deepEqual(again.warnings, []);
  assert.equal(again.text, text);

  // Twice: the same state, no error.
  const state = "ip addr show; ip route; ip fou show; sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.all.rp_filter net.ipv4.conf.tunl0.rp_filter net.ipv4.conf.gre0.rp_filter";
  for (const rs of ["real_server1", "real_server2"]) {
    const before = (await sh(lab, rs, state)).out;
    assert.match(before, /^port 6080 gue$/m);
    await applyScript(lab, text, [rs]);
    assert.equal((await sh(lab, rs, state)).out, before, rs);
  }

  // Elsewhere: one line, exit 1, nothing changed.
  lab.hosts.get("client")!.fs.write("/root/rs.sh", text);
  const c = await sh(lab, "client", "sh /root/rs.sh");
  assert.equal(c.exit, 1);
  assert.equal(c.err, "/root/rs.sh: this host has none of the real servers' addresses (192.168.1.185, 192.168.1.190)\n");
  assert.doesNotMatch((await sh(lab, "client", "ip addr show lo")).out, /192\.168\.1\.100/);
});

test("export real-servers: a broken lab's real servers are mended, and the warning says what was wrong", async () => {
  const cases: Array<[lab: string, warning: string, vip: string]> = [
    ["labs/lvs-nat-no-gateway.yaml", "real_server2: in the lab its replies do not go through the director (its default gateway is 192.168.1.1 (router)); the script routes them via 192.168.1.186", "192.168.75.131"],
    ["labs/lvs-tun-rp-filter.yaml", "real_server2: in the lab rp_filter was strict (1) on tunl0: the tunnelled packets were dropped", "192.168.1.100"],
  ];
  for (const [rel, warning, vip] of cases) {
    const { lab, text, warnings } = await exported(rel);
    assert.ok(warnings.includes(warning), `${rel}: ${warnings.join(" | ")}`);
    assert.notEqual((await sh(lab, "client", `curl -sS -m 1 ${vip}`)).exit, 0, `${rel}: broken before`);
    await applyScript(lab, text, ["real_server1", "real_server2"]);
    for (let i = 0; i < 2; i++) assert.equal((await sh(lab, "client", `curl -sS -m 2 ${vip}`)).exit, 0, `${rel}: works after`);
  }
});

test("export real-servers: a lab that was right gives no warning, and the script is valid sh", async () => {
  for (const rel of ["labs/lvs-nat.yaml", "labs/lvs-dr.yaml", "labs/lvs-tun.yaml", "labs/lvs-fullnat-toa.yaml"]) {
    const { text, warnings, incomplete } = await exported(rel);
    assert.deepEqual(warnings, [], rel);
    assert.equal(incomplete, 0);
    const dash = spawnSync("sh", ["-n"], { input: text, encoding: "utf8" });
    assert.equal(dash.status, 0, `${rel}: sh -n: ${dash.stderr}`);
  }
  const toa = (await exported("labs/lvs-fullnat-toa.yaml")).text;
  assert.match(toa, /setup_real_server1\(\) \{\n(?: {4}#.*\n)+ {4}modprobe toa\n\}/, "toa where the lab loaded it");
  assert.match(toa, /setup_real_server2\(\) \{\n(?: {4}#.*\n)+ {4}:\n\}/, "nothing to run on the other");
});

test("export real-servers: the kernel recording ran the script lvslab exports today", async () => {
  const sh = readFileSync(repoPath("test/golden/kernel/real-servers-export.sh"), "utf8");
  const out = readFileSync(repoPath("test/golden/kernel/real-servers-export.out"), "utf8");
  const heredoc = (name: string): string => {
    const m = new RegExp(`<<'${name}'\\n([\\s\\S]*?)\\n${name}\\n`).exec(sh);
    assert.ok(m, `heredoc ${name}`);
    return m![1]! + "\n";
  };
  const { lab, text } = await exported(LAB);
  assert.equal(heredoc("RS_EOF"), text, "the recorded real-servers script is today's export (re-record if it changed)");
  // The director's rules went in with ipvsadm -R, and the kernel saved them back unchanged.
  const rules = (await ipvsadmSave(lab.hosts.get("director")!)).stdout;
  assert.equal(heredoc("IPVS_EOF"), rules);
  assert.ok(out.startsWith(`### ipvsadm -R\nexit=0\n${rules}### rs1\nexit=0\n`), "ipvsadm -S -n on the kernel");
  // Every service answered on the real kernel, from the real servers rr picks.
  for (const vip of ["192.168.75.131", "192.168.1.100", "192.168.1.101", "192.168.1.102"]) {
    const block = out.split(`### curl ${vip}\n`)[1]?.split("###")[0] ?? "";
    assert.deepEqual(block.trim().split("\n").sort(), ["1111111111111master", "2222222222222slave", "exit=0", "exit=0"], `${vip}: ${block}`);
  }
  assert.match(out, /### again rs1\nexit=0\n/);
  assert.match(out, /### client\n.*none of the real servers' addresses.*\nexit=1\n/);
});

test("export real-servers: the director's GRE and GUE packets have the kernel's outer headers", async () => {
  const steps = `
  - { on: real_server1, run: "sh /root/rs.sh", expect: { exit: 0, stdout: "", stderr: "" } }
  - { on: real_server2, run: "sh /root/rs.sh", expect: { exit: 0, stdout: "", stderr: "" } }
  - { on: director, run: "tcpdump -nn -v -i eth0 'ip proto 47 or udp port 6080'", background: true, name: cap }
  - { on: director, run: "tcpdump -nn -x -c 1 -i eth0 'ip proto 47'", background: true, name: hexgre }
  - { on: director, run: "tcpdump -nn -x -c 1 -i eth0 'udp port 6080'", background: true, name: hexgue }
  - { sleep: 1s }
  - { on: client2, run: "curl -sS -m 3 192.168.1.101", expect: { exit: 0 } }
  - { sleep: 1s }
  - { on: client2, run: "curl -sS -m 3 192.168.1.101", expect: { exit: 0 } }
  - { sleep: 1s }
  - { on: client2, run: "curl -sS -m 3 192.168.1.102", expect: { exit: 0 } }
  - { sleep: 1s }
  - { on: client2, run: "curl -sS -m 3 192.168.1.102", expect: { exit: 0 } }
  - { sleep: 1s }
  - { stop: cap }
  - { stop: hexgre }
  - { stop: hexgue }
`;
  const { text } = await exported(LAB);
  const lab = buildLabText(readFileSync(repoPath(LAB), "utf8") + steps, LAB);
  for (const h of ["real_server1", "real_server2"]) lab.hosts.get(h)!.fs.write("/root/rs.sh", text);
  let transcript = "";
  const report = await runSteps(lab, { out: (s) => (transcript += s) });
  assert.ok(report.steps.every((s) => s.ok), report.steps.filter((s) => !s.ok).map((s) => `${s.description}: ${s.problems.join("; ")}`).join("\n"));
  // The outer IPv4 header and the line after it, per packet; the GUE source port (a hash of
  // the flow, keyed per boot in the kernel) as PORT.
  const outer = (t: string): string[] => {
    const lines = t.split("\n");
    const out: string[] = [];
    lines.forEach((l, i) => {
      const m = /^\d\d:\d\d:\d\d\.\d{6} (IP \(tos .*proto (?:GRE|UDP) .*)$/.exec(l);
      if (m) out.push(`${m[1]} | ${lines[i + 1]!.replace(/^(\s+192\.168\.1\.186)\.\d+ /, "$1.PORT ")}`);
    });
    return out;
  };
  const kernel = outer(readFileSync(repoPath("test/golden/kernel/real-servers-export.out"), "utf8").split("### tcpdump -nn -v -r")[1]!.split("###")[0]!);
  const ours = outer(transcriptBlocks(transcript).find((b) => b.prompt.includes("tcpdump -nn -v"))!.output);
  assert.equal(kernel.length, 18, "the recording: one GRE connection (6 packets), two GUE ones");
  assert.deepEqual(ours, kernel);
  // The first GRE and GUE packets' bytes: the outer IPv4 header, then GRE's 4 bytes, or UDP
  // (all but the source port) and GUE's 4 bytes, as the kernel's -x dump has them.
  const hex = (t: string): string[] => t.split("\n").filter((l) => /^\t0x/.test(l)).join(" ").replace(/\t0x[0-9a-f]+:\s+/g, " ").trim().split(/\s+/).join("").match(/../g)!;
  const kx = readFileSync(repoPath("test/golden/kernel/real-servers-export.out"), "utf8").split("### tcpdump -nn -x -r")[1]!.split("###")[0]!;
  const [kGre, kGue] = kx.split(/\n(?=\d\d:)/).filter((b) => /^\d\d:/.test(b.trim())).map(hex);
  const block = (cmd: string) => transcriptBlocks(transcript).find((b) => b.prompt.includes(cmd))!.output;
  const oGre = hex(block("-c 1 -i eth0 'ip proto 47'"));
  const oGue = hex(block("-c 1 -i eth0 'udp port 6080'"));
  assert.ok(oGre.length >= 44 && kGre!.length >= 44 && oGue.length >= 52 && kGue!.length >= 52, "both dumps hold the headers");
  assert.deepEqual(oGre.slice(0, 24), kGre!.slice(0, 24), "GRE");
  const gueHdr = (b: string[]) => [...b.slice(0, 20), ...b.slice(22, 32)];
  assert.deepEqual(gueHdr(oGue), gueHdr(kGue!), "GUE");
  assert.deepEqual(kGue!.slice(28, 32), ["00", "04", "00", "00"]);
});
