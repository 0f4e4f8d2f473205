/**
 * /proc/sys/net/ipv4/vs/* (Documentation/networking/ipvs-sysctl.rst, defaults of 6.12).
 * Values are integers except sync_threshold (two integers). The set is Linux 6.1's as Debian
 * builds it: no debug_level (CONFIG_IP_VS_DEBUG is off) and no est_cpulist/est_nice (6.2+).
 */
import type { IpvsErrno } from "./api.js";

export interface SysctlDef {
  readonly name: string;
  readonly def: string;
  /** Inclusive range for single-integer knobs. */
  readonly min?: number;
  readonly max?: number;
  readonly kind?: "int" | "int2" | "text";
  /** Present only once the named scheduler module has been loaded ("fullnat": FullNAT in use). */
  readonly module?: string;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

export const SYSCTLS: readonly SysctlDef[] = [
  { name: "am_droprate", def: "10" },
  { name: "amemthresh", def: "1024" },
  { name: "backup_only", def: "0" },
  { name: "cache_bypass", def: "0" },
  { name: "conn_reuse_mode", def: "1" },
  { name: "conntrack", def: "0" },
  { name: "drop_entry", def: "0", min: 0, max: 3 },
  { name: "drop_packet", def: "0", min: 0, max: 3 },
  { name: "expire_nodest_conn", def: "0" },
  { name: "expire_quiescent_template", def: "0" },
  // lvslab extension: Alibaba LVS-FullNAT's knobs (ip_vs_ctl.c vs_vars, same names, defaults
  // and ranges), present once FullNAT is in use (a local address or a FullNat real server).
  { name: "fullnat_conn_reused_entry", def: "1", min: 0, max: 1, module: "fullnat" },
  { name: "fullnat_lport_max", def: "65535", min: 1025, max: 65535, module: "fullnat" },
  { name: "fullnat_lport_min", def: "5000", min: 1025, max: 65535, module: "fullnat" },
  { name: "fullnat_lport_tries", def: "10000", min: 10, max: 60000, module: "fullnat" },
  { name: "fullnat_mss_adjust_entry", def: "1", min: 0, max: 1, module: "fullnat" },
  { name: "fullnat_timestamp_remove_entry", def: "1", min: 0, max: 1, module: "fullnat" },
  { name: "fullnat_toa_entry", def: "1", min: 0, max: 1, module: "fullnat" },
  { name: "ignore_tunneled", def: "0" },
  { name: "lblc_expiration", def: "86400", module: "lblc" },
  { name: "lblcr_expiration", def: "86400", module: "lblcr" },
  { name: "nat_icmp_send", def: "0" },
  { name: "pmtu_disc", def: "1" },
  { name: "run_estimation", def: "1" },
  { name: "schedule_icmp", def: "0" },
  { name: "secure_tcp", def: "0", min: 0, max: 3 },
  { name: "sloppy_sctp", def: "0" },
  { name: "sloppy_tcp", def: "0" },
  { name: "snat_reroute", def: "1" },
  { name: "sync_persist_mode", def: "0" },
  { name: "sync_ports", def: "1", min: 1, max: INT_MAX },
  { name: "sync_qlen_max", def: "7907" },
  { name: "sync_refresh_period", def: "0" },
  { name: "sync_retries", def: "0", min: 0, max: 3 },
  { name: "sync_sock_size", def: "0" },
  { name: "sync_threshold", def: "3\t50", kind: "int2" },
  { name: "sync_version", def: "1", min: 0, max: 1 },
];

const BY_NAME = new Map(SYSCTLS.map((d) => [d.name, d]));

export function sysctlDef(name: string): SysctlDef | undefined {
  return BY_NAME.get(name);
}

function parseInt32(t: string): number | undefined {
  if (!/^[+-]?\d+$/.test(t)) return undefined;
  const v = Number(t);
  return v < INT_MIN || v > INT_MAX ? undefined : v;
}

/**
 * Validate a write as proc_dointvec (and the range handlers) would; returns the value's
 * canonical text or an errno.
 */
export function parseSysctl(def: SysctlDef, value: string): string | IpvsErrno {
  const t = value.trim();
  if (def.kind === "text") return t;
  if (def.kind === "int2") {
    const parts = t.split(/\s+/);
    const a = parseInt32(parts[0] ?? "");
    const b = parseInt32(parts[1] ?? "");
    // sync_threshold: 0 <= threshold < period (or period 0).
    if (parts.length !== 2 || a === undefined || b === undefined || a < 0 || b < 0 || (b !== 0 && a >= b)) return "EINVAL";
    return `${a}\t${b}`;
  }
  const v = parseInt32(t);
  if (v === undefined) return "EINVAL";
  if ((def.min !== undefined && v < def.min) || (def.max !== undefined && v > def.max)) return "EINVAL";
  return String(v);
}
