/** lc — least connection (ip_vs_lc.c): smallest overhead, first in list order wins ties. */
import type { Dest, Service } from "../service.js";
import { NO_DEST, overhead, type SchedEnv, type SchedulerType, type SchedResult } from "./types.js";

export const lc: SchedulerType = {
  name: "lc",
  init: (_svc, env: SchedEnv) => ({
    schedule(svc: Service): SchedResult {
      let least: Dest | undefined;
      let loh = 0;
      for (const d of svc.dests) {
        if (d.overloaded || d.weight === 0) continue;
        const doh = overhead(d, env.classicOverhead);
        if (least === undefined || doh < loh) {
          least = d;
          loh = doh;
        }
      }
      return least ?? NO_DEST;
    },
  }),
};
