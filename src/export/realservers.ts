/**
 * `lvslab export --format real-servers`: the real servers' half of a director's table. The
 * director's rules only work when each real server does its part, and that part depends on
 * how the director forwards to it:
 *
 * - NAT (masquerading): the replies must leave through the director, which rewrites them
 *   back to the VIP, so the real server routes them via one of the director's addresses;
 * - DR and TUN: the director hands on the client's packet still addressed to the VIP, so the
 *   real server holds the VIP itself (on lo for DR; on the tunnel device that takes the outer
 *   header off for TUN: tunl0 for IPIP and GUE, gre0 for GRE), never answers ARP for it
 *   (arp_ignore=1) nor uses it as the source of its own ARP requests (arp_announce=2); over a
 *   tunnel the packet comes in by one device and the route back leaves by another, so
 *   rp_filter must not be strict there;
 * - FullNAT: nothing to route (the replies go to the director's local address); the client's
 *   address reaches the server only through the toa module or the PROXY protocol.
 *
 * The output is one POSIX sh script for every real server: run on a machine, it finds which
 * real server that is by its addresses and sets that one up. Its commands replace rather than
 * add, so it can run twice. What it sets comes from the table (what each server needs); where
 * a server is a host of the lab, the lab's state after the steps picks the route, and every
 * way in which that host differed from what the script sets is a warning (a broken lab's
 * mistake, said in its own terms).
 */
import type { BuiltLab } from "../lab/build.js";
import type { Host } from "../net/host.js";
import { FwdMethod, type DestEntry, type Ip4, type ServiceEntry } from "../ipvs/api.js";
import { sortDests, sortServices } from "../tools/ipvsadm/format.js";
import { formatIp4 } from "../wire/addr.js";
import { serviceName } from "./keepalived.js";

export interface RealServersExport {
  readonly text: string;
  readonly warnings: string[];
  /** Real servers the script sets up. */
  readonly servers: number;
  /** Needs the script could not meet (no director address to route through, no VIP known). */
  readonly incomplete: number;
}

/** One real server: the table's addresses of it and what forwards to it. */
interface Server {
  readonly label: string;
  readonly host?: Host;
  readonly rips: Ip4[];
  readonly uses: { se: ServiceEntry; d: DestEntry }[];
}

const mask = (plen: number): number => (plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0);
const sameNet = (a: Ip4, b: Ip4, plen: number): boolean => ((a ^ b) & mask(plen)) >>> 0 === 0;

/** The lab host that has `addr` on one of its NICs (not lo). */
export function ownerOf(lab: BuiltLab, addr: Ip4): Host | undefined {
  for (const h of lab.hosts.values()) for (const nic of h.nics.values()) if (!nic.isLoopback && nic.addrs.some((a) => a.addr === addr)) return h;
  return undefined;
}

/** The NIC of `host` that holds `addr` (lo included). */
function nicOf(host: Host, addr: Ip4): string | undefined {
  for (const nic of host.nics.values()) if (nic.addrs.some((a) => a.addr === addr)) return nic.name;
  return undefined;
}

/** The kernel takes the larger of `all` and the device's value for these three. */
function effective(host: Host, dev: string, key: "arp_ignore" | "arp_announce" | "rp_filter"): number {
  return Math.max(host.sysctl.getInt(`net.ipv4.conf.all.${key}`, 0), host.sysctl.getInt(`net.ipv4.conf.${dev}.${key}`, 0));
}

/** A shell function name for a server: letters, digits and _ only, unique in the script. */
function funcName(label: string, taken: Set<string>): string {
  const base = `setup_${label.replace(/[^A-Za-z0-9_]/g, "_")}`;
  let n = base;
  for (let i = 2; taken.has(n); i++) n = `${base}_${i}`;
  taken.add(n);
  return n;
}

/** The tunnel device a TUN real server receives on, and what must be loaded for it. */
function tunnelOf(d: DestEntry): { dev: string; lines: string[]; what: string } {
  if (d.tunType === "gre")
    return { dev: "gre0", what: "GRE", lines: ["modprobe ip_gre", "ip link set gre0 up"] };
  if (d.tunType === "gue")
    return {
      dev: "tunl0",
      what: `GUE on UDP port ${d.tunPort}`,
      lines: ["modprobe fou", `ip fou del port ${d.tunPort} 2>/dev/null || true`, `ip fou add port ${d.tunPort} gue`, "modprobe ipip", "ip link set tunl0 up"],
    };
  return { dev: "tunl0", what: "IPIP", lines: ["modprobe ipip", "ip link set tunl0 up"] };
}

export function exportRealServers(lab: BuiltLab, directorName: string, when: string): RealServersExport {
  const director = lab.hosts.get(directorName)!;
  const services = sortServices(director.ipvs!.services());
  const warnings: string[] = [];
  const servers: Server[] = [];
  const skipped: string[] = [];
  for (const se of services)
    for (const d of sortDests(se.dests)) {
      const rip = formatIp4(d.addr);
      const host = ownerOf(lab, d.addr);
      if (d.fwd === FwdMethod.Local || host === director || director.isLocalAddr(d.addr)) {
        skipped.push(`${serviceName(se)} -> ${rip}:${d.port} is the director itself: nothing to set up`);
        continue;
      }
      const label = host?.name ?? rip;
      // A lab host by its object; a server outside the lab by its address.
      let s = servers.find((x) => (host ? x.host === host : x.host === undefined && x.rips.includes(d.addr)));
      if (!s) servers.push((s = { label, host, rips: [], uses: [] }));
      if (!s.rips.includes(d.addr)) s.rips.push(d.addr);
      s.uses.push({ se, d });
    }

  const out: string[] = [
    "#!/bin/sh",
    `# Real-server setup for lab ${lab.spec.name}, exported by lvslab from the IPVS table of`,
    `# ${directorName} ${when}: ${servers.length} real server${servers.length === 1 ? "" : "s"}.`,
    "# Run it as root on every real server: it finds which one it runs on by its addresses and",
    "# sets that one up. It replaces rather than adds, so it can run again. Nothing here",
    "# survives a reboot: put it where your system runs such scripts at boot.",
  ];
  for (const x of skipped) out.push(`# ${x}.`);
  out.push("set -e", "", "has_addr() {", '    ip -4 addr show | grep -q "inet $1/"', "}");

  // Servers that need the same commands share one function.
  const taken = new Set<string>();
  const gaps = { n: 0 };
  const groups: { body: string[]; servers: Server[] }[] = [];
  for (const s of servers) {
    const body = serverBody(lab, director, s, warnings, gaps);
    const same = groups.find((g) => g.body.join("\n") === body.join("\n"));
    if (same) same.servers.push(s);
    else groups.push({ body, servers: [s] });
  }
  const dispatch: { fn: string; rips: Ip4[] }[] = [];
  for (const g of groups) {
    const ls = g.servers.map((s) => s.label);
    const fn = funcName(ls.length <= 2 ? ls.join("_and_") : `${ls[0]}_and_${ls.length - 1}_more`, taken);
    dispatch.push({ fn, rips: g.servers.flatMap((s) => s.rips) });
    out.push("");
    for (const s of g.servers) {
      const ripList = s.rips.map(formatIp4).join(", ");
      out.push(`# ${s.host ? `${s.label} (${ripList})` : `${ripList} (not a host of the lab: the usual setup for what forwards to it)`}`);
    }
    out.push(`${fn}() {`);
    for (const l of g.body) out.push(...(l === "" ? [""] : wrapComment(l).map((x) => `    ${x}`)));
    out.push("}");
  }

  out.push("");
  if (dispatch.length === 0) {
    out.push(`echo "$0: the director's table has no real server to set up" >&2`, "exit 1");
    warnings.push(`${directorName} has no real server to set up ${when}`);
    gaps.n++;
  } else {
    dispatch.forEach((x, i) => {
      out.push(`${i === 0 ? "if" : "elif"} ${x.rips.map((r) => `has_addr ${formatIp4(r)}`).join(" || ")}; then`, `    ${x.fn}`);
    });
    const all = dispatch.flatMap((x) => x.rips.map(formatIp4)).join(", ");
    out.push("else", `    echo "$0: this host has none of the real servers' addresses (${all})" >&2`, "    exit 1", "fi");
  }
  return { text: out.join("\n") + "\n", warnings: [...new Set(warnings)], servers: servers.length, incomplete: gaps.n };
}

/** The commands one server needs, with their reasons; lab differences go to `warnings`. */
function serverBody(lab: BuiltLab, director: Host, s: Server, warnings: string[], gaps: { n: number }): string[] {
  const lines: string[] = [];
  const h = s.host;
  const warn = (x: string): void => void warnings.push(`${s.label}: ${x}`);
  const names = (f: (d: DestEntry) => boolean): string[] => [...new Set(s.uses.filter((u) => f(u.d)).map((u) => serviceName(u.se)))];
  /** The NIC a destination's address is on: where the director's frames for it arrive. */
  const lanOf = (d: DestEntry): string | undefined => (h ? nicOf(h, d.addr) : undefined);

  // NAT: the replies go back through the director.
  const nat = names((d) => d.fwd === FwdMethod.Masq);
  if (nat.length > 0) {
    lines.push(`# NAT for ${nat.join(", ")}: the director rewrites the client's packets to this server and must see the replies to rewrite them back, so they leave through it.`);
    const viaDirector = h ? h.routes.list().filter((r) => r.gateway !== undefined && director.isLocalAddr(r.gateway)) : [];
    if (viaDirector.length > 0) {
      for (const r of viaDirector) lines.push(`ip route replace ${r.plen === 0 ? "default" : `${formatIp4(r.dst)}/${r.plen}`} via ${formatIp4(r.gateway!)}`);
    } else {
      const natAddr = s.uses.find((u) => u.d.fwd === FwdMethod.Masq)!.d.addr;
      const dip = directorAddrOn(director, natAddr);
      if (h) {
        const def = h.routes.list().find((r) => r.plen === 0);
        const gw = def?.gateway !== undefined ? `its default gateway is ${formatIp4(def.gateway)}${ownerName(lab, def.gateway)}` : "it has no default route";
        warn(`in the lab its replies do not go through the director (${gw})${dip !== undefined ? `; the script routes them via ${formatIp4(dip)}` : ""}`);
      }
      if (dip !== undefined) lines.push(`ip route replace default via ${formatIp4(dip)}`);
      else {
        lines.push("# The director has no address on this server's network: route the replies to the clients through it yourself (a router that sends them on to the director).");
        gaps.n++;
        warn(`the director has no address on the network of ${formatIp4(natAddr)}: no route is set`);
      }
    }
  }

  // DR and TUN: the VIP on this server, quiet on the LAN.
  const vipUses = s.uses.filter((u) => u.d.fwd === FwdMethod.Route || u.d.fwd === FwdMethod.Tunnel);
  const placed = new Set<string>();
  const tunDevs: string[] = [];
  const loaded = new Set<string>();
  for (const { se, d } of vipUses) {
    const tun = d.fwd === FwdMethod.Tunnel ? tunnelOf(d) : undefined;
    const dev = tun?.dev ?? "lo";
    const vips = se.key.fwmark ? labVips(h, dev) : [se.key.addr!];
    if (lines.length > 0) lines.push("");
    if (tun) {
      lines.push(`# TUN (${tun.what}) for ${serviceName(se)}: the director wraps the client's packet in a second IPv4 header to this server; ${dev} takes it off, and with the VIP on ${dev} the inner packet is for this host, which answers the client straight from the VIP.`);
      for (const l of tun.lines) if (!loaded.has(l)) (loaded.add(l), lines.push(l));
      if (!tunDevs.includes(dev)) tunDevs.push(dev);
      if (h && !h.nics.get(dev)?.up)
        warn(`in the lab ${dev} is ${h.nics.has(dev) ? "down" : `missing (no modprobe ${dev === "gre0" ? "ip_gre" : "ipip"})`}: the director's ${tun.what} packets would not be taken apart`);
      if (h && d.tunType === "gue") {
        const f = h.fouPorts.get(d.tunPort);
        if (!f || !f.gue) warn(`in the lab no \`ip fou add port ${d.tunPort} gue\` was done: the director's GUE packets would be refused as UDP to a closed port`);
      }
    } else {
      lines.push(`# DR for ${serviceName(se)}: the director hands on the client's frame unchanged but for its MAC, so this server must hold the VIP, on lo where it is never announced on the LAN.`);
    }
    if (se.key.fwmark && vips.length === 0) {
      lines.push(`# ${serviceName(se)} names no address: add the addresses its firewall mark matches here, as /32 on ${dev}.`);
      gaps.n++;
      warn(`${serviceName(se)} is a firewall-mark service and the lab gives this server no VIP to copy: add the marked addresses on ${dev} yourself`);
    }
    for (const v of vips) {
      const key = `${formatIp4(v)} ${dev}`;
      if (placed.has(key)) continue;
      placed.add(key);
      lines.push(`ip addr replace ${formatIp4(v)}/32 dev ${dev}`);
      const on = h ? nicOf(h, v) : undefined;
      if (h && on === undefined) warn(`in the lab it does not hold the VIP ${formatIp4(v)}: the director's ${tun ? "tunnelled packets" : "frames"} for it would be dropped`);
      if (h && on !== undefined && on === lanOf(d))
        warn(`in the lab it holds the VIP ${formatIp4(v)} on ${on}, its LAN interface, where it answers ARP for it whatever arp_ignore says: take it off there (ip addr del ${formatIp4(v)}/32 dev ${on})`);
    }
  }
  if (vipUses.length > 0) {
    lines.push(
      "",
      "# arp_ignore=1: answer ARP only for the addresses of the interface asked (never the VIP); arp_announce=2: ARP requests carry the interface's own address, never the VIP. Otherwise the LAN's ARP for the VIP may reach this server instead of the director.",
      "sysctl -q -w net.ipv4.conf.all.arp_ignore=1",
      "sysctl -q -w net.ipv4.conf.all.arp_announce=2",
    );
    // On every interface the director's DR or TUN traffic reaches this server by.
    for (const lanDev of new Set(vipUses.map((u) => lanOf(u.d)))) {
      if (!h || lanDev === undefined) continue;
      const ig = effective(h, lanDev, "arp_ignore");
      const an = effective(h, lanDev, "arp_announce");
      if (ig < 1) warn(`in the lab arp_ignore was ${ig} on ${lanDev}: it would answer ARP for the VIP`);
      if (an < 2) warn(`in the lab arp_announce was ${an} on ${lanDev}: its ARP requests could carry the VIP`);
    }
  }
  if (tunDevs.length > 0) {
    lines.push("", `# The client's packets come in by ${tunDevs.join(" and ")} and the route back leaves by the LAN: strict reverse-path filtering drops them (the kernel takes the larger of all and the device).`);
    lines.push("sysctl -q -w net.ipv4.conf.all.rp_filter=0");
    for (const dev of tunDevs) lines.push(`sysctl -q -w net.ipv4.conf.${dev}.rp_filter=0`);
    if (h) for (const dev of tunDevs) if (h.nics.has(dev) && effective(h, dev, "rp_filter") === 1) warn(`in the lab rp_filter was strict (1) on ${dev}: the tunnelled packets were dropped`);
  }

  // FullNAT: nothing to route; the client's address only by TOA or the PROXY protocol.
  const fnat = s.uses.filter((u) => u.d.fwd === FwdMethod.FullNat);
  if (fnat.length > 0) {
    if (lines.length > 0) lines.push("");
    const fn = [...new Set(fnat.map((u) => serviceName(u.se)))];
    lines.push(`# FullNAT (Alibaba LVS / DPVS directors) for ${fn.join(", ")}: both addresses are rewritten, so the replies go back to the director's local address with no route to set.`);
    const pp = [...new Set(fnat.filter((u) => u.se.proxyProtocol).map((u) => `${serviceName(u.se)} (v${u.se.proxyProtocol})`))];
    const plain = [...new Set(fnat.filter((u) => !u.se.proxyProtocol).map((u) => serviceName(u.se)))];
    if (pp.length > 0) lines.push(`# ${pp.join(", ")}: the client's address arrives in a PROXY protocol header, which the server must expect (nginx: listen PORT proxy_protocol;).`);
    if (plain.length > 0) {
      const which = pp.length > 0 ? `${plain.join(", ")}: ` : "";
      if (h?.tcp.toaEnabled)
        lines.push(`# ${which}${pp.length > 0 ? "the" : "The"} client's address arrives in the TOA option; the toa module (out of tree, built for this kernel) hands it to getpeername().`, "modprobe toa");
      else lines.push(`# ${which}${pp.length > 0 ? "without" : "Without"} the toa module the server sees the director's local address, not the client's.`);
    }
  }
  if (!lines.some((l) => l !== "" && !l.startsWith("#"))) lines.push(":");
  return lines;
}

/** A comment line longer than 92 characters, broken between words into several. */
export function wrapComment(line: string): string[] {
  if (!line.startsWith("# ") || line.length <= 92) return [line];
  const out: string[] = [];
  let cur = "#";
  for (const w of line.slice(2).split(" ")) {
    if (cur.length > 1 && cur.length + 1 + w.length > 92) {
      out.push(cur);
      cur = "#";
    }
    cur += ` ${w}`;
  }
  out.push(cur);
  return out;
}

/** The director's address on the network of `rip` (the NAT gateway a real server there uses). */
function directorAddrOn(director: Host, rip: Ip4): Ip4 | undefined {
  for (const nic of director.nics.values()) {
    if (nic.isLoopback) continue;
    for (const a of nic.addrs) if (a.plen < 32 && sameNet(a.addr, rip, a.plen)) return a.addr;
  }
  return undefined;
}

function ownerName(lab: BuiltLab, addr: Ip4): string {
  const h = ownerOf(lab, addr);
  return h ? ` (${h.name})` : "";
}

/** A fwmark service's VIPs on a lab host: what it holds on `dev` (lo: off 127/8). */
function labVips(h: Host | undefined, dev: string): Ip4[] {
  const nic = h?.nics.get(dev);
  return nic ? [...new Set(nic.addrs.map((a) => a.addr).filter((a) => a >>> 24 !== 127))] : [];
}
