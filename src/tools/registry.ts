/**
 * The commands every simulated host has, by name (as $PATH would find them).
 */
import type { Tool } from "./types.js";
import { coreTools } from "./sh/index.js";
import { makeIpvsadm, makeIpvsadmRestore, makeIpvsadmSave } from "./ipvsadm/index.js";
import { tcpdump } from "./tcpdump/index.js";
import { curl } from "./curl.js";
import type { Host } from "../net/host.js";

export function hostTools(host: Host, extra: Record<string, Tool> = {}): Map<string, Tool> {
  const ipvs = () => host.ipvs;
  const m = new Map<string, Tool>(Object.entries(coreTools));
  m.set("ipvsadm", makeIpvsadm(ipvs));
  m.set("ipvsadm-save", makeIpvsadmSave(ipvs));
  m.set("ipvsadm-restore", makeIpvsadmRestore(ipvs));
  m.set("tcpdump", tcpdump);
  m.set("curl", curl);
  for (const [k, v] of Object.entries(extra)) m.set(k, v);
  return m;
}
