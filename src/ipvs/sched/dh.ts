/**
 * dh — destination hashing (ip_vs_dh.c): 256 buckets, one per dest cyclically (weights
 * ignored), rebuilt on dest add/delete only; the packet's destination address picks one.
 */
import { hash32, hashClassic } from "../hash.js";
import type { Dest, Service } from "../service.js";
import { NO_DEST, type SchedEnv, type SchedPacket, type Scheduler, type SchedulerType, type SchedResult } from "./types.js";

const DH_TAB_BITS = 8;
const DH_TAB_SIZE = 1 << DH_TAB_BITS;

class DestHash implements Scheduler {
  private readonly buckets: (Dest | undefined)[] = new Array(DH_TAB_SIZE).fill(undefined);

  constructor(svc: Service, private readonly env: SchedEnv) {
    this.assign(svc);
  }

  private assign(svc: Service): void {
    const list = svc.dests;
    for (let i = 0; i < DH_TAB_SIZE; i++) this.buckets[i] = list.length ? list[i % list.length] : undefined;
  }

  schedule(_svc: Service, pkt: SchedPacket): SchedResult {
    const h = this.env.classic ? hashClassic(pkt.daddr, DH_TAB_SIZE - 1) : hash32(pkt.daddr, DH_TAB_BITS);
    const d = this.buckets[h];
    if (d === undefined || !d.available || d.weight <= 0 || d.overloaded) return NO_DEST;
    return d;
  }

  addDest(svc: Service): void {
    this.assign(svc);
  }
  delDest(svc: Service): void {
    this.assign(svc);
  }
}

export const dh: SchedulerType = { name: "dh", init: (svc, env) => new DestHash(svc, env) };
