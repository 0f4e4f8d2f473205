/**
 * twos — weighted random "power of two choices" (ip_vs_twos.c, Linux >= 6.2): two
 * weighted random picks; the second wins only if strictly less loaded.
 */
import type { Dest, Service } from "../service.js";
import { NO_DEST, overhead, type SchedEnv, type SchedulerType, type SchedResult } from "./types.js";

/** get_random_u32_below(n) style: a uniform integer in [0, n). */
function below(env: SchedEnv, n: number): number {
  // Multiply-shift like the kernel's get_random_u32_below (Lemire), on 32-bit draws.
  return Math.floor(((env.random() >>> 0) * n) / 4294967296);
}

export const twos: SchedulerType = {
  name: "twos",
  init: (_svc, env: SchedEnv) => ({
    schedule(svc: Service): SchedResult {
      let total = 0;
      for (const d of svc.dests) if (!d.overloaded && d.weight > 0) total += d.weight;
      if (total === 0) return NO_DEST;
      let r1 = below(env, total + 1);
      let r2 = below(env, total + 1);
      let c1: Dest | undefined, c2: Dest | undefined;
      let oh1 = 0, oh2 = 0;
      for (const d of svc.dests) {
        if (d.overloaded || d.weight <= 0) continue;
        r1 -= d.weight;
        r2 -= d.weight;
        if (r1 <= 0 && c1 === undefined) {
          c1 = d;
          oh1 = overhead(d, env.classicOverhead);
        }
        if (r2 <= 0 && c2 === undefined) {
          c2 = d;
          oh2 = overhead(d, env.classicOverhead);
        }
        if (c1 && c2) break;
      }
      if (c1 === undefined || c2 === undefined) return NO_DEST;
      if (c2.weight * oh1 > c1.weight * oh2) return c2;
      return c1;
    },
  }),
};
