/** `ifconfig` (net-tools 2.10): interfaces sorted by name, primary IPv4 address, counters. */
import type { Nic } from "../../net/host.js";
import { broadcastOf, formatIp4, formatMac, prefixToMask } from "../../wire/index.js";
import type { Tool } from "../types.js";
import { hostOf, noBroadcast, orderedAddrs } from "./common.js";

function scaled(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${n} (${v.toFixed(1)} ${units[u]})`;
}

function flags(nic: Nic): { value: number; names: string } {
  const running = nic.up && (nic.isLoopback || nic.segment !== undefined);
  const bits: Array<[number, string, boolean]> = [
    [0x1, "UP", nic.up],
    [0x2, "BROADCAST", !nic.isLoopback],
    [0x8, "LOOPBACK", nic.isLoopback],
    [0x40, "RUNNING", running],
    [0x100, "PROMISC", nic.promisc > 0],
    [0x1000, "MULTICAST", !nic.isLoopback],
  ];
  const on = bits.filter((b) => b[2]);
  return { value: on.reduce((a, b) => a | b[0], 0), names: on.map((b) => b[1]).join(",") };
}

export function ifconfigBlock(nic: Nic): string {
  const f = flags(nic);
  let s = `${nic.name}: flags=${f.value}<${f.names}>  mtu ${nic.mtu}\n`;
  const a = orderedAddrs(nic)[0];
  if (a) {
    s += `        inet ${formatIp4(a.addr)}  netmask ${formatIp4(prefixToMask(a.plen))}`;
    if (!nic.isLoopback) s += `  broadcast ${noBroadcast.has(a) || a.plen >= 31 ? "0.0.0.0" : formatIp4(broadcastOf(a.addr, a.plen))}`;
    s += "\n";
  }
  s += nic.isLoopback
    ? "        loop  txqueuelen 1000  (Local Loopback)\n"
    : `        ether ${formatMac(nic.mac)}  txqueuelen 1000  (Ethernet)\n`;
  const st = nic.stats;
  s += `        RX packets ${st.rxPackets}  bytes ${scaled(st.rxBytes)}\n`;
  s += `        RX errors 0  dropped ${st.rxDropped}  overruns 0  frame 0\n`;
  s += `        TX packets ${st.txPackets}  bytes ${scaled(st.txBytes)}\n`;
  s += `        TX errors 0  dropped ${st.txDropped} overruns 0  carrier 0  collisions 0\n`;
  return s + "\n";
}

export const ifconfig: Tool = async (ctx) => {
  const host = hostOf(ctx);
  const args = ctx.argv.slice(1);
  let all = false;
  if (args[0] === "-a") {
    all = true;
    args.shift();
  }
  if (args.length === 0) {
    const nics = [...host.nics.values()].filter((n) => all || n.up).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    ctx.io.stdout(nics.map(ifconfigBlock).join(""));
    return 0;
  }
  const name = args.shift()!;
  const nic = host.nics.get(name);
  if (!nic) {
    if (args.length === 0) ctx.io.stderr(`${name}: error fetching interface information: Device not found\n`);
    else ctx.io.stderr(`SIOCSIFFLAGS: No such device\n`);
    return 1;
  }
  if (args.length === 0) {
    ctx.io.stdout(ifconfigBlock(nic));
    return 0;
  }
  for (const a of args) {
    if (a === "up" || a === "down") {
      const { ip } = await import("./ip.js");
      return ip({ ...ctx, argv: ["ip", "link", "set", "dev", name, a] });
    }
  }
  ctx.io.stderr("ifconfig: lvslab models only listing and up/down; use \"ip addr\" to change addresses\n");
  return 1;
};
