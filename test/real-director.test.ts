/**
 * The userspace director on real interfaces: a client, the director and two real servers in
 * network namespaces of their own (veth pairs, a Linux bridge for the LAN), HTTP servers
 * in the real servers' namespaces, `lvslab director` in the director's. Configured through
 * the control socket with the seed's script, the client's requests must go through it in
 * wrr order; malformed frames are dropped and counted; SIGTERM stops it cleanly; the
 * standalone form with --rules serves the same way. Needs root, `ip` and python3.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { controlRequest } from "../src/real/control.js";
import { repoPath } from "./helpers.js";
import { malformedFrames } from "./real-helpers.js";

const CLI = repoPath("dist", "src", "cli", "main.js");
const LAB = repoPath("labs", "lvs-nat.yaml");
const P = `lvsd-test-${process.pid}`;
const NS = { c: `${P}-c`, d: `${P}-d`, sw: `${P}-sw`, r1: `${P}-r1`, r2: `${P}-r2` };
const VIP = "192.168.75.131";
/** A page large enough for TSO/GRO super-frames (300 kB, varied bytes). */
const BIG = Array.from({ length: 6000 }, (_, i) => `line ${i} ${"abcdefghijklmnopqrstuvwxyz".slice(i % 26)}${"0123456789".repeat(2)}\n`).join("");

function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

const skipReason = process.getuid?.() !== 0 ? "real mode needs root" : !has("ip") ? "iproute2's ip is not installed" : !has("python3") ? "python3 is not installed" : undefined;

function sh(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { input: opts.input, timeout: opts.timeoutMs ?? 20_000, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout ?? "", err: r.stderr ?? "" };
}

function must(cmd: string, ...args: string[]): string {
  const r = sh(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(" ")}: ${r.err}`);
  return r.out;
}

const inNs = (ns: string, ...args: string[]): string => must("ip", "netns", "exec", ns, ...args);

/** Namespaces this test left behind when a run of it was killed (its pid is gone). */
function staleNamespaces(): string[] {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  return sh("ip", ["netns", "list"]).out.split("\n").map((l) => l.split(" ")[0]!)
    .filter((n) => { const m = /^lvsd-test-(\d+)-/.exec(n); return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1])); });
}

function teardown(): void {
  for (const ns of [...Object.values(NS), ...staleNamespaces()]) {
    for (const pid of sh("ip", ["netns", "pids", ns]).out.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    sh("ip", ["netns", "del", ns]);
  }
}

function buildTopology(): void {
  for (const ns of Object.values(NS)) {
    must("ip", "netns", "add", ns);
    must("ip", "-n", ns, "link", "set", "lo", "up");
  }
  must("ip", "link", "add", "c0", "netns", NS.c, "type", "veth", "peer", "name", "eth1", "netns", NS.d);
  must("ip", "link", "add", "eth0", "netns", NS.d, "type", "veth", "peer", "name", "d0", "netns", NS.sw);
  must("ip", "link", "add", "eth0", "netns", NS.r1, "type", "veth", "peer", "name", "r1", "netns", NS.sw);
  must("ip", "link", "add", "eth0", "netns", NS.r2, "type", "veth", "peer", "name", "r2", "netns", NS.sw);
  must("ip", "-n", NS.sw, "link", "add", "br0", "type", "bridge");
  for (const p of ["d0", "r1", "r2"]) {
    must("ip", "-n", NS.sw, "link", "set", p, "master", "br0");
    must("ip", "-n", NS.sw, "link", "set", p, "up");
  }
  must("ip", "-n", NS.sw, "link", "set", "br0", "up");
  // The director's kernel owns no address and forwards nothing: only lvslab answers.
  inNs(NS.d, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.ip_forward=0");
  must("ip", "-n", NS.d, "link", "set", "eth0", "up");
  must("ip", "-n", NS.d, "link", "set", "eth1", "up");
  must("ip", "-n", NS.c, "addr", "add", "192.168.75.150/24", "dev", "c0");
  must("ip", "-n", NS.c, "link", "set", "c0", "up");
  for (const [ns, a] of [[NS.r1, "192.168.1.185/24"], [NS.r2, "192.168.1.190/24"]] as const) {
    must("ip", "-n", ns, "addr", "add", a, "dev", "eth0");
    must("ip", "-n", ns, "link", "set", "eth0", "up");
    must("ip", "-n", ns, "route", "add", "default", "via", "192.168.1.186");
  }
  if (has("ethtool")) {
    for (const [ns, dev] of [[NS.c, "c0"], [NS.d, "eth0"], [NS.d, "eth1"], [NS.sw, "d0"], [NS.sw, "r1"], [NS.sw, "r2"], [NS.r1, "eth0"], [NS.r2, "eth0"]] as const) {
      sh("ip", ["netns", "exec", ns, "ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off"]);
    }
  }
}

const children: ChildProcess[] = [];

function startIn(ns: string, args: string[]): ChildProcess {
  const p = spawn("ip", ["netns", "exec", ns, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(p);
  return p;
}

/** Resolves with what the process printed once `line` appears (rejects after `ms`). */
function waitForLine(p: ChildProcess, line: string, ms: number): Promise<string> {
  return new Promise((res, rej) => {
    let text = "";
    const t = setTimeout(() => rej(new Error(`no ${JSON.stringify(line)} within ${ms} ms; output: ${text}`)), ms);
    const on = (d: Buffer): void => {
      text += d.toString();
      if (text.includes(line)) {
        clearTimeout(t);
        res(text);
      }
    };
    p.stdout!.on("data", on);
    p.stderr!.on("data", on);
    p.on("exit", (code) => {
      clearTimeout(t);
      rej(new Error(`exited with ${code} before ${JSON.stringify(line)}; output: ${text}`));
    });
  });
}

function waitExit(p: ChildProcess, ms: number): Promise<number | string> {
  return new Promise((res) => {
    if (p.exitCode !== null || p.signalCode !== null) return res(p.exitCode ?? String(p.signalCode));
    const t = setTimeout(() => res("timeout"), ms);
    p.on("exit", (code, sig) => {
      clearTimeout(t);
      res(code ?? String(sig));
    });
  });
}

/** One HTTP GET from the client namespace (python3's urllib: no curl needed). */
function get(url: string): string {
  const r = sh("ip", ["netns", "exec", NS.c, "python3", "-c", `import sys, urllib.request\nsys.stdout.write(urllib.request.urlopen(${JSON.stringify(url)}, timeout=3).read().decode())`], { timeoutMs: 8000 });
  return r.code === 0 ? r.out : `(failed: ${r.err.trim().split("\n").pop()})`;
}

async function waitHttp(ns: string, url: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = sh("ip", ["netns", "exec", ns, "python3", "-c", `import urllib.request\nurllib.request.urlopen(${JSON.stringify(url)}, timeout=1)`], { timeoutMs: 5000 });
    if (r.code === 0) return;
    await new Promise((r2) => setTimeout(r2, 100));
  }
  throw new Error(`${url} never answered in ${ns}`);
}

const RATE_RX_PY = String.raw`
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("192.168.1.185", 5000))
s.settimeout(float(sys.argv[1]))
print("listening", flush=True)
n = 0; first = None; last = None
try:
    while True:
        s.recv(2048); n += 1
        last = time.monotonic()
        if first is None: first = last
except socket.timeout:
    pass
print(n, (last - first) if first and last else 0, flush=True)
`;

const RATE_TX_PY = String.raw`
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = int(sys.argv[1]); burst = int(sys.argv[2])
payload = b"x" * 64
sent = 0
t0 = time.monotonic()
while sent < n and time.monotonic() - t0 < 10:
    for _ in range(burst):
        s.sendto(payload, ("192.168.75.131", 5000)); sent += 1
    time.sleep(0.001)
print(sent, time.monotonic() - t0)
`;

describe("real director (network namespaces)", { skip: skipReason }, () => {
  let dir: string;
  let director: ChildProcess;
  let sock: string;

  before(async () => {
    teardown();
    buildTopology();
    dir = mkdtempSync(join(tmpdir(), "lvsd-test-"));
    for (const [ns, addr, body] of [[NS.r1, "192.168.1.185", "1111111111111master\n"], [NS.r2, "192.168.1.190", "2222222222222slave\n"]] as const) {
      const www = join(dir, ns);
      sh("mkdir", ["-p", www]);
      writeFileSync(join(www, "index.html"), body);
      writeFileSync(join(www, "big.txt"), BIG);
      startIn(ns, ["python3", "-m", "http.server", "80", "--bind", addr, "--directory", www]);
    }
    await waitHttp(NS.r1, "http://192.168.1.185/");
    await waitHttp(NS.r2, "http://192.168.1.190/");
    sock = join(dir, "vip.sock");
    director = startIn(NS.d, [process.execPath, CLI, "director", "--lab", LAB, "--host", "vip", "--control", sock]);
    await waitForLine(director, "lvslab director: ready", 15_000);
  });

  after(() => {
    for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the control socket is root's only", () => {
    const mode = must("stat", "-c", "%a %F", sock).trim();
    assert.equal(mode, "600 socket");
  });

  test("the seed's script configures the live director; requests follow wrr", async () => {
    const r = await controlRequest(sock, { argv: ["bash", "/usr/local/sbin/lvs_nat.sh"] });
    assert.deepEqual(r, { stdout: "", stderr: "", code: 0 });
    assert.equal((await controlRequest(sock, { argv: ["cat", "/proc/sys/net/ipv4/ip_forward"] })).stdout, "1\n");
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(get(`http://${VIP}/`).trim());
    // wrr with weights 1 (rs1) and 2 (rs2), as the simulator and Linux order it.
    assert.deepEqual(got, ["2222222222222slave", "1111111111111master", "2222222222222slave", "2222222222222slave", "1111111111111master", "2222222222222slave"]);
    const conns = await controlRequest(sock, { argv: ["ipvsadm", "-L", "-n", "-c"] });
    assert.equal(conns.code, 0);
    const lines = conns.stdout.split("\n").filter((l) => l.startsWith("TCP "));
    assert.equal(lines.length, 6, conns.stdout);
    assert.equal(lines.filter((l) => / 192\.168\.75\.150:\d+ +192\.168\.75\.131:80 +192\.168\.1\.190:80$/.test(l)).length, 4, conns.stdout);
    assert.equal(lines.filter((l) => / 192\.168\.75\.150:\d+ +192\.168\.75\.131:80 +192\.168\.1\.185:80$/.test(l)).length, 2, conns.stdout);
    // The counters ipvsadm shows are summed at the estimator's 2 s tick, as in Linux 6.1.
    await new Promise((r) => setTimeout(r, 2100));
    const stats = await controlRequest(sock, { argv: ["ipvsadm", "-L", "-n", "--stats"] });
    assert.match(stats.stdout, /TCP  192\.168\.75\.131:80 +6 /);
    assert.match(stats.stdout, /-> 192\.168\.1\.185:80 +2 /);
    assert.match(stats.stdout, /-> 192\.168\.1\.190:80 +4 /);
  });

  test("lvslab ipvsadm and lvslab ctl reach the director", () => {
    const env = { ...process.env, LVSLAB_CONTROL: sock };
    const r = spawnSync(process.execPath, [CLI, "ipvsadm", "-L", "-n"], { env, encoding: "utf8", timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /TCP  192\.168\.75\.131:80 wrr/);
    const bad = spawnSync(process.execPath, [CLI, "ipvsadm", "-A", "-t", "192.168.75.131:80", "-s", "rr"], { env, encoding: "utf8", timeout: 10_000 });
    assert.equal(bad.status, 255);
    assert.equal(bad.stderr, "Service already exists\n");
    const c = spawnSync(process.execPath, [CLI, "ctl", "--control", sock, "--", "hostname"], { encoding: "utf8", timeout: 10_000 });
    assert.equal(c.stdout, "vip\n");
    const none = spawnSync(process.execPath, [CLI, "ctl", "--control", join(dir, "nobody.sock"), "--", "true"], { encoding: "utf8", timeout: 10_000 });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /cannot connect to .*nobody\.sock: no director is listening there/);
  });

  test("malformed frames are dropped and counted; the director keeps serving", async () => {
    const mac = inNs(NS.d, "cat", "/sys/class/net/eth1/address").trim();
    const before = await controlRequest(sock, { argv: ["cat", "/proc/net/snmp"] });
    const hdrErrors = (text: string): number => {
      const [names, values] = text.split("\n").filter((l) => l.startsWith("Ip:"));
      const i = names!.split(/\s+/).indexOf("InHdrErrors");
      return Number(values!.split(/\s+/)[i]);
    };
    const sent = Number(inNs(NS.c, ...malformedFrames("c0", mac, 20, ["bad-checksum", "total-length-beyond-frame", "ipv4-truncated", "tcp-truncated", "ihl-3", "arp-truncated"])).trim());
    assert.equal(sent, 120);
    await new Promise((r) => setTimeout(r, 300));
    const drops = (await controlRequest(sock, { argv: ["lvslab-drops"] })).stdout;
    assert.match(drops, /^packet I\/O: the director's own raw sockets$/m);
    assert.match(drops, /^nic: eth1 (\d+) /m);
    assert.match(drops, /vip: IPv4 header checksum is wrong {2}20\n/);
    assert.match(drops, /vip: IPv4 total length does not fit the frame {2}20\n/);
    assert.match(drops, /vip: IPv4 header malformed or truncated {2}40\n/);
    const after = await controlRequest(sock, { argv: ["cat", "/proc/net/snmp"] });
    assert.equal(hdrErrors(after.stdout) - hdrErrors(before.stdout), 80);
    const link = await controlRequest(sock, { argv: ["ip", "-s", "link", "show", "eth1"] });
    assert.match(link.stdout, /RX: +bytes +packets +errors +dropped/);
    // The 7th request: wrr's cycle (2, 1, 2) starts again.
    assert.equal(get(`http://${VIP}/`).trim(), "2222222222222slave");
  });

  test("a link that goes down and up again pauses the director, it does not stop it", async () => {
    let err = "";
    director.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    for (const dev of ["eth1", "eth0"]) {
      inNs(NS.d, "ip", "link", "set", dev, "down");
      await new Promise((r) => setTimeout(r, 200));
      inNs(NS.d, "ip", "link", "set", dev, "up");
    }
    // The veth's carrier is back within a few ms; the requests go on in wrr order (1, 2, 2).
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual([1, 2, 3].map(() => get(`http://${VIP}/`).trim()), ["1111111111111master", "2222222222222slave", "2222222222222slave"]);
    assert.equal(director.exitCode, null);
    assert.doesNotMatch(err, /packet I\/O stopped|ENETDOWN/);
  });

  test("offloads on: partial checksums completed, super-frames cut to the MTU", { skip: has("ethtool") ? undefined : "ethtool is not installed" }, async () => {
    const on = ["tx", "on", "tso", "on", "gso", "on", "gro", "on"];
    for (const [ns, dev] of [[NS.c, "c0"], [NS.sw, "d0"], [NS.sw, "r1"], [NS.sw, "r2"], [NS.r1, "eth0"], [NS.r2, "eth0"], [NS.d, "eth0"], [NS.d, "eth1"]] as const) {
      inNs(ns, "ethtool", "-K", dev, ...on);
    }
    try {
      for (let i = 0; i < 3; i++) assert.equal(get(`http://${VIP}/big.txt`), BIG, `request ${i + 1}`);
      const drops = (await controlRequest(sock, { argv: ["lvslab-drops"] })).stdout;
      const partial = (dev: string): number => Number(new RegExp(`^nic: ${dev} (?:\\S+ ){4}(\\d+) `, "m").exec(drops)?.[1] ?? -1);
      assert.ok(partial("eth1") > 0 && partial("eth0") > 0, drops);
      assert.doesNotMatch(drops, /exceeds the MTU/);
    } finally {
      for (const [ns, dev] of [[NS.c, "c0"], [NS.sw, "d0"], [NS.sw, "r1"], [NS.sw, "r2"], [NS.r1, "eth0"], [NS.r2, "eth0"], [NS.d, "eth0"], [NS.d, "eth1"]] as const) {
        sh("ip", ["netns", "exec", ns, "ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off"]);
      }
    }
  });

  test("forwarding rate (UDP through IPVS-NAT, bounded burst)", async () => {
    for (const argv of [["ipvsadm", "-A", "-u", `${VIP}:5000`, "-s", "rr"], ["ipvsadm", "-a", "-u", `${VIP}:5000`, "-r", "192.168.1.185:5000", "-m"]]) {
      assert.equal((await controlRequest(sock, { argv })).code, 0);
    }
    const rx = startIn(NS.r1, ["python3", "-c", RATE_RX_PY, "1.5"]);
    let rxOut = await waitForLine(rx, "listening", 5000);
    rx.stdout!.on("data", (d: Buffer) => (rxOut += d.toString()));
    const tx = sh("ip", ["netns", "exec", NS.c, "python3", "-c", RATE_TX_PY, "20000", "50"], { timeoutMs: 20_000 });
    assert.equal(tx.code, 0, tx.err);
    assert.equal(await waitExit(rx, 15_000), 0);
    const m = /(\d+) ([\d.]+)\s*$/.exec(rxOut);
    assert.ok(m, rxOut);
    const got = Number(m[1]);
    const secs = Number(m[2]);
    const [sent, sendSecs] = tx.out.trim().split(" ").map(Number);
    process.stdout.write(`# director forwarding: ${got} of ${sent} UDP packets in ${secs.toFixed(2)} s (sent in ${sendSecs!.toFixed(2)} s): ${Math.round(got / Math.max(secs, 1e-3))} packets/s forwarded\n`);
    // Past its rate the director drops (at the sockets, counted), it never stalls.
    assert.ok(got > sent! / 4, `only ${got} of ${sent} forwarded`);
    await new Promise((r) => setTimeout(r, 2100)); // the estimator's tick sums the counters
    const st = await controlRequest(sock, { argv: ["ipvsadm", "-L", "-n", "-u", `${VIP}:5000`, "--stats"] });
    assert.match(st.stdout, /UDP  192\.168\.75\.131:5000 +1 +(\d+)/);
    assert.equal(get(`http://${VIP}/`).trim().length > 0, true);
  });

  test("SIGTERM: exit 0, socket removed, bridge gone", async () => {
    director.kill("SIGTERM");
    assert.equal(await waitExit(director, 5000), 0);
    assert.equal(existsSync(sock), false);
    // ip netns exec's node child was the director; nothing else may be left in its namespace.
    const left = sh("ip", ["netns", "pids", NS.d]).out.trim();
    assert.equal(left, "");
  });

  test("standalone, on the Python packet bridge: --iface/--addr/--sysctl/--rules serve the same service", async () => {
    const rules = join(dir, "rules");
    writeFileSync(rules, "-A -t 192.168.75.131:80 -s rr\n-a -t 192.168.75.131:80 -r 192.168.1.185:80 -m -w 1\n-a -t 192.168.75.131:80 -r 192.168.1.190:80 -m -w 1\n");
    const s2 = join(dir, "standalone.sock");
    // While the kernel there owns the VIP too, the director says it will be in the way.
    must("ip", "-n", NS.d, "addr", "add", `${VIP}/32`, "dev", "lo");
    const d = startIn(NS.d, ["env", "LVSLAB_PACKET_IO=bridge", process.execPath, CLI, "director", "--iface", "eth0", "--iface", "eth1", "--addr", "eth0=192.168.1.186/24", "--addr", "eth1=192.168.75.131/24", "--sysctl", "net.ipv4.ip_forward=1", "--rules", rules, "--control", s2]);
    const banner = await waitForLine(d, "lvslab director: ready", 15_000);
    must("ip", "-n", NS.d, "addr", "del", `${VIP}/32`, "dev", "lo");
    assert.match(banner, /lvslab director: warning: the kernel here also owns 192\.168\.75\.131 \(on lo\): it will answer ARP for it and reset TCP connections to it/);
    const got = [get(`http://${VIP}/`).trim(), get(`http://${VIP}/`).trim(), get(`http://${VIP}/`).trim()];
    // rr walks the destination list, whose head is the last one added (list_add_rcu), as Linux does.
    assert.deepEqual(got, ["2222222222222slave", "1111111111111master", "2222222222222slave"]);
    assert.match((await controlRequest(s2, { argv: ["lvslab-drops"] })).stdout, /^packet I\/O: the Python bridge's raw sockets$/m);
    const save = await controlRequest(s2, { argv: ["ipvsadm", "-S", "-n"] });
    assert.equal(save.stdout, "-A -t 192.168.75.131:80 -s rr\n-a -t 192.168.75.131:80 -r 192.168.1.185:80 -m -w 1\n-a -t 192.168.75.131:80 -r 192.168.1.190:80 -m -w 1\n");
    d.kill("SIGINT");
    assert.equal(await waitExit(d, 5000), 0);
    assert.equal(existsSync(s2), false);
  });
});

describe("real director on quiet interfaces", { skip: skipReason }, () => {
  const ns = `${P}-q`;
  after(() => {
    for (const pid of sh("ip", ["netns", "pids", ns]).out.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    sh("ip", ["netns", "del", ns]);
  });

  test("is ready with no frame arriving at all (IPv6 off, nothing else on the link)", async () => {
    sh("ip", ["netns", "del", ns]);
    must("ip", "netns", "add", ns);
    inNs(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
    must("ip", "-n", ns, "link", "add", "q0", "type", "veth", "peer", "name", "q1");
    must("ip", "-n", ns, "link", "set", "q0", "up");
    const d = startIn(ns, [process.execPath, CLI, "director", "--iface", "q0", "--control", join(tmpdir(), `${ns}.sock`)]);
    await waitForLine(d, "lvslab director: ready", 10_000);
    d.kill("SIGTERM");
    assert.equal(await waitExit(d, 5000), 0);
  });

  test("an interface deleted under it is told on stderr; the director stays up", async () => {
    must("ip", "-n", ns, "link", "add", "q2", "type", "veth", "peer", "name", "q3");
    must("ip", "-n", ns, "link", "set", "q2", "up");
    const d = startIn(ns, [process.execPath, CLI, "director", "--iface", "q0", "--iface", "q2", "--control", join(tmpdir(), `${ns}.sock`)]);
    await waitForLine(d, "lvslab director: ready", 10_000);
    must("ip", "-n", ns, "link", "del", "q2");
    await waitForLine(d, "q2: the interface is gone (deleted, or made again): its frames no longer reach the director; restart it", 5000);
    assert.equal(d.exitCode, null);
    d.kill("SIGTERM");
    assert.equal(await waitExit(d, 5000), 0);
  });
});
