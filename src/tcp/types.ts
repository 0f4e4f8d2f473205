import type { Micros } from "../sim/clock.js";
import type { EventHandle } from "../sim/queue.js";
import type { Rng } from "../sim/rng.js";
import type { Ip4 } from "../wire/addr.js";

/**
 * What a TcpStack needs from its host. The stack never sees the simulator: time,
 * timers, routing and transmission all come through these ports.
 */
export interface TcpPorts {
  now(): Micros;
  at(t: Micros, fn: () => void): EventHandle;
  cancel(h: EventHandle): void;
  /**
   * The host routes and sends an IPv4 packet carrying `payload` (TCP bytes). False when the
   * host could not send it (no route, or its own OUTPUT chain dropped it): ip_queue_xmit's
   * error, which tcp_write_xmit sees.
   */
  ipOutput(src: Ip4, dst: Ip4, protocol: number, payload: Uint8Array, opts?: { id?: number }): boolean | void;
  /** Route-based source address selection; undefined = no route (ENETUNREACH). */
  sourceFor(dst: Ip4): Ip4 | undefined;
  isLocal(addr: Ip4): boolean;
  /** ISN secrets, ephemeral-port perturbation, timestamp-offset secrets. */
  rng: Rng;
  /** Current value of a sysctl ("net.ipv4.tcp_timestamps" → "1"), undefined when unset. */
  sysctl(name: string): string | undefined;
  /** Called after resolving anything an async tool may be awaiting. */
  wake(): void;
  /** MTU of the route towards `dst` (default 1500); the MSS we advertise is MTU − 40. */
  routeMtu?(dst: Ip4): number | undefined;
  /** ip_rt_update_pmtu: the route to `dst` learns a path MTU of `mtu` ("fragmentation needed"). */
  updatePmtu?(dst: Ip4, mtu: number): void;
  /**
   * A connection made progress with `peer` (an ACK on an existing socket): the host marks
   * the neighbour on the route to it as confirmed (dst_confirm_neigh).
   */
  confirmNeighbour?(peer: Ip4): void;
}

/** The errors a socket can end with (a subset of the tools' ErrnoName). */
export type TcpErrno =
  | "ECONNREFUSED" | "ECONNRESET" | "ETIMEDOUT" | "EHOSTUNREACH" | "ENETUNREACH" | "EPIPE"
  | "EADDRINUSE" | "EADDRNOTAVAIL" | "ENOPROTOOPT" | "EOPNOTSUPP" | "EMSGSIZE" | "ENOTCONN"
  | "EINVAL";

/** Linux state names (include/net/tcp_states.h). */
export type TcpState =
  | "CLOSED" | "LISTEN" | "SYN_SENT" | "SYN_RECV" | "ESTABLISHED" | "FIN_WAIT1" | "FIN_WAIT2"
  | "CLOSING" | "TIME_WAIT" | "CLOSE_WAIT" | "LAST_ACK";

/** The Tcp line of /proc/net/snmp (plus InCsumErrors), in the kernel's order. */
export interface TcpCounters {
  RtoAlgorithm: number;
  RtoMin: number;
  RtoMax: number;
  MaxConn: number;
  ActiveOpens: number;
  PassiveOpens: number;
  AttemptFails: number;
  EstabResets: number;
  CurrEstab: number;
  InSegs: number;
  OutSegs: number;
  RetransSegs: number;
  InErrs: number;
  OutRsts: number;
  InCsumErrors: number;
}

/** A few TcpExt counters (/proc/net/netstat) the stack keeps. */
export interface TcpExtCounters {
  TCPAbortOnData: number;
  TCPAbortOnClose: number;
  TCPTimeouts: number;
  TCPChallengeACK: number;
  DelayedACKs: number;
  TCPPureAcks: number;
  TCPSynRetrans: number;
}

/** One line of `ss -t -a -n -o -i`-like output. */
export interface TcpSocketInfo {
  state: TcpState;
  localAddr: Ip4;
  localPort: number;
  remoteAddr: Ip4;
  remotePort: number;
  /** LISTEN: accept-queue length; otherwise unread bytes. */
  recvQ: number;
  /** LISTEN: backlog; otherwise unacknowledged + unsent bytes. */
  sendQ: number;
  /** `ss -o` timer, when one runs. */
  timer?: { kind: "on" | "timewait" | "persist" | "keepalive"; expires: Micros; retrans: number };
  rto?: Micros;
  srtt?: Micros;
  mss?: number;
  cwnd?: number;
  sndWscale?: number;
  rcvWscale?: number;
  ts?: boolean;
  sack?: boolean;
}
