/**
 * The network commands of a simulated host, by name. Each imitates the Debian 12 tool
 * (iproute2 6.1, net-tools 2.10, iptables 1.8.9 nf_tables, procps-ng 4.0.2, iputils
 * 20221126): same layouts, same error texts, same exit codes, over the Host's state.
 */
import type { Tool } from "../types.js";
import { arp } from "./arp.js";
import { dmesg } from "./dmesg.js";
import { hostname } from "./hostname.js";
import { ifconfig } from "./ifconfig.js";
import { ip } from "./ip.js";
import { iptables } from "./iptables.js";
import { lsmod, modprobe } from "./modprobe.js";
import { netstat } from "./netstat.js";
import { ping } from "./ping.js";
import { route } from "./route.js";
import { ss } from "./ss.js";
import { sysctl } from "./sysctl.js";

export const netTools: Record<string, Tool> = {
  arp,
  dmesg,
  hostname,
  ifconfig,
  ip,
  iptables,
  lsmod,
  modprobe,
  netstat,
  ping,
  route,
  ss,
  sysctl,
};

export { arp, dmesg, hostname, ifconfig, ip, iptables, lsmod, modprobe, netstat, ping, route, ss, sysctl };
