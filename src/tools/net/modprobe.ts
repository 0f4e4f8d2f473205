/**
 * `modprobe` / `lsmod` for the modules LVS labs touch. Loading ip_vs (or a scheduler
 * module, which pulls it in) enables the host's IPVS engine, unless the lab forbids it
 * with `host.ipvsAllowed === false`. Module sizes are those of Debian 12's 6.1 kernel.
 */
import type { Host } from "../../net/host.js";
import type { Tool } from "../types.js";
import { hostOf } from "./common.js";

const KVER = "6.1.0-28-amd64";
const IPVS_MODULES = ["ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_lblc", "ip_vs_lblcr", "ip_vs_dh", "ip_vs_sh", "ip_vs_sed", "ip_vs_nq", "ip_vs_fo", "ip_vs_ovf", "ip_vs_mh", "ip_vs_ftp", "ip_vs_pe_sip"]; // no ip_vs_twos before Linux 6.2;
// toa: the real-server module of Alibaba LVS / DPVS (built out of tree; lvslab hosts have it).
const OTHER_MODULES = ["toa", "nf_conntrack", "nf_nat", "iptable_nat", "iptable_filter", "iptable_mangle", "ip_tables", "x_tables", "xt_MASQUERADE", "xt_mark", "xt_tcpudp", "xt_multiport", "ipip", "fou", "ip_gre", "gre", "tun", "dummy", "bridge", "8021q"];

/** Whether the simulated hosts' modprobe knows this module. */
export function isSimulatedModule(name: string): boolean {
  return IPVS_MODULES.includes(name) || OTHER_MODULES.includes(name);
}

function ipvsAllowed(host: Host): boolean {
  return host["ipvsAllowed"] !== false;
}

export const modprobe: Tool = async (ctx) => {
  const host = hostOf(ctx);
  const args = ctx.argv.slice(1).filter((a) => a !== "-v" && a !== "-q" && a !== "-a");
  const quiet = ctx.argv.includes("-q");
  const remove = args[0] === "-r" || args[0] === "--remove";
  const mods = remove ? args.slice(1) : args;
  if (mods.length === 0) {
    ctx.io.stderr("modprobe: ERROR: missing parameters. See -h.\n");
    return 1;
  }
  for (const m of remove ? mods : mods.slice(0, 1)) {
    const mod = m.replace(/-/g, "_");
    const known = IPVS_MODULES.includes(mod) || OTHER_MODULES.includes(mod);
    if (!known || (mod.startsWith("ip_vs") && !ipvsAllowed(host))) {
      if (!quiet) ctx.io.stderr(`modprobe: FATAL: Module ${m} not found in directory /lib/modules/${KVER}\n`);
      return 1;
    }
    if (remove) {
      if (mod.startsWith("ip_vs") && host.ipvs) {
        ctx.io.stderr(`modprobe: FATAL: Module ${m} is in use.\n`);
        return 1;
      }
      if (mod === "toa" && host.tcp.toaEnabled) {
        host.tcp.toaEnabled = false;
        host.klog("TOA: toa unloaded");
      }
      continue;
    }
    if (mod === "ipip") host.enableIpip(); // creates tunl0, down
    if (mod === "ip_gre") host.enableGre(); // gre0, gretap0, erspan0, down
    if (mod === "fou") host.fouLoaded = true; // `ip fou` works
    if (mod === "toa" && !host.tcp.toaEnabled) {
      // toa_init: hooks syn_recv_sock and getname, creates /proc/net/toa_stats. (Its lines
      // with kernel pointers, "CPU [0] hooked ...", are left out.)
      host.tcp.toaEnabled = true;
      host.klog("TOA: TOA 1.0.0.0 by pukong.wjm");
      host.klog("TOA: toa loaded");
    }
    if (mod.startsWith("ip_vs")) {
      const engine = host.enableIpvs();
      // A scheduler module registers itself on load (and logs it), as ip_vs_rr etc. do.
      if (mod === "ip_vs_pe_sip") engine.loadPe("sip");
      else if (mod !== "ip_vs" && mod !== "ip_vs_ftp") engine.loadScheduler(mod.slice("ip_vs_".length));
    }
  }
  return 0;
};

export const lsmod: Tool = async (ctx) => {
  const host = hostOf(ctx);
  let out = "Module                  Size  Used by\n";
  const row = (name: string, size: number, used: string) => `${name.padEnd(19)} ${String(size).padStart(8)}  ${used}\n`;
  if (host.ipvs) {
    out += row("ip_vs", 196608, "0");
    out += row("nf_conntrack", 176128, "1 ip_vs");
    out += row("nf_defrag_ipv6", 24576, "2 nf_conntrack,ip_vs");
    out += row("nf_defrag_ipv4", 16384, "1 nf_conntrack");
    out += row("libcrc32c", 16384, "2 nf_conntrack,ip_vs");
  }
  ctx.io.stdout(out);
  return 0;
};
