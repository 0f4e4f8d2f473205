/**
 * # src/ipvs — the IPVS engine
 *
 * A re-implementation of Linux IPVS (net/netfilter/ipvs) over IPv4 packet bytes. It knows
 * only src/wire and the ports of `api.ts` (clock, route source, locality, log, random), so
 * the same engine runs on simulated NICs and on real packets.
 *
 * - `engine.ts` — `IpvsEngine` (control plane + data plane hooks localIn/forward/poll).
 * - `service.ts` — services and dests (newest-first order, trash and resurrection).
 * - `conn.ts` — connection table: 2^bits jhash buckets, head insertion, compact rows in
 *   typed arrays (~84 bytes per entry), expiry on a deadline heap processed by poll().
 * - `proto_tcp.ts`, `proto_udp.ts` — state tables, timeouts, active states.
 * - `sched/` — one file per scheduler, registered by name in `sched/index.ts`.
 * - `xmit/` — NAT, DR, IPIP tunnel, ICMP error translation, and FullNAT (`xmit/fnat.ts`, an
 *   lvslab extension after Alibaba's LVS-FullNAT: both ends rewritten, TOA, seq mapping) with
 *   its per-service local addresses and port allocation in `laddr.ts`.
 * - `est.ts` — counters and the 2 s rate estimator; `sysctl.ts` — /proc/sys/net/ipv4/vs;
 *   `procfs.ts` — /proc/net/ip_vs, ip_vs_conn, ip_vs_stats text.
 *
 * Guarantees: packets never make it throw (malformed ones are dropped with a reason);
 * every verdict carries a plain-words note for the trace (formatted lazily); control-plane
 * calls return the errno the kernel gives. Behaviour follows the "current" kernels (6.12.104+)
 * by default, except where the real-kernel goldens show Linux 6.1 doing otherwise: the lc/wlc
 * overhead is 256*active + inactive unless `{ overhead: "totalconns" }`, and the -x/-y
 * OVERLOAD rules are 6.1's unless `{ thresholds: "current" }`; `{ flavour: "classic" }`
 * switches overhead, active TCP states, threshold hysteresis and sh/dh hashing to the
 * long-standing behaviour.
 *
 * Not implemented (yet): SCTP, IPv6, the sip persistence engine's conn_out, FTP helper, cache_bypass entries, drop_entry defense, sync daemon traffic (only
 * its control-plane state), GUE/GRE tunnels (dropped with a reason), MTU / frag-needed
 * checks (the ports give no MTU), schedule_icmp.
 */
export * from "./api.js";
export { IpvsEngine, protoName, type IpvsEngineOptions } from "./engine.js";
export { renderIpVs, renderIpVsConn, renderIpVsStats, fwdName } from "./procfs.js";
export { acceptHasNote } from "./xmit/common.js";
export { findScheduler, registerScheduler, schedulerNames } from "./sched/index.js";
