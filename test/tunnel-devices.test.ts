/**
 * A real server's tunnel set-up commands against the real Linux 6.1 kernel and iproute2 6.1
 * (test/golden/kernel/tunnel-devices.{sh,out}): `ip fou` with and without the fou module,
 * its errors and its listing, the fallback devices `modprobe ip_gre` and `modprobe ipip` make,
 * and gre0 and tunl0 once up with an address. The simulated host runs the same commands in
 * the same order; lsmod and ss are left out (lvslab's lsmod lists IPVS only; its ss has no
 * UDP sockets), and so is the kernel's IPv6 link-local line on gre0 (no IPv6 here).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { buildLabText, repoPath } from "./helpers.js";
import { runCommand } from "../src/lab/runner.js";

function sections(text: string): Map<string, string> {
  const m = new Map<string, string>();
  let cur: string | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("### ")) m.set((cur = line.slice(4)), "");
    else if (cur !== undefined) m.set(cur, m.get(cur)! + line + "\n");
  }
  return m;
}

test("tunnel devices and ip fou: the simulated host prints what the kernel recording printed", async () => {
  const script = readFileSync(repoPath("test/golden/kernel/tunnel-devices.sh"), "utf8");
  const kernel = sections(readFileSync(repoPath("test/golden/kernel/tunnel-devices.out"), "utf8"));
  // The recording's commands, without its namespace wrapper and the sections left out.
  const body = script
    .split("\n")
    .filter((l) => !l.startsWith("#") && !/^(set |ip netns add|ns\(\)|ns ip link set lo up)/.test(l))
    .filter((l) => !/lsmod|ss -uan|ip -d link/.test(l))
    .map((l) => l.replace(/\bns /g, ""))
    .join("\n");
  const lab = buildLabText("lab: tunnels\nhosts:\n  rs: {}\n", "tunnels.yaml");
  const host = lab.hosts.get("rs")!;
  host.fs.write("/root/t.sh", body);
  const r = await runCommand(host, "sh /root/t.sh 2>&1");
  assert.equal(r.exit, 0);
  const ours = sections(r.io.stdoutText);
  assert.ok(ours.size >= 20, `sections: ${[...ours.keys()].join(", ")}`);
  for (const [title, got] of ours) {
    const want = kernel.get(title);
    assert.ok(want !== undefined, `no section ${title} in the recording`);
    const drop = (t: string) => t.replace(/    inet6 fe80::.*\n.*\n/g, "");
    assert.equal(got, drop(want!), title);
  }
});
