/**
 * A director's IPVS table as a keepalived.conf (keepalived 2.2, the check and VRRP parts):
 * one `virtual_server` block per service, one `real_server` per destination with a health
 * check, and a `vrrp_instance` for the addresses that must move to a backup director.
 *
 * Keywords are spelled as keepalived's parser reads them (keepalived/check/check_parser.c:
 * `lb_algo`, `lb_kind NAT|DR|TUN [type gue port N csum|remcsum | type gre csum]`, the service
 * flags `ops`, `sh-port`/`sh-fallback`, `mh-port`/`mh-fallback`, `flag-1..3`, which it only
 * takes after `lb_algo`; `persistence_engine`, `persistence_granularity` as a netmask;
 * `uthreshold`/`lthreshold` per real server; `lvs_method` for a real server whose forwarding
 * differs from the service's). `keepalived -t` (Debian's 2.2.7) treats a warning as an error,
 * so what it would warn about is written as a comment instead, and what keepalived cannot
 * express at all (FullNAT, the PROXY protocol: lvslab extensions after DPVS and Alibaba LVS)
 * is left out of the live configuration, as a commented-out block in the spelling of DPVS's
 * keepalived, never as something that would run differently from the lab.
 *
 * Pure: the caller (index.ts) says what it knows about the lab — the director's NICs, which
 * real servers serve HTTP — and gets text and warnings back.
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
  type DaemonInfo,
  type DestEntry,
  type Ip4,
  type ServiceEntry,
  type Timeouts,
} from "../ipvs/api.js";
import { TUN_F_CSUM, TUN_F_REMCSUM, serviceProtocol, sortDests, sortServices } from "../tools/ipvsadm/format.js";
import { formatIp4 } from "../wire/addr.js";

/** How keepalived should check one real server. */
export type HealthCheck =
  | { readonly kind: "http"; readonly port: number; readonly path: string; readonly status: number; readonly note?: string }
  | { readonly kind: "tcp"; readonly port: number; readonly note?: string }
  | { readonly kind: "udp"; readonly port: number; readonly note?: string }
  | { readonly kind: "ping"; readonly note?: string };

export interface NicState {
  readonly name: string;
  readonly addrs: readonly { readonly addr: Ip4; readonly plen: number }[];
}

export interface DirectorState {
  readonly lab: string;
  /** The lab's host name and its `hostname`. */
  readonly host: string;
  readonly hostname: string;
  /** When the table was taken, for the header ("after the lab's 25 steps"). */
  readonly when: string;
  readonly services: readonly ServiceEntry[];
  readonly laddrs: (se: ServiceEntry) => readonly Ip4[];
  readonly timeouts: Timeouts;
  readonly daemons: readonly DaemonInfo[];
  /** The director's NICs (not lo) with their addresses at that moment. */
  readonly nics: readonly NicState[];
  /** The health check for one real server of a service. */
  readonly check: (se: ServiceEntry, d: DestEntry) => HealthCheck;
  /**
   * Director addresses the real servers of NAT services use as their gateway: they must
   * move with the VIP, or the replies of a failed-over service go to the dead director.
   */
  readonly gateways: readonly Ip4[];
}

export interface KeepalivedExport {
  readonly text: string;
  /** One line each, for stderr: what the configuration does not carry over. */
  readonly warnings: string[];
  /** Services with real servers that keepalived cannot run as in the lab (left commented out). */
  readonly omitted: number;
}

/** keepalived's lvs_schedulers[] (2.2.7 as Debian 12 ships it, which knows twos). */
export const KEEPALIVED_SCHEDULERS: ReadonlySet<string> = new Set(["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"]);

/** Linux's defaults for `ipvsadm --set` (tcp, tcpfin, udp). */
/** ipvsadm --set's defaults (IP_VS_TCP_S_ESTABLISHED, _FIN_WAIT, IP_VS_UDP_S_NORMAL timeouts). */
export const DEFAULT_TIMEOUTS: Timeouts = { tcp: 900, tcpfin: 120, udp: 300 };

/** Seconds between health checks, and the checks' own timing (keepalived's usual example values). */
const DELAY_LOOP = 6;
const CONNECT_TIMEOUT = 3;
const RETRY = 3;
const DELAY_BEFORE_RETRY = 3;

const IND = "    ";

export function serviceName(se: ServiceEntry): string {
  const k = se.key;
  if (k.fwmark) return `FWM ${k.fwmark >>> 0}`;
  const p = serviceProtocol(se);
  const pn = p === IPPROTO_TCP ? "TCP" : p === IPPROTO_UDP ? "UDP" : p === IPPROTO_SCTP ? "SCTP" : String(p);
  return `${pn} ${formatIp4(k.addr ?? 0)}:${k.port ?? 0}`;
}

function lbKind(d: DestEntry): string {
  switch (d.fwd) {
    case FwdMethod.Masq:
      return "NAT";
    // ipvsadm -S saves a Local destination as -g: keepalived's DR sends the same.
    case FwdMethod.Local:
    case FwdMethod.Route:
      return "DR";
    case FwdMethod.Tunnel: {
      const csum = d.tunFlags & TUN_F_REMCSUM ? " remcsum" : d.tunFlags & TUN_F_CSUM ? " csum" : "";
      if (d.tunType === "gue") return `TUN type gue port ${d.tunPort}${csum}`;
      if (d.tunType === "gre") return `TUN type gre${csum}`;
      return "TUN";
    }
    case FwdMethod.FullNat:
      return "FNAT";
    default:
      return "NAT";
  }
}

/** The service flags as keepalived keywords (after lb_algo, which they depend on). */
function flagKeywords(se: ServiceEntry): string[] {
  const out: string[] = [];
  if (se.flags & SVC_F_ONEPACKET) out.push("ops");
  const s = se.scheduler;
  if (s === "sh" || s === "mh") {
    // ipvsadm's names: flag-1 is <sched>-fallback, flag-2 is <sched>-port.
    if (se.flags & SVC_F_SCHED1) out.push(`${s}-fallback`);
    if (se.flags & SVC_F_SCHED2) out.push(`${s}-port`);
    if (se.flags & SVC_F_SCHED3) out.push("flag-3");
  } else {
    if (se.flags & SVC_F_SCHED1) out.push("flag-1");
    if (se.flags & SVC_F_SCHED2) out.push("flag-2");
    if (se.flags & SVC_F_SCHED3) out.push("flag-3");
  }
  return out;
}

function protocolKeyword(se: ServiceEntry): string | undefined {
  const p = serviceProtocol(se);
  return p === IPPROTO_TCP ? "TCP" : p === IPPROTO_UDP ? "UDP" : p === IPPROTO_SCTP ? "SCTP" : undefined;
}

/** `fwmark`: the real server has no port, so even HTTP_GET must say which to connect to. */
function checkLines(c: HealthCheck, fwmark: boolean): string[] {
  const port = c.kind === "ping" || (c.kind === "http" && !fwmark) ? [] : [`connect_port ${c.port}`];
  const note = c.note ? [`# ${c.note}`] : [];
  const timing = [`connect_timeout ${CONNECT_TIMEOUT}`, `retry ${RETRY}`, `delay_before_retry ${DELAY_BEFORE_RETRY}`];
  switch (c.kind) {
    case "http":
      return [
        ...note,
        "HTTP_GET {",
        `${IND}url {`,
        `${IND}${IND}path ${c.path}`,
        `${IND}${IND}status_code ${c.status}`,
        `${IND}}`,
        ...indent([...port, ...timing]),
        "}",
      ];
    case "tcp":
    case "udp":
      return [...note, `${c.kind === "tcp" ? "TCP" : "UDP"}_CHECK {`, ...indent([...port, ...timing]), "}"];
    case "ping":
      return [...note, "PING_CHECK {", `${IND}retry ${RETRY}`, "}"];
  }
}

/** Why keepalived cannot run this service as the lab does, or undefined. */
function unsupported(se: ServiceEntry): string | undefined {
  if (se.dests.some((d) => d.fwd === FwdMethod.FullNat))
    return "FullNAT (--fullnat) is an lvslab extension after Alibaba LVS and DPVS: neither mainline Linux nor keepalived has it";
  if (se.proxyProtocol) return `--proxy-protocol v${se.proxyProtocol} is an lvslab extension after DPVS: neither mainline Linux nor keepalived has it`;
  if (!KEEPALIVED_SCHEDULERS.has(se.scheduler)) return `keepalived does not know the scheduler ${se.scheduler}`;
  if (protocolKeyword(se) === undefined && !se.key.fwmark) return `keepalived cannot balance IP protocol ${serviceProtocol(se)}`;
  return undefined;
}

function indent(lines: readonly string[], n = 1): string[] {
  return lines.map((l) => (l === "" ? l : IND.repeat(n) + l));
}

function virtualServer(st: DirectorState, se: ServiceEntry, warn: (s: string) => void, laddrGroup?: string): string[] {
  const k = se.key;
  const dests = sortDests(se.dests);
  const head = k.fwmark ? `virtual_server fwmark ${k.fwmark >>> 0} {` : `virtual_server ${formatIp4(k.addr ?? 0)} ${k.port ?? 0} {`;
  const kind = dests.length > 0 ? lbKind(dests[0]!) : "NAT";
  const body: string[] = [`delay_loop ${DELAY_LOOP}`, `lb_algo ${se.scheduler}`, ...flagKeywords(se), `lb_kind ${kind}`];
  if (laddrGroup) body.push(`laddr_group_name ${laddrGroup}`);
  if (!k.fwmark) body.push(`protocol ${protocolKeyword(se) ?? serviceProtocol(se)}`);
  if (se.flags & SVC_F_PERSISTENT) {
    body.push(`persistence_timeout ${se.timeout}`);
    if (se.netmask >>> 0 !== 0xffffffff) body.push(`persistence_granularity ${formatIp4(se.netmask >>> 0)}`);
  }
  if (se.pe) body.push(`persistence_engine ${se.pe}`);
  if (dests.length > 0 && dests.every((d) => d.weight === 0)) {
    body.push("# every real server has weight 0 (quiesced): keepalived -t warns that quorum 1 exceeds their total weight");
    warn(`${serviceName(se)}: every real server has weight 0; keepalived -t will warn about its quorum`);
  }
  for (const d of dests) {
    const rs: string[] = [];
    // keepalived clears a real server's port on a fwmark service (packets keep theirs).
    const port = k.fwmark ? "" : ` ${d.port}`;
    if (k.fwmark && d.port !== 0) {
      rs.push(`# ipvsadm gave it port ${d.port}: keepalived cannot (fwmark real servers keep each packet's own port)`);
      warn(`${serviceName(se)}: real server ${formatIp4(d.addr)}:${d.port}: keepalived drops the port of a fwmark service's real server`);
    }
    rs.push(`weight ${d.weight}`);
    const dk = lbKind(d);
    if (dk !== kind) rs.push(`lvs_method ${dk}`);
    if (d.uThreshold) rs.push(`uthreshold ${d.uThreshold}`);
    if (d.lThreshold) rs.push(`lthreshold ${d.lThreshold}`);
    rs.push(...checkLines(st.check(se, d), !!k.fwmark));
    body.push(`real_server ${formatIp4(d.addr)}${port} {`, ...indent(rs), "}");
  }
  return [head, ...indent(body), "}"];
}

function header(st: DirectorState, nServices: number, nDests: number): string[] {
  return [
    `# keepalived.conf for host ${st.host} of lab ${st.lab}, exported by lvslab from its IPVS table`,
    `# ${st.when}: ${nServices} service${nServices === 1 ? "" : "s"}, ${nDests} real server${nDests === 1 ? "" : "s"}.`,
    "# Check it with: keepalived -t -f FILE",
    "# Health checks run every delay_loop seconds; a real server that fails one is removed",
    "# from its service (inhibit_on_failure is off) and put back when it passes again.",
  ];
}

/** The VRRP part: the service addresses (and NAT gateways) that sit on the director's NICs. */
function vrrp(st: DirectorState, services: readonly ServiceEntry[]): { lines: string[]; instance: boolean } {
  const owner = (a: Ip4): { nic: NicState; plen: number; primary: boolean } | undefined => {
    for (const nic of st.nics) {
      const i = nic.addrs.findIndex((x) => x.addr === a);
      if (i >= 0) return { nic, plen: nic.addrs[i]!.plen, primary: i === 0 };
    }
    return undefined;
  };
  const vips: { addr: Ip4; why: string }[] = [];
  const add = (addr: Ip4, why: string): void => {
    if (!vips.some((v) => v.addr === addr)) vips.push({ addr, why });
  };
  for (const se of services) if (!se.key.fwmark && se.key.addr !== undefined && owner(se.key.addr)) add(se.key.addr, "VIP");
  for (const g of st.gateways) if (owner(g)) add(g, "the NAT real servers' gateway");
  const fwmarks = services.some((se) => se.key.fwmark);
  if (vips.length === 0) {
    const out = ["# No service address is on one of this director's NICs in the lab, so there is no"];
    out.push("# vrrp_instance: add one for the addresses clients reach the services at.");
    if (fwmarks) out.push("# (The addresses your fwmark rules match are not known from the IPVS table.)");
    return { lines: out, instance: false };
  }
  const first = owner(vips[0]!.addr)!;
  const lines: string[] = [
    "# VRRP moves these addresses to a backup director when this one fails. Before use:",
    "#  - on the backup director: the same block with state BACKUP and a lower priority (e.g. 90);",
    "#  - virtual_router_id: 1-255, the same on both directors and unique on the LAN (51 is a placeholder);",
    "#  - authentication { ... } or unicast_peer { PEER_ADDRESS } if your network needs them: no",
    "#    password or peer is made up here.",
  ];
  for (const v of vips) {
    const o = owner(v.addr)!;
    if (o.primary)
      lines.push(
        `# In the lab ${formatIp4(v.addr)} is ${o.nic.name}'s own address. keepalived removes its VIPs when it starts, so`,
        `# give ${o.nic.name} another address of its own on each director first, or VRRP goes to FAULT ("no`,
        `# IPv4 address for interface") and the director is left without ${formatIp4(v.addr)}.`,
      );
  }
  if (fwmarks) lines.push("# The addresses your fwmark rules match must move too: add them below.");
  lines.push(
    "vrrp_instance VI_1 {",
    `${IND}state MASTER`,
    `${IND}interface ${first.nic.name}`,
    `${IND}virtual_router_id 51`,
    `${IND}priority 100`,
    `${IND}advert_int 1`,
    `${IND}virtual_ipaddress {`,
  );
  for (const v of vips) {
    const o = owner(v.addr)!;
    lines.push(`${IND}${IND}${formatIp4(v.addr)}/${o.plen} dev ${o.nic.name}${v.why === "VIP" ? "" : `    # ${v.why}`}`);
  }
  lines.push(`${IND}}`, "}");
  return { lines, instance: true };
}

export function formatKeepalived(st: DirectorState): KeepalivedExport {
  const warnings: string[] = [];
  const warn = (s: string): void => void warnings.push(s);
  const services = sortServices(st.services);
  const nDests = services.reduce((n, se) => n + se.dests.length, 0);
  const out: string[] = [...header(st, services.length, nDests), ""];

  const global = [`router_id ${st.hostname.replace(/[^A-Za-z0-9_.-]/g, "_")}`];
  const t = st.timeouts;
  if (t.tcp !== DEFAULT_TIMEOUTS.tcp || t.tcpfin !== DEFAULT_TIMEOUTS.tcpfin || t.udp !== DEFAULT_TIMEOUTS.udp)
    global.push(`lvs_timeouts tcp ${t.tcp} tcpfin ${t.tcpfin} udp ${t.udp}    # ipvsadm --set ${t.tcp} ${t.tcpfin} ${t.udp}`);
  // keepalived runs one sync daemon, as master or backup with a VRRP instance's state.
  const d = st.daemons[0];
  const vr = vrrp(st, services);
  if (d) {
    const line = `lvs_sync_daemon ${d.mcastIfn} VI_1 id ${d.syncId}`;
    global.push(`# the lab ran ipvsadm --start-daemon ${st.daemons.map((x) => x.state).join(" and ")}: keepalived runs it as VI_1's state says`);
    global.push(vr.instance ? line : `# ${line}    (once there is a vrrp_instance VI_1)`);
  }
  out.push("global_defs {", ...indent(global), "}", "", ...vr.lines, "");


  let omitted = 0;
  for (const se of services) {
    const why = unsupported(se);
    if (why) {
      if (se.dests.length > 0) omitted++;
      warn(`${serviceName(se)}: left out: ${why}`);
      const laddrs = st.laddrs(se);
      const group = laddrs.length > 0 ? `laddr_${(se.key.fwmark ? `fwm${se.key.fwmark}` : `${formatIp4(se.key.addr ?? 0)}_${se.key.port ?? 0}`).replace(/\./g, "_")}` : undefined;
      const block: string[] = [];
      if (group) {
        // DPVS's keepalived names a local address with the interface it lives on.
        const dev = (a: Ip4): string => st.nics.find((n) => n.addrs.some((x) => x.addr === a))?.name ?? "IFACE";
        block.push(`local_address_group ${group} {`, ...laddrs.map((a) => `${IND}${formatIp4(a)} ${dev(a)}`), "}");
      }
      block.push(...virtualServer(st, se, () => undefined, group));
      out.push(
        `# ${serviceName(se)} is left out: ${why}.`,
        "# Mainline keepalived rejects it; for DPVS's keepalived it would read (untested):",
        ...block.map((l) => `#   ${l}`),
        "",
      );
      continue;
    }
    if (se.dests.length === 0) {
      warn(`${serviceName(se)}: has no real servers; keepalived creates no virtual server without one`);
      out.push(`# ${serviceName(se)} has no real servers: keepalived ignores a virtual_server without any.`, "");
      continue;
    }
    out.push(...virtualServer(st, se, warn), "");
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return { text: out.join("\n") + "\n", warnings, omitted };
}
