/**
 * An in-memory IpvsControl for the ipvsadm tests: services and dests with the kernel's
 * errnos for the common failures (ip_vs_ctl.c), and a log of every call so tests can prove
 * that a rejected command never reached the control plane. Not an engine: no packets.
 */
import type {
  ConnEntry,
  DaemonInfo,
  DestEntry,
  DestSpec,
  IpvsControl,
  IpvsErrno,
  Rates,
  ServiceEntry,
  ServiceKey,
  ServiceSpec,
  Stats,
  Timeouts,
} from "../../ipvs/api.js";
import type { ToolContext } from "../types.js";

export const ALL_SCHEDULERS = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"];

const zeroStats = (): Stats => ({ conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 });
const zeroRates = (): Rates => ({ cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 });

type MutDest = { -readonly [K in keyof DestEntry]: DestEntry[K] };
interface Svc {
  spec: ServiceSpec;
  dests: MutDest[];
  stats: Stats;
  rates: Rates;
}

function sameKey(a: ServiceKey, b: ServiceKey): boolean {
  if (a.fwmark || b.fwmark) return a.fwmark === b.fwmark;
  return a.protocol === b.protocol && a.addr === b.addr && a.port === b.port;
}

/** Non-unicast addresses the kernel refuses for real servers (inet_addr_type != UNICAST). */
function notUnicast(a: number): boolean {
  return a === 0 || a === 0xffffffff || a >>> 28 === 0xe || a >>> 28 === 0xf;
}

export class FakeControl implements IpvsControl {
  readonly calls: string[] = [];
  /** Scheduler modules that load. */
  schedulers: string[] = ALL_SCHEDULERS;
  svcs: Svc[] = [];
  connList: ConnEntry[] = [];
  timeouts: Timeouts = { tcp: 900, tcpfin: 120, udp: 300 };
  daemonList: DaemonInfo[] = [];
  version = "1.2.1";
  connTabSize = 4096;

  private find(key: ServiceKey): Svc | undefined {
    return this.svcs.find((s) => sameKey(s.spec.key, key));
  }

  info() {
    return { version: this.version, connTabSize: this.connTabSize };
  }
  addService(spec: ServiceSpec): IpvsErrno | undefined {
    this.calls.push(`addService ${JSON.stringify(spec)}`);
    if (!this.schedulers.includes(spec.scheduler)) return "ENOENT";
    if (spec.pe && spec.pe !== "sip") return "ENOENT";
    if (this.find(spec.key)) return "EEXIST";
    this.svcs.push({ spec, dests: [], stats: zeroStats(), rates: zeroRates() });
    return undefined;
  }
  editService(spec: ServiceSpec): IpvsErrno | undefined {
    this.calls.push(`editService ${JSON.stringify(spec)}`);
    const s = this.find(spec.key);
    if (!s) return "ESRCH";
    if (!this.schedulers.includes(spec.scheduler)) return "ENOENT";
    if (spec.pe && spec.pe !== "sip") return "ENOENT";
    s.spec = spec;
    return undefined;
  }
  delService(key: ServiceKey): IpvsErrno | undefined {
    this.calls.push(`delService ${JSON.stringify(key)}`);
    const s = this.find(key);
    if (!s) return "ESRCH";
    this.svcs = this.svcs.filter((x) => x !== s);
    return undefined;
  }
  flush(): void {
    this.calls.push("flush");
    this.svcs = [];
  }
  private checkDest(d: DestSpec): IpvsErrno | undefined {
    if (d.weight < 0) return "ERANGE";
    if (d.lThreshold > d.uThreshold) return "ERANGE";
    if (d.tunType === "gue" && d.tunPort === 0) return "EINVAL";
    return undefined;
  }
  addDest(key: ServiceKey, d: DestSpec): IpvsErrno | undefined {
    this.calls.push(`addDest ${JSON.stringify(key)} ${JSON.stringify(d)}`);
    const s = this.find(key);
    if (!s) return "ESRCH";
    const e = this.checkDest(d);
    if (e) return e;
    if (s.dests.some((x) => x.addr === d.addr && x.port === d.port)) return "EEXIST";
    if (notUnicast(d.addr)) return "EINVAL"; // ip_vs_new_dest
    // the kernel adds at the head of the list
    s.dests.unshift({ ...d, activeConns: 0, inactConns: 0, persistConns: 0, stats: zeroStats(), rates: zeroRates() });
    return undefined;
  }
  editDest(key: ServiceKey, d: DestSpec): IpvsErrno | undefined {
    this.calls.push(`editDest ${JSON.stringify(key)} ${JSON.stringify(d)}`);
    const s = this.find(key);
    if (!s) return "ESRCH";
    const e = this.checkDest(d);
    if (e) return e;
    const x = s.dests.find((x) => x.addr === d.addr && x.port === d.port);
    if (!x) return "ENOENT";
    Object.assign(x, d);
    return undefined;
  }
  delDest(key: ServiceKey, addr: number, port: number): IpvsErrno | undefined {
    this.calls.push(`delDest ${JSON.stringify(key)} ${addr} ${port}`);
    const s = this.find(key);
    if (!s) return "ESRCH";
    const i = s.dests.findIndex((x) => x.addr === addr && x.port === port);
    if (i < 0) return "ENOENT";
    s.dests.splice(i, 1);
    return undefined;
  }
  zero(key?: ServiceKey): IpvsErrno | undefined {
    this.calls.push(`zero ${JSON.stringify(key ?? null)}`);
    const list = key ? [this.find(key)] : this.svcs;
    if (list[0] === undefined && key) return "ESRCH";
    for (const s of list) {
      if (!s) continue;
      s.stats = zeroStats();
      for (const d of s.dests) d.stats = zeroStats();
    }
    return undefined;
  }
  setTimeouts(t: Timeouts): IpvsErrno | undefined {
    this.calls.push(`setTimeouts ${JSON.stringify(t)}`);
    // 0 keeps the current value (ip_vs_set_timeout)
    if (t.tcp) this.timeouts.tcp = t.tcp;
    if (t.tcpfin) this.timeouts.tcpfin = t.tcpfin;
    if (t.udp) this.timeouts.udp = t.udp;
    return undefined;
  }
  getTimeouts(): Timeouts {
    return { ...this.timeouts };
  }
  services(): ServiceEntry[] {
    return this.svcs.map((s) => ({ ...s.spec, dests: s.dests.map((d) => ({ ...d })), stats: s.stats, rates: s.rates }));
  }
  service(key: ServiceKey): ServiceEntry | undefined {
    return this.services().find((s) => sameKey(s.key, key));
  }
  conns(): ConnEntry[] {
    return this.connList;
  }
  totals() {
    return { stats: zeroStats(), rates: zeroRates() };
  }
  startDaemon(d: DaemonInfo): IpvsErrno | undefined {
    this.calls.push(`startDaemon ${JSON.stringify(d)}`);
    if (this.daemonList.some((x) => x.state === d.state)) return "EEXIST";
    this.daemonList.push({
      ...d,
      maxLen: d.maxLen || 1472,
      group: d.group || 0xe0000051,
      port: d.port || 8848,
      ttl: d.ttl || 1,
    });
    return undefined;
  }
  stopDaemon(state: "master" | "backup"): IpvsErrno | undefined {
    this.calls.push(`stopDaemon ${state}`);
    if (!this.daemonList.some((x) => x.state === state)) return "ESRCH";
    this.daemonList = this.daemonList.filter((x) => x.state !== state);
    return undefined;
  }
  daemons(): DaemonInfo[] {
    return this.daemonList;
  }
  getSysctl(): string | undefined {
    return undefined;
  }
  setSysctl(): IpvsErrno | undefined {
    return "EINVAL";
  }
  sysctlNames(): string[] {
    return [];
  }
}

/** A ToolContext good enough for ipvsadm: captured stdout/stderr, optional stdin. */
export function fakeCtx(argv: readonly string[], stdin?: string) {
  let out = "";
  let err = "";
  const never = new Promise<"SIGINT" | "SIGTERM">(() => {});
  const ctx = {
    argv,
    io: { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s), stdin },
    env: new Map<string, string>(),
    host: { name: "vip", fs: undefined, capture: undefined },
    now: () => 0,
    epochMicros: (t: number) => t,
    sleep: async () => {},
    interrupted: never,
    isInterrupted: () => false,
  } as unknown as ToolContext;
  return { ctx, out: () => out, err: () => err };
}
