/**
 * The `lvslab` command as a user runs it: exit statuses, error messages for bad input,
 * pcap export (read back by the real tcpdump when it is installed).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { headOne, repoPath, transcriptBlocks } from "./helpers.js";

const MAIN = repoPath("dist", "src", "cli", "main.js");

/** Real mode's state where no lab is up: `exec` here is the simulator's even while a user has lvs-nat up. */
const NO_LABS_UP = { ...process.env, LVSLAB_STATE_DIR: join(tmpdir(), `lvslab-cli-test-${process.pid}-none`) };

function lvslab(args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: repoPath(), encoding: "utf8", input, timeout: 60_000, env: NO_LABS_UP });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test("lvslab run (no lab) runs the seed's lab and exits 0", () => {
  const r = lvslab(["run"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^\[root@vip ~\]# sh \/usr\/local\/sbin\/lvs_nat\.sh$/m);
  assert.match(r.out, /^2222222222222slave$/m);
  assert.match(r.out, /^1111111111111master$/m);
});

test("a broken lab file: every problem with file, line, column and field; exit 2", () => {
  const r = lvslab(["run", "labs/broken/bad-address.yaml"]);
  assert.equal(r.code, 2);
  const want = readFileSync(repoPath("labs", "broken", "bad-address.expected"), "utf8");
  assert.ok(r.err.startsWith(want), r.err);
  assert.match(r.err, /lvslab: 2 problems in /);
});

test("a missing lab file and an unknown command are reported, not thrown", () => {
  const a = lvslab(["run", "no/such/lab.yaml"]);
  assert.equal(a.code, 2);
  assert.match(a.err, /lvslab: cannot read lab file no\/such\/lab\.yaml/);
  const b = lvslab(["frobnicate"]);
  assert.equal(b.code, 2);
  assert.match(b.err, /^lvslab: unknown command "frobnicate"/);
  const c = lvslab(["run", "--seed", "x"]);
  assert.equal(c.code, 2);
  assert.match(c.err, /--seed needs a whole number/);
});

test("lvslab exec: real tools' errors and exit codes on a lab host", () => {
  const a = lvslab(["exec", "lvs-nat", "vip", "--", "ipvsadm", "-A", "-t", "192.168.75.131:80", "-s", "nosuch"]);
  assert.equal(a.code, 255);
  assert.deepEqual([a.out, a.err], ["", "Service already exists\n"]);
  const b = lvslab(["exec", "lvs-nat", "vip", "--", "ipvsadm", "-A", "-t", "10.0.0.1:80", "-s", "nosuch"]);
  assert.equal(b.code, 255);
  assert.equal(b.out + b.err, "Scheduler or persistence engine not found\n");
  const c = lvslab(["exec", "lvs-nat", "vip", "--", "nosuchcommand"]);
  assert.equal(c.code, 127);
  assert.equal(c.out + c.err, "bash: nosuchcommand: command not found\n");
  const d = lvslab(["exec", "lvs-nat", "client", "--", "curl", "-s", "192.168.75.131"]);
  assert.equal(d.code, 0);
  assert.match(d.out, /^(1111111111111master|2222222222222slave)\n$/);
  const e = lvslab(["exec", "lvs-nat", "nohost", "--", "true"]);
  assert.equal(e.code, 2);
  assert.match(e.err, /no host "nohost" in the lab/);
});

test("lvslab exec: a pipe on standard input reaches the command, its stderr stays apart; past 16 MiB it is refused", () => {
  const rules = "-A -u 192.168.75.131:53 -s sh\n-a -u 192.168.75.131:53 -r 192.168.1.185:53 -m -w 1\n";
  const r = lvslab(["exec", "lvs-nat", "vip", "--", "sh", "-c", "ipvsadm -C; ipvsadm -R; ipvsadm -S -n"], rules);
  assert.deepEqual(r, { code: 0, out: rules, err: "" });
  const s = lvslab(["exec", "lvs-nat", "vip", "--", "sh"], "echo 0 > /proc/sys/net/ipv4/ip_forward\nsysctl net.ipv4.ip_forward\necho oops >&2\nexit 3\n");
  assert.deepEqual(s, { code: 3, out: "net.ipv4.ip_forward = 0\n", err: "oops\n" });
  const big = lvslab(["exec", "lvs-nat", "vip", "--", "wc", "-c"], "x".repeat((16 << 20) + 1));
  assert.deepEqual(big, { code: 2, out: "", err: "lvslab: standard input is larger than 16777216 bytes, the most a command on an lvslab host reads\n" });
});

test("lvslab exec: output into a pipe nobody reads any more ends it with 141, as SIGPIPE ends a real command", async () => {
  const p = spawn(process.execPath, [MAIN, "exec", "lvs-nat", "client", "--", "ping", "-i", "0.2", "192.168.75.131"], { cwd: repoPath(), env: NO_LABS_UP, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  assert.equal(await headOne(p), 141);
  assert.equal(err, "", "quietly, as a real command killed by SIGPIPE");
});

test("lvslab shell: commands, ssh to another host, exit", () => {
  const r = lvslab(["shell", "lvs-nat", "client"], "echo one\nssh vip\necho two\nipvsadm -L -n | grep -c Masq\nexit\necho three\nexit\n");
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /one\n\[root@client ~\]# ssh vip\n\[root@vip ~\]# echo two\ntwo\n\[root@vip ~\]# ipvsadm -L -n \| grep -c Masq\n2\n\[root@vip ~\]# exit\nlogout\nConnection to vip closed\.\n\[root@client ~\]# echo three\nthree\n/);
});

test("--pcap writes one file per NIC; real tcpdump reads them as our tcpdump printed them live", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lvslab-pcap-"));
  try {
    const r = lvslab(["run", "lvs-nat", "--pcap", dir]);
    assert.equal(r.code, 0, r.err);
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ["client-eth0.pcap", "real_server1-eth0.pcap", "real_server2-eth0.pcap", "vip-eth0.pcap", "vip-eth1.pcap"]);
    const which = spawnSync("tcpdump", ["--version"], { encoding: "utf8" });
    if (which.status !== 0) {
      t.skip("real tcpdump is not installed (CI installs it)");
      return;
    }
    const live = transcriptBlocks(r.out).find((b) => b.prompt === "[root@vip ~]# tcpdump -nn -i eth1 host 192.168.75.150 and ! port 22")!;
    const liveLines = live.output.split("\n").filter((l) => /^\d\d:/.test(l));
    const real = execFileSync("tcpdump", ["-nn", "-r", join(dir, "vip-eth1.pcap"), "host 192.168.75.150 and ! port 22"], {
      encoding: "utf8",
      env: { ...NO_LABS_UP, TZ: "UTC" },
      stdio: ["ignore", "pipe", "ignore"],
    });
    assert.deepEqual(real.split("\n").filter((l) => l !== ""), liveLines);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("lvslab explain: mistyped options and selections say what is wrong; exit 2", () => {
  const bad = (args: string[], err: RegExp) => {
    const r = lvslab(["explain", ...args]);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.out, "", args.join(" "));
    assert.match(r.err, err, args.join(" "));
  };
  bad(["no/such/lab.yaml"], /^lvslab: cannot read lab file no\/such\/lab\.yaml: no such file\n$/);
  bad(["labs/broken"], /^lvslab: cannot read lab file labs\/broken: it is a directory; give one of its \.yaml files\n$/);
  bad(["lvs-nta"], /^lvslab: cannot read lab file lvs-nta: no such file, nor a bundled lab of that name \(lvslab labs lists them\)\n$/);
  bad(["labs/broken/bad-mtu.yaml"], /^labs\/broken\/bad-mtu\.yaml:9:56: hosts\.a\.nics\.eth0\.mtu: expected an MTU \(an integer 68\.\.65535\), found the number -1\n/);
  bad(["lvs-nat", "--conn", "0"], /--conn needs a connection number \(1, 2, \.\.\.\), got "0"/);
  bad(["lvs-nat", "--conn", "abc"], /--conn needs a connection number \(1, 2, \.\.\.\), got "abc"/);
  bad(["lvs-nat", "--conn"], /--conn needs a connection number \(1, 2, \.\.\.\), got nothing/);
  bad(["lvs-nat", "--conn", "99"], /^lvslab explain: no connection 99 in lab lvs-nat \(it has 6\)\n$/);
  bad(["lvs-nat", "--flow", "nonsense"], /--flow needs ADDR or ADDR:PORT .*got "nonsense"/);
  bad(["lvs-nat", "--flow", "192.168.75.300"], /--flow needs ADDR or ADDR:PORT .*got "192\.168\.75\.300"/);
  bad(["lvs-nat", "--flow", "192.168.75.150:70000"], /--flow needs ADDR or ADDR:PORT .*got "192\.168\.75\.150:70000"/);
  bad(["lvs-nat", "--flow", "10.9.9.9"], /^lvslab explain: no connection of lab lvs-nat has a packet to or from 10\.9\.9\.9\n$/);
  bad(["lvs-nat", "--bogus"], /^lvslab: unknown option --bogus\n/);
  bad([], /^Usage: lvslab explain LAB/);
});

test("lvslab explain on a lab that makes no connection says so, in text and JSON", () => {
  const dir = mkdtempSync(join(tmpdir(), "lvslab-empty-"));
  try {
    const lab = join(dir, "quiet.yaml");
    writeFileSync(lab, "lab: quiet\nsegments:\n  lan: { type: switch }\nhosts:\n  a:\n    nics:\n      eth0: { segment: lan, addrs: [10.0.0.1/24] }\n");
    const t = lvslab(["explain", lab, "--brief"]);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /\nSummary:\n {2}no connection was made: no host of the lab started one\n\nDiagnosis: no problem found \(and no connection was made\)\.\n$/);
    const j = lvslab(["explain", lab, "--json"]);
    assert.equal(j.code, 0, j.err);
    const o = JSON.parse(j.out) as { summary: string[]; connections: unknown[] };
    assert.deepEqual(o.summary, ["no connection was made: no host of the lab started one"]);
    assert.deepEqual(o.connections, []);
    const c = lvslab(["explain", lab, "--conn", "1"]);
    assert.equal(c.code, 2);
    assert.equal(c.err, "lvslab explain: no connection 1 in lab quiet (it made no connection at all)\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("lvslab director and ipvsadm: bad flags and no director answer clearly; exit 2", () => {
  const bad = (args: string[], err: string | RegExp, env?: Record<string, string>) => {
    const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: repoPath(), encoding: "utf8", timeout: 60_000, env: { ...NO_LABS_UP, ...env } });
    assert.equal(r.status, 2, args.join(" "));
    if (typeof err === "string") assert.equal(r.stderr, err, args.join(" "));
    else assert.match(r.stderr, err, args.join(" "));
  };
  bad(["director", "--iface", "nosuch0"], "lvslab director: --iface nosuch0: no such network interface here\n");
  bad(["director", "--iface", "lo", "--addr", "lo=10.0.0.1"], `lvslab director: --addr "lo=10.0.0.1": 10.0.0.1 has no prefix length; write lo=10.0.0.1/24 (or whatever the network's is)\n`);
  bad(["director", "--iface", "lo", "--addr", "10.0.0.1/24"], `lvslab director: --addr "10.0.0.1/24": want IF=A.B.C.D/LEN (like eth1=192.168.75.131/24)\n`);
  bad(["director", "--bogus"], /^lvslab director: unknown option --bogus\nUsage:/);
  bad(["director", "--lab", "lvs-nat"], "lvslab director: --lab and --host go together\n");
  const sock = join(tmpdir(), `lvslab-nobody-${process.pid}.sock`);
  bad(["ipvsadm", "-L", "-n"], `lvslab: cannot connect to ${sock}: no director is listening there\n`, { LVSLAB_CONTROL: sock });
  bad(["ctl", "--", "ls"], `lvslab: cannot connect to ${sock}: no director is listening there\n`, { LVSLAB_CONTROL: sock });
});

test("lvslab director without python3 says so, whichever packet I/O it would use; exit 1", () => {
  for (const io of [undefined, "bridge"]) {
    const env = { ...NO_LABS_UP, PATH: "/nonexistent", ...(io ? { LVSLAB_PACKET_IO: io } : {}) };
    const r = spawnSync(process.execPath, [MAIN, "director", "--iface", "lo", "--control", join(tmpdir(), `lvslab-nopy-${process.pid}.sock`)], { cwd: repoPath(), encoding: "utf8", timeout: 60_000, env });
    assert.equal(r.status, 1, `${io ?? "direct"}: ${r.stderr}`);
    assert.equal(r.stderr, "lvslab director: python3 not found (real mode needs Python 3)\n", io ?? "direct");
  }
});

test("lvslab shell on an unknown host names the lab's hosts, as exec does", () => {
  const r = lvslab(["shell", "lvs-nat", "nohost"], "");
  assert.equal(r.code, 2);
  assert.equal(r.err, 'lvslab: no host "nohost" in the lab (hosts: vip, real_server1, real_server2, client)\n');
});
