/**
 * Masquerading (ip_vs_nat_xmit): DNAT the client's packet to the real server
 * (daddr := RIP, dport := real-server port; both checksums fixed incrementally), TTL - 1,
 * after the route's MTU check (a DF packet too big: "fragmentation needed" to the client).
 * A local real server gets the rewritten packet delivered here.
 */
import type { Verdict } from "../api.js";
import { ip4DecTtl, natRewriteDst } from "../../wire/index.js";
import { LazyAccept, LazyXmit, NoteKind, ipPort, mtuCheck, ttlExpired, type XmitConn, type XmitEnv } from "./common.js";

export function natXmit(env: XmitEnv, b: Uint8Array, c: XmitConn, fromNet: boolean): Verdict {
  if ((c.daddr >>> 24) === 127 && fromNet) {
    return { action: "drop", reason: "ipvs-dnat-to-loopback" };
  }
  if (env.ports.isLocal(c.daddr)) {
    natRewriteDst(b, c.daddr, c.dport);
    return new LazyAccept(b, (a) => `${a.s ? a.s + " chose " + ipPort(a.a2, a.p2) + "; " : ""}DNAT ${ipPort(a.a1, a.p1)} -> ${ipPort(a.a2, a.p2)} (local real server)`,
      c.vaddr, c.vport, c.daddr, c.dport, c.sched);
  }
  const dead = ttlExpired(env, b);
  if (dead) return dead;
  ip4DecTtl(b);
  const tooBig = mtuCheck(env, b, c, 0, true);
  if (tooBig) return tooBig;
  natRewriteDst(b, c.daddr, c.dport);
  return { action: "stolen", out: [new LazyXmit(b, undefined, NoteKind.Nat, c.sched, c.vaddr, c.vport, c.daddr, c.dport)] };
}
