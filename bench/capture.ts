/**
 * Capture cost: the tcpdump printer and the pcap writer on frames recorded from the seed
 * lab, and the seed lab's run time with a capture on every NIC against none.
 */
import { PcapWriter } from "../src/tools/tcpdump/pcap.js";
import { Printer } from "../src/tools/tcpdump/print.js";
import { runSim, type SimOptions, type SimResult, type TapMode } from "./sim.js";
import { type BenchConfig, type Report, Report as R, fmt, rate } from "./util.js";

const EPOCH_US = Date.UTC(2026, 10, 24, 1, 0, 0) * 1000;

export function captureBench(r: Report, cfg: BenchConfig): void {
  r.begin("Capture: printer and pcap writer (3)");
  // Frames from a real run: ARP, SYN, SYN+ACK, GET, 200 responses, FINs, on both sides.
  const rec = runSim({ clients: 10, realServers: 2, requestsPerClient: 20, tap: "print", keepFrames: 5000 });
  const frames = rec.frames.map((f) => f.frame);
  const ts = rec.frames.map((f) => EPOCH_US + f.ts);
  const avgLen = frames.reduce((a, f) => a + f.length, 0) / frames.length;
  let k = 0;
  let chars = 0;
  let lines = 0;
  let printer = new Printer({ numeric: 1 });
  const pr = rate((n) => {
    for (let j = 0; j < n; j++) {
      const us = ts[k]!;
      const sec = Math.floor(us / 1e6);
      chars += printer.format({ sec, nsec: (us - sec * 1e6) * 1000, data: frames[k]!, origLen: frames[k]!.length }).length;
      lines++;
      if (++k === frames.length) {
        k = 0;
        printer = new Printer({ numeric: 1 }); // a new capture: fresh relative sequence numbers
      }
    }
  }, { maxOps: cfg.quick ? 100_000 : 500_000, maxMs: cfg.quick ? 700 : 2500, batchOps: 500 });
  r.add("tcpdump -nn printer", pr.opsPerSec, "packets/s", `${fmt(frames.length)} distinct frames (avg ${fmt(avgLen)} B), avg ${fmt(chars / lines)} chars/line`);

  let writer = new PcapWriter();
  let bytes = 0;
  let recs = 0;
  let pk = 0;
  const pw = rate((n) => {
    for (let j = 0; j < n; j++) {
      writer.add(ts[k]!, frames[k]!);
      bytes += 16 + frames[k]!.length;
      recs++;
      if (++k === frames.length) k = 0;
    }
    pk += n;
    if (pk >= 50_000) {
      // tcpdump -w flushes the file; bytes() joins what was added (part of the cost).
      writer.bytes();
      writer = new PcapWriter();
      pk = 0;
    }
  }, { maxOps: cfg.quick ? 200_000 : 1_000_000, maxMs: cfg.quick ? 500 : 2000, batchOps: 1000 });
  const bps = (pw.opsPerSec * bytes) / recs;
  r.add("pcap writer", bps / (1024 * 1024), "MiB/s", `${fmt(pw.opsPerSec)} records/s (16 B header + frame)`);

  r.begin("Capture: seed lab with a capture on every NIC vs none (3)");
  const o: SimOptions = { clients: 50, realServers: 2, requestsPerClient: cfg.quick ? 8 : 40 };
  const modes: TapMode[] = ["none", "print", "pcap"];
  const best = new Map<TapMode, SimResult>();
  // Interleaved repetitions, best of each (wall-time noise only ever adds).
  for (let rep = 0; rep < (cfg.quick ? 1 : 3); rep++) {
    for (const m of modes) {
      const res = runSim({ ...o, tap: m });
      if (res.failed > 0 || !res.complete) throw new Error(`tap ${m}: ${res.failed} failed`);
      const b = best.get(m);
      if (!b || res.wallMs < b.wallMs) best.set(m, res);
    }
  }
  const base = best.get("none")!;
  r.add("no capture", base.wallMs, "ms", `${fmt(base.requests)} GETs, ${fmt(base.packetHops)} packet-hops`);
  for (const m of ["print", "pcap"] as const) {
    const b = best.get(m)!;
    const ratio = b.wallMs / base.wallMs;
    const what = m === "print" ? "tcpdump -nn on every NIC" : "tcpdump -w on every NIC";
    r.add(what, b.wallMs, "ms", `${fmt(b.tapOutput)} ${m === "print" ? "chars" : "bytes"} captured`);
    r.add(`  ratio (${m}) to no capture`, ratio, "x", "", R.goal(ratio, 2, "x", true));
  }
}
