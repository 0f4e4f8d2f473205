/**
 * lblcr — LBLC with replication (ip_vs_lblcr.c): the cache maps a destination address to
 * a set of dests; the least loaded member serves unless it is lblc-overloaded, then wlc
 * adds a dest to the set. A set unchanged for lblcr_expiration loses its most loaded member.
 */
import type { Micros } from "../../sim/clock.js";
import type { Dest, Service } from "../service.js";
import { lblcOverloaded, LBLC_GC_PERIOD_US, LBLC_MAX_SIZE } from "./lblc.js";
import { wlcPick } from "./wlc.js";
import { NO_DEST, overhead, type SchedEnv, type SchedPacket, type Scheduler, type SchedulerType, type SchedResult } from "./types.js";

const ENTRY_TIMEOUT_US = 6 * 60 * 1_000_000;
const COUNT_FOR_FULL_EXPIRATION = 30;

interface Entry {
  /** Newest first. */
  set: Dest[];
  lastuse: Micros;
  lastmod: Micros;
}

class Lblcr implements Scheduler {
  private readonly table = new Map<number, Entry>();
  private counter = 1;
  private nextGc: Micros;

  constructor(private readonly env: SchedEnv) {
    this.nextGc = env.now() + LBLC_GC_PERIOD_US;
  }

  private setMin(set: Dest[]): Dest | undefined {
    let least: Dest | undefined;
    let loh = 0;
    for (const d of set) {
      if (d.overloaded || d.weight <= 0 || !d.available) continue;
      const doh = overhead(d, this.env.classicOverhead);
      if (least === undefined || loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }

  private setMax(set: Dest[]): Dest | undefined {
    let most: Dest | undefined;
    let moh = 0;
    for (const d of set) {
      if (d.weight <= 0) continue;
      const doh = overhead(d, this.env.classicOverhead);
      if (most === undefined || moh * d.weight < doh * most.weight) {
        most = d;
        moh = doh;
      }
    }
    return most;
  }

  schedule(svc: Service, pkt: SchedPacket): SchedResult {
    const now = this.env.now();
    const en = this.table.get(pkt.daddr);
    if (en !== undefined) {
      en.lastuse = now;
      const d = this.setMin(en.set);
      if (en.set.length > 1 && now > en.lastmod + this.env.sysctl("lblcr_expiration") * 1_000_000) {
        const m = this.setMax(en.set);
        if (m !== undefined) en.set.splice(en.set.indexOf(m), 1);
        en.lastmod = now;
      }
      if (d !== undefined && !lblcOverloaded(d, svc)) return d;
      const n = wlcPick(svc.dests, this.env.classicOverhead);
      if (n === undefined) return NO_DEST;
      if (!en.set.includes(n)) {
        en.set.unshift(n);
        en.lastmod = now;
      }
      return n;
    }
    const d = wlcPick(svc.dests, this.env.classicOverhead);
    if (d === undefined) return ""; // logged only at debug level
    if (this.env.classic || this.table.size < (LBLC_MAX_SIZE * 3) / 2) {
      this.table.set(pkt.daddr, { set: [d], lastuse: now, lastmod: now });
    }
    return d;
  }

  poll(now: Micros): Micros | undefined {
    while (now >= this.nextGc) {
      const t = this.nextGc;
      this.nextGc += LBLC_GC_PERIOD_US;
      if (this.counter % COUNT_FOR_FULL_EXPIRATION === 0) {
        const exp = this.env.sysctl("lblcr_expiration") * 1_000_000;
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
}

export const lblcr: SchedulerType = { name: "lblcr", init: (_svc, env) => new Lblcr(env) };
