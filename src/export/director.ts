/**
 * `lvslab export --format director`: a director as a shell script, for a Linux host with
 * ip_vs and ipvsadm and no keepalived. It brings up what the lab's director had after its
 * steps, as state rather than as the commands that made it:
 * - the service and FullNAT local addresses the lab had as extra addresses on its NICs;
 * - the kernel settings LVS leans on: ip_forward (NAT replies pass through the director),
 *   send_redirects where the lab turned them off (one-armed NAT), the net.ipv4.vs.* knobs
 *   the lab changed;
 * - the iptables mangle rules that mark packets for firewall-mark services;
 * - the IPVS table (`ipvsadm -S -n` as the director's own ipvsadm prints it, fed to
 *   ipvsadm-restore), then what `-S` does not save: `--set` timeouts and sync daemons.
 * Interface names are the lab's; the header says to change them. Where the table needs what
 * the lab did not have (NAT without ip_forward), a warning says so.
 */
import type { BuiltLab } from "../lab/build.js";
import type { Host } from "../net/host.js";
import { FwdMethod, type Ip4 } from "../ipvs/api.js";
import { SYSCTLS } from "../ipvs/sysctl.js";
import { sortServices } from "../tools/ipvsadm/format.js";
import { formatIp4 } from "../wire/addr.js";
import { wrapComment } from "./realservers.js";
import { runOnHost } from "./exec.js";
import { DEFAULT_TIMEOUTS } from "./keepalived.js";

export interface DirectorExport {
  readonly text: string;
  readonly warnings: string[];
}

/** IP_VS_SYNC_GROUP 224.0.0.81 and IP_VS_SYNC_PORT. */
const SYNC_GROUP = 0xe0000051;
const SYNC_PORT = 8848;

const run = async (host: Host, argv: string[]): Promise<string> => (await runOnHost(host, argv)).stdout;

export async function exportDirector(lab: BuiltLab, hostName: string, when: string): Promise<DirectorExport> {
  const host = lab.hosts.get(hostName)!;
  const ipvs = host.ipvs!;
  const services = sortServices(ipvs.services());
  const warnings: string[] = [];
  const nics = [...host.nics.values()].filter((n) => !n.isLoopback);
  const out: string[] = [
    "#!/bin/sh",
    ...wrapComment(
      `# Director setup for lab ${lab.spec.name}, exported by lvslab from ${hostName} ${when}: ${services.length} IPVS ` +
        `service${services.length === 1 ? "" : "s"}, the addresses clients reach them at, and the kernel settings LVS relies on, for a ` +
        `Linux host with the ip_vs module and ipvsadm, without keepalived. Interface names are the lab's ` +
        `(${nics.map((n) => n.name).join(", ")}): change them to yours. Run it as root; it can run again.`,
    ),
    "set -e",
    "modprobe ip_vs",
  ];

  // Service addresses and local addresses the lab held beyond each NIC's first address.
  const wanted = new Set<Ip4>();
  for (const se of services) {
    if (se.key.addr !== undefined && !se.key.fwmark) wanted.add(se.key.addr);
    const l = ipvs.laddrs(se.key);
    if (typeof l !== "string") for (const x of l) wanted.add(x.addr);
  }
  const addrLines: string[] = [];
  for (const nic of nics)
    nic.addrs.forEach((a, i) => {
      if (!wanted.has(a.addr)) return;
      if (i === 0) addrLines.push(`# ${formatIp4(a.addr)} is ${nic.name}'s own address in the lab (${formatIp4(a.addr)}/${a.plen}).`);
      else addrLines.push(`ip addr replace ${formatIp4(a.addr)}/${a.plen} dev ${nic.name}`);
    });
  if (addrLines.length > 0) out.push("", "# The addresses the services and FullNAT connections use, on the NICs the lab had them on.", ...addrLines);

  // Kernel settings.
  const sys: string[] = [];
  const hasNat = services.some((se) => se.dests.some((d) => d.fwd === FwdMethod.Masq));
  const forward = host.sysctl.getInt("net.ipv4.ip_forward", 0);
  if (forward === 1) sys.push("# The director routes: NAT replies pass through it on their way back to the clients.", "sysctl -q -w net.ipv4.ip_forward=1");
  else if (hasNat) warnings.push(`${hostName} has NAT real servers but ip_forward was 0 in the lab: their replies are not forwarded back to the clients`);
  const redirects = ["all", "default", ...nics.map((n) => n.name)].filter((dev) => host.sysctl.getInt(`net.ipv4.conf.${dev}.send_redirects`, 1) === 0);
  if (redirects.length > 0) {
    sys.push(...wrapComment("# No ICMP redirects, as in the lab: a real server on a client's network must keep sending its replies through the director (one-armed NAT)."));
    for (const dev of redirects) sys.push(`sysctl -q -w net.ipv4.conf.${dev}.send_redirects=0`);
  }
  const vsChanged = ipvs.sysctlNames().flatMap((n) => {
    const def = SYSCTLS.find((d) => d.name === n)?.def;
    const v = ipvs.getSysctl(n);
    return v !== undefined && def !== undefined && v !== def ? [`sysctl -q -w net.ipv4.vs.${n}=${v}`] : [];
  });
  if (vsChanged.length > 0) sys.push("# IPVS settings the lab changed from their defaults.", ...vsChanged);
  if (sys.length > 0) out.push("", ...sys);

  // Firewall marks.
  const saved = (await run(host, ["iptables", "-t", "mangle", "-S"])).split("\n");
  const mangle = saved.filter((l) => l.startsWith("-A "));
  if (mangle.length > 0) {
    out.push("", "# The mangle rules the lab had, which set the marks firewall-mark services match; each is added only once.");
    for (const c of saved.filter((l) => l.startsWith("-N "))) out.push(`iptables -t mangle ${c} 2>/dev/null || true`);
    for (const r of mangle) out.push(`iptables -t mangle -C ${r.slice(3)} 2>/dev/null || iptables -t mangle ${r}`);
  } else if (services.some((se) => se.key.fwmark)) {
    warnings.push(`${hostName} has firewall-mark services but no mangle rules in the lab: nothing marks their packets`);
  }

  // The table.
  const rules = await run(host, ["ipvsadm", "-S", "-n"]);
  out.push("", "# The IPVS table, as ipvsadm -S -n printed it on the lab's director.", "ipvsadm -C", "ipvsadm-restore <<'IPVS_RULES'", ...rules.split("\n").filter((l) => l !== ""), "IPVS_RULES");
  const t = ipvs.getTimeouts();
  if (t.tcp !== DEFAULT_TIMEOUTS.tcp || t.tcpfin !== DEFAULT_TIMEOUTS.tcpfin || t.udp !== DEFAULT_TIMEOUTS.udp)
    out.push("# Timeouts (ipvsadm -S does not save them).", `ipvsadm --set ${t.tcp} ${t.tcpfin} ${t.udp}`);
  for (const d of ipvs.daemons()) {
    const extra = [
      d.group !== SYNC_GROUP ? ` --mcast-group ${formatIp4(d.group)}` : "",
      d.port !== SYNC_PORT ? ` --mcast-port ${d.port}` : "",
      d.ttl !== 1 ? ` --mcast-ttl ${d.ttl}` : "",
    ].join("");
    out.push(`# The ${d.state} sync daemon (ipvsadm -S does not save it).`);
    out.push(`ipvsadm --stop-daemon ${d.state} 2>/dev/null || true`);
    out.push(`ipvsadm --start-daemon ${d.state} --mcast-interface ${d.mcastIfn} --syncid ${d.syncId}${extra}`);
  }
  if (services.some((se) => se.dests.some((d) => d.fwd === FwdMethod.FullNat) || se.proxyProtocol))
    warnings.push(`${hostName}: its --fullnat, --add-laddr and --proxy-protocol options are lvslab extensions (after DPVS and Alibaba LVS): mainline ipvsadm-restore refuses them`);
  return { text: out.join("\n") + "\n", warnings };
}
