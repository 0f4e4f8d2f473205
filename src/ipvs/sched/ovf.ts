/**
 * ovf — weighted overflow (ip_vs_ovf.c): highest weight among dests that are not
 * OVERLOAD, have weight > 0 and no more active connections than their weight.
 */
import type { Dest, Service } from "../service.js";
import { NO_DEST, type SchedulerType, type SchedResult } from "./types.js";

export const ovf: SchedulerType = {
  name: "ovf",
  init: () => ({
    schedule(svc: Service): SchedResult {
      let h: Dest | undefined;
      for (const d of svc.dests) {
        const w = d.weight;
        if (d.overloaded || d.activeConns > w || w === 0) continue;
        if (h === undefined || w > h.weight) h = d;
      }
      return h ?? NO_DEST;
    },
  }),
};
