/**
 * The packet printer: frame bytes → the text tcpdump 4.99.3 prints for them.
 *
 * It mirrors netdissect's structure rather than our wire codecs, because tcpdump prints
 * whatever bytes it is given: every field is read straight from the buffer with a bounds
 * check against the current "snapend" (the captured end, cut down by each layer's own
 * length as `nd_push_snaplen` does), and running off the end unwinds to the top like
 * netdissect's longjmp, which appends ` [|proto]` for the innermost protocol entered.
 *
 * Implemented: Ethernet (incl. 802.1Q), Linux cooked v2 (the `-i any` link type), ARP,
 * IPv4 (`-v` header, options only as a count), IP-in-IP, TCP (flags, relative sequence
 * numbers as print-tcp.c tracks them, options, HTTP/SSH/FTP/SMTP first lines, RST data),
 * UDP (`-vv` checksum verdicts), ICMP (echo, unreachable, redirect, time exceeded, … and the
 * quoted datagram with `-v`), and the `-x/-xx/-X/-XX/-A/-AA` dumps.
 * Not implemented: IPv6 and other ethertypes (printed as unknown, with a hex dump), UDP
 * application printers (DNS, DHCP, …), IP option decoding, 802.3/LLC frames.
 */
import {
  ETHERTYPE_NAMES, IPPROTO_NAMES, NETDB_PROTO_NAMES, OUI_NAMES, TCP_FLAG_LETTERS, type TcpdumpNames,
} from "./names.js";

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL2 = 276;
/** DLT_RAW as pcap files carry it: packets from tunnel devices (tunl0, gre0). */
export const LINKTYPE_RAW = 101;

export interface PrintOptions {
  /** `-n` count: any value > 0 turns all name lookups off (tcpdump ≥ 3.9.8). */
  numeric?: number;
  /** `-e` */
  link?: boolean;
  /** `-v` count */
  verbose?: number;
  /** `-S` */
  absoluteSeq?: boolean;
  /** `-q` count */
  quiet?: number;
  /** `-t` count: 0 time of day, 1 none, 2 epoch, 3 delta to previous, 4 date+time, 5 delta to first. */
  tsFormat?: number;
  /** `--time-stamp-precision=nano`: 9 fraction digits. */
  nano?: boolean;
  /** `-x` / `-X` / `-A` counts. */
  hex?: number;
  hexAscii?: number;
  ascii?: number;
  /** IANA time zone for local times (the TZ variable); default UTC. */
  tz?: string;
  /** Names for hosts and ports when `-n` is absent. */
  names?: TcpdumpNames;
  /** `-i any`: interface names by SLL2 ifindex (1-based). */
  ifnameByIndex?: (index: number) => string | undefined;
}

/** One captured record: time, the captured bytes, and the length on the wire. */
export interface PacketRecord {
  /** Seconds since the epoch. */
  sec: number;
  /** Nanoseconds within the second. */
  nsec: number;
  /** Captured bytes (caplen = data.length). */
  data: Uint8Array;
  /** Original length on the wire. */
  origLen: number;
}

/** Thrown when a field lies past the captured end: netdissect's longjmp. */
class Truncated {}
const TRUNC = new Truncated();

// ---------------------------------------------------------------------------------------

/** Per-direction-canonicalised TCP conversation, as print-tcp.c's tcp_seq_hash keeps it. */
interface SeqEntry { seq: number; ack: number }

export class Printer {
  private readonly o: Required<Omit<PrintOptions, "names" | "ifnameByIndex">> & PrintOptions;
  private readonly seqTable = new Map<string, SeqEntry>();
  private firstTs: [number, number] | undefined;
  private prevTs: [number, number] | undefined;
  private tzFmt: Intl.DateTimeFormat | undefined;

  // state of the packet being printed
  private b: Uint8Array = new Uint8Array(0);
  private end = 0;
  private proto = "";
  private out = "";
  /** ndo_ll_hdr_len: the link header length, kept when a printer unwinds. */
  private llHdrLen = 0;

  constructor(opts: PrintOptions = {}, readonly linktype: number = LINKTYPE_ETHERNET) {
    this.o = {
      numeric: 0, link: false, verbose: 0, absoluteSeq: false, quiet: 0, tsFormat: 0, nano: false,
      hex: 0, hexAscii: 0, ascii: 0, tz: "UTC", ...opts,
    };
  }

  /** The text for one record, ending with a newline. */
  format(rec: PacketRecord): string {
    this.out = "";
    this.out += this.timestamp(rec.sec, rec.nsec);
    this.b = rec.data;
    this.end = rec.data.length;
    this.proto = "";
    let hdrlen = 0;
    this.llHdrLen = 0;
    try {
      hdrlen = this.linktype === LINKTYPE_LINUX_SLL2
        ? this.sll2(rec.data.length, rec.origLen)
        : this.linktype === LINKTYPE_RAW
        ? this.rawIp(rec.origLen)
        : this.ether(rec.data.length, rec.origLen);
    } catch (e) {
      if (e !== TRUNC) throw e;
      // A GET_ past the end longjmps: the dump then covers the whole packet.
      this.trunc();
      hdrlen = 0;
    }
    const caplen = rec.data.length;
    this.end = caplen;
    if (this.o.hexAscii) {
      if (this.o.hexAscii > 1) this.hexAscii(0, caplen);
      else if (caplen > hdrlen) this.hexAscii(hdrlen, caplen - hdrlen);
    } else if (this.o.hex) {
      if (this.o.hex > 1) this.hexOnly(0, caplen);
      else if (caplen > hdrlen) this.hexOnly(hdrlen, caplen - hdrlen);
    } else if (this.o.ascii) {
      if (this.o.ascii > 1) this.asciiDump(0, caplen);
      else if (caplen > hdrlen) this.asciiDump(hdrlen, caplen - hdrlen);
    }
    return this.out + "\n";
  }

  // ---- primitives -----------------------------------------------------------------------

  private p(s: string): void { this.out += s; }
  private has(off: number, n: number): boolean { return off >= 0 && n >= 0 && off + n <= this.end; }
  private u8(off: number): number {
    if (off < 0 || off >= this.end) throw TRUNC;
    return this.b[off]!;
  }
  private u16(off: number): number {
    if (off < 0 || off + 2 > this.end) throw TRUNC;
    return (this.b[off]! << 8) | this.b[off + 1]!;
  }
  private u32(off: number): number {
    if (off < 0 || off + 4 > this.end) throw TRUNC;
    return ((this.b[off]! << 24) | (this.b[off + 1]! << 16) | (this.b[off + 2]! << 8) | this.b[off + 3]!) >>> 0;
  }
  private check(off: number, n: number): void { if (!this.has(off, n)) throw TRUNC; }
  private trunc(): void { this.p(` [|${this.proto}]`); }
  private invalid(): void { this.p(" (invalid)"); }
  /** nd_push_snaplen: the captured end can only shrink. */
  private push(off: number, len: number): number {
    const saved = this.end;
    if (off + len < this.end) this.end = Math.max(off + len, 0);
    return saved;
  }

  private get nflag(): boolean { return this.o.numeric > 0; }

  private ipaddr(off: number): string {
    const a = this.u32(off);
    if (!this.nflag) {
      const n = this.o.names?.host?.(a);
      if (n !== undefined) return n;
    }
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  }

  private etheraddr(off: number): string {
    this.check(off, 6);
    const parts: string[] = [];
    for (let i = 0; i < 6; i++) parts.push(this.b[off + i]!.toString(16).padStart(2, "0"));
    const text = parts.join(":");
    if (this.nflag) return text;
    if (text === "ff:ff:ff:ff:ff:ff") return "Broadcast";
    const oui = (this.b[off]! << 16) | (this.b[off + 1]! << 8) | this.b[off + 2]!;
    return `${text} (oui ${OUI_NAMES.get(oui) ?? "Unknown"})`;
  }

  private tcpport(port: number): string {
    if (!this.nflag) { const n = this.o.names?.tcpPort?.(port); if (n !== undefined) return n; }
    return String(port);
  }
  private udpport(port: number): string {
    if (!this.nflag) { const n = this.o.names?.udpPort?.(port); if (n !== undefined) return n; }
    return String(port);
  }

  // ---- timestamps (util-print.c ts_print) ---------------------------------------------------

  private frac(nsec: number): string {
    return this.o.nano ? String(nsec).padStart(9, "0") : String(Math.floor(nsec / 1000)).padStart(6, "0");
  }

  private timestamp(sec: number, nsec: number): string {
    switch (this.o.tsFormat) {
      case 1: return "";
      case 2: return `${sec}.${this.frac(nsec)} `;
      case 3: case 5: {
        const ref = this.o.tsFormat === 3 ? this.prevTs : this.firstTs;
        this.firstTs ??= [sec, nsec];
        this.prevTs = [sec, nsec];
        let d = ref === undefined ? 0n : (BigInt(sec) * 1_000_000_000n + BigInt(nsec)) - (BigInt(ref[0]) * 1_000_000_000n + BigInt(ref[1]));
        const neg = d < 0n;
        if (neg) d = -d;
        if (!this.o.nano) d = (d / 1000n) * 1000n;
        const s = Number(d / 1_000_000_000n);
        const ns = Number(d % 1_000_000_000n);
        const h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60, ss = s % 60;
        return `${neg ? "-" : " "}${pad2(h)}:${pad2(m)}:${pad2(ss)}.${this.frac(ns)} `;
      }
      case 4: {
        const t = this.local(sec);
        return `${t.y}-${pad2(t.mo)}-${pad2(t.d)} ${pad2(t.h)}:${pad2(t.mi)}:${pad2(t.s)}.${this.frac(nsec)} `;
      }
      default: {
        const t = this.local(sec);
        return `${pad2(t.h)}:${pad2(t.mi)}:${pad2(t.s)}.${this.frac(nsec)} `;
      }
    }
  }

  private local(sec: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
    const tz = this.o.tz;
    if (tz !== "UTC" && tz !== "" && tz !== "UTC0" && tz !== "GMT") {
      try {
        this.tzFmt ??= new Intl.DateTimeFormat("en-US", {
          timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
          hour: "numeric", minute: "numeric", second: "numeric",
        });
        const parts: Record<string, number> = {};
        for (const x of this.tzFmt.formatToParts(new Date(sec * 1000))) parts[x.type] = Number(x.value);
        return { y: parts.year!, mo: parts.month!, d: parts.day!, h: parts.hour! % 24, mi: parts.minute!, s: parts.second! };
      } catch {
        // unknown zone: glibc falls back to UTC
      }
    }
    const dt = new Date(sec * 1000);
    return {
      y: dt.getUTCFullYear(), mo: dt.getUTCMonth() + 1, d: dt.getUTCDate(),
      h: dt.getUTCHours(), mi: dt.getUTCMinutes(), s: dt.getUTCSeconds(),
    };
  }

  // ---- link layers ---------------------------------------------------------------------------

  private etherTypeText(t: number): string {
    return this.o.quiet
      ? (ETHERTYPE_NAMES.get(t) ?? `Unknown Ethertype (0x${hex4(t)})`)
      : `ethertype ${ETHERTYPE_NAMES.get(t) ?? "Unknown"} (0x${hex4(t)})`;
  }

  /** print-ether.c ether_common_print; returns the link header length. */
  private ether(caplen: number, length: number): number {
    this.proto = "ether";
    if (length < caplen) {
      this.p(`[length ${length} < caplen ${caplen}]`);
      this.invalid();
      return length;
    }
    if (caplen < 14) {
      this.trunc();
      return caplen;
    }
    const origLength = length;
    length -= 12;
    caplen -= 12;
    let hdrlen = 12;
    if (this.o.link) this.p(`${this.etheraddr(6)} > ${this.etheraddr(0)}, `);
    let off = 12;
    let printedLength = false;
    for (;;) {
      const lt = this.u16(off);
      length -= 2; caplen -= 2; off += 2; hdrlen += 2;
      if (lt <= 1500) {
        // 802.3 length field: LLC, which we do not decode.
        if (lt < length) { length = lt; if (caplen > length) caplen = length; }
        if (this.o.link) {
          this.p("802.3");
          if (!printedLength) this.p(`, length ${length}: `);
        }
        this.end = Math.min(this.end, off + length);
        this.proto = "llc";
        this.defaultPrint(off, caplen);
        return hdrlen;
      }
      if (lt === 0x8100 || lt === 0x9100 || lt === 0x9200 || lt === 0x88a8) {
        if (caplen < 4 || length < 4) {
          this.proto = "vlan";
          this.trunc();
          return hdrlen + Math.min(caplen, length);
        }
        if (this.o.link) {
          const tag = this.u16(off);
          this.p(this.etherTypeText(lt));
          if (!printedLength) { this.p(`, length ${origLength}: `); printedLength = true; } else this.p(", ");
          this.p(`vlan ${tag & 0xfff}, p ${tag >> 13}${tag & 0x1000 ? ", DEI" : ""}, `);
        }
        const inner = this.u16(off + 2);
        if (this.o.link && inner > 1500) {
          // the inner type is printed here and (again) by the next round's type path below
        }
        off += 2; length -= 2; caplen -= 2; hdrlen += 2;
        // The next iteration re-reads the inner type at `off`.
        continue;
      }
      if (this.o.link) {
        this.p(this.etherTypeText(lt));
        if (!printedLength) { this.p(`, length ${origLength}: `); printedLength = true; } else this.p(", ");
      }
      this.llHdrLen = hdrlen;
      if (!this.ethertype(lt, off, length, caplen)) {
        if (!this.o.link) {
          this.p(`${this.etheraddr(6)} > ${this.etheraddr(0)}, ${this.etherTypeText(lt)}, length ${origLength}: `);
        }
        // ndo_suppress_default_print: set by -x/-X (they dump the packet anyway) and -q.
        if (!this.o.hex && !this.o.hexAscii && !this.o.quiet) this.defaultPrint(off, caplen);
      }
      return hdrlen;
    }
  }

  /** ethertype_print: false when the type has no printer. */
  private ethertype(t: number, off: number, length: number, caplen: number): boolean {
    switch (t) {
      case 0x0800: {
        const saved = this.push(off, length);
        this.ip(off, length);
        this.end = saved;
        return true;
      }
      case 0x0806: case 0x8035:
        this.arp(off, length, caplen);
        return true;
      default:
        return false;
    }
  }

  /** print-sll.c sll2_if_print. */
  private sll2(caplen: number, length: number): number {
    this.proto = "sll2";
    if (caplen < 20) {
      this.trunc();
      return caplen;
    }
    const ifindex = this.u32(4);
    const name = this.o.ifnameByIndex?.(ifindex) ?? "?";
    this.p(`${name.padEnd(5)} `);
    const pkttype = this.u8(10);
    this.p(`${(SLL_PKTTYPES[pkttype] ?? "?").padEnd(3)} `);
    const etherType = this.u16(0);
    this.llHdrLen = 20;
    if (this.o.link) {
      this.p(`ifindex ${ifindex} `);
      if (this.u8(11) === 6) this.p(`${this.etheraddr(12)} `);
      if (!this.o.quiet) {
        this.p(`ethertype ${ETHERTYPE_NAMES.get(etherType) ?? "Unknown"} (0x${hex4(etherType)}), length ${length}: `);
      }
    }
    if (!this.ethertype(etherType, 20, length - 20, caplen - 20)) {
      if (!this.o.link) this.p(`ethertype ${ETHERTYPE_NAMES.get(etherType) ?? "Unknown"} (0x${hex4(etherType)}), length ${length}: `);
      this.defaultPrint(20, caplen - 20);
    }
    return 20;
  }

  /** raw_if_print: a tunnel device's packet starts at its IP header (no link header). */
  private rawIp(length: number): number {
    if (this.o.link) this.p("ip: ");
    const v = this.u8(0) >> 4;
    if (v === 4) this.ip(0, length);
    else this.p(`unknown ip ${v}`);
    return 0;
  }

  // ---- ARP (print-arp.c) ------------------------------------------------------------------

  private arp(off: number, length: number, caplen: number): void {
    this.proto = "arp";
    this.check(off, 8);
    const hrd = this.u16(off), pro = this.u16(off + 2), hln = this.u8(off + 4), pln = this.u8(off + 5);
    const op = this.u16(off + 6);
    const sha = off + 8, spa = sha + hln, tha = spa + pln, tpa = tha + hln;
    if (!this.has(tpa, pln)) throw TRUNC;
    if (!this.o.link) this.p("ARP, ");
    if ((pro !== 0x0800 && pro !== 0x1000) || pln !== 4 || hln === 0 || this.o.verbose) {
      this.p(`${ARPHRD_NAMES.get(hrd) ?? `Unknown Hardware (${hrd})`} (len ${hln}), ${ETHERTYPE_NAMES.get(pro) ?? `Unknown Protocol (0x${hex4(pro)})`} (len ${pln})`);
      if (!this.o.verbose) {
        this.p(`, length ${length}`);
        return;
      }
    }
    this.p(`${this.o.verbose ? ", " : ""}${ARPOP_NAMES.get(op) ?? `Unknown (${op})`} `);
    const paddr = (at: number): string =>
      pro !== 0x0800 ? "<wrong proto type>" : pln !== 4 ? "<wrong len>" : this.ipaddr(at);
    const laddr = (at: number): string => this.linkaddr(at, hln);
    switch (op) {
      case 1: {
        this.p(`who-has ${paddr(tpa)}`);
        let nonzero = false;
        for (let i = 0; i < hln; i++) if (this.u8(tha + i) !== 0) nonzero = true;
        if (nonzero) this.p(` (${laddr(tha)})`);
        this.p(` tell ${paddr(spa)}`);
        break;
      }
      case 2: this.p(`${paddr(spa)} is-at ${laddr(sha)}`); break;
      case 3: case 8: this.p(`who-is ${laddr(tha)} tell ${laddr(sha)}`); break;
      case 4: this.p(`${laddr(tha)} at ${paddr(tpa)}`); break;
      case 9: this.p(`${laddr(sha)} at ${paddr(spa)}`); break;
      default:
        this.defaultPrint(off, caplen);
        return;
    }
    this.p(`, length ${length}`);
  }

  private linkaddr(off: number, len: number): string {
    if (len === 6) return this.etheraddr(off);
    if (len === 0) return "<empty>";
    this.check(off, len);
    const parts: string[] = [];
    for (let i = 0; i < len; i++) parts.push(this.b[off + i]!.toString(16).padStart(2, "0"));
    return parts.join(":");
  }

  // ---- IPv4 (print-ip.c) --------------------------------------------------------------------

  private ip(off: number, length: number): void {
    // The version is read before the protocol name changes (an ICMP-quoted header cut
    // to nothing ends in ` [|icmp]`).
    const vhl = this.u8(off);
    this.proto = "ip";
    if (vhl >> 4 !== 4) {
      this.p(vhl >> 4 === 6 ? "IP6, wrong link-layer encapsulation" : `IP${vhl >> 4}`);
      this.invalid();
      return;
    }
    if (!this.o.link) this.p("IP ");
    if (!this.has(off, 20)) { this.trunc(); return; }
    if (length < 20) {
      this.p(`truncated-ip ${length}`);
      return;
    }
    const hlen = (vhl & 15) * 4;
    if (hlen < 20) {
      this.p(`bad-hlen ${hlen}`);
      return;
    }
    let ipLen = this.u16(off + 2);
    if (length < ipLen) this.p(`truncated-ip - ${ipLen - length} bytes missing! `);
    if (ipLen < hlen) {
      this.p(`bad-len ${ipLen}`);
      return;
    }
    const saved = this.push(off, Math.min(length, ipLen));
    ipLen -= hlen;
    const ipoff = this.u16(off + 6);
    const proto = this.u8(off + 9);
    if (this.o.verbose) {
      const tos = this.u8(off + 1);
      this.p(`(tos 0x${tos.toString(16)}`);
      this.p(["", ",ECT(1)", ",ECT(0)", ",CE"][tos & 3]!);
      const ttl = this.u8(off + 8);
      if (ttl >= 1) this.p(`, ttl ${ttl}`);
      const fl: string[] = [];
      if (ipoff & 0x2000) fl.push("+");
      if (ipoff & 0x4000) fl.push("DF");
      if (ipoff & 0x8000) fl.push("rsvd");
      this.p(`, id ${this.u16(off + 4)}, offset ${(ipoff & 0x1fff) * 8}, flags [${fl.length ? fl.join(", ") : "none"}]`);
      this.p(`, proto ${IPPROTO_NAMES.get(proto) ?? "unknown"} (${proto}), length ${this.u16(off + 2)}`);
      let truncated = false;
      if (hlen > 20) {
        this.p(", options (");
        if (!this.ipOptions(off + 20, hlen - 20)) {
          this.p(" [truncated-option]");
          truncated = true;
        }
        this.p(")");
      }
      if (off + hlen <= this.end) {
        const sum = cksum(this.b, off, off + hlen, 0);
        if (sum !== 0) {
          const ipSum = this.u16(off + 10);
          this.p(`, bad cksum ${ipSum.toString(16)} (->${shouldBe(ipSum, sum).toString(16)})!`);
        }
      }
      this.p(")\n    ");
      if (truncated) {
        this.p(`${this.ipaddr(off + 12)} > ${this.ipaddr(off + 16)}: `);
        this.trunc();
        this.end = saved;
        return;
      }
    }
    if ((ipoff & 0x1fff) === 0) {
      if (proto !== 6 && proto !== 17 && proto !== 132 && proto !== 33) {
        this.p(`${this.ipaddr(off + 12)} > ${this.ipaddr(off + 16)}: `);
      }
      if (!this.has(off, hlen)) {
        this.p(` [remaining caplen(${Math.max(this.end - off, 0)}) < header length(${hlen})]`);
        throw TRUNC;
      }
      this.ipDemux(off + hlen, ipLen, (ipoff & 0x2000) !== 0, proto, off);
    } else if (this.o.quiet <= 1) {
      this.p(`${this.ipaddr(off + 12)} > ${this.ipaddr(off + 16)}:`);
      const name = this.nflag ? undefined : NETDB_PROTO_NAMES.get(proto);
      this.p(name !== undefined ? ` ${name}` : ` ip-proto-${proto}`);
    }
    this.end = saved;
  }

  /** ip_optprint: option names; false when an option runs past the captured end. */
  private ipOptions(off: number, len: number): boolean {
    let sep = "";
    while (len > 0) {
      this.p(sep);
      sep = ",";
      const t = this.u8(off);
      this.p(IPOPT_NAMES.get(t) ?? `unknown ${t}`);
      let olen = 1;
      if (t !== 0 && t !== 1) {
        olen = this.u8(off + 1);
        if (olen < 2) { this.p(` [bad length ${olen}]`); return true; }
      }
      if (olen > len) { this.p(` [bad length ${olen}]`); return true; }
      if (!this.has(off, olen)) return false;
      if (t === 0) return true;
      if (t === 148) {
        if (olen < 4) this.p(` [bad length ${olen}]`);
        else if (this.u16(off + 2) !== 0) this.p(` value ${this.u16(off + 2)}`);
      }
      off += olen; len -= olen;
    }
    return true;
  }

  private ipDemux(off: number, length: number, fragmented: boolean, proto: number, ipOff: number): void {
    switch (proto) {
      case 6: this.tcp(off, length, ipOff, fragmented); break;
      case 17: this.udp(off, length, ipOff, fragmented); break;
      case 1: this.icmp(off, length, fragmented); break;
      case 4: this.ip(off, length); break;
      case 47: this.gre(off, length); break;
      default: {
        const name = this.nflag ? undefined : NETDB_PROTO_NAMES.get(proto);
        this.p(name !== undefined ? ` ${name}` : ` ip-proto-${proto}`);
        this.p(` ${length}`);
      }
    }
  }

  // ---- GRE (print-gre.c) ----------------------------------------------------------------

  /** gre_print / gre_print_0: version 0's flags and optional fields, then IPv4 inside. */
  private gre(off: number, length: number): void {
    this.proto = "gre";
    try {
      const flags = this.u16(off);
      const vers = flags & 7;
      this.p(`GREv${vers}`);
      if (vers !== 0) {
        this.p(" ERROR: unknown-version");
        return;
      }
      if (this.o.verbose) {
        const names = ([[0x8000, "checksum present"], [0x4000, "routing present"], [0x2000, "key present"], [0x1000, "sequence# present"], [0x0800, "source routing present"], [0x0080, "ack present"]] as const)
          .filter(([bit]) => flags & bit).map(([, n]) => n);
        this.p(`, Flags [${names.length ? names.join(", ") : "none"}]`);
      }
      let len = length - 2;
      let p = off + 2;
      if (len < 2) throw TRUNC;
      const prot = this.u16(p);
      p += 2; len -= 2;
      if (flags & 0xc000) {
        if (len < 2) throw TRUNC;
        if (this.o.verbose) this.p(`, sum 0x${this.u16(p).toString(16)}`);
        p += 2; len -= 2;
        if (len < 2) throw TRUNC;
        this.p(`, off 0x${this.u16(p).toString(16)}`);
        p += 2; len -= 2;
      }
      if (flags & 0x2000) {
        if (len < 4) throw TRUNC;
        this.p(`, key=0x${this.u32(p).toString(16)}`);
        p += 4; len -= 4;
      }
      if (flags & 0x1000) {
        if (len < 4) throw TRUNC;
        this.p(`, seq ${this.u32(p)}`);
        p += 4; len -= 4;
      }
      if (this.o.link) this.p(`, proto ${ETHERTYPE_NAMES.get(prot) ?? "unknown"} (0x${hex4(prot)})`);
      this.p(`, length ${length}`);
      this.p(this.o.verbose ? "\n\t" : ": ");
      if (prot === 0x0800) this.ip(p, len);
      else this.p(`gre-proto-0x${prot.toString(16)}`);
    } catch (e) {
      if (e !== TRUNC) throw e;
      this.trunc();
    }
  }

  // ---- TCP (print-tcp.c) ----------------------------------------------------------------

  private tcp(off: number, length: number, ipOff: number, fragmented: boolean): void {
    this.proto = "tcp";
    const isTcp = this.u8(ipOff + 9) === 6;
    if (!this.has(off + 2, 2)) {
      this.p(`${this.ipaddr(ipOff + 12)} > ${this.ipaddr(ipOff + 16)}:`);
      this.trunc();
      return;
    }
    const sport = this.u16(off), dport = this.u16(off + 2);
    if (isTcp) {
      this.p(`${this.ipaddr(ipOff + 12)}.${this.tcpport(sport)} > ${this.ipaddr(ipOff + 16)}.${this.tcpport(dport)}: `);
    } else {
      this.p(`${this.tcpport(sport)} > ${this.tcpport(dport)}: `);
    }
    if (!this.has(off, 20)) { this.trunc(); return; }
    let hlen = (this.u8(off + 12) >> 4) * 4;
    if (hlen < 20) {
      this.p(` tcp ${u32(length - hlen)} [bad hdr length ${hlen} - too short, < 20]`);
      return;
    }
    let seq = this.u32(off + 4), ack = this.u32(off + 8);
    const win = this.u16(off + 14), urp = this.u16(off + 18);
    if (this.o.quiet) {
      this.p(`tcp ${u32(length - hlen)}`);
      if (hlen > length) this.p(` [bad hdr length ${hlen} - too long, > ${length}]`);
      return;
    }
    const flags = this.u8(off + 13);
    let fl = "";
    for (const [bit, l] of TCP_FLAG_LETTERS) if (flags & bit) fl += l;
    this.p(`Flags [${fl || "none"}]`);

    let rev = false, thseq = 0, thack = 0;
    if (!this.o.absoluteSeq && (flags & 0x10)) {
      const src = this.u32(ipOff + 12), dst = this.u32(ipOff + 16);
      if (sport > dport) rev = true;
      else if (sport === dport && src > dst) rev = true;
      const key = rev ? `${dst}:${src}:${dport}:${sport}` : `${src}:${dst}:${sport}:${dport}`;
      let th = this.seqTable.get(key);
      if (th === undefined || (flags & 0x02)) {
        th = rev ? { ack: seq, seq: u32(ack - 1) } : { seq, ack: u32(ack - 1) };
        this.seqTable.set(key, th);
      } else if (rev) {
        seq = u32(seq - th.ack); ack = u32(ack - th.seq);
      } else {
        seq = u32(seq - th.seq); ack = u32(ack - th.ack);
      }
      thseq = th.seq; thack = th.ack;
    }
    if (hlen > length) {
      this.p(` [bad hdr length ${hlen} - too long, > ${length}]`);
      return;
    }
    if (this.o.verbose && !fragmented) {
      if (this.has(off, length)) {
        const sum = this.pseudoSum(ipOff, off, length, 6);
        const tcpSum = this.u16(off + 16);
        this.p(`, cksum 0x${hex4(tcpSum)}`);
        this.p(sum !== 0 ? ` (incorrect -> 0x${hex4(shouldBe(tcpSum, sum))})` : " (correct)");
      }
    }
    length -= hlen;
    if (this.o.verbose > 1 || length > 0 || (flags & 0x07)) {
      this.p(`, seq ${seq}`);
      if (length > 0) this.p(`:${u32(seq + length)}`);
    }
    if (flags & 0x10) this.p(`, ack ${ack}`);
    this.p(`, win ${win}`);
    if (flags & 0x20) this.p(`, urg ${urp}`);

    if (hlen > 20) {
      let cp = off + 20;
      hlen -= 20;
      this.p(", options [");
      let ch = "";
      // LENCHECK: past the option space → `[bad opt]`; past the capture → ` [|tcp]>`.
      let failed: "bad" | "trunc" | undefined;
      const bad = (): void => {
        if (failed === "trunc") {
          this.trunc();
          if (ch !== "") this.p(">");
        } else {
          this.p("[bad opt]");
          if (ch !== "") this.p("]");
        }
      };
      {
        while (hlen > 0) {
          this.p(ch);
          const opt = this.u8(cp++);
          let len: number;
          if (opt === 0 || opt === 1) len = 1;
          else {
            len = this.u8(cp++);
            if (len < 2 || len > hlen) { failed = "bad"; bad(); return; }
            --hlen;
          }
          --hlen;
          let datalen = 0;
          const lencheck = (l: number): boolean => {
            failed = l > hlen ? "bad" : !this.has(cp, l) ? "trunc" : undefined;
            return failed === undefined;
          };
          this.p(TCPOPT_NAMES.get(opt) ?? `unknown-${opt}`);
          switch (opt) {
            case 2:
              datalen = 2;
              if (!lencheck(datalen)) { bad(); return; }
              this.p(` ${this.u16(cp)}`);
              break;
            case 3:
              datalen = 1;
              if (!lencheck(datalen)) { bad(); return; }
              this.p(` ${this.u8(cp)}`);
              break;
            case 5:
              datalen = len - 2;
              if (datalen % 8 !== 0) {
                this.p(" invalid sack");
              } else {
                this.p(` ${datalen / 8} `);
                for (let i = 0; i < datalen; i += 8) {
                  if (!lencheck(i + 4)) { bad(); return; }
                  let s = this.u32(cp + i);
                  if (!lencheck(i + 8)) { bad(); return; }
                  let e = this.u32(cp + i + 4);
                  if (rev) { s = u32(s - thseq); e = u32(e - thseq); } else { s = u32(s - thack); e = u32(e - thack); }
                  this.p(`{${s}:${e}}`);
                }
              }
              break;
            case 6: case 7: case 11: case 12: case 13:
              datalen = 4;
              if (!lencheck(datalen)) { bad(); return; }
              this.p(` ${this.u32(cp)}`);
              break;
            case 8:
              datalen = 8;
              if (!lencheck(datalen)) { bad(); return; }
              this.p(` val ${this.u32(cp)} ecr ${this.u32(cp + 4)}`);
              break;
            case 19:
              datalen = 16;
              if (!lencheck(datalen)) { bad(); return; }
              this.p(":can't check - no secret given");
              break;
            case 20:
              datalen = 2;
              if (!lencheck(datalen)) { bad(); return; }
              this.p(` cap ${this.u8(cp).toString(16).padStart(2, "0")} id ${this.u8(cp + 1)}`);
              break;
            case 28: {
              datalen = 2;
              if (!lencheck(datalen)) { bad(); return; }
              let uto = this.u16(cp);
              this.p(` 0x${uto.toString(16)}`);
              uto = uto & 1 ? (uto >> 1) * 60 : uto >> 1;
              this.p(` ${uto}`);
              break;
            }
            case 34:
              datalen = len - 2;
              if (!lencheck(datalen)) { bad(); return; }
              this.p(" ");
              this.fastopen(cp, datalen, false);
              break;
            case 254: {
              datalen = len - 2;
              if (!lencheck(datalen)) { bad(); return; }
              if (datalen < 2) { failed = "bad"; bad(); return; }
              const magic = this.u16(cp);
              this.p("-");
              if (magic === 0xf989) this.fastopen(cp + 2, datalen - 2, true);
              else this.p(hex4(magic));
              break;
            }
            case 0: case 1: case 4:
              break;
            default:
              datalen = len - 2;
              if (datalen) this.p(" 0x");
              for (let i = 0; i < datalen; ++i) {
                if (!lencheck(i + 1)) { bad(); return; }
                this.p(this.u8(cp + i).toString(16).padStart(2, "0"));
              }
              break;
          }
          cp += datalen;
          hlen -= datalen;
          ++datalen;
          if (opt !== 0 && opt !== 1) ++datalen;
          if (datalen !== len) this.p(`[len ${len}]`);
          ch = ",";
          if (opt === 0) break;
        }
      }
      this.p("]");
    }
    this.p(`, length ${length}`);
    if (length <= 0) return;
    const data = off + (this.u8(off + 12) >> 4) * 4;
    if ((flags & 0x04) && this.o.verbose) {
      this.rstData(data, length);
      return;
    }
    const either = (p: number): boolean => sport === p || dport === p;
    if (either(23)) { /* telnet: decoded only with options we do not support */ }
    else if (either(25)) { this.p(": "); this.proto = "smtp"; this.txtproto(data, length, null, false); }
    else if (either(43)) { this.p(": "); this.proto = "whois"; this.txtproto(data, length, null, false); }
    else if (either(22)) { this.proto = "ssh"; this.ssh(data, length); }
    else if (either(21)) { this.p(": "); this.proto = "ftp"; this.txtproto(data, length, null, false); }
    else if (either(80) || either(8080)) { this.p(": "); this.proto = "http"; this.txtproto(data, length, HTTP_CMDS, true); }
  }

  private fastopen(cp: number, datalen: number, exp: boolean): void {
    this.p(exp ? "tfo" : "");
    if (datalen === 0) this.p(" cookiereq");
    else if (datalen % 2 !== 0 || datalen < 4 || datalen > 16) this.p(" invalid");
    else {
      this.p(" cookie ");
      for (let i = 0; i < datalen; i++) this.p(this.u8(cp + i).toString(16).padStart(2, "0"));
    }
  }

  private rstData(off: number, length: number): void {
    this.p(this.has(off, length) ? " [RST" : " [!RST");
    if (length > 30) { length = 30; this.p("+"); }
    this.p(" ");
    for (let i = 0; i < length && off + i < this.end; i++) this.p(safeChar(this.b[off + i]!));
    this.p("]");
  }

  /** One's-complement sum over the pseudo-header and the segment (0 when correct). */
  private pseudoSum(ipOff: number, off: number, length: number, proto: number): number {
    let acc = 0;
    for (let i = 12; i < 20; i += 2) acc += (this.b[ipOff + i]! << 8) | this.b[ipOff + i + 1]!;
    acc += proto + length;
    return cksum(this.b, off, off + length, acc);
  }

  // ---- text protocols (util-print.c txtproto_print) ----------------------------------------

  private txtproto(off: number, len: number, cmds: readonly string[] | null, respSecond: boolean): void {
    let printThis = false;
    if (cmds !== null) {
      let tok = this.fetchToken(off, 0, len);
      if (tok !== undefined) {
        if (cmds.includes(tok.token.toUpperCase())) printThis = true;
        if (respSecond) tok = this.fetchToken(off, tok.idx, len);
        if (tok !== undefined && /^[0-9]{3}$/.test(tok.token)) printThis = true;
      }
    } else printThis = true;
    this.p(this.proto.toUpperCase());
    if (!printThis) return;
    if (this.o.verbose) {
      this.p(`, length: ${len}`);
      let idx = 0;
      while (idx < len) {
        const eol = this.txtLine("\n\t", off, idx, len);
        if (eol === 0) break;
        idx = eol;
      }
    } else {
      this.txtLine(": ", off, 0, len);
    }
  }

  private fetchToken(off: number, idx: number, len: number): { token: string; idx: number } | undefined {
    let token = "";
    for (; idx < len; idx++) {
      if (!this.has(off + idx, 1)) return undefined;
      const c = this.b[off + idx]!;
      if (c >= 0x80) return undefined;
      if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
      if (c < 0x20 || c > 0x7e) return undefined;
      if (token.length + 2 > 129) return undefined;
      token += String.fromCharCode(c);
    }
    if (token === "") return undefined;
    for (; idx < len; idx++) {
      if (!this.has(off + idx, 1)) break;
      const c = this.b[off + idx]!;
      if (c === 0x0d || c === 0x0a) break;
      if (c < 0x20 || c > 0x7e) break;
      if (c !== 0x20 && c !== 0x09) break;
    }
    return { token, idx };
  }

  private txtLine(prefix: string, off: number, idx: number, len: number): number {
    const start = idx;
    let linelen: number;
    for (;;) {
      if (idx >= len) {
        linelen = idx - start;
        this.p(prefix + latin1(this.b, off + start, linelen));
        this.trunc();
        return 0;
      }
      const c = this.u8(off + idx);
      if (c === 0x0a) { linelen = idx - start; idx++; break; }
      if (c === 0x0d) {
        if (idx + 1 >= len) return 0;
        if (this.u8(off + idx + 1) === 0x0a) { linelen = idx - start; idx += 2; break; }
        return 0;
      }
      if ((c < 0x20 || c > 0x7e) && c !== 0x09) return 0;
      idx++;
    }
    this.p(prefix + latin1(this.b, off + start, linelen));
    return idx;
  }

  private ssh(off: number, len: number): void {
    for (let i = 0; i < 4; i++) if (this.u8(off + i) !== "SSH-".charCodeAt(i)) return;
    let idx = 4;
    while (idx < len) {
      const c = this.u8(off + idx);
      if (c === 0x0a) break;
      if (c === 0x0d) {
        if (idx + 1 >= len) return;
        if (this.u8(off + idx + 1) === 0x0a) break;
        return;
      }
      if (c < 0x20 || c > 0x7e) return;
      idx++;
    }
    if (idx >= len) return;
    this.p(`: SSH: ${latin1(this.b, off, idx)}`);
  }

  // ---- UDP (print-udp.c) -----------------------------------------------------------------

  private udpAddrs(ipOff: number, sport: number, dport: number): void {
    if (this.u8(ipOff + 9) === 17) {
      if (sport === -1) this.p(`${this.ipaddr(ipOff + 12)} > ${this.ipaddr(ipOff + 16)}: `);
      else this.p(`${this.ipaddr(ipOff + 12)}.${this.udpport(sport)} > ${this.ipaddr(ipOff + 16)}.${this.udpport(dport)}: `);
    } else if (sport !== -1) {
      this.p(`${this.udpport(sport)} > ${this.udpport(dport)}: `);
    }
  }

  private udp(off: number, length: number, ipOff: number, fragmented: boolean): void {
    this.proto = "udp";
    if (!this.has(off + 2, 2)) {
      this.udpAddrs(ipOff, -1, -1);
      this.trunc();
      return;
    }
    const sport = this.u16(off), dport = this.u16(off + 2);
    if (length < 8) {
      this.udpAddrs(ipOff, sport, dport);
      this.p(`truncated-udp ${length}`);
      return;
    }
    if (!this.has(off + 4, 2)) {
      this.udpAddrs(ipOff, sport, dport);
      this.trunc();
      return;
    }
    let ulen = this.u16(off + 4);
    if (ulen < 8) {
      this.udpAddrs(ipOff, sport, dport);
      this.p(`truncated-udplength ${ulen}`);
      return;
    }
    ulen -= 8;
    length -= 8;
    if (ulen < length) length = ulen;
    if (off + 8 > this.end) {
      this.udpAddrs(ipOff, sport, dport);
      this.trunc();
      return;
    }
    this.udpAddrs(ipOff, sport, dport);
    if (this.o.verbose > 1 && !fragmented) {
      const udpSum = this.u16(off + 6);
      if (udpSum === 0) this.p("[no cksum] ");
      else if (this.has(off + 8, length)) {
        const sum = this.pseudoSum(ipOff, off, length + 8, 17);
        this.p(sum !== 0 ? `[bad udp cksum 0x${hex4(udpSum)} -> 0x${hex4(shouldBe(udpSum, sum))}!] ` : "[udp sum ok] ");
      }
    }
    if (ulen > length && !fragmented) this.p(`UDP, bad length ${ulen} > ${length}`);
    else this.p(`UDP, length ${ulen}`);
  }

  // ---- ICMP (print-icmp.c) ---------------------------------------------------------------

  private icmp(off: number, plen: number, fragmented: boolean): void {
    this.proto = "icmp";
    const type = this.u8(off), code = this.u8(off + 1);
    const embDst = (): string => this.ipaddr(off + 8 + 16);
    let str: string;
    switch (type) {
      case 0: case 8:
        str = `echo ${type === 8 ? "request" : "reply"}, id ${this.u16(off + 4)}, seq ${this.u16(off + 6)}`;
        break;
      case 3: {
        switch (code) {
          case 2: str = `${embDst()} protocol ${this.u8(off + 8 + 9)} unreachable`; break;
          case 3: {
            if (!this.has(off + 8 + 9, 1)) { this.trunc(); return; }
            const hl = (this.u8(off + 8) & 15) * 4;
            const dport = this.u16(off + 8 + hl + 2);
            const p = this.u8(off + 8 + 9);
            str = p === 6 ? `${embDst()} tcp port ${this.tcpport(dport)} unreachable`
              : p === 17 ? `${embDst()} udp port ${this.udpport(dport)} unreachable`
              : `${embDst()} protocol ${p} port ${dport} unreachable`;
            break;
          }
          case 4: {
            const mtu = this.u16(off + 6);
            str = mtu ? `${embDst()} unreachable - need to frag (mtu ${mtu})` : `${embDst()} unreachable - need to frag`;
            break;
          }
          default: {
            const fmt = UNREACH_FMT.get(code) ?? `#${code} %s unreachable`;
            str = fmt.replace("%s", embDst());
          }
        }
        break;
      }
      case 5: {
        embDst();
        const fmt = REDIRECT_FMT.get(code) ?? `redirect-#${code} %s to %s`;
        const d = embDst();
        const gw = this.ipaddr(off + 4);
        str = fmt.replace("%s", d).replace("%s", gw);
        break;
      }
      case 11:
        if (!this.has(off + 8 + 16, 4)) { this.trunc(); return; }
        str = code === 0 ? "time exceeded in-transit" : code === 1 ? "ip reassembly time exceeded" : `time exceeded-#${code}`;
        break;
      case 12:
        str = code ? `parameter problem - code ${code}` : `parameter problem - octet ${this.u8(off + 4)}`;
        break;
      case 13: case 14: {
        str = `time stamp ${type === 13 ? "query" : "reply"} id ${this.u16(off + 4)} seq ${this.u16(off + 6)}`;
        if (type === 14) {
          str += `: org ${this.icmpTime(this.u32(off + 8))}, recv ${this.icmpTime(this.u32(off + 12))}, xmit ${this.icmpTime(this.u32(off + 16))}`;
        }
        break;
      }
      case 18:
        str = `address mask is 0x${this.u32(off + 12).toString(16).padStart(8, "0")}`;
        break;
      default:
        str = ICMP_NAMES.get(type) ?? `type-#${type}`;
    }
    this.p(`ICMP ${str}, length ${plen}`);
    if (this.o.verbose && !fragmented) {
      if (this.has(off, plen)) {
        const sum = cksum(this.b, off, off + plen, 0);
        if (sum !== 0) {
          const icmpSum = this.u16(off + 2);
          this.p(` (wrong icmp cksum ${icmpSum.toString(16)} (->${shouldBe(icmpSum, sum).toString(16)})!)`);
        }
      }
    }
    if (this.o.verbose >= 1 && (type === 3 || type === 4 || type === 5 || type === 11 || type === 12)) {
      const ip = off + 8;
      this.p("\n\t");
      const ipLen = this.u16(ip + 2);
      const saved = this.push(ip, ipLen);
      this.ip(ip, ipLen);
      this.end = saved;
      this.proto = "icmp";
      // RFC 4884 multi-part extensions (ICMP_EXTD_MINLEN = 136): tcpdump probes for them.
      if ((type === 3 || type === 11 || type === 12) && plen > 136) {
        if (!this.has(off, 141)) { this.trunc(); return; }
        const hlen = plen - 136;
        if (this.u8(off + 5) === 0 && this.has(off + 136, hlen) && cksum(this.b, off + 136, off + 136 + hlen, 0) !== 0) return;
        const ver = this.u8(off + 136) >> 4;
        this.p(`\n\tICMP Multi-Part extension v${ver}`);
        if (ver !== 2) { this.p(" packet not supported"); return; }
      }
    }
  }

  private icmpTime(ms: number): string {
    if (ms & 0x80000000) return `${ms} (non-standard)`;
    const s = Math.floor(ms / 1000);
    return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}.${String(ms % 1000).padStart(3, "0")}`;
  }

  // ---- dumps (util-print.c) ------------------------------------------------------------

  private defaultPrint(off: number, len: number): void {
    this.hexAscii(off, len);
  }

  private hexOnly(off: number, length: number): void {
    let oset = 0;
    let i = 0;
    for (let n = Math.floor(length / 2); n > 0; n--) {
      if (i++ % 8 === 0) { this.p(`\n\t0x${hex4(oset)}: `); oset += 16; }
      this.p(` ${this.hx(off)}${this.hx(off + 1)}`);
      off += 2;
    }
    if (length & 1) {
      if (i % 8 === 0) this.p(`\n\t0x${hex4(oset)}: `);
      this.p(` ${this.hx(off)}`);
    }
  }

  private hx(off: number): string {
    if (off >= this.end) throw TRUNC;
    return this.b[off]!.toString(16).padStart(2, "0");
  }

  private hexAscii(off: number, length: number): void {
    const avail = Math.max(this.end - off, 0);
    let truncated = false;
    if (length > avail) { length = avail; truncated = true; }
    let hexs = "", asc = "", i = 0, oset = 0;
    const line = (): void => {
      this.p(`\n\t0x${hex4(oset)}: ${hexs.padEnd(40)}  ${asc}`);
    };
    for (let n = Math.floor(length / 2); n > 0; n--) {
      const s1 = this.b[off++]!, s2 = this.b[off++]!;
      hexs += ` ${s1.toString(16).padStart(2, "0")}${s2.toString(16).padStart(2, "0")}`;
      asc += graph(s1) + graph(s2);
      if (++i >= 8) { line(); i = 0; hexs = ""; asc = ""; oset += 16; }
    }
    if (length & 1) {
      const s1 = this.b[off++]!;
      hexs += ` ${s1.toString(16).padStart(2, "0")}`;
      asc += graph(s1);
      ++i;
    }
    if (i > 0) line();
    if (truncated) this.trunc();
  }

  private asciiDump(off: number, length: number): void {
    const avail = Math.max(this.end - off, 0);
    let truncated = false;
    if (length > avail) { length = avail; truncated = true; }
    this.p("\n");
    while (length > 0) {
      const s = this.b[off++]!;
      length--;
      if (s === 0x0d) {
        if (length > 1 && this.b[off] !== 0x0a) this.p(".");
      } else if ((s < 0x21 || s > 0x7e) && s !== 0x09 && s !== 0x20 && s !== 0x0a) {
        this.p(".");
      } else {
        this.p(String.fromCharCode(s));
      }
    }
    if (truncated) this.trunc();
  }
}

// ---------------------------------------------------------------------------------------

const SLL_PKTTYPES: readonly string[] = ["In", "B", "M", "P", "Out"];

const ARPHRD_NAMES: ReadonlyMap<number, string> = new Map([
  [1, "Ethernet"], [6, "TokenRing"], [7, "ArcNet"], [15, "FrameRelay"], [16, "ATM"], [19, "ATM"],
  [24, "IEEE1394"], [31, "IPsec tunnel"], [32, "InfiniBand"], [33, "TIA-102 Project 25 CAI"],
  [4, "Chaos"], [18, "Fibre Channel"], [17, "Strip"], [2, "Experimental Ethernet"], [3, "AX.25"],
  [5, "ProNET"], [8, "Hyperchannel"], [9, "Lanstar"], [10, "Autonet"], [11, "LocalTalk"],
  [12, "LocalNet"], [13, "Ultra link"], [14, "SMDS"],
]);

const ARPOP_NAMES: ReadonlyMap<number, string> = new Map([
  [1, "Request"], [2, "Reply"], [3, "Reverse Request"], [4, "Reverse Reply"],
  [8, "Inverse Request"], [9, "Inverse Reply"], [10, "NACK Reply"],
]);

const TCPOPT_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "eol"], [1, "nop"], [2, "mss"], [3, "wscale"], [4, "sackOK"], [5, "sack"], [6, "echo"],
  [7, "echoreply"], [8, "TS"], [11, "cc"], [12, "ccnew"], [13, ""], [19, "md5"], [20, "scps"],
  [27, "snack"], [28, "uto"], [29, "tcp-ao"], [30, "mptcp"], [34, "tfo"], [254, "exp"],
  [253, "exp"],
]);

const IPOPT_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "EOL"], [1, "NOP"], [68, "timestamp"], [130, "security"], [7, "RR"], [137, "SSRR"],
  [131, "LSRR"], [148, "RA"], [82, "traceroute"],
]);

const HTTP_CMDS: readonly string[] = [
  "OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT", "PROPFIND",
  "PROPPATCH", "COPY", "MOVE", "LOCK", "UNLOCK", "POLL", "BPROPFIND", "BPROPPATCH", "BCOPY",
  "BDELETE", "BMOVE", "NOTIFY", "SEARCH", "SUBSCRIBE", "UNSUBSCRIBE", "MKCOL", "ACL",
  "BIND", "UNBIND", "REBIND", "MKWORKSPACE", "VERSION-CONTROL", "REPORT", "CHECKIN",
  "CHECKOUT", "UNCHECKOUT", "MKACTIVITY", "LABEL", "UPDATE", "MERGE", "BASELINE-CONTROL",
  "ORDERPATCH", "MKREDIRECTREF", "UPDATEREDIRECTREF", "MKCALENDAR", "PATCH", "LINK", "UNLINK",
];

const UNREACH_FMT: ReadonlyMap<number, string> = new Map([
  [0, "net %s unreachable"], [1, "host %s unreachable"], [5, "%s unreachable - source route failed"],
  [6, "net %s unreachable - unknown"], [7, "host %s unreachable - unknown"],
  [8, "%s unreachable - source host isolated"], [9, "net %s unreachable - admin prohibited"],
  [10, "host %s unreachable - admin prohibited"], [11, "net %s unreachable - tos prohibited"],
  [12, "host %s unreachable - tos prohibited"], [13, "host %s unreachable - admin prohibited filter"],
  [14, "host %s unreachable - host precedence violation"], [15, "host %s unreachable - precedence cutoff"],
]);

const REDIRECT_FMT: ReadonlyMap<number, string> = new Map([
  [0, "redirect %s to net %s"], [1, "redirect %s to host %s"],
  [2, "redirect-tos %s to net %s"], [3, "redirect-tos %s to host %s"],
]);

const ICMP_NAMES: ReadonlyMap<number, string> = new Map([
  [4, "source quench"], [9, "router advertisement"], [10, "router solicitation"],
  [15, "information request"], [16, "information reply"], [17, "address mask request"],
]);

function pad2(n: number): string { return String(n).padStart(2, "0"); }
function hex4(n: number): string { return n.toString(16).padStart(4, "0"); }
function u32(n: number): number { return n >>> 0; }
function graph(c: number): string { return c >= 0x21 && c <= 0x7e ? String.fromCharCode(c) : "."; }
function safeChar(c: number): string {
  return c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : c < 0x80 ? `^${String.fromCharCode(c ^ 0x40)}` : `M-${safeChar(c & 0x7f)}`;
}
function latin1(b: Uint8Array, off: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[off + i]!);
  return s;
}

/** in_cksum over b[start..end) plus `acc`, as a 16-bit value (0 = the data checks out). */
function cksum(b: Uint8Array, start: number, end: number, acc: number): number {
  let sum = acc;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** in_cksum_shouldbe: the checksum field value that would have been correct. */
function shouldBe(sum: number, computed: number): number {
  let s = sum + computed;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s & 0xffff;
}
