/**
 * ipvsadm 1.31's output formats as pure functions: the `-L` listings (default, `--stats`,
 * `--rate`, `--thresholds`, `--persistent-conn`, `--tun-info`, `--exact`), `-L -c`,
 * `--timeout`, `--daemon` and `-S` rules. Each returns the exact text, trailing spaces and
 * all (the dest columns are left-justified, so dest lines end in padding).
 *
 * Sorting mirrors libipvs: services by fwmark, protocol, address, port and dests by address,
 * port, each comparison being `(int)(a - b)` on unsigned values, so addresses more than 2^31
 * apart compare the "wrong" way. glibc's qsort is a merge sort, reproduced here so that even
 * the non-transitive comparator orders exactly as on Linux.
 */
import {
  FwdMethod,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SVC_F_ONEPACKET,
  SVC_F_PERSISTENT,
  SVC_F_SCHED1,
  SVC_F_SCHED2,
  SVC_F_SCHED3,
  type ConnEntry,
  type DaemonInfo,
  type DestEntry,
  type Ip4,
  type ServiceEntry,
  type Timeouts,
} from "../../ipvs/api.js";
import { formatIp4, type NameResolver, type ServiceProto } from "./resolver.js";

/** The FMT_* flags of ipvsadm. */
export interface ListFormat {
  numeric?: boolean;
  stats?: boolean;
  rate?: boolean;
  thresholds?: boolean;
  persistentConn?: boolean;
  nosort?: boolean;
  exact?: boolean;
  tunInfo?: boolean;
  /** `-S` rules instead of a listing. */
  rule?: boolean;
  /** For `-S`: a service's FullNAT local addresses, saved as `--add-laddr ... -z ADDR` (lvslab extension). */
  laddrs?: (se: ServiceEntry) => readonly Ip4[];
}

/** DestSpec.tunFlags bits as the control API numbers them. */
export const TUN_F_NOCSUM = 1;
export const TUN_F_CSUM = 2;
export const TUN_F_REMCSUM = 4;

// --- small printf helpers ----------------------------------------------------------------

const padL = (s: string, w: number): string => (s.length >= w ? s : s + " ".repeat(w - s.length));
const padR = (s: string, w: number): string => (s.length >= w ? s : " ".repeat(w - s.length) + s);
const u = (n: number): string => String(Math.max(0, Math.trunc(n)));

// --- sorting -----------------------------------------------------------------------------

/** glibc msort: top-down, n1 = n/2, stable, taking the left element when cmp <= 0. */
export function glibcSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const b = items.slice();
  const tmp: T[] = new Array<T>(b.length);
  const rec = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = n >>> 1;
    const n2 = n - n1;
    rec(lo, n1);
    rec(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    const iEnd = lo + n1;
    const jEnd = lo + n;
    let k = 0;
    while (i < iEnd && j < jEnd) tmp[k++] = cmp(b[i]!, b[j]!) <= 0 ? b[i++]! : b[j++]!;
    while (i < iEnd) tmp[k++] = b[i++]!;
    // the rest of the right run is already in place
    for (let m = 0; m < k; m++) b[lo + m] = tmp[m]!;
  };
  rec(0, b.length);
  return b;
}

/** `(int)(a - b)` for two u32 values. */
const cmpU32 = (a: number, b: number): number => ((a >>> 0) - (b >>> 0)) | 0;

/** The service's protocol; fwmark services carry TCP (what ipvsadm sends for `-f`). */
export function serviceProtocol(s: ServiceEntry): number {
  return s.key.protocol ?? IPPROTO_TCP;
}

/** libipvs ipvs_cmp_services (IPv4 only: the address family never differs). */
export function cmpServices(a: ServiceEntry, b: ServiceEntry): number {
  let r = cmpU32(a.key.fwmark, b.key.fwmark);
  if (r) return r;
  r = serviceProtocol(a) - serviceProtocol(b);
  if (r) return r;
  r = cmpU32(a.key.addr ?? 0, b.key.addr ?? 0);
  if (r) return r;
  return (a.key.port ?? 0) - (b.key.port ?? 0);
}

/** libipvs ipvs_cmp_dests. */
export function cmpDests(a: DestEntry, b: DestEntry): number {
  const r = cmpU32(a.addr, b.addr);
  if (r) return r;
  return a.port - b.port;
}

export function sortServices(s: readonly ServiceEntry[]): ServiceEntry[] {
  return glibcSort(s, cmpServices);
}

export function sortDests(d: readonly DestEntry[]): DestEntry[] {
  return glibcSort(d, cmpDests);
}

// --- numbers and names -------------------------------------------------------------------

/** print_largenum: 9 columns, K/M/G/T scaled unless exact. */
export function largenum(n: number, exact = false): string {
  const i = Math.max(0, Math.trunc(n));
  if (exact) {
    const s = String(i);
    return padR(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (i < 1e8) return padR(String(i), 9);
  if (i < 1e9) return padR(String(Math.floor(i / 1e3)), 8) + "K";
  if (i < 1e11) return padR(String(Math.floor(i / 1e6)), 8) + "M";
  if (i < 1e14) return padR(String(Math.floor(i / 1e9)), 8) + "G";
  return padR(String(Math.floor(i / 1e12)), 8) + "T";
}

export function protoServiceName(proto: number): ServiceProto | undefined {
  return proto === IPPROTO_TCP ? "tcp" : proto === IPPROTO_UDP ? "udp" : proto === IPPROTO_SCTP ? "sctp" : undefined;
}

/** addrport_to_anyname: `addr:port` numeric, or resolved names; libipvs buffer of 60 bytes. */
export function addrPortName(
  addr: number,
  port: number,
  proto: number,
  numeric: boolean | undefined,
  resolver: NameResolver,
): string {
  let s: string;
  if (numeric) {
    s = `${formatIp4(addr)}:${port}`;
  } else {
    const host = resolver.hostByAddr(addr) ?? formatIp4(addr);
    const p = protoServiceName(proto);
    const serv = (p && resolver.serviceByPort(port, p)) ?? String(port);
    s = `${host}:${serv}`;
  }
  return s.slice(0, 59);
}

export function fwdName(fwd: FwdMethod): string {
  switch (fwd) {
    case FwdMethod.Masq:
      return "Masq";
    case FwdMethod.Local:
      return "Local";
    case FwdMethod.Tunnel:
      return "Tunnel";
    case FwdMethod.Route:
      return "Route";
    case FwdMethod.FullNat:
      return "FullNat"; // lvslab extension (not in ipvsadm 1.31)
    default:
      return "(null)";
  }
}

function fwdSwitch(fwd: FwdMethod): string {
  switch (fwd) {
    case FwdMethod.Masq:
      return "-m";
    case FwdMethod.Tunnel:
      return "-i";
    case FwdMethod.Local:
    case FwdMethod.Route:
      return "-g";
    case FwdMethod.FullNat:
      return "--fullnat"; // lvslab extension (Alibaba's and DPVS's -b is 1.31's --sched-flags)
    default:
      return "(null)";
  }
}

/** Index into ipvsadm's tunflags[] / tun_flags_opts[] (nocsum, csum, remcsum). */
function tunFlagIndex(flags: number): 0 | 1 | 2 {
  if (flags & TUN_F_REMCSUM) return 2;
  if (flags & TUN_F_CSUM) return 1;
  return 0;
}
const TUN_FLAG_SHORT = ["-c", "+c", "r+c"] as const;
const TUN_FLAG_OPT = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"] as const;

/** fwd_tun_info: the TunnelInfo column (snprintf into 16 bytes). */
export function tunInfo(d: DestEntry): string {
  if (d.fwd !== FwdMethod.Tunnel) return "n/a";
  let s: string;
  switch (d.tunType) {
    case "ipip":
      s = "ipip";
      break;
    case "gue":
      s = `gue:${d.tunPort}:${TUN_FLAG_SHORT[tunFlagIndex(d.tunFlags)]}`;
      break;
    case "gre":
      s = `gre:${TUN_FLAG_SHORT[tunFlagIndex(d.tunFlags)]}`;
      break;
    default:
      return "n/a";
  }
  return s.slice(0, 15);
}

/** print_sched_flags: names depend on the scheduler. */
export function schedFlagsText(sched: string, flags: number): string {
  const out: string[] = [];
  if (sched === "sh" || sched === "mh") {
    if (flags & SVC_F_SCHED1) out.push(`${sched}-fallback`);
    if (flags & SVC_F_SCHED2) out.push(`${sched}-port`);
  } else {
    if (flags & SVC_F_SCHED1) out.push("flag-1");
    if (flags & SVC_F_SCHED2) out.push("flag-2");
    if (flags & SVC_F_SCHED3) out.push("flag-3");
  }
  return out.join(",");
}

const SCHED_BITS = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3;

// --- listings ------------------------------------------------------------------------------

/** print_title. Empty for rules. */
export function formatTitle(f: ListFormat): string {
  const p = "Prot LocalAddress:Port";
  const second = "  -> RemoteAddress:Port\n";
  if (f.stats)
    return `${padL(p, 33)} ${["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"].map((s) => padR(s, 8)).join(" ")}\n${second}`;
  if (f.rate)
    return `${padL(p, 33)} ${["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"].map((s) => padR(s, 8)).join(" ")}\n${second}`;
  if (f.thresholds)
    return `${padL(p, 33)} ${["Uthreshold", "Lthreshold", "ActiveConn", "InActConn"].map((s) => padL(s, 10)).join(" ")}\n${second}`;
  if (f.persistentConn)
    return `${padL(p, 33)} ${padL("Weight", 9)} ${padL("PersistConn", 11)} ${padL("ActiveConn", 10)} ${padL("InActConn", 10)}\n${second}`;
  if (f.tunInfo)
    return "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n";
  if (f.rule) return "";
  return "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
}

/** The service's name as a listing or a rule shows it. */
function serviceLabel(se: ServiceEntry, f: ListFormat, resolver: NameResolver): string {
  const k = se.key;
  if (k.fwmark) return f.rule ? `-f ${k.fwmark >>> 0}` : `FWM  ${k.fwmark >>> 0}`;
  const proto = serviceProtocol(se);
  const vname = addrPortName(k.addr ?? 0, k.port ?? 0, proto, f.numeric, resolver);
  if (f.rule) {
    const opt = proto === IPPROTO_TCP ? "-t" : proto === IPPROTO_UDP ? "-u" : proto === IPPROTO_SCTP ? "--sctp-service" : "--xxx-service";
    return `${opt} ${vname}`;
  }
  const pname = proto === IPPROTO_TCP ? "TCP" : proto === IPPROTO_UDP ? "UDP" : proto === IPPROTO_SCTP ? "SCTP" : "?";
  return `${padL(pname, 4)} ${vname}`.slice(0, 33);
}

/** print_service_entry: the service line and its dests. */
export function formatService(se: ServiceEntry, f: ListFormat, resolver: NameResolver): string {
  const svc = serviceLabel(se, f, resolver);
  const ex = !!f.exact;
  let out: string;
  if (f.rule) {
    out = `-A ${svc} -s ${se.scheduler}`;
    if (se.flags & SVC_F_PERSISTENT) {
      out += ` -p ${u(se.timeout)}`;
      if (se.netmask >>> 0 !== 0xffffffff) out += ` -M ${formatIp4(se.netmask >>> 0)}`;
    }
    if (se.pe) out += ` --pe ${se.pe}`;
    if (se.flags & SVC_F_ONEPACKET) out += " -o";
    if (se.flags & SCHED_BITS) out += ` -b ${schedFlagsText(se.scheduler, se.flags)}`;
    if (se.proxyProtocol) out += ` --proxy-protocol v${se.proxyProtocol}`; // lvslab extension (DPVS)
  } else if (f.stats) {
    const s = se.stats;
    out = padL(svc, 33) + [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes].map((n) => largenum(n, ex)).join("");
  } else if (f.rate) {
    const r = se.rates;
    out = padL(svc, 33) + [r.cps, r.inpps, r.outpps, r.inbps, r.outbps].map((n) => largenum(n, ex)).join("");
  } else {
    out = `${svc} ${se.scheduler}`;
    if (se.flags & SCHED_BITS) out += ` (${schedFlagsText(se.scheduler, se.flags)})`;
    if (se.flags & SVC_F_PERSISTENT) {
      out += ` persistent ${u(se.timeout)}`;
      if (se.netmask >>> 0 !== 0xffffffff) out += ` mask ${formatIp4(se.netmask >>> 0)}`;
      if (se.pe) out += ` pe ${se.pe}`;
    }
    if (se.flags & SVC_F_ONEPACKET) out += " ops";
    if (se.proxyProtocol) out += ` ppv${se.proxyProtocol}`; // DPVS's listing of --proxy-protocol
  }
  out += "\n";

  const proto = serviceProtocol(se);
  const dests = f.nosort ? se.dests : sortDests(se.dests);
  for (const d of dests) {
    let dname = addrPortName(d.addr, d.port, proto, f.numeric, resolver);
    if (!f.rule) dname = dname.slice(0, 28);
    if (f.rule) {
      const head = `-a ${svc} -r ${dname} ${fwdSwitch(d.fwd)} -w ${d.weight}`;
      if (d.fwd === FwdMethod.Tunnel) {
        const opt = TUN_FLAG_OPT[tunFlagIndex(d.tunFlags)];
        if (d.tunType === "gre") out += `${head} --tun-type gre ${opt}\n`;
        else if (d.tunType === "gue") out += `${head} --tun-type gue --tun-port ${d.tunPort} ${opt}\n`;
        else out += `${head} --tun-type ipip\n`;
      } else {
        out += `${head}\n`;
      }
    } else if (f.stats) {
      const s = d.stats;
      out += `  -> ${padL(dname, 28)}${[s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes].map((n) => largenum(n, ex)).join("")}\n`;
    } else if (f.rate) {
      const r = d.rates;
      out += `  -> ${padL(dname, 28)} ${padR(u(r.cps), 8)} ${padR(u(r.inpps), 8)} ${padR(u(r.outpps), 8)}${largenum(r.inbps, ex)}${largenum(r.outbps, ex)}\n`;
    } else if (f.thresholds) {
      out += `  -> ${padL(dname, 28)} ${[d.uThreshold, d.lThreshold, d.activeConns, d.inactConns].map((n) => padL(u(n), 10)).join(" ")}\n`;
    } else if (f.persistentConn) {
      out += `  -> ${padL(dname, 28)} ${padL(String(d.weight), 9)} ${padL(u(d.persistConns), 11)} ${padL(u(d.activeConns), 10)} ${padL(u(d.inactConns), 10)}\n`;
    } else if (f.tunInfo) {
      out += `  -> ${padL(dname, 28)} ${padL(fwdName(d.fwd), 7)} ${padL(tunInfo(d), 13)} ${padL(String(d.weight), 6)} ${padL(u(d.activeConns), 10)} ${padL(u(d.inactConns), 10)}\n`;
    } else {
      out += `  -> ${padL(dname, 28)} ${padL(fwdName(d.fwd), 7)} ${padL(String(d.weight), 6)} ${padL(u(d.activeConns), 10)} ${padL(u(d.inactConns), 10)}\n`;
    }
  }
  if (f.rule && f.laddrs) for (const a of f.laddrs(se)) out += `--add-laddr ${svc} -z ${formatIp4(a)}\n`;
  return out;
}

export interface IpvsInfo {
  version: string;
  connTabSize: number;
}

/** list_all: version line (not for rules), title, every service in sorted order. */
export function formatListAll(
  info: IpvsInfo,
  services: readonly ServiceEntry[],
  f: ListFormat,
  resolver: NameResolver,
): string {
  let out = f.rule ? "" : `IP Virtual Server version ${info.version} (size=${info.connTabSize})\n`;
  out += formatTitle(f);
  for (const s of f.nosort ? services : sortServices(services)) out += formatService(s, f, resolver);
  return out;
}

/** list_service: `-L -t VIP:port` — title and that service, no version line. */
export function formatListService(se: ServiceEntry, f: ListFormat, resolver: NameResolver): string {
  return formatTitle(f) + formatService(se, f, resolver);
}

/** `-S`: the rules that rebuild the table (thresholds are not saved). */
export function formatSave(services: readonly ServiceEntry[], numeric: boolean, resolver: NameResolver): string {
  return formatListAll({ version: "", connTabSize: 0 }, services, { rule: true, numeric }, resolver);
}

function connProto(name: string): number {
  return name === "TCP" ? IPPROTO_TCP : name === "UDP" ? IPPROTO_UDP : name === "SCTP" ? IPPROTO_SCTP : 0;
}

/** `-L -c [--persistent-conn]`: /proc/net/ip_vs_conn rows in kernel order. */
export function formatConns(
  conns: readonly ConnEntry[],
  f: { numeric?: boolean; persistentConn?: boolean },
  resolver: NameResolver,
): string {
  let out = "IPVS connection entries\n";
  out += f.persistentConn
    ? `pro expire ${padL("state", 11)} ${padL("source", 18)} ${padL("virtual", 18)} ${padL("destination", 18)} ${padL("pe name", 16)} pe_data\n`
    : `pro expire ${padL("state", 11)} ${padL("source", 18)} ${padL("virtual", 18)} destination\n`;
  for (const c of conns) {
    const proto = connProto(c.protocolName);
    const cname = addrPortName(c.caddr, c.cport, proto, f.numeric, resolver);
    const vname = addrPortName(c.vaddr, c.vport, proto, f.numeric, resolver);
    const dname = addrPortName(c.daddr, c.dport, proto, f.numeric, resolver);
    const exp = Math.max(0, Math.trunc(c.expiresSec));
    const expire = `${String(Math.floor(exp / 60)).padStart(2, "0")}:${String(exp % 60).padStart(2, "0")}`;
    // ipvsadm re-reads the /proc line with sscanf("%s"): each field is one word.
    const word = (s: string): string => s.trim().split(/\s+/)[0] ?? "";
    const pe = word(c.peName);
    const pd = word(c.peData);
    const head = `${padL(c.protocolName, 3)} ${padL(expire, 6)} ${padL(word(c.state), 11)} ${padL(cname, 18)} ${padL(vname, 18)}`;
    out += f.persistentConn && pe && pd ? `${head} ${padL(dname, 16)} ${padL(pe, 18)} ${pd}\n` : `${head} ${dname}\n`;
  }
  return out;
}

/** `-L --timeout`. */
export function formatTimeout(t: Timeouts): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}\n`;
}

/** `-L --daemon`: master first, then backup; zero fields are not shown. */
export function formatDaemons(ds: readonly DaemonInfo[]): string {
  let out = "";
  for (const state of ["master", "backup"] as const) {
    const d = ds.find((x) => x.state === state);
    if (!d) continue;
    out += `${state} sync daemon (mcast=${d.mcastIfn}, syncid=${d.syncId}`;
    if (d.maxLen) out += `, maxlen=${d.maxLen}`;
    if (d.group) out += `, group=${formatIp4(d.group >>> 0)}`;
    if (d.port) out += `, port=${d.port}`;
    if (d.ttl) out += `, ttl=${d.ttl}`;
    out += ")\n";
  }
  return out;
}
