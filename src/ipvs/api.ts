/**
 * The IPVS engine's two faces, as the kernel has them:
 *
 *  - the control plane (what ipvsadm speaks over generic netlink): services, destinations,
 *    timeouts, listings, counters; errors are errno names that ipvsadm turns into its text;
 *  - the data plane: netfilter-style hooks that take IPv4 packet bytes and return a verdict.
 *
 * The engine knows only these types, src/wire and the ports it is given (clock, route
 * source selection, log). It never imports the simulator, so the same engine can sit on
 * simulated NICs or on real packets.
 */
import type { Micros } from "../sim/clock.js";

/** IPv4 address as an unsigned 32-bit host-order integer (10.0.0.1 = 0x0A000001). */
export type Ip4 = number;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

/** Forwarding methods as the uapi numbers them (IP_VS_CONN_F_*). */
export enum FwdMethod {
  Masq = 0,
  Local = 1,
  Tunnel = 2,
  Route = 3,
  /** lvslab extension (Alibaba LVS / DPVS FullNAT); not in mainline. */
  FullNat = 5,
}

/** Service flags (IP_VS_SVC_F_*). */
export const SVC_F_PERSISTENT = 0x1;
export const SVC_F_HASHED = 0x2;
export const SVC_F_ONEPACKET = 0x4;
export const SVC_F_SCHED1 = 0x8;
export const SVC_F_SCHED2 = 0x10;
export const SVC_F_SCHED3 = 0x20;

/** Identifies a virtual service: by protocol/address/port, or by firewall mark. */
export type ServiceKey =
  | { readonly fwmark: 0; readonly protocol: number; readonly addr: Ip4; readonly port: number }
  | { readonly fwmark: number; readonly protocol?: number; readonly addr?: Ip4; readonly port?: number };

/** What -A / -E send (a complete definition: ipvsadm fills every field). */
export interface ServiceSpec {
  readonly key: ServiceKey;
  readonly scheduler: string;
  /** SVC_F_* bits the user controls: persistent, one-packet, sched flags. */
  readonly flags: number;
  /** Persistence timeout in seconds. */
  readonly timeout: number;
  /** Persistence netmask (IPv4, host order). */
  readonly netmask: Ip4;
  /** Persistence engine name ("" for none). */
  readonly pe: string;
  /**
   * lvslab extension (DPVS `--proxy-protocol`): the PROXY protocol version a FullNAT
   * director puts in front of each TCP connection's first data (0 or absent: none).
   */
  readonly proxyProtocol?: 0 | 1 | 2;
}

export type TunType = "ipip" | "gue" | "gre";

/** What -a / -e send. */
export interface DestSpec {
  readonly addr: Ip4;
  readonly port: number;
  readonly fwd: FwdMethod;
  readonly weight: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
  readonly tunType: TunType;
  readonly tunPort: number;
  /** lvslab's own: 0 unset, 1 --tun-nocsum, 2 --tun-csum, 4 --tun-remcsum (the kernel's IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM/CSUM/REMCSUM are 0, 1, 2). */
  readonly tunFlags: number;
}

/** 64-bit-ish counters (JS numbers are exact to 2^53). */
export interface Stats {
  conns: number;
  inpkts: number;
  outpkts: number;
  inbytes: number;
  outbytes: number;
}

export interface Rates {
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

export interface DestEntry extends DestSpec {
  readonly activeConns: number;
  readonly inactConns: number;
  readonly persistConns: number;
  readonly stats: Stats;
  readonly rates: Rates;
}

export interface ServiceEntry extends ServiceSpec {
  /** Destinations in kernel order (newest first); ipvsadm sorts for display. */
  readonly dests: readonly DestEntry[];
  readonly stats: Stats;
  readonly rates: Rates;
}

/** One row of /proc/net/ip_vs_conn. */
export interface ConnEntry {
  /** "TCP", "UDP", "SCTP", or "IP" for fwmark templates. */
  readonly protocolName: string;
  readonly caddr: Ip4;
  readonly cport: number;
  readonly vaddr: Ip4;
  readonly vport: number;
  readonly daddr: Ip4;
  readonly dport: number;
  /** State name as printed: "ESTABLISHED", "SYN_RECV", "NONE", "ASSURED", "UDP" … */
  readonly state: string;
  /** Seconds left, rounded down as the kernel prints them. */
  readonly expiresSec: number;
  readonly flags: number;
  readonly peName: string;
  readonly peData: string;
}

export interface Timeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

export type IpvsErrno = "EEXIST" | "ENOENT" | "ESRCH" | "EINVAL" | "ERANGE" | "EPERM" | "ENOMEM" | "EOPNOTSUPP" | "EAFNOSUPPORT";

export interface DaemonInfo {
  readonly state: "master" | "backup";
  readonly mcastIfn: string;
  readonly syncId: number;
  readonly maxLen: number;
  readonly group: Ip4;
  readonly port: number;
  readonly ttl: number;
}

/** One FullNAT local address of a service (lvslab extension; Alibaba's ip_vs_laddr_entry). */
export interface LaddrEntry {
  readonly addr: Ip4;
  /** Ports found taken while allocating. */
  readonly portConflict: number;
  /** Connections using this address. */
  readonly connCounts: number;
}

/** The control plane: one method per netlink command. `undefined` means success. */
export interface IpvsControl {
  info(): { version: string; connTabSize: number };
  addService(spec: ServiceSpec): IpvsErrno | undefined;
  editService(spec: ServiceSpec): IpvsErrno | undefined;
  delService(key: ServiceKey): IpvsErrno | undefined;
  flush(): void;
  addDest(key: ServiceKey, dest: DestSpec): IpvsErrno | undefined;
  editDest(key: ServiceKey, dest: DestSpec): IpvsErrno | undefined;
  delDest(key: ServiceKey, addr: Ip4, port: number): IpvsErrno | undefined;
  /** Zero one service's counters, or all plus the totals when key is undefined. */
  zero(key?: ServiceKey): IpvsErrno | undefined;
  setTimeouts(t: Timeouts): IpvsErrno | undefined;
  getTimeouts(): Timeouts;
  /** Services in kernel (hash) order. */
  services(): ServiceEntry[];
  service(key: ServiceKey): ServiceEntry | undefined;
  /** Connection entries (and templates) in kernel hash-table order. */
  conns(): ConnEntry[];
  /** Global totals (/proc/net/ip_vs_stats). */
  totals(): { stats: Stats; rates: Rates };
  startDaemon(d: DaemonInfo): IpvsErrno | undefined;
  stopDaemon(state: "master" | "backup", syncId?: number): IpvsErrno | undefined;
  daemons(): DaemonInfo[];
  /** /proc/sys/net/ipv4/vs/<name>; undefined when no such knob. */
  getSysctl(name: string): string | undefined;
  setSysctl(name: string, value: string): IpvsErrno | undefined;
  sysctlNames(): string[];
  /**
   * FullNAT local addresses (lvslab extension after Alibaba LVS / DPVS; absent from
   * mainline): add (EEXIST), delete (ENOENT), list a service's in insertion order. ESRCH
   * when there is no such service.
   */
  addLaddr?(key: ServiceKey, addr: Ip4): IpvsErrno | undefined;
  delLaddr?(key: ServiceKey, addr: Ip4): IpvsErrno | undefined;
  laddrs?(key: ServiceKey): LaddrEntry[] | IpvsErrno;
}

/** Where a packet came from, as the hook sees it. */
export interface HookContext {
  /** Name of the interface the packet arrived on ("" for locally generated packets). */
  readonly inIf: string;
  /** skb->mark (iptables MARK). */
  readonly fwmark: number;
}

/** A packet the engine wants sent: routed by its destination, or to an explicit next hop (DR). */
export interface Xmit {
  /** A complete IPv4 packet. */
  readonly packet: Uint8Array;
  /** For DR: the real server to hand the frame to, unchanged at L3. */
  readonly nextHop?: Ip4;
  /** Why: a short phrase for the trace ("NAT: daddr 192.168.75.131:80 -> 192.168.1.185:80"). */
  readonly note?: string;
}

/**
 * A packet's fate (kernel NF_ACCEPT / NF_DROP / NF_STOLEN).
 *  - accept: not ours (or an out-path rewrite): the host goes on with `packet` (the same
 *    bytes or rewritten ones) through its normal path;
 *  - stolen: the engine took it; `out` lists what to transmit instead;
 *  - drop: discarded for `reason`; `out` may carry an ICMP error to send.
 */
export type Verdict =
  | { readonly action: "accept"; readonly packet: Uint8Array; readonly note?: string }
  | { readonly action: "stolen"; readonly out: readonly Xmit[] }
  | { readonly action: "drop"; readonly reason: string; readonly out?: readonly Xmit[] };

/** What the engine needs from the world it runs in. */
export interface IpvsPorts {
  now(): Micros;
  /** The source address the host would pick to reach `dst` (tunnel outer source, ICMP source). */
  sourceFor(dst: Ip4): Ip4 | undefined;
  /** True when `addr` is one of the host's own addresses. */
  isLocal(addr: Ip4): boolean;
  /** Kernel log line (dmesg), e.g. "IPVS: wrr: TCP 192.168.75.131:80 - no destination available". */
  log(line: string): void;
  /** Random 32-bit numbers (twos scheduler, FullNAT port choice). */
  random(): number;
  /**
   * True when `addr` is a broadcast address of one of the host's subnets (a broadcast
   * route in the local table). Optional: without it only 0.0.0.0/8, 255.255.255.255 and
   * multicast count as non-unicast when a dest is added.
   */
  isBroadcast?(addr: Ip4): boolean;
  /** dst_mtu of the route to `dst` (a learnt path MTU or the device's MTU); 1500 without it. */
  routeMtu?(dst: Ip4): number | undefined;
  /**
   * icmp_send about `orig` (the host picks the source, applies its rate limits and its
   * OUTPUT hook). Without it the engine builds the ICMP error itself and hands it out.
   */
  icmpSend?(orig: Uint8Array, type: number, code: number, rest: number): void;
  /** net.ipv4.ip_local_port_range, which GUE source ports are spread over; 32768-60999 without it. */
  localPortRange?(): readonly [number, number];
}

/** The data plane hooks (net/netfilter/ipvs/ip_vs_core.c). */
export interface IpvsDataPlane {
  /** LOCAL_IN: packets addressed to this host (client -> VIP): schedule and forward. */
  localIn(packet: Uint8Array, ctx: HookContext): Verdict;
  /** FORWARD: packets the host routes through (real server -> client): NAT replies. */
  forward(packet: Uint8Array, ctx: HookContext): Verdict;
  /** Bring timers up to `now` (expire entries); returns when it next needs to run, if ever. */
  poll(now: Micros): Micros | undefined;
}
