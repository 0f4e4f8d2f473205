/**
 * What every lab host gets beyond the bare Host: /proc and the network tools.
 */
import type { Host } from "../net/host.js";
import { SysctlTable } from "../net/sysctl.js";
import { textBytes, bytesText } from "../net/vfs.js";

export function standardSetup(host: Host): void {
  host.fs.mount("/proc/sys", {
    read: (rel) => {
      const v = host.sysctl.get(SysctlTable.fromPath(rel));
      return v === undefined ? "ENOENT" : textBytes(v + "\n");
    },
    write: (rel, data) => {
      const err = host.sysctl.set(SysctlTable.fromPath(rel), bytesText(data));
      return err ?? true;
    },
    isDir: (rel) => rel === "" || host.sysctl.names().some((n) => n.startsWith(SysctlTable.fromPath(rel) + ".")),
    list: (rel) => {
      const pre = rel === "" ? "" : SysctlTable.fromPath(rel) + ".";
      return [...new Set(host.sysctl.names().filter((n) => n.startsWith(pre)).map((n) => n.slice(pre.length).split(".")[0]!))].sort();
    },
  });
}
