/**
 * The main routing table: connected routes (proto kernel, scope link) appear with each
 * address, static routes are added by the lab or `ip route`, and lookups take the longest
 * prefix, then the lowest metric, then the route added first (Linux's fib order for equal
 * routes).
 */
import { formatIp4, prefixToMask, type Ip4 } from "../wire/index.js";

export interface Route {
  readonly dst: Ip4;
  readonly plen: number;
  readonly gateway?: Ip4;
  readonly dev: string;
  /** Preferred source (`src` in `ip route`). */
  readonly src?: Ip4;
  readonly metric: number;
  readonly proto: "kernel" | "static" | "boot";
  readonly scope: "link" | "global" | "host";
  readonly seq: number;
}

export class RouteTable {
  private routes: Route[] = [];
  private seq = 0;
  /** Bumped by every change (route caches compare it). */
  version = 0;

  list(): readonly Route[] {
    // `ip route` order: default first, then by destination as the fib trie walks it.
    return [...this.routes].sort((a, b) => a.dst - b.dst || a.plen - b.plen || a.metric - b.metric || a.seq - b.seq);
  }

  add(r: Omit<Route, "seq">): "EEXIST" | undefined {
    const dst = (r.dst & prefixToMask(r.plen)) >>> 0;
    if (this.routes.some((x) => x.dst === dst && x.plen === r.plen && x.metric === r.metric && x.dev === r.dev && x.gateway === r.gateway))
      return "EEXIST";
    if (this.routes.some((x) => x.dst === dst && x.plen === r.plen && x.metric === r.metric)) return "EEXIST";
    this.routes.push({ ...r, dst, seq: this.seq++ });
    this.version++;
    return undefined;
  }

  remove(pred: (r: Route) => boolean): number {
    const before = this.routes.length;
    this.routes = this.routes.filter((r) => !pred(r));
    if (this.routes.length !== before) this.version++;
    return before - this.routes.length;
  }

  lookup(dst: Ip4, usable: (r: Route) => boolean = () => true): Route | undefined {
    let best: Route | undefined;
    for (const r of this.routes) {
      if (!usable(r)) continue;
      if (((dst & prefixToMask(r.plen)) >>> 0) !== r.dst) continue;
      if (!best || r.plen > best.plen || (r.plen === best.plen && (r.metric < best.metric || (r.metric === best.metric && r.seq < best.seq)))) best = r;
    }
    return best;
  }
}

export function formatPrefix(dst: Ip4, plen: number): string {
  return plen === 0 ? "default" : plen === 32 ? formatIp4(dst) : `${formatIp4(dst)}/${plen}`;
}
