/**
 * wrr — weighted round robin (ip_vs_wrr.c). State: cursor cl, current weight cw, max
 * weight mw (less gcd - 1), gcd di. Each pass over the list (newest first) picks dests
 * with weight >= cw; passing the head lowers cw by di. Any dest change resets the cursor.
 */
import { gcd } from "../hash.js";
import type { Dest, Service } from "../service.js";
import { NO_DEST, type Scheduler, type SchedulerType, type SchedResult } from "./types.js";

const ALL_OVERLOADED = "no destination available: all destinations are overloaded";

function gcdWeight(svc: Service): number {
  let g = 0;
  for (const d of svc.dests) {
    const w = d.weight;
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
  }
  return g || 1;
}

function maxWeight(svc: Service): number {
  let m = 0;
  for (const d of svc.dests) if (d.weight > m) m = d.weight;
  return m;
}

class WeightedRoundRobin implements Scheduler {
  /** Index in svc.dests of the cursor, -1 = head. */
  private cl = -1;
  private cw: number;
  private mw: number;
  private di: number;

  constructor(svc: Service) {
    this.di = gcdWeight(svc);
    this.mw = maxWeight(svc) - (this.di - 1);
    this.cw = this.mw;
  }

  schedule(svc: Service): SchedResult {
    if (this.mw === 0) return NO_DEST;
    const list = svc.dests;
    const n = list.length;
    const last = this.cl;
    let stop = -2;
    let lastPass = false;
    let restarted = false;
    let pos = this.cl;
    for (;;) {
      // list_for_each_entry_continue: from the entry after pos to the end of the list.
      for (pos = pos + 1; pos < n; pos++) {
        const d = list[pos]!;
        if (!d.overloaded && d.weight >= this.cw) {
          this.cl = pos;
          return d;
        }
        if (pos === stop) return ALL_OVERLOADED;
      }
      pos = -1; // at the head
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        // Stop if the last pass began at the first dest, or the walk began at the head.
        if (lastPass || last === -1) return ALL_OVERLOADED;
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && last !== -1) stop = last;
    }
  }

  private changed(svc: Service): void {
    // ip_vs_wrr_dest_changed
    this.cl = -1;
    this.di = gcdWeight(svc);
    this.mw = maxWeight(svc) - (this.di - 1);
    if (this.cw > this.mw || this.cw === 0) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.floor(this.cw / this.di) * this.di + 1;
  }

  addDest(svc: Service, _d: Dest): void {
    this.changed(svc);
  }
  delDest(svc: Service, _d: Dest, _i: number): void {
    this.changed(svc);
  }
  updDest(svc: Service, _d: Dest): void {
    this.changed(svc);
  }
}

export const wrr: SchedulerType = { name: "wrr", init: (svc) => new WeightedRoundRobin(svc) };
