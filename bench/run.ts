/**
 * `npm run bench` — lvslab's benchmark (not a test): prints a table of figures.
 *
 *   node dist/bench/run.js [--quick] [--only=sim,engine,capture,director]
 *
 * Bounded in iterations and in wall time (full run < 3 min on 2 cores, --quick ~20 s); never
 * touches the network. Memory figures need `global.gc`: without --expose-gc the script
 * re-runs itself in a child node with the flag. See docs/benchmarks.md.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { captureBench } from "./capture.js";
import { directorBench } from "./director.js";
import { engineBench } from "./engine.js";
import { runSim, type SimOptions } from "./sim.js";
import { type BenchConfig, Report, fmt, hasGc, mib, now } from "./util.js";

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (!hasGc()) {
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", self, ...args], { stdio: "inherit" });
    return r.status ?? 1;
  }
  const only = args.filter((a) => a.startsWith("--only=")).flatMap((a) => a.slice(7).split(",")).filter(Boolean);
  const bad = args.filter((a) => a !== "--quick" && !a.startsWith("--only="));
  if (bad.length > 0) {
    process.stderr.write(`usage: node dist/bench/run.js [--quick] [--only=sim,engine,capture,director]\n`);
    return 2;
  }
  const cfg: BenchConfig = { quick: args.includes("--quick"), only };
  const want = (s: string) => only.length === 0 || only.includes(s);

  const cpu = (() => {
    try {
      return /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? os.cpus()[0]?.model ?? "?";
    } catch {
      return os.cpus()[0]?.model ?? "?";
    }
  })();
  process.stdout.write(`lvslab bench${cfg.quick ? " (--quick)" : ""}: node ${process.version}, ${os.availableParallelism()} CPUs (${cpu}), ${os.platform()} ${os.arch()}\n`);
  const r = new Report();
  const t0 = now();
  if (want("sim")) simBench(r, cfg);
  if (want("engine")) engineBench(r, cfg);
  if (want("capture")) captureBench(r, cfg);
  if (want("director")) await directorBench(r, cfg);
  process.stdout.write(`\ntotal ${fmt((now() - t0) / 1000)} s\n`);
  const goals = r.rows.filter((x) => x.goal);
  if (goals.length > 0) {
    process.stdout.write(`\ngoals:\n`);
    for (const g of goals) process.stdout.write(`  ${g.name}: ${fmt(g.value)} ${g.unit} (${g.goal})\n`);
  }
  return 0;
}

function simBench(r: Report, cfg: BenchConfig): void {
  r.begin("Simulator: seed LVS-NAT lab scaled to many clients (1)");
  // Warm the JIT on a small run first (not reported).
  runSim({ clients: 10, realServers: 2, requestsPerClient: cfg.quick ? 10 : 30 });
  const k = cfg.quick ? 10 : 100;
  const variants: (SimOptions & { label: string })[] = [
    { label: "50 clients, 2 real servers", clients: 50, realServers: 2, requestsPerClient: k },
    { label: "50 clients, 10 real servers", clients: 50, realServers: 10, requestsPerClient: k },
  ];
  if (!cfg.quick) variants.push({ label: "200 clients, 2 real servers", clients: 200, realServers: 2, requestsPerClient: 15 });
  for (const v of variants) {
    const res = runSim({ ...v, maxWallMs: cfg.quick ? 5000 : 30_000 });
    const s = res.wallMs / 1000;
    const hops = res.packetHops / s;
    r.add(`${v.label}: packet-hops`, hops, "hops/s", `${fmt(res.packetHops)} hops in ${fmt(res.wallMs)} ms`, Report.goal(hops, 500_000, "hops/s"));
    r.add(`${v.label}: HTTP GETs`, res.requests / s, "requests/s",
      `${fmt(res.requests)} of ${fmt(v.clients * v.requestsPerClient)} GETs, ${res.failed} failed${res.complete ? "" : ", stopped at the time limit"}`);
    r.add(`${v.label}: events`, res.events / s, "events/s", `${fmt(res.events)} events, ${fmt(res.virtualUs / 1000)} ms virtual`);
    r.add(`${v.label}: frames sent`, res.framesSent / s, "frames/s", `IPVS in+out ${fmt(res.directorPackets)} pkts`);
    r.add(`${v.label}: peak heap`, mib(res.peakHeap), "MiB", "heapUsed + arrayBuffers, sampled every 4096 events");
  }
}

process.exitCode = await main();
