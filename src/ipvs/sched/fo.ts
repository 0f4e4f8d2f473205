/** fo — weighted fail over (ip_vs_fo.c): highest weight among non-OVERLOAD dests. */
import type { Dest, Service } from "../service.js";
import { NO_DEST, type SchedulerType, type SchedResult } from "./types.js";

export const fo: SchedulerType = {
  name: "fo",
  init: () => ({
    schedule(svc: Service): SchedResult {
      let hw: Dest | undefined;
      for (const d of svc.dests) {
        if (!d.overloaded && d.weight > (hw?.weight ?? 0)) hw = d;
      }
      return hw ?? NO_DEST;
    },
  }),
};
