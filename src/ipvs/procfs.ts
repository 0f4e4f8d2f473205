/**
 * The /proc/net files of IPVS, rendered from the engine in the kernel's exact formats
 * (ip_vs_ctl.c ip_vs_info_seq_show / ip_vs_stats_show, ip_vs_conn.c ip_vs_conn_seq_show).
 */
import { FwdMethod, SVC_F_ONEPACKET, SVC_F_PERSISTENT } from "./api.js";
import type { IpvsEngine } from "./engine.js";

function hex(n: number, w: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(w, "0");
}

function hexBig(n: number, w: number): string {
  return Math.max(0, Math.floor(n)).toString(16).toUpperCase().padStart(w, " ");
}

function left(s: string | number, w: number): string {
  return String(s).padEnd(w, " ");
}

function right(s: string | number, w: number): string {
  return String(s).padStart(w, " ");
}

export function fwdName(f: FwdMethod): string {
  switch (f) {
    case FwdMethod.Masq: return "Masq";
    case FwdMethod.Local: return "Local";
    case FwdMethod.Tunnel: return "Tunnel";
    case FwdMethod.Route: return "Route";
    case FwdMethod.FullNat: return "FullNat";
  }
}

/** /proc/net/ip_vs */
export function renderIpVs(e: IpvsEngine): string {
  const out: string[] = [
    `IP Virtual Server version 1.2.1 (size=${e.info().connTabSize})`,
    "Prot LocalAddress:Port Scheduler Flags",
    "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn",
  ];
  for (const svc of e.serviceObjects()) {
    const ops = svc.flags & SVC_F_ONEPACKET ? "ops " : "";
    let line = svc.fwmark
      ? `FWM  ${hex(svc.fwmark, 8)} ${svc.schedName} ${ops}`
      : `${protoLabel(svc.protocol)}  ${hex(svc.addr, 8)}:${hex(svc.port, 4)} ${svc.schedName} ${ops} `;
    if (svc.flags & SVC_F_PERSISTENT) line += `persistent ${svc.timeout * e.hz} ${hex(svc.netmask, 8)}`;
    out.push(line);
    for (const d of svc.dests) {
      out.push(`  -> ${hex(d.addr, 8)}:${hex(d.port, 4)}      ${left(fwdName(d.fwd), 7)} ${left(d.weight, 6)} ${left(d.activeConns, 10)} ${left(d.inactConns, 10)}`);
    }
  }
  return out.join("\n") + "\n";
}

function protoLabel(p: number): string {
  return p === 6 ? "TCP" : p === 17 ? "UDP" : p === 132 ? "SCTP" : `IP_${p}`;
}

/** /proc/net/ip_vs_conn */
export function renderIpVsConn(e: IpvsEngine): string {
  const out = ["Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData"];
  for (const c of e.conns()) {
    const pe = c.peName ? ` ${c.peName} ${c.peData}` : "";
    out.push(`${left(c.protocolName, 3)} ${hex(c.caddr, 8)} ${hex(c.cport, 4)} ${hex(c.vaddr, 8)} ${hex(c.vport, 4)} ${hex(c.daddr, 8)} ${hex(c.dport, 4)} ${left(c.state, 11)} ${right(c.expiresSec, 7)}${pe}`);
  }
  return out.join("\n") + "\n";
}

/** /proc/net/ip_vs_stats */
export function renderIpVsStats(e: IpvsEngine): string {
  const { stats: s, rates: r } = e.totals();
  return "   Total Incoming Outgoing         Incoming         Outgoing\n" +
    "   Conns  Packets  Packets            Bytes            Bytes\n" +
    `${hexBig(s.conns, 8)} ${hexBig(s.inpkts, 8)} ${hexBig(s.outpkts, 8)} ${hexBig(s.inbytes, 16)} ${hexBig(s.outbytes, 16)}\n\n` +
    " Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n" +
    `${hexBig(r.cps, 8)} ${hexBig(r.inpps, 8)} ${hexBig(r.outpps, 8)} ${hexBig(r.inbps, 16)} ${hexBig(r.outbps, 16)}\n`;
}
