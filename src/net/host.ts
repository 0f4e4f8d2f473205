/**
 * A simulated Linux host: NICs, loopback, the routing table, the ARP neighbour table,
 * IPv4 input / forward / output with netfilter hooks, ICMP, UDP and TCP endpoints, an
 * optional IPVS engine at LOCAL_IN and FORWARD (where ip_vs hooks in), sysctls, a file
 * system and the commands people type.
 *
 * The IPv4 path follows net/ipv4/ip_input.c, ip_forward.c and ip_output.c:
 *   frame in -> taps -> (ARP | IPv4: header checks -> PREROUTING -> route input)
 *     local:   INPUT -> IPVS in-path -> TCP/UDP/ICMP
 *     forward: ip_forward gate -> route -> TTL -> redirect -> FORWARD -> IPVS out-path
 *              -> POSTROUTING -> neighbour -> frame out
 * Every packet that does not make it is counted with a reason and traced.
 */
import type { Micros } from "../sim/clock.js";
import type { Rng } from "../sim/rng.js";
import {
  ARP_REPLY, ARP_REQUEST, ARPHRD_ETHER, ARPHRD_IPGRE, ARPHRD_LOOPBACK, ARPHRD_TUNNEL, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY,
  ICMP_EXC_TTL, ICMP_FRAG_NEEDED, ICMP_HOST_UNREACH, ICMP_NET_UNREACH, ICMP_PORT_UNREACH, ICMP_REDIR_HOST, ICMP_REDIRECT,
  ICMP_TIME_EXCEEDED, IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, MAC_BROADCAST, broadcastOf, copyBytes, emitArp, emitEthernet,
  emitIcmp, emitIpv4After, formatIp4, icmpError, internetChecksum, icmpIsError, icmpRedirectRest, ip4DecTtl, ip4Dst, ip4HeaderLen,
  ip4IsFragment, ip4Proto, ip4Src, ip4TotalLen, ip4Ttl, ip4Version, ipv4ChecksumOk, isMulticastIp4,
  natRewriteDst, natRewriteSrc, parseArp, allocBytes, writeEthHeader, parseIcmp, readIp4, readMac, sameSubnet, IP4_BROADCAST,
  type Ip4, type Mac,
} from "../wire/index.js";
import { TcpStack } from "../tcp/index.js";
import { IpvsEngine, acceptHasNote, type HookContext } from "../ipvs/index.js";
import type { CapturedFrame, CaptureSource, ErrnoName, HostForTools, Tool, ToolContext, ToolIo } from "../tools/types.js";
import { NeighTable, type NeighEntry, type NeighParams } from "./neigh.js";
import { PmtuCache } from "./pmtu.js";
import { fragmentIpv4, Reassembler } from "./frag.js";
import { Netfilter, type Decision, type Hook, type PacketInfo, type TableName } from "./netfilter.js";
import { RouteTable, type Route } from "./route.js";
import type { Segment, SegmentPort } from "./segment.js";
import { SysctlTable, type SysctlInt } from "./sysctl.js";
import { MemVfs, bytesText } from "./vfs.js";
import type { World } from "./world.js";

export interface NicAddr {
  addr: Ip4;
  plen: number;
}

export interface NicStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  rxDropped: number;
  txDropped: number;
}

export class Nic implements SegmentPort {
  /** Change only through Host.addAddress / removeAddress (the host caches its address sets). */
  readonly addrs: NicAddr[] = [];
  private isUp = true;
  promisc = 0;
  segment: Segment | undefined;
  readonly stats: NicStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0, txDropped: 0 };
  readonly taps = new Set<(f: CapturedFrame) => void>();
  /** This device's ARP entries (the neighbour table's own map for it), fetched on first use. */
  neighEntries: ReadonlyMap<number, NeighEntry> | undefined = undefined;
  /** What IPVS is told about an unmarked packet received here (the engine only reads it). */
  readonly ipvsCtx: HookContext;
  /** This device's per-packet conf readers (Host.sourceValid), made on first use. */
  hotConf: HotConf | undefined = undefined;

  constructor(
    readonly host: Host,
    readonly name: string,
    public mac: Mac,
    public mtu: number,
    readonly index: number,
    /** ARPHRD_*: Ethernet, loopback, or a tunnel's (no link header). */
    readonly hatype: number = ARPHRD_ETHER,
  ) {
    this.ipvsCtx = { inIf: name, fwmark: 0 };
  }

  get isLoopback(): boolean {
    return this.name === "lo";
  }

  get up(): boolean {
    return this.isUp;
  }

  set up(v: boolean) {
    if (v === this.isUp) return;
    this.isUp = v;
    this.host.netChanged();
  }

  receive(frame: Uint8Array): void {
    if (!this.up) return;
    this.host.frameIn(this, frame);
  }

  tapFrame(frame: Uint8Array, dir: "in" | "out"): void {
    if (this.taps.size === 0) return;
    const f: CapturedFrame = { ts: this.host.world.now(), ifname: this.name, dir, frame };
    for (const t of this.taps) t(f);
  }

  /** Put a frame on the wire. `owned`: the caller hands the bytes over and keeps no reference. */
  transmit(frame: Uint8Array, owned = false): void {
    if (!this.up) {
      this.stats.txDropped++;
      return;
    }
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
    const tr = this.host.world.trace;
    if (tr.recording) tr.frame(this.host.world.now(), this.host.name, "tx", this.name, frame);
    const tapped = this.taps.size !== 0;
    if (tapped) this.tapFrame(frame, "out");
    if (this.isLoopback) {
      const copy = owned && !tapped ? frame : frame.slice();
      this.host.world.queue.after(0, () => this.host.frameIn(this, copy, true));
      return;
    }
    // An owned frame no capture has seen may go to a receiver without a copy.
    this.segment?.send(this, frame, owned && !tapped);
  }
}

/** net.ipv4.conf.<dev> readers every received packet needs. */
export interface HotConf {
  readonly rpFilter: SysctlInt;
  readonly acceptLocal: SysctlInt;
}

/** /proc/net/snmp "Ip:" counters lvslab keeps. */
export interface IpCounters {
  InReceives: number;
  InHdrErrors: number;
  InAddrErrors: number;
  ForwDatagrams: number;
  InUnknownProtos: number;
  InDiscards: number;
  InDelivers: number;
  OutRequests: number;
  OutDiscards: number;
  OutNoRoutes: number;
  ReasmTimeout: number;
  ReasmReqds: number;
  ReasmOKs: number;
  ReasmFails: number;
  FragOKs: number;
  FragFails: number;
  FragCreates: number;
}

export interface ProcessOptions {
  env?: Map<string, string>;
  /** Resolves when the process should stop (background captures). */
  interrupt?: Promise<"SIGINT" | "SIGTERM">;
}

/** A route decision for output. */
export interface OutRoute {
  dev: Nic;
  nextHop: Ip4;
  src: Ip4;
  local: boolean;
  route?: Route;
}

type UdpHandler = (src: Ip4, sport: number, dst: Ip4, payload: Uint8Array) => void;
/** What a `ip fou add` port carries: GUE, or a fixed IP protocol. */
export type FouPort = ({ readonly gue: true } | { readonly gue: false; readonly ipproto: number }) & {
  /** `-6`: an IPv6 port (listed, but lvslab carries no IPv6). */
  readonly v6?: boolean;
};
type IcmpListener = (src: Ip4, dst: Ip4, icmp: Uint8Array, ttl: number, ipLen: number) => void;

export class Host implements HostForTools {
  [key: string]: unknown;
  readonly nics = new Map<string, Nic>();
  readonly routes = new RouteTable();
  readonly sysctl = new SysctlTable();
  readonly netfilter = new Netfilter();
  readonly fs = new MemVfs();
  readonly neigh: NeighTable;
  readonly tcp: TcpStack;
  ipvs: IpvsEngine | undefined;
  readonly tools = new Map<string, Tool>();
  readonly env = new Map<string, string>();
  readonly ip: IpCounters = {
    InReceives: 0, InHdrErrors: 0, InAddrErrors: 0, ForwDatagrams: 0, InUnknownProtos: 0, InDiscards: 0,
    InDelivers: 0, OutRequests: 0, OutDiscards: 0, OutNoRoutes: 0,
    ReasmTimeout: 0, ReasmReqds: 0, ReasmOKs: 0, ReasmFails: 0, FragOKs: 0, FragFails: 0, FragCreates: 0,
  };
  /** /proc/net/snmp "Icmp:" counters lvslab keeps, and IcmpMsg's per-type counts. */
  readonly icmpStats = { InMsgs: 0, InDestUnreachs: 0, OutMsgs: 0, OutDestUnreachs: 0, inType: new Map<number, number>(), outType: new Map<number, number>() };
  /** /proc/net/netstat "IpExt:"/"TcpExt:" counters kept here (TcpExtIPReversePathFilter). */
  readonly ipExt = { IPReversePathFilter: 0 };
  readonly udpSockets = new Map<number, UdpHandler>();
  /** `ip fou add port N gue | ipproto P` (needs the fou module): ports in add order. */
  readonly fouPorts = new Map<number, FouPort>();
  fouLoaded = false;
  readonly icmpListeners = new Set<IcmpListener>();
  /** Redirect exceptions learnt from ICMP redirects: dst -> new gateway. */
  readonly redirects: Map<Ip4, Ip4> = new WatchedMap<Ip4, Ip4>(() => this.netChanged());
  /** Path MTUs learnt from ICMP "fragmentation needed" (route exceptions). */
  readonly pmtu: PmtuCache;
  private readonly reasm: Reassembler;
  /** Minimal conntrack for MASQUERADE/SNAT: reply tuple key -> original source. */
  private masq = new Map<string, { addr: Ip4; port: number }>();
  private icmpPeers = new Map<Ip4, { tokens: number; last: Micros }>();
  private redirectPeers = new Map<Ip4, { tokens: number; last: Micros; n: number }>();
  private ipId: number;
  readonly rng: Rng;
  readonly capture: CaptureSource;
  private nextIfIndex = 1;
  /** Local and broadcast addresses of every NIC; dropped whenever an address or NIC changes. */
  private addrSets: { local: Set<number>; bcast: Set<number>; nics: number } | undefined;
  /** routeOutput results by destination, valid while netVersion and the route table's version hold. */
  private routeCache = new Map<number, OutRoute | null>();
  private routeCacheNet = -1;
  private routeCacheRoutes = -1;
  private routeCacheNics = -1;
  private netVersion = 0;
  private readonly ipForward: SysctlInt;
  private readonly ipDefaultTtl: SysctlInt;
  private readonly forwardUsePmtu: SysctlInt;

  constructor(
    readonly world: World,
    readonly name: string,
  ) {
    this.rng = world.rng.stream(`host:${name}`);
    this.ipId = this.rng.below(65536);
    this.fs.clock = () => world.epochUs + world.now();
    this.sysctl.set("kernel.hostname", name);
    this.ipForward = this.sysctl.int("net.ipv4.ip_forward");
    this.ipDefaultTtl = this.sysctl.int("net.ipv4.ip_default_ttl", 64);
    this.forwardUsePmtu = this.sysctl.int("net.ipv4.ip_forward_use_pmtu");
    this.pmtu = new PmtuCache(() => world.now(), (n, d) => this.sysctl.getInt(n, d));
    this.reasm = new Reassembler(() => world.now(), this.ip, () => this.sysctl.getInt("net.ipv4.ipfrag_time", 30) * 1_000_000);
    const lo = this.addNic("lo", 0, 65536, ARPHRD_LOOPBACK);
    lo.addrs.push({ addr: 0x7f000001, plen: 8 });
    this.netChanged();
    this.neigh = new NeighTable({
      queue: world.queue,
      rng: world.rng.stream(`neigh:${name}`),
      params: (dev) => this.neighParams(dev),
      solicit: (dev, ip, unicastTo, src) => this.arpSolicit(dev, ip, unicastTo, src),
    });
    this.tcp = new TcpStack({
      now: () => world.now(),
      at: (t, fn) => world.queue.at(t, fn),
      cancel: (h) => world.queue.cancel(h),
      ipOutput: (src, dst, proto, payload, o) => this.ipOutput(src, dst, proto, payload, { df: true, id: o?.id }),
      sourceFor: (dst) => this.routeOutput(dst)?.src,
      isLocal: (a) => this.isLocalAddr(a),
      rng: world.rng.stream(`tcp:${name}`),
      sysctl: (n) => this.sysctl.get(n),
      wake: () => world.wake(),
      routeMtu: (dst) => this.routeMtu(dst),
      updatePmtu: (dst, mtu) => this.updatePmtu(dst, mtu),
      confirmNeighbour: (peer) => this.confirmNeighbour(peer),
    });
    this.capture = {
      interfaces: () => [...this.nics.values()].sort((a, b) => a.index - b.index).map((n) => n.name),
      hatype: (ifname) => this.nics.get(ifname)?.hatype,
      tap: (ifname, listener) => {
        const targets = ifname === "any" ? [...this.nics.values()] : [this.nics.get(ifname)].filter((n): n is Nic => !!n);
        if (targets.length === 0) return "ENODEV";
        for (const n of targets) {
          n.taps.add(listener);
          n.promisc++;
        }
        return () => {
          for (const n of targets) {
            n.taps.delete(listener);
            n.promisc--;
          }
        };
      },
    };
    this.sysctl.onChange = () => undefined;
  }

  // ---------------------------------------------------------------- configuration

  addNic(name: string, mac: Mac, mtu = 1500, hatype = ARPHRD_ETHER): Nic {
    const nic = new Nic(this, name, mac, mtu, this.nextIfIndex++, hatype);
    this.nics.set(name, nic);
    this.netChanged();
    this.sysctl.addInterface(name);
    return nic;
  }

  /** `ip addr add ADDR/PLEN dev DEV`: the address plus its connected route. */
  addAddress(dev: string, addr: Ip4, plen: number): ErrnoName | undefined {
    const nic = this.nics.get(dev);
    if (!nic) return "ENODEV";
    if (nic.addrs.some((a) => a.addr === addr && a.plen === plen)) return "EEXIST";
    nic.addrs.push({ addr, plen });
    this.netChanged();
    if (plen < 32 && !nic.isLoopback) {
      this.routes.add({ dst: addr, plen, dev, src: addr, metric: 0, proto: "kernel", scope: "link" });
    }
    return undefined;
  }

  removeAddress(dev: string, addr: Ip4, plen: number): ErrnoName | undefined {
    const nic = this.nics.get(dev);
    if (!nic) return "ENODEV";
    const i = nic.addrs.findIndex((a) => a.addr === addr && a.plen === plen);
    if (i < 0) return "EADDRNOTAVAIL";
    nic.addrs.splice(i, 1);
    this.netChanged();
    this.routes.remove((r) => r.proto === "kernel" && r.dev === dev && r.src === addr);
    return undefined;
  }

  enableIpvs(): IpvsEngine {
    if (this.ipvs) return this.ipvs;
    const rng = this.world.rng.stream(`ipvs:${this.name}`);
    const engine = new IpvsEngine({
      now: () => this.world.now(),
      sourceFor: (dst) => this.routeOutput(dst)?.src,
      isLocal: (a) => this.isLocalAddr(a),
      isBroadcast: (a) => this.isBroadcastAddr(a),
      routeMtu: (dst) => this.routeMtu(dst),
      icmpSend: (orig, type, code, rest) => this.icmpSend(orig, type, code, rest, undefined),
      localPortRange: () => {
        const [lo, hi] = (this.sysctl.get("net.ipv4.ip_local_port_range") ?? "32768 60999").split(/\s+/).map(Number);
        return [lo ?? 32768, hi ?? 60999];
      },
      log: (line) => this.klog(line),
      random: () => rng.u32(),
    });
    this.ipvs = engine;
    this.sysctl.addDelegate({
      prefix: "net.ipv4.vs.",
      get: (n) => engine.getSysctl(n),
      set: (n, v) => engine.setSysctl(n, v),
      names: () => engine.sysctlNames(),
    });
    return engine;
  }

  /** The kernel log (dmesg). */
  readonly dmesg: string[] = [];
  klog(line: string): void {
    const t = this.world.now();
    const s = Math.floor(t / 1e6);
    const us = t % 1e6;
    this.dmesg.push(`[${String(s).padStart(5, " ")}.${String(us).padStart(6, "0")}] ${line}`);
  }

  private neighParams(dev: string): NeighParams {
    const g = (k: string, d: number) => this.sysctl.getInt(`net.ipv4.neigh.default.${k}`, d);
    return {
      baseReachable: g("base_reachable_time_ms", 30000) * 1000,
      delayFirstProbe: g("delay_first_probe_time", 5) * 1_000_000,
      retrans: g("retrans_time_ms", 1000) * 1000,
      ucastSolicit: g("ucast_solicit", 3),
      mcastSolicit: g("mcast_solicit", 3),
      locktime: g("locktime", 100) * 10_000, // USER_HZ
    };
  }

  conf(dev: string, key: string): number {
    return this.confCell(dev, key).value;
  }

  private confCell(dev: string, key: string): SysctlInt {
    let byKey = this.confCells.get(dev);
    if (byKey === undefined) {
      byKey = new Map();
      this.confCells.set(dev, byKey);
    }
    let cell = byKey.get(key);
    if (cell === undefined) {
      cell = this.sysctl.int(`net.ipv4.conf.${dev}.${key}`, 0);
      byKey.set(key, cell);
    }
    return cell;
  }
  /** conf() readers by device, then key: no key strings built per packet. */
  private readonly confCells = new Map<string, Map<string, SysctlInt>>();
  /** The conf/all readers every received packet needs (conf/NIC ones hang on the Nic). */
  private confAllHot: HotConf | undefined;

  private hotConf(dev: string): HotConf {
    return { rpFilter: this.confCell(dev, "rp_filter"), acceptLocal: this.confCell(dev, "accept_local") };
  }

  get forwarding(): boolean {
    return this.ipForward.value !== 0;
  }

  // ---------------------------------------------------------------- addresses

  /** Addresses, NICs, links or redirects changed: drop what was derived from them. */
  netChanged(): void {
    this.addrSets = undefined;
    this.netVersion++;
  }

  /** The address sets isLocalAddr/isBroadcastAddr use (NIC addresses change only through this class). */
  /**
   * Keys are `addr | 0`: an Ip4 above 2^31 is a heap number to V8, an int32 a small integer,
   * which hashes and compares several times faster (the same for routeCache).
   */
  private addresses(): { local: Set<number>; bcast: Set<number>; nics: number } {
    let c = this.addrSets;
    if (c === undefined || c.nics !== this.nics.size) {
      c = { local: new Set(), bcast: new Set(), nics: this.nics.size };
      for (const n of this.nics.values()) {
        for (const x of n.addrs) {
          c.local.add(x.addr | 0);
          if (x.plen < 31) c.bcast.add(broadcastOf(x.addr, x.plen) | 0);
        }
      }
      this.addrSets = c;
    }
    return c;
  }

  isLocalAddr(a: Ip4): boolean {
    if (a >>> 24 === 127) return true;
    return this.addresses().local.has(a | 0);
  }

  isBroadcastAddr(a: Ip4): boolean {
    if (a === IP4_BROADCAST) return true;
    return this.addresses().bcast.has(a | 0);
  }

  /** inet_select_addr: an address of `dev` on the same subnet as `to`, else its primary. */
  selectAddr(dev: Nic, to: Ip4): Ip4 | undefined {
    for (const a of dev.addrs) if (a.plen < 32 && sameSubnet(a.addr, to, a.plen)) return a.addr;
    for (const a of dev.addrs) if (a.addr >>> 24 !== 127) return a.addr;
    for (const n of this.nics.values()) if (!n.isLoopback) for (const a of n.addrs) return a.addr;
    return dev.addrs[0]?.addr;
  }

  /** Output route for locally generated packets (ip_route_output_key). */
  routeOutput(dst: Ip4): OutRoute | undefined {
    const cache = this.routeCache;
    if (this.routeCacheNet !== this.netVersion || this.routeCacheRoutes !== this.routes.version || this.routeCacheNics !== this.nics.size || cache.size >= 4096) {
      cache.clear();
      this.routeCacheNet = this.netVersion;
      this.routeCacheRoutes = this.routes.version;
      this.routeCacheNics = this.nics.size;
    } else {
      const hit = cache.get(dst | 0);
      if (hit !== undefined) return hit ?? undefined;
    }
    const rt = this.routeOutputUncached(dst);
    cache.set(dst | 0, rt ?? null);
    return rt;
  }

  /**
   * dst_mtu of the output route to `dst` (ipv4_mtu): a learnt, unexpired path MTU, else the
   * device's MTU. Undefined without a route.
   */
  routeMtu(dst: Ip4): number | undefined {
    const rt = this.routeOutput(dst);
    if (!rt) return undefined;
    if (rt.local) return rt.dev.mtu;
    const p = this.pmtu.get(dst);
    return p ? Math.min(p.mtu, rt.dev.mtu) : rt.dev.mtu;
  }

  /** ip_rt_update_pmtu for a socket's route: true when the route's MTU changed. */
  updatePmtu(dst: Ip4, mtu: number): boolean {
    const old = this.routeMtu(dst);
    if (old === undefined || this.isLocalAddr(dst)) return false;
    if (!this.pmtu.update(dst, mtu, old)) return false;
    this.note("note", `path MTU to ${formatIp4(dst)} lowered to ${this.pmtu.get(dst)!.mtu} (route exception, expires in ${this.sysctl.getInt("net.ipv4.route.mtu_expires", 600)} s)`);
    return true;
  }

  private routeOutputUncached(dst: Ip4): OutRoute | undefined {
    if (this.isLocalAddr(dst)) {
      const lo = this.nics.get("lo")!;
      return { dev: lo, nextHop: dst, src: dst, local: true };
    }
    if (dst === IP4_BROADCAST) {
      const dev = [...this.nics.values()].find((n) => !n.isLoopback && n.up && n.addrs.length > 0);
      if (!dev) return undefined;
      return { dev, nextHop: dst, src: this.selectAddr(dev, dst)!, local: false };
    }
    const r = this.routes.lookup(dst, (x) => this.nics.get(x.dev)?.up === true);
    if (!r) return undefined;
    const dev = this.nics.get(r.dev)!;
    let nextHop = r.gateway ?? dst;
    const redirected = this.redirects.get(dst);
    if (redirected !== undefined) nextHop = redirected;
    const src = r.src ?? this.selectAddr(dev, r.gateway ?? dst);
    if (src === undefined) return undefined;
    return { dev, nextHop, src, local: false, route: r };
  }

  // ---------------------------------------------------------------- frames in

  frameIn(nic: Nic, frame: Uint8Array, fromLoopback = false): void {
    nic.stats.rxPackets++;
    nic.stats.rxBytes += frame.length;
    if (this.world.trace.recording) this.world.trace.frame(this.world.now(), this.name, "rx", nic.name, frame);
    if (!fromLoopback) nic.tapFrame(frame, "in");
    if (frame.length < ETH_HLEN) {
      this.dropPkt(nic, "frame shorter than an Ethernet header", frame);
      return;
    }
    const dstMac = readMac(frame, 0);
    if (!nic.isLoopback && dstMac !== nic.mac && (frame[0]! & 1) === 0) {
      // PACKET_OTHERHOST: seen by a promiscuous capture, then discarded by the stack.
      return;
    }
    const type = (frame[12]! << 8) | frame[13]!;
    if (type === ETHERTYPE_ARP) this.arpIn(nic, frame.subarray(ETH_HLEN), (frame[0]! & 1) !== 0);
    else if (type === ETHERTYPE_IPV4) {
      // Traffic arriving from a neighbour keeps its entry fresh. Linux 6.1 sends no DELAY/PROBE
      // ARP to a client while an IPVS-NAT flow with it is alive (real-kernel capture
      // test/golden/kernel/seed-nat.out); confirming on receipt reproduces that.
      if (frame.length >= ETH_HLEN + 20) this.neigh.confirmFrom(nic.neighEntries ??= this.neigh.devEntries(nic.name), readIp4(frame, ETH_HLEN + 12), readMac(frame, 6));
      this.ipIn(nic, frame.subarray(ETH_HLEN), frame);
    }
    else nic.stats.rxDropped++;
  }

  private dropPkt(nic: Nic | undefined, reason: string, bytes?: Uint8Array): void {
    if (nic) nic.stats.rxDropped++;
    this.world.trace.drop(this.world.now(), this.name, reason, bytes, nic?.name);
  }

  private drop(reason: string, bytes?: Uint8Array, ifname?: string): void {
    this.world.trace.drop(this.world.now(), this.name, reason, bytes, ifname);
  }

  /** `before`: the packet as this host was given it, when the event changed it (for `lvslab explain`). */
  private note(
    kind: "forward" | "deliver" | "ipvs" | "icmp" | "note" | "tx", text: string, bytes?: Uint8Array, ifname?: string,
    before?: Uint8Array, facts?: Record<string, string>,
  ): void {
    const tr = this.world.trace;
    if (tr.recording) tr.record({ t: this.world.now(), host: this.name, kind, ifname, bytes: bytes?.slice(), before: before?.slice(), facts, text });
  }

  // ---------------------------------------------------------------- ARP

  /**
   * arp_process: a request for a local address that arp_ignore lets this NIC answer is
   * answered and its sender learnt (neigh_event_ns); one arp_ignore refuses is dropped
   * without learning anything; other ARP only updates an existing entry.
   */
  private arpIn(nic: Nic, body: Uint8Array, bcast: boolean): void {
    const r = parseArp(body);
    if (!r.ok) {
      this.dropPkt(nic, `malformed ARP (${r.error})`, body);
      return;
    }
    const a = r.value;
    if (a.spa === 0 && a.op === ARP_REQUEST) return; // duplicate address probe: no learning
    if (a.op === ARP_REQUEST && this.isLocalAddr(a.tpa) && a.tpa >>> 24 !== 127) {
      if (!this.arpTargetOk(nic, a.tpa, a.spa)) {
        this.drop(`ARP request for ${formatIp4(a.tpa)} from ${formatIp4(a.spa)} not answered on ${nic.name} (arp_ignore)`, body, nic.name);
        return;
      }
      this.neigh.learn(nic.name, a.spa, a.sha, "request-for-us");
      if (this.world.trace.recording) {
        const mode = String(Math.max(this.conf("all", "arp_ignore"), this.conf(nic.name, "arp_ignore")));
        this.note("note", `answered ARP who-has ${formatIp4(a.tpa)} from ${formatIp4(a.spa)} on ${nic.name} (arp_ignore=${mode})`, undefined, nic.name, undefined,
          { arp: "reply", tpa: formatIp4(a.tpa), arp_ignore: mode });
      }
      const reply = emitArp({ op: ARP_REPLY, sha: nic.mac, spa: a.tpa, tha: a.sha, tpa: a.spa });
      nic.transmit(emitEthernet({ dst: a.sha, src: nic.mac, ethertype: ETHERTYPE_ARP, payload: reply }, { pad: false }), true);
      return;
    }
    // arp_is_garp: a gratuitous request or reply (sender = target) overrides the locktime.
    const garp = a.spa === a.tpa && (a.op === ARP_REQUEST || a.tha === a.sha);
    this.neigh.learn(nic.name, a.spa, a.sha, a.op === ARP_REPLY && !bcast ? "reply" : "other", garp);
  }

  /**
   * arp_ignore (net/ipv4/arp.c arp_ignore(), inet_confirm_addr): may `nic` answer for the
   * local address `tip`? The mode is the larger of conf/all and conf/NIC.
   *   0: any local address;  1: only an address configured on `nic`;
   *   2: as 1, and some address of `nic` has a subnet holding both `tip` and the sender;
   *   3: any address but scope host ones;  4..7: reserved (answer);  8: never.
   */
  private arpTargetOk(nic: Nic, tip: Ip4, sip: Ip4): boolean {
    const mode = Math.max(this.conf("all", "arp_ignore"), this.conf(nic.name, "arp_ignore"));
    switch (mode) {
      case 1:
        return nic.addrs.some((x) => x.addr === tip);
      case 2:
        return nic.addrs.some((x) => x.addr === tip) && nic.addrs.some((x) => sameSubnet(x.addr, tip, x.plen) && sameSubnet(x.addr, sip, x.plen));
      case 3:
        return tip >>> 24 !== 127; // lvslab keeps no address scopes: only 127/8 is scope host
      case 8:
        return false;
      default:
        return true;
    }
  }

  /**
   * Send an ARP request (broadcast, or a unicast probe to a known MAC). Its sender address
   * follows arp_announce (arp_solicit; the larger of conf/all and conf/DEV), given `src`,
   * the source of the packet waiting for the answer:
   *   0: `src` if it is a local address;  1: `src` only if it is local and shares a subnet of
   *   DEV with the target;  2: never `src`.
   * Otherwise (and for probes no packet waits for) inet_select_addr picks DEV's address for
   * the target.
   */
  private arpSolicit(dev: string, ip: Ip4, unicastTo: Mac | undefined, src: Ip4 | undefined): void {
    const nic = this.nics.get(dev);
    if (!nic || nic.isLoopback) return;
    let spa: Ip4 | undefined;
    if (src !== undefined && this.isLocalAddr(src)) {
      const mode = Math.max(this.conf("all", "arp_announce"), this.conf(dev, "arp_announce"));
      if (mode === 1) {
        // inet_addr_onlink: one subnet of DEV holds both the target and the source.
        if (nic.addrs.some((x) => sameSubnet(x.addr, ip, x.plen) && sameSubnet(x.addr, src, x.plen))) spa = src;
      } else if (mode !== 2) spa = src;
    }
    spa ??= this.selectAddr(nic, ip) ?? 0;
    if (this.world.trace.recording) {
      const mode = String(Math.max(this.conf("all", "arp_announce"), this.conf(dev, "arp_announce")));
      this.note("note", `ARP who-has ${formatIp4(ip)} tell ${formatIp4(spa)} on ${dev} (arp_announce=${mode})`, undefined, dev, undefined,
        { arp: "request", spa: formatIp4(spa), tpa: formatIp4(ip), arp_announce: mode });
    }
    const req = emitArp({ op: ARP_REQUEST, sha: nic.mac, spa, tha: 0, tpa: ip });
    nic.transmit(emitEthernet({ dst: unicastTo ?? MAC_BROADCAST, src: nic.mac, ethertype: ETHERTYPE_ARP, payload: req }, { pad: false }), true);
  }

  // ---------------------------------------------------------------- IPv4 input

  /** `frame`: the received frame `raw` came in (the receiver's own bytes), when there is one. */
  private ipIn(nic: Nic, raw: Uint8Array, frame?: Uint8Array): void {
    this.ip.InReceives++;
    if (raw.length < 20 || ip4Version(raw) !== 4 || ip4HeaderLen(raw) < 20 || raw.length < ip4HeaderLen(raw)) {
      this.ip.InHdrErrors++;
      this.dropPkt(nic, "IPv4 header malformed or truncated", raw);
      return;
    }
    const tot = ip4TotalLen(raw);
    if (tot > raw.length || tot < ip4HeaderLen(raw)) {
      this.ip.InHdrErrors++;
      this.dropPkt(nic, "IPv4 total length does not fit the frame", raw);
      return;
    }
    if (!ipv4ChecksumOk(raw)) {
      this.ip.InHdrErrors++;
      this.dropPkt(nic, "IPv4 header checksum is wrong", raw);
      return;
    }
    // A frame without Ethernet padding needs no second view.
    let pkt = tot === raw.length ? raw : raw.subarray(0, tot);
    // Such a frame may carry the packet out again, rewritten in place: the bytes are this
    // host's own, every capture has seen them, and the trace (which keeps the packet as it
    // came) is off.
    const reuse = frame !== undefined && frame.length === ETH_HLEN + tot && !this.world.trace.recording ? frame : undefined;
    let mark = 0;
    // Whether any iptables rule exists, asked once per packet (nothing the packet's own
    // path runs can add or remove one).
    const nf = !this.netfilter.empty();
    if (nf) {
      const pre = this.hook("mangle", "PREROUTING", pkt, nic.name, "");
      if (pre.mark !== undefined) mark = pre.mark;
      this.unmasquerade(pkt);
    }
    const dst = ip4Dst(pkt);
    // Route input validates the source first (fib_validate_source); loopback packets keep
    // the route they were sent with and skip it.
    if (!nic.isLoopback && !this.sourceValid(nic, pkt)) return;
    if (this.isLocalAddr(dst) || this.isBroadcastAddr(dst) || isMulticastIp4(dst)) {
      this.localIn(nic, pkt, mark, nf, reuse);
    } else {
      this.forward(nic, pkt, mark, nf, reuse);
    }
  }

  /**
   * fib_validate_source for a packet that arrived on `nic`. rp_filter is the larger of
   * conf/all and conf/NIC: 0 accepts any source but one of this host's own addresses
   * (unless accept_local); 1 (strict) wants the route back to the source to leave by `nic`;
   * 2 (loose) wants any route back. A failed check drops the packet (-EXDEV:
   * IPReversePathFilter is counted; -EINVAL: a martian source).
   */
  private sourceValid(nic: Nic, pkt: Uint8Array): boolean {
    const src = ip4Src(pkt);
    if (src === 0) return true;
    if (isMulticastIp4(src) || src === IP4_BROADCAST) {
      this.drop(`martian source ${formatIp4(src)} on ${nic.name}`, pkt, nic.name);
      return false;
    }
    const all = (this.confAllHot ??= this.hotConf("all"));
    const mine = (nic.hotConf ??= this.hotConf(nic.name));
    const rpf = Math.max(all.rpFilter.value, mine.rpFilter.value);
    if (this.isLocalAddr(src)) {
      const acceptLocal = all.acceptLocal.value !== 0 || mine.acceptLocal.value !== 0;
      // The route back is RTN_LOCAL: only accept_local lets an own address in (with a
      // reverse path check, only on the NIC that holds it).
      if (acceptLocal && (rpf === 0 || nic.addrs.some((a) => a.addr === src))) return true;
      this.drop(`martian source ${formatIp4(src)} on ${nic.name} (one of ${this.name}'s own addresses)`, pkt, nic.name);
      return false;
    }
    if (rpf === 0) return true;
    if (this.isBroadcastAddr(src)) {
      this.drop(`martian source ${formatIp4(src)} on ${nic.name} (a broadcast address)`, pkt, nic.name);
      return false;
    }
    const back = this.routes.lookup(src, (x) => this.nics.get(x.dev)?.up === true);
    if (back !== undefined && back.dev === nic.name) return true;
    if (back !== undefined && rpf !== 1 && nic.addrs.length > 0) return true;
    this.ipExt.IPReversePathFilter++;
    const why = back === undefined ? "no route back to it" : `the route back leaves by ${back.dev}`;
    this.drop(`rp_filter=${rpf} on ${nic.name}: source ${formatIp4(src)} fails the reverse path check (${why})`, pkt, nic.name);
    return false;
  }

  private hook(table: TableName, hook: Hook, pkt: Uint8Array, inIf: string, outIf: string): Decision {
    return this.netfilter.evaluate(table, hook, packetInfo(pkt, inIf, outIf));
  }

  /** `reuse`: the frame holding `pkt` (right after its Ethernet header), free to go out again. */
  private localIn(nic: Nic, pkt: Uint8Array, mark: number, nf: boolean, reuse?: Uint8Array): void {
    if (ip4IsFragment(pkt)) {
      // ip_local_deliver -> ip_defrag: the pieces wait until the datagram is whole.
      const whole = this.reasm.add(pkt);
      if (!whole) {
        this.note("note", `IPv4 fragment of id ${(pkt[4]! << 8) | pkt[5]!} queued for reassembly`, pkt, nic.name);
        return;
      }
      this.note("note", `IPv4 datagram of ${whole.length} bytes reassembled from its fragments`, whole, nic.name);
      pkt = whole;
      reuse = undefined; // the frame held only the last fragment
    }
    if (nf) {
      const d = this.hook("filter", "INPUT", pkt, nic.name, "");
      if (d.verdict === "DROP" || d.verdict === "REJECT") {
        this.drop(`dropped by iptables ${d.where}`, pkt, nic.name);
        if (d.verdict === "REJECT") this.icmpSend(pkt, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, nic);
        return;
      }
    }
    if (this.ipvs && ip4IsFragment(pkt) === false) {
      this.ipvs.poll(this.world.now());
      const v = this.ipvs.localIn(pkt, mark === 0 ? nic.ipvsCtx : { inIf: nic.name, fwmark: mark });
      switch (v.action) {
        case "accept":
          pkt = v.packet;
          break;
        case "stolen": {
          // IPVS rewrote the packet in place (NAT, DR): it leaves in the frame it came in.
          if (reuse !== undefined) this.setHeadroom(pkt, reuse);
          // Notes are formatted only for the trace (x.note is a getter that builds text).
          const recording = this.world.trace.recording;
          for (const x of v.out) {
            if (recording) this.note("ipvs", x.note ?? "IPVS forwarded", x.packet, nic.name, pkt);
            this.ipvsXmit(x.packet, x.nextHop);
          }
          return;
        }
        case "drop":
          this.drop(`IPVS: ${v.reason}`, pkt, nic.name);
          for (const x of v.out ?? []) this.ipvsXmit(x.packet, x.nextHop);
          return;
      }
    }
    this.deliver(nic, pkt);
  }

  private deliver(nic: Nic, pkt: Uint8Array): void {
    const hl = ip4HeaderLen(pkt);
    const src = ip4Src(pkt);
    const dst = ip4Dst(pkt);
    if (ip4IsFragment(pkt)) {
      this.ip.InDiscards++;
      this.drop("IPv4 fragment (reassembly is not modelled)", pkt, nic.name);
      return;
    }
    const l4 = pkt.subarray(hl);
    this.ip.InDelivers++;
    switch (ip4Proto(pkt)) {
      case IPPROTO_TCP:
      {
        this.note("deliver", "delivered to TCP", pkt, nic.name);
        const rsts = this.tcp.counters.OutRsts;
        this.tcp.input(src, dst, l4);
        if (this.tcp.counters.OutRsts !== rsts && l4.length >= 4) {
          // tcp_v4_send_reset: nothing here expected this segment (e.g. a SYN-ACK from a
          // real server's own address when the client talked to the VIP).
          const sport = (l4[0]! << 8) | l4[1]!;
          const dport = (l4[2]! << 8) | l4[3]!;
          this.drop(`TCP segment from ${formatIp4(src)}:${sport} to ${formatIp4(dst)}:${dport} matches no socket here; answered with RST`, pkt, nic.name);
        }
        return;
      }
      case IPPROTO_UDP:
        this.udpIn(nic, pkt, l4, src, dst);
        return;
      case IPPROTO_ICMP:
        this.icmpIn(nic, pkt, l4, src, dst);
        return;
      case IPPROTO_IPIP:
        // Without the ipip module (no tunl0) protocol 4 is as unknown as any other.
        if (this.nics.has("tunl0")) this.ipipIn(nic, pkt, l4);
        else this.unknownProto(nic, pkt);
        return;
      case IPPROTO_GRE:
        if (this.nics.has("gre0")) this.greIn(nic, pkt, l4);
        else this.unknownProto(nic, pkt);
        return;
      default:
        this.unknownProto(nic, pkt);
    }
  }

  private unknownProto(nic: Nic, pkt: Uint8Array, proto = ip4Proto(pkt)): void {
    this.ip.InUnknownProtos++;
    this.drop(`no handler for IP protocol ${proto}`, pkt, nic.name);
    this.icmpSend(pkt, ICMP_DEST_UNREACH, 2, 0, nic);
  }

  /**
   * IPv4-in-IPv4 (net/ipv4/ipip.c, ip_tunnel_rcv): the fallback device tunl0 (remote any,
   * local any) takes every IPIP packet while it is up; the inner packet is then received
   * on tunl0, through the whole IPv4 input path again (rp_filter of tunl0 included). With
   * tunl0 down no tunnel matches and tunnel4_rcv answers port unreachable.
   */
  private ipipIn(nic: Nic, pkt: Uint8Array, l4: Uint8Array, via = "IPIP"): void {
    this.tunnelIn(nic, pkt, l4, "tunl0", via);
  }

  /** The inner packet of a tunnel, received on its fallback device `dev` (tunl0, gre0). */
  private tunnelIn(nic: Nic, pkt: Uint8Array, l4: Uint8Array, dev: string, what: string): void {
    const tun = this.nics.get(dev)!;
    if (!tun.up) {
      this.drop(`${what} packet but ${dev} is down (no tunnel matches)`, pkt, nic.name);
      this.icmpSend(pkt, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, nic);
      return;
    }
    if (l4.length < 20 || ip4Version(l4) !== 4 || ip4TotalLen(l4) > l4.length) {
      tun.stats.rxDropped++;
      this.drop(`${what} inner packet is not IPv4 or truncated`, pkt, nic.name);
      return;
    }
    const inner = copyBytes(l4.subarray(0, ip4TotalLen(l4)));
    tun.stats.rxPackets++;
    tun.stats.rxBytes += inner.length;
    this.note("deliver", `${what} from ${formatIp4(ip4Src(pkt))} decapsulated, received on ${dev}`, inner, dev, pkt);
    // A capture on the tunnel device sees the inner packet before IP does (netif_rx).
    tun.tapFrame(inner, "in");
    this.ipIn(tun, inner);
  }

  /**
   * GRE (net/ipv4/gre_demux.c, ip_gre.c): version 0 only; a checksum, when the C bit says
   * there is one, must be right; a key or sequence number is skipped. The fallback device gre0
   * (remote any, local any) takes the packet while it is up; only IPv4 inside is handled here.
   */
  private greIn(nic: Nic, pkt: Uint8Array, l4: Uint8Array): void {
    // gre_parse_header: version 0, no routing (R bit).
    if (l4.length < 4 || (l4[1]! & 7) !== 0 || (l4[0]! & 0x40) !== 0) {
      this.drop("GRE header truncated, not version 0 or with routing", pkt, nic.name);
      return;
    }
    const flags = l4[0]!;
    const hlen = 4 + (flags & 0x80 ? 4 : 0) + (flags & 0x20 ? 4 : 0) + (flags & 0x10 ? 4 : 0);
    if (l4.length < hlen) {
      this.drop("GRE header truncated", pkt, nic.name);
      return;
    }
    if (flags & 0x80 && internetChecksum(l4) !== 0) {
      this.drop("GRE checksum is wrong", pkt, nic.name);
      return;
    }
    const proto = (l4[2]! << 8) | l4[3]!;
    if (proto !== 0x0800) {
      this.drop(`GRE carries protocol 0x${proto.toString(16).padStart(4, "0")}, not IPv4`, pkt, nic.name);
      return;
    }
    this.tunnelIn(nic, pkt, l4.subarray(hlen), "gre0", "GRE");
  }

  /**
   * A UDP datagram to a port `ip fou add` opened (net/ipv4/fou.c): with `gue`, a GUE header
   * (version 0: 4 bytes plus hlen words of options, its protocol field saying what follows; a
   * control message is dropped; version 1: the IP packet itself); with `ipproto N`, the
   * payload is protocol N. Only protocol 4 (IPIP, to tunl0) goes further here; any other is
   * as unknown as it would be in a packet of its own.
   */
  private fouIn(nic: Nic, pkt: Uint8Array, payload: Uint8Array, port: number, how: FouPort): void {
    let proto: number;
    let inner: Uint8Array;
    if (how.gue) {
      if (payload.length < 1) return void this.drop(`GUE on UDP port ${port}: no header`, pkt, nic.name);
      const ver = payload[0]! >> 6;
      if (ver === 1) {
        proto = (payload[0]! >> 4) === 4 ? IPPROTO_IPIP : -1;
        inner = payload;
      } else if (ver === 0) {
        const hlen = 4 + (payload[0]! & 0x1f) * 4;
        if (payload.length < hlen) return void this.drop(`GUE on UDP port ${port}: header truncated`, pkt, nic.name);
        if (payload[0]! & 0x20) return void this.drop(`GUE on UDP port ${port}: a control message`, pkt, nic.name);
        if (!gueFlagsValid(payload, hlen - 4)) return void this.drop(`GUE on UDP port ${port}: flags it does not know or longer than its options`, pkt, nic.name);
        proto = payload[1]!;
        inner = payload.subarray(hlen);
      } else return void this.drop(`GUE on UDP port ${port}: version ${ver}`, pkt, nic.name);
    } else {
      proto = how.ipproto;
      inner = payload;
    }
    // fou_udp_recv / gue_udp_recv hand the rest to the handler of its protocol.
    const what = how.gue ? `GUE (UDP port ${port})` : `FOU (UDP port ${port})`;
    if (proto === IPPROTO_IPIP && this.nics.has("tunl0")) this.ipipIn(nic, pkt, inner, what);
    else if (proto === IPPROTO_GRE && this.nics.has("gre0")) this.greIn(nic, pkt, inner);
    else this.unknownProto(nic, pkt, proto);
  }

  /**
   * `modprobe ip_gre`: its fallback devices, created down: gre0 (NOARP, MTU 1476), which
   * takes GRE from anywhere, and gretap0 (MTU 1462) and erspan0 (MTU 1450), Ethernet over GRE,
   * which lvslab lists but does not carry frames on.
   */
  enableGre(): void {
    if (this.nics.has("gre0")) return;
    this.addNic("gre0", 0, 1476, ARPHRD_IPGRE).up = false;
    this.addNic("gretap0", 0, 1462).up = false;
    this.addNic("erspan0", 0, 1450).up = false;
  }

  /** `modprobe ipip`: the fallback tunnel device tunl0 (NOARP, MTU 1480), created down. */
  enableIpip(): Nic {
    const old = this.nics.get("tunl0");
    if (old) return old;
    const tun = this.addNic("tunl0", 0, 1480, ARPHRD_TUNNEL);
    tun.up = false;
    return tun;
  }

  /** TCP forward progress confirms the neighbour the route to `peer` uses (dst_confirm). */
  private confirmNeighbour(peer: Ip4): void {
    const r = this.routeOutput(peer);
    if (r && !r.local) this.neigh.confirm(r.dev.name, r.nextHop);
  }

  private udpIn(nic: Nic, pkt: Uint8Array, l4: Uint8Array, src: Ip4, dst: Ip4): void {
    if (l4.length < 8) {
      this.drop("UDP header truncated", pkt, nic.name);
      return;
    }
    const sport = (l4[0]! << 8) | l4[1]!;
    const dport = (l4[2]! << 8) | l4[3]!;
    const ulen = (l4[4]! << 8) | l4[5]!;
    if (ulen < 8 || ulen > l4.length) {
      // __udp4_lib_rcv: a length field the datagram does not hold is a short packet.
      this.drop(`UDP length ${ulen} does not fit the ${l4.length}-byte datagram`, pkt, nic.name);
      return;
    }
    const fou = this.fouPorts.get(dport);
    if (fou && !fou.v6) {
      this.fouIn(nic, pkt, l4.subarray(8, ulen), dport, fou);
      return;
    }
    const h = this.udpSockets.get(dport);
    if (h) {
      h(src, sport, dst, l4.subarray(8));
      return;
    }
    this.drop(`UDP port ${dport} unreachable`, pkt, nic.name);
    if (!this.isBroadcastAddr(dst) && !isMulticastIp4(dst)) this.icmpSend(pkt, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, nic);
  }

  private icmpIn(nic: Nic, pkt: Uint8Array, l4: Uint8Array, src: Ip4, dst: Ip4): void {
    const r = parseIcmp(l4);
    if (!r.ok) {
      this.drop(`malformed ICMP (${r.error})`, pkt, nic.name);
      return;
    }
    const m = r.value;
    if (m.type === ICMP_DEST_UNREACH) this.countIcmp(true, m.type);
    for (const l of this.icmpListeners) l(src, dst, l4, ip4Ttl(pkt), pkt.length);
    if (m.type === ICMP_ECHO) {
      if (this.sysctl.getInt("net.ipv4.icmp_echo_ignore_all") !== 0) return;
      if (this.isBroadcastAddr(dst) && this.sysctl.getInt("net.ipv4.icmp_echo_ignore_broadcasts") !== 0) return;
      const reply = emitIcmp({ type: ICMP_ECHOREPLY, code: 0, rest: m.rest, payload: m.payload });
      const from = this.isLocalAddr(dst) ? dst : this.routeOutput(src)?.src ?? dst;
      this.ipOutput(from, src, IPPROTO_ICMP, reply, { tos: pkt[1]! });
      return;
    }
    if (m.type === ICMP_REDIRECT) {
      this.redirectIn(nic, src, m.rest >>> 0, m.payload, pkt);
      return;
    }
    if (icmpIsError(m.type) && m.payload.length >= 28) {
      const inner = m.payload;
      let info = 0;
      if (m.type === ICMP_DEST_UNREACH && m.code === ICMP_FRAG_NEEDED) {
        // icmp_unreach: ip_no_pmtu_disc 0 takes the MTU, 1 ignores it (0), 2 drops the message.
        const mode = this.sysctl.getInt("net.ipv4.ip_no_pmtu_disc");
        if (mode === 2) return;
        if (mode === 0 || mode === 3) info = m.rest & 0xffff;
        // ping_err: an echo socket takes the path MTU of its route too.
        if (ip4Proto(inner) === IPPROTO_ICMP && this.icmpListeners.size > 0) this.updatePmtu(readIp4(inner, 16), info);
      }
      if (ip4Proto(inner) === IPPROTO_TCP) this.tcp.icmpError(m.type, m.code, inner, info);
    }
  }

  /** ICMP redirect (ip_rt_redirect): accepted only as the current gateway's advice. */
  private redirectIn(nic: Nic, from: Ip4, newGw: Ip4, inner: Uint8Array, pkt: Uint8Array): void {
    const ignored = (why: string): void => this.note("icmp", `ICMP redirect ignored: ${why}`, pkt, nic.name, undefined, { redirect: "ignored" });
    if (inner.length < 20) return;
    const accept = this.forwarding
      ? this.conf("all", "accept_redirects") !== 0 && this.conf(nic.name, "accept_redirects") !== 0
      : this.conf("all", "accept_redirects") !== 0 || this.conf(nic.name, "accept_redirects") !== 0;
    if (!accept) return ignored(`accept_redirects is off on ${nic.name}`);
    const target = readIp4(inner, 16);
    const cur = this.routeOutput(target);
    if (!cur || cur.nextHop !== from || cur.dev !== nic) return ignored(`${formatIp4(from)} is not the current gateway to ${formatIp4(target)}`);
    if (!nic.addrs.some((a) => sameSubnet(a.addr, newGw, a.plen))) return ignored(`the new gateway ${formatIp4(newGw)} is not on ${nic.name}'s subnet`);
    // Since Linux 3.6 a redirect reaches the route only through the socket the quoted packet
    // belongs to (icmp_socket_deliver -> tcp_v4_err -> do_redirect): a SYN-ACK quoted while
    // the connection is still a request socket changes nothing.
    if (ip4Proto(inner) === IPPROTO_TCP && !this.tcp.redirectTaken(inner)) {
      return ignored("the packet it quotes belongs to no full socket yet (its connection is still a request socket)");
    }
    // __ip_do_redirect: the new gateway must already be a valid neighbour; if not, it is only
    // looked up (neigh_event_send starts ARP) and the redirect is dropped.
    const n = this.neigh.get(nic.name, newGw);
    if (!n || n.state === "INCOMPLETE" || n.state === "FAILED") {
      if (!n || n.state === "FAILED") this.neigh.resolve(nic.name, newGw, () => {});
      return ignored(`the new gateway ${formatIp4(newGw)} is not yet a known neighbour (ARP started)`);
    }
    this.redirects.set(target, newGw);
    this.note("icmp", `accepted ICMP redirect from ${formatIp4(from)}: ${formatIp4(target)} via ${formatIp4(newGw)}`, pkt, nic.name, undefined, { redirect: "accepted" });
  }

  // ---------------------------------------------------------------- forwarding

  /** `reuse`: the frame holding `pkt` (right after its Ethernet header), free to go out again. */
  private forward(nic: Nic, pkt: Uint8Array, mark: number, nf: boolean, reuse?: Uint8Array): void {
    const received = pkt;
    const src = ip4Src(pkt);
    const dst = ip4Dst(pkt);
    if (!this.forwarding) {
      this.ip.InAddrErrors++;
      this.drop(`not addressed to ${this.name} and net.ipv4.ip_forward is 0`, pkt, nic.name);
      return;
    }
    const rt = this.routeOutput(dst);
    if (!rt || rt.local) {
      this.drop(`no route to ${formatIp4(dst)}`, pkt, nic.name);
      this.icmpSend(pkt, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0, nic);
      return;
    }
    if (ip4Ttl(pkt) <= 1) {
      this.drop("TTL expired in transit", pkt, nic.name);
      this.icmpSend(pkt, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, nic);
      return;
    }
    // ip_forward: a DF packet larger than the next hop's MTU is refused with "fragmentation
    // needed" carrying that MTU (ip_exceeds_mtu; the device MTU unless ip_forward_use_pmtu).
    const fwdMtu = this.forwardUsePmtu.value !== 0 ? this.routeMtu(dst) ?? rt.dev.mtu : rt.dev.mtu;
    if (pkt.length > fwdMtu && (pkt[6]! & 0x40) !== 0) {
      this.ip.FragFails++;
      this.drop(`${pkt.length}-byte packet with DF does not fit the MTU ${fwdMtu} of ${rt.dev.name}: ICMP fragmentation needed (mtu ${fwdMtu}) to ${formatIp4(src)}`, pkt, nic.name);
      this.icmpSend(pkt, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, fwdMtu, nic);
      return;
    }
    // A forwarded packet leaving by the interface it came in on: tell the sender (ip_forward
    // -> ip_rt_send_redirect) when send_redirects allows it.
    if (rt.dev === nic && (this.conf("all", "send_redirects") !== 0 || this.conf(nic.name, "send_redirects") !== 0)) {
      if (this.world.trace.recording) {
        const sr = String(Math.max(this.conf("all", "send_redirects"), this.conf(nic.name, "send_redirects")));
        this.note("note", `leaves by ${nic.name}, where it came in: ICMP redirect to ${formatIp4(src)} (send_redirects=${sr})`, pkt, nic.name, undefined,
          { redirect: "sent", send_redirects: sr, gateway: formatIp4(rt.nextHop) });
      }
      this.sendRedirect(pkt, rt.nextHop, nic);
    }
    if (reuse !== undefined) {
      // Rewritten where it is and sent in the frame it came in.
      this.setHeadroom(pkt, reuse);
    } else {
      // The trace keeps the packet as received: the TTL decrement works on a copy, made with
      // room for the Ethernet header in front (transmitIp writes the header there).
      const frame = allocBytes(ETH_HLEN + pkt.length);
      frame.set(pkt, ETH_HLEN);
      pkt = frame.subarray(ETH_HLEN);
      this.setHeadroom(pkt, frame);
    }
    ip4DecTtl(pkt);
    if (nf) {
      const d = this.hook("filter", "FORWARD", pkt, nic.name, rt.dev.name);
      if (d.verdict === "DROP" || d.verdict === "REJECT") {
        this.drop(`dropped by iptables ${d.where}`, pkt, nic.name);
        return;
      }
    }
    let ipvsHandled = false;
    if (this.ipvs) {
      this.ipvs.poll(this.world.now());
      const v = this.ipvs.forward(pkt, mark === 0 ? nic.ipvsCtx : { inIf: nic.name, fwmark: mark });
      if (v.action === "drop") {
        this.drop(`IPVS: ${v.reason}`, pkt, nic.name);
        for (const x of v.out ?? []) this.ipvsXmit(x.packet, x.nextHop);
        return;
      }
      if (v.action === "stolen") {
        const recording = this.world.trace.recording;
        for (const x of v.out) {
          if (recording) this.note("ipvs", x.note ?? "IPVS forwarded", x.packet, nic.name, received);
          this.ipvsXmit(x.packet, x.nextHop);
        }
        return;
      }
      if (v.packet !== pkt || acceptHasNote(v)) {
        ipvsHandled = true;
        if (this.world.trace.recording) this.note("ipvs", v.note ?? "IPVS rewrote the reply", v.packet, nic.name, received);
      }
      pkt = v.packet;
    }
    this.ip.ForwDatagrams++;
    if (this.world.trace.recording) this.note("forward", `forwarded from ${nic.name} to ${rt.dev.name} via ${formatIp4(rt.nextHop)}`, pkt, nic.name, received);
    // After an IPVS SNAT the route is looked up again (snat_reroute); the destination did not change.
    this.postRouting(pkt, rt, src, ipvsHandled, nf);
  }

  private sendRedirect(pkt: Uint8Array, gw: Ip4, nic: Nic): void {
    // ip_rt_send_redirect: the first redirect goes at once, then with exponential backoff
    // (ip_rt_redirect_load << n), at most ip_rt_redirect_number (9) before silence.
    const src = ip4Src(pkt);
    const now = this.world.now();
    let p = this.redirectPeers.get(src);
    if (!p) {
      p = { tokens: 0, last: 0, n: 0 };
      this.redirectPeers.set(src, p);
    }
    if (p.n > 0 && now - p.last > 20_000 * 512) p.n = 0; // ip_rt_redirect_silence
    if (p.n >= 9) return;
    if (p.n > 0 && now < p.last + (20_000 << p.n)) return;
    p.n++;
    p.last = now;
    this.icmpSend(pkt, ICMP_REDIRECT, ICMP_REDIR_HOST, icmpRedirectRest(gw), nic);
  }

  /** Packets IPVS transmits: routed by destination or handed to an explicit next hop (DR). */
  private ipvsXmit(pkt: Uint8Array, nextHop: Ip4 | undefined): void {
    const dst = ip4Dst(pkt);
    const rt = this.routeOutput(nextHop ?? dst);
    if (!rt) {
      this.ip.OutNoRoutes++;
      this.drop(`IPVS: no route to ${formatIp4(nextHop ?? dst)}`, pkt);
      return;
    }
    if (rt.local) {
      // A local real server: deliver to ourselves.
      this.world.queue.after(0, () => this.deliver(rt.dev, pkt));
      return;
    }
    this.transmitIp(pkt, rt.dev, nextHop ?? rt.nextHop);
  }

  // ---------------------------------------------------------------- output

  /** A locally generated packet (ip_queue_xmit / ip_push_pending_frames). */
  ipOutput(src: Ip4, dst: Ip4, proto: number, payload: Uint8Array, opts: { tos?: number; ttl?: number; df?: boolean; id?: number } = {}): boolean {
    const rt = this.routeOutput(dst);
    if (!rt) {
      this.ip.OutNoRoutes++;
      this.drop(`no route to ${formatIp4(dst)} (Network is unreachable)`);
      return false;
    }
    this.ip.OutRequests++;
    const id = opts.id ?? this.nextId(proto, opts.df ?? false, payload);
    // Built with room for the Ethernet header in front, which transmitIp fills in.
    const frame = emitIpv4After(
      ETH_HLEN,
      { tos: opts.tos ?? 0, id, df: opts.df ?? false, ttl: opts.ttl ?? this.ipDefaultTtl.value, protocol: proto, src, dst },
      payload,
    );
    const pkt = frame.subarray(ETH_HLEN);
    this.setHeadroom(pkt, frame);
    if (this.world.trace.recording) this.noteRoute(pkt, rt);
    const nf = !this.netfilter.empty();
    if (nf) {
      const d = this.hook("filter", "OUTPUT", pkt, "", rt.dev.name);
      if (d.verdict === "DROP" || d.verdict === "REJECT") {
        this.drop(`dropped by iptables ${d.where}`, pkt);
        return false;
      }
    }
    this.postRouting(pkt, rt, src, false, nf);
    return true;
  }

  /** Which route a locally sent packet took, for `lvslab explain` (why a reply went where it went). */
  private noteRoute(pkt: Uint8Array, rt: OutRoute): void {
    const r = rt.route;
    const facts: Record<string, string> = { dev: rt.dev.name, nexthop: formatIp4(rt.nextHop), src: formatIp4(ip4Src(pkt)) };
    if (rt.local) facts.route = "local";
    else if (r) facts.route = r.plen === 0 ? "default" : `${formatIp4(r.dst)}/${r.plen}`;
    if (r?.gateway !== undefined) facts.via = formatIp4(r.gateway);
    if (!rt.local && rt.nextHop !== (r?.gateway ?? ip4Dst(pkt))) facts.redirected = "1";
    const how = facts.via ? `via ${facts.via}` : rt.local ? "local" : "on-link";
    this.note("note", `sent: route ${facts.route ?? "?"} ${how} dev ${rt.dev.name}`, pkt, rt.dev.name, undefined, facts);
  }

  /** IP ids: 0 for a DF SYN-ACK (no socket yet), otherwise a per-host counter. */
  private nextId(proto: number, df: boolean, payload: Uint8Array): number {
    if (df && proto === IPPROTO_TCP && payload.length >= 14 && (payload[13]! & 0x12) === 0x12) return 0;
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  private postRouting(pkt: Uint8Array, rt: OutRoute, origSrc: Ip4, ipvsHandled: boolean, nf: boolean): void {
    if (!ipvsHandled && !rt.local && nf) {
      const d = this.hook("nat", "POSTROUTING", pkt, "", rt.dev.name);
      if (d.verdict === "MASQUERADE" || d.verdict === "SNAT") {
        const to = d.verdict === "SNAT" ? parseToSource(d.args?.["to-source"]) : this.selectAddr(rt.dev, rt.nextHop);
        if (to !== undefined && to !== origSrc) this.masquerade(pkt, to);
      }
    }
    this.transmitIp(pkt, rt.dev, rt.nextHop);
  }

  /** SNAT with a remembered reply mapping (the part of conntrack MASQUERADE needs). */
  private masquerade(pkt: Uint8Array, to: Ip4): void {
    const proto = ip4Proto(pkt);
    const hl = ip4HeaderLen(pkt);
    const sport = proto === IPPROTO_TCP || proto === IPPROTO_UDP ? (pkt[hl]! << 8) | pkt[hl + 1]! : 0;
    const dport = proto === IPPROTO_TCP || proto === IPPROTO_UDP ? (pkt[hl + 2]! << 8) | pkt[hl + 3]! : 0;
    const orig = ip4Src(pkt);
    this.masq.set(`${proto}|${ip4Dst(pkt)}|${dport}|${to}|${sport}`, { addr: orig, port: sport });
    const before = this.world.trace.recording ? pkt.slice() : undefined;
    natRewriteSrc(pkt, to, sport);
    this.note("note", `MASQUERADE: source ${formatIp4(orig)} -> ${formatIp4(to)}`, pkt, undefined, before);
  }

  private unmasquerade(pkt: Uint8Array): void {
    if (this.masq.size === 0) return;
    const proto = ip4Proto(pkt);
    const hl = ip4HeaderLen(pkt);
    const sport = (pkt[hl]! << 8) | pkt[hl + 1]!;
    const dport = (pkt[hl + 2]! << 8) | pkt[hl + 3]!;
    const m = this.masq.get(`${proto}|${ip4Src(pkt)}|${sport}|${ip4Dst(pkt)}|${dport}`);
    if (m) natRewriteDst(pkt, m.addr, m.port);
  }

  /** Resolve the next hop and put the frame on the wire. */
  transmitIp(pkt: Uint8Array, dev: Nic, nextHop: Ip4): void {
    if (dev.isLoopback) {
      dev.transmit(emitEthernet({ dst: 0, src: 0, ethertype: ETHERTYPE_IPV4, payload: pkt }, { pad: false }), true);
      return;
    }
    const mtu = this.pmtu.size !== 0 && this.isLocalAddr(ip4Src(pkt)) ? this.pmtuFor(ip4Dst(pkt), dev) : dev.mtu;
    if (pkt.length > mtu) {
      // ip_fragment: DF refuses (ICMP "fragmentation needed" to the sender, itself if the
      // packet is local, whose socket then learns the path MTU); otherwise fragments go.
      if ((pkt[6]! & 0x40) !== 0) {
        this.ip.FragFails++;
        this.drop(`${pkt.length}-byte packet with DF does not fit the MTU ${mtu} of ${dev.name}: ICMP fragmentation needed (mtu ${mtu}) to ${formatIp4(ip4Src(pkt))}`, pkt, dev.name);
        this.icmpSend(pkt, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu, undefined);
        return;
      }
      const frags = fragmentIpv4(pkt, mtu);
      this.ip.FragOKs++;
      this.ip.FragCreates += frags.length;
      this.note("note", `${pkt.length}-byte packet without DF is larger than the MTU ${mtu} of ${dev.name}: sent as ${frags.length} fragments`, pkt, dev.name);
      for (const f of frags) this.transmitIp(f, dev, nextHop);
      return;
    }
    if (nextHop === IP4_BROADCAST || this.isBroadcastAddr(nextHop)) {
      dev.transmit(emitEthernet({ dst: MAC_BROADCAST, src: dev.mac, ethertype: ETHERTYPE_IPV4, payload: pkt }, { pad: false }), true);
      return;
    }
    // A usable neighbour entry: send now, without a callback for resolve().
    const known = this.neigh.resolveNow(dev.neighEntries ??= this.neigh.devEntries(dev.name), dev.name, nextHop);
    if (known >= 0) {
      dev.transmit(this.ipv4Frame(pkt, known, dev.mac), true);
      return;
    }
    this.neigh.resolve(dev.name, nextHop, (mac) => {
      if (mac === undefined) {
        this.ip.OutDiscards++;
        this.drop(`ARP for ${formatIp4(nextHop)} on ${dev.name} got no answer`, pkt, dev.name);
        if (!this.isLocalAddr(ip4Src(pkt))) this.icmpSend(pkt, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, undefined);
        else if (ip4Proto(pkt) === IPPROTO_TCP) this.tcp.icmpError(ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, pkt);
        // ipv4_link_failure: a local sender of ICMP (ping) hears "host unreachable" from itself.
        else if (ip4Proto(pkt) === IPPROTO_ICMP) this.icmpSend(pkt, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, undefined);
        return;
      }
      dev.transmit(this.ipv4Frame(pkt, mac, dev.mac), true);
    }, ip4Src(pkt));
  }

  /** The frame carrying `pkt` (unpadded): in its headroom when forward() made it with one. */
  private ipv4Frame(pkt: Uint8Array, dst: Mac, src: Mac): Uint8Array {
    if (pkt === this.headroomPkt) {
      const frame = this.headroomFrame!;
      this.headroomPkt = undefined;
      this.headroomFrame = undefined;
      writeEthHeader(frame, dst, src, ETHERTYPE_IPV4);
      return frame;
    }
    return emitEthernet({ dst, src, ethertype: ETHERTYPE_IPV4, payload: pkt }, NO_PAD);
  }
  /**
   * A packet that sits in a frame of this host's own right after 14 bytes for the Ethernet
   * header (a received frame rewritten in place, or forward()'s copy), and that frame: if
   * the packet goes out unchanged in size, it goes in that frame. Used once.
   */
  private headroomPkt: Uint8Array | undefined = undefined;
  private headroomFrame: Uint8Array | undefined = undefined;

  private setHeadroom(pkt: Uint8Array, frame: Uint8Array): void {
    this.headroomPkt = pkt;
    this.headroomFrame = frame;
  }

  /** The MTU a packet to `dst` leaving by `dev` must fit: a learnt path MTU counts for locally built packets. */
  private pmtuFor(dst: Ip4, dev: Nic): number {
    const p = this.pmtu.get(dst);
    return p ? Math.min(p.mtu, dev.mtu) : dev.mtu;
  }

  /**
   * icmp_send: never about ICMP errors, fragments after the first, broadcasts or multicasts;
   * rate limited per destination for error types (icmp_ratelimit, burst 6).
   */
  icmpSend(orig: Uint8Array, type: number, code: number, rest: number, inNic: Nic | undefined): void {
    const osrc = ip4Src(orig);
    const odst = ip4Dst(orig);
    if (ip4IsFragment(orig) && ((orig[6]! & 0x1f) | orig[7]!) !== 0) return;
    if (osrc === 0 || this.isBroadcastAddr(odst) || isMulticastIp4(odst) || isMulticastIp4(osrc)) return;
    if (ip4Proto(orig) === IPPROTO_ICMP) {
      const hl = ip4HeaderLen(orig);
      if (orig.length > hl && icmpIsError(orig[hl]!) ) return;
    }
    // icmpv4_mask_allow / icmpv4_xrlim_allow: PMTU discovery is never rate limited.
    const pmtuMsg = type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED;
    if (type !== ICMP_REDIRECT && !pmtuMsg && !this.icmpRateOk(osrc)) {
      this.drop("ICMP error suppressed by icmp_ratelimit", orig);
      return;
    }
    const src = this.isLocalAddr(odst) ? odst : this.routeOutput(osrc)?.src ?? (inNic ? this.selectAddr(inNic, osrc) : undefined);
    if (src === undefined) return;
    const msg = icmpError(type, code, orig, rest);
    const tos = ((orig[1]! & 0x1e) | 0xc0) & 0xff;
    this.note("icmp", pmtuMsg
      ? `ICMP fragmentation needed (mtu ${rest & 0xffff}) from ${formatIp4(src)} to ${formatIp4(osrc)}`
      : `ICMP type ${type} code ${code} to ${formatIp4(osrc)}`);
    // icmp_out_count runs as the message is built, before the OUTPUT hook may drop it.
    this.countIcmp(false, type);
    this.ipOutput(src, osrc, IPPROTO_ICMP, msg, { tos, id: this.rng.below(65536) });
  }

  private countIcmp(incoming: boolean, type: number): void {
    const st = this.icmpStats;
    if (incoming) {
      st.InMsgs++;
      if (type === ICMP_DEST_UNREACH) st.InDestUnreachs++;
      st.inType.set(type, (st.inType.get(type) ?? 0) + 1);
    } else {
      st.OutMsgs++;
      if (type === ICMP_DEST_UNREACH) st.OutDestUnreachs++;
      st.outType.set(type, (st.outType.get(type) ?? 0) + 1);
    }
  }

  private icmpRateOk(dst: Ip4): boolean {
    if (this.isLocalAddr(dst)) return true;
    const timeout = this.sysctl.getInt("net.ipv4.icmp_ratelimit", 1000) * 1000;
    if (timeout === 0) return true;
    const now = this.world.now();
    let p = this.icmpPeers.get(dst);
    if (!p) {
      p = { tokens: 0, last: now - 60_000_000 };
      this.icmpPeers.set(dst, p);
    }
    let token = p.tokens + (now - p.last);
    p.last = now;
    if (token > 6 * timeout) token = 6 * timeout;
    let ok = false;
    if (token >= timeout) {
      token -= timeout;
      ok = true;
    }
    p.tokens = token;
    return ok;
  }

  // ---------------------------------------------------------------- UDP sending (apps)

  udpSend(src: Ip4 | undefined, sport: number, dst: Ip4, dport: number, payload: Uint8Array): boolean {
    const rt = this.routeOutput(dst);
    if (!rt) return false;
    const s = src ?? rt.src;
    const l4 = new Uint8Array(8 + payload.length);
    l4[0] = sport >> 8; l4[1] = sport & 255; l4[2] = dport >> 8; l4[3] = dport & 255;
    l4[4] = l4.length >> 8; l4[5] = l4.length & 255;
    l4.set(payload, 8);
    // Checksum over the pseudo header.
    let sum = (s >>> 16) + (s & 0xffff) + (dst >>> 16) + (dst & 0xffff) + IPPROTO_UDP + l4.length;
    for (let i = 0; i < l4.length; i += 2) sum += (l4[i]! << 8) | (l4[i + 1] ?? 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff || 0xffff;
    l4[6] = c >> 8; l4[7] = c & 255;
    return this.ipOutput(s, dst, IPPROTO_UDP, l4, { df: true });
  }

  // ---------------------------------------------------------------- processes

  /** Run a command line (argv) as a process on this host; resolves to its exit status. */
  async exec(argv: string[], io: ToolIo, opts: ProcessOptions = {}): Promise<number | "not-found"> {
    const name = argv[0] ?? "";
    const base = name.includes("/") ? name.slice(name.lastIndexOf("/") + 1) : name;
    const tool = this.tools.get(name) ?? this.tools.get(base);
    if (!tool) return "not-found";
    const ctx = this.makeContext(argv, io, opts);
    return tool(ctx);
  }

  makeContext(argv: readonly string[], io: ToolIo, opts: ProcessOptions = {}): ToolContext {
    const world = this.world;
    let interrupted = false;
    const intr = (opts.interrupt ?? new Promise<"SIGINT" | "SIGTERM">(() => undefined)).then((s) => {
      interrupted = true;
      return s;
    });
    const env = opts.env ?? new Map([...this.env]);
    const host = this;
    const ctx: ToolContext = {
      argv,
      io,
      env,
      host: this,
      now: () => world.now(),
      epochMicros: (t) => world.epochUs + t,
      sleep: (us) =>
        new Promise<void>((resolve) => {
          world.queue.after(us, () => {
            resolve();
            world.wake();
          });
        }),
      interrupted: intr,
      isInterrupted: () => interrupted,
      run: async (av: string[], io2: ToolIo, env2?: Map<string, string>) => {
        const r = await host.exec(av, io2, { env: env2 ?? env, interrupt: opts.interrupt });
        if (r === "not-found") {
          const { commandNotFound } = await import("../tools/sh/runner.js");
          return commandNotFound(io2);
        }
        return r;
      },
    };
    return ctx;
  }

  /** Read a file of this host as text (undefined when missing). */
  readText(path: string): string | undefined {
    const r = this.fs.read(path);
    return typeof r === "string" ? undefined : bytesText(r);
  }
}

const NO_PAD = { pad: false } as const;

function packetInfo(pkt: Uint8Array, inIf: string, outIf: string): PacketInfo {
  const proto = ip4Proto(pkt);
  const hl = ip4HeaderLen(pkt);
  const ports = (proto === IPPROTO_TCP || proto === IPPROTO_UDP) && pkt.length >= hl + 4;
  return {
    proto,
    src: ip4Src(pkt),
    dst: ip4Dst(pkt),
    sport: ports ? (pkt[hl]! << 8) | pkt[hl + 1]! : 0,
    dport: ports ? (pkt[hl + 2]! << 8) | pkt[hl + 3]! : 0,
    tcpFlags: proto === IPPROTO_TCP && pkt.length >= hl + 14 && !ip4IsFragment(pkt) ? pkt[hl + 13]! : -1,
    inIf,
    outIf,
    length: pkt.length,
  };
}

function parseToSource(s: string | undefined): Ip4 | undefined {
  if (!s) return undefined;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)/.exec(s);
  if (!m) return undefined;
  return ((+m[1]! << 24) | (+m[2]! << 16) | (+m[3]! << 8) | +m[4]!) >>> 0;
}

/** A Map that reports every change (so caches derived from it can be dropped). */
class WatchedMap<K, V> extends Map<K, V> {
  constructor(private readonly changed: () => void) {
    super();
  }

  override set(k: K, v: V): this {
    super.set(k, v);
    this.changed();
    return this;
  }

  override delete(k: K): boolean {
    const r = super.delete(k);
    this.changed();
    return r;
  }

  override clear(): void {
    super.clear();
    this.changed();
  }
}

/**
 * validate_gue_flags (include/net/gue.h): the only flag is PRIV (0x0001), whose 4-byte private
 * flags may only say REMCSUM (bit 31, with its 4 bytes); all of it within the header's options.
 */
function gueFlagsValid(gue: Uint8Array, optlen: number): boolean {
  const flags = (gue[2]! << 8) | gue[3]!;
  if (flags & ~0x0001) return false;
  if (!(flags & 1)) return true;
  if (optlen < 4) return false;
  const pflags = ((gue[4]! << 24) | (gue[5]! << 16) | (gue[6]! << 8) | gue[7]!) >>> 0;
  if (pflags & ~0x80000000) return false;
  return 4 + (pflags ? 4 : 0) <= optlen;
}
