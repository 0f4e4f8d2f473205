/**
 * The statistics and rate estimator against test/golden/kernel/rate.out (real Linux 6.1,
 * seed LVS-NAT lab, -s rr over rs1 then rs2).
 *
 * 1. Replay: the emulated VM's timing is irregular, so the kernel's own samples are fed to
 *    our estimator. The script printed the counters and rates after every 2 s tick; each
 *    tick's counters go into a StatsBlock (the totals of /proc/net/ip_vs_stats, the
 *    service, each dest), one estimator step runs per tick, and the rates it computes must
 *    be the ones the kernel printed, tick after tick (load, decay), and through the lag,
 *    -Z and run_estimation=0 sections.
 * 2. Simulation: the same service in labs/lvs-nat.yaml; requests placed like the script's
 *    relative to the ticks (found the same way: polling /proc/net/ip_vs_stats) must print
 *    the same text: the first tick, -Z, run_estimation=0 and the listings without --exact.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { StatsBlock } from "../src/ipvs/est.js";
import { runCommand, sleepWorld } from "../src/lab/runner.js";
import { buildLabFile, goldenSections } from "./helpers.js";

const GOLDEN = "test/golden/kernel/rate.out";
const V = "192.168.75.131";
const TOTAL = "total";

/** One printed state: optional label line, totals (/proc, hex), --stats and --rate rows. */
interface Obs {
  label: string;
  text: string;
  tot?: { counters: number[]; rates: number[] };
  stats: Map<string, number[]>;
  rates: Map<string, number[]>;
}

/** Split a golden section into observations: a text line starts a new one. */
function observations(section: string): Obs[] {
  const out: Obs[] = [];
  let cur: Obs | undefined;
  let table: "tot" | "stats" | "rates" | undefined;
  let totLines: string[] = [];
  const start = (label: string) => {
    cur = { label, text: "", stats: new Map(), rates: new Map() };
    out.push(cur);
  };
  for (const line of section.split("\n")) {
    if (line === "") {
      if (table === "tot") cur!.text += "\n";
      continue;
    }
    const isTable = /^ {3}Total |^ {3}Conns |^ Conns\/s|^ +[0-9A-F]+ +[0-9A-F]+ +[0-9A-F]+ +[0-9A-F]+ +[0-9A-F]+$|^IP Virtual Server|^Prot |^ {2}-> |^TCP /.test(line);
    if (!isTable) {
      start(line);
      table = undefined;
      continue;
    }
    if (cur === undefined) start("");
    cur!.text += line + "\n";
    if (line.startsWith("   Total ")) { table = "tot"; totLines = []; continue; }
    if (line.startsWith("Prot ")) { table = line.includes(" CPS ") ? "rates" : "stats"; continue; }
    const nums = (s: string, base: number) => s.trim().split(/\s+/).map((x) => parseInt(x, base));
    if (table === "tot" && /^ +[0-9A-F]+( +[0-9A-F]+){4}$/.test(line)) {
      totLines.push(line);
      if (totLines.length === 2) cur!.tot = { counters: nums(totLines[0]!, 16), rates: nums(totLines[1]!, 16) };
      continue;
    }
    const m = /^(?:TCP {2}|  -> )(\S+)\s+(.*)$/.exec(line);
    if (m && (table === "stats" || table === "rates")) {
      const key = line.startsWith("TCP") ? `TCP ${m[1]}` : m[1]!;
      (table === "stats" ? cur!.stats : cur!.rates).set(key, nums(m[2]!, 10));
    }
  }
  return out;
}

const asStats = (v: number[]) => ({ conns: v[0]!, inpkts: v[1]!, outpkts: v[2]!, inbytes: v[3]!, outbytes: v[4]! });
const asList = (r: { cps: number; inpps: number; outpps: number; inbps: number; outbps: number }) => [r.cps, r.inpps, r.outpps, r.inbps, r.outbps];
const timeOf = (label: string) => Number(/(\d+\.\d+)/.exec(label)![1]);

test("rate golden replay: our estimator computes the rates the kernel printed from the kernel's own counters", () => {
  const g = goldenSections(GOLDEN);
  const sec = (t: string) => { const v = g.get(t); assert.ok(v !== undefined, `golden has no "### ${t}"`); return observations(v); };
  const blocks = new Map<string, StatsBlock>();
  const offset = new Map<string, number[]>();
  const block = (k: string) => { let b = blocks.get(k); if (!b) blocks.set(k, (b = new StatsBlock())); return b; };
  const counterSets = (o: Obs): Array<[string, number[]]> => [...(o.tot ? [[TOTAL, o.tot.counters] as [string, number[]]] : []), ...o.stats];
  /** The kernel's absolute counters: what it printed plus the -Z zero point. */
  const feed = (o: Obs) => {
    for (const [k, v] of counterSets(o)) Object.assign(block(k).stats, asStats(v.map((x, i) => x + (offset.get(k)?.[i] ?? 0))));
  };
  const tick = (n = 1) => { for (let i = 0; i < n; i++) for (const b of blocks.values()) b.estimate(); };
  let checked = 0;
  const check = (o: Obs, what: string) => {
    if (o.tot) {
      assert.deepEqual(asList(block(TOTAL).rates()), o.tot.rates, `${what}: /proc/net/ip_vs_stats rates`);
      assert.deepEqual(Object.values(block(TOTAL).snapshot()), o.tot.counters, `${what}: /proc/net/ip_vs_stats counters`);
    }
    for (const [k, v] of o.rates) assert.deepEqual(asList(block(k).rates()), v, `${what}: ${k} rates`);
    for (const [k, v] of o.stats) assert.deepEqual(Object.values(block(k).snapshot()), v, `${what}: ${k} counters`);
    checked++;
  };

  const start = sec("start " + [...g.keys()].find((t) => t.startsWith("start "))!.slice(6))[0]!;
  for (const k of [TOTAL, ...start.stats.keys()]) block(k);
  check(start, "start");
  // load and decay: one printed state per tick, about 2 s apart (none missed).
  const ticks = [...g.keys()].filter((t) => t.startsWith("tick "));
  assert.ok(ticks.length >= 20, `${ticks.length} ticks recorded`);
  let last = timeOf(ticks[0]!) - 2;
  for (const t of ticks) {
    const gap = timeOf(t) - last;
    assert.ok(gap > 1.5 && gap < 2.6, `one tick between ${last} and ${t}`);
    last = timeOf(t);
    const [o] = sec(t);
    assert.ok(o && !o.label.includes("torn"), `${t} is whole`);
    feed(o);
    tick();
    check(o, t);
  }
  // lag: a request right after a tick is not in the listing until the next tick.
  const lag = sec("lag");
  assert.ok(timeOf(lag[0]!.label) - last < 2.6);
  tick();
  check(lag[1]!, "lag: listing after the request");
  assert.match(lag[2]!.label, /^next tick/);
  feed(lag[2]!);
  tick();
  check(lag[2]!, "lag: next tick");
  // zero: a request, -Z before the next tick (zero point = the last tick's sums).
  const zero = sec("zero");
  const t0 = timeOf(zero[0]!.label);
  tick();
  for (const [k, b] of blocks) offset.set(k, Object.values(b.snapshot()));
  for (const b of blocks.values()) b.zero();
  check(zero[1]!, "zero: right after -Z");
  const n = Math.round((timeOf(zero[2]!.label) - t0) / 2);
  assert.equal(n, 2, "the listing after -Z took a tick's time: two ticks to the next printed state");
  feed(zero[2]!);
  tick(n);
  check(zero[2]!, "zero: two ticks later");
  tick();
  check(zero[3]!, "zero: one more tick");
  // noest: run_estimation=0 freezes counters and rates; the first tick after counts all.
  const noest = sec("noest");
  const frozen = noest.find((o) => o.label.startsWith("5 s later"))!;
  check(frozen, "run_estimation=0, 5 s later");
  const again = noest.find((o) => o.label.startsWith("first tick after"))!;
  feed(again);
  tick();
  check(again, "first tick after re-enabling");
  assert.ok(checked >= 28);
});

test("rate golden, simulated: ticks, lag, -Z and run_estimation=0 print as on the kernel", async () => {
  const g = goldenSections(GOLDEN);
  const obsText = (t: string, label?: RegExp) => {
    const list = observations(g.get(t)!);
    const o = label ? list.find((x) => label.test(x.label)) : list[0];
    assert.ok(o, `golden ${t} ${label ?? ""}`);
    return o.text;
  };
  const lab = buildLabFile("labs/lvs-nat.yaml");
  const { world } = lab;
  const vip = lab.hosts.get("vip")!;
  const client = lab.hosts.get("client")!;
  const out = async (host: typeof vip, line: string) => {
    await sleepWorld(world, 5_000);
    const r = await runCommand(host, line);
    return r.io.stdoutText;
  };
  const tot = () => out(vip, "cat /proc/net/ip_vs_stats");
  const lists = async () => (await out(vip, "ipvsadm -L -n --stats --exact")) + (await out(vip, "ipvsadm -L -n --rate --exact"));
  const state = async () => (await tot()) + (await lists());
  const waitTick = async () => {
    const prev = await tot();
    for (let i = 0; i < 100; i++) {
      await sleepWorld(world, 50_000);
      if ((await tot()) !== prev) return;
    }
    assert.fail("no estimator tick within 5 s");
  };
  const curl = async () => assert.match(await out(client, `curl -s ${V}/`), /^(1111111111111master|2222222222222slave)\n$/);
  const diffs: string[] = [];
  const same = (what: string, got: string, want: string) => { if (got !== want) diffs.push(`${what}:\n--- got\n${got}--- want\n${want}`); };

  await out(vip, "sysctl -q -w net.ipv4.ip_forward=1");
  await out(vip, `ipvsadm -A -t ${V}:80 -s rr`);
  await out(vip, `ipvsadm -a -t ${V}:80 -r 192.168.1.185:80 -m`);
  await out(vip, `ipvsadm -a -t ${V}:80 -r 192.168.1.190:80 -m`);
  const startTitle = [...g.keys()].find((t) => t.startsWith("start "))!;
  same("start", await state(), obsText(startTitle));
  // The first request (to rs2, as on the kernel), then its tick.
  await curl();
  await waitTick();
  same("first tick", await state(), obsText([...g.keys()].find((t) => t.startsWith("tick "))!));
  // lag: a request right after a tick shows up only at the next one.
  await waitTick();
  const before = await out(vip, "ipvsadm -L -n --stats --exact");
  await curl();
  same("lag: --stats right after a request", await out(vip, "ipvsadm -L -n --stats --exact"), before);
  await waitTick();
  assert.match(await out(vip, "ipvsadm -L -n --stats --exact"), /TCP {2}192\.168\.75\.131:80 +2 +12 +8 /);
  await curl(); // the kernel had an odd number of requests before its -Z: the next goes to rs1
  await waitTick();
  // zero: as the script, a request just after a tick and -Z before the next.
  await waitTick();
  await curl();
  await out(vip, "ipvsadm -Z");
  same("zeroed", await state(), obsText("zero", /^zeroed at/));
  await waitTick();
  await waitTick();
  same("two ticks after -Z", await state(), obsText("zero", /^next tick/));
  await waitTick();
  same("three ticks after -Z", await state(), obsText("zero", /^tick after/));
  // noest
  assert.equal(await out(vip, "sysctl -w net.ipv4.vs.run_estimation=0"), "net.ipv4.vs.run_estimation = 0\n");
  await curl();
  await sleepWorld(world, 5_000_000);
  same("run_estimation=0, 5 s later", await state(), obsText("noest", /^5 s later/));
  assert.equal(await out(vip, "sysctl -w net.ipv4.vs.run_estimation=1"), "net.ipv4.vs.run_estimation = 1\n");
  await waitTick();
  same("first tick after re-enabling", await state(), obsText("noest", /^first tick after/));
  // plain: without --exact, and with names (-L --stats without -n). The lab's /etc/hosts
  // names the real servers; the recording VM's had no names for them.
  const named = (await out(vip, "ipvsadm -L --stats")).replace("real_server1:http ", "192.168.1.185:http").replace("real_server2:http ", "192.168.1.190:http");
  same("plain", (await out(vip, "ipvsadm -L -n --stats")) + (await out(vip, "ipvsadm -L -n --rate")) + named, g.get("plain")!);
  assert.deepEqual(diffs, []);
});
