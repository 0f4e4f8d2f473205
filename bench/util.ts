/**
 * Small helpers the benchmarks share: a wall clock, bounded measurement loops, heap
 * probes and the table printer. Benchmarks only — nothing under src/ imports this.
 */
import { performance } from "node:perf_hooks";

export const now = (): number => performance.now();

/** The run's knobs: --quick shrinks every bound (a ~20 s run); the full run stays under ~3 min. */
export interface BenchConfig {
  readonly quick: boolean;
  /** Only run sections whose name starts with one of these (empty = all). */
  readonly only: readonly string[];
}

export interface Row {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
  /** Goal check: "met" / "NOT met" / "" (no goal). */
  readonly goal?: string;
}

export class Report {
  readonly rows: Row[] = [];
  private section = "";

  begin(section: string): void {
    this.section = section;
    process.stdout.write(`\n== ${section}\n`);
  }

  add(name: string, value: number, unit: string, note = "", goal = ""): void {
    const r: Row = { name: `${this.section}: ${name}`, value, unit, note, goal };
    this.rows.push(r);
    const g = goal ? `  [goal ${goal}]` : "";
    process.stdout.write(`  ${name.padEnd(60)} ${fmt(value).padStart(14)} ${unit.padEnd(14)}${note ? " " + note : ""}${g}\n`);
  }

  /** A goal "value >= target" (or <= when `atMost`), phrased for the table. */
  static goal(value: number, target: number, unit: string, atMost = false): string {
    const ok = atMost ? value <= target : value >= target;
    return `${atMost ? "<=" : ">="} ${fmt(target)} ${unit}: ${ok ? "met" : "NOT met"}`;
  }
}

/** Numbers with thousands separators; small ones with 2 decimals. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/**
 * Run `batch(n)` (which performs n operations) repeatedly until `maxOps` operations or
 * `maxMs` of wall time, after `warmupOps` untimed ones. Returns operations per second.
 */
export function rate(batch: (n: number) => void, opts: { maxOps: number; maxMs: number; batchOps?: number; warmupOps?: number }): { opsPerSec: number; ops: number; ms: number } {
  const b = opts.batchOps ?? 1000;
  let w = opts.warmupOps ?? Math.min(opts.maxOps / 10, 20_000);
  while (w > 0) {
    const n = Math.min(b, w);
    batch(n);
    w -= n;
  }
  let ops = 0;
  const t0 = now();
  let t = t0;
  while (ops < opts.maxOps && t - t0 < opts.maxMs) {
    const n = Math.min(b, opts.maxOps - ops);
    batch(n);
    ops += n;
    t = now();
  }
  const ms = t - t0;
  return { opsPerSec: ops / (ms / 1000), ops, ms };
}

type GcFn = () => void;
const gcFn: GcFn | undefined = (globalThis as { gc?: GcFn }).gc;

export function hasGc(): boolean {
  return gcFn !== undefined;
}

/** JS heap plus ArrayBuffer backing stores (typed arrays live there), after a full GC. */
export function settledMemory(): number {
  if (gcFn) {
    gcFn();
    gcFn();
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export function mib(bytes: number): number {
  return bytes / (1024 * 1024);
}

/** A deterministic xorshift32 for benchmark inputs (not the simulator's RNG). */
export function xorshift(seed = 0x9e3779b9): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
