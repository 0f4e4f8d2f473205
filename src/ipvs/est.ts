/**
 * Counters and the rate estimator (net/netfilter/ipvs/ip_vs_est.c). Every 2 s each
 * estimator takes the counter deltas and moves an exponentially weighted average by 1/4:
 * conns/packets scaled by 2^10 (delta << 9 per 2 s), bytes by 2^5 (delta << 4). Reads round
 * as the kernel does: (avg + 0x1FF) >> 10 and (avg + 0xF) >> 5.
 */
import type { Rates, Stats } from "./api.js";

export const EST_PERIOD_US = 2_000_000;

/** One set of counters (dest, service, or the global totals) with its estimator. */
export class StatsBlock {
  readonly stats: Stats = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
  private lastConns = 0;
  private lastInpkts = 0;
  private lastOutpkts = 0;
  private lastInbytes = 0;
  private lastOutbytes = 0;
  private cps = 0;
  private inpps = 0;
  private outpps = 0;
  private inbps = 0;
  private outbps = 0;

  /** One estimator tick (called every 2 s of virtual time). */
  estimate(): void {
    const s = this.stats;
    this.cps += avgStep((s.conns - this.lastConns) * 512, this.cps);
    this.inpps += avgStep((s.inpkts - this.lastInpkts) * 512, this.inpps);
    this.outpps += avgStep((s.outpkts - this.lastOutpkts) * 512, this.outpps);
    this.inbps += avgStep((s.inbytes - this.lastInbytes) * 16, this.inbps);
    this.outbps += avgStep((s.outbytes - this.lastOutbytes) * 16, this.outbps);
    this.lastConns = s.conns;
    this.lastInpkts = s.inpkts;
    this.lastOutpkts = s.outpkts;
    this.lastInbytes = s.inbytes;
    this.lastOutbytes = s.outbytes;
  }

  /** True while some average is still non-zero (the estimator still has work). */
  busy(): boolean {
    return (this.cps | this.inpps | this.outpps) !== 0 || this.inbps !== 0 || this.outbps !== 0;
  }

  rates(): Rates {
    return {
      cps: Math.floor((this.cps + 0x1ff) / 1024),
      inpps: Math.floor((this.inpps + 0x1ff) / 1024),
      outpps: Math.floor((this.outpps + 0x1ff) / 1024),
      inbps: Math.floor((this.inbps + 0xf) / 32),
      outbps: Math.floor((this.outbps + 0xf) / 32),
    };
  }

  /** -Z: counters restart from zero and the averages are cleared (ip_vs_zero_stats). */
  zero(): void {
    const s = this.stats;
    s.conns = s.inpkts = s.outpkts = s.inbytes = s.outbytes = 0;
    this.lastConns = this.lastInpkts = this.lastOutpkts = this.lastInbytes = this.lastOutbytes = 0;
    this.cps = this.inpps = this.outpps = this.inbps = this.outbps = 0;
  }

  snapshot(): Stats {
    const s = this.stats;
    return { conns: s.conns, inpkts: s.inpkts, outpkts: s.outpkts, inbytes: s.inbytes, outbytes: s.outbytes };
  }
}

/** (rate - avg) >> 2 with an arithmetic shift on 64-bit values. */
function avgStep(rate: number, avg: number): number {
  return Math.floor((rate - avg) / 4);
}
