/**
 * Names and shell snippets for a lab built from Linux network namespaces.
 *
 * Layout: one namespace per lab host (`lvs-<id>-<host>`), whose interfaces carry the lab's
 * names and MACs, plus one "switch" namespace (`lvs-<id>`) holding a Linux bridge per
 * segment; each NIC is a veth pair from the host's namespace to a bridge port. Nothing is
 * created in the namespace lvslab was started from, and `<id>` (from the lab's name) keeps
 * the names apart from the user's own namespaces and from other labs.
 */
import type { HostSpec, LabSpec } from "../lab/schema.js";
import { formatIp4 } from "../wire/addr.js";

/** 6 hex digits of FNV-1a over the lab's name. */
export function labId(labName: string): string {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(labName, "utf8")) {
    h ^= c;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0").slice(0, 6);
}

export const NS_PREFIX = "lvs-";

export function switchNs(id: string): string {
  return `${NS_PREFIX}${id}`;
}

export function hostNs(id: string, host: string): string {
  return `${NS_PREFIX}${id}-${host}`;
}

/** The bridge of segment number `i` (in the switch namespace). */
export function bridgeName(i: number): string {
  return `br${i}`;
}

/** The switch-side end of host number `hi`'s NIC `nic` (IFNAMSIZ: at most 15 characters). */
export function portName(hi: number, ni: number, nic: string): string {
  const n = `h${hi}-${nic}`;
  return n.length <= 15 ? n : `h${hi}n${ni}`;
}

/** Single-quote for sh. */
export function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Checksum and segmentation offloads off, so frames on the wire carry full checksums and
 * no super-frames — what a user-space data plane reading AF_PACKET sockets needs, and what
 * the simulator's frames look like. Missing ethtool is survivable (warned by the caller).
 */
export function offloadsOff(dev: string): string {
  return `ethtool -K ${sq(dev)} tx off tso off gso off gro off >/dev/null 2>&1 || echo "lvslab: warning: ethtool -K ${dev} failed; offloads stay on" >&2`;
}

/** sysctls only make sense per namespace under net.*; the rest would change the machine. */
export function isNamespacedSysctl(name: string): boolean {
  return name.startsWith("net.");
}

function procSysPath(name: string): string {
  return `/proc/sys/${name.replace(/\./g, "/")}`;
}

/** net.ipv4.tcp_rmem of Linux 6.1 (Debian 12) on a machine with a few GB of memory. */
export const TCP_RMEM_6_1 = "4096 131072 6291456";

/** Lines run in a new host or switch namespace before any interface exists. */
export function namespaceInit(): string[] {
  return [
    "ip link set lo up",
    // The simulator has no IPv6; without this, router solicitations and MLD reports appear in captures.
    "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null || true",
    "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null || true",
    // Linux 6.1's receive buffer limit (newer kernels raised it to 32 MB): it sets the window
    // scale a SYN offers (7, not 10) and so every window tcpdump prints, as in the simulator.
    `echo '${TCP_RMEM_6_1}' > /proc/sys/net/ipv4/tcp_rmem`,
  ];
}

/**
 * Lines run in a host's namespace once its NICs exist: offloads off, links up and — for a
 * host the kernel runs (not the IPVS director, which is lvslab itself) — the lab's sysctls,
 * addresses and routes, in that order (a route needs its addresses).
 */
export function hostConfig(h: HostSpec, opts: { kernelOwnsAddresses: boolean }): { lines: string[]; skipped: string[] } {
  const lines: string[] = [];
  const skipped: string[] = [];
  for (const n of h.nics) {
    lines.push(offloadsOff(n.name), `ip link set ${sq(n.name)} up`);
  }
  if (!opts.kernelOwnsAddresses) {
    // The director's data plane is lvslab: the kernel here must not own the VIP or forward.
    lines.push("echo 0 > /proc/sys/net/ipv4/ip_forward");
    return { lines, skipped };
  }
  for (const s of h.sysctl) {
    if (!isNamespacedSysctl(s.name)) {
      skipped.push(`${h.name}: sysctl ${s.name}=${s.value} is not per network namespace; not applied`);
      continue;
    }
    lines.push(`echo ${sq(s.value)} > ${sq(procSysPath(s.name))}`);
  }
  for (const n of h.nics) for (const a of n.addrs) lines.push(`ip addr add ${a.text} brd + dev ${sq(n.name)}`);
  for (const r of h.routes) {
    let line = `ip route add ${r.to.prefix === 0 ? "default" : r.to.text}`;
    if (r.via !== undefined) line += ` via ${formatIp4(r.via)}`;
    if (r.dev !== undefined) line += ` dev ${sq(r.dev)}`;
    if (r.metric !== undefined) line += ` metric ${r.metric}`;
    lines.push(line);
  }
  return { lines, skipped };
}

/** Every namespace a lab uses, switch first. */
export function labNamespaces(spec: LabSpec, id: string): string[] {
  return [switchNs(id), ...spec.hosts.map((h) => hostNs(id, h.name))];
}
