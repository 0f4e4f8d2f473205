/**
 * Replays test/golden/kernel/ipvsadm-errors.sh — ~150 ipvsadm 1.31 invocations on a real
 * Linux 6.1 — on a lab director whose ipvsadm talks to the real engine (src/ipvs), in
 * order (each case builds on the state the earlier ones left), and requires the same
 * stdout, stderr and exit status for every one. The ipvsadm unit tests replay the same
 * golden against a fake control plane; this proves the engine returns the kernel's errnos
 * and keeps the kernel's state.
 *
 * Known, deliberate differences (the engine is IPv4-only, as the fake is):
 *  - the IPv6 service and the IPv6 fwmark service cannot be created: those two cases are
 *    skipped and their lines removed from the later expected listings;
 *  - `--nosort` shows services in the kernel's hash order, which depends on a kernel
 *    pointer: only the dest order of that listing (newest first) is compared.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { runCommand } from "../src/lab/runner.js";
import { buildLabText, repoPath } from "./helpers.js";

interface Case {
  args: string;
  stdin?: string;
  stdout: string;
  stderr: string;
  exit: number;
}

function parseGolden(text: string): { cases: Case[]; dmesg: string[] } {
  const lines = text.split("\n");
  const cases: Case[] = [];
  const dmesg: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const head = lines[i++]!;
    if (head.startsWith("### dmesg")) {
      while (i < lines.length && !lines[i]!.startsWith("### ")) dmesg.push(lines[i++]!);
      break;
    }
    if (!head.startsWith("### ipvsadm")) continue;
    let spec = head.slice("### ipvsadm".length).trim();
    let stdin: string | undefined;
    const lt = spec.indexOf(" <<< ");
    if (lt >= 0) {
      stdin = spec.slice(lt + 5).replaceAll("|", "\n");
      spec = spec.slice(0, lt);
    }
    assert.equal(lines[i++], "--- stdout");
    let stdout = "";
    while (lines[i] !== "--- stderr") stdout += lines[i++] + "\n";
    i++;
    let stderr = "";
    while (!lines[i]!.startsWith("exit=")) stderr += lines[i++] + "\n";
    const exit = Number(lines[i++]!.slice(5));
    cases.push({ args: spec, stdin, stdout, stderr, exit });
  }
  return { cases, dmesg };
}

const isV6Line = (l: string): boolean => l.includes("[2001:db8::1]") || l.startsWith("FWM  3 IPv6") || l.startsWith("-A -f 3 -6");

const LAB = `
lab: ipvsadm-errors
segments:
  lan: { type: switch }
  dummy: { type: switch }
hosts:
  vip:
    ipvs: true
    nics:
      eth0: { segment: lan, addrs: [192.168.1.186/24] }
      # The script makes d0 with "ip link add d0 type dummy" for the sync daemon cases;
      # lvslab's ip has no "link add", so the lab gives the director that NIC from the start.
      d0: { segment: dummy, addrs: [10.9.9.9/24] }
`;

test("ipvsadm-errors golden: every invocation on the real engine, in order", async () => {
  const { cases, dmesg } = parseGolden(readFileSync(repoPath("test/golden/kernel/ipvsadm-errors.out"), "utf8"));
  assert.ok(cases.length >= 140);
  const lab = buildLabText(LAB, "ipvsadm-errors.yaml");
  const vip = lab.hosts.get("vip")!;
  const sh = async (line: string) => runCommand(vip, line);
  const setup = async (line: string) => {
    const r = await sh(line);
    assert.equal(r.exit, 0, `${line}: ${r.io.text}`);
  };
  // The script's preamble.
  await setup("modprobe ip_vs");
  for (const m of ["rr", "wrr", "lc", "wlc", "sh", "dh", "mh"]) await setup(`modprobe ip_vs_${m}`);
  await setup("echo '10.0.0.1 web1' >> /etc/hosts");
  const diffs: string[] = [];
  let compared = 0;
  for (const c of cases) {
    const line = `ipvsadm ${c.args}`.trimEnd();
    let cmd = line;
    if (c.stdin !== undefined) {
      vip.fs.mkdirp("/tmp");
      vip.fs.write("/tmp/in", c.stdin);
      cmd = `${line} < /tmp/in`;
    }
    const r = await sh(cmd);
    const v6Create = c.exit === 0 && (line.includes("[2001:db8::1]") || line.includes("-f 3 -6"));
    if (v6Create) continue;
    let want = c.stdout.split("\n").filter((l) => !isV6Line(l)).join("\n");
    let got = r.io.stdoutText;
    if (c.args.includes("--nosort")) {
      const destBlock = (s: string) => s.split("\n").filter((l) => l.startsWith("  -> 10.0.0.")).join("\n");
      want = destBlock(want);
      got = destBlock(got);
    }
    const problems: string[] = [];
    if (got !== want) problems.push(`stdout:\n${got}\n--- want:\n${want}`);
    if (r.io.stderrText !== c.stderr) problems.push(`stderr: ${JSON.stringify(r.io.stderrText)} want ${JSON.stringify(c.stderr)}`);
    if (r.exit !== c.exit) problems.push(`exit ${r.exit} want ${c.exit}`);
    if (problems.length > 0) diffs.push(`### ${line}\n${problems.join("\n")}`);
    compared++;
  }
  assert.deepEqual(diffs, []);
  assert.ok(compared >= 135);
  // Kernel log: the same IPVS lines, timestamps and the sync thread's pid aside.
  const norm = (l: string) => l.replace(/^\[\s*\d+\.\d+\] /, "").replace(/thread \d+/, "thread PID");
  const ours = (await sh("dmesg")).io.stdoutText.split("\n").filter((l) => /ipvs/i.test(l)).map(norm);
  assert.deepEqual(ours, dmesg.filter((l) => l !== "").map(norm));
});
