/**
 * pcap-filter expressions as libpcap 1.10 reads them: a scanner (scanner.l), a parser that
 * follows grammar.y's precedence and its qualifier inheritance ("port 80 or 22"), and a code
 * generator that turns each primitive into a predicate over frame bytes with gencode.c's
 * semantics (offsets, protocol guards, fragment rules). Loads past the captured end reject
 * the packet, as a BPF program does. Errors carry libpcap's exact texts; tcpdump prints
 * them as `tcpdump: <error>`.
 *
 * Link types: Ethernet (1) and Linux cooked v2 (276, `-i any`).
 * Not implemented: IPv6 addresses, `gateway`, `protochain`, MPLS/PPPoE/Geneve, 802.11,
 * `ip broadcast`, BPF optimisation beyond detecting filters that can never match.
 */
import { defaultResolver } from "../ipvsadm/resolver.js";

export interface FilterNames {
  /** gethostbyname for `host NAME`. */
  hostAddr?(name: string): number | undefined;
  /** getservbyname for `port NAME` (tcp / udp). */
  port?(name: string, proto: "tcp" | "udp"): number | undefined;
}

export interface FilterOptions {
  /** 1 = EN10MB (default), 276 = LINUX_SLL2. */
  linktype?: number;
  names?: FilterNames;
  /**
   * A live capture (not a savefile): `inbound`/`outbound` then use the frame's direction,
   * as libpcap does with the kernel's packet-type metadata on Linux.
   */
  live?: boolean;
}

export interface CompiledFilter {
  ok: true;
  /**
   * Does the frame (captured bytes from the link header on) pass? `wireLen` defaults to its
   * length; `dir` is the capture direction (live captures only).
   */
  match(frame: Uint8Array, wireLen?: number, dir?: "in" | "out"): boolean;
}

export type FilterResult = CompiledFilter | { ok: false; error: string };

export function compileFilter(expr: string, opts: FilterOptions = {}): FilterResult {
  try {
    const c = new Compiler(expr, opts);
    const pred = c.program();
    if (pred === null) return { ok: true, match: () => true };
    if (pred.c === false || (pred.cls !== null && pred.cls.length === 0)) {
      throw new FilterError("expression rejects all packets");
    }
    const m = pred.m;
    return {
      ok: true,
      match(frame: Uint8Array, wireLen = frame.length, dir?: "in" | "out"): boolean {
        try {
          return m({ b: frame, len: wireLen, dir });
        } catch (e) {
          if (e === REJECT) return false;
          throw e;
        }
      },
    };
  } catch (e) {
    if (e instanceof FilterError) return { ok: false, error: e.message };
    throw e;
  }
}

class FilterError extends Error {}
const PARSE = "can't parse filter expression: syntax error";

// ---------------------------------------------------------------------------------------
// Scanner

type Tok =
  | { t: "num"; v: number; s: string }
  | { t: "hid"; s: string }      // dotted IPv4 (1-4 parts)
  | { t: "eid"; s: string }      // MAC
  | { t: "id"; s: string }
  | { t: "kw"; s: string }
  | { t: "op"; s: string }
  | { t: "eof" };

const KEYWORDS = new Set([
  "dst", "src", "host", "net", "mask", "port", "portrange", "proto", "protochain", "gateway",
  "type", "subtype", "direction", "dir", "less", "greater", "byte", "broadcast", "multicast",
  "and", "or", "not", "ether", "link", "fddi", "tr", "wlan", "ppp", "slip", "ip", "ip6", "arp",
  "rarp", "tcp", "udp", "icmp", "icmp6", "igmp", "igrp", "pim", "vrrp", "carp", "sctp", "ah",
  "esp", "atalk", "aarp", "decnet", "lat", "sca", "moprc", "mopdl", "iso", "esis", "es-is",
  "isis", "is-is", "l1", "l2", "iih", "lsp", "snp", "csnp", "psnp", "clnp", "stp", "ipx",
  "netbeui", "vlan", "mpls", "pppoed", "pppoes", "geneve", "lane", "llc", "len", "length",
  "inbound", "outbound", "ifindex", "radio", "addr1", "addr2", "addr3", "addr4", "ra", "ta",
  "on", "ifname", "rnr", "rulenum", "reason", "rset", "ruleset", "srnr", "subrulenum", "action",
  "fisu", "lssu", "lsu", "sio", "opc", "dpc", "sls", "hfisu", "hlssu", "hsio", "hopc", "hdpc",
  "hsls", "atmfield", "vpi", "vci", "oam", "oamf4", "oamf4ec", "oamf4sc", "metac", "bcc", "sc",
  "ilmic", "connectmsg", "metaconnect", "hdlc",
]);

const NAMED_NUMS: ReadonlyMap<string, number> = new Map([
  ["icmptype", 0], ["icmpcode", 1], ["icmp-echoreply", 0], ["icmp-unreach", 3],
  ["icmp-sourcequench", 4], ["icmp-redirect", 5], ["icmp-echo", 8], ["icmp-routeradvert", 9],
  ["icmp-routersolicit", 10], ["icmp-timxceed", 11], ["icmp-paramprob", 12], ["icmp-tstamp", 13],
  ["icmp-tstampreply", 14], ["icmp-ireq", 15], ["icmp-ireqreply", 16], ["icmp-maskreq", 17],
  ["icmp-maskreply", 18], ["tcpflags", 13], ["tcp-fin", 0x01], ["tcp-syn", 0x02], ["tcp-rst", 0x04],
  ["tcp-push", 0x08], ["tcp-ack", 0x10], ["tcp-urg", 0x20], ["tcp-ece", 0x40], ["tcp-cwr", 0x80],
  ["icmp6type", 0], ["icmp6code", 1], ["icmp6-echo", 128], ["icmp6-echoreply", 129],
  ["icmp6-destinationunreach", 1], ["icmp6-packettoobig", 2], ["icmp6-timeexceeded", 3],
  ["icmp6-parameterproblem", 4], ["icmp6-neighborsolicit", 135], ["icmp6-neighboradvert", 136],
  ["icmp6-routersolicit", 133], ["icmp6-routeradvert", 134], ["icmp6-redirect", 137],
]);

/** stoulen: decimal, 0x hex, leading-0 octal, with libpcap's complaints. */
function strToNum(s: string): number {
  let base = 10, i = 0;
  if (s.length > 1 && s[0] === "0") {
    if (s[1] === "x" || s[1] === "X") { base = 16; i = 2; } else { base = 8; i = 1; }
  }
  let v = 0;
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, 16);
    if (base === 8 && d >= 8) throw new FilterError(`number ${s} contains non-octal digit`);
    if (base === 10 && (Number.isNaN(d) || d >= 10)) throw new FilterError(`number ${s} contains non-decimal digit`);
    v = v * base + d;
    if (v > 0xffffffff) throw new FilterError(`number ${s} overflows 32 bits`);
  }
  return v;
}

const RE_MAC = /^(?:[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{1,2}(?:-[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{1,2}(?:\.[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12})/;
const RE_HID = /^[0-9]+(?:\.[0-9]+){1,3}/;
const RE_NUM = /^(?:0[xX][0-9A-Fa-f]+|[0-9]+)/;
const RE_ID = /^[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/;
const RE_ESC = /^\\[^ !()\n\t]+/;
const OPS = ["&&", "||", ">=", "<=", "!=", "==", "<<", ">>", "(", ")", "[", "]", ":", "!", "<", ">", "=", "+", "-", "*", "/", "%", "&", "|", "^"];

function isOctetDigits(s: string): boolean { return /^[0-9]+$/.test(s); }

/** One token at a time (flex-style longest match, rule order breaking ties). */
class Scanner {
  private i = 0;
  constructor(private readonly s: string) {}

  next(): Tok {
    const s = this.s;
    while (this.i < s.length && /[ \t\n\r]/.test(s[this.i]!)) this.i++;
    if (this.i >= s.length) return { t: "eof" };
    const rest = s.slice(this.i);
    const cands: [number, () => Tok][] = [];
    const add = (m: RegExpExecArray | null, mk: (x: string) => Tok): void => {
      if (m) cands.push([m[0].length, () => mk(m[0])]);
    };
    add(RE_MAC.exec(rest), (x) => ({ t: "eid", s: x }));
    add(RE_NUM.exec(rest), (x) => ({ t: "num", v: strToNum(x), s: x }));
    add(RE_HID.exec(rest), (x) => ({ t: "hid", s: x }));
    add(RE_ID.exec(rest), (x) => {
      if (KEYWORDS.has(x)) return { t: "kw", s: x };
      const n = NAMED_NUMS.get(x);
      if (n !== undefined) return { t: "num", v: n, s: x };
      return { t: "id", s: x };
    });
    add(RE_ESC.exec(rest), (x) => ({ t: "id", s: x.slice(1) }));
    for (const op of OPS) {
      if (rest.startsWith(op)) { cands.push([op.length, () => ({ t: "op", s: op })]); break; }
    }
    if (cands.length === 0) {
      this.i = s.length;
      throw new FilterError(PARSE);
    }
    // Longest match; ties go to the earliest rule (mac, num, hid, id/keyword, escape, op).
    let best = cands[0]!;
    for (const c of cands) if (c[0] > best[0]) best = c;
    this.i += best[0];
    const tok = best[1]();
    if (tok.t === "kw") {
      if (tok.s === "and") return { t: "op", s: "&&" };
      if (tok.s === "or") return { t: "op", s: "||" };
      if (tok.s === "not") return { t: "op", s: "!" };
      if (tok.s === "length") return { t: "kw", s: "len" };
    }
    return tok;
  }
}

// ---------------------------------------------------------------------------------------
// Predicates

interface Pkt { b: Uint8Array; len: number; dir?: "in" | "out" }
const REJECT = { reject: true };

/** [ethertype, ip protocol or -1]: what a predicate can possibly match; null = anything. */
type Cls = [number, number][] | null;

interface Pred {
  m: (p: Pkt) => boolean;
  /** Known constant value. */
  c?: boolean;
  cls: Cls;
}

interface Arith {
  v: (p: Pkt) => number;
  c?: number;
  /** Protocol guards the loads need (ANDed into the relation). */
  guard: Pred | null;
}

function clsAnd(a: Cls, b: Cls): Cls {
  if (a === null) return b;
  if (b === null) return a;
  const out: [number, number][] = [];
  for (const [e1, p1] of a) for (const [e2, p2] of b) {
    if (e1 !== e2) continue;
    if (p1 !== -1 && p2 !== -1 && p1 !== p2) continue;
    out.push([e1, p1 === -1 ? p2 : p1]);
  }
  return out;
}
function clsOr(a: Cls, b: Cls): Cls { return a === null || b === null ? null : [...a, ...b]; }

function and(a: Pred, b: Pred): Pred {
  if (a.c === false || b.c === false) return { m: () => false, c: false, cls: [] };
  if (a.c === true) return b;
  if (b.c === true) return a;
  const am = a.m, bm = b.m;
  return { m: (p) => am(p) && bm(p), cls: clsAnd(a.cls, b.cls) };
}
function or(a: Pred, b: Pred): Pred {
  if (a.c === true || b.c === true) return { m: () => true, c: true, cls: null };
  if (a.c === false) return b;
  if (b.c === false) return a;
  const am = a.m, bm = b.m;
  return { m: (p) => am(p) || bm(p), cls: clsOr(a.cls, b.cls) };
}
function not(a: Pred): Pred {
  if (a.c !== undefined) return a.c ? { m: () => false, c: false, cls: [] } : { m: () => true, c: true, cls: null };
  const am = a.m;
  return { m: (p) => !am(p), cls: null };
}
function pred(m: (p: Pkt) => boolean, cls: Cls = null): Pred { return { m, cls }; }

function ld8(p: Pkt, off: number): number {
  if (off < 0 || off >= p.b.length) throw REJECT;
  return p.b[off]!;
}
function ld16(p: Pkt, off: number): number {
  if (off < 0 || off + 2 > p.b.length) throw REJECT;
  return (p.b[off]! << 8) | p.b[off + 1]!;
}
function ld32(p: Pkt, off: number): number {
  if (off < 0 || off + 4 > p.b.length) throw REJECT;
  return ((p.b[off]! << 24) | (p.b[off + 1]! << 16) | (p.b[off + 2]! << 8) | p.b[off + 3]!) >>> 0;
}
function ld(p: Pkt, off: number, size: number): number {
  return size === 1 ? ld8(p, off) : size === 2 ? ld16(p, off) : ld32(p, off);
}

// ---------------------------------------------------------------------------------------
// Qualifiers

type Proto = "default" | "link" | "ip" | "ip6" | "arp" | "rarp" | "tcp" | "udp" | "icmp" | "icmp6"
  | "sctp" | "igmp" | "igrp" | "pim" | "vrrp" | "carp" | "ah" | "esp" | "other";
type Dir = "default" | "src" | "dst" | "or" | "and";
type Addr = "default" | "host" | "net" | "port" | "portrange" | "proto" | "protochain" | "gateway";
interface Qual { proto: Proto; dir: Dir; addr: Addr; undef?: boolean; protoText?: string }

const QERR: Qual = { proto: "default", dir: "default", addr: "default", undef: true };

const PNAMES: ReadonlyMap<string, Proto> = new Map([
  ["ether", "link"], ["link", "link"], ["fddi", "link"], ["tr", "link"], ["wlan", "link"],
  ["ppp", "link"], ["slip", "link"], ["ip", "ip"], ["ip6", "ip6"], ["arp", "arp"], ["rarp", "rarp"],
  ["tcp", "tcp"], ["udp", "udp"], ["icmp", "icmp"], ["icmp6", "icmp6"], ["sctp", "sctp"],
  ["igmp", "igmp"], ["igrp", "igrp"], ["pim", "pim"], ["vrrp", "vrrp"], ["carp", "carp"],
  ["ah", "ah"], ["esp", "esp"], ["atalk", "other"], ["aarp", "other"], ["decnet", "other"],
  ["lat", "other"], ["sca", "other"], ["moprc", "other"], ["mopdl", "other"], ["iso", "other"],
  ["esis", "other"], ["es-is", "other"], ["isis", "other"], ["is-is", "other"], ["clnp", "other"],
  ["stp", "other"], ["ipx", "other"], ["netbeui", "other"], ["radio", "other"],
]);

const IPPROTO_OF: Partial<Record<Proto, number>> = {
  tcp: 6, udp: 17, icmp: 1, sctp: 132, igmp: 2, igrp: 9, pim: 103, vrrp: 112, carp: 112, ah: 51, esp: 50, icmp6: 58,
};

const ETHERTYPE_BY_NAME: ReadonlyMap<string, number> = new Map([
  ["ip", 0x0800], ["ip6", 0x86dd], ["arp", 0x0806], ["rarp", 0x8035], ["atalk", 0x809b],
  ["aarp", 0x80f3], ["decnet", 0x6003], ["sca", 0x6007], ["lat", 0x6004], ["mopdl", 0x6001],
  ["moprc", 0x6002], ["ipx", 0x8137], ["netbeui", 0x8191], ["pup", 0x0200], ["loopback", 0x9000],
]);

/** /etc/protocols names for `proto NAME`. */
const IPPROTO_BY_NAME: ReadonlyMap<string, number> = new Map([
  ["ip", 0], ["icmp", 1], ["igmp", 2], ["ggp", 3], ["ipencap", 4], ["st", 5], ["tcp", 6],
  ["egp", 8], ["igp", 9], ["pup", 12], ["udp", 17], ["hmp", 20], ["xns-idp", 22], ["rdp", 27],
  ["iso-tp4", 29], ["dccp", 33], ["xtp", 36], ["ddp", 37], ["idpr-cmtp", 38], ["ipv6", 41],
  ["ipv6-route", 43], ["ipv6-frag", 44], ["idrp", 45], ["rsvp", 46], ["gre", 47], ["esp", 50],
  ["ah", 51], ["skip", 57], ["ipv6-icmp", 58], ["ipv6-nonxt", 59], ["ipv6-opts", 60],
  ["rspf", 73], ["vmtp", 81], ["eigrp", 88], ["ospf", 89], ["ax.25", 93], ["ipip", 94],
  ["etherip", 97], ["encap", 98], ["pim", 103], ["ipcomp", 108], ["vrrp", 112], ["l2tp", 115],
  ["isis", 124], ["sctp", 132], ["fc", 133], ["mobility-header", 135], ["udplite", 136],
  ["mpls-in-ip", 137], ["manet", 138], ["hip", 139], ["shim6", 140], ["wesp", 141], ["rohc", 142],
  ["ethernet", 143],
]);

// ---------------------------------------------------------------------------------------
// Parser + code generator (actions run as the grammar reduces, as in grammar.y)

const ARITH_OPS = new Set(["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"]);
const REL_OPS = new Set([">", "<", ">=", "<=", "=", "==", "!="]);

class Compiler {
  private readonly sc: Scanner;
  private readonly toks: Tok[] = [];
  private pos = 0;
  private readonly sll2: boolean;
  /** LINKTYPE_RAW (a tunnel device: the packet starts at its IP header). */
  private readonly raw: boolean;
  private readonly live: boolean;
  private readonly names: FilterNames;
  /** Offsets of the link-layer type field and the network layer (grow with each `vlan`). */
  private offLinktype: number;
  private offNl: number;
  private vlanSeen = false;

  constructor(expr: string, opts: FilterOptions) {
    this.sc = new Scanner(expr);
    this.sll2 = opts.linktype === 276;
    this.raw = opts.linktype === 101;
    this.live = opts.live ?? false;
    this.offLinktype = this.sll2 ? 0 : 12;
    this.offNl = this.sll2 ? 20 : this.raw ? 0 : 14;
    const dflt = defaultResolver();
    this.names = {
      hostAddr: opts.names?.hostAddr ?? ((n) => dflt.addrByHost(n)),
      port: opts.names?.port ?? ((n, p) => dflt.portByService(n, p)),
    };
  }

  // token stream with lookahead (lexer errors surface when the token is first needed)
  private peek(k = 0): Tok {
    while (this.toks.length <= this.pos + k) this.toks.push(this.sc.next());
    return this.toks[this.pos + k]!;
  }
  private take(): Tok { const t = this.peek(); this.pos++; return t; }
  private isOp(s: string, k = 0): boolean { const t = this.peek(k); return t.t === "op" && t.s === s; }
  private isKw(s: string, k = 0): boolean { const t = this.peek(k); return t.t === "kw" && t.s === s; }
  private expectOp(s: string): void { if (!this.isOp(s)) throw new FilterError(PARSE); this.pos++; }
  private fail(): never { throw new FilterError(PARSE); }

  program(): Pred | null {
    if (this.peek().t === "eof") return null;
    const e = this.expr(QERR);
    if (this.peek().t !== "eof") this.fail();
    return e.p;
  }

  /** expr: term | expr and term | expr and id | expr or term | expr or id. */
  private expr(inh: Qual): { p: Pred; q: Qual } {
    let { p, q } = this.term(inh);
    for (;;) {
      const isAnd = this.isOp("&&"), isOr = this.isOp("||");
      if (!isAnd && !isOr) return { p, q };
      this.pos++;
      const r = this.bareIdAhead(0) ? this.id(q) : this.term(q);
      p = isAnd ? and(p, r.p) : or(p, r.p);
      q = r.q;
    }
  }

  /** Does a bare id (for qualifier inheritance) start k tokens ahead? */
  private bareIdAhead(k: number): boolean {
    for (;;) {
      const t = this.peek(k);
      if (t.t === "op" && (t.s === "!" || t.s === "(")) { k++; continue; }
      if (t.t === "id" || t.t === "hid" || t.t === "eid") return true;
      if (t.t === "num") {
        const n = this.peek(k + 1);
        return !(n.t === "op" && (ARITH_OPS.has(n.s) || REL_OPS.has(n.s)));
      }
      return false;
    }
  }

  /** term: rterm | not term. `inh` is yacc's $<blk>0: the qualifiers in force before it. */
  private term(inh: Qual): { p: Pred; q: Qual } {
    if (this.isOp("!")) {
      this.pos++;
      const r = this.term(inh);
      return { p: not(r.p), q: r.q };
    }
    return this.rterm(inh);
  }

  private rterm(inh: Qual): { p: Pred; q: Qual } {
    const t = this.peek();
    if (t.t === "op" && t.s === "(") {
      // paren expr ')' — unless it is an arithmetic expression in parentheses
      if (this.parenIsArith()) return { p: this.relation(), q: QERR };
      this.pos++;
      const e = this.expr(inh);
      this.expectOp(")");
      // After a parenthesised group the qualifiers are those from before it.
      return { p: e.p, q: inh };
    }
    if (t.t === "kw") {
      const pn = PNAMES.get(t.s);
      if (pn !== undefined) {
        const n = this.peek(1);
        if (n.t === "op" && n.s === "[") return { p: this.relation(), q: QERR };
        if (n.t === "kw" && isQualKw(n.s)) return this.headOrOther();
        this.pos++;
        return { p: this.protoAbbrev(pn, t.s), q: QERR };
      }
      if (isQualKw(t.s)) return this.headOrOther();
      switch (t.s) {
        case "less": case "greater": {
          this.pos++;
          const n = this.take();
          if (n.t !== "num") this.fail();
          const v = n.v;
          return { p: t.s === "less" ? pred((p) => p.len <= v) : pred((p) => p.len >= v), q: QERR };
        }
        case "len": return { p: this.relation(), q: QERR };
        case "vlan": {
          this.pos++;
          let id: number | undefined;
          if (this.peek().t === "num") id = (this.take() as { v: number }).v;
          return { p: this.vlan(id), q: QERR };
        }
        case "inbound": case "outbound": {
          this.pos++;
          const out = t.s === "outbound";
          if (this.live) return { p: pred((p) => (p.dir === "out") === out), q: QERR };
          if (!this.sll2) throw new FilterError("inbound/outbound not supported on Ethernet when reading savefiles");
          return { p: pred((p) => (ld8(p, 10) === 4) === out), q: QERR };
        }
        default: this.fail();
      }
    }
    if (t.t === "num" || (t.t === "op" && t.s === "-")) return { p: this.relation(), q: QERR };
    this.fail();
  }

  /** Is the '(' at the cursor the start of an arithmetic expression (`(1+2) > 2`)? */
  private parenIsArith(): boolean {
    let depth = 0, k = 0;
    for (;;) {
      const t = this.peek(k);
      if (t.t === "eof") return false;
      if (t.t === "op" && t.s === "(") depth++;
      else if (t.t === "op" && t.s === ")") {
        depth--;
        if (depth === 0) {
          const n = this.peek(k + 1);
          return n.t === "op" && (ARITH_OPS.has(n.s) || REL_OPS.has(n.s));
        }
      } else if (t.t === "op" && (t.s === "&&" || t.s === "||" || t.s === "!")) return false;
      else if (t.t === "kw" && !(t.s === "len" || PNAMES.has(t.s))) return false;
      k++;
    }
  }

  /** head id | pqual broadcast | pqual multicast. */
  private headOrOther(): { p: Pred; q: Qual } {
    let proto: Proto = "default";
    let protoText = "";
    const t0 = this.peek();
    if (t0.t === "kw" && PNAMES.has(t0.s)) { proto = PNAMES.get(t0.s)!; protoText = t0.s; this.pos++; }
    const t = this.peek();
    if (t.t === "kw" && (t.s === "broadcast" || t.s === "multicast")) {
      this.pos++;
      return { p: t.s === "broadcast" ? this.broadcast(proto, protoText) : this.multicast(proto, protoText), q: QERR };
    }
    let dir: Dir | undefined;
    if (this.isKw("src") || this.isKw("dst")) {
      const first = this.take() as { s: string };
      if ((this.isOp("||") || this.isOp("&&")) && (this.isKw("src", 1) || this.isKw("dst", 1)) && !this.isKw(first.s, 1)) {
        const isAnd = this.isOp("&&");
        this.pos += 2;
        dir = isAnd ? "and" : "or";
      } else dir = first.s as Dir;
    }
    let addr: Addr | undefined;
    const a = this.peek();
    if (a.t === "kw" && ["host", "net", "port", "portrange", "gateway", "proto", "protochain"].includes(a.s)) {
      if ((a.s === "proto" || a.s === "protochain") && dir !== undefined) this.fail();
      this.pos++;
      addr = a.s as Addr;
    }
    if (dir === undefined && addr === undefined) this.fail();
    const q: Qual = { proto, dir: dir ?? "default", addr: addr ?? "default", protoText };
    return this.id(q);
  }

  /** id: nid | pnum | paren pid ')'; nid also covers `not id`. */
  private id(q: Qual): { p: Pred; q: Qual } {
    const t = this.peek();
    if (t.t === "op" && t.s === "!") {
      this.pos++;
      const r = this.id(q);
      return { p: not(r.p), q: r.q };
    }
    if (t.t === "op" && t.s === "(") {
      this.pos++;
      let r = this.id(q);
      while (this.isOp("&&") || this.isOp("||")) {
        const isAnd = this.isOp("&&");
        this.pos++;
        const r2 = this.id(q);
        r = { p: isAnd ? and(r.p, r2.p) : or(r.p, r2.p), q: r2.q };
      }
      this.expectOp(")");
      return r;
    }
    this.pos++;
    switch (t.t) {
      case "num": return { p: this.ncode(undefined, t.v, q), q };
      case "hid": {
        if (this.isOp("/")) {
          this.pos++;
          const n = this.take();
          if (n.t !== "num") this.fail();
          return { p: this.mcode(t.s, undefined, n.v, q), q };
        }
        if (this.isKw("mask")) {
          this.pos++;
          const m = this.take();
          if (m.t !== "hid") this.fail();
          return { p: this.mcode(t.s, m.s, 0, q), q };
        }
        if (!q.undef) {
          if (q.addr === "port") throw new FilterError("'port' modifier applied to ip host");
          if (q.addr === "portrange") throw new FilterError("'portrange' modifier applied to ip host");
          if (q.addr === "proto") throw new FilterError("'proto' modifier applied to ip host");
          if (q.addr === "protochain") throw new FilterError("'protochain' modifier applied to ip host");
        }
        return { p: this.ncode(t.s, 0, q), q };
      }
      case "eid": return { p: this.ecode(t.s, q), q };
      case "id": return { p: this.scode(t.s, q), q };
      default: this.fail();
    }
  }

  // ---- arithmetic and relations ---------------------------------------------------------

  private relation(): Pred {
    const a = this.arith();
    const t = this.take();
    if (t.t !== "op" || !REL_OPS.has(t.s)) this.fail();
    const b = this.arith();
    const op = t.s;
    const cmp = (x: number, y: number): boolean => {
      switch (op) {
        case ">": return x > y;
        case "<": return x < y;
        case ">=": return x >= y;
        case "<=": return x <= y;
        case "!=": return x !== y;
        default: return x === y;
      }
    };
    let r: Pred;
    if (a.c !== undefined && b.c !== undefined) {
      const v = cmp(a.c, b.c);
      r = { m: () => v, c: v, cls: v ? null : [] };
    } else {
      const av = a.v, bv = b.v;
      r = pred((p) => cmp(av(p), bv(p)));
    }
    if (b.guard) r = and(b.guard, r);
    if (a.guard) r = and(a.guard, r);
    return r;
  }

  /**
   * arth as yacc parses it: `|` < `&` < `<< >>` < `+ -` < `* /`, left-associative; `%` and
   * `^` have no declared precedence, so every conflict involving them is resolved by
   * shifting (`2 * 3 % 4` = `2 * (3 % 4)`, `7 % 4 * 2` = `7 % (4 * 2)`).
   */
  private arith(): Arith {
    const vals: Arith[] = [this.unary()];
    const ops: string[] = [];
    const prec = (o: string): number =>
      o === "|" ? 1 : o === "&" ? 2 : o === "<<" || o === ">>" ? 3 : o === "+" || o === "-" ? 4 : o === "*" || o === "/" ? 5 : 0;
    const reduce = (): void => {
      const b = vals.pop()!, a = vals.pop()!;
      vals.push(this.combine(a, ops.pop()!, b));
    };
    for (;;) {
      const t = this.peek();
      if (t.t !== "op" || !ARITH_OPS.has(t.s)) break;
      const look = t.s;
      while (ops.length > 0) {
        const top = ops[ops.length - 1]!;
        if (prec(look) === 0 || prec(top) === 0 || prec(top) < prec(look)) break;
        reduce();
      }
      this.pos++;
      ops.push(look);
      vals.push(this.unary());
    }
    while (ops.length > 0) reduce();
    return vals[0]!;
  }

  private combine(a: Arith, op: string, b: Arith): Arith {
    const f = (x: number, y: number): number => {
      switch (op) {
        case "+": return (x + y) >>> 0;
        case "-": return (x - y) >>> 0;
        case "*": return Math.imul(x, y) >>> 0;
        case "/": if (y === 0) throw REJECT; return Math.floor(x / y) >>> 0;
        case "%": if (y === 0) throw REJECT; return (x % y) >>> 0;
        case "&": return (x & y) >>> 0;
        case "|": return (x | y) >>> 0;
        case "^": return (x ^ y) >>> 0;
        case "<<": return y >= 32 ? 0 : (x << y) >>> 0;
        default: return y >= 32 ? 0 : x >>> y;
      }
    };
    if (b.c === 0 && op === "/") throw new FilterError("division by zero");
    if (b.c === 0 && op === "%") throw new FilterError("modulus by zero");
    const guard = a.guard && b.guard ? and(a.guard, b.guard) : a.guard ?? b.guard;
    if (a.c !== undefined && b.c !== undefined) {
      const v = f(a.c, b.c);
      return { v: () => v, c: v, guard };
    }
    const av = a.v, bv = b.v;
    return { v: (p) => f(av(p), bv(p)), guard };
  }

  private unary(): Arith {
    if (this.isOp("-")) {
      this.pos++;
      const a = this.unary();
      if (a.c !== undefined) { const v = (-a.c) >>> 0; return { v: () => v, c: v, guard: a.guard }; }
      const av = a.v;
      return { v: (p) => (-av(p)) >>> 0, guard: a.guard };
    }
    return this.primary();
  }

  private primary(): Arith {
    const t = this.take();
    if (t.t === "num") { const v = t.v; return { v: () => v, c: v, guard: null }; }
    if (t.t === "op" && t.s === "(") {
      const a = this.arith();
      this.expectOp(")");
      return a;
    }
    if (t.t === "kw" && t.s === "len") return { v: (p) => p.len >>> 0, guard: null };
    if (t.t === "kw" && PNAMES.has(t.s) && this.isOp("[")) {
      this.pos++;
      const idx = this.arith();
      let size = 1;
      if (this.isOp(":")) {
        this.pos++;
        const n = this.take();
        if (n.t !== "num") this.fail();
        size = n.v;
      }
      this.expectOp("]");
      if (size !== 1 && size !== 2 && size !== 4) throw new FilterError("data size must be 1, 2, or 4");
      return this.load(t.s, PNAMES.get(t.s)!, idx, size);
    }
    this.fail();
  }

  /** proto[idx:size] (gen_load). */
  private load(text: string, proto: Proto, idx: Arith, size: number): Arith {
    const iv = idx.v;
    let guard: Pred | null = idx.guard;
    const nl = this.offNl;
    let v: (p: Pkt) => number;
    switch (proto) {
      case "link":
        if (this.sll2 && text !== "link") { /* ether[] on cooked captures reads the cooked header */ }
        v = (p) => ld(p, iv(p), size);
        break;
      case "ip": case "arp": case "rarp": case "ip6": {
        const g = this.linktype(proto === "ip" ? 0x0800 : proto === "arp" ? 0x0806 : proto === "rarp" ? 0x8035 : 0x86dd);
        guard = guard ? and(guard, g) : g;
        v = (p) => ld(p, nl + iv(p), size);
        break;
      }
      case "tcp": case "udp": case "icmp": case "sctp": case "igmp": case "igrp": case "pim": case "vrrp": case "carp": {
        const g = and(this.protoAbbrev(proto, text), this.ipNotFrag());
        guard = guard ? and(guard, g) : g;
        v = (p) => ld(p, nl + 4 * (ld8(p, nl) & 0xf) + iv(p), size);
        break;
      }
      case "icmp6": {
        const g = this.protoAbbrev(proto, text);
        guard = guard ? and(guard, g) : g;
        v = (p) => ld(p, nl + 40 + iv(p), size);
        break;
      }
      default:
        throw new FilterError(`unsupported index operation`);
    }
    return { v, guard };
  }

  // ---- primitives (gencode.c) ------------------------------------------------------------

  private linktype(et: number): Pred {
    if (this.raw) {
      // gen_linktype for DLT_RAW: the IP version nibble; nothing else can be there.
      const v = et === 0x0800 ? 4 : et === 0x86dd ? 6 : 0;
      if (v === 0) return { m: () => false, c: false, cls: [] };
      return pred((p) => ld8(p, 0) >> 4 === v, [[et, -1]]);
    }
    const o = this.offLinktype;
    return pred((p) => ld16(p, o) === et, this.vlanSeen ? null : [[et, -1]]);
  }

  private ipNotFrag(): Pred {
    const nl = this.offNl;
    return pred((p) => (ld16(p, nl + 6) & 0x1fff) === 0);
  }

  private ipProto(v: number): Pred {
    const nl = this.offNl;
    return and(this.linktype(0x0800), pred((p) => ld8(p, nl + 9) === v, this.vlanSeen ? null : [[0x0800, v]]));
  }

  private ip6Proto(v: number, viaFrag: boolean): Pred {
    const nl = this.offNl;
    const direct = pred((p) => ld8(p, nl + 6) === v, this.vlanSeen ? null : [[0x86dd, v]]);
    const frag = viaFrag ? pred((p) => ld8(p, nl + 6) === 44 && ld8(p, nl + 40) === v, this.vlanSeen ? null : [[0x86dd, v]]) : null;
    return and(this.linktype(0x86dd), frag ? or(direct, frag) : direct);
  }

  /** gen_proto_abbrev: `tcp`, `ip`, `arp` … as primitives. */
  private protoAbbrev(p: Proto, text: string): Pred {
    switch (p) {
      case "ip": return this.linktype(0x0800);
      case "ip6": return this.linktype(0x86dd);
      case "arp": return this.linktype(0x0806);
      case "rarp": return this.linktype(0x8035);
      case "tcp": case "udp": case "sctp": return or(this.ipProto(IPPROTO_OF[p]!), this.ip6Proto(IPPROTO_OF[p]!, true));
      case "icmp": case "igmp": case "igrp": return this.ipProto(IPPROTO_OF[p]!);
      case "pim": case "vrrp": case "carp": case "ah": case "esp": return or(this.ipProto(IPPROTO_OF[p]!), this.ip6Proto(IPPROTO_OF[p]!, true));
      case "icmp6": return this.ip6Proto(58, true);
      case "link": throw new FilterError("link layer applied in wrong context");
      default: {
        const et = ETHERTYPE_BY_NAME.get(text);
        if (et !== undefined) return this.linktype(et);
        throw new FilterError(`'${text}' is not supported`);
      }
    }
  }

  private vlan(id: number | undefined): Pred {
    if (id !== undefined && id > 4095) throw new FilterError(`VLAN tag ${id} greater than maximum 4095`);
    const o = this.offLinktype;
    let b = pred((p) => { const t = ld16(p, o); return t === 0x8100 || t === 0x88a8 || t === 0x9100; });
    if (id !== undefined) b = and(b, pred((p) => (ld16(p, o + 2) & 0x0fff) === id));
    this.offLinktype += 4;
    this.offNl += 4;
    this.vlanSeen = true;
    return b;
  }

  private broadcast(proto: Proto, text: string): Pred {
    if (proto === "default" || proto === "link") {
      if (this.sll2 || this.raw) throw new FilterError("not a broadcast link");
      return pred((p) => ld16(p, 0) === 0xffff && ld32(p, 2) === 0xffffffff);
    }
    if (proto === "ip") throw new FilterError("netmask not known, so 'ip broadcast' not supported");
    throw new FilterError(`only link-layer/IP broadcast filters supported`.replace("", text === "" ? "" : ""));
  }

  private multicast(proto: Proto, _text: string): Pred {
    if (proto === "default" || proto === "link") {
      if (this.sll2 || this.raw) throw new FilterError("not a broadcast link");
      return pred((p) => (ld8(p, 0) & 1) !== 0);
    }
    if (proto === "ip") {
      const nl = this.offNl;
      return and(this.linktype(0x0800), pred((p) => ld8(p, nl + 16) >= 224));
    }
    if (proto === "ip6") {
      const nl = this.offNl;
      return and(this.linktype(0x86dd), pred((p) => ld8(p, nl + 24) === 255));
    }
    throw new FilterError("only IP multicast filters supported on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel");
  }

  /** gen_host / gen_hostop for IPv4 addresses (and ARP/RARP with the default proto). */
  private host(addr: number, mask: number, q: Qual, type: "host" | "net"): Pred {
    const typestr = type;
    switch (q.proto) {
      case "default":
        return or(or(this.host(addr, mask, { ...q, proto: "ip" }, type), this.host(addr, mask, { ...q, proto: "arp" }, type)),
          this.host(addr, mask, { ...q, proto: "rarp" }, type));
      case "link": throw new FilterError(`link-layer modifier applied to ${typestr}`);
      case "ip": return this.hostop(addr, mask, q.dir, 0x0800, 12, 16);
      case "arp": return this.hostop(addr, mask, q.dir, 0x0806, 14, 24);
      case "rarp": return this.hostop(addr, mask, q.dir, 0x8035, 14, 24);
      case "ip6": throw new FilterError(`'ip6' modifier applied to ip ${typestr}`);
      default: throw new FilterError(`'${q.protoText}' modifier applied to ${typestr}`);
    }
  }

  private hostop(addr: number, mask: number, dir: Dir, et: number, srcOff: number, dstOff: number): Pred {
    const nl = this.offNl;
    const a = (addr & mask) >>> 0;
    const at = (off: number): Pred => pred((p) => ((ld32(p, nl + off) & mask) >>> 0) === a);
    let b: Pred;
    switch (dir) {
      case "src": b = at(srcOff); break;
      case "dst": b = at(dstOff); break;
      case "and": b = and(at(srcOff), at(dstOff)); break;
      default: b = or(at(srcOff), at(dstOff)); break;
    }
    return and(this.linktype(et), b);
  }

  /** gen_port / gen_portrange for IPv4 (and IPv6 with the default proto). */
  private port(lo: number, hi: number, ipproto: number | undefined, dir: Dir): Pred {
    const nl = this.offNl;
    const inRange = (x: number): boolean => x >= lo && x <= hi;
    const test4 = (p: Pkt, off: number): boolean => inRange(ld16(p, nl + 4 * (ld8(p, nl) & 0xf) + off));
    const test6 = (p: Pkt, off: number): boolean => inRange(ld16(p, nl + 40 + off));
    const byDir = (t: (p: Pkt, off: number) => boolean): Pred => {
      switch (dir) {
        case "src": return pred((p) => t(p, 0));
        case "dst": return pred((p) => t(p, 2));
        case "and": return pred((p) => t(p, 0) && t(p, 2));
        default: return pred((p) => t(p, 0) || t(p, 2));
      }
    };
    const protos = ipproto === undefined ? [6, 17, 132] : [ipproto];
    let v4: Pred | null = null;
    for (const pr of protos) {
      const one = and(and(pred((p) => ld8(p, nl + 9) === pr, this.vlanSeen ? null : [[0x0800, pr]]), this.ipNotFrag()), byDir(test4));
      v4 = v4 ? or(v4, one) : one;
    }
    let v6: Pred | null = null;
    for (const pr of protos) {
      const one = and(pred((p) => ld8(p, nl + 6) === pr, this.vlanSeen ? null : [[0x86dd, pr]]), byDir(test6));
      v6 = v6 ? or(v6, one) : one;
    }
    return or(and(this.linktype(0x0800), v4!), and(this.linktype(0x86dd), v6!));
  }

  private portProto(q: Qual, what: "port" | "portrange"): number | undefined {
    switch (q.proto) {
      case "udp": return 17;
      case "tcp": return 6;
      case "sctp": return 132;
      case "default": return undefined;
      default: throw new FilterError(`illegal qualifier of '${what}'`);
    }
  }

  /** gen_proto: `ip proto N`, `ether proto N`, `proto N`. */
  private protoCode(v: number, q: Qual): Pred {
    if (q.dir !== "default") throw new FilterError("direction applied to 'proto'");
    switch (q.proto) {
      case "default": return or(this.ipProto(v), this.ip6Proto(v, true));
      case "link": return this.linktype(v);
      case "ip": return this.ipProto(v);
      case "ip6": return this.ip6Proto(v, true);
      case "arp": throw new FilterError("arp does not encapsulate another protocol");
      case "rarp": throw new FilterError("rarp does not encapsulate another protocol");
      default: throw new FilterError(`'${q.protoText}' does not encapsulate another protocol`);
    }
  }

  /** gen_ncode: a number or dotted address with its qualifiers. */
  private ncode(s: string | undefined, num: number, q: Qual): Pred {
    if (q.undef) throw new FilterError("syntax error in filter expression");
    let v: number, vlen: number;
    if (s === undefined) { v = num; vlen = 32; }
    else {
      const r = atoin(s);
      if (r === undefined) throw new FilterError(`invalid IPv4 address '${s}'`);
      [v, vlen] = r;
    }
    switch (q.addr) {
      case "default": case "host": case "net": {
        if (q.proto === "link") throw new FilterError("illegal link layer address");
        let mask = 0xffffffff;
        if (s === undefined && q.addr === "net") {
          while (v && (v & 0xff000000) === 0) { v = (v << 8) >>> 0; mask = (mask << 8) >>> 0; }
        } else {
          v = vlen === 0 ? 0 : (v << (32 - vlen)) >>> 0;
          mask = vlen === 0 ? 0 : (mask << (32 - vlen)) >>> 0;
          if (vlen === 32) { mask = 0xffffffff; }
        }
        return this.host(v, mask, q, q.addr === "net" ? "net" : "host");
      }
      case "port": {
        const pr = this.portProto(q, "port");
        if (v > 65535) throw new FilterError(`illegal port number ${v} > 65535`);
        return this.port(v, v, pr, q.dir);
      }
      case "portrange": {
        const pr = this.portProto(q, "portrange");
        if (v > 65535) throw new FilterError(`illegal port number ${v} > 65535`);
        return this.port(v, v, pr, q.dir);
      }
      case "gateway": throw new FilterError("'gateway' requires a name");
      case "proto": return this.protoCode(v, q);
      case "protochain": throw new FilterError("protochain not supported");
    }
  }

  /** gen_mcode: `net A/len`, `net A mask M`. */
  private mcode(s1: string, s2: string | undefined, masklen: number, q: Qual): Pred {
    if (q.undef) throw new FilterError("syntax error in filter expression");
    const r = atoin(s1);
    if (r === undefined) throw new FilterError(`invalid IPv4 address '${s1}'`);
    const n = r[1] === 0 ? 0 : (r[0] << (32 - r[1])) >>> 0;
    let m: number;
    if (s2 !== undefined) {
      const r2 = atoin(s2);
      if (r2 === undefined) throw new FilterError(`invalid IPv4 address '${s2}'`);
      m = r2[1] === 0 ? 0 : (r2[0] << (32 - r2[1])) >>> 0;
      if ((n & ~m) >>> 0 !== 0) throw new FilterError(`non-network bits set in "${s1} mask ${s2}"`);
    } else {
      if (masklen > 32) throw new FilterError("mask length must be <= 32");
      m = masklen === 0 ? 0 : (0xffffffff << (32 - masklen)) >>> 0;
      if ((n & ~m) >>> 0 !== 0) throw new FilterError(`non-network bits set in "${s1}/${masklen}"`);
    }
    if (q.addr !== "net") throw new FilterError("Mask syntax for networks only");
    return this.host(n, m, q, "net");
  }

  /** gen_ecode: MAC addresses. */
  private ecode(s: string, q: Qual): Pred {
    if ((q.addr === "host" || q.addr === "default") && q.proto === "link" && !q.undef) {
      if (this.sll2 || this.raw) throw new FilterError("ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel");
      return this.ehost(parseMacText(s), q.dir);
    }
    throw new FilterError("ethernet address used in non-ether expression");
  }

  private ehost(mac: number[], dir: Dir): Pred {
    const at = (off: number): Pred => pred((p) => {
      for (let i = 0; i < 6; i++) if (ld8(p, off + i) !== mac[i]) return false;
      return true;
    });
    switch (dir) {
      case "src": return at(6);
      case "dst": return at(0);
      case "and": return and(at(6), at(0));
      default: return or(at(6), at(0));
    }
  }

  /** gen_scode: names. */
  private scode(name: string, q: Qual): Pred {
    if (q.undef) throw new FilterError("syntax error in filter expression");
    switch (q.addr) {
      case "net": throw new FilterError(`unknown network '${name}'`);
      case "default": case "host": {
        if (q.proto === "link") {
          if (this.sll2 || this.raw) throw new FilterError("ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel");
          throw new FilterError(`unknown ether host '${name}'`);
        }
        const a = this.names.hostAddr!(name);
        if (a === undefined) throw new FilterError(`unknown host '${name}'`);
        return this.host(a >>> 0, 0xffffffff, q, "host");
      }
      case "port": case "portrange": {
        const pr = this.portProto(q, q.addr);
        if (q.addr === "portrange") {
          const m = /^([^-]+)-([^-]+)$/.exec(name);
          const lo = m ? this.portByName(m[1]!) : undefined, hi = m ? this.portByName(m[2]!) : undefined;
          if (lo === undefined || hi === undefined) {
            const one = this.portByName(name);
            if (one === undefined) throw new FilterError(`unknown port in range '${name}'`);
            return this.port(one.port, one.port, pr, q.dir);
          }
          return this.port(Math.min(lo.port, hi.port), Math.max(lo.port, hi.port), pr, q.dir);
        }
        const r = this.portByName(name);
        if (r === undefined) throw new FilterError(`unknown port '${name}'`);
        if (pr === 17 && r.proto === 6) throw new FilterError(`port '${name}' is tcp`);
        if (pr === 6 && r.proto === 17) throw new FilterError(`port '${name}' is udp`);
        if (r.port > 65535) throw new FilterError(`illegal port number ${r.port} > 65535`);
        return this.port(r.port, r.port, pr ?? r.proto, q.dir);
      }
      case "proto": {
        if (q.proto === "link") {
          const et = ETHERTYPE_BY_NAME.get(name);
          if (et === undefined) throw new FilterError(`unknown ether proto '${name}'`);
          return this.protoCode(et, q);
        }
        const v = IPPROTO_BY_NAME.get(name);
        if (v === undefined) throw new FilterError(`unknown ip proto '${name}'`);
        return this.protoCode(v, q);
      }
      case "gateway": throw new FilterError(`unknown host '${name}'`);
      case "protochain": throw new FilterError("protochain not supported");
    }
  }

  /** pcap_nametoport: a number, or a service name → port and protocol (undefined = both). */
  private portByName(name: string): { port: number; proto: number | undefined } | undefined {
    if (/^[0-9]+$/.test(name)) return { port: Number(name), proto: undefined };
    const t = this.names.port!(name, "tcp"), u = this.names.port!(name, "udp");
    if (t === undefined && u === undefined) return undefined;
    if (t !== undefined && u !== undefined) return { port: t, proto: t === u ? undefined : 6 };
    return t !== undefined ? { port: t, proto: 6 } : { port: u!, proto: 17 };
  }
}

function isQualKw(s: string): boolean {
  return ["src", "dst", "host", "net", "port", "portrange", "gateway", "proto", "protochain", "broadcast", "multicast"].includes(s);
}

/** __pcap_atoin: dotted decimal with 1-4 parts → [value, bits]. */
function atoin(s: string): [number, number] | undefined {
  const parts = s.split(".");
  let v = 0;
  for (const p of parts) {
    if (!isOctetDigits(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = ((v << 8) | n) >>> 0;
  }
  return [v, parts.length * 8];
}

function parseMacText(s: string): number[] {
  const hexs = s.replace(/[:.-]/g, "");
  if (/^[0-9A-Fa-f]{12}$/.test(hexs) && !/[:.-]/.test(s.slice(0, 3)) && s.length >= 12 && !s.includes(":") && !s.includes("-") && (s.length === 12 || s.length === 14)) {
    const out: number[] = [];
    for (let i = 0; i < 12; i += 2) out.push(parseInt(hexs.slice(i, i + 2), 16));
    return out;
  }
  const groups = s.split(/[:.-]/);
  if (groups.length === 3) {
    const out: number[] = [];
    for (const g of groups) { const n = parseInt(g, 16); out.push(n >> 8, n & 0xff); }
    return out;
  }
  return groups.map((g) => parseInt(g, 16));
}
