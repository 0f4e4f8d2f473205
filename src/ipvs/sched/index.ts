/**
 * The scheduler registry: name -> scheduler type, as ip_vs_sched.c keeps it.
 */
import type { SchedulerType } from "./types.js";
import { rr } from "./rr.js";
import { wrr } from "./wrr.js";
import { lc } from "./lc.js";
import { wlc } from "./wlc.js";
import { sed } from "./sed.js";
import { nq } from "./nq.js";
import { fo } from "./fo.js";
import { ovf } from "./ovf.js";
import { twos } from "./twos.js";
import { sh } from "./sh.js";
import { dh } from "./dh.js";
import { mh } from "./mh.js";
import { lblc } from "./lblc.js";
import { lblcr } from "./lblcr.js";

export * from "./types.js";

const registry = new Map<string, SchedulerType>();

export function registerScheduler(t: SchedulerType): void {
  registry.set(t.name, t);
}

export function findScheduler(name: string): SchedulerType | undefined {
  return registry.get(name);
}

export function schedulerNames(): string[] {
  return [...registry.keys()];
}

for (const t of [rr, wrr, lc, wlc, sed, nq, fo, ovf, twos, sh, dh, mh, lblc, lblcr]) registerScheduler(t);
