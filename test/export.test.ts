/**
 * `lvslab export`: every bundled lab's director as a keepalived.conf that carries each
 * service and real server (checked by the real keepalived -t when it is installed), the
 * ipvsadm rules exactly as the simulated `ipvsadm -S -n` prints them, golden configs, and
 * the one-line errors for bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildLabFile, repoPath, runLabFile } from "./helpers.js";
import { directors, exportKeepalived, runForExport } from "../src/export/index.js";
import { runCommand } from "../src/lab/runner.js";
import { FwdMethod, type ServiceEntry } from "../src/ipvs/api.js";
import { formatIp4 } from "../src/wire/addr.js";
import { keepalivedSkipReason, keepalivedTest } from "./keepalived-helpers.js";

const MAIN = repoPath("dist", "src", "cli", "main.js");

function lvslab(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: repoPath(), encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const BUNDLED = readdirSync(repoPath("labs")).filter((f) => f.endsWith(".yaml")).map((f) => f.replace(/\.yaml$/, "")).sort();
const FEATURES = "test/labs/export-features.yaml";

/** A keepalived.conf as a tree of `words [{ children }]`, comments dropped. */
interface Node {
  words: string[];
  children?: Node[];
}
function parseConf(text: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#!].*/, "").trim();
    if (line === "") continue;
    if (line === "}") {
      stack.pop();
      assert.ok(stack.length > 0, "unbalanced }");
      continue;
    }
    const open = line.endsWith("{");
    const node: Node = { words: line.replace(/\{$/, "").trim().split(/\s+/) };
    stack[stack.length - 1]!.push(node);
    if (open) {
      node.children = [];
      stack.push(node.children);
    }
  }
  assert.equal(stack.length, 1, "unbalanced {");
  return root;
}
const kw = (n: Node, k: string): Node | undefined => n.children?.find((c) => c.words[0] === k);
const kwAll = (n: Node, k: string): Node[] => n.children?.filter((c) => c.words[0] === k) ?? [];

function kindOf(fwd: FwdMethod): string {
  return fwd === FwdMethod.Masq ? "NAT" : fwd === FwdMethod.Tunnel ? "TUN" : "DR";
}

/** Every service with real servers (not FullNAT) is a virtual_server with its real servers, kinds and weights. */
function assertCarries(conf: string, services: readonly ServiceEntry[], where: string): void {
  const vss = parseConf(conf).filter((n) => n.words[0] === "virtual_server");
  const live = services.filter((se) => se.dests.length > 0 && !se.dests.some((d) => d.fwd === FwdMethod.FullNat));
  assert.equal(vss.length, live.length, `${where}: one virtual_server per service`);
  for (const se of live) {
    const head = se.key.fwmark ? ["virtual_server", "fwmark", String(se.key.fwmark)] : ["virtual_server", formatIp4(se.key.addr!), String(se.key.port)];
    const vs = vss.find((n) => n.words.join(" ") === head.join(" "));
    assert.ok(vs, `${where}: ${head.join(" ")} is missing`);
    assert.deepEqual(kw(vs, "lb_algo")?.words, ["lb_algo", se.scheduler], `${where}: ${head.join(" ")} lb_algo`);
    const vsKind = kw(vs, "lb_kind")!.words[1]!;
    const rss = kwAll(vs, "real_server");
    assert.equal(rss.length, se.dests.length, `${where}: ${head.join(" ")}: one real_server per destination`);
    for (const d of se.dests) {
      const rs = rss.find((n) => n.words[1] === formatIp4(d.addr) && (se.key.fwmark ? n.words.length === 2 : n.words[2] === String(d.port)));
      assert.ok(rs, `${where}: real_server ${formatIp4(d.addr)}:${d.port} is missing`);
      assert.deepEqual(kw(rs, "weight")?.words, ["weight", String(d.weight)], `${where}: weight of ${formatIp4(d.addr)}`);
      assert.equal(kw(rs, "lvs_method")?.words[1] ?? vsKind, kindOf(d.fwd), `${where}: forwarding of ${formatIp4(d.addr)}`);
      assert.ok(rs.children!.some((c) => /_CHECK$|^HTTP_GET$/.test(c.words[0]!)), `${where}: ${formatIp4(d.addr)} has a health check`);
    }
  }
}

async function exportOf(rel: string): Promise<{ conf: string; services: ServiceEntry[]; warnings: string[]; omitted: number }> {
  const lab = buildLabFile(rel);
  const [dir] = directors(lab);
  assert.ok(dir, `${rel} has a director`);
  await runForExport(lab);
  const k = exportKeepalived(lab, dir, "after the steps");
  return { conf: k.text, services: lab.hosts.get(dir)!.ipvs!.services(), warnings: k.warnings, omitted: k.omitted };
}

test("every bundled lab has a director, and its keepalived.conf carries each service, real server, kind and weight", async () => {
  assert.ok(BUNDLED.length >= 10, BUNDLED.join(" "));
  for (const name of BUNDLED) {
    const { conf, services } = await exportOf(`labs/${name}.yaml`);
    assert.ok(services.length > 0, `${name}: the director has services after the steps`);
    assertCarries(conf, services, name);
  }
});

test("the keepalived export spells every option of the table as keepalived reads it", async () => {
  const { conf, services, warnings, omitted } = await exportOf(FEATURES);
  assertCarries(conf, services, "export-features");
  assert.equal(omitted, 0);
  const vs = (head: string): Node => parseConf(conf).find((n) => n.words.join(" ") === head)!;
  const words = (n: Node): string[] => n.children!.filter((c) => !c.children).map((c) => c.words.join(" "));
  // The scheduler flags come after lb_algo (keepalived reads them against the scheduler).
  assert.deepEqual(words(vs("virtual_server 10.0.0.100 80")), [
    "delay_loop 6", "lb_algo sh", "sh-fallback", "sh-port", "lb_kind NAT", "protocol TCP", "persistence_timeout 600", "persistence_granularity 255.255.255.0",
  ]);
  assert.deepEqual(words(vs("virtual_server 10.0.0.100 8080")), ["delay_loop 6", "lb_algo mh", "mh-port", "lb_kind TUN type gre csum", "protocol TCP"]);
  assert.deepEqual(words(vs("virtual_server 10.0.0.100 53")), ["delay_loop 6", "lb_algo wlc", "ops", "lb_kind NAT", "protocol UDP"]);
  assert.deepEqual(words(vs("virtual_server 10.0.0.100 5060")), ["delay_loop 6", "lb_algo rr", "lb_kind NAT", "protocol UDP", "persistence_timeout 60", "persistence_engine sip"]);
  assert.deepEqual(words(vs("virtual_server fwmark 7")), ["delay_loop 6", "lb_algo lblcr", "lb_kind DR"]);
  const rs = (v: string, r: string): Node => kwAll(vs(v), "real_server").find((n) => n.words.slice(1).join(" ") === r)!;
  assert.deepEqual(words(rs("virtual_server 10.0.0.100 80", "192.168.1.185 80")), ["weight 3", "uthreshold 100", "lthreshold 50"]);
  assert.deepEqual(words(rs("virtual_server 10.0.0.100 80", "192.168.1.190 80")), ["weight 1", "lvs_method DR"]);
  assert.deepEqual(words(rs("virtual_server 10.0.0.100 8080", "192.168.1.190 8080")), ["weight 2", "lvs_method TUN type gue port 6080 csum"]);
  // Health checks: nginx with its index page -> HTTP_GET /; without it, or no nginx -> TCP_CHECK; UDP -> UDP_CHECK.
  const check = (v: string, r: string): Node => rs(v, r).children!.find((c) => c.children)!;
  assert.equal(check("virtual_server 10.0.0.100 80", "192.168.1.185 80").words[0], "HTTP_GET");
  assert.deepEqual(kw(kw(check("virtual_server 10.0.0.100 80", "192.168.1.185 80"), "url")!, "path")!.words, ["path", "/"]);
  assert.equal(check("virtual_server 10.0.0.100 80", "192.168.1.190 80").words[0], "TCP_CHECK");
  assert.deepEqual(kw(check("virtual_server 10.0.0.100 22", "172.16.0.9 22"), "connect_port")!.words, ["connect_port", "22"]);
  assert.equal(check("virtual_server 10.0.0.100 53", "192.168.1.185 53").words[0], "UDP_CHECK");
  // A fwmark service's real servers have no port; the check says which port to connect to.
  assert.deepEqual(kw(check("virtual_server fwmark 7", "192.168.1.185"), "connect_port")!.words, ["connect_port", "80"]);
  assert.deepEqual(kw(check("virtual_server fwmark 7", "192.168.1.190"), "connect_port")!.words, ["connect_port", "8080"]);
  assert.match(conf, /# ipvsadm gave it port 8080: keepalived cannot/);
  // Timeouts, the sync daemon, the empty service, the VRRP addresses.
  const g = parseConf(conf).find((n) => n.words[0] === "global_defs")!;
  assert.deepEqual(words(g), ["router_id dir", "lvs_timeouts tcp 7200 tcpfin 120 udp 300", "lvs_sync_daemon eth0 VI_1 id 5"]);
  assert.match(conf, /^# TCP 10\.0\.0\.100:443 has no real servers: keepalived ignores a virtual_server without any\.$/m);
  const vrrp = parseConf(conf).find((n) => n.words[0] === "vrrp_instance")!;
  assert.deepEqual(kw(vrrp, "virtual_ipaddress")!.children!.map((c) => c.words.join(" ")), ["10.0.0.100/24 dev eth1", "192.168.1.186/24 dev eth0"]);
  assert.equal(kw(vrrp, "authentication"), undefined, "no made-up password");
  assert.deepEqual(warnings, [
    "TCP 10.0.0.100:443: has no real servers; keepalived creates no virtual server without one",
    "FWM 7: real server 192.168.1.190:8080: keepalived drops the port of a fwmark service's real server",
  ]);
});

test("FullNAT services are left out of the live config, commented, with a warning and exit 1", async () => {
  const r = lvslab(["export", "lvs-fullnat"]);
  assert.equal(r.code, 1, r.err);
  assert.equal(parseConf(r.out).filter((n) => n.words[0] === "virtual_server").length, 0);
  assert.match(r.out, /^# TCP 192\.168\.75\.131:80 is left out: FullNAT \(--fullnat\) is an lvslab extension/m);
  assert.match(r.out, /^# {3}local_address_group laddr_192_168_75_131_80 \{\n# {7}192\.168\.1\.200 eth0$/m);
  assert.match(r.out, /^# {7}lb_kind FNAT$/m);
  assert.equal(r.err.split("\n").filter((l) => l.startsWith("lvslab: warning: TCP 192.168.75.131:")).length, 3, r.err);
});

test("--format ipvsadm prints what ipvsadm -S -n prints on the director after the run", async () => {
  for (const name of ["lvs-nat", "lvs-dr", "lvs-tun", "lvs-fullnat"]) {
    const { lab } = await runLabFile(`labs/${name}.yaml`);
    const host = lab.hosts.get(directors(lab)[0]!)!;
    const want = await runCommand(host, "ipvsadm -S -n");
    assert.equal(want.exit, 0);
    const r = lvslab(["export", name, "--format", "ipvsadm"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, want.io.stdoutText, name);
    assert.match(r.out, /^-A -t 192\.168\.(75\.131|1\.100):80 -s w?rr\n/, name);
  }
  const f = lvslab(["export", "lvs-fullnat", "--format=ipvsadm"]);
  assert.match(f.out, /^--add-laddr -t 192\.168\.75\.131:80 -z 192\.168\.1\.200$/m);
  assert.match(f.err, /^lvslab: warning: TCP 192\.168\.75\.131:80: its --fullnat, --add-laddr and --proxy-protocol options are lvslab extensions/m);
  const t = lvslab(["export", FEATURES, "--format", "ipvsadm"]);
  assert.equal(t.code, 0);
  assert.match(t.err, /ipvsadm -S does not save thresholds: real server 192\.168\.1\.185:80 had -x 100 -y 50/);
});

test("--after-step N exports the table after the lab's first N steps", () => {
  const none = lvslab(["export", "lvs-nat", "--after-step", "0", "--format", "ipvsadm"]);
  assert.equal(none.code, 0);
  assert.equal(none.out, "");
  assert.equal(none.err, "lvslab: warning: vip has no IPVS service after the lab's first 0 steps\n");
  // Step 4 runs lvs_nat.sh; steps 1-3 start captures.
  const three = lvslab(["export", "lvs-nat", "--after-step=3", "--format", "ipvsadm"]);
  assert.equal(three.out, "");
  const four = lvslab(["export", "lvs-nat", "--after-step", "4"]);
  assert.equal(four.code, 0, four.err);
  assert.equal(four.err, "");
  assert.match(four.out, /^# after the lab's first 4 steps: 1 service, 2 real servers\.$/m);
  assert.match(four.out, /^virtual_server 192\.168\.75\.131 80 \{$/m);
});

test("bad input: one clear line and exit 2", () => {
  const natSteps = buildLabFile("labs/lvs-nat.yaml").spec.steps.length;
  const cases: Array<[string[], RegExp]> = [
    [["export", "no-such-lab"], /^lvslab: cannot read lab file no-such-lab: no such file, nor a bundled lab of that name \(lvslab labs lists them\)\n$/],
    [["export", "lvs-nat", "--format", "xml"], /^lvslab: --format must be keepalived, ipvsadm, director or real-servers, got "xml"\n$/],
    [["export", "lvs-nat", "--format"], /^lvslab: --format must be keepalived, ipvsadm, director or real-servers, got nothing\n$/],
    [["export", "lvs-nat", "--host", "client"], /^lvslab: host "client" has no IPVS \(it needs ipvs: true in the lab file\); directors: vip\n$/],
    [["export", "lvs-nat", "--host", "nosuch"], /^lvslab: no host "nosuch" in the lab \(hosts: vip, real_server1, real_server2, client\)\n$/],
    [["export", "lvs-nat", "--after-step", String(natSteps + 1)], new RegExp(`^lvslab: --after-step ${natSteps + 1}: lab lvs-nat has ${natSteps} steps\n$`)],
    [["export", "lvs-nat", "--after-step", "-1"], /^lvslab: --after-step needs a step number \(0, 1, 2, \.\.\.\), got "-1"\n$/],
    [["export", "lvs-nat", "--after-step", "3", "--at-end"], /^lvslab: --at-end and --after-step contradict each other; give one\n$/],
    [["export"], /^Usage: lvslab export LAB /],
  ];
  for (const [args, re] of cases) {
    const r = lvslab(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err, re, args.join(" "));
    assert.equal(r.out, "", args.join(" "));
  }
  const dir = mkdtempSync(join(tmpdir(), "lvslab-export-"));
  try {
    const lab = join(dir, "plain.yaml");
    writeFileSync(lab, "lab: plain\nsegments: { lan: {} }\nhosts:\n  a: { nics: { eth0: { segment: lan, addrs: [10.0.0.1/24] } } }\n");
    const r = lvslab(["export", lab]);
    assert.equal(r.code, 2);
    assert.equal(r.err, "lvslab: lab plain has no director to export: no host has ipvs: true\n");
    // Two directors: export names them and wants --host; --host picks one.
    const two = join(dir, "two.yaml");
    writeFileSync(
      two,
      "lab: two\nsegments: { lan: {} }\nhosts:\n" +
        "  d1: { ipvs: true, nics: { eth0: { segment: lan, addrs: [10.0.0.1/24] } } }\n" +
        "  d2: { ipvs: true, nics: { eth0: { segment: lan, addrs: [10.0.0.2/24] } } }\n" +
        "steps:\n  - { on: d2, run: 'ipvsadm -A -t 10.0.0.2:80 -s rr && ipvsadm -a -t 10.0.0.2:80 -r 10.0.0.9:80 -m' }\n",
    );
    const both = lvslab(["export", two]);
    assert.equal(both.code, 2);
    assert.equal(both.err, "lvslab: lab two has several directors (d1, d2): choose one with --host NAME\n");
    const d2 = lvslab(["export", two, "--host", "d2", "--format", "ipvsadm"]);
    assert.equal(d2.code, 0, d2.err);
    assert.equal(d2.out, "-A -t 10.0.0.2:80 -s rr\n-a -t 10.0.0.2:80 -r 10.0.0.9:80 -m -w 1\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const GOLDEN = ["lvs-nat", "lvs-dr", "lvs-tun", "lvs-nat-one-armed", "lvs-fullnat"];

test("golden keepalived configs (test/golden/keepalived, accepted by the real keepalived -t: see check.sh)", () => {
  for (const name of GOLDEN) {
    const r = lvslab(["export", name]);
    assert.equal(r.out, readFileSync(repoPath("test", "golden", "keepalived", `${name}.conf`), "utf8"), name);
  }
});

test("the real keepalived -t accepts the export of every bundled lab and of every option", async (t) => {
  const why = keepalivedSkipReason();
  if (why) {
    // CI installs keepalived (.ci/run) and runs as root: there this test must run.
    assert.ok(process.env.CI !== "true" || process.getuid?.() !== 0, `in CI: ${why}`);
    t.skip(why);
    return;
  }
  for (const rel of [...BUNDLED.map((n) => `labs/${n}.yaml`), FEATURES]) {
    const { conf } = await exportOf(rel);
    const r = keepalivedTest(conf, "t");
    assert.deepEqual(r, { code: 0, out: "" }, `keepalived -t on the export of ${rel}`);
  }
  // The check can fail: keepalived refuses a forwarding method it does not know.
  const { conf } = await exportOf("labs/lvs-nat.yaml");
  const bad = keepalivedTest(conf.replace("lb_kind NAT", "lb_kind FNAT"), "bad");
  assert.equal(bad.code, 5);
  assert.match(bad.out, /unknown \[FNAT\] routing method/);
});
