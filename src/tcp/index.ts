/**
 * # src/tcp — TCP endpoints
 *
 * A `TcpStack` per host turns TCP segments into connections and back, making the choices
 * Linux 6.1 makes on the wire, so that a capture of a simulated `curl` against a simulated
 * nginx reads like one taken on real machines: SYN options `mss,sackOK,TS,nop,wscale 7`,
 * windows 64240 / 65160 then scaled (502, 509, 501 …) by the kernel's window selection,
 * timestamps from a millisecond clock plus a per-address-pair offset, quick ACKs at the
 * start of a connection and delayed ACKs (40 ms) once it ping-pongs, FIN close from either
 * side with TIME_WAIT, RST for strays, SYN retransmission with exponential backoff.
 *
 * The stack never sees the simulator: it is given ports (`TcpPorts`) for time, timers,
 * routing, transmission, randomness and sysctls. Applications use callbacks on
 * `TcpSocket` (cheap, for servers) or its promise helpers (`connected()`, `read()`, for
 * async tools); the stack calls `ports.wake()` after resolving a promise.
 *
 * Implemented: the full state machine, RFC 5961 challenge ACKs, MSS segmentation, Nagle
 * (Minshall) and TCP_NODELAY, PSH at write boundaries, FIN piggybacked on the last data
 * segment, retransmission timer (RTO ≥ 200 ms, backoff, tcp_retries2), fast retransmit on
 * three duplicate ACKs with NewReno partial-ACK recovery, slow start, zero-window probes, an out-of-order queue with SACK
 * blocks, receive-window growth (tcp_grow_window, a simplified DRS), ephemeral ports as
 * __inet_hash_connect picks them, ICMP errors as tcp_v4_err maps them, the TOA option for
 * the real server's toa module, SNMP counters and an `ss` view.
 *
 * Not implemented: SACK-based recovery on the sender side (SACK blocks are sent, not used),
 * CUBIC (cwnd is Reno-like), tail loss probes, pacing, PAWS, path-MTU discovery, keepalives, urgent data, TCP Fast Open, ECN,
 * SYN cookies and the accept-queue limits.
 */
export * from "./types.js";
export * from "./seq.js";
export { TcpSocket, type ConnectOptions, TCP_RTO_MIN, TCP_RTO_MAX, TCP_TIMEOUT_INIT, TCP_DELACK_MIN, TCP_TIMEWAIT_LEN } from "./socket.js";
export { TcpStack, TcpListener, type ListenOptions } from "./stack.js";
