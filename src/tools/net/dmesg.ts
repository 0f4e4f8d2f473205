/** `dmesg`: the host's kernel log; -c prints then clears, -C clears. */
import type { Tool } from "../types.js";
import { hostOf } from "./common.js";

export const dmesg: Tool = async (ctx) => {
  const host = hostOf(ctx);
  const args = ctx.argv.slice(1);
  if (!args.includes("-C") && !args.includes("--clear")) ctx.io.stdout(host.dmesg.map((l) => l + "\n").join(""));
  if (args.some((a) => a === "-c" || a === "-C" || a === "--read-clear" || a === "--clear")) host.dmesg.length = 0;
  return 0;
};
