/**
 * The IPVS engine alone (no simulator): fake ports (a frozen clock), prebuilt IPv4 packets,
 * and the public data-plane hooks `localIn` / `forward`, plus the connection table and
 * the schedulers directly.
 */
import { FwdMethod, type Ip4 } from "../src/ipvs/api.js";
import type { IpvsEngine } from "../src/ipvs/engine.js";
import { schedulerNames } from "../src/ipvs/sched/index.js";
import type { SchedPacket } from "../src/ipvs/sched/types.js";
import { destSpec, ip, newEngine, svcSpec, tcpKey } from "../src/ipvs/test_util.js";
import { natRewriteSrc } from "../src/wire/index.js";
import { buildTcpPacket } from "../src/wire/testing.js";
import { type BenchConfig, type Report, Report as R, fmt, mib, now, rate, settledMemory, xorshift } from "./util.js";

const VIP = "192.168.75.131";
const KEY = tcpKey(VIP, 80);
const CTX = { inIf: "eth1", fwmark: 0 };
const RS = ["192.168.1.185", "192.168.1.190"];

function natEngine(bits?: number, sched = "wrr"): IpvsEngine {
  const { e } = newEngine(bits === undefined ? {} : { connTabBits: bits });
  e.addService(svcSpec(KEY, sched));
  RS.forEach((a, i) => e.addDest(KEY, destSpec(a, 80, { fwd: FwdMethod.Masq, weight: i + 1 })));
  return e;
}

/** Client i's address and port: 10.x.y.z with 50,000 ports each (1024..51023). */
function clientOf(i: number): { caddr: Ip4; cport: number } {
  const host = Math.floor(i / 50_000);
  return { caddr: (0x0a000000 + 1 + host) >>> 0, cport: 1024 + (i % 50_000) };
}

/**
 * (a) NAT forwarding on existing connections. C connections are set up (SYN in, SYN+ACK
 * out, ACK in) so they are ESTABLISHED; then each iteration copies a prebuilt client ACK
 * (60 bytes, 20 payload) into a buffer and runs localIn (lookup, DNAT, TTL, incremental
 * checksums, stats, timer), then copies the real server's reply and runs forward (out
 * lookup, SNAT). Each hook call counts as one packet. The copy is part of the figure (the
 * hooks rewrite in place); its own cost is measured and printed beside it.
 */
function natForwarding(r: Report, cfg: BenchConfig): void {
  const C = 1000;
  const e = natEngine();
  const ins: Uint8Array[] = [];
  const outs: Uint8Array[] = [];
  for (let i = 0; i < C; i++) {
    const { caddr, cport } = clientOf(i);
    const syn = buildTcpPacket({ src: caddr, dst: VIP, sport: cport, dport: 80, flags: "S", seq: 1000 });
    const v = e.localIn(syn, CTX);
    if (v.action !== "stolen") throw new Error(`SYN not scheduled: ${v.action}`);
    const rsAddr = (v.out[0]!.packet[16]! << 24 | v.out[0]!.packet[17]! << 16 | v.out[0]!.packet[18]! << 8 | v.out[0]!.packet[19]!) >>> 0;
    const sa = buildTcpPacket({ src: rsAddr, dst: caddr, sport: 80, dport: cport, flags: "S.", seq: 5000, ack: 1001, ttl: 64 });
    if (e.forward(sa, CTX).action !== "accept") throw new Error("SYN+ACK");
    const ack = buildTcpPacket({ src: caddr, dst: VIP, sport: cport, dport: 80, flags: "P.", seq: 1001, ack: 5001, payload: "GET / HTTP/1.1\r\n\r\n.." });
    ins.push(ack.slice());
    e.localIn(ack, CTX);
    outs.push(buildTcpPacket({ src: rsAddr, dst: caddr, sport: 80, dport: cport, flags: ".", seq: 5001, ack: 1021, ttl: 64, payload: "HTTP/1.1 200 OK\r\n\r\n." }));
  }
  const estab = e.conns().filter((c) => c.state === "ESTABLISHED").length;
  if (estab !== C) throw new Error(`only ${estab} of ${C} connections ESTABLISHED`);
  const bin = new Uint8Array(ins[0]!.length);
  const bout = new Uint8Array(outs[0]!.length);
  let k = 0;
  let stolen = 0;
  const res = rate((n) => {
    for (let j = 0; j < n; j++) {
      bin.set(ins[k]!);
      if (e.localIn(bin, CTX).action === "stolen") stolen++;
      bout.set(outs[k]!);
      e.forward(bout, CTX);
      if (++k === C) k = 0;
    }
  }, { maxOps: cfg.quick ? 400_000 : 2_000_000, maxMs: cfg.quick ? 700 : 3000 });
  if (stolen < res.ops) throw new Error("a packet was not forwarded");
  const pps = res.opsPerSec * 2;
  r.add("NAT forwarding, existing conns (in+out)", pps, "packets/s", `${C} ESTABLISHED conns, ${fmt(res.ops * 2)} pkts`, R.goal(pps, 1_200_000, "packets/s"));
  const copy = rate((n) => {
    for (let j = 0; j < n; j++) {
      bin.set(ins[k]!);
      bout.set(outs[k]!);
      if (++k === C) k = 0;
    }
  }, { maxOps: 2_000_000, maxMs: 300 });
  r.add("  of which the 2 buffer copies", (2 / copy.opsPerSec) * 1e9, "ns/pair", "");
}

/** A SYN for client i (from one template, rewritten in place with correct checksums). */
function synMaker(): (i: number, into: Uint8Array) => void {
  const tpl = buildTcpPacket({ src: "10.0.0.1", dst: VIP, sport: 1024, dport: 80, flags: "S", seq: 1000 });
  return (i, into) => {
    into.set(tpl);
    const { caddr, cport } = clientOf(i);
    natRewriteSrc(into, caddr, cport);
  };
}

/** Fill an engine with n connections (SYN_RECV entries) through localIn. */
function fill(e: IpvsEngine, from: number, to: number): void {
  const mk = synMaker();
  const buf = new Uint8Array(40);
  for (let i = from; i < to; i++) {
    mk(i, buf);
    const v = e.localIn(buf, CTX);
    if (v.action !== "stolen") throw new Error(`SYN ${i}: ${v.action}`);
  }
}

/** (b) New connections per second: SYNs from distinct clients through localIn. */
function newConns(r: Report, cfg: BenchConfig): void {
  for (const bits of [12, 20]) {
    const n = cfg.quick ? 50_000 : 300_000;
    const e = natEngine(bits);
    const mk = synMaker();
    const buf = new Uint8Array(40);
    let i = 0;
    const res = rate((m) => {
      for (let j = 0; j < m; j++) {
        mk(i++, buf);
        e.localIn(buf, CTX);
      }
    }, { maxOps: n, maxMs: cfg.quick ? 800 : 4000, warmupOps: 5000 });
    const made = e.tab.count;
    r.add(`new connections (SYN -> wrr -> DNAT), ${bits === 12 ? "default" : "max"} table (2^${bits})`, res.opsPerSec, "conns/s",
      `${fmt(made)} entries at the end`);
  }
}

/**
 * (c) memory per entry and (d) lookups at 10^4, 10^5, 10^6 entries, with 2^20 buckets (the
 * largest conn_tab_bits) and the default 2^12. Lookups go through the table's key indexes,
 * not the chains, so the bucket count no longer matters to them (it still orders listings).
 */
function tableScaling(r: Report, cfg: BenchConfig): void {
  const sizes = cfg.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const lookupsPerSize = cfg.quick ? 300_000 : 2_000_000;
  for (const n of sizes) {
    for (const bits of [20, 12]) {
      if (bits === 12 && n < 100_000) continue;
      let e: IpvsEngine | undefined = natEngine(bits);
      const before = settledMemory();
      fill(e, 0, n);
      const after = settledMemory();
      if (bits === 20) {
        const per = (after - before) / n;
        const goal = n === 1_000_000 ? R.goal(per, 128, "B/entry", true) : "";
        r.add(`memory per entry at ${fmt(n)} entries`, per, "bytes/entry", `heap+arrayBuffers delta ${fmt(mib(after - before))} MiB`, goal);
      }
      // Lookups in a random order over existing keys (the in-path hash lookup alone).
      const rnd = xorshift(n);
      const M = 1 << 16;
      const ca = new Uint32Array(M);
      const cp = new Uint16Array(M);
      for (let j = 0; j < M; j++) {
        const c = clientOf(rnd() % n);
        ca[j] = c.caddr;
        cp[j] = c.cport;
      }
      const tab = e.tab;
      const vaddr = ip(VIP);
      let k = 0;
      let found = 0;
      const res = rate((m) => {
        for (let j = 0; j < m; j++) {
          if (tab.inLookup(6, ca[k]!, cp[k]!, vaddr, 80) >= 0) found++;
          k = (k + 1) & (M - 1);
        }
      }, { maxOps: lookupsPerSize, maxMs: cfg.quick ? 300 : 1200 });
      if (found < res.ops) throw new Error("lookup missed an entry");
      r.add(`conn-table lookups at ${fmt(n)} entries, 2^${bits} buckets`, res.opsPerSec, "lookups/s", `avg chain ${fmt(n / (1 << bits))} (listing order; lookups use the index)`);
      e = undefined;
    }
  }
}

/** (e) Scheduling decisions per second: each scheduler's schedule() with D dests. */
function schedulers(r: Report, cfg: BenchConfig): void {
  const names = schedulerNames();
  const counts = [2, 100, 1000];
  process.stdout.write(`  ${"scheduler".padEnd(10)}${counts.map((c) => `${c} dests`.padStart(16)).join("")}   (decisions/s)\n`);
  for (const name of names) {
    const cells: string[] = [];
    // A registered scheduler the engine does not offer (Linux 6.1 has no twos) has no row.
    const probe = newEngine().e.addService(svcSpec(KEY, name));
    if (probe) {
      process.stdout.write(`  ${name.padEnd(10)}  (not offered by the engine: ${probe})\n`);
      continue;
    }
    for (const d of counts) {
      const { e } = newEngine();
      e.addService(svcSpec(KEY, name));
      for (let i = 0; i < d; i++) {
        // 10.1.x.y real servers (x = i / 128), weights 1..5.
        const a = `10.1.${i >> 7}.${(i & 127) + 1}`;
        const err = e.addDest(KEY, destSpec(a, 80, { fwd: FwdMethod.Masq, weight: 1 + (i % 5) }));
        if (err) throw new Error(`${name}: addDest ${a}: ${err}`);
      }
      const svc = e.serviceObjects()[0]!;
      const sched = svc.sched;
      const rnd = xorshift(d * 7919);
      const M = 4096;
      const saddrs = new Uint32Array(M);
      for (let j = 0; j < M; j++) saddrs[j] = (0xc0a84b00 + (rnd() & 0xffff)) >>> 0;
      const p: SchedPacket = { proto: 6, saddr: 0, daddr: ip(VIP), sport: 0, dport: 80 };
      let k = 0;
      let miss = 0;
      // Slow (linear in dests) schedulers get fewer decisions, bounded by time as well.
      const res = rate((m) => {
        for (let j = 0; j < m; j++) {
          p.saddr = saddrs[k]!;
          p.sport = 1024 + k;
          k = (k + 1) & (M - 1);
          if (typeof sched.schedule(svc, p) === "string") miss++;
        }
      }, { maxOps: cfg.quick ? 50_000 : 200_000, maxMs: cfg.quick ? 60 : 250, batchOps: 256, warmupOps: 10_000 });
      if (miss > 0) throw new Error(`${name} with ${d} dests: ${miss} decisions found no dest`);
      r.rows.push({ name: `schedulers: ${name} with ${d} dests`, value: res.opsPerSec, unit: "decisions/s" });
      cells.push(fmt(res.opsPerSec).padStart(16));
    }
    process.stdout.write(`  ${name.padEnd(10)}${cells.join("")}\n`);
  }
}

export function engineBench(r: Report, cfg: BenchConfig): void {
  r.begin("IPVS engine: NAT forwarding (2a)");
  natForwarding(r, cfg);
  r.begin("IPVS engine: new connections (2b)");
  newConns(r, cfg);
  r.begin("IPVS engine: connection table memory and lookups (2c, 2d)");
  tableScaling(r, cfg);
  r.begin("IPVS engine: scheduling decisions (2e; schedule() called directly, no connections)");
  const t0 = now();
  schedulers(r, cfg);
  process.stdout.write(`  (${fmt((now() - t0) / 1000)} s)\n`);
}
