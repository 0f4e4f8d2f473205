/**
 * What every lab host gets beyond the bare Host: /proc and the network tools.
 */
import type { Host } from "../net/host.js";
import { mountProc } from "../net/procfs.js";
import { netTools } from "../tools/net/index.js";

export function standardSetup(host: Host): void {
  mountProc(host);
  for (const [name, tool] of Object.entries(netTools)) host.tools.set(name, tool);
}
