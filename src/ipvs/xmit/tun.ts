/**
 * IP tunnelling (ip_vs_tunnel_xmit): a new outer IPv4 header, src = the address the
 * director would use to reach the real server, dst = RIP; TTL copied from the inner packet
 * after its decrement; TOS copied, ECN-aware (inner CE -> outer ECT(0)); DF copied from the
 * inner packet when pmtu_disc=1, else clear; IP id 0 with DF, else a fresh one. Between the
 * two headers, by the real server's tunnel type (--tun-type):
 * - ipip: nothing; the outer protocol is 4;
 * - gue (ipvs_gue_encap): UDP to --tun-port from a port hashed from the inner flow (as
 *   udp_flow_src_port, over ip_local_port_range), then a 4-byte GUE header (version 0, no
 *   options, protocol 4); the UDP checksum with --tun-csum or --tun-remcsum. The remote
 *   checksum option is never added: the kernel adds it (8 more bytes) only to a packet
 *   whose own checksum is still to be done (CHECKSUM_PARTIAL), which lvslab's never are;
 * - gre (ipvs_gre_encap): a 4-byte GRE header (version 0, protocol 0x0800), 8 bytes with
 *   the checksum (C bit) under --tun-csum.
 * Before that, __ip_vs_get_out_rt's MTU check: the route's MTU less all these headers must
 * hold a DF packet, or it is dropped and the client told "fragmentation needed".
 */
import type { DestSpec, Verdict } from "../api.js";
import { emitIpv4, foldChecksum, formatIp4, internetChecksum, ip4DecTtl, ip4TotalLen, IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_UDP, onesSum, pseudoHeaderSum } from "../../wire/index.js";
import { LazyAccept, LazyXmit, NoteKind, ipPort, mtuCheck, ttlExpired, type XmitConn, type XmitEnv } from "./common.js";

/** sizeof(struct iphdr): the outer header every tunnel adds. */
const IPIP_OVERHEAD = 20;
/** DestSpec.tunFlags (ipvsadm's --tun-csum, --tun-remcsum; api.ts). */
const F_CSUM = 2;
const F_REMCSUM = 4;

export type TunnelDest = Pick<DestSpec, "tunType" | "tunPort" | "tunFlags">;

/** Bytes between the outer IPv4 header and the inner packet. */
function encapLen(d: TunnelDest): number {
  if (d.tunType === "gue") return 8 + 4;
  if (d.tunType === "gre") return d.tunFlags & F_CSUM ? 8 : 4;
  return 0;
}

/**
 * The GUE UDP source port of a flow (udp_flow_src_port): stable per inner 5-tuple, spread
 * over ip_local_port_range [min, max). The kernel hashes the flow with a per-boot random key;
 * this is a fixed FNV-1a over the same fields.
 */
export function flowSrcPort(inner: Uint8Array, range: readonly [number, number] = [32768, 60999]): number {
  let h = 0x811c9dc5;
  const ihl = (inner[0]! & 0xf) * 4;
  const mix = (i: number): void => {
    h ^= inner[i] ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (let i = 12; i < 20; i++) mix(i);
  mix(9);
  const proto = inner[9];
  if (proto === 6 || proto === 17) for (let i = ihl; i < ihl + 4; i++) mix(i);
  return Math.floor((h * (range[1] - range[0])) / 0x100000000) + range[0];
}

/** The tunnel headers around `inner` (the outer IPv4 header's payload). */
function encapsulate(env: XmitEnv, d: TunnelDest, inner: Uint8Array, src: number, dst: number): { payload: Uint8Array; protocol: number } {
  const n = encapLen(d);
  if (n === 0) return { payload: inner, protocol: IPPROTO_IPIP };
  const out = new Uint8Array(n + inner.length);
  out.set(inner, n);
  if (d.tunType === "gue") {
    const sport = flowSrcPort(inner, env.ports.localPortRange?.());
    out[0] = sport >> 8;
    out[1] = sport & 0xff;
    out[2] = d.tunPort >> 8;
    out[3] = d.tunPort & 0xff;
    out[4] = out.length >> 8;
    out[5] = out.length & 0xff;
    // GUE: control 0, version 0, hlen 0; proto/ctype 4; flags 0.
    out[9] = IPPROTO_IPIP;
    if (d.tunFlags & (F_CSUM | F_REMCSUM)) {
      const c = foldChecksum(onesSum(out, 0, out.length, pseudoHeaderSum(src, dst, IPPROTO_UDP, out.length))) || 0xffff;
      out[6] = c >> 8;
      out[7] = c & 0xff;
    }
    return { payload: out, protocol: IPPROTO_UDP };
  }
  // GRE: C bit with the checksum, version 0, protocol ETH_P_IP.
  if (n === 8) out[0] = 0x80;
  out[2] = 0x08;
  if (n === 8) {
    const c = internetChecksum(out);
    out[4] = c >> 8;
    out[5] = c & 0xff;
  }
  return { payload: out, protocol: IPPROTO_GRE };
}

export function tunXmit(env: XmitEnv, b: Uint8Array, c: XmitConn, d: TunnelDest): Verdict {
  if (env.ports.isLocal(c.daddr)) {
    return new LazyAccept(b, (a) => `${a.s ? a.s + " chose " + ipPort(a.a2, a.p2) + "; " : ""}real server is local: delivered here`,
      c.vaddr, c.vport, c.daddr, c.dport, c.sched);
  }
  const src = env.ports.sourceFor(c.daddr);
  if (src === undefined) return { action: "drop", reason: "ipvs-no-route-to-real-server" };
  const dead = ttlExpired(env, b);
  if (dead) return dead;
  // decrement_ttl comes first in __ip_vs_get_out_rt: the ICMP below quotes the decremented TTL.
  const ttl = ip4DecTtl(b);
  const tooBig = mtuCheck(env, b, c, IPIP_OVERHEAD + encapLen(d), false, d.tunType === "gue" ? "IPv4, UDP and GUE" : d.tunType === "gre" ? "IPv4 and GRE" : "IPIP");
  if (tooBig) return tooBig;
  const inner = b.subarray(0, ip4TotalLen(b));
  const tos = inner[1]!;
  // INET_ECN_encapsulate: outer ECN = inner ECN, except CE which becomes ECT(0).
  const outerTos = (tos & 3) === 3 ? (tos & ~3) | 2 : tos;
  const df = env.pmtuDisc() ? (inner[6]! & 0x40) !== 0 : false;
  // ip_select_ident without a socket: a DF packet gets id 0 (as the real-kernel capture shows).
  const enc = encapsulate(env, d, inner, src, c.daddr);
  const outer = emitIpv4({ tos: outerTos, id: df ? 0 : env.nextIpId(), df, ttl, protocol: enc.protocol, src, dst: c.daddr }, enc.payload);
  return {
    action: "stolen",
    out: [new LazyXmit(outer, undefined, NoteKind.Tunnel, c.sched, c.vaddr, c.vport, c.daddr, c.dport,
      `${d.tunType === "gue" ? "GUE" : d.tunType === "gre" ? "GRE" : "IPIP"} tunnel to ${formatIp4(c.daddr)} (${d.tunType === "gue" ? `UDP port ${d.tunPort}, ` : ""}outer ${formatIp4(src)} -> ${formatIp4(c.daddr)}, inner ${ipPort(c.vaddr, c.vport)} unchanged)`)],
  };
}
