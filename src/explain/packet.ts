/**
 * What `lvslab explain` needs to know about one packet: a lenient decoding (an ICMP error
 * quotes only the first bytes of a packet, and those must still decode), the connection a
 * packet belongs to, a student's name for it ("SYN", "SYN-ACK", "ICMP redirect"), and the
 * difference between two states of the same packet (what a host changed).
 */
import {
  ETH_HLEN, ETHERTYPE_IPV4, ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_FRAG_NEEDED, ICMP_REDIRECT, ICMP_TIME_EXCEEDED,
  IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, formatIp4, formatMac,
  parseTcpOptions, readIp4, readMac, type Ip4, type Mac, type TcpOption,
} from "../wire/index.js";

export interface TcpInfo {
  readonly flags: number;
  readonly seq: number;
  readonly ack: number;
  /** Bytes of data after the TCP header (0 when the packet is a truncated quote). */
  readonly dataLen: number;
  readonly options: readonly TcpOption[];
  /** The first bytes of the data (enough for a PROXY protocol header). */
  readonly head?: Uint8Array;
}

export interface IcmpInfo {
  readonly type: number;
  readonly code: number;
  /** Bytes 4..7 (a redirect's gateway, frag-needed's MTU in the low 16 bits). */
  readonly rest: number;
  /** The packet an ICMP error quotes. */
  readonly quoted?: Pkt;
}

/** One IPv4 packet, decoded as far as its bytes go. */
export interface Pkt {
  readonly src: Ip4;
  readonly dst: Ip4;
  readonly proto: number;
  readonly ttl: number;
  readonly id: number;
  readonly df: boolean;
  readonly totalLen: number;
  readonly sport?: number;
  readonly dport?: number;
  readonly tcp?: TcpInfo;
  readonly icmp?: IcmpInfo;
  /** The inner packet of IPIP (protocol 4). */
  readonly inner?: Pkt;
}

export interface EthInfo {
  readonly src: Mac;
  readonly dst: Mac;
  readonly type: number;
}

/** Decode an IPv4 packet; undefined when not even the fixed header is there. */
export function decodeIp(b: Uint8Array, depth = 0): Pkt | undefined {
  if (b.length < 20 || b[0]! >> 4 !== 4) return undefined;
  const hl = (b[0]! & 15) * 4;
  if (hl < 20) return undefined;
  const totalLen = (b[2]! << 8) | b[3]!;
  const end = Math.min(b.length, Math.max(totalLen, hl));
  const proto = b[9]!;
  const base = {
    src: readIp4(b, 12), dst: readIp4(b, 16), proto, ttl: b[8]!, id: (b[4]! << 8) | b[5]!, df: (b[6]! & 0x40) !== 0, totalLen,
  };
  const l4 = b.subarray(Math.min(hl, end), end);
  if ((proto === IPPROTO_TCP || proto === IPPROTO_UDP) && l4.length >= 4) {
    const sport = (l4[0]! << 8) | l4[1]!;
    const dport = (l4[2]! << 8) | l4[3]!;
    if (proto === IPPROTO_TCP && l4.length >= 14) {
      const thl = (l4[12]! >> 4) * 4;
      const full = thl >= 20 && l4.length >= thl;
      const tcp: TcpInfo = {
        flags: l4[13]!,
        seq: l4.length >= 8 ? ((l4[4]! << 24) | (l4[5]! << 16) | (l4[6]! << 8) | l4[7]!) >>> 0 : 0,
        ack: ((l4[8]! << 24) | (l4[9]! << 16) | (l4[10]! << 8) | l4[11]!) >>> 0,
        dataLen: full ? l4.length - thl : 0,
        options: full ? parseTcpOptions(l4.subarray(20, thl)) : [],
        head: full && l4.length > thl ? l4.subarray(thl, Math.min(l4.length, thl + 232)) : undefined,
      };
      return { ...base, sport, dport, tcp };
    }
    return { ...base, sport, dport };
  }
  if (proto === IPPROTO_ICMP && l4.length >= 8) {
    const type = l4[0]!;
    const rest = ((l4[4]! << 24) | (l4[5]! << 16) | (l4[6]! << 8) | l4[7]!) >>> 0;
    const isError = type === ICMP_DEST_UNREACH || type === ICMP_REDIRECT || type === ICMP_TIME_EXCEEDED || type === 4 || type === 12;
    const quoted = isError && depth < 2 ? decodeIp(l4.subarray(8), depth + 1) : undefined;
    return { ...base, icmp: { type, code: l4[1]!, rest, quoted } };
  }
  if (proto === IPPROTO_IPIP && depth < 2) {
    const inner = decodeIp(l4, depth + 1);
    if (inner) return { ...base, inner };
  }
  return base;
}

/** The IPv4 packet of an Ethernet frame, trimmed to its total length (receivers may see padding). */
export function frameIp(frame: Uint8Array): Uint8Array | undefined {
  if (frame.length < ETH_HLEN + 20 || ((frame[12]! << 8) | frame[13]!) !== ETHERTYPE_IPV4) return undefined;
  return trimIp(frame.subarray(ETH_HLEN));
}

export function trimIp(ip: Uint8Array): Uint8Array {
  if (ip.length < 4) return ip;
  const tot = (ip[2]! << 8) | ip[3]!;
  return tot >= 20 && tot < ip.length ? ip.subarray(0, tot) : ip;
}

export function decodeEth(frame: Uint8Array): EthInfo {
  return { dst: readMac(frame, 0), src: readMac(frame, 6), type: (frame[12]! << 8) | frame[13]! };
}

/** A stable key for the exact bytes of a packet or frame (to follow it from host to host). */
export function bytesKey(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
}

export function ipPort(a: Ip4, p: number | undefined): string {
  return p === undefined ? formatIp4(a) : `${formatIp4(a)}:${p}`;
}

/** The innermost packet that carries the conversation (through IPIP, and inside ICMP errors). */
export function payloadPkt(p: Pkt): Pkt {
  if (p.inner) return payloadPkt(p.inner);
  if (p.icmp?.quoted) return payloadPkt(p.icmp.quoted);
  return p;
}

/**
 * The conversation a packet belongs to, the same in both directions: the two endpoints of
 * TCP or UDP, or an ICMP echo's identifier. An ICMP error belongs to the conversation of
 * the packet it quotes; an IPIP packet to that of its inner packet.
 */
export function convKey(p: Pkt): string | undefined {
  const q = payloadPkt(p);
  if (q.sport !== undefined && q.dport !== undefined) {
    const a = ipPort(q.src, q.sport);
    const b = ipPort(q.dst, q.dport);
    return `${q.proto}|${a < b ? a + "|" + b : b + "|" + a}`;
  }
  if (q.icmp && (q.icmp.type === ICMP_ECHO || q.icmp.type === ICMP_ECHOREPLY)) {
    const a = formatIp4(q.src);
    const b = formatIp4(q.dst);
    return `icmp|${q.icmp.rest >>> 16}|${a < b ? a + "|" + b : b + "|" + a}`;
  }
  return undefined;
}

/** tcpdump's flag letters: S, S., ., P., F., R, R. */
export function tcpFlagsText(f: number): string {
  let s = "";
  if (f & TCP_FIN) s += "F";
  if (f & TCP_SYN) s += "S";
  if (f & TCP_RST) s += "R";
  if (f & TCP_PSH) s += "P";
  if (f & TCP_ACK) s += ".";
  return s || "none";
}

/** What a student calls the packet. */
export function pktName(p: Pkt): string {
  if (p.inner) return pktName(p.inner);
  if (p.tcp) {
    const f = p.tcp.flags;
    if (f & TCP_RST) return "RST";
    if (f & TCP_SYN) return f & TCP_ACK ? "SYN-ACK" : "SYN";
    if (f & TCP_FIN) return p.tcp.dataLen > 0 ? `FIN with ${p.tcp.dataLen} bytes of data` : "FIN";
    if (p.tcp.dataLen > 0) return `data (${p.tcp.dataLen} bytes)`;
    return "ACK";
  }
  if (p.icmp) return icmpName(p.icmp);
  if (p.proto === IPPROTO_UDP) return "UDP datagram";
  return `IP protocol ${p.proto}`;
}

export function icmpName(m: IcmpInfo): string {
  switch (m.type) {
    case ICMP_ECHO:
      return "ICMP echo request";
    case ICMP_ECHOREPLY:
      return "ICMP echo reply";
    case ICMP_REDIRECT:
      return `ICMP redirect (use ${formatIp4(m.rest)} as gateway)`;
    case ICMP_TIME_EXCEEDED:
      return "ICMP time exceeded";
    case ICMP_DEST_UNREACH:
      if (m.code === ICMP_FRAG_NEEDED) return `ICMP fragmentation needed (mtu ${m.rest & 0xffff})`;
      return `ICMP ${["network", "host", "protocol", "port"][m.code] ?? `code ${m.code}`} unreachable`;
    default:
      return `ICMP type ${m.type} code ${m.code}`;
  }
}

/** One line: addresses, ports, flags (through IPIP). */
export function pktLine(p: Pkt): string {
  if (p.inner) return `IPIP ${formatIp4(p.src)} > ${formatIp4(p.dst)} carrying ${pktLine(p.inner)}`;
  const arrow = `${ipPort(p.src, p.sport)} > ${ipPort(p.dst, p.dport)}`;
  if (p.tcp) return `${arrow} ${pktName(p)} [${tcpFlagsText(p.tcp.flags)}]`;
  if (p.icmp?.quoted) {
    const q = p.icmp.quoted;
    return `${arrow} ${pktName(p)} about ${ipPort(q.src, q.sport)} > ${ipPort(q.dst, q.dport)}`;
  }
  return `${arrow} ${pktName(p)}`;
}

function optionText(o: TcpOption): string {
  switch (o.kind) {
    case "toa":
      return `TOA ${ipPort(o.addr, o.port)}`;
    case "mss":
      return `mss ${o.value}`;
    case "wscale":
      return `wscale ${o.shift}`;
    case "timestamp":
      return "TS";
    case "unknown":
      return `option ${o.type}`;
    default:
      return o.kind;
  }
}

/** A change a host made to a packet, as a student reads it. */
export interface Change {
  readonly field: string;
  readonly from: string;
  readonly to: string;
}

/**
 * What changed between the packet a host received and the one it sent: addresses and
 * ports (source and destination), TTL, IPIP encapsulation added or removed, TCP options
 * (TOA) added or removed, and the frame's MACs when both frames are given.
 */
export function diffPkts(a: Pkt, b: Pkt, ea?: EthInfo, eb?: EthInfo): Change[] {
  const out = diffIp(a, b);
  if (ea && eb) {
    if (ea.src !== eb.src) out.push({ field: "src MAC", from: formatMac(ea.src), to: formatMac(eb.src) });
    if (ea.dst !== eb.dst) out.push({ field: "dst MAC", from: formatMac(ea.dst), to: formatMac(eb.dst) });
  }
  return out;
}

function diffIp(a: Pkt, b: Pkt): Change[] {
  const out: Change[] = [];
  if (!a.inner && b.inner) {
    out.push({ field: "IPIP", from: "none", to: `added: outer header ${formatIp4(b.src)} > ${formatIp4(b.dst)}` });
    diffInner(a, b.inner, out);
    return out;
  }
  if (a.inner && !b.inner) {
    out.push({ field: "IPIP", from: `outer header ${formatIp4(a.src)} > ${formatIp4(a.dst)}`, to: "removed" });
    diffInner(a.inner, b, out);
    return out;
  }
  if (a.inner && b.inner) {
    if (a.src !== b.src) out.push({ field: "outer src", from: formatIp4(a.src), to: formatIp4(b.src) });
    if (a.dst !== b.dst) out.push({ field: "outer dst", from: formatIp4(a.dst), to: formatIp4(b.dst) });
    if (a.ttl !== b.ttl) out.push({ field: "outer TTL", from: String(a.ttl), to: String(b.ttl) });
    diffInner(a.inner, b.inner, out);
    return out;
  }
  diffInner(a, b, out);
  return out;
}

function diffInner(a: Pkt, b: Pkt, out: Change[]): void {
  if (a.src !== b.src || a.sport !== b.sport) out.push({ field: "src", from: ipPort(a.src, a.sport), to: ipPort(b.src, b.sport) });
  if (a.dst !== b.dst || a.dport !== b.dport) out.push({ field: "dst", from: ipPort(a.dst, a.dport), to: ipPort(b.dst, b.dport) });
  if (a.ttl !== b.ttl) out.push({ field: "TTL", from: String(a.ttl), to: String(b.ttl) });
  if (a.tcp && b.tcp) {
    if (a.tcp.seq !== b.tcp.seq) out.push({ field: "seq", from: String(a.tcp.seq), to: String(b.tcp.seq) });
    if (a.tcp.ack !== b.tcp.ack && (a.tcp.flags & TCP_ACK) !== 0) out.push({ field: "ack", from: String(a.tcp.ack), to: String(b.tcp.ack) });
    const as = a.tcp.options.filter((o) => o.kind !== "nop" && o.kind !== "eol").map(optionText);
    const bs = b.tcp.options.filter((o) => o.kind !== "nop" && o.kind !== "eol").map(optionText);
    for (const o of bs) if (!as.includes(o)) out.push({ field: "TCP option", from: "none", to: `${o} added` });
    for (const o of as) if (!bs.includes(o)) out.push({ field: "TCP option", from: o, to: "removed" });
  }
}

export function changeText(c: Change): string {
  if (c.field === "IPIP" || c.field === "TCP option") return c.from === "none" ? `${c.field} ${c.to}` : `${c.field} ${c.from} ${c.to}`;
  return `${c.field} ${c.from} -> ${c.to}`;
}
