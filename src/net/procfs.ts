/**
 * /proc for a simulated host, as live providers on its file system (procfs renders each
 * read from kernel state):
 *   /proc/sys/...            the sysctl table; path segments are the dotted name's parts.
 *                            Writes go through SysctlTable.set (ENOENT: no such key,
 *                            EINVAL: malformed value), as `echo 1 > /proc/sys/...` does.
 *   /proc/net/ip_vs*         rendered by the IPVS engine (ENOENT until ip_vs is loaded).
 *   /proc/net/snmp, arp, route, dev   from the host's counters and tables (Linux 6.1 layouts).
 */
import { renderIpVs, renderIpVsConn, renderIpVsStats } from "../ipvs/index.js";
import { formatMac, prefixToMask, type Ip4 } from "../wire/index.js";
import type { ErrnoName } from "../tools/types.js";
import type { Host } from "./host.js";
import { SysctlTable } from "./sysctl.js";
import { bytesText, textBytes, type VfsProvider } from "./vfs.js";

export function mountProc(host: Host): void {
  host.fs.mount("/proc/sys", sysProvider(host));
  host.fs.mount("/proc/net", netProvider(host));
}

function sysProvider(host: Host): VfsProvider {
  const isDir = (rel: string) => rel === "" || host.sysctl.names().some((n) => n.startsWith(SysctlTable.fromPath(rel) + "."));
  return {
    read: (rel) => {
      const v = host.sysctl.get(SysctlTable.fromPath(rel));
      if (v !== undefined) return textBytes(v + "\n");
      return isDir(rel) ? "EISDIR" : "ENOENT";
    },
    write: (rel, data) => {
      if (isDir(rel)) return "EISDIR";
      return host.sysctl.set(SysctlTable.fromPath(rel), bytesText(data)) ?? true;
    },
    isDir,
    list: (rel) => {
      if (!isDir(rel)) return host.sysctl.get(SysctlTable.fromPath(rel)) !== undefined ? "ENOTDIR" : "ENOENT";
      const pre = rel === "" ? "" : SysctlTable.fromPath(rel) + ".";
      return [...new Set(host.sysctl.names().filter((n) => n.startsWith(pre)).map((n) => n.slice(pre.length).split(".")[0]!))].sort();
    },
  };
}

const NET_FILES = ["arp", "dev", "ip_vs", "ip_vs_conn", "ip_vs_stats", "route", "snmp", "toa_stats"];

function netProvider(host: Host): VfsProvider {
  const render = (rel: string): string | ErrnoName => {
    switch (rel) {
      case "ip_vs":
        return host.ipvs ? renderIpVs(host.ipvs) : "ENOENT";
      case "ip_vs_conn":
        return host.ipvs ? renderIpVsConn(host.ipvs) : "ENOENT";
      case "ip_vs_stats":
        return host.ipvs ? renderIpVsStats(host.ipvs) : "ENOENT";
      case "snmp":
        return renderSnmp(host);
      case "arp":
        return renderArp(host);
      case "route":
        return renderRoute(host);
      case "dev":
        return renderDev(host);
      case "toa_stats":
        return host.tcp.toaEnabled ? renderToaStats(host.tcp.toaStats) : "ENOENT";
      default:
        return "ENOENT";
    }
  };
  return {
    read: (rel) => {
      const r = render(rel);
      return r.startsWith("E") && !r.includes(" ") ? (r as ErrnoName) : textBytes(r);
    },
    isDir: (rel) => rel === "",
    list: (rel) => (rel === "" ? NET_FILES.filter((f) => (!f.startsWith("ip_vs") || host.ipvs) && (f !== "toa_stats" || host.tcp.toaEnabled)) : "ENOTDIR"),
  };
}

/**
 * /proc/net/toa_stats of the real server's toa module (Alibaba LVS kernel/net/toa/toa.c
 * toa_stats_show): a CPU header, then "%-25s:" and "%10lu " per online CPU (lab hosts have one).
 */
function renderToaStats(st: Readonly<Record<string, number>>): string {
  let out = " ".repeat(34) + "CPU0       \n";
  for (const [name, v] of Object.entries(st)) out += `${name.padEnd(25)}:${String(v).padStart(10)} \n`;
  return out;
}

function pair(name: string, fields: Array<[string, number]>): string {
  return `${name}: ${fields.map((f) => f[0]).join(" ")}\n${name}: ${fields.map((f) => f[1]).join(" ")}\n`;
}

/** /proc/net/snmp as Linux 6.1 prints it (IcmpMsg is left out while no type was counted). */
export function renderSnmp(host: Host): string {
  const ip = host.ip;
  const t = host.tcp.snmp();
  const z = (names: string) => names.split(" ").map((n): [string, number] => [n, 0]);
  return (
    pair("Ip", [
      ["Forwarding", host.forwarding ? 1 : 2],
      ["DefaultTTL", host.sysctl.getInt("net.ipv4.ip_default_ttl", 64)],
      ["InReceives", ip.InReceives], ["InHdrErrors", ip.InHdrErrors], ["InAddrErrors", ip.InAddrErrors],
      ["ForwDatagrams", ip.ForwDatagrams], ["InUnknownProtos", ip.InUnknownProtos], ["InDiscards", ip.InDiscards],
      ["InDelivers", ip.InDelivers], ["OutRequests", ip.OutRequests], ["OutDiscards", ip.OutDiscards],
      ["OutNoRoutes", ip.OutNoRoutes],
      ["ReasmTimeout", ip.ReasmTimeout], ["ReasmReqds", ip.ReasmReqds], ["ReasmOKs", ip.ReasmOKs],
      ["ReasmFails", ip.ReasmFails], ["FragOKs", ip.FragOKs], ["FragFails", ip.FragFails], ["FragCreates", ip.FragCreates],
    ]) +
    pair("Icmp", z(
      "InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps " +
      "InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutDestUnreachs OutTimeExcds OutParmProbs " +
      "OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps",
    ).map(([n]): [string, number] => [n, icmpCounter(host, n)])) +
    icmpMsg(host) +
    pair("Tcp", [
      ["RtoAlgorithm", t.RtoAlgorithm], ["RtoMin", t.RtoMin], ["RtoMax", t.RtoMax], ["MaxConn", t.MaxConn],
      ["ActiveOpens", t.ActiveOpens], ["PassiveOpens", t.PassiveOpens], ["AttemptFails", t.AttemptFails],
      ["EstabResets", t.EstabResets], ["CurrEstab", t.CurrEstab], ["InSegs", t.InSegs], ["OutSegs", t.OutSegs],
      ["RetransSegs", t.RetransSegs], ["InErrs", t.InErrs], ["OutRsts", t.OutRsts], ["InCsumErrors", t.InCsumErrors],
    ]) +
    pair("Udp", z("InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors")) +
    pair("UdpLite", z("InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors"))
  );
}

/** The Icmp: counters lvslab keeps (destination unreachable, both ways); the rest stay 0. */
function icmpCounter(host: Host, name: string): number {
  const st = host.icmpStats;
  switch (name) {
    case "InMsgs": return st.InMsgs;
    case "InDestUnreachs": return st.InDestUnreachs;
    case "OutMsgs": return st.OutMsgs;
    case "OutDestUnreachs": return st.OutDestUnreachs;
    default: return 0;
  }
}

/** icmpmsg_put: "InTypeN" for every type received, then "OutTypeN" for every type sent, 16 a line. */
function icmpMsg(host: Host): string {
  const f: Array<[string, number]> = [];
  for (const [t, n] of [...host.icmpStats.inType].sort((a, b) => a[0] - b[0])) f.push([`InType${t}`, n]);
  for (const [t, n] of [...host.icmpStats.outType].sort((a, b) => a[0] - b[0])) f.push([`OutType${t}`, n]);
  let out = "";
  for (let i = 0; i < f.length; i += 16) out += pair("IcmpMsg", f.slice(i, i + 16));
  return out;
}

/** /proc/net/arp (arp_seq_show): ATF_COM 0x2 when resolved, ATF_PERM 0x4 for permanent. */
export function renderArp(host: Host): string {
  let out = "IP address       HW type     Flags       HW address            Mask     Device\n";
  for (const e of host.neigh.list()) {
    const flags = (e.mac !== undefined && e.state !== "INCOMPLETE" && e.state !== "FAILED" ? 2 : 0) | (e.state === "PERMANENT" ? 4 : 0);
    const mac = flags & 2 ? formatMac(e.mac!) : "00:00:00:00:00:00";
    out += `${ip(e.ip).padEnd(16)} 0x1         0x${flags.toString(16).padEnd(10)}${mac}     *        ${e.dev}\n`;
  }
  return out;
}

function ip(a: Ip4): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function hexLe(a: Ip4): string {
  const le = (((a & 255) << 24) | (((a >>> 8) & 255) << 16) | (((a >>> 16) & 255) << 8) | (a >>> 24)) >>> 0;
  return le.toString(16).toUpperCase().padStart(8, "0");
}

/** /proc/net/route (fib_route_seq_show): lines padded to 127 characters. */
export function renderRoute(host: Host): string {
  const pad = (s: string) => s.padEnd(127) + "\n";
  let out = pad("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT");
  for (const r of host.routes.list()) {
    const flags = 1 | (r.gateway !== undefined ? 2 : 0) | (r.plen === 32 ? 4 : 0);
    out += pad(
      `${r.dev}\t${hexLe(r.dst)}\t${hexLe(r.gateway ?? 0)}\t${flags.toString(16).toUpperCase().padStart(4, "0")}\t0\t0\t${r.metric}\t${hexLe(prefixToMask(r.plen))}\t0\t0\t0`,
    );
  }
  return out;
}

/** /proc/net/dev (dev_seq_show). */
export function renderDev(host: Host): string {
  let out =
    "Inter-|   Receive                                                |  Transmit\n" +
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";
  for (const n of [...host.nics.values()].sort((a, b) => a.index - b.index)) {
    const s = n.stats;
    const c = (v: number, w: number) => String(v).padStart(w);
    out +=
      `${n.name.padStart(6)}:${c(s.rxBytes, 8)} ${c(s.rxPackets, 7)} ${c(0, 4)} ${c(s.rxDropped, 4)} ${c(0, 4)} ${c(0, 5)} ${c(0, 10)} ${c(0, 9)} ` +
      `${c(s.txBytes, 8)} ${c(s.txPackets, 7)} ${c(0, 4)} ${c(s.txDropped, 4)} ${c(0, 4)} ${c(0, 5)} ${c(0, 7)} ${c(0, 10)}\n`;
  }
  return out;
}
