/**
 * sh — source hashing (ip_vs_sh.c): 256 buckets filled by walking the dests (newest
 * first) cyclically, each taking max(weight, 1) consecutive buckets; the client address
 * (plus source port with sh-port, flag-2) picks the bucket. sh-fallback (flag-1) probes
 * further buckets when the primary dest is unusable.
 */
import { SVC_F_SCHED1, SVC_F_SCHED2 } from "../api.js";
import { hash32, hashClassic } from "../hash.js";
import type { Dest, Service } from "../service.js";
import { NO_DEST, type SchedEnv, type SchedPacket, type Scheduler, type SchedulerType, type SchedResult } from "./types.js";

export const SH_TAB_BITS = 8;
export const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

function unusable(d: Dest): boolean {
  return d.weight <= 0 || d.overloaded;
}

export class SourceHash implements Scheduler {
  /** Bucket -> dest (exposed for tests). */
  readonly buckets: (Dest | undefined)[] = new Array(SH_TAB_SIZE).fill(undefined);

  constructor(svc: Service, private readonly env: SchedEnv) {
    this.assign(svc);
  }

  /** ip_vs_sh_hashkey: (offset + hash_32(port + addr, 8)) mod 256 ([classic]: low byte of ×2654435761). */
  hashKey(addr: number, port: number, offset: number): number {
    const x = (port + addr) >>> 0;
    const h = this.env.classic ? hashClassic(x, SH_TAB_MASK) : hash32(x, SH_TAB_BITS);
    return (offset + h) & SH_TAB_MASK;
  }

  private assign(svc: Service): void {
    const list = svc.dests;
    let p = 0;
    let count = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) {
      if (list.length === 0) {
        this.buckets[i] = undefined;
        continue;
      }
      const d = list[p]!;
      this.buckets[i] = d;
      if (++count >= d.weight) {
        p = (p + 1) % list.length;
        count = 0;
      }
    }
  }

  schedule(svc: Service, pkt: SchedPacket): SchedResult {
    const port = svc.flags & SVC_F_SCHED2 ? pkt.sport : 0;
    const addr = pkt.saddr;
    if (svc.flags & SVC_F_SCHED1) {
      const ihash = this.hashKey(addr, port, 0);
      for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
        const roffset = (offset + ihash) & SH_TAB_MASK;
        const d = this.buckets[this.hashKey(addr, port, roffset)];
        if (d === undefined) break;
        if (!unusable(d)) return d;
      }
      return NO_DEST;
    }
    const d = this.buckets[this.hashKey(addr, port, 0)];
    return d === undefined || unusable(d) ? NO_DEST : d;
  }

  addDest(svc: Service): void {
    this.assign(svc);
  }
  delDest(svc: Service): void {
    this.assign(svc);
  }
  updDest(svc: Service): void {
    this.assign(svc);
  }
}

export const sh: SchedulerType = { name: "sh", init: (svc, env) => new SourceHash(svc, env) };
