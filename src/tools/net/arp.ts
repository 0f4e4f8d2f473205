/** `arp` (net-tools 2.10): the neighbour table as `arp -n` and `arp -a` print it. */
import { formatIp4, formatMac } from "../../wire/index.js";
import type { Tool } from "../types.js";
import { hostOf, padR } from "./common.js";

export const arp: Tool = async (ctx) => {
  const host = hostOf(ctx);
  let bsd = false;
  for (const a of ctx.argv.slice(1)) {
    if (/^-[anv]+$/.test(a)) {
      if (a.includes("a")) bsd = true;
      continue;
    }
    ctx.io.stderr("arp: lvslab models only the listing (arp -n, arp -a); use \"ip neigh\" to change entries\n");
    return 1;
  }
  const entries = host.neigh.list();
  let out = "";
  if (!bsd && entries.length > 0) out += "Address                  HWtype  HWaddress           Flags Mask            Iface\n";
  for (const e of entries) {
    const ok = e.mac !== undefined && e.state !== "INCOMPLETE" && e.state !== "FAILED";
    const perm = e.state === "PERMANENT";
    if (bsd) {
      out += ok
        ? `? (${formatIp4(e.ip)}) at ${formatMac(e.mac!)} [ether] ${perm ? "PERM " : ""}on ${e.dev}\n`
        : `? (${formatIp4(e.ip)}) at <incomplete> on ${e.dev}\n`;
    } else {
      out += ok
        ? `${padR(formatIp4(e.ip), 25)}${padR("ether", 8)}${padR(formatMac(e.mac!), 20)}${padR(perm ? "CM" : "C", 6)}${" ".repeat(16)}${e.dev}\n`
        : `${padR(formatIp4(e.ip), 25)}${" ".repeat(8)}${padR("(incomplete)", 20)}${" ".repeat(22)}${e.dev}\n`;
    }
  }
  ctx.io.stdout(out);
  return 0;
};
