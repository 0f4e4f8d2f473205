/**
 * `lvslab export`: what a user built and tested in a lab, as configuration for real
 * directors. The lab runs in the simulator (all its steps, or the first N), then each
 * director's IPVS table — the state the steps left, not the commands that made it — is
 * written out either as `ipvsadm -S -n` rules (the host's own ipvsadm prints them, so they
 * are exactly what the simulated ipvsadm saves) or as a keepalived.conf (keepalived.ts),
 * whose health checks and VRRP addresses come from what the lab knows: which real server
 * runs nginx on which port and serves an index page, which director addresses the VIPs
 * and the NAT real servers' gateways are.
 */
import type { BuiltLab } from "../lab/build.js";
import { runSteps, type RunReport } from "../lab/runner.js";
import type { Host } from "../net/host.js";
import { FwdMethod, IPPROTO_UDP, type DestEntry, type Ip4, type ServiceEntry } from "../ipvs/api.js";
import { serviceProtocol } from "../tools/ipvsadm/format.js";
import { formatIp4 } from "../wire/addr.js";
import { formatKeepalived, type DirectorState, type HealthCheck, type KeepalivedExport } from "./keepalived.js";
import { ownerOf } from "./realservers.js";
import { runOnHost } from "./exec.js";

export { exportRealServers, type RealServersExport } from "./realservers.js";
export { exportDirector, type DirectorExport } from "./director.js";
export { formatKeepalived, serviceName, KEEPALIVED_SCHEDULERS, type DirectorState, type HealthCheck, type KeepalivedExport } from "./keepalived.js";

export type ExportFormat = "keepalived" | "ipvsadm" | "director" | "real-servers";
export const EXPORT_FORMATS: readonly ExportFormat[] = ["keepalived", "ipvsadm", "director", "real-servers"];

/** The hosts with IPVS (`ipvs: true`), in lab file order. */
export function directors(lab: BuiltLab): string[] {
  return lab.spec.hosts.filter((h) => h.ipvs || lab.hosts.get(h.name)?.ipvs).map((h) => h.name);
}

/**
 * Run the lab's steps — all of them, or the first `afterStep` — quietly, as `lvslab exec`
 * does before its command. Returns the run's report (failed steps are the caller's to tell).
 */
export async function runForExport(lab: BuiltLab, afterStep?: number): Promise<RunReport> {
  if (afterStep === undefined) return runSteps(lab, { out: () => undefined });
  // A capture the cut leaves running is stopped early: what it expects to have seen by its
  // own `stop:` later in the lab is not a failure here.
  const kept = lab.spec.steps.slice(0, afterStep);
  const stopped = new Set(kept.flatMap((s) => (s.kind === "stop" ? [s.stop] : [])));
  const steps = kept.map((s) => (s.kind === "run" && s.background && !stopped.has(s.name ?? `#${s.index}`) ? { ...s, expect: undefined } : s));
  return runSteps({ ...lab, spec: { ...lab.spec, steps } }, { out: () => undefined });
}

/** What `ipvsadm -S -n` prints on the host: its own ipvsadm, run once more after the steps. */
export function ipvsadmSave(host: Host): Promise<{ exit: number; stdout: string; stderr: string }> {
  return runOnHost(host, ["ipvsadm", "-S", "-n"]);
}

/**
 * The health check a real server gets: HTTP_GET / when the lab's nginx listens on that port
 * and has its index page (the page a client's curl of the VIP gets), TCP_CHECK when something
 * else or an nginx without that page is there, UDP_CHECK for UDP services, PING_CHECK for a
 * fwmark service's real server whose port the table does not say.
 */
export function healthCheck(lab: BuiltLab, se: ServiceEntry, d: DestEntry): HealthCheck {
  const addr = formatIp4(d.addr);
  const host = ownerOf(lab, d.addr);
  const spec = host && lab.spec.hosts.find((h) => h.name === host.name);
  if (serviceProtocol(se) === IPPROTO_UDP && !se.key.fwmark) return { kind: "udp", port: d.port };
  const nginx = spec?.services.filter((s) => s.kind === "nginx" && (d.port === 0 || s.port === d.port)) ?? [];
  const ng = nginx[0];
  if (!ng) {
    if (d.port === 0) return { kind: "ping", note: `the table gives ${addr} no port, and the lab runs no nginx there to check` };
    const note = host ? `${host.name} (${addr}) runs no nginx on port ${d.port} in the lab` : `${addr} is not a host of the lab`;
    return { kind: "tcp", port: d.port, note };
  }
  if (ng.proxyProtocol) return { kind: "tcp", port: ng.port, note: `nginx on ${host!.name} expects the PROXY protocol on port ${ng.port}, which HTTP_GET does not send` };
  const page = `${ng.root.replace(/\/+$/, "")}/${ng.index}`;
  if (!host!.fs.exists(page)) return { kind: "tcp", port: ng.port, note: `nginx on ${host!.name} has no ${page}, so GET / would not answer 200` };
  return { kind: "http", port: ng.port, path: "/", status: 200, note: `nginx on ${host!.name} serves ${page}` };
}

/** Director addresses that the NAT services' real servers route through. */
function natGateways(lab: BuiltLab, director: Host, services: readonly ServiceEntry[]): Ip4[] {
  const out: Ip4[] = [];
  for (const se of services)
    for (const d of se.dests) {
      if (d.fwd !== FwdMethod.Masq) continue;
      const rs = ownerOf(lab, d.addr);
      if (!rs || rs === director) continue;
      for (const r of rs.routes.list())
        if (r.gateway !== undefined && director.isLocalAddr(r.gateway) && !out.includes(r.gateway)) out.push(r.gateway);
    }
  return out;
}

/** The director's table and surroundings, as keepalived.ts takes them. */
export function directorState(lab: BuiltLab, hostName: string, when: string): DirectorState {
  const host = lab.hosts.get(hostName)!;
  const ipvs = host.ipvs!;
  const services = ipvs.services();
  return {
    lab: lab.spec.name,
    host: hostName,
    hostname: host.sysctl.get("kernel.hostname") ?? hostName,
    when,
    services,
    laddrs: (se) => {
      const l = ipvs.laddrs(se.key);
      return typeof l === "string" ? [] : l.map((x) => x.addr);
    },
    timeouts: ipvs.getTimeouts(),
    daemons: ipvs.daemons(),
    nics: [...host.nics.values()].filter((n) => !n.isLoopback).map((n) => ({ name: n.name, addrs: n.addrs.map((a) => ({ addr: a.addr, plen: a.plen })) })),
    check: (se, d) => healthCheck(lab, se, d),
    gateways: natGateways(lab, host, services),
  };
}

export function exportKeepalived(lab: BuiltLab, hostName: string, when: string): KeepalivedExport {
  return formatKeepalived(directorState(lab, hostName, when));
}
