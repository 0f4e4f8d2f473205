/**
 * IP tunnelling (ip_vs_tunnel_xmit, IPIP): a new outer IPv4 header, src = the address the
 * director would use to reach the real server, dst = RIP, protocol 4; TTL copied from the
 * inner packet after its decrement; TOS copied, ECN-aware (inner CE -> outer ECT(0));
 * DF copied from the inner packet when pmtu_disc=1, else clear; IP id 0 with DF, else a fresh one.
 * Before that, __ip_vs_get_out_rt's MTU check: the route's MTU less the 20-byte outer header
 * must hold a DF packet, or it is dropped and the client told "fragmentation needed".
 */
import type { Verdict } from "../api.js";
import type { TunType } from "../api.js";
import { emitIpv4, formatIp4, ip4DecTtl, ip4TotalLen, IPPROTO_IPIP } from "../../wire/index.js";
import { LazyAccept, LazyXmit, NoteKind, ipPort, mtuCheck, ttlExpired, type XmitConn, type XmitEnv } from "./common.js";

/** sizeof(struct iphdr): the outer header IPIP adds. */
const IPIP_OVERHEAD = 20;

export function tunXmit(env: XmitEnv, b: Uint8Array, c: XmitConn, tunType: TunType): Verdict {
  if (env.ports.isLocal(c.daddr)) {
    return new LazyAccept(b, (a) => `${a.s ? a.s + " chose " + ipPort(a.a2, a.p2) + "; " : ""}real server is local: delivered here`,
      c.vaddr, c.vport, c.daddr, c.dport, c.sched);
  }
  if (tunType !== "ipip") return { action: "drop", reason: `ipvs-tunnel-${tunType}-unsupported` };
  const src = env.ports.sourceFor(c.daddr);
  if (src === undefined) return { action: "drop", reason: "ipvs-no-route-to-real-server" };
  const dead = ttlExpired(env, b);
  if (dead) return dead;
  // decrement_ttl comes first in __ip_vs_get_out_rt: the ICMP below quotes the decremented TTL.
  const ttl = ip4DecTtl(b);
  const tooBig = mtuCheck(env, b, c, IPIP_OVERHEAD);
  if (tooBig) return tooBig;
  const inner = b.subarray(0, ip4TotalLen(b));
  const tos = inner[1]!;
  // INET_ECN_encapsulate: outer ECN = inner ECN, except CE which becomes ECT(0).
  const outerTos = (tos & 3) === 3 ? (tos & ~3) | 2 : tos;
  const df = env.pmtuDisc() ? (inner[6]! & 0x40) !== 0 : false;
  // ip_select_ident without a socket: a DF packet gets id 0 (as the real-kernel capture shows).
  const outer = emitIpv4({ tos: outerTos, id: df ? 0 : env.nextIpId(), df, ttl, protocol: IPPROTO_IPIP, src, dst: c.daddr }, inner);
  return {
    action: "stolen",
    out: [new LazyXmit(outer, undefined, NoteKind.Tunnel, c.sched, c.vaddr, c.vport, c.daddr, c.dport,
      ` (outer ${formatIp4(src)} -> ${formatIp4(c.daddr)}, inner ${ipPort(c.vaddr, c.vport)} unchanged)`)],
  };
}
