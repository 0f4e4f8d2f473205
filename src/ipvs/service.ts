/**
 * Virtual services and their destinations (net/netfilter/ipvs/ip_vs_ctl.c). A service
 * keeps its dests newest first (a new or resurrected dest goes to the head; edits do not
 * move it), which is the order every scheduler walks. A deleted dest goes to the trash:
 * connections still point at it (their packets are dropped), and re-adding the same
 * addr:port to the same service key resurrects it with its counters.
 */
import type { DestEntry, DestSpec, Ip4, ServiceEntry, ServiceKey, TunType } from "./api.js";
import { FwdMethod, SVC_F_HASHED } from "./api.js";
import { CONN_F_INACTIVE, CONN_F_MASQ, CONN_F_NOOUTPUT } from "./conn.js";
import { StatsBlock } from "./est.js";
import type { Scheduler } from "./sched/index.js";

export const DEST_F_AVAILABLE = 0x1;
export const DEST_F_OVERLOAD = 0x2;

export class Dest {
  /** Index in the engine's dest registry (what connection rows store). */
  readonly id: number;
  readonly addr: Ip4;
  readonly port: number;
  fwd: FwdMethod = FwdMethod.Route;
  weight = 0;
  /** Latest non-zero weight (mh keeps a quiesced dest's share). */
  lastWeight = 0;
  uThreshold = 0;
  lThreshold = 0;
  tunType: TunType = "ipip";
  tunPort = 0;
  tunFlags = 0;
  /** Flags copied to each new connection: forwarding method | INACTIVE (| NOOUTPUT). */
  connFlags = 0;
  activeConns = 0;
  /** Non-template connections not active ([current] totalconns - activeconns). */
  inactConns = 0;
  persistConns = 0;
  /** DEST_F_AVAILABLE | DEST_F_OVERLOAD. */
  flags = DEST_F_AVAILABLE;
  svc: Service;
  readonly stats = new StatsBlock();
  /** Connection rows (and templates) bound to this dest. */
  refs = 0;
  /** When it went to the trash (µs); undefined while in a service. */
  trashedAt: number | undefined;

  constructor(id: number, svc: Service, addr: Ip4, port: number) {
    this.id = id;
    this.svc = svc;
    this.addr = addr >>> 0;
    this.port = port;
  }

  get available(): boolean {
    return (this.flags & DEST_F_AVAILABLE) !== 0;
  }

  get overloaded(): boolean {
    return (this.flags & DEST_F_OVERLOAD) !== 0;
  }

  /** totalconns: non-template connections bound to this dest. */
  get totalConns(): number {
    return this.activeConns + this.inactConns;
  }

  /** Copy a -a/-e definition in (__ip_vs_update_dest). */
  apply(spec: DestSpec): void {
    this.fwd = spec.fwd;
    let cf = (spec.fwd & 7) | CONN_F_INACTIVE;
    if ((spec.fwd & 7) !== CONN_F_MASQ) cf |= CONN_F_NOOUTPUT;
    this.connFlags = cf;
    this.weight = spec.weight;
    if (spec.weight > 0) this.lastWeight = spec.weight;
    this.tunType = spec.tunType;
    this.tunPort = spec.tunPort;
    this.tunFlags = spec.tunFlags;
    this.uThreshold = spec.uThreshold;
    this.lThreshold = spec.lThreshold;
  }

  entry(): DestEntry {
    return {
      addr: this.addr,
      port: this.port,
      fwd: this.fwd,
      weight: this.weight,
      uThreshold: this.uThreshold,
      lThreshold: this.lThreshold,
      tunType: this.tunType,
      tunPort: this.tunPort,
      tunFlags: this.tunFlags,
      activeConns: this.activeConns,
      inactConns: this.inactConns,
      persistConns: this.persistConns,
      stats: this.stats.snapshot(),
      rates: this.stats.rates(),
    };
  }
}

export class Service {
  readonly fwmark: number;
  readonly protocol: number;
  readonly addr: Ip4;
  readonly port: number;
  readonly key: ServiceKey;
  schedName: string;
  sched!: Scheduler;
  flags: number;
  /** Persistence timeout in seconds. */
  timeout: number;
  netmask: Ip4;
  pe: string;
  /** Newest first. */
  readonly dests: Dest[] = [];
  readonly stats = new StatsBlock();

  constructor(key: ServiceKey, schedName: string, flags: number, timeout: number, netmask: Ip4, pe: string) {
    this.key = key;
    this.fwmark = key.fwmark >>> 0;
    // fwmark services carry protocol TCP internally (ip_vs_add_service).
    this.protocol = this.fwmark ? (key.protocol ?? 6) : key.protocol!;
    this.addr = this.fwmark ? 0 : (key.addr! >>> 0);
    this.port = this.fwmark ? 0 : key.port!;
    this.schedName = schedName;
    this.flags = flags | SVC_F_HASHED;
    this.timeout = timeout;
    this.netmask = netmask >>> 0;
    this.pe = pe;
  }

  findDest(addr: Ip4, port: number): Dest | undefined {
    addr >>>= 0;
    for (const d of this.dests) if (d.addr === addr && d.port === port) return d;
    return undefined;
  }

  entry(): ServiceEntry {
    return {
      key: this.key,
      scheduler: this.schedName,
      flags: this.flags,
      timeout: this.timeout,
      netmask: this.netmask,
      pe: this.pe,
      dests: this.dests.map((d) => d.entry()),
      stats: this.stats.snapshot(),
      rates: this.stats.rates(),
    };
  }
}

/** ip_vs_svc_hashkey (the netns pointer term taken as 0): 256 buckets. */
export function svcHashKey(proto: number, addr: Ip4, port: number): number {
  return (proto ^ (addr >>> 0) ^ (port >>> 8) ^ port) & 0xff;
}

export function svcFwmHashKey(fwmark: number): number {
  return fwmark & 0xff;
}

/**
 * The two service tables: by (protocol, addr, port) and by fwmark, each 256 buckets with
 * new services at the bucket head, plus exact maps for the packet path.
 */
export class ServiceTable {
  private readonly tab: Service[][] = Array.from({ length: 256 }, () => []);
  private readonly fwmTab: Service[][] = Array.from({ length: 256 }, () => []);
  private readonly byTuple = new Map<number, Service[]>();
  private readonly byMark = new Map<number, Service>();
  /** Every service, in no particular order (for walks whose result does not depend on order). */
  readonly list: Service[] = [];
  count = 0;
  /** Services with port 0 / FTP port 21 exist (the kernel's nullsvc/ftpsvc counters). */
  nullCount = 0;
  ftpCount = 0;

  private static tupleKey(addr: number, port: number): number {
    return (addr >>> 0) * 65536 + port;
  }

  lookup(key: ServiceKey): Service | undefined {
    if (key.fwmark) return this.byMark.get(key.fwmark >>> 0);
    return this.find(key.protocol!, key.addr! >>> 0, key.port!);
  }

  find(proto: number, addr: number, port: number): Service | undefined {
    const l = this.byTuple.get(ServiceTable.tupleKey(addr, port));
    if (l === undefined) return undefined;
    for (let i = 0; i < l.length; i++) if (l[i]!.protocol === proto) return l[i];
    return undefined;
  }

  findMark(mark: number): Service | undefined {
    return this.byMark.get(mark >>> 0);
  }

  add(svc: Service): void {
    if (svc.fwmark) {
      this.fwmTab[svcFwmHashKey(svc.fwmark)]!.unshift(svc);
      this.byMark.set(svc.fwmark, svc);
    } else {
      this.tab[svcHashKey(svc.protocol, svc.addr, svc.port)]!.unshift(svc);
      const k = ServiceTable.tupleKey(svc.addr, svc.port);
      const l = this.byTuple.get(k);
      if (l) l.push(svc);
      else this.byTuple.set(k, [svc]);
      if (svc.port === 0) this.nullCount++;
      if (svc.port === 21) this.ftpCount++;
    }
    this.list.push(svc);
    this.count++;
  }

  remove(svc: Service): void {
    if (svc.fwmark) {
      const b = this.fwmTab[svcFwmHashKey(svc.fwmark)]!;
      b.splice(b.indexOf(svc), 1);
      this.byMark.delete(svc.fwmark);
    } else {
      const b = this.tab[svcHashKey(svc.protocol, svc.addr, svc.port)]!;
      b.splice(b.indexOf(svc), 1);
      const k = ServiceTable.tupleKey(svc.addr, svc.port);
      const l = this.byTuple.get(k)!;
      l.splice(l.indexOf(svc), 1);
      if (l.length === 0) this.byTuple.delete(k);
      if (svc.port === 0) this.nullCount--;
      if (svc.port === 21) this.ftpCount--;
    }
    this.list.splice(this.list.indexOf(svc), 1);
    this.count--;
  }

  /** Kernel listing order: the tuple table bucket by bucket, then the fwmark table. */
  all(): Service[] {
    const out: Service[] = [];
    for (const b of this.tab) out.push(...b);
    for (const b of this.fwmTab) out.push(...b);
    return out;
  }
}
