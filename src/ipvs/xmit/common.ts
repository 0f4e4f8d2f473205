/**
 * What the transmitters share (net/netfilter/ipvs/ip_vs_xmit.c): the environment they
 * run in, TTL handling, ICMP errors, and Xmit records whose trace note is only formatted
 * when somebody reads it (the forwarding path must not pay for text it never shows).
 */
import type { Ip4, IpvsPorts, Verdict, Xmit } from "../api.js";
import {
  emitIpv4, formatIp4, icmpError, ICMP_DEST_UNREACH, ICMP_EXC_TTL, ICMP_FRAG_NEEDED, ICMP_TIME_EXCEEDED, IPPROTO_ICMP,
  ip4Dst, ip4FillChecksum, ip4Src, ip4TotalLen,
} from "../../wire/index.js";

export interface XmitEnv {
  readonly ports: IpvsPorts;
  /** Next IPv4 identification for packets the director builds itself. */
  nextIpId(): number;
  /** sysctl pmtu_disc. */
  pmtuDisc(): boolean;
  /** ip_vs_out_stats for connection `cp` (a packet of `bytes` sent on its behalf). */
  countOut?(cp: number, bytes: number): void;
}

/** What the connection tells the transmitter. */
export interface XmitConn {
  caddr: number;
  cport: number;
  vaddr: number;
  vport: number;
  daddr: number;
  dport: number;
  /** Scheduler name when this packet created the connection ("" otherwise). */
  sched: string;
  /** The connection's index in the table (for statistics). */
  cp?: number;
}

export function ipPort(a: Ip4, p: number): string {
  return `${formatIp4(a)}:${p}`;
}

export const enum NoteKind {
  Nat,
  Route,
  Tunnel,
  Local,
  Icmp,
}

/** An Xmit with a lazily formatted note. */
export class LazyXmit implements Xmit {
  constructor(
    readonly packet: Uint8Array,
    readonly nextHop: Ip4 | undefined,
    private readonly kind: NoteKind,
    private readonly sched: string,
    private readonly vaddr: number,
    private readonly vport: number,
    private readonly daddr: number,
    private readonly dport: number,
    private readonly text: string = "",
  ) {}

  get note(): string {
    const chose = this.sched ? `${this.sched} chose ${ipPort(this.daddr, this.dport)}; ` : "";
    switch (this.kind) {
      case NoteKind.Nat:
        return `${chose}DNAT ${ipPort(this.vaddr, this.vport)} -> ${ipPort(this.daddr, this.dport)}`;
      case NoteKind.Route:
        return `${chose}direct routing: ${ipPort(this.vaddr, this.vport)} handed unchanged to real server ${formatIp4(this.daddr)}`;
      case NoteKind.Tunnel:
        return `${chose}${this.text}`;
      case NoteKind.Local:
        return `${chose}real server ${formatIp4(this.daddr)} is local: delivered here`;
      case NoteKind.Icmp:
        return this.text;
    }
  }
}

/** An accept verdict with a lazily formatted note. */
export class LazyAccept {
  readonly action = "accept" as const;
  constructor(
    readonly packet: Uint8Array,
    private readonly fmt: (a: LazyAccept) => string,
    readonly a1 = 0,
    readonly p1 = 0,
    readonly a2 = 0,
    readonly p2 = 0,
    readonly s = "",
  ) {}

  get note(): string {
    return this.fmt(this);
  }
}

/**
 * Whether an accept verdict carries a note, without formatting it: a LazyAccept always has
 * one (its texts are never empty); a plain verdict's note is a ready string.
 */
export function acceptHasNote(v: { readonly note?: string }): boolean {
  return v instanceof LazyAccept || (v.note !== undefined && v.note !== "");
}

/**
 * An ICMP error about `orig` to its sender, as icmp_send builds it: TOS keeps the
 * original's TOS bits with precedence "internetwork control", TTL 64, no DF.
 */
export function icmpErrorPacket(env: XmitEnv, orig: Uint8Array, type: number, code: number, src: Ip4, rest = 0): Uint8Array {
  const tos = (orig[1]! & 0x1e) | 0xc0;
  return emitIpv4(
    { tos, id: env.nextIpId(), df: false, ttl: 64, protocol: IPPROTO_ICMP, src, dst: ip4Src(orig) },
    icmpError(type, code, orig, rest),
  );
}

/**
 * decrement_ttl: a packet that would leave with TTL 0 dies here with ICMP time exceeded
 * to its sender (source: the address it was sent to, a local VIP). Returns undefined when
 * the TTL was decremented.
 */
export function ttlExpired(env: XmitEnv, b: Uint8Array): Verdict | undefined {
  if (b[8]! > 1) return undefined;
  const icmp = icmpErrorPacket(env, b, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, ip4Dst(b));
  return {
    action: "drop",
    reason: "ipvs-ttl-exceeded",
    out: [new LazyXmit(icmp, undefined, NoteKind.Icmp, "", 0, 0, 0, 0,
      `TTL expired on the way to the real server: ICMP time exceeded to ${formatIp4(ip4Src(b))}`)],
  };
}

/** icmp_send quotes at most 576 bytes in all (576 − 20 − 8 of the original). */
const ICMP_ERROR_MAX = 576;

/**
 * __ip_vs_get_out_rt's MTU part and ensure_mtu_is_adequate, after decrement_ttl: the route's
 * MTU to the real server, less `overhead` (20 for the IPIP tunnel); a tunnel MTU below 68
 * drops the packet. A DF packet longer than that (not an ICMP error IPVS relays) is dropped
 * and its sender told icmp_send(FRAG_NEEDED, mtu), from the VIP; for the tunnel only while
 * pmtu_disc is on (else the outer packet is fragmented). Under DR and TUN that ICMP passes
 * IPVS's LOCAL_OUT hook, matches the connection (ip_vs_conn_out_get by VIP) and counts as
 * its outgoing traffic; under NAT it matches nothing.
 */
export function mtuCheck(env: XmitEnv, b: Uint8Array, c: XmitConn, overhead: number, masq = false, outer = "IPIP"): Verdict | undefined {
  const routeMtu = env.ports.routeMtu?.(c.daddr) ?? 1500;
  const mtu = routeMtu - overhead;
  if (overhead > 0 && mtu < 68) return { action: "drop", reason: `tunnel MTU ${mtu} to ${formatIp4(c.daddr)} is below 68` };
  if (overhead > 0 && !env.pmtuDisc()) return undefined;
  const len = ip4TotalLen(b);
  if ((b[6]! & 0x40) === 0 || len <= mtu || b[9] === IPPROTO_ICMP) return undefined;
  const what = overhead > 0
    ? `the tunnel to ${formatIp4(c.daddr)} (route MTU ${routeMtu} − ${overhead} bytes of outer ${outer} header${overhead > 20 ? "s" : ""} = ${mtu})`
    : `the route to real server ${formatIp4(c.daddr)} (MTU ${mtu})`;
  const reason = `${len}-byte packet with DF does not fit ${what}: ICMP fragmentation needed (mtu ${mtu}) to ${formatIp4(ip4Src(b))}`;
  if (!masq && c.cp !== undefined) env.countOut?.(c.cp, Math.min(ICMP_ERROR_MAX, 28 + len));
  let out: Xmit[] | undefined;
  if (env.ports.icmpSend) env.ports.icmpSend(b, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu);
  else out = [new LazyXmit(icmpErrorPacket(env, b, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, c.vaddr, mtu), undefined, NoteKind.Icmp, "", 0, 0, 0, 0, reason)];
  // The ICMP quoted the packet with its TTL already decremented, as the kernel's does; the
  // drop is traced with the packet as it arrived.
  b[8]!++;
  ip4FillChecksum(b);
  return out ? { action: "drop", reason, out } : { action: "drop", reason };
}
