/**
 * Netfilter as iptables shows it: tables of chains of rules, evaluated at the hook points
 * (PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING). lvslab models the matches and targets
 * LVS setups use: -s/-d, -p, --sport/--dport, -i/-o, ACCEPT, DROP, REJECT, RETURN,
 * MASQUERADE, SNAT/DNAT --to, MARK --set-mark, and jumps to user chains. Packets IPVS has
 * handled are untracked, so the nat table never sees them (as with conntrack=0).
 */
import { formatIp4, prefixToMask, type Ip4 } from "../wire/index.js";

export type TableName = "filter" | "nat" | "mangle" | "raw";
export type Hook = "PREROUTING" | "INPUT" | "FORWARD" | "OUTPUT" | "POSTROUTING";

export const BUILTIN_CHAINS: Record<TableName, Hook[]> = {
  filter: ["INPUT", "FORWARD", "OUTPUT"],
  nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
  mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
  raw: ["PREROUTING", "OUTPUT"],
};

export interface AddrMatch {
  addr: Ip4;
  plen: number;
  neg: boolean;
}

export interface Rule {
  proto?: { value: number; neg: boolean };
  src?: AddrMatch;
  dst?: AddrMatch;
  inIf?: { name: string; neg: boolean };
  outIf?: { name: string; neg: boolean };
  sport?: { lo: number; hi: number; neg: boolean };
  dport?: { lo: number; hi: number; neg: boolean };
  /** --tcp-flags MASK COMP (and --syn): (flags & mask) == comp (xt_tcpudp). */
  tcpFlags?: { mask: number; comp: number; neg: boolean };
  /** -m multiport --sports/--dports/--ports a,b,c:d (xt_multiport). */
  multiport?: { dir: "sports" | "dports" | "ports"; ports: string[]; neg: boolean };
  target: string;
  /** Target options: MARK --set-mark, SNAT/DNAT --to-*, REJECT --reject-with. */
  targetArgs: Record<string, string>;
  /** The rule as `iptables -S` prints it, after "-A CHAIN ". */
  spec: string;
  pkts: number;
  bytes: number;
}

export interface Chain {
  readonly name: string;
  readonly builtin: boolean;
  policy: "ACCEPT" | "DROP";
  rules: Rule[];
  pkts: number;
  bytes: number;
}

export interface PacketInfo {
  proto: number;
  src: Ip4;
  dst: Ip4;
  sport: number;
  dport: number;
  /** TCP flag byte (FIN..CWR), or -1 when not TCP. */
  tcpFlags: number;
  inIf: string;
  outIf: string;
  length: number;
}

export interface Decision {
  verdict: "ACCEPT" | "DROP" | "REJECT" | "MASQUERADE" | "SNAT" | "DNAT";
  rule?: Rule;
  mark?: number;
  args?: Record<string, string>;
  /** "filter/INPUT rule 2" — where the verdict came from, for the trace. */
  where: string;
}

/** A table's chains: a Map that tells its owner when chains come and go. */
class ChainMap extends Map<string, Chain> {
  constructor(private readonly changed: () => void) {
    super();
  }

  override set(name: string, c: Chain): this {
    super.set(name, c);
    this.changed();
    return this;
  }

  override delete(name: string): boolean {
    const r = super.delete(name);
    this.changed();
    return r;
  }

  override clear(): void {
    super.clear();
    this.changed();
  }
}

export class Netfilter {
  readonly tables = new Map<TableName, Map<string, Chain>>();
  /** Every chain of every table, rebuilt when a chain is created or deleted (for empty()). */
  private chains: Chain[] | undefined;

  constructor() {
    const changed = (): void => {
      this.chains = undefined;
    };
    for (const t of Object.keys(BUILTIN_CHAINS) as TableName[]) {
      const m = new ChainMap(changed);
      for (const c of BUILTIN_CHAINS[t]) m.set(c, { name: c, builtin: true, policy: "ACCEPT", rules: [], pkts: 0, bytes: 0 });
      this.tables.set(t, m);
    }
  }

  table(t: TableName): Map<string, Chain> {
    return this.tables.get(t)!;
  }

  /** True when no rule exists anywhere (fast path). */
  empty(): boolean {
    let chains = this.chains;
    if (chains === undefined) {
      chains = [];
      for (const t of this.tables.values()) for (const c of t.values()) chains.push(c);
      this.chains = chains;
    }
    for (let i = 0; i < chains.length; i++) {
      const c = chains[i]!;
      if (c.rules.length > 0 || c.policy !== "ACCEPT") return false;
    }
    return true;
  }

  /** Run `hook` of `table` over a packet. */
  evaluate(table: TableName, hook: Hook, p: PacketInfo): Decision {
    const chains = this.table(table);
    const chain = chains.get(hook);
    if (!chain) return { verdict: "ACCEPT", where: `${table}/${hook}` };
    chain.pkts++;
    chain.bytes += p.length;
    let mark: number | undefined;
    const run = (c: Chain, depth: number): Decision | undefined => {
      for (let i = 0; i < c.rules.length; i++) {
        const r = c.rules[i]!;
        if (!matches(r, p)) continue;
        r.pkts++;
        r.bytes += p.length;
        const where = `${table}/${c.name} rule ${i + 1} (-A ${c.name} ${r.spec})`;
        switch (r.target) {
          case "ACCEPT":
          case "DROP":
          case "REJECT":
          case "MASQUERADE":
          case "SNAT":
          case "DNAT":
            return { verdict: r.target, rule: r, where, mark, args: r.targetArgs };
          case "RETURN":
            return undefined;
          case "MARK": {
            const v = r.targetArgs["set-mark"] ?? r.targetArgs["set-xmark"] ?? "0";
            mark = Number(v.split("/")[0]);
            continue;
          }
          case "":
            continue;
          default: {
            const sub = chains.get(r.target);
            if (sub && depth < 16) {
              const d = run(sub, depth + 1);
              if (d) return d;
            }
          }
        }
      }
      return undefined;
    };
    const d = run(chain, 0);
    if (d) return d;
    return { verdict: chain.policy, where: `${table}/${hook} policy ${chain.policy}`, mark };
  }
}

function addrOk(m: AddrMatch | undefined, a: Ip4): boolean {
  if (!m) return true;
  const hit = ((a & prefixToMask(m.plen)) >>> 0) === ((m.addr & prefixToMask(m.plen)) >>> 0);
  return hit !== m.neg;
}

function matches(r: Rule, p: PacketInfo): boolean {
  if (r.proto && (r.proto.value === 0 ? true : r.proto.value === p.proto) === r.proto.neg) return false;
  if (!addrOk(r.src, p.src) || !addrOk(r.dst, p.dst)) return false;
  if (r.inIf && ifMatch(r.inIf.name, p.inIf) === r.inIf.neg) return false;
  if (r.outIf && ifMatch(r.outIf.name, p.outIf) === r.outIf.neg) return false;
  if (r.sport && (p.sport >= r.sport.lo && p.sport <= r.sport.hi) === r.sport.neg) return false;
  if (r.dport && (p.dport >= r.dport.lo && p.dport <= r.dport.hi) === r.dport.neg) return false;
  if (r.tcpFlags && (p.tcpFlags >= 0 && (p.tcpFlags & r.tcpFlags.mask) === r.tcpFlags.comp) === r.tcpFlags.neg) return false;
  if (r.multiport && multiportHit(r.multiport, p) === r.multiport.neg) return false;
  return true;
}

function multiportHit(m: NonNullable<Rule["multiport"]>, p: PacketInfo): boolean {
  for (const spec of m.ports) {
    const [a, b] = spec.split(":");
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    const s = m.dir !== "dports" && p.sport >= lo && p.sport <= hi;
    const d = m.dir !== "sports" && p.dport >= lo && p.dport <= hi;
    if (s || d) return true;
  }
  return false;
}

function ifMatch(pattern: string, name: string): boolean {
  return pattern.endsWith("+") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

export function formatAddrMatch(m: AddrMatch): string {
  return `${formatIp4(m.addr)}/${m.plen}`;
}
