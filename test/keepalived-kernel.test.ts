/**
 * The configs `lvslab export` writes, loaded by the real keepalived (Debian 12's 2.2.7) into
 * the real Linux 6.1 IPVS (test/golden/kernel/keepalived-export.sh + .out): the table
 * keepalived makes is the one lvslab's director had after the lab, and its HTTP_GET check
 * takes a real server out when its nginx stops.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildLabFile, goldenSections } from "./helpers.js";
import { directors, ipvsadmSave, runForExport } from "../src/export/index.js";
import { Transcript } from "../src/lab/runner.js";

const GOLDEN = "test/golden/kernel/keepalived-export.out";

/** What the director's own ipvsadm prints after the lab's steps. */
async function simulated(rel: string, args: string[]): Promise<string> {
  const lab = buildLabFile(rel);
  await runForExport(lab);
  const host = lab.hosts.get(directors(lab)[0]!)!;
  if (args.join(" ") === "-S -n") return (await ipvsadmSave(host)).stdout;
  const io = new Transcript();
  await host.exec(["ipvsadm", ...args], io);
  return io.stdoutText;
}

/**
 * The two differences the exported config announces in its comments (export-features):
 * keepalived gives a fwmark service's real servers no port (FWM 7 had 192.168.1.190:8080),
 * and it makes no virtual server without real servers (TCP 10.0.0.100:443).
 */
function asKeepalivedMakesIt(text: string): string {
  const noEmpty = text.replace(/^-A -t 10\.0\.0\.100:443 -s rr\n/m, "").replace(/^TCP {2}10\.0\.0\.100:443 rr\n/m, "");
  const at = noEmpty.search(/^(-A -f 7 |FWM {2}7 )/m);
  return at < 0 ? noEmpty : noEmpty.slice(0, at) + noEmpty.slice(at).replace(/192\.168\.1\.190:8080( {2,})?/g, (_, pad: string | undefined) => `192.168.1.190:0${pad ? pad + "   " : ""}`);
}

test("keepalived loads each exported config into the real kernel as the table lvslab's director had", async () => {
  const g = goldenSections(GOLDEN);
  assert.match(g.get("version") ?? "", /^Keepalived v2\.2\.7 /);
  for (const [name, rel] of [
    ["lvs-nat", "labs/lvs-nat.yaml"],
    ["lvs-dr", "labs/lvs-dr.yaml"],
    ["lvs-tun", "labs/lvs-tun.yaml"],
    ["export-features", "test/labs/export-features.yaml"],
  ] as const) {
    const real = g.get(`${name} ipvsadm -S -n`);
    assert.ok(real, `${GOLDEN} has the ${name} table`);
    assert.equal(real, asKeepalivedMakesIt(await simulated(rel, ["-S", "-n"])), name);
  }
  // Thresholds are not in -S; the kernel's --thresholds listing has them as the lab set them.
  assert.equal(g.get("export-features ipvsadm -L -n --thresholds"), asKeepalivedMakesIt(await simulated("test/labs/export-features.yaml", ["-L", "-n", "--thresholds"])));
  assert.equal(g.get("export-features ipvsadm -L --timeout")?.trimEnd() + "\n", "Timeout (tcp tcpfin udp): 7200 120 300\n");
});

test("the exported HTTP_GET check keeps both nginx real servers, and takes one out when its nginx stops", () => {
  const g = goldenSections(GOLDEN);
  const up = g.get("lvs-nat after 15 s of health checks: ipvsadm -L -n") ?? "";
  assert.match(up, /^ {2}-> 192\.168\.1\.185:80 {13}Masq {4}1 /m);
  assert.match(up, /^ {2}-> 192\.168\.1\.190:80 {13}Masq {4}2 /m);
  const down = g.get("lvs-nat after nginx on rs1 stopped: ipvsadm -L -n") ?? "";
  assert.doesNotMatch(down, /192\.168\.1\.185/);
  assert.match(down, /^ {2}-> 192\.168\.1\.190:80 {13}Masq {4}2 /m);
});
