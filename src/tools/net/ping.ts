/**
 * `ping` as iputils 20221126 prints it: ICMP echo requests through the host's IPv4 output
 * (DF set), replies and errors heard through host.icmpListeners, all timing in virtual
 * time. Options: -c -i -W -w -q -s -I -t -n -4. Payload as iputils builds it: a struct
 * timeval, then bytes counting up from 0x10.
 */
import type { Host } from "../../net/host.js";
import { bytesText } from "../../net/vfs.js";
import {
  ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_TIME_EXCEEDED, IPPROTO_ICMP, formatIp4, icmpEcho, parseIp4, type Ip4,
} from "../../wire/index.js";
import type { Tool, ToolContext } from "../types.js";
import { hostOf } from "./common.js";

interface PingOpts {
  count?: number;
  interval: number;
  linger: number;
  deadline?: number;
  quiet: boolean;
  size: number;
  iface?: string;
  ttl?: number;
  numeric: boolean;
}

const UNREACH_TEXT: Record<number, string> = {
  0: "Destination Net Unreachable",
  1: "Destination Host Unreachable",
  2: "Destination Protocol Unreachable",
  3: "Destination Port Unreachable",
  4: "Frag needed and DF set",
  5: "Source Route Failed",
  6: "Destination Net Unknown",
  7: "Destination Host Unknown",
  9: "Destination Net Prohibited",
  10: "Destination Host Prohibited",
  13: "Communication prohibited by filter",
};

function usageError(ctx: ToolContext, text: string): number {
  ctx.io.stderr(`ping: ${text}\n`);
  return 2;
}

function seconds(v: string): number | undefined {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v)) return undefined;
  return Math.round(Number(v) * 1e6);
}

function resolve(host: Host, name: string): Ip4 | undefined {
  const a = parseIp4(name);
  if (a !== undefined) return a;
  const f = host.fs.read("/etc/hosts");
  if (typeof f === "string") return undefined;
  for (const line of bytesText(f).split("\n")) {
    const w = line.replace(/#.*/, "").trim().split(/\s+/);
    if (w.length > 1 && w.slice(1).includes(name)) return parseIp4(w[0]!);
  }
  return undefined;
}

export const ping: Tool = async (ctx) => {
  const host = hostOf(ctx);
  const o: PingOpts = { interval: 1_000_000, linger: 10_000_000, quiet: false, size: 56, numeric: false };
  let target: string | undefined;
  const argv = ctx.argv.slice(1);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("-") || a === "-") {
      target = a;
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (c === "q") o.quiet = true;
      else if (c === "n") o.numeric = true;
      else if (c === "4") continue;
      else if ("ciWwsIt".includes(c)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (v === undefined) {
          ctx.io.stderr(`ping: option requires an argument -- '${c}'\n`);
          return 2;
        }
        const bad = (min: number, max: string) => usageError(ctx, `invalid argument: '${v}': out of range: ${min} <= value <= ${max}`);
        if (c === "c") {
          if (!/^\d+$/.test(v) || Number(v) < 1) return bad(1, "9223372036854775807");
          o.count = Number(v);
        } else if (c === "s") {
          if (!/^\d+$/.test(v) || Number(v) > 65507) return bad(0, "2147483647");
          o.size = Number(v);
        } else if (c === "t") {
          if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 255) return bad(1, "255");
          o.ttl = Number(v);
        } else if (c === "I") o.iface = v;
        else {
          const us = seconds(v);
          if (us === undefined) return usageError(ctx, `bad timing interval: ${v}`);
          if (c === "i") o.interval = us;
          else if (c === "W") o.linger = us;
          else o.deadline = us;
        }
        break;
      } else {
        ctx.io.stderr(`ping: invalid option -- '${c}'\n`);
        return 2;
      }
    }
  }
  if (target === undefined) return usageError(ctx, "usage error: Destination address required");
  const dst = resolve(host, target);
  if (dst === undefined) return usageError(ctx, `${target}: Temporary failure in name resolution`);
  const d = formatIp4(dst);

  let src: Ip4 | undefined;
  let fromText = "";
  if (o.iface !== undefined) {
    const asAddr = parseIp4(o.iface);
    if (asAddr !== undefined) {
      if (!host.isLocalAddr(asAddr)) return usageError(ctx, `bind: Cannot assign requested address`);
      src = asAddr;
      fromText = ` from ${o.iface} `;
    } else {
      const nic = host.nics.get(o.iface);
      if (!nic) return usageError(ctx, `SO_BINDTODEVICE ${o.iface}: No such device`);
      src = host.selectAddr(nic, dst);
      fromText = ` from ${src !== undefined ? formatIp4(src) : "0.0.0.0"} ${o.iface}: `;
    }
  }
  const rt = host.routeOutput(dst);
  if (!rt) return usageError(ctx, "connect: Network is unreachable");
  src ??= rt.src;

  const name = parseIp4(target) !== undefined ? d : target;
  ctx.io.stdout(`PING ${name} (${d})${fromText || " "}${o.size}(${o.size + 28}) bytes of data.\n`);

  const id = host.rng.below(65536);
  const sent = new Map<number, number>();
  const rtts: number[] = [];
  let ntx = 0;
  let nerr = 0;
  let pipe = 1;
  let lastSend = 0;
  const start = ctx.now();
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const label = (a: Ip4) => formatIp4(a);
  const listener = (from: Ip4, _to: Ip4, icmp: Uint8Array, ttl: number, ipLen: number) => {
    const type = icmp[0]!;
    if (type === ICMP_ECHOREPLY) {
      if (((icmp[4]! << 8) | icmp[5]!) !== id) return;
      const seq = (icmp[6]! << 8) | icmp[7]!;
      const t0 = sent.get(seq);
      if (t0 === undefined) return;
      sent.delete(seq);
      const rtt = ctx.now() - t0;
      rtts.push(rtt);
      pipe = Math.max(pipe, ntx - seq + 1);
      if (!o.quiet) ctx.io.stdout(`${ipLen - 20} bytes from ${label(from)}: icmp_seq=${seq} ttl=${ttl} time=${fmtRtt(rtt)}\n`);
      poke();
      return;
    }
    if (type !== ICMP_DEST_UNREACH && type !== ICMP_TIME_EXCEEDED) return;
    // The quoted datagram: our echo request (inner IP header, then its ICMP header).
    const inner = icmp.subarray(8);
    if (inner.length < 28 || inner[9] !== IPPROTO_ICMP) return;
    const ihl = (inner[0]! & 15) * 4;
    const q = inner.subarray(ihl);
    if (q.length < 8 || q[0] !== ICMP_ECHO || ((q[4]! << 8) | q[5]!) !== id) return;
    const seq = (q[6]! << 8) | q[7]!;
    if (!sent.delete(seq)) return;
    nerr++;
    pipe = Math.max(pipe, ntx - seq + 1);
    if (!o.quiet) {
      let text: string;
      if (type === ICMP_TIME_EXCEEDED) text = icmp[1] === 0 ? "Time to live exceeded" : "Frag reassembly time exceeded";
      else {
        text = UNREACH_TEXT[icmp[1]!] ?? `Dest Unreachable, Bad Code: ${icmp[1]}`;
        if (icmp[1] === 4) text += ` (mtu = ${(icmp[6]! << 8) | icmp[7]!})`;
      }
      ctx.io.stdout(`From ${label(from)} icmp_seq=${seq} ${text}\n`);
    }
    poke();
  };
  host.icmpListeners.add(listener);
  let interrupted = false;
  void ctx.interrupted.then(() => {
    interrupted = true;
    poke();
  });

  const payload = (now: number): Uint8Array => {
    const b = new Uint8Array(o.size);
    for (let i = 0; i < b.length; i++) b[i] = i & 0xff;
    if (b.length >= 16) {
      const us = ctx.epochMicros(now);
      const sec = Math.floor(us / 1e6);
      const usec = us % 1e6;
      const v = new DataView(b.buffer);
      v.setUint32(0, sec >>> 0, true);
      v.setUint32(4, Math.floor(sec / 2 ** 32), true);
      v.setUint32(8, usec, true);
      v.setUint32(12, 0, true);
    }
    return b;
  };

  let nextSend = start;
  try {
    for (;;) {
      const now = ctx.now();
      if (interrupted || ctx.isInterrupted()) break;
      if (o.deadline !== undefined && now - start >= o.deadline) break;
      const nrx = rtts.length;
      if (o.count !== undefined && nrx >= o.count) break;
      const allSent = o.count !== undefined && ntx >= o.count;
      if (allSent && o.deadline === undefined) {
        if (nrx + nerr >= ntx) break;
        if (now - lastSend >= o.linger) break;
      }
      if (!allSent && now >= nextSend) {
        ntx++;
        const seq = ntx & 0xffff;
        sent.set(seq, now);
        lastSend = now;
        // IP_PMTUDISC_WANT (__ip_make_skb): DF only while the packet fits the route's MTU
        // (a learnt path MTU included); a larger one leaves in fragments.
        const df = o.size + 28 <= (host.routeMtu(dst) ?? 1500);
        host.ipOutput(src, dst, IPPROTO_ICMP, icmpEcho(ICMP_ECHO, id, seq, payload(now)), { df, ttl: o.ttl });
        nextSend = now + o.interval;
        continue;
      }
      let until = allSent ? lastSend + o.linger : nextSend;
      if (o.deadline !== undefined) until = allSent ? start + o.deadline : Math.min(until, start + o.deadline);
      const wait = Math.max(0, until - now);
      await new Promise<void>((res) => {
        wake = res;
        void ctx.sleep(wait).then(() => {
          if (wake === res) poke();
        });
      });
    }
  } finally {
    host.icmpListeners.delete(listener);
  }

  const nrx = rtts.length;
  const elapsed = Math.floor((lastSend - start + 500) / 1000);
  let s = `\n--- ${name} ping statistics ---\n`;
  s += `${ntx} packets transmitted, ${nrx} received`;
  if (nerr) s += `, +${nerr} errors`;
  if (ntx) s += `, ${fmtG(((ntx - nrx) * 100) / ntx)}% packet loss, time ${elapsed}ms`;
  s += "\n";
  let comma = "";
  if (nrx) {
    const min = Math.min(...rtts);
    const max = Math.max(...rtts);
    const sum = rtts.reduce((a, b) => a + b, 0);
    const sum2 = rtts.reduce((a, b) => a + b * b, 0);
    const avg = Math.floor(sum / nrx);
    const mdev = Math.floor(Math.sqrt(Math.floor(sum2 / nrx) - avg * avg));
    s += `rtt min/avg/max/mdev = ${ms3(min)}/${ms3(avg)}/${ms3(max)}/${ms3(mdev)} ms`;
    comma = ", ";
  }
  if (pipe > 1) s += `${comma}pipe ${pipe}`;
  s += "\n";
  ctx.io.stdout(s);
  return nrx === 0 || (o.deadline !== undefined && o.count !== undefined && nrx < o.count) ? 1 : 0;
};

function ms3(us: number): string {
  return `${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, "0")}`;
}

/** iputils' per-reply time: fewer decimals as the time grows. */
function fmtRtt(t: number): string {
  if (t >= 100000 - 50) return `${Math.floor((t + 500) / 1000)} ms`;
  if (t >= 10000 - 5) return `${Math.floor((t + 50) / 1000)}.${Math.floor(((t + 50) % 1000) / 100)} ms`;
  if (t >= 1000) return `${Math.floor((t + 5) / 1000)}.${String(Math.floor(((t + 5) % 1000) / 10)).padStart(2, "0")} ms`;
  return `${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, "0")} ms`;
}

/** printf("%g") for a percentage. */
function fmtG(v: number): string {
  return String(Number(Math.fround(v).toPrecision(6)));
}
