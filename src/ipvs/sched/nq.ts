/**
 * nq — never queue (ip_vs_nq.c): the first idle dest (no active connections) wins at
 * once; otherwise the sed minimum.
 */
import type { Dest, Service } from "../service.js";
import { NO_DEST, type SchedulerType, type SchedResult } from "./types.js";

export const nq: SchedulerType = {
  name: "nq",
  init: () => ({
    schedule(svc: Service): SchedResult {
      let least: Dest | undefined;
      let loh = 0;
      for (const d of svc.dests) {
        if (d.overloaded || d.weight === 0) continue;
        const doh = d.activeConns + 1;
        if (d.activeConns === 0) return d;
        if (least === undefined || loh * d.weight > doh * least.weight) {
          least = d;
          loh = doh;
        }
      }
      return least ?? NO_DEST;
    },
  }),
};
