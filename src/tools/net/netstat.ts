/** `netstat -t[a|l]n` (net-tools 2.10) from the host's TCP sockets. */
import type { TcpSocketInfo } from "../../tcp/index.js";
import { formatIp4 } from "../../wire/index.js";
import type { Tool } from "../types.js";
import { hostOf, padR } from "./common.js";

const NETSTAT_STATE: Record<string, string> = {
  ESTABLISHED: "ESTABLISHED", SYN_SENT: "SYN_SENT", SYN_RECV: "SYN_RECV", FIN_WAIT1: "FIN_WAIT1", FIN_WAIT2: "FIN_WAIT2",
  TIME_WAIT: "TIME_WAIT", CLOSE: "CLOSE", CLOSE_WAIT: "CLOSE_WAIT", LAST_ACK: "LAST_ACK", LISTEN: "LISTEN", CLOSING: "CLOSING",
};

export function stateKey(s: string): string {
  return s.replace(/-/g, "_").toUpperCase().replace("FIN_WAIT_1", "FIN_WAIT1").replace("FIN_WAIT_2", "FIN_WAIT2").replace("SYN_RCVD", "SYN_RECV");
}

export const netstat: Tool = async (ctx) => {
  const host = hostOf(ctx);
  const flags = ctx.argv.slice(1).filter((a) => a.startsWith("-")).join("");
  const all = flags.includes("a");
  const listening = flags.includes("l");
  const numeric = flags.includes("n");
  const socks: TcpSocketInfo[] = host.tcp.sockets().filter((s) => (all ? true : listening ? s.state === "LISTEN" : s.state !== "LISTEN"));
  const title = all ? "servers and established" : listening ? "only servers" : "w/o servers";
  let out = `Active Internet connections (${title})\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \n`;
  const ep = (a: number, p: number) => `${a === 0 && !numeric ? "0.0.0.0" : formatIp4(a)}:${p === 0 ? "*" : p}`;
  for (const s of socks) {
    const st = NETSTAT_STATE[stateKey(s.state)] ?? s.state;
    out += `tcp   ${String(s.recvQ).padStart(6)} ${String(s.state === "LISTEN" ? 0 : s.sendQ).padStart(6)} ${padR(ep(s.localAddr, s.localPort), 23)} ${padR(ep(s.remoteAddr, s.remotePort), 23)} ${padR(st, 11)}\n`;
  }
  ctx.io.stdout(out);
  return 0;
};
