/**
 * lblc — locality-based least-connection (ip_vs_lblc.c): a per-service cache from the
 * packet's destination address to a dest; a cached dest is kept while available, weighted
 * and not "lblc-overloaded"; otherwise wlc picks and the cache entry is replaced.
 * Garbage collection runs every 60 s (full pass every 30th run, else only above
 * max_size).
 */
import type { Micros } from "../../sim/clock.js";
import type { Dest, Service } from "../service.js";
import { wlcPick } from "./wlc.js";
import { NO_DEST, type SchedEnv, type SchedPacket, type Scheduler, type SchedulerType, type SchedResult } from "./types.js";

export const LBLC_MAX_SIZE = 16384;
export const LBLC_GC_PERIOD_US = 60_000_000;
const ENTRY_TIMEOUT_US = 6 * 60 * 1_000_000;
const COUNT_FOR_FULL_EXPIRATION = 30;

/** activeconns > weight while some dest has activeconns*2 < weight. */
export function lblcOverloaded(d: Dest, svc: Service): boolean {
  if (d.activeConns > d.weight) {
    for (const x of svc.dests) if (x.activeConns * 2 < x.weight) return true;
  }
  return false;
}

interface Entry {
  dest: Dest;
  lastuse: Micros;
}

class Lblc implements Scheduler {
  private readonly table = new Map<number, Entry>();
  private counter = 1;
  private nextGc: Micros;

  constructor(private readonly env: SchedEnv) {
    this.nextGc = env.now() + LBLC_GC_PERIOD_US;
  }

  schedule(svc: Service, pkt: SchedPacket): SchedResult {
    const now = this.env.now();
    const en = this.table.get(pkt.daddr);
    if (en !== undefined) {
      en.lastuse = now;
      const d = en.dest;
      if (d.available && d.weight > 0 && !lblcOverloaded(d, svc)) return d;
    }
    const d = wlcPick(svc.dests, this.env.classicOverhead);
    if (d === undefined) return NO_DEST;
    if (en !== undefined) {
      if (en.dest !== d) {
        // Replacement deletes the old entry and creates a new one.
        this.table.delete(pkt.daddr);
        this.table.set(pkt.daddr, { dest: d, lastuse: now });
      }
    } else if (this.env.classic || this.table.size < (LBLC_MAX_SIZE * 3) / 2) {
      this.table.set(pkt.daddr, { dest: d, lastuse: now });
    }
    return d;
  }

  poll(now: Micros): Micros | undefined {
    while (now >= this.nextGc) {
      const t = this.nextGc;
      this.nextGc += LBLC_GC_PERIOD_US;
      if (this.counter % COUNT_FOR_FULL_EXPIRATION === 0) {
        const exp = this.env.sysctl("lblc_expiration") * 1_000_000;
        for (const [k, e] of this.table) if (t >= e.lastuse + exp) this.table.delete(k);
        this.counter = 1;
        continue;
      }
      if (this.table.size <= LBLC_MAX_SIZE) {
        this.counter++;
        continue;
      }
      let goal = Math.min(Math.floor(((this.table.size - LBLC_MAX_SIZE) * 4) / 3), LBLC_MAX_SIZE / 2);
      for (const [k, e] of this.table) {
        if (goal <= 0) break;
        if (t < e.lastuse + ENTRY_TIMEOUT_US) continue;
        this.table.delete(k);
        goal--;
      }
    }
    return this.nextGc;
  }

  get size(): number {
    return this.table.size;
  }
}

export const lblc: SchedulerType = { name: "lblc", init: (_svc, env) => new Lblc(env) };
