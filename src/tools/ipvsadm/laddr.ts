/**
 * `ipvsadm -G` (--get-laddr): FullNAT local addresses, an lvslab extension with the layout of
 * Alibaba LVS's ipvsadm (list_laddrs_print_title / _service / _laddr; DPVS prints the same):
 * a title, then per service its VIP:VPORT (always numeric) and the number of addresses, then
 * one line per address with its port conflicts and connections.
 */
import type { LaddrEntry } from "../../ipvs/api.js";
import { formatIp4 } from "./resolver.js";

const padL = (s: string, w: number): string => (s.length >= w ? s : s + " ".repeat(w - s.length));

export function formatLaddrTitle(): string {
  return `${padL("VIP:VPORT", 20)} ${padL("TOTAL", 8)} ${padL("LADDR", 20)} ${padL("CONFLICTS", 10)} ${padL("CONNS", 10)}\n`;
}

/** One service: "%-20s %-8u \n", then "%-20s %-8s %-20s %-10lu %-10u\n" per address. */
export function formatServiceLaddrs(vname: string, list: readonly LaddrEntry[]): string {
  let out = `${padL(vname, 20)} ${padL(String(list.length), 8)} \n`;
  for (const l of list) {
    out += `${padL("", 20)} ${padL("", 8)} ${padL(formatIp4(l.addr), 20)} ${padL(String(l.portConflict), 10)} ${padL(String(l.connCounts), 10)}\n`;
  }
  return out;
}
