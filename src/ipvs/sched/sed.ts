/** sed — shortest expected delay (ip_vs_sed.c): wlc with overhead = activeconns + 1. */
import type { Dest, Service } from "../service.js";
import { NO_DEST, type SchedulerType, type SchedResult } from "./types.js";

export const sed: SchedulerType = {
  name: "sed",
  init: () => ({
    schedule(svc: Service): SchedResult {
      const dests = svc.dests;
      let i = 0;
      let least: Dest | undefined;
      for (; i < dests.length; i++) {
        const d = dests[i]!;
        if (!d.overloaded && d.weight > 0) {
          least = d;
          break;
        }
      }
      if (least === undefined) return NO_DEST;
      let loh = least.activeConns + 1;
      for (i++; i < dests.length; i++) {
        const d = dests[i]!;
        if (d.overloaded) continue;
        const doh = d.activeConns + 1;
        if (loh * d.weight > doh * least.weight) {
          least = d;
          loh = doh;
        }
      }
      return least;
    },
  }),
};
