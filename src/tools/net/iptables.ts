/**
 * `iptables` as iptables v1.8.9 (nf_tables) on Debian 12 prints and fails: commands -A -C
 * -D -I -R -L -S -F -Z -N -X -P, matches -s -d -p -i -o (each negatable with `!`),
 * --sport/--dport (tcp/udp, also -m tcp/-m udp), --tcp-flags/--syn and -m multiport (matched
 * by src/net/netfilter.ts and listed), targets ACCEPT DROP REJECT
 * RETURN LOG MASQUERADE SNAT DNAT MARK and user chains. Rules live in host.netfilter with
 * `spec` = what `-S` prints after "-A CHAIN ".
 *
 * The nft backend's quirks are kept: `-L -n` prints protocol numbers ("6" for tcp), and
 * `-L` of an unknown chain says the chain "is incompatible, use 'nft' tool".
 */
import { BUILTIN_CHAINS, type AddrMatch, type Chain, type Rule, type TableName } from "../../net/netfilter.js";
import type { Host } from "../../net/host.js";
import { formatIp4, maskToPrefix, parseIp4, prefixToMask } from "../../wire/index.js";
import type { Tool } from "../types.js";
import { hostOf, padR, serviceName, servicePort } from "./common.js";

const V = "iptables v1.8.9 (nf_tables): ";
const TRY = "Try `iptables -h' or 'iptables --help' for more information.";

class Fail {
  constructor(readonly text: string, readonly code: number) {}
}
function fail(text: string, code: number): never {
  throw new Fail(text, code);
}
/** A parameter problem: exit 2 with the "Try" line. */
function param(text: string): never {
  fail(`${V}${text}\n${TRY}`, 2);
}

const PROTOS: Record<string, number> = { all: 0, icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, sctp: 132, udplite: 136 };
const PROTO_NAMES = new Map(Object.entries(PROTOS).map(([k, v]) => [v, k]));

const TCP_FLAGS: Array<[string, number]> = [["FIN", 1], ["SYN", 2], ["RST", 4], ["PSH", 8], ["ACK", 16], ["URG", 32]];

/** The rule as stored: netfilter's Rule plus what only the listing uses. */
interface IptRule extends Rule {
  goto?: boolean;
  /** "tcp" / "udp" when -m tcp|udp is implied or given. */
  l4match?: "tcp" | "udp";
}

type Cmd = "A" | "C" | "D" | "I" | "R" | "L" | "S" | "F" | "Z" | "N" | "X" | "P" | "E";

const LONG_CMDS: Record<string, Cmd> = {
  append: "A", check: "C", delete: "D", insert: "I", replace: "R", list: "L", "list-rules": "S", flush: "F",
  zero: "Z", "new-chain": "N", new: "N", "delete-chain": "X", policy: "P", "rename-chain": "E",
};

interface Parsed {
  table: TableName;
  cmd?: Cmd;
  chain?: string;
  num?: number;
  arg2?: string;
  numeric: boolean;
  verbose: boolean;
  exact: boolean;
  lineNumbers: boolean;
  rule: IptRule;
  hasRuleParts: boolean;
}

export const iptables: Tool = async (ctx) => {
  const host = hostOf(ctx);
  try {
    const p = parse(host, ctx.argv.slice(1));
    const out = execute(host, p);
    ctx.io.stdout(out);
    return 0;
  } catch (e) {
    if (e instanceof Fail) {
      ctx.io.stderr(e.text + "\n");
      return e.code;
    }
    throw e;
  }
};

function parse(host: Host, argv: string[]): Parsed {
  const p: Parsed = {
    table: "filter", numeric: false, verbose: false, exact: false, lineNumbers: false,
    rule: { target: "", targetArgs: {}, spec: "", pkts: 0, bytes: 0 }, hasRuleParts: false,
  };
  const r = p.rule;
  let neg = false;
  let i = 0;
  const needArg = (opt: string): string => {
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith("-") && v.length > 1 && v !== "-")) param(`option "${opt}" requires an argument`);
    i++;
    return v;
  };
  const setCmd = (c: Cmd) => {
    if (p.cmd !== undefined) param(`Cannot use -${c} with -${p.cmd}`);
    p.cmd = c;
  };
  const optional = (): string | undefined => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("-") || v === "!") return undefined;
    i++;
    return v;
  };
  const takeNeg = (): boolean => {
    const n = neg;
    neg = false;
    return n;
  };
  let matchModule: string | undefined;
  for (; i < argv.length; i++) {
    let a = argv[i]!;
    if (a === "!") {
      neg = true;
      continue;
    }
    let inlineVal: string | undefined;
    if (a.startsWith("--") && a.includes("=")) {
      inlineVal = a.slice(a.indexOf("=") + 1);
      a = a.slice(0, a.indexOf("="));
    }
    const long = a.startsWith("--") ? a.slice(2) : undefined;
    if (long !== undefined && LONG_CMDS[long]) a = "-" + LONG_CMDS[long];
    const cmdLetter = /^-[ACDIRLSFZNXPE]$/.test(a) ? (a[1] as Cmd) : undefined;
    if (cmdLetter) {
      setCmd(cmdLetter);
      if (cmdLetter === "A" || cmdLetter === "C" || cmdLetter === "N" || cmdLetter === "P" || cmdLetter === "E") {
        p.chain = inlineVal ?? needArg(a);
        if (cmdLetter === "P" || cmdLetter === "E") {
          const v = optional();
          if (v === undefined) param(`-${cmdLetter} requires a chain and a policy`);
          p.arg2 = v;
        }
      } else if (cmdLetter === "D" || cmdLetter === "I" || cmdLetter === "R") {
        p.chain = needArg(a);
        const v = argv[i + 1];
        if (v !== undefined && /^\d+$/.test(v)) {
          p.num = Number(v);
          i++;
        } else if (cmdLetter === "R") param("-R requires a rule number");
      } else {
        const c = optional();
        if (c !== undefined) {
          p.chain = c;
          if (cmdLetter === "L" || cmdLetter === "S" || cmdLetter === "Z") {
            const v = argv[i + 1];
            if (v !== undefined && /^\d+$/.test(v)) {
              p.num = Number(v);
              i++;
            }
          }
        }
      }
      continue;
    }
    switch (a) {
      case "-t":
      case "--table": {
        const t = inlineVal ?? needArg(a);
        if (!(t in BUILTIN_CHAINS)) fail(`${V}table '${t}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.`, 3);
        p.table = t as TableName;
        continue;
      }
      case "-n":
      case "--numeric":
        p.numeric = true;
        continue;
      case "-v":
      case "--verbose":
        p.verbose = true;
        continue;
      case "-x":
      case "--exact":
        p.exact = true;
        continue;
      case "--line-numbers":
        p.lineNumbers = true;
        continue;
      case "-w":
      case "--wait":
        optional();
        continue;
      case "-p":
      case "--protocol": {
        const v = (inlineVal ?? needArg(a)).toLowerCase();
        const n = /^\d+$/.test(v) ? Number(v) : PROTOS[v];
        if (n === undefined || n > 255) param(`unknown protocol "${v}" specified`);
        r.proto = { value: n, neg: takeNeg() };
        p.hasRuleParts = true;
        continue;
      }
      case "-s":
      case "--source":
      case "--src":
      case "-d":
      case "--destination":
      case "--dst": {
        const v = inlineVal ?? needArg(a);
        const m = parseAddr(v, takeNeg());
        if (a === "-s" || a === "--source" || a === "--src") r.src = m;
        else r.dst = m;
        p.hasRuleParts = true;
        continue;
      }
      case "-i":
      case "--in-interface":
        r.inIf = { name: inlineVal ?? needArg(a), neg: takeNeg() };
        p.hasRuleParts = true;
        continue;
      case "-o":
      case "--out-interface":
        r.outIf = { name: inlineVal ?? needArg(a), neg: takeNeg() };
        p.hasRuleParts = true;
        continue;
      case "-j":
      case "--jump":
      case "-g":
      case "--goto":
        r.target = inlineVal ?? needArg(a);
        if (a === "-g" || a === "--goto") r.goto = true;
        p.hasRuleParts = true;
        continue;
      case "-m":
      case "--match": {
        const m = inlineVal ?? needArg(a);
        if (!["tcp", "udp", "multiport", "icmp", "state", "conntrack", "comment", "mark"].includes(m))
          fail(`${V}Couldn't load match \`${m}':No such file or directory\n\n${TRY}`, 2);
        matchModule = m;
        if (m === "tcp" || m === "udp") r.l4match = m;
        continue;
      }
    }
    // Match and target options.
    const l4 = r.l4match ?? (r.proto && !r.proto.neg ? PROTO_NAMES.get(r.proto.value) : undefined);
    if ((a === "--sport" || a === "--source-port" || a === "--dport" || a === "--destination-port") && (l4 === "tcp" || l4 === "udp")) {
      const v = inlineVal ?? needArg(a);
      const range = parsePortRange(host, v, l4);
      const n = takeNeg();
      if (a === "--sport" || a === "--source-port") r.sport = { ...range, neg: n };
      else r.dport = { ...range, neg: n };
      r.l4match = l4;
      p.hasRuleParts = true;
      continue;
    }
    if ((a === "--tcp-flags" || a === "--syn") && l4 === "tcp") {
      r.l4match = "tcp";
      if (a === "--syn") r.tcpFlags = { mask: 0x17, comp: 0x02, neg: takeNeg() };
      else {
        const mask = parseFlags(needArg(a));
        const comp = parseFlags(needArg(a));
        r.tcpFlags = { mask, comp, neg: takeNeg() };
      }
      p.hasRuleParts = true;
      continue;
    }
    if (matchModule === "multiport" && (a === "--dports" || a === "--sports" || a === "--ports" || a === "--destination-ports" || a === "--source-ports")) {
      const v = inlineVal ?? needArg(a);
      const proto = l4 === "udp" ? "udp" : "tcp";
      const ports = v.split(",").map((x) => {
        const rg = parsePortRange(host, x, proto);
        return rg.lo === rg.hi ? String(rg.lo) : `${rg.lo}:${rg.hi}`;
      });
      const dir = a === "--ports" ? "ports" : a.includes("d") && a !== "--sports" && a !== "--source-ports" ? "dports" : "sports";
      r.multiport = { dir, ports, neg: takeNeg() };
      p.hasRuleParts = true;
      continue;
    }
    const targetOpt = a.startsWith("--") ? a.slice(2) : undefined;
    if (targetOpt !== undefined && targetOptionOk(r.target, targetOpt)) {
      const v = inlineVal ?? needArg(a);
      if (targetOpt === "set-mark" || targetOpt === "set-xmark") {
        const [val, mask] = v.split("/");
        if (!/^(0x[0-9a-f]+|\d+)$/i.test(val ?? "") || (mask !== undefined && !/^(0x[0-9a-f]+|\d+)$/i.test(mask))) param(`Bad MARK value "${v}"`);
      }
      r.targetArgs[targetOpt] = v;
      continue;
    }
    if (a.startsWith("-") && a !== "-") {
      param(`unknown option "${argv[i]}"`);
    }
    fail(`Bad argument \`${a}'\n${TRY}`, 2);
  }
  if (p.cmd === undefined) param("no command specified");
  if ((r.target === "SNAT" && r.targetArgs["to-source"] === undefined) || (r.target === "DNAT" && r.targetArgs["to-destination"] === undefined)) {
    const o = r.target === "SNAT" ? "--to-source" : "--to-destination";
    fail(`${V}${r.target}: option "${o}" must be specified\n\n${TRY}`, 2);
  }
  return p;
}

function targetOptionOk(target: string, opt: string): boolean {
  switch (target) {
    case "SNAT":
      return opt === "to-source" || opt === "to";
    case "DNAT":
      return opt === "to-destination" || opt === "to";
    case "MASQUERADE":
      return opt === "to-ports";
    case "MARK":
      return opt === "set-mark" || opt === "set-xmark";
    case "REJECT":
      return opt === "reject-with";
    case "LOG":
      return opt === "log-prefix" || opt === "log-level";
    default:
      return false;
  }
}

function parseAddr(v: string, neg: boolean): AddrMatch {
  const [a, m] = v.split("/");
  const addr = parseIp4(a ?? "");
  if (addr === undefined) param(`host/network \`${a}' not found`);
  let plen = 32;
  if (m !== undefined) {
    if (/^\d+$/.test(m) && Number(m) <= 32) plen = Number(m);
    else {
      const mask = parseIp4(m);
      const pl = mask === undefined ? undefined : maskToPrefix(mask);
      if (pl === undefined) param(`invalid mask \`${m}' specified`);
      plen = pl;
    }
  }
  return { addr: (addr & prefixToMask(plen)) >>> 0, plen, neg };
}

function parsePort(host: Host, s: string, proto: "tcp" | "udp"): number {
  if (/^\d+$/.test(s) && Number(s) <= 65535) return Number(s);
  const n = servicePort(host, s, proto);
  if (n === undefined) param(`invalid port/service \`${s}' specified`);
  return n;
}

function parsePortRange(host: Host, v: string, proto: "tcp" | "udp"): { lo: number; hi: number } {
  const c = v.indexOf(":");
  if (c < 0) {
    const n = parsePort(host, v, proto);
    return { lo: n, hi: n };
  }
  const lo = c === 0 ? 0 : parsePort(host, v.slice(0, c), proto);
  const hi = c === v.length - 1 ? 65535 : parsePort(host, v.slice(c + 1), proto);
  if (lo > hi) param(`invalid portrange (min > max)`);
  return { lo, hi };
}

function parseFlags(s: string): number {
  if (s === "ALL") return 0x3f;
  if (s === "NONE") return 0;
  let v = 0;
  for (const f of s.split(",")) {
    const e = TCP_FLAGS.find(([n]) => n === f.toUpperCase());
    if (!e) param(`Unknown TCP flag \`${f}'`);
    v |= e[1];
  }
  return v;
}

function flagNames(v: number): string {
  if (v === 0) return "NONE";
  return TCP_FLAGS.filter(([, b]) => v & b).map(([n]) => n).join(",");
}

// ------------------------------------------------------------------ the -S form

function ports(r: { lo: number; hi: number }): string {
  return r.lo === r.hi ? String(r.lo) : `${r.lo}:${r.hi}`;
}

function markText(args: Record<string, string>): string {
  const x = args["set-xmark"];
  if (x !== undefined) {
    const [v, m] = x.split("/");
    return `0x${Number(v).toString(16)}/0x${Number(m ?? "0xffffffff").toString(16)}`;
  }
  const [v, m] = (args["set-mark"] ?? "0").split("/");
  return `0x${Number(v).toString(16)}/0x${Number(m ?? "0xffffffff").toString(16)}`;
}

export function ruleSpec(r: IptRule): string {
  const parts: string[] = [];
  const n = (neg: boolean) => (neg ? "! " : "");
  if (r.src) parts.push(`${n(r.src.neg)}-s ${formatIp4(r.src.addr)}/${r.src.plen}`);
  if (r.dst) parts.push(`${n(r.dst.neg)}-d ${formatIp4(r.dst.addr)}/${r.dst.plen}`);
  if (r.inIf) parts.push(`${n(r.inIf.neg)}-i ${r.inIf.name}`);
  if (r.outIf) parts.push(`${n(r.outIf.neg)}-o ${r.outIf.name}`);
  if (r.proto && (r.proto.value !== 0 || r.proto.neg)) parts.push(`${n(r.proto.neg)}-p ${PROTO_NAMES.get(r.proto.value) ?? r.proto.value}`);
  if (r.l4match && (r.sport || r.dport || r.tcpFlags)) {
    parts.push(`-m ${r.l4match}`);
    if (r.sport) parts.push(`${n(r.sport.neg)}--sport ${ports(r.sport)}`);
    if (r.dport) parts.push(`${n(r.dport.neg)}--dport ${ports(r.dport)}`);
    if (r.tcpFlags) parts.push(`${n(r.tcpFlags.neg)}--tcp-flags ${flagNames(r.tcpFlags.mask)} ${flagNames(r.tcpFlags.comp)}`);
  }
  if (r.multiport) parts.push(`-m multiport ${n(r.multiport.neg)}--${r.multiport.dir} ${r.multiport.ports.join(",")}`);
  if (r.target) {
    parts.push(`${r.goto ? "-g" : "-j"} ${r.target}`);
    const a = r.targetArgs;
    switch (r.target) {
      case "SNAT":
        parts.push(`--to-source ${a["to-source"] ?? a["to"]}`);
        break;
      case "DNAT":
        parts.push(`--to-destination ${a["to-destination"] ?? a["to"]}`);
        break;
      case "MASQUERADE":
        if (a["to-ports"]) parts.push(`--to-ports ${a["to-ports"]}`);
        break;
      case "MARK":
        parts.push(`--set-xmark ${markText(a)}`);
        break;
      case "REJECT":
        parts.push(`--reject-with ${a["reject-with"] ?? "icmp-port-unreachable"}`);
        break;
      case "LOG":
        if (a["log-prefix"] !== undefined) parts.push(`--log-prefix "${a["log-prefix"]}"`);
        if (a["log-level"] !== undefined && a["log-level"] !== "4" && a["log-level"] !== "warning") parts.push(`--log-level ${a["log-level"]}`);
        break;
    }
  }
  return parts.join(" ");
}

// ------------------------------------------------------------------ execution

function chains(host: Host, t: TableName): Map<string, Chain> {
  return host.netfilter.table(t);
}

function getChain(host: Host, p: Parsed, name: string | undefined): Chain {
  const c = name === undefined ? undefined : chains(host, p.table).get(name);
  if (!c) fail("iptables: No chain/target/match by that name.", 1);
  return c;
}

/** Chains in listing order: built-ins in hook order, then user chains by name. */
function orderedChains(host: Host, t: TableName): Chain[] {
  const all = [...chains(host, t).values()];
  return [...all.filter((c) => c.builtin), ...all.filter((c) => !c.builtin).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))];
}

function references(host: Host, t: TableName, name: string): number {
  let n = 0;
  for (const c of chains(host, t).values()) for (const r of c.rules) if (r.target === name) n++;
  return n;
}

const STANDARD = new Set(["ACCEPT", "DROP", "RETURN", "REJECT", "LOG", "MASQUERADE", "SNAT", "DNAT", "MARK", ""]);

/** The kernel's table/hook checks for NAT targets (RULE_APPEND failed (Invalid argument)). */
function targetValid(t: TableName, chain: Chain, target: string): boolean {
  const hookOk = (hooks: string[]) => !chain.builtin || hooks.includes(chain.name);
  switch (target) {
    case "MASQUERADE":
      return t === "nat" && hookOk(["POSTROUTING"]);
    case "SNAT":
      return t === "nat" && hookOk(["POSTROUTING", "INPUT"]);
    case "DNAT":
      return t === "nat" && hookOk(["PREROUTING", "OUTPUT"]);
    case "REJECT":
      return t === "filter" || t === "mangle" ? hookOk(["INPUT", "FORWARD", "OUTPUT"]) : false;
    default:
      return true;
  }
}

function execute(host: Host, p: Parsed): string {
  const cmd = p.cmd!;
  const r = p.rule;
  const tbl = chains(host, p.table);
  const ruleCmd = cmd === "A" || cmd === "I" || cmd === "R" || cmd === "C" || (cmd === "D" && p.num === undefined);
  if (!ruleCmd && p.hasRuleParts) param(`Illegal option \`-${firstRuleOpt(r)}' with this command`);
  switch (cmd) {
    case "L":
      return list(host, p);
    case "S":
      return listRules(host, p);
    case "F": {
      if (p.chain !== undefined) getChain(host, p, p.chain).rules.length = 0;
      else for (const c of tbl.values()) c.rules.length = 0;
      return "";
    }
    case "Z": {
      const cs = p.chain !== undefined ? [getChain(host, p, p.chain)] : [...tbl.values()];
      for (const c of cs) {
        c.pkts = 0;
        c.bytes = 0;
        for (const x of c.rules) {
          x.pkts = 0;
          x.bytes = 0;
        }
      }
      return "";
    }
    case "N": {
      if (tbl.has(p.chain!)) fail("iptables: Chain already exists.", 1);
      if (STANDARD.has(p.chain!) && p.chain !== "") fail(`${V}chain name \`${p.chain}' reserved for standard target\n${TRY}`, 2);
      tbl.set(p.chain!, { name: p.chain!, builtin: false, policy: "ACCEPT", rules: [], pkts: 0, bytes: 0 });
      return "";
    }
    case "X": {
      const names = p.chain !== undefined ? [getChain(host, p, p.chain).name] : orderedChains(host, p.table).filter((c) => !c.builtin).map((c) => c.name);
      for (const n of names) {
        const c = tbl.get(n)!;
        if (c.builtin || references(host, p.table, n) > 0) fail(`${V} CHAIN_DEL failed (Device or resource busy): chain ${n}`, 4);
        tbl.delete(n);
      }
      return "";
    }
    case "E": {
      const c = getChain(host, p, p.chain);
      if (c.builtin) fail(`${V} CHAIN_RENAME failed (Operation not supported): chain ${c.name}`, 4);
      if (tbl.has(p.arg2!)) fail("iptables: File exists.", 1);
      tbl.delete(c.name);
      const renamed: Chain = { ...c, name: p.arg2! };
      tbl.set(renamed.name, renamed);
      for (const ch of tbl.values()) for (const x of ch.rules) if (x.target === c.name) x.target = renamed.name;
      return "";
    }
    case "P": {
      const c = tbl.get(p.chain!);
      if (!c || !c.builtin) fail("iptables: Bad built-in chain name.", 1);
      if (p.arg2 !== "ACCEPT" && p.arg2 !== "DROP") fail("iptables: Bad policy name. Run `dmesg' for more information.", 1);
      c.policy = p.arg2;
      return "";
    }
    default:
      break;
  }
  // Rule commands.
  const chain = getChain(host, p, p.chain);
  if (cmd === "D" && p.num !== undefined) {
    if (p.num < 1 || p.num > chain.rules.length) fail("iptables: Index of deletion too big.", 1);
    chain.rules.splice(p.num - 1, 1);
    return "";
  }
  if (r.target !== "" && !STANDARD.has(r.target) && !tbl.has(r.target)) {
    if (/^[A-Z]+$/.test(r.target) && r.target.length > 0 && KNOWN_EXT_TARGETS.has(r.target)) {
      // A target extension lvslab does not model: accepted and listed, never matched.
    } else param(`Chain '${r.target}' does not exist`);
  }
  r.spec = ruleSpec(r);
  const op = cmd === "A" ? "RULE_APPEND" : cmd === "I" ? "RULE_INSERT" : cmd === "R" ? "RULE_REPLACE" : "";
  if (op && !targetValid(p.table, chain, r.target)) fail(`${V} ${op} failed (Invalid argument): rule in chain ${chain.name}`, 4);
  switch (cmd) {
    case "A":
      chain.rules.push(r);
      return "";
    case "I": {
      const n = p.num ?? 1;
      if (n < 1 || n > chain.rules.length + 1) fail("iptables: Index of insertion too big.", 1);
      chain.rules.splice(n - 1, 0, r);
      return "";
    }
    case "R": {
      const n = p.num!;
      if (n < 1 || n > chain.rules.length) fail("iptables: Index of replacement too big.", 1);
      chain.rules[n - 1] = r;
      return "";
    }
    case "D":
    case "C": {
      const i = chain.rules.findIndex((x) => x.spec === r.spec);
      if (i < 0) fail("iptables: Bad rule (does a matching rule exist in that chain?).", 1);
      if (cmd === "D") chain.rules.splice(i, 1);
      return "";
    }
  }
  return "";
}

const KNOWN_EXT_TARGETS = new Set(["TCPMSS", "CT", "NOTRACK", "CONNMARK", "TOS", "DSCP", "TTL", "REDIRECT", "NFQUEUE", "AUDIT", "TRACE", "CLASSIFY", "TEE"]);

function firstRuleOpt(r: IptRule): string {
  if (r.src) return "s";
  if (r.dst) return "d";
  if (r.proto) return "p";
  if (r.inIf) return "i";
  if (r.outIf) return "o";
  return "j";
}

function listRules(host: Host, p: Parsed): string {
  let out = "";
  const cs = p.chain !== undefined ? [getChain(host, p, p.chain)] : orderedChains(host, p.table);
  if (p.num !== undefined) {
    const c = cs[0]!;
    const x = c.rules[p.num - 1];
    if (!x) fail("iptables: Index of deletion too big.", 1);
    return `-A ${c.name}${x.spec ? " " + x.spec : ""}\n`;
  }
  for (const c of cs) out += c.builtin ? `-P ${c.name} ${c.policy}\n` : `-N ${c.name}\n`;
  for (const c of cs) for (const x of c.rules) out += `-A ${c.name}${x.spec ? " " + x.spec : ""}\n`;
  return out;
}

// ------------------------------------------------------------------ -L

function num(n: number, exact: boolean, width: number): string {
  if (exact) return String(n).padStart(width) + " ";
  if (n <= 99999) return String(n).padStart(5) + " ";
  for (const unit of ["K", "M", "G", "T"]) {
    n = Math.floor((n + 500) / 1000);
    if (n <= 9999) return String(n).padStart(4) + unit + " ";
  }
  return String(n).padStart(4) + "P ";
}

function list(host: Host, p: Parsed): string {
  let cs: Chain[];
  if (p.chain !== undefined) {
    const c = chains(host, p.table).get(p.chain);
    if (!c) fail(`${V}chain \`${p.chain}' in table \`${p.table}' is incompatible, use 'nft' tool.`, 1);
    cs = [c];
  } else cs = orderedChains(host, p.table);
  const blocks: string[] = [];
  for (const c of cs) {
    let s = "";
    if (c.builtin) {
      s += p.verbose
        ? `Chain ${c.name} (policy ${c.policy} ${num(c.pkts, p.exact, 0).trim()} packets, ${num(c.bytes, p.exact, 0).trim()} bytes)\n`
        : `Chain ${c.name} (policy ${c.policy})\n`;
    } else {
      s += `Chain ${c.name} (${references(host, p.table, c.name)} references)\n`;
    }
    const ln = p.lineNumbers ? (p.verbose ? "num  " : "num  ") : "";
    if (p.verbose) {
      s += ln + (p.exact ? "    pkts      bytes " : " pkts bytes ") + "target     prot opt in     out     source               destination         \n";
    } else s += ln + "target     prot opt source               destination         \n";
    c.rules.forEach((x, i) => {
      let line = p.lineNumbers ? padR(String(i + 1), 4) + " " : "";
      if (p.verbose) line += num(x.pkts, p.exact, 8) + num(x.bytes, p.exact, 8);
      line += padR(x.target, 9) + " ";
      const r = x as IptRule;
      const pv = r.proto?.value ?? 0;
      line += (r.proto?.neg ? "!" : " ") + padR(p.numeric ? String(pv) : PROTO_NAMES.get(pv) ?? String(pv), 5);
      line += "-- ";
      if (p.verbose) {
        line += (r.inIf?.neg ? "!" : " ") + padR(r.inIf?.name ?? (p.numeric ? "*" : "any"), 6);
        line += (r.outIf?.neg ? "!" : " ") + padR(r.outIf?.name ?? (p.numeric ? "*" : "any"), 6) + " ";
      }
      line += (r.src?.neg ? "!" : " ") + padR(addrText(r.src, p.numeric), 19) + " ";
      line += (r.dst?.neg ? "!" : " ") + padR(addrText(r.dst, p.numeric), 19) + " ";
      line += matchText(host, r, p.numeric) + targetText(r);
      s += line + "\n";
    });
    blocks.push(s);
  }
  return blocks.join("\n");
}

function addrText(m: AddrMatch | undefined, numeric: boolean): string {
  if (!m || m.plen === 0) return numeric ? "0.0.0.0/0" : "anywhere";
  return m.plen === 32 ? formatIp4(m.addr) : `${formatIp4(m.addr)}/${m.plen}`;
}

function portText(host: Host, r: { lo: number; hi: number; neg: boolean }, kind: "spt" | "dpt", proto: "tcp" | "udp", numeric: boolean): string {
  const name = (n: number) => (numeric ? String(n) : serviceName(host, n, proto) ?? String(n));
  const neg = r.neg ? "!" : "";
  if (r.lo === r.hi) return ` ${kind}:${neg}${name(r.lo)}`;
  return ` ${kind}s:${neg}${name(r.lo)}:${name(r.hi)}`;
}

function matchText(host: Host, r: IptRule, numeric: boolean): string {
  let s = "";
  if (r.l4match && (r.sport || r.dport || r.tcpFlags)) {
    s += ` ${r.l4match}`;
    if (r.sport) s += portText(host, r.sport, "spt", r.l4match, numeric);
    if (r.dport) s += portText(host, r.dport, "dpt", r.l4match, numeric);
    if (r.tcpFlags) {
      const f = r.tcpFlags;
      const hex = (v: number) => "0x" + v.toString(16).padStart(2, "0").toUpperCase();
      s += ` flags:${f.neg ? "!" : ""}` + (numeric ? `${hex(f.mask)}/${hex(f.comp)}` : `${flagNames(f.mask)}/${flagNames(f.comp)}`);
    }
  }
  if (r.multiport) {
    const proto = r.l4match === "udp" || r.proto?.value === 17 ? "udp" : "tcp";
    const names = r.multiport.ports.map((x) =>
      x.split(":").map((n) => (numeric ? n : serviceName(host, Number(n), proto) ?? n)).join(":"),
    );
    s += ` multiport ${r.multiport.dir} ${r.multiport.neg ? "! " : ""}${names.join(",")}`;
  }
  return s;
}

function targetText(r: IptRule): string {
  const a = r.targetArgs;
  switch (r.target) {
    case "REJECT":
      return ` reject-with ${a["reject-with"] ?? "icmp-port-unreachable"}`;
    case "SNAT":
      return ` to:${a["to-source"] ?? a["to"]}`;
    case "DNAT":
      return ` to:${a["to-destination"] ?? a["to"]}`;
    case "MASQUERADE":
      return a["to-ports"] ? ` masq ports: ${a["to-ports"]}` : "";
    case "MARK": {
      if (a["set-xmark"] !== undefined) {
        const [v, m] = markText(a).split("/");
        return m === "0xffffffff" ? ` MARK set ${v}` : ` MARK xset ${v}/${m}`;
      }
      const [v, m] = markText(a).split("/");
      return m === "0xffffffff" ? ` MARK set ${v}` : ` MARK xset ${v}/${m}`;
    }
    case "LOG":
      return ` LOG flags 0 level ${a["log-level"] ?? 4}` + (a["log-prefix"] !== undefined ? ` prefix "${a["log-prefix"]}"` : "");
    default:
      return "";
  }
}
