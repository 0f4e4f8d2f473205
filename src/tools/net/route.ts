/** `route` (net-tools 2.10): the routing table listing (-n numeric; -e/-ee not modelled). */
import { formatIp4, prefixToMask } from "../../wire/index.js";
import type { Tool } from "../types.js";
import { hostOf, padR } from "./common.js";

export const route: Tool = async (ctx) => {
  const host = hostOf(ctx);
  let numeric = false;
  for (const a of ctx.argv.slice(1)) {
    if (/^-[nv4]+$/.test(a) || a === "--numeric") {
      if (a.includes("n") || a === "--numeric") numeric = true;
      continue;
    }
    ctx.io.stderr(`route: lvslab models only the listing (route [-n]); use "ip route" to change routes\n`);
    return 4;
  }
  let out = "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n";
  for (const r of host.routes.list()) {
    const dst = r.plen === 0 && !numeric ? "default" : formatIp4(r.dst);
    const gw = r.gateway !== undefined ? formatIp4(r.gateway) : numeric ? "0.0.0.0" : "0.0.0.0";
    const flags = "U" + (r.gateway !== undefined ? "G" : "") + (r.plen === 32 ? "H" : "");
    out += `${padR(dst, 15)} ${padR(gw, 15)} ${padR(formatIp4(prefixToMask(r.plen)), 15)} ${padR(flags, 5)} ${padR(String(r.metric), 6)} ${padR("0", 2)} ${"0".padStart(7)} ${r.dev}\n`;
  }
  ctx.io.stdout(out);
  return 0;
};
