/**
 * Readable packet builders for tests (Katran-style forwarding tables):
 *
 *   buildTcpPacket({ src: "10.0.0.1", sport: 5000, dst: "10.0.0.100", dport: 80,
 *                    flags: "S", seq: 1, options: "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7" })
 *   buildFrame({ src: "00:00:00:00:00:01", dst: "00:00:00:00:00:02", payload: pkt })
 *
 * Addresses may be given as text or numbers; flags and options in tcpdump's notation.
 * Everything here throws on bad test input (a bug in the test). Defaults follow what a
 * Linux sender would put: TTL 64, DF set, window 64240.
 */
import { type Ip4, type Mac, formatIp4, parseIp4, parseMac } from "./addr.js";
import { ARP_REPLY, ARP_REQUEST, emitArp } from "./arp.js";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, emitEthernet } from "./ethernet.js";
import { ICMP_ECHO, ICMP_ECHOREPLY, emitIcmp, icmpEcho, parseIcmp } from "./icmp.js";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, emitIpv4, parseIpv4 } from "./ipv4.js";
import {
  TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG,
  type TcpOption, emitTcp, parseTcp, tcpChecksumOk,
} from "./tcp.js";
import { emitUdp, parseUdp, udpChecksumOk } from "./udp.js";

export type AddrLike = Ip4 | string;
export type MacLike = Mac | string;
export type BytesLike = Uint8Array | string;

export function toIp4(a: AddrLike): Ip4 {
  if (typeof a === "number") return a >>> 0;
  const v = parseIp4(a);
  if (v === undefined) throw new Error(`bad IPv4 address in test: ${JSON.stringify(a)}`);
  return v;
}

export function toMac(m: MacLike): Mac {
  if (typeof m === "number") return m;
  const v = parseMac(m);
  if (v === undefined) throw new Error(`bad MAC address in test: ${JSON.stringify(m)}`);
  return v;
}

/** Strings are taken as UTF-8 text. */
export function toBytes(b: BytesLike | undefined): Uint8Array {
  if (b === undefined) return new Uint8Array(0);
  return typeof b === "string" ? new TextEncoder().encode(b) : b;
}

// tcpdump's order and letters (print-tcp.c tcp_flag_values).
const FLAG_LETTERS: [number, string][] = [
  [TCP_FIN, "F"], [TCP_SYN, "S"], [TCP_RST, "R"], [TCP_PSH, "P"],
  [TCP_ACK, "."], [TCP_URG, "U"], [TCP_ECE, "E"], [TCP_CWR, "W"],
];

/** "S", "S.", "P.", "F.", "R", "." … → TCP_* bits. */
export function tcpFlagsFromText(s: string): number {
  let f = 0;
  for (const ch of s) {
    const e = FLAG_LETTERS.find(([, l]) => l === ch);
    if (e === undefined) throw new Error(`bad TCP flag ${JSON.stringify(ch)} in ${JSON.stringify(s)}`);
    f |= e[0];
  }
  return f;
}

/** TCP_* bits → tcpdump's letters ("none" for 0). */
export function tcpFlagsToText(flags: number): string {
  let s = "";
  for (const [bit, l] of FLAG_LETTERS) if (flags & bit) s += l;
  return s === "" ? "none" : s;
}

/**
 * Options in tcpdump's notation, comma-separated: `mss N`, `wscale N`, `sackOK`,
 * `sack {a:b}{c:d}`, `TS val N ecr N`, `nop`, `eol`, `toa A.B.C.D:PORT`, `unknown-K 0xHEX`.
 */
export function tcpOptionsFromText(s: string): TcpOption[] {
  if (s.trim() === "") return [];
  return s.split(",").map((raw): TcpOption => {
    const t = raw.trim();
    let m: RegExpExecArray | null;
    if (t === "nop") return { kind: "nop" };
    if (t === "eol") return { kind: "eol" };
    if (t === "sackOK") return { kind: "sackOK" };
    if ((m = /^mss (\d+)$/.exec(t))) return { kind: "mss", value: +m[1]! };
    if ((m = /^wscale (\d+)$/.exec(t))) return { kind: "wscale", shift: +m[1]! };
    if ((m = /^TS val (\d+) ecr (\d+)$/.exec(t))) return { kind: "timestamp", val: +m[1]!, ecr: +m[2]! };
    if ((m = /^toa ([\d.]+):(\d+)$/.exec(t))) return { kind: "toa", addr: toIp4(m[1]!), port: +m[2]! };
    if ((m = /^sack ((?:\{\d+:\d+\})+)$/.exec(t))) {
      const blocks = [...m[1]!.matchAll(/\{(\d+):(\d+)\}/g)].map((x): [number, number] => [+x[1]!, +x[2]!]);
      return { kind: "sack", blocks };
    }
    if ((m = /^unknown-(\d+)(?: 0x([0-9a-f]*))?$/.exec(t))) return { kind: "unknown", type: +m[1]!, data: fromHex(m[2] ?? "") };
    throw new Error(`bad TCP option in test: ${JSON.stringify(t)}`);
  });
}

/** Options → tcpdump-like text (TOA as `toa A.B.C.D:PORT`, which tcpdump prints as exp-XXXX). */
export function tcpOptionsToText(opts: readonly TcpOption[]): string {
  return opts.map((o) => {
    switch (o.kind) {
      case "nop": case "eol": case "sackOK": return o.kind;
      case "mss": return `mss ${o.value}`;
      case "wscale": return `wscale ${o.shift}`;
      case "timestamp": return `TS val ${o.val} ecr ${o.ecr}`;
      case "toa": return `toa ${formatIp4(o.addr)}:${o.port}`;
      case "sack": return `sack ${o.blocks.map(([l, r]) => `{${l}:${r}}`).join("")}`;
      case "unknown": return `unknown-${o.type}${o.data.length ? ` 0x${hex(o.data, "")}` : ""}`;
    }
  }).join(",");
}

/** Lowercase hex, bytes separated by `sep` (default one space). */
export function hex(b: Uint8Array, sep = " "): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(sep);
}

/** Hex text → bytes; whitespace, colons and a 0x prefix are ignored. */
export function fromHex(s: string): Uint8Array {
  const t = s.replace(/^0x/i, "").replace(/[\s:]/g, "");
  if (t.length % 2 !== 0 || /[^0-9a-fA-F]/.test(t)) throw new Error(`bad hex in test: ${JSON.stringify(s)}`);
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

interface IpCommon {
  src: AddrLike;
  dst: AddrLike;
  ttl?: number;
  id?: number;
  /** Default true (Linux sets DF on TCP and on most UDP with PMTU discovery). */
  df?: boolean;
  tos?: number;
}

function ipHeader(s: IpCommon, protocol: number) {
  return {
    tos: s.tos ?? 0, id: s.id ?? 0, df: s.df ?? true, ttl: s.ttl ?? 64, protocol,
    src: toIp4(s.src), dst: toIp4(s.dst),
  };
}

export interface TcpPacketSpec extends IpCommon {
  sport: number;
  dport: number;
  /** tcpdump letters ("S", "S.", "P.") or TCP_* bits. Default ".". */
  flags?: string | number;
  seq?: number;
  ack?: number;
  /** Default 64240. */
  win?: number;
  urg?: number;
  options?: TcpOption[] | string;
  payload?: BytesLike;
}

/** IPv4 packet bytes carrying a TCP segment with correct checksums. */
export function buildTcpPacket(s: TcpPacketSpec): Uint8Array {
  const h = ipHeader(s, IPPROTO_TCP);
  const seg = emitTcp({
    srcPort: s.sport, dstPort: s.dport, seq: s.seq ?? 0, ack: s.ack ?? 0,
    flags: typeof s.flags === "number" ? s.flags : tcpFlagsFromText(s.flags ?? "."),
    window: s.win ?? 64240, urgent: s.urg ?? 0,
    options: typeof s.options === "string" ? tcpOptionsFromText(s.options) : s.options ?? [],
    payload: toBytes(s.payload),
  }, h.src, h.dst);
  return emitIpv4(h, seg);
}

export interface UdpPacketSpec extends IpCommon {
  sport: number;
  dport: number;
  payload?: BytesLike;
  /** Compute a checksum (default true); false sends 0. */
  checksum?: boolean;
}

export function buildUdpPacket(s: UdpPacketSpec): Uint8Array {
  const h = ipHeader({ df: false, ...s }, IPPROTO_UDP);
  return emitIpv4(h, emitUdp({ srcPort: s.sport, dstPort: s.dport, payload: toBytes(s.payload) }, h.src, h.dst, { checksum: s.checksum ?? true }));
}

export interface IcmpPacketSpec extends IpCommon {
  type: number;
  code?: number;
  rest?: number;
  payload?: BytesLike;
}

export function buildIcmpPacket(s: IcmpPacketSpec): Uint8Array {
  const h = ipHeader({ df: false, ...s }, IPPROTO_ICMP);
  return emitIpv4(h, emitIcmp({ type: s.type, code: s.code ?? 0, rest: s.rest ?? 0, payload: toBytes(s.payload) }));
}

export interface PingSpec extends IpCommon {
  /** Echo reply instead of request. */
  reply?: boolean;
  icmpId?: number;
  seq?: number;
  data?: BytesLike;
}

/** An echo request (or reply) as `ping` sends it: 56 zero data bytes unless given. */
export function buildPing(s: PingSpec): Uint8Array {
  const h = ipHeader({ df: true, ...s }, IPPROTO_ICMP);
  const data = s.data === undefined ? new Uint8Array(56) : toBytes(s.data);
  return emitIpv4(h, icmpEcho(s.reply ? ICMP_ECHOREPLY : ICMP_ECHO, s.icmpId ?? 1, s.seq ?? 1, data));
}

export interface IpPacketSpec extends IpCommon {
  protocol: number;
  payload?: BytesLike;
}

export function buildIpPacket(s: IpPacketSpec): Uint8Array {
  return emitIpv4(ipHeader(s, s.protocol), toBytes(s.payload));
}

export interface FrameSpec {
  src: MacLike;
  dst: MacLike;
  /** Default: IPv4. */
  ethertype?: number;
  payload: BytesLike;
  /** Pad to 60 bytes (default true). */
  pad?: boolean;
}

export function buildFrame(s: FrameSpec): Uint8Array {
  return emitEthernet(
    { dst: toMac(s.dst), src: toMac(s.src), ethertype: s.ethertype ?? ETHERTYPE_IPV4, payload: toBytes(s.payload) },
    { pad: s.pad ?? true },
  );
}

export interface ArpSpec {
  op: "request" | "reply" | number;
  sha: MacLike;
  spa: AddrLike;
  /** Default 00:00:00:00:00:00. */
  tha?: MacLike;
  tpa: AddrLike;
}

/** ARP bytes (28). */
export function buildArp(s: ArpSpec): Uint8Array {
  const op = s.op === "request" ? ARP_REQUEST : s.op === "reply" ? ARP_REPLY : s.op;
  return emitArp({ op, sha: toMac(s.sha), spa: toIp4(s.spa), tha: toMac(s.tha ?? 0), tpa: toIp4(s.tpa) });
}

/** A whole ARP frame: requests go to the broadcast MAC, replies to the target MAC. */
export function buildArpFrame(s: ArpSpec & { pad?: boolean }): Uint8Array {
  const dst = s.op === "request" || s.op === ARP_REQUEST ? "ff:ff:ff:ff:ff:ff" : s.tha ?? 0;
  return buildFrame({ src: s.sha, dst, ethertype: ETHERTYPE_ARP, payload: buildArp(s), pad: s.pad ?? true });
}

/**
 * A one-line, tcpdump-flavoured description of an IPv4 packet, for readable assertion
 * failures: `10.0.0.1.5000 > 10.0.0.2.80: tcp [S] seq 1 ack 0 win 64240 options [mss 1460] length 0 ttl 64`.
 * Bad checksums are flagged rather than refused.
 */
export function describePacket(pkt: Uint8Array): string {
  const r = parseIpv4(pkt, { verifyChecksum: false });
  if (!r.ok) return `invalid ipv4 (${r.error})`;
  const { header: h, payload } = r.value;
  const src = formatIp4(h.src);
  const dst = formatIp4(h.dst);
  const ipBad = parseIpv4(pkt).ok ? "" : " [bad ip cksum]";
  const tail = ` ttl ${h.ttl}${ipBad}`;
  if (h.fragOffset !== 0) return `${src} > ${dst}: frag offset ${h.fragOffset} proto ${h.protocol} length ${payload.length}${tail}`;
  if (h.protocol === IPPROTO_TCP) {
    const t = parseTcp(payload);
    if (!t.ok) return `${src} > ${dst}: tcp (${t.error})${tail}`;
    const s = t.value;
    const opts = s.options.length ? ` options [${tcpOptionsToText(s.options)}]` : "";
    const bad = h.mf || tcpChecksumOk(payload, h.src, h.dst) ? "" : " [bad tcp cksum]";
    return `${src}.${s.srcPort} > ${dst}.${s.dstPort}: tcp [${tcpFlagsToText(s.flags)}] seq ${s.seq} ack ${s.ack} win ${s.window}${opts} length ${s.payload.length}${bad}${tail}`;
  }
  if (h.protocol === IPPROTO_UDP) {
    const u = parseUdp(payload);
    if (!u.ok) return `${src} > ${dst}: udp (${u.error})${tail}`;
    const bad = h.mf || udpChecksumOk(payload.subarray(0, u.value.length), h.src, h.dst) ? "" : " [bad udp cksum]";
    return `${src}.${u.value.srcPort} > ${dst}.${u.value.dstPort}: udp length ${u.value.payload.length}${bad}${tail}`;
  }
  if (h.protocol === IPPROTO_ICMP) {
    const m = parseIcmp(payload, { verifyChecksum: false });
    if (!m.ok) return `${src} > ${dst}: icmp (${m.error})${tail}`;
    return `${src} > ${dst}: icmp type ${m.value.type} code ${m.value.code} rest 0x${m.value.rest.toString(16)} length ${payload.length}${tail}`;
  }
  return `${src} > ${dst}: proto ${h.protocol} length ${payload.length}${tail}`;
}
