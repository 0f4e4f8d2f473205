/**
 * Path MTU exceptions of one host (net/ipv4/route.c: __ip_rt_update_pmtu and the next-hop
 * exceptions, "fnhe", that `ip route get` shows as "cache expires 597sec mtu 1480").
 * An ICMP "fragmentation needed" taken by a socket lowers the MTU towards that destination
 * for net.ipv4.route.mtu_expires seconds (600); a value below net.ipv4.route.min_pmtu (552)
 * is raised to it and locked. `ip route flush cache` drops them all.
 */
import type { Micros } from "../sim/clock.js";
import type { Ip4 } from "../wire/index.js";

export interface PmtuEntry {
  mtu: number;
  expires: Micros;
  locked: boolean;
}

export class PmtuCache {
  private readonly m = new Map<Ip4, PmtuEntry>();

  constructor(
    private readonly now: () => Micros,
    private readonly sysctl: (name: string, dflt: number) => number,
  ) {}

  /** The unexpired exception towards `dst` (ipv4_mtu uses rt_pmtu only before dst.expires). */
  get(dst: Ip4): PmtuEntry | undefined {
    const e = this.m.get(dst);
    if (e === undefined) return undefined;
    if (this.now() >= e.expires) {
      this.m.delete(dst);
      return undefined;
    }
    return e;
  }

  /**
   * __ip_rt_update_pmtu: `mtu` learnt for `dst`, whose route's MTU is now `oldMtu`. Only a
   * lower value is taken; the same value again only refreshes once half the expiry is gone.
   * Returns true when the exception changed.
   */
  update(dst: Ip4, mtu: number, oldMtu: number): boolean {
    if (oldMtu < mtu) return false;
    const minPmtu = this.sysctl("net.ipv4.route.min_pmtu", 552);
    const expiresS = this.sysctl("net.ipv4.route.mtu_expires", 600);
    let locked = false;
    if (mtu < minPmtu) {
      locked = true;
      mtu = Math.min(oldMtu, minPmtu);
    }
    const cur = this.get(dst);
    const now = this.now();
    if (cur && cur.mtu === mtu && !locked && now < cur.expires - (expiresS * 1_000_000) / 2) return false;
    this.m.set(dst, { mtu, expires: now + expiresS * 1_000_000, locked });
    return true;
  }

  /** How many exceptions are kept (expired ones included until looked at). */
  get size(): number {
    return this.m.size;
  }

  /** rt_cache_flush: every exception becomes stale. */
  flush(): void {
    this.m.clear();
  }

  /** Unexpired exceptions, in the order they were learnt. */
  list(): Array<[Ip4, PmtuEntry]> {
    for (const dst of [...this.m.keys()]) this.get(dst);
    return [...this.m.entries()];
  }
}
