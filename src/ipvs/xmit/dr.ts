/**
 * Direct routing (ip_vs_dr_xmit): the packet is not changed at L3 (bar TTL - 1); it is
 * handed to the real server as next hop, which owns the VIP on a non-ARPing interface. The
 * route's MTU is checked first, as for the other methods.
 */
import type { Verdict } from "../api.js";
import { ip4DecTtl } from "../../wire/index.js";
import { LazyAccept, LazyXmit, NoteKind, ipPort, mtuCheck, ttlExpired, type XmitConn, type XmitEnv } from "./common.js";

export function drXmit(env: XmitEnv, b: Uint8Array, c: XmitConn): Verdict {
  if (env.ports.isLocal(c.daddr)) {
    return new LazyAccept(b, (a) => `${a.s ? a.s + " chose " + ipPort(a.a2, a.p2) + "; " : ""}real server is local: delivered here`,
      c.vaddr, c.vport, c.daddr, c.dport, c.sched);
  }
  const dead = ttlExpired(env, b);
  if (dead) return dead;
  ip4DecTtl(b);
  const tooBig = mtuCheck(env, b, c, 0);
  if (tooBig) return tooBig;
  return { action: "stolen", out: [new LazyXmit(b, c.daddr, NoteKind.Route, c.sched, c.vaddr, c.vport, c.daddr, c.dport)] };
}
