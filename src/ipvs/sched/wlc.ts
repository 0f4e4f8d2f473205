/**
 * wlc — weighted least connection (ip_vs_wlc.c), ipvsadm's default. The first eligible
 * dest starts; a later non-OVERLOAD dest wins only if strictly less loaded:
 * loh * w(d) > doh * w(least) (products, never division).
 */
import type { Dest, Service } from "../service.js";
import { NO_DEST, overhead, type SchedEnv, type SchedulerType, type SchedResult } from "./types.js";

/** The wlc rule over a whole dest list, shared with lblc/lblcr. */
export function wlcPick(dests: readonly Dest[], classic: boolean): Dest | undefined {
  let i = 0;
  const n = dests.length;
  let least: Dest | undefined;
  for (; i < n; i++) {
    const d = dests[i]!;
    if (!d.overloaded && d.weight > 0) {
      least = d;
      break;
    }
  }
  if (least === undefined) return undefined;
  let loh = overhead(least, classic);
  for (i++; i < n; i++) {
    const d = dests[i]!;
    if (d.overloaded) continue;
    const doh = overhead(d, classic);
    if (loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

export const wlc: SchedulerType = {
  name: "wlc",
  init: (_svc, env: SchedEnv) => ({
    schedule(svc: Service): SchedResult {
      return wlcPick(svc.dests, env.classicOverhead) ?? NO_DEST;
    },
  }),
};
