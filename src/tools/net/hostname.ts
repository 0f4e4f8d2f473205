/** `hostname` (Debian hostname 3.23): print or set kernel.hostname; -I lists addresses. */
import { formatIp4 } from "../../wire/index.js";
import type { Tool } from "../types.js";
import { hostOf, nicsByIndex, orderedAddrs } from "./common.js";

export const hostname: Tool = async (ctx) => {
  const host = hostOf(ctx);
  const args = ctx.argv.slice(1);
  const name = host.sysctl.get("kernel.hostname") ?? host.name;
  if (args.length === 0 || ["-s", "--short", "-f", "--fqdn", "--long"].includes(args[0]!)) {
    ctx.io.stdout((args[0] === "-s" || args[0] === "--short" ? name.split(".")[0] : name) + "\n");
    return 0;
  }
  if (args[0] === "-I" || args[0] === "--all-ip-addresses") {
    const addrs = nicsByIndex(host).filter((n) => !n.isLoopback && n.up).flatMap((n) => orderedAddrs(n).map((a) => formatIp4(a.addr) + " "));
    ctx.io.stdout(addrs.join("") + "\n");
    return 0;
  }
  if (args[0]!.startsWith("-")) {
    ctx.io.stderr(`hostname: invalid option -- '${args[0]!.slice(1, 2)}'\nTry 'hostname --help' for more information.\n`);
    return 1;
  }
  const err = host.sysctl.set("kernel.hostname", args[0]!);
  if (err) {
    ctx.io.stderr("hostname: you must be root to change the host name\n");
    return 1;
  }
  return 0;
};
