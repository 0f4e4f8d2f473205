/**
 * rr — round robin (ip_vs_rr.c). The cursor is the last chosen dest (null = the list
 * head). A pick walks on from the cursor, wrapping once, so the previous choice is looked
 * at last; dests that are OVERLOAD or weight 0 are skipped.
 */
import type { Dest, Service } from "../service.js";
import { NO_DEST, type Scheduler, type SchedulerType, type SchedResult } from "./types.js";

class RoundRobin implements Scheduler {
  private cursor: Dest | null = null;

  schedule(svc: Service): SchedResult {
    const list = svc.dests;
    const n = list.length;
    const start = this.cursor === null ? 0 : list.indexOf(this.cursor) + 1;
    // From the head: one pass. From a dest: on to the end, then from the head up to and
    // including that dest. Either way n dests are looked at.
    for (let k = 0; k < n; k++) {
      const d = list[(start + k) % n]!;
      if (!d.overloaded && d.weight > 0) {
        this.cursor = d;
        return d;
      }
    }
    return NO_DEST;
  }

  delDest(_svc: Service, dest: Dest, index: number): void {
    // ip_vs_rr_del_dest: the cursor steps back to the deleted dest's predecessor.
    if (this.cursor === dest) this.cursor = index > 0 ? _svc.dests[index - 1]! : null;
  }
}

export const rr: SchedulerType = { name: "rr", init: () => new RoundRobin() };
