/**
 * mh — Maglev hashing (ip_vs_mh.c, Linux >= 4.18): a 4093-slot lookup table filled from
 * per-dest (offset, skip) permutations, each dest taking `turns` slots per round in list
 * order; hashes are hsiphash with fixed keys, so tables are the same on every run.
 */
import { SVC_F_SCHED1, SVC_F_SCHED2 } from "../api.js";
import { gcd, hsiphashU32, type HsipKey } from "../hash.js";
import type { Dest, Service } from "../service.js";
import { NO_DEST, type SchedPacket, type Scheduler, type SchedulerType, type SchedResult } from "./types.js";

export const MH_TAB_SIZE = 4093;
const MH_TAB_BITS = 6;

const KEY1: HsipKey = { k0: 2654435761n, k1: 2654435761n };
const KEY2: HsipKey = { k0: 2654446892n, k1: 2654446892n };

export function mhHashKey(addr: number, port: number, key: HsipKey, offset: number): number {
  return hsiphashU32((offset + port + addr) >>> 0, key);
}

function unusable(d: Dest): boolean {
  return d.weight <= 0 || d.overloaded;
}

export class Maglev implements Scheduler {
  /** Slot -> dest (exposed for tests). */
  readonly lookup: (Dest | undefined)[] = new Array(MH_TAB_SIZE).fill(undefined);

  constructor(svc: Service) {
    this.rebuild(svc);
  }

  /** (offset, skip, turns) per dest in list order (ip_vs_mh_permutate). */
  static setup(svc: Service): { offset: number; skip: number; turns: number }[] {
    let g = 0;
    let max = 0;
    for (const d of svc.dests) {
      if (d.lastWeight > 0) g = g > 0 ? gcd(d.lastWeight, g) : d.lastWeight;
      if (d.lastWeight > max) max = d.lastWeight;
    }
    if (g < 1) return [];
    const mw = Math.floor(max / g);
    const shift = Math.max(0, 32 - Math.clz32(mw) - MH_TAB_BITS);
    return svc.dests.map((d) => {
      const lw = d.lastWeight;
      const t = Math.floor(lw / g) >> shift;
      return {
        offset: mhHashKey(d.addr, d.port, KEY1, 0) % MH_TAB_SIZE,
        skip: (mhHashKey(d.addr, d.port, KEY2, 0) % (MH_TAB_SIZE - 1)) + 1,
        turns: t || (lw !== 0 ? 1 : 0),
      };
    });
  }

  private rebuild(svc: Service): void {
    // With more dests than slots the kernel refuses to rebuild and keeps the old table.
    if (svc.dests.length > MH_TAB_SIZE) return;
    this.lookup.fill(undefined);
    const ds = Maglev.setup(svc);
    if (ds.length === 0) return;
    const perm = ds.map((d) => d.offset);
    const taken = new Uint8Array(MH_TAB_SIZE);
    const list = svc.dests;
    let n = 0;
    let dt = 0;
    for (;;) {
      for (let k = 0; k < list.length; ) {
        const s = ds[k]!;
        if (s.turns < 1) {
          k++;
          continue;
        }
        let c = perm[k]!;
        while (taken[c]) {
          c += s.skip;
          if (c >= MH_TAB_SIZE) c -= MH_TAB_SIZE;
        }
        perm[k] = c;
        taken[c] = 1;
        this.lookup[c] = list[k];
        if (++n === MH_TAB_SIZE) return;
        if (++dt >= s.turns) {
          dt = 0;
          k++;
        }
      }
    }
  }

  slotFor(addr: number, port: number): number {
    return mhHashKey(addr, port, KEY1, 0) % MH_TAB_SIZE;
  }

  schedule(svc: Service, pkt: SchedPacket): SchedResult {
    const port = svc.flags & SVC_F_SCHED2 ? pkt.sport : 0;
    const addr = pkt.saddr;
    if (svc.flags & SVC_F_SCHED1) {
      const ihash = this.slotFor(addr, port);
      for (let offset = 0; offset < MH_TAB_SIZE; offset++) {
        const roffset = (offset + ihash) % MH_TAB_SIZE;
        const d = this.lookup[mhHashKey(addr, port, KEY1, roffset) % MH_TAB_SIZE];
        if (d === undefined) break;
        if (!unusable(d)) return d;
      }
      return NO_DEST;
    }
    const d = this.lookup[this.slotFor(addr, port)];
    return d === undefined || unusable(d) ? NO_DEST : d;
  }

  addDest(svc: Service): void {
    this.rebuild(svc);
  }
  delDest(svc: Service): void {
    this.rebuild(svc);
  }
  updDest(svc: Service): void {
    this.rebuild(svc);
  }
}

export const mh: SchedulerType = { name: "mh", init: (svc) => new Maglev(svc) };
