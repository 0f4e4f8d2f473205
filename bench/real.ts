/**
 * `npm run bench:real` — real mode's benchmark (not a test; root only). On one set of
 * namespaces (bench/real-lab.yaml: the seed's lab, the client also on the real servers'
 * LAN) it measures short HTTP connections (one request per connection, `wrk` with
 * `Connection: close`) from the client's namespace:
 *
 *   (a) straight to real_server1's nginx — the ceiling;
 *   (b) through lvslab's director, LVS-NAT, wrr 1:2 (the seed's lvs_nat.sh);
 *   (c) through HAProxy in TCP mode on the same director namespace (the kernel owns the VIP
 *       there for it), roundrobin with the same weights.
 *
 * and the packets per second lvslab's director forwarded in (b). Every run is bounded
 * (wrk -d, --timeout, and a hard kill); the lab is taken down at the end, also on failure.
 *
 *   node dist/bench/real.js [--duration S] [--connections N] [--rounds N]
 *
 * --rounds N repeats the whole run (a fresh lab each time) and adds the medians and ranges:
 * figures on a shared VM move by tens of percent from run to run.
 *
 * LVSLAB_PACKET_IO=bridge measures (b) with the Python packet bridge instead of the
 * director's own sockets.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, "..", "..");
const MAIN = join(ROOT, "dist", "src", "cli", "main.js");
const LAB_FILE = join(ROOT, "bench", "real-lab.yaml");
const LAB = "lvs-nat-bench";
const STATE = "/run/lvslab-bench";
const ENV = { ...process.env, LVSLAB_STATE_DIR: STATE };
const VIP = "192.168.75.131";
const RS1 = "192.168.1.185";

interface Wrk {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: string;
}

function which(p: string): string | undefined {
  return ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"].map((d) => join(d, p)).find((f) => existsSync(f));
}

function run(cmd: string, args: string[], timeoutMs = 30_000): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL", env: ENV });
  return { code: r.status ?? -1, out: r.stdout ?? "", err: r.stderr ?? "" };
}

function lvslab(...args: string[]): { code: number; out: string; err: string } {
  return run(process.execPath, [MAIN, ...args], 60_000);
}

function must(r: { code: number; out: string; err: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${r.err || r.out}`);
  return r.out;
}

/** wrk's latency figures ("1.27ms", "830.00us", "1.02s") in milliseconds. */
function ms(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v);
  if (!m) return NaN;
  const x = Number(m[1]);
  return m[2] === "us" ? x / 1000 : m[2] === "ms" ? x : m[2] === "s" ? x * 1000 : x * 60_000;
}

function wrk(ns: string, url: string, seconds: number, conns: number): Wrk {
  const r = run("ip", ["netns", "exec", ns, "wrk", "-t1", `-c${conns}`, `-d${seconds}s`, "--timeout", "2s", "--latency", "-H", "Connection: close", url], (seconds + 20) * 1000);
  if (r.code !== 0) throw new Error(`wrk ${url}: ${r.err || r.out}`);
  const num = (re: RegExp): string => re.exec(r.out)?.[1] ?? "NaN";
  return {
    rps: Number(num(/^Requests\/sec:\s+([\d.]+)/m)),
    p50: ms(num(/^\s+50%\s+(\S+)/m)),
    p99: ms(num(/^\s+99%\s+(\S+)/m)),
    requests: Number(num(/^\s+(\d+) requests in/m)),
    errors: [/^\s+(Socket errors:.*)$/m, /^\s+(Non-2xx or 3xx responses:.*)$/m].map((re) => re.exec(r.out)?.[1]).filter(Boolean).join("; "),
  };
}

function journal(): Array<Record<string, unknown>> {
  return readFileSync(join(STATE, LAB, "journal"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function sleep(msec: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, msec);
}

/** IPVS packet counters of the service (InPkts + OutPkts). */
function ipvsPackets(): number {
  const out = must(lvslab("exec", LAB, "vip", "--", "ipvsadm", "-L", "-n", "--stats"), "ipvsadm --stats");
  const m = new RegExp(`^TCP  ${VIP.replace(/\./g, "\\.")}:80\\s+\\d+\\s+(\\d+)\\s+(\\d+)`, "m").exec(out);
  return m ? Number(m[1]) + Number(m[2]) : NaN;
}

interface Round {
  rows: Array<[string, Wrk | string]>;
  pps: number;
  io: string;
}

/** One round: the lab up, (a), (b) and (c) measured, the lab down (also on failure). */
function round(seconds: number, conns: number, haproxy: string | undefined): Round {
  lvslab("down", LAB); // a run killed earlier
  const rows: Array<[string, Wrk | string]> = [];
  let pps = NaN;
  let io = "?";
  try {
    must(lvslab("up", LAB_FILE), "lvslab up");
    const id = String(journal()[0]!.id);
    const client = `lvs-${id}-client`;
    const vipNs = `lvs-${id}-vip`;
    // Each path leaves tens of thousands of the client's sockets in TIME_WAIT (wrk closes
    // too), and the next path to the same address would have to search the ephemeral
    // ports for a free one on every connect(): HAProxy after lvslab, both at the VIP,
    // ran at a tenth of its rate with wrk at 100 % system time. A load generator reuses
    // them, as tcp_tw_reuse=1 lets it.
    must(run("ip", ["netns", "exec", client, "sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse=1"]), "client tcp_tw_reuse");
    must(lvslab("exec", LAB, "vip", "--", "sh", "/usr/local/sbin/lvs_nat.sh"), "lvs_nat.sh");
    io = /^packet I\/O: (.*)$/m.exec(must(lvslab("exec", LAB, "vip", "--", "lvslab-drops"), "lvslab-drops"))?.[1] ?? "?";
    // Every path gets the same 1 s warm-up before it is measured (caches, JIT, ARP, nginx workers).
    wrk(client, `http://${RS1}/`, 1, conns);
    rows.push(["(a) client -> real_server1 (ceiling)", wrk(client, `http://${RS1}/`, seconds, conns)]);
    wrk(client, `http://${VIP}/`, 1, conns);
    sleep(2100); // the warm-up's packets reach the counters at the estimator's next 2 s tick
    const before = ipvsPackets();
    const t0 = process.hrtime.bigint();
    rows.push(["(b) client -> lvslab director (NAT) -> rs1/rs2", wrk(client, `http://${VIP}/`, seconds, conns)]);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    sleep(2100); // the counters are summed at the estimator's 2 s tick, as on Linux 6.1
    pps = (ipvsPackets() - before) / secs;
    if (!haproxy) rows.push(["(c) client -> HAProxy (TCP) -> rs1/rs2", "haproxy is not installed (apt-get install -y haproxy)"]);
    else {
      // The same namespace, now run by the kernel: lvslab's director stops, the kernel takes its addresses.
      const dir = journal().find((e) => e.kind === "proc" && e.what === "lvslab director");
      if (dir) process.kill(Number(dir.pid), "SIGTERM");
      sleep(1000);
      must(run("ip", ["netns", "exec", vipNs, "sh", "-ec", "ip addr add 192.168.1.186/24 dev eth0; ip addr add 192.168.75.131/24 dev eth1"]), "director addresses");
      const cfg = join(STATE, LAB, "haproxy.cfg");
      writeFileSync(cfg, [
        "global", "  maxconn 4096",
        "defaults", "  mode tcp", "  timeout connect 2s", "  timeout client 10s", "  timeout server 10s",
        "frontend vip", `  bind ${VIP}:80`, "  default_backend rs",
        "backend rs", "  balance roundrobin", "  server rs1 192.168.1.185:80 weight 1", "  server rs2 192.168.1.190:80 weight 2", "",
      ].join("\n"));
      // Started in the lab's director namespace: lvslab down kills it with the namespace.
      const hp = spawn("ip", ["netns", "exec", vipNs, haproxy, "-f", cfg, "-db"], { detached: true, stdio: "ignore" });
      hp.unref();
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = run("ip", ["netns", "exec", client, "curl", "-s", "-m", "1", "-o", "/dev/null", `http://${VIP}/`]).code === 0;
        if (!ok) sleep(100);
      }
      if (ok) wrk(client, `http://${VIP}/`, 1, conns);
      rows.push(["(c) client -> HAProxy (TCP) -> rs1/rs2", ok ? wrk(client, `http://${VIP}/`, seconds, conns) : "haproxy did not answer"]);
    }
  } finally {
    lvslab("down", LAB);
  }
  return { rows, pps, io };
}

function main(): number {
  const args = process.argv.slice(2);
  let seconds = 5;
  let conns = 8;
  let rounds = 1;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--duration") seconds = Number(args[++i]);
    else if (args[i] === "--connections") conns = Number(args[++i]);
    else if (args[i] === "--rounds") rounds = Number(args[++i]);
    else {
      process.stderr.write("usage: node dist/bench/real.js [--duration S] [--connections N] [--rounds N]\n");
      return 2;
    }
  }
  if (!(seconds >= 1 && seconds <= 60) || !(conns >= 1 && conns <= 256) || !(Number.isInteger(rounds) && rounds >= 1 && rounds <= 10)) {
    process.stderr.write("bench:real: --duration 1..60 seconds, --connections 1..256, --rounds 1..10\n");
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write("bench:real: needs root (network namespaces)\n");
    return 77;
  }
  for (const p of ["ip", "wrk", "nginx", "python3"]) {
    if (!which(p)) {
      process.stderr.write(`bench:real: needs ${p} (Debian: apt-get install -y iproute2 wrk nginx-light python3)\n`);
      return 77;
    }
  }
  const haproxy = which("haproxy");
  const results: Round[] = [];
  for (let r = 0; r < rounds; r++) results.push(round(seconds, conns, haproxy));
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? os.cpus()[0]?.model ?? "?";
  const out: string[] = [
    `lvslab bench:real — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs (${cpu}), Linux ${os.release()}, node ${process.version}`,
    `wrk -t1 -c${conns} -d${seconds}s --timeout 2s --latency -H "Connection: close" (one request per TCP connection), from the client's namespace`,
  ];
  results.forEach(({ rows, pps, io }, k) => {
    out.push("");
    if (rounds > 1) out.push(`round ${k + 1} of ${rounds}`);
    out.push(`${"path".padEnd(48)} ${"req/s".padStart(9)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}  errors`);
    for (const [name, r] of rows) {
      if (typeof r === "string") out.push(`${name.padEnd(48)} ${r}`);
      else out.push(`${name.padEnd(48)} ${r.rps.toFixed(0).padStart(9)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)}  ${r.errors || "-"}`);
    }
    out.push("", `lvslab director, (b): ${pps.toFixed(0)} packets/s forwarded (IPVS InPkts + OutPkts over the run); packet I/O: ${io}`);
    const [a, b, c] = rps(rows);
    out.push(`lvslab / ceiling: ${(b! / a!).toFixed(2)}   lvslab / HAProxy: ${(b! / c!).toFixed(2)}   (goals: >= 0.5 and >= 1.0)`);
  });
  if (rounds > 1) {
    // Run-to-run noise on a shared VM is tens of percent: medians of the rounds, with their range.
    const col = (f: (r: Round) => number): string => {
      const v = results.map(f).filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
      if (v.length === 0) return "-";
      const med = v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
      const d = med >= 100 ? 0 : 2;
      return `${med.toFixed(d)} (${v[0]!.toFixed(d)}-${v[v.length - 1]!.toFixed(d)})`;
    };
    out.push("", `medians of ${rounds} rounds (range):`);
    results[0]!.rows.forEach(([name], i) => out.push(`${name.padEnd(48)} ${col((r) => rps(r.rows)[i]!)} req/s`));
    out.push(`lvslab director, (b): ${col((r) => r.pps)} packets/s`);
    out.push(`lvslab / ceiling: ${col((r) => rps(r.rows)[1]! / rps(r.rows)[0]!)}   lvslab / HAProxy: ${col((r) => rps(r.rows)[1]! / rps(r.rows)[2]!)}`);
  }
  process.stdout.write(out.join("\n") + "\n");
  return 0;
}


function rps(rows: Array<[string, Wrk | string]>): number[] {
  return rows.map(([, r]) => (typeof r === "string" ? NaN : r.rps));
}

process.exitCode = main();
