import type { Micros } from "../sim/clock.js";
import type { EventHandle } from "../sim/queue.js";
import { type Ip4, readIp4 } from "../wire/addr.js";
import { IPPROTO_TCP } from "../wire/ipv4.js";
import {
  TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment, emitTcp, parseTcp, tcpChecksumOk,
} from "../wire/tcp.js";
import { seqAdd } from "./seq.js";
import { type ConnectOptions, TcpSocket } from "./socket.js";
import type { TcpCounters, TcpErrno, TcpExtCounters, TcpPorts, TcpSocketInfo } from "./types.js";

export interface ListenOptions {
  /** Local address; 0 or absent = every address (INADDR_ANY). */
  addr?: Ip4;
  port: number;
  backlog?: number;
}

/** A listening socket. `onAccept` receives each connection once its handshake completes. */
export class TcpListener {
  closed = false;
  /** Connections accepted so far. */
  accepts = 0;

  constructor(
    private readonly stack: TcpStack,
    readonly addr: Ip4,
    readonly port: number,
    readonly backlog: number,
    private readonly onAccept: (sock: TcpSocket) => void,
  ) {}

  /** tcp_v4_rcv → tcp_rcv_state_process(LISTEN) */
  input(seg: TcpSegment, src: Ip4, dst: Ip4): void {
    const f = seg.flags;
    if (f & TCP_ACK) {
      this.stack.sendReset(dst, src, seg);
      return;
    }
    if (f & TCP_RST) return;
    if (!(f & TCP_SYN) || f & TCP_FIN) return;
    const s = new TcpSocket(this.stack, true);
    this.stack.hash(s, dst, seg.dstPort, src, seg.srcPort);
    s.startPassive(this, seg, src, dst);
  }

  /** Called by a SYN_RECV socket when the handshake completes. */
  accepted(sock: TcpSocket): void {
    this.accepts++;
    if (this.closed) {
      sock.abort();
      return;
    }
    this.onAccept(sock);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stack.unlisten(this);
  }
}

function key(la: Ip4, lp: number, ra: Ip4, rp: number): string {
  return `${la >>> 0}:${lp}:${ra >>> 0}:${rp}`;
}

/** A 32-bit mix of a secret and some words (stands in for the kernel's siphash). */
function mix(secret: number, ...words: number[]): number {
  let h = secret >>> 0;
  for (const w of words) {
    h = Math.imul(h ^ (w >>> 0), 0x9e3779b1) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca77) >>> 0;
    h ^= h >>> 13;
  }
  return h >>> 0;
}

/**
 * The TCP layer of one host: demultiplexes segments to connections and listeners,
 * answers strays with RST, picks ephemeral ports and keeps the SNMP counters.
 */
export class TcpStack {
  readonly counters: TcpCounters = {
    RtoAlgorithm: 1, RtoMin: 200, RtoMax: 120000, MaxConn: -1,
    ActiveOpens: 0, PassiveOpens: 0, AttemptFails: 0, EstabResets: 0, CurrEstab: 0,
    InSegs: 0, OutSegs: 0, RetransSegs: 0, InErrs: 0, OutRsts: 0, InCsumErrors: 0,
  };
  readonly ext: TcpExtCounters = {
    TCPAbortOnData: 0, TCPAbortOnClose: 0, TCPTimeouts: 0, TCPChallengeACK: 0,
    DelayedACKs: 0, TCPPureAcks: 0, TCPSynRetrans: 0,
  };
  /** The real-server `toa` module: getpeername() returns the TOA address when one came. */
  toaEnabled = false;
  /** /proc/net/toa_stats */
  readonly toaStats = {
    syn_recv_sock_toa: 0, syn_recv_sock_no_toa: 0, getname_toa_ok: 0, getname_toa_mismatch: 0,
    getname_toa_bypass: 0, getname_toa_empty: 0,
  };

  private readonly conns = new Map<string, TcpSocket>();
  private readonly listeners: TcpListener[] = [];
  private readonly isnSecret: number;
  private readonly tsSecret: number;
  private readonly portSecret: number;
  private readonly portSecret2: number;
  private readonly perturb = new Map<number, number>();

  constructor(readonly ports: TcpPorts) {
    const r = ports.rng;
    this.isnSecret = r.u32();
    this.tsSecret = r.u32();
    this.portSecret = r.u32();
    this.portSecret2 = r.u32();
  }

  now(): Micros {
    return this.ports.now();
  }

  /** Timers for applications built on the stack (the HTTP server, curl). */
  schedule(t: Micros, fn: () => void): EventHandle {
    return this.ports.at(t, fn);
  }

  cancelTimer(h: EventHandle | undefined): void {
    if (h) this.ports.cancel(h);
  }

  sysInt(name: string, def: number): number {
    const v = this.ports.sysctl(name);
    if (v === undefined) return def;
    const n = parseInt(v.trim(), 10);
    return Number.isFinite(n) ? n : def;
  }

  sysInts(name: string, def: number[]): number[] {
    const v = this.ports.sysctl(name);
    if (v === undefined) return def;
    const parts = v.trim().split(/\s+/).map((x) => parseInt(x, 10));
    return parts.length === def.length && parts.every(Number.isFinite) ? parts : def;
  }

  /** secure_tcp_seq: a keyed hash of the 4-tuple plus a 64 ns clock. */
  isn(la: Ip4, lp: number, ra: Ip4, rp: number): number {
    return (mix(this.isnSecret, la, ra, (lp << 16) | rp) + Math.floor(this.now() * 15.625)) >>> 0;
  }

  /** secure_tcp_ts_off: one timestamp offset per (source, destination) pair. */
  tsOffset(la: Ip4, ra: Ip4): number {
    return mix(this.tsSecret, la, ra);
  }

  // ---- demultiplexing ----

  /** tcp_v4_rcv: `segment` is the TCP part of an IPv4 packet from src to dst. */
  input(src: Ip4, dst: Ip4, segment: Uint8Array): void {
    this.counters.InSegs++;
    const p = parseTcp(segment);
    if (!p.ok) {
      this.counters.InErrs++;
      return;
    }
    if (!tcpChecksumOk(segment, src, dst)) {
      this.counters.InErrs++;
      this.counters.InCsumErrors++;
      return;
    }
    const seg = p.value;
    const s = this.conns.get(key(dst, seg.dstPort, src, seg.srcPort));
    if (s) {
      if ((seg.flags & TCP_ACK) !== 0) this.ports.confirmNeighbour?.(src);
      s.input(seg);
      return;
    }
    const l = this.findListener(dst, seg.dstPort);
    if (l) {
      l.input(seg, src, dst);
      return;
    }
    this.sendReset(dst, src, seg);
  }

  findListener(addr: Ip4, port: number): TcpListener | undefined {
    let wild: TcpListener | undefined;
    for (const l of this.listeners) {
      if (l.port !== port) continue;
      if (l.addr === addr) return l;
      if (l.addr === 0) wild = l;
    }
    return wild;
  }

  /** tcp_v4_send_reset: the answer to a segment no socket wants. */
  sendReset(from: Ip4, to: Ip4, seg: TcpSegment): void {
    if (seg.flags & TCP_RST) return;
    let bytes: Uint8Array;
    if (seg.flags & TCP_ACK) {
      bytes = emitTcp({ srcPort: seg.dstPort, dstPort: seg.srcPort, seq: seg.ack, flags: TCP_RST, window: 0 }, from, to);
    } else {
      const len = seg.payload.length + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & TCP_FIN ? 1 : 0);
      bytes = emitTcp({
        srcPort: seg.dstPort, dstPort: seg.srcPort, seq: 0, ack: seqAdd(seg.seq, len),
        flags: TCP_RST | TCP_ACK, window: 0,
      }, from, to);
    }
    this.counters.OutSegs++;
    this.counters.OutRsts++;
    this.output(from, to, bytes);
  }

  /** `id` is the IPv4 id a socket chose; without one (resets, SYN-ACKs) Linux sends id 0. */
  output(src: Ip4, dst: Ip4, bytes: Uint8Array, id = 0): boolean {
    return this.ports.ipOutput(src, dst, IPPROTO_TCP, bytes, { id }) !== false;
  }

  /**
   * tcp_v4_err: an ICMP error quoting one of our segments (`embedded` starts at the quoted
   * IPv4 header). Destination unreachable and time exceeded end a connection attempt with
   * the matching errno; for established connections they are remembered as soft errors.
   */
  icmpError(type: number, code: number, embedded: Uint8Array, info = 0): void {
    if (embedded.length < 20) return;
    const ihl = (embedded[0]! & 0x0f) * 4;
    if (embedded.length < ihl + 8 || embedded[9] !== IPPROTO_TCP) return;
    const src = readIp4(embedded, 12);
    const dst = readIp4(embedded, 16);
    const sport = (embedded[ihl]! << 8) | embedded[ihl + 1]!;
    const dport = (embedded[ihl + 2]! << 8) | embedded[ihl + 3]!;
    const seq = readIp4(embedded, ihl + 4);
    const s = this.conns.get(key(src, sport, dst, dport));
    if (!s) return;
    let err: TcpErrno;
    let hard = false;
    if (type === 3) {
      // icmp_err_convert
      const table: [TcpErrno, boolean][] = [
        ["ENETUNREACH", false], ["EHOSTUNREACH", false], ["ENOPROTOOPT", true], ["ECONNREFUSED", true],
        ["EMSGSIZE", false], ["EOPNOTSUPP", false], ["ENETUNREACH", true], ["EHOSTUNREACH", true],
        ["EHOSTUNREACH", true], ["ENETUNREACH", true], ["EHOSTUNREACH", true], ["ENETUNREACH", false],
        ["EHOSTUNREACH", false], ["EHOSTUNREACH", true], ["EHOSTUNREACH", true], ["EHOSTUNREACH", true],
      ];
      const e = table[code];
      if (!e) return;
      if (code === 4) {
        // ICMP_FRAG_NEEDED: PMTU discovery (a listener ignores it).
        s.mtuReduced(info, seq);
        return;
      }
      [err, hard] = e;
    } else if (type === 11) {
      err = "EHOSTUNREACH";
    } else {
      return;
    }
    s.icmpError(err, seq, hard);
  }

  /**
   * tcp_v4_err for ICMP_REDIRECT: the quoted segment must belong to a full socket found in
   * the established hash. A request socket (tcp_req_err) or a TIME_WAIT one ignores it, and
   * with no socket at all nothing happens; only then does do_redirect update the route.
   */
  redirectTaken(embedded: Uint8Array): boolean {
    if (embedded.length < 20) return false;
    const ihl = (embedded[0]! & 0x0f) * 4;
    if (embedded.length < ihl + 8 || embedded[9] !== IPPROTO_TCP) return false;
    const src = readIp4(embedded, 12);
    const dst = readIp4(embedded, 16);
    const sport = (embedded[ihl]! << 8) | embedded[ihl + 1]!;
    const dport = (embedded[ihl + 2]! << 8) | embedded[ihl + 3]!;
    const s = this.conns.get(key(src, sport, dst, dport));
    if (!s) return false;
    if (s.state === "SYN_RECV" && s.passive) return false;
    return s.state !== "TIME_WAIT" && s.state !== "CLOSED";
  }

  // ---- sockets ----

  listen(opts: ListenOptions, onAccept: (sock: TcpSocket) => void): TcpListener | TcpErrno {
    const addr = (opts.addr ?? 0) >>> 0;
    if (!(opts.port > 0 && opts.port < 65536)) return "EINVAL";
    if (addr !== 0 && !this.ports.isLocal(addr)) return "EADDRNOTAVAIL";
    for (const l of this.listeners) {
      if (l.port === opts.port && (l.addr === addr || l.addr === 0 || addr === 0)) return "EADDRINUSE";
    }
    const l = new TcpListener(this, addr, opts.port, opts.backlog ?? 511, onAccept);
    this.listeners.push(l);
    return l;
  }

  unlisten(l: TcpListener): void {
    const i = this.listeners.indexOf(l);
    if (i >= 0) this.listeners.splice(i, 1);
    for (const s of [...this.conns.values()]) {
      if (s.state === "SYN_RECV" && s.listener === l) s.abort();
    }
  }

  /**
   * connect(): a new socket in SYN_SENT. Immediate failures (no route, no free port) give a
   * closed socket whose error is reported through onClose/connected() right after.
   */
  connect(opts: ConnectOptions): TcpSocket {
    const s = new TcpSocket(this, false);
    if (opts.noDelay) s.noDelay = true;
    const dst = opts.dst >>> 0;
    s.remoteAddr = dst;
    s.remotePort = opts.dport;
    const src = opts.src !== undefined ? opts.src >>> 0 : this.ports.sourceFor(dst);
    if (src === undefined) {
      s.failLater("ENETUNREACH");
      return s;
    }
    s.localAddr = src;
    let sport: number;
    if (opts.sport !== undefined) {
      if (this.conns.has(key(src, opts.sport, dst, opts.dport)) || this.findListener(src, opts.sport)) {
        s.failLater("EADDRINUSE");
        return s;
      }
      sport = opts.sport;
    } else {
      const p = this.pickPort(src, dst, opts.dport);
      if (p === undefined) {
        s.failLater("EADDRNOTAVAIL");
        return s;
      }
      sport = p;
    }
    this.hash(s, src, sport, dst, opts.dport);
    s.startActive(src, sport, dst, opts.dport);
    return s;
  }

  /**
   * __inet_hash_connect (Linux 6.1): start at a keyed offset plus a per-destination
   * perturbation, scan ports of the range's low parity (even for 32768) first, then the
   * other parity; bump the perturbation by 2 + a little randomness after a pick.
   */
  private pickPort(src: Ip4, dst: Ip4, dport: number): number | undefined {
    const [lowRaw, highRaw] = this.sysInts("net.ipv4.ip_local_port_range", [32768, 60999]);
    const low = lowRaw!;
    const high = highRaw! + 1;
    let remaining = high - low;
    if (remaining <= 0) return undefined;
    if (remaining > 1) remaining &= ~1;
    const portOffset = mix(this.portSecret, src, dst, dport);
    const index = portOffset & 0xffff;
    let perturb = this.perturb.get(index);
    if (perturb === undefined) {
      perturb = this.ports.rng.u32();
      this.perturb.set(index, perturb);
    }
    let offset = (perturb + mix(this.portSecret2, src, dst, dport)) % remaining;
    offset &= ~1;
    for (;;) {
      let port = low + offset;
      for (let i = 0; i < remaining; i += 2, port += 2) {
        if (port >= high) port -= remaining;
        if (this.portFree(src, port, dst, dport)) {
          const bump = Math.max(i, this.ports.rng.below(8) * 2) + 2;
          this.perturb.set(index, (perturb + bump) >>> 0);
          return port;
        }
      }
      offset++;
      if (!(offset & 1) || remaining <= 1) return undefined;
    }
  }

  private portFree(src: Ip4, port: number, dst: Ip4, dport: number): boolean {
    for (const l of this.listeners) if (l.port === port) return false;
    return !this.conns.has(key(src, port, dst, dport));
  }

  hash(s: TcpSocket, la: Ip4, lp: number, ra: Ip4, rp: number): void {
    s.localAddr = la;
    s.localPort = lp;
    s.remoteAddr = ra;
    s.remotePort = rp;
    this.conns.set(key(la, lp, ra, rp), s);
  }

  unhash(s: TcpSocket): void {
    const k = key(s.localAddr, s.localPort, s.remoteAddr, s.remotePort);
    if (this.conns.get(k) === s) this.conns.delete(k);
  }

  /** Sockets for `ss`: listeners first, then connections in creation order. */
  sockets(): TcpSocketInfo[] {
    const out: TcpSocketInfo[] = [];
    for (const l of this.listeners) {
      out.push({
        state: "LISTEN", localAddr: l.addr, localPort: l.port, remoteAddr: 0, remotePort: 0,
        recvQ: 0, sendQ: l.backlog,
      });
    }
    for (const s of this.conns.values()) out.push(s.info());
    return out;
  }

  /** The live connection objects (for tests and for `ss -p`-like views). */
  connections(): TcpSocket[] {
    return [...this.conns.values()];
  }

  /** /proc/net/snmp's Tcp counters with CurrEstab computed now. */
  snmp(): TcpCounters {
    let est = 0;
    for (const s of this.conns.values()) if (s.state === "ESTABLISHED" || s.state === "CLOSE_WAIT") est++;
    return { ...this.counters, CurrEstab: est };
  }
}
