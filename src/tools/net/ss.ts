/**
 * `ss -t[a|l]n` (iproute2 6.1) from the host's TCP sockets. The column layout follows the
 * real tool for a non-terminal: state and queues fixed, addresses right-aligned, ports
 * left-aligned. (ss spreads spare width over an 80-column line; lvslab pads the peer port
 * to 12, which is what it does for typical address lengths.)
 */
import { formatIp4 } from "../../wire/index.js";
import type { Tool } from "../types.js";
import { hostOf } from "./common.js";

const SS_STATE: Record<string, string> = {
  ESTABLISHED: "ESTAB", SYN_SENT: "SYN-SENT", SYN_RECV: "SYN-RECV", FIN_WAIT1: "FIN-WAIT-1", FIN_WAIT2: "FIN-WAIT-2",
  TIME_WAIT: "TIME-WAIT", CLOSE: "UNCONN", CLOSE_WAIT: "CLOSE-WAIT", LAST_ACK: "LAST-ACK", LISTEN: "LISTEN", CLOSING: "CLOSING",
};

export const ss: Tool = async (ctx) => {
  const host = hostOf(ctx);
  const flags = ctx.argv.slice(1).filter((a) => a.startsWith("-")).join("");
  const all = flags.includes("a");
  const listening = flags.includes("l");
  const { stateKey } = await import("./netstat.js");
  const rows = host.tcp
    .sockets()
    .filter((s) => (all ? true : listening ? s.state === "LISTEN" : s.state !== "LISTEN"))
    .map((s) => ({
      state: SS_STATE[stateKey(s.state)] ?? s.state,
      rq: String(s.recvQ),
      sq: String(s.sendQ),
      la: s.localAddr === 0 ? "0.0.0.0" : formatIp4(s.localAddr),
      lp: String(s.localPort),
      pa: formatIp4(s.remoteAddr),
      pp: s.remotePort === 0 ? "*" : String(s.remotePort),
    }));
  const sw = Math.max(5, ...rows.map((r) => r.state.length));
  const aw = Math.max(13, ...rows.map((r) => r.la.length), ...rows.map((r) => r.pa.length));
  const pw = Math.max(4, ...rows.map((r) => r.lp.length));
  const ppw = Math.max(12, ...rows.map((r) => r.pp.length));
  let out = `${"State".padEnd(sw)} Recv-Q Send-Q ${"Local Address".padStart(aw)}:${"Port".padEnd(pw)} ${"Peer Address".padStart(aw)}:Port Process\n`;
  for (const r of rows) {
    out += `${r.state.padEnd(sw)} ${r.rq.padEnd(6)} ${r.sq.padEnd(6)} ${r.la.padStart(aw)}:${r.lp.padEnd(pw)} ${r.pa.padStart(aw)}:${r.pp.padEnd(ppw)}\n`;
  }
  ctx.io.stdout(out);
  return 0;
};
