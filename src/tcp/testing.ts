/**
 * Test support (not re-exported): TCP stacks wired back to back on an EventQueue with a
 * fixed one-way latency, a capture of every segment, and tcpdump-like rendering
 * (`-nn`, relative sequence numbers as tcpdump 4.99 computes them).
 */
import type { Micros } from "../sim/clock.js";
import { EventQueue } from "../sim/queue.js";
import { Rng } from "../sim/rng.js";
import { type Ip4, formatIp4 } from "../wire/addr.js";
import { TCP_ACK, type TcpSegment, parseTcp } from "../wire/tcp.js";
import { tcpFlagsToText, tcpOptionsToText } from "../wire/testing.js";
import { TcpStack } from "./stack.js";

export interface Captured {
  t: Micros;
  src: Ip4;
  dst: Ip4;
  seg: TcpSegment;
}

export interface TestHostOptions {
  sysctl?: Record<string, string>;
  seed?: number;
  /** The route MTU (a function: it may change, as a learnt path MTU does). */
  mtu?: number | (() => number);
}

export class TestNet {
  readonly q = new EventQueue();
  readonly capture: Captured[] = [];
  readonly stacks = new Map<Ip4, TcpStack>();
  /** One-way latency. */
  latency: Micros = 500;
  /** Return true to lose a segment (it is still captured, as a sender-side tcpdump would). */
  drop: ((c: Captured) => boolean) | undefined;
  /** Hosts that silently eat everything sent to them (a black hole). */
  readonly blackholes = new Set<Ip4>();

  addHost(addr: Ip4, opts: TestHostOptions = {}): TcpStack {
    const q = this.q;
    const sys = opts.sysctl ?? {};
    const stack = new TcpStack({
      now: () => q.now(),
      at: (t, fn) => q.at(t, fn),
      cancel: (h) => q.cancel(h),
      ipOutput: (src, dst, _proto, payload) => {
        const p = parseTcp(payload);
        if (!p.ok) throw new Error("stack emitted a bad segment");
        const c: Captured = { t: q.now(), src, dst, seg: p.value };
        this.capture.push(c);
        if (this.drop?.(c)) return;
        if (this.blackholes.has(dst)) return;
        q.after(this.latency, () => this.stacks.get(dst)?.input(src, dst, payload));
      },
      sourceFor: () => addr,
      isLocal: (a) => a === addr,
      rng: new Rng(opts.seed ?? addr),
      sysctl: (n) => sys[n],
      wake: () => {},
      routeMtu: () => (typeof opts.mtu === "function" ? opts.mtu() : opts.mtu ?? 1500),
    });
    this.stacks.set(addr, stack);
    return stack;
  }

  run(until: Micros): void {
    this.q.runUntil(until);
  }

  /** Runs events, letting promise continuations run between them, until `done` or idle. */
  async drive(done: () => boolean, limit: Micros = 600_000_000): Promise<void> {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (done()) return;
      const next = this.q.peekTime();
      if (next === undefined || next > limit) return;
      this.q.step();
    }
  }

  /** tcpdump -nn lines (without timestamps) for the captured segments. */
  lines(filter?: (c: Captured) => boolean): string[] {
    return renderTcpdump(this.capture.filter(filter ?? (() => true)));
  }

  flags(): string[] {
    return this.capture.map((c) => tcpFlagsToText(c.seg.flags));
  }
}

/** tcpdump's relative-sequence algorithm (print-tcp.c, §1.5 of the capture reference). */
export function renderTcpdump(caps: readonly Captured[]): string[] {
  const bases = new Map<string, Map<string, number>>();
  const out: string[] = [];
  for (const c of caps) {
    const s = c.seg;
    const a = `${formatIp4(c.src)}.${s.srcPort}`;
    const b = `${formatIp4(c.dst)}.${s.dstPort}`;
    const k = [a, b].sort().join("|");
    let seq = s.seq;
    let ack = s.ack;
    if (s.flags & TCP_ACK) {
      const e = bases.get(k);
      if (!e || s.flags & 2) {
        bases.set(k, new Map([[a, s.seq], [b, (s.ack - 1) >>> 0]]));
      } else {
        seq = (s.seq - e.get(a)!) >>> 0;
        ack = (s.ack - e.get(b)!) >>> 0;
      }
    }
    const len = s.payload.length;
    let line = `IP ${a} > ${b}: Flags [${tcpFlagsToText(s.flags)}]`;
    if (len > 0) line += `, seq ${seq}:${(seq + len) >>> 0}`;
    else if (s.flags & 7) line += `, seq ${seq}`;
    if (s.flags & TCP_ACK) line += `, ack ${ack}`;
    line += `, win ${s.window}`;
    if (s.options.length > 0) line += `, options [${tcpOptionsToText(s.options)}]`;
    line += `, length ${len}`;
    out.push(line);
  }
  return out;
}

/** Drops the TS values (they depend on secrets and time) for comparisons. */
export function maskTs(line: string): string {
  return line.replace(/TS val \d+ ecr 0\b/g, "TS val _ ecr 0").replace(/TS val \d+ ecr \d+/g, "TS val _ ecr _");
}
