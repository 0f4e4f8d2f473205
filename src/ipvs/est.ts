/**
 * Counters and the rate estimator of Linux 6.1 (net/netfilter/ipvs/ip_vs_est.c, the
 * per-netns timer version; 6.2 moved estimation to kthreads). The packet path counts into
 * per-CPU counters (`stats` here). Every 2 s estimation_timer sums them into `kstats` and
 * moves each exponentially weighted average by 1/4 of the difference to the new rate:
 * conns/packets scaled by 2^10 (delta << 9 per 2 s), bytes by 2^5 (delta << 4). Readers
 * (ipvsadm over netlink, /proc/net/ip_vs_stats) see kstats - kstats0, so the counters they
 * show change only at a tick (test/golden/kernel/rate.out, "lag"); rates round as
 * (avg + 0x1FF) >> 10 and (avg + 0xF) >> 5. With run_estimation=0 the timer skips
 * everything, so counters and rates freeze (the "noest" section).
 */
import type { Rates, Stats } from "./api.js";

export const EST_PERIOD_US = 2_000_000;

function zeroStats(): Stats {
  return { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
}

function copyInto(dst: Stats, src: Stats): void {
  dst.conns = src.conns;
  dst.inpkts = src.inpkts;
  dst.outpkts = src.outpkts;
  dst.inbytes = src.inbytes;
  dst.outbytes = src.outbytes;
}

/** One set of counters (dest, service, or the global totals) with its estimator. */
export class StatsBlock {
  /** The live counters the packet path increments (the per-CPU sums). */
  readonly stats: Stats = zeroStats();
  /** kstats: the sums taken at the last estimator tick. */
  private readonly k: Stats = zeroStats();
  /** kstats0: the zero point set by -Z. */
  private readonly k0: Stats = zeroStats();
  /** est->last_*: kstats at the previous tick (or at -Z). */
  private readonly last: Stats = zeroStats();
  private cps = 0;
  private inpps = 0;
  private outpps = 0;
  private inbps = 0;
  private outbps = 0;

  /** One estimator tick (estimation_timer, every 2 s of virtual time). */
  estimate(): void {
    const k = this.k, l = this.last;
    copyInto(k, this.stats);
    this.cps += avgStep((k.conns - l.conns) * 512, this.cps);
    this.inpps += avgStep((k.inpkts - l.inpkts) * 512, this.inpps);
    this.outpps += avgStep((k.outpkts - l.outpkts) * 512, this.outpps);
    this.inbps += avgStep((k.inbytes - l.inbytes) * 16, this.inbps);
    this.outbps += avgStep((k.outbytes - l.outbytes) * 16, this.outbps);
    copyInto(l, k);
  }

  /** True while a tick would still change something (an average or an unsummed count). */
  busy(): boolean {
    const s = this.stats, k = this.k;
    return this.cps !== 0 || this.inpps !== 0 || this.outpps !== 0 || this.inbps !== 0 || this.outbps !== 0 ||
      s.conns !== k.conns || s.inpkts !== k.inpkts || s.outpkts !== k.outpkts ||
      s.inbytes !== k.inbytes || s.outbytes !== k.outbytes;
  }

  /** ip_vs_read_estimator. */
  rates(): Rates {
    return {
      cps: Math.floor((this.cps + 0x1ff) / 1024),
      inpps: Math.floor((this.inpps + 0x1ff) / 1024),
      outpps: Math.floor((this.outpps + 0x1ff) / 1024),
      inbps: Math.floor((this.inbps + 0xf) / 32),
      outbps: Math.floor((this.outbps + 0xf) / 32),
    };
  }

  /**
   * -Z (ip_vs_zero_stats + ip_vs_zero_estimator): the last tick's sums become the zero
   * point and the averages restart from 0. Traffic counted since that tick is not lost: the
   * next tick shows it (rate.out, "zero").
   */
  zero(): void {
    copyInto(this.k0, this.k);
    copyInto(this.last, this.k);
    this.cps = this.inpps = this.outpps = this.inbps = this.outbps = 0;
  }

  /** What readers see: kstats - kstats0. */
  snapshot(): Stats {
    const k = this.k, z = this.k0;
    return {
      conns: k.conns - z.conns,
      inpkts: k.inpkts - z.inpkts,
      outpkts: k.outpkts - z.outpkts,
      inbytes: k.inbytes - z.inbytes,
      outbytes: k.outbytes - z.outbytes,
    };
  }
}

/** (rate - avg) >> 2 with an arithmetic shift on 64-bit values. */
function avgStep(rate: number, avg: number): number {
  return Math.floor((rate - avg) / 4);
}
