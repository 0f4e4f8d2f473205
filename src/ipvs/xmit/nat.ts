/**
 * Masquerading (ip_vs_nat_xmit): DNAT the client's packet to the real server
 * (daddr := RIP, dport := real-server port; both checksums fixed incrementally), TTL - 1.
 * A local real server gets the rewritten packet delivered here.
 */
import type { Verdict } from "../api.js";
import { ip4DecTtl, natRewriteDst } from "../../wire/index.js";
import { LazyAccept, LazyXmit, NoteKind, ipPort, ttlExpired, type XmitConn, type XmitEnv } from "./common.js";

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
  natRewriteDst(b, c.daddr, c.dport);
  return { action: "stolen", out: [new LazyXmit(b, undefined, NoteKind.Nat, c.sched, c.vaddr, c.vport, c.daddr, c.dport)] };
}
