/**
 * `ip` (iproute2 6.1 as Debian 12 ships it): addr, link, route, neigh with the layouts and
 * error texts of the real tool against a 6.x kernel. IPv6 is not modelled, so no inet6
 * lines are printed.
 */
import type { Host, Nic } from "../../net/host.js";
import { formatPrefix, type Route } from "../../net/route.js";
import { ARPHRD_IPGRE, ARPHRD_TUNNEL, broadcastOf, formatIp4, formatMac, parseIp4, parseMac, prefixToMask, type Ip4 } from "../../wire/index.js";
import type { Tool, ToolContext } from "../types.js";
import { getInteger, hostOf, nicsByIndex, noBroadcast, isSecondary, orderedAddrs, padR, parsePrefix } from "./common.js";

interface Opts {
  four: boolean;
  stats: number;
  brief: boolean;
  /** `-o`: each record on one line, its inner newlines as "\\" (iproute2's _SL_). */
  oneline?: boolean;
}

class IpError {
  constructor(readonly text: string, readonly code: number) {}
}

function fail(text: string, code: number): never {
  throw new IpError(text, code);
}

/** iproute2's matches(): the typed word is a prefix of the keyword. */
function matches(word: string | undefined, kw: string): boolean {
  return word !== undefined && word.length > 0 && kw.startsWith(word);
}

export const ip: Tool = async (ctx) => {
  const host = hostOf(ctx);
  const args = ctx.argv.slice(1);
  const opts: Opts = { four: false, stats: 0, brief: false };
  while (args.length > 0 && args[0]!.startsWith("-")) {
    let a = args.shift()!;
    if (a.startsWith("--")) a = a.slice(1);
    if (a === "-4") opts.four = true;
    else if (matches(a.slice(1), "stats") || matches(a.slice(1), "statistics")) opts.stats++;
    else if (a === "-br" || matches(a.slice(1), "brief")) opts.brief = true;
    else if (matches(a.slice(1), "oneline")) opts.oneline = true;
    else if (matches(a.slice(1), "details") || a === "-d") continue;
    else if (a === "-h" || matches(a.slice(1), "human")) continue;
    else if (a === "-V" || matches(a.slice(1), "Version")) {
      ctx.io.stdout("ip utility, iproute2-6.1.0, libbpf 1.1.2\n");
      return 0;
    } else {
      ctx.io.stderr(`Option "${a}" is unknown, try "ip -help".\n`);
      return 255;
    }
  }
  const obj = args.shift();
  try {
    let out = "";
    if (obj === undefined) {
      ctx.io.stderr(USAGE);
      return 255;
    } else if (matches(obj, "address")) out = oneline(ipAddr(host, args, opts), opts, "addr");
    else if (matches(obj, "route")) out = ipRoute(host, args, opts);
    else if (matches(obj, "neighbor") || matches(obj, "neighbour")) out = ipNeigh(host, args);
    else if (matches(obj, "link")) out = oneline(ipLink(host, args, opts), opts, "link");
    else if (matches(obj, "fou")) out = ipFou(host, args, (t) => ctx.io.stderr(t));
    else if (obj === "help") {
      ctx.io.stderr(USAGE);
      return 255;
    } else fail(`Object "${obj}" is unknown, try "ip help".`, 1);
    ctx.io.stdout(out);
    return 0;
  } catch (e) {
    if (e instanceof IpError) {
      ctx.io.stderr(e.text + "\n");
      return e.code;
    }
    throw e;
  }
};

const USAGE = `Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |
                   link | macsec | maddress | monitor | mptcp | mroute | mrule |
                   neighbor | neighbour | netconf | netns | nexthop | ntable |
                   ntbl | route | rule | sr | tap | tcpmetrics |
                   token | tunnel | tuntap | vrf | xfrm }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | mpls | bridge | link } |
                    -4 | -6 | -M | -B | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                    -c[olor]}
`;

function findNic(host: Host, name: string, how: "cannot-find" | "not-exist"): Nic {
  const nic = host.nics.get(name);
  if (nic) return nic;
  if (how === "cannot-find") fail(`Cannot find device "${name}"`, 1);
  fail(`Device "${name}" does not exist.`, 1);
}

// ------------------------------------------------------------------ -o

/**
 * `ip -o`: iproute2 prints `\\` where a record would go on to its next line. A link is one
 * record; `ip addr` gives one record per address, "N: NAME    inet …\       valid_lft …",
 * without the link line (what records are is iproute2 6.1's, checked against the real `ip`).
 */
function oneline(out: string, opts: Opts, kind: "addr" | "link"): string {
  if (!opts.oneline || opts.brief || out === "") return out;
  const lines = out.replace(/\n$/, "").split("\n");
  const recs: string[] = [];
  if (kind === "link") {
    for (const l of lines) {
      if (/^\d+: /.test(l) || recs.length === 0) recs.push(l);
      else recs[recs.length - 1] += "\\" + l;
    }
    return recs.map((r) => r + "\n").join("");
  }
  let head = "";
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const m = /^(\d+): ([^:@]+)(?:@[^:]*)?: </.exec(l);
    if (m) head = `${m[1]}: ${m[2]}`;
    else if (/^    inet6? /.test(l)) {
      const next = lines[i + 1];
      const tail = next !== undefined && /^       /.test(next) ? (i++, "\\" + next) : "";
      recs.push(`${head}${l}${tail}`);
    }
  }
  return recs.map((r) => r + "\n").join("");
}

// ------------------------------------------------------------------ fou

/** /etc/protocols of Debian 12 (netbase), as getprotobyname reads it: names and aliases. */
const PROTOCOLS = new Map<string, number>([
  ["ip", 0], ["IP", 0], ["icmp", 1], ["ICMP", 1], ["igmp", 2], ["IGMP", 2], ["ipencap", 4], ["IP-ENCAP", 4],
  ["tcp", 6], ["TCP", 6], ["udp", 17], ["UDP", 17], ["ipv6", 41], ["IPv6", 41], ["gre", 47], ["GRE", 47],
  ["esp", 50], ["IPSEC-ESP", 50], ["ah", 51], ["IPSEC-AH", 51], ["ipv6-icmp", 58], ["IPv6-ICMP", 58],
  ["ipip", 94], ["IPIP", 94], ["encap", 98], ["ENCAP", 98], ["sctp", 132], ["SCTP", 132],
  ["udplite", 136], ["UDPLite", 136], ["mpls-in-ip", 137], ["MPLS-in-IP", 137], ["ethernet", 143], ["Ethernet", 143],
]);

/** strtoul(s, &end, 0) over the whole word: hex after 0x, octal after 0, else decimal. */
function strtoul0(s: string): number | undefined {
  const m = /^(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))$/.exec(s);
  if (!m) return undefined;
  return m[1] !== undefined ? parseInt(m[1], 16) : m[2] !== undefined ? parseInt(m[2], 8) : Number(m[3]);
}

/**
 * `ip fou add|del|show` (iproute2 6.1's ipfou.c against Linux 6.1's fou module, recorded in
 * test/golden/kernel/tunnel-devices.out): ports are listed newest first; a bad word of the
 * request is said on stderr and the request still goes to the kernel, which refuses it.
 */
function ipFou(host: Host, args: string[], warn: (t: string) => void): string {
  const cmd = args.shift();
  // iproute2 6.1's usage(), as the real `ip fou help` prints it.
  const usage = "Usage: ip fou add port PORT { ipproto PROTO  | gue }\n\t\t   [ local IFADDR ] [ peer IFADDR ]\n\t\t   [ peer_port PORT ] [ dev IFNAME ]\n       ip fou del port PORT [ local IFADDR ]\n\t\t   [ peer IFADDR ] [ peer_port PORT ]\n\t\t   [ dev IFNAME ]\n       ip fou show\n\nWhere: PROTO { ipproto-name | 1..255 }\n       PORT { 1..65535 }\n       IFADDR { addr }";
  if (cmd === undefined || matches(cmd, "help")) fail(usage, 255);
  // do_ipfou resolves the generic netlink family first: without the module nothing else counts.
  if (!host.fouLoaded) fail("RTNETLINK answers: No such file or directory\nError talking to the kernel", 1);
  const kind = matches(cmd, "add") ? "add" : matches(cmd, "delete") ? "del" : matches(cmd, "show") || matches(cmd, "list") ? "show" : undefined;
  if (!kind) fail(`Command "${cmd}" is unknown, try "ip fou help".`, 255);
  let port: number | undefined;
  let ipproto: number | undefined;
  let gue = false;
  let v6 = false;
  let local: string | undefined;
  if (kind !== "show") {
    while (args.length > 0) {
      const a = args.shift()!;
      if (matches(a, "port")) {
        const v = args.shift();
        if (v === undefined) fail('Command line is not complete. Try option "help"', 255);
        const n = strtoul0(v);
        if (n === undefined || n > 65535 || n === 0) fail(`Error: argument "${v}" is wrong: invalid port`, 255);
        port = n;
      } else if (matches(a, "ipproto")) {
        const v = args.shift();
        if (v === undefined) fail('Command line is not complete. Try option "help"', 255);
        // getprotobyname (Debian's /etc/protocols, case-sensitive), else a number 1-255.
        const n = PROTOCOLS.get(v) ?? strtoul0(v);
        if (n === undefined || n > 255 || (n === 0 && !PROTOCOLS.has(v))) fail(`Error: argument "${v}" is wrong: invalid ipproto`, 255);
        ipproto = n;
      } else if (a === "-6") v6 = true;
      else if (matches(a, "local") || matches(a, "peer") || matches(a, "peer_port") || matches(a, "dev")) {
        // Accepted and not modelled (the port is simulated as bound to any address), except that
        // a local address must be one of the host's.
        const v = args.shift();
        if (v === undefined) fail('Command line is not complete. Try option "help"', 255);
        if (matches(a, "local")) local = v;
      } else if (matches(a, "gue")) gue = true;
      else {
        warn(`fou: unknown command "${a}"?\n`);
        fail(usage, 255);
      }
    }
    if (port === undefined) warn("fou: missing port\n");
    else if (kind === "add" && ipproto === undefined && !gue) warn("fou: must set ipproto or gue\n");
    else if (ipproto !== undefined && gue) warn("fou: cannot set ipproto and gue\n");
  }
  if (kind === "show") return [...host.fouPorts].reverse().map(([p, f]) => `port ${p} ${f.gue ? "gue" : `ipproto ${f.ipproto}`}${f.v6 ? " -6" : ""}\n`).join("");
  if (port === undefined || (kind === "add" && (ipproto === undefined) === !gue)) fail("RTNETLINK answers: Invalid argument", 2);
  if (kind === "add") {
    if (local !== undefined && (parseIp4(local) === undefined || !host.isLocalAddr(parseIp4(local)!))) fail("RTNETLINK answers: Cannot assign requested address", 2);
    if (host.fouPorts.has(port) || host.udpSockets.has(port)) fail("RTNETLINK answers: Address already in use", 2);
    host.fouPorts.set(port, gue ? { gue: true, v6 } : { gue: false, ipproto: ipproto!, v6 });
  } else if (!host.fouPorts.delete(port)) fail("RTNETLINK answers: Invalid argument", 2);
  return "";
}

// ------------------------------------------------------------------ link

function carrier(nic: Nic): boolean {
  return nic.isLoopback || nic.segment !== undefined || isIpip(nic) || isGreTap(nic);
}

/** The fallback tunnels of ipip and ip_gre (tunl0, gre0): NOARP, no link address. */
function isIpip(nic: Nic): boolean {
  return nic.hatype === ARPHRD_TUNNEL || nic.hatype === ARPHRD_IPGRE;
}

/** ip_gre's Ethernet-over-GRE fallback devices: listed as "@NONE" and carrying no frames. */
function isGreTap(nic: Nic): boolean {
  return nic.name === "gretap0" || nic.name === "erspan0";
}

export function linkFlags(nic: Nic): string {
  const f: string[] = [];
  if (nic.up && !carrier(nic)) f.push("NO-CARRIER");
  if (nic.isLoopback) f.push("LOOPBACK");
  else if (isIpip(nic)) f.push("NOARP");
  else f.push("BROADCAST", "MULTICAST");
  if (nic.promisc > 0) f.push("PROMISC");
  if (nic.up) {
    f.push("UP");
    if (carrier(nic)) f.push("LOWER_UP");
  }
  return `<${f.join(",")}>`;
}

function operState(nic: Nic): string {
  if (!nic.up) return "DOWN";
  if (nic.isLoopback || isIpip(nic) || isGreTap(nic)) return "UNKNOWN";
  return carrier(nic) ? "UP" : "DOWN";
}

function linkHeader(nic: Nic, mode: boolean): string {
  const qdisc = isIpip(nic) || isGreTap(nic) ? (nic.up ? "noqueue" : "noop") : nic.isLoopback ? "noqueue" : "fq_codel";
  return (
    `${nic.index}: ${nic.name}${isIpip(nic) || isGreTap(nic) ? "@NONE" : ""}: ${linkFlags(nic)} mtu ${nic.mtu} qdisc ${qdisc} state ${operState(nic)} ` +
    `${mode ? "mode DEFAULT " : ""}group default qlen 1000\n`
  );
}

function linkLine(nic: Nic): string {
  if (isIpip(nic)) return `    link/${nic.hatype === ARPHRD_IPGRE ? "gre" : "ipip"} 0.0.0.0 brd 0.0.0.0\n`;
  return nic.isLoopback
    ? "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
    : `    link/ether ${formatMac(nic.mac)} brd ff:ff:ff:ff:ff:ff\n`;
}

/** `ip -s link`: the stats64 block, columns sized as iproute2's size_columns() does. */
function statsBlock(nic: Nic): string {
  const s = nic.stats;
  const rx = [s.rxBytes, s.rxPackets, 0, s.rxDropped, 0, 0];
  const tx = [s.txBytes, s.txPackets, 0, s.txDropped, 0, 0];
  const cols = [10, 7, 6, 7, 7, 7];
  for (const v of [rx, tx]) v.forEach((n, i) => (cols[i] = Math.max(cols[i]!, String(n).length)));
  const row = (v: number[]) => "    " + v.map((n, i) => String(n).padStart(cols[i]!, " ") + " ").join("") + "\n";
  const hdr = (label: string, names: string[]) =>
    `    ${label}: ${"bytes".padStart(cols[0]! - 4)} ` + names.map((n, i) => n.padStart(cols[i + 1]!)).join(" ") + " " + " ".repeat(10) + "\n";
  return (
    hdr("RX", ["packets", "errors", "dropped", "missed", "mcast"]) + row(rx) +
    hdr("TX", ["packets", "errors", "dropped", "carrier", "collsns"]) + row(tx)
  );
}

/** `ip link show` / `ip addr show`: at most one device, as `dev NAME` or bare NAME (iproute2's message otherwise). */
function showDevArg(args: string[]): string | undefined {
  let dev: string | undefined;
  while (args.length > 0) {
    let a = args.shift()!;
    if (a === "dev") {
      if (args.length === 0) fail('Command line is not complete. Try option "help"', 255);
      a = args.shift()!;
    }
    if (dev !== undefined) fail(`Error: either "dev" is duplicate, or "${a}" is a garbage.`, 255);
    dev = a;
  }
  return dev;
}

function ipLink(host: Host, args: string[], opts: Opts): string {
  const cmd = args.shift();
  if (cmd === undefined || matches(cmd, "show") || matches(cmd, "list") || cmd === "lst") {
    const dev = showDevArg(args);
    const nics = dev !== undefined ? [findNic(host, dev, "not-exist")] : nicsByIndex(host);
    let out = "";
    for (const nic of nics) {
      if (opts.brief) {
        const mac = nic.isLoopback ? "00:00:00:00:00:00" : formatMac(nic.mac);
        out += `${padR(nic.name, 16)} ${padR(operState(nic), 14)} ${mac} ${linkFlags(nic)} \n`;
        continue;
      }
      out += linkHeader(nic, true) + linkLine(nic);
      if (opts.stats > 0) out += statsBlock(nic);
    }
    return out;
  }
  if (matches(cmd, "set")) {
    let dev: string | undefined;
    const changes: Array<(nic: Nic) => void> = [];
    let mtuSeen = false;
    while (args.length > 0) {
      const a = args.shift()!;
      if (a === "dev") {
        dev = args.shift();
        continue;
      }
      if (a === "up") changes.push((n) => setUp(host, n, true));
      else if (a === "down") changes.push((n) => setUp(host, n, false));
      else if (a === "mtu") {
        // iplink.c: NEXT_ARG, duparg, get_integer, invarg("Invalid \"mtu\" value\n") -- whose
        // own newline leaves a blank line; the kernel's dev_validate_mtu judges the rest
        // (a negative int included).
        const v = args.shift();
        if (v === undefined) fail(`Command line is not complete. Try option "help"`, 255);
        if (mtuSeen) fail(`Error: duplicate "mtu": "${v}" is the second value.`, 255);
        mtuSeen = true;
        const mtu = getInteger(v);
        if (mtu === undefined) fail(`Error: argument "${v}" is wrong: Invalid "mtu" value\n`, 255);
        changes.push((n) => {
          if (mtu < 68) fail("Error: mtu less than device minimum.", 2);
          if (mtu > 65535 && !n.isLoopback) fail("Error: mtu greater than device maximum.", 2);
          n.mtu = mtu;
        });
      } else if (a === "address") {
        const v = args.shift() ?? "";
        const mac = parseMac(v);
        if (mac === undefined) fail(`"${v}" is invalid lladdr.`, 1);
        changes.push((n) => (n.mac = mac));
      } else if (a === "promisc") {
        // iproute2 6.1: NEXT_ARG, then parse_on_off's own message (exit 1)
        const v = args.shift();
        if (v === undefined) fail(`Command line is not complete. Try option "help"`, 255);
        if (v !== "on" && v !== "off") fail(`Error: argument of "promisc" must be "on" or "off", not "${v}"`, 1);
        changes.push((n) => (n.promisc = v === "on" ? Math.max(1, n.promisc) : 0));
      } else if (dev === undefined) {
        dev = a;
      } else {
        fail(`Error: either "dev" is duplicate, or "${a}" is a garbage.`, 255);
      }
    }
    if (dev === undefined) fail('Not enough information: "dev" argument is required.', 255);
    const nic = findNic(host, dev, "cannot-find");
    for (const c of changes) c(nic);
    return "";
  }
  fail(`Command "${cmd}" is unknown, try "ip link help".`, 255);
}

/**
 * Bringing a device down removes every route through it and its neighbours (fib_disable_ip,
 * neigh_ifdown); bringing it up restores the connected routes of its addresses.
 */
function setUp(host: Host, nic: Nic, up: boolean): void {
  if (nic.up === up) return;
  nic.up = up;
  if (!up) {
    host.routes.remove((r) => r.dev === nic.name);
    host.neigh.flushDev(nic.name);
  } else if (!nic.isLoopback) {
    for (const a of nic.addrs) {
      if (a.plen < 32 && !isSecondary(nic, a)) {
        host.routes.add({ dst: a.addr, plen: a.plen, dev: nic.name, src: a.addr, metric: 0, proto: "kernel", scope: "link" });
      }
    }
  }
}

// ------------------------------------------------------------------ addr

function addrLines(nic: Nic): string {
  let out = "";
  for (const a of orderedAddrs(nic)) {
    const loop = a.addr >>> 24 === 127;
    const brd = !loop && a.plen < 31 && !noBroadcast.has(a) ? ` brd ${formatIp4(broadcastOf(a.addr, a.plen))}` : "";
    const scope = loop ? "host" : "global";
    const sec = isSecondary(nic, a) ? " secondary" : "";
    out += `    inet ${formatIp4(a.addr)}/${a.plen}${brd} scope ${scope}${sec} ${nic.name}\n`;
    out += "       valid_lft forever preferred_lft forever\n";
  }
  return out;
}

function ipAddr(host: Host, args: string[], opts: Opts): string {
  const cmd = args.shift();
  if (cmd === undefined || matches(cmd, "show") || matches(cmd, "list") || cmd === "lst") {
    const dev = showDevArg(args);
    const nics = dev !== undefined ? [findNic(host, dev, "not-exist")] : nicsByIndex(host);
    let out = "";
    for (const nic of nics) {
      if (opts.brief) {
        const addrs = orderedAddrs(nic).map((a) => `${formatIp4(a.addr)}/${a.plen} `).join("");
        out += `${padR(nic.name, 16)} ${padR(operState(nic), 14)} ${addrs}\n`;
        continue;
      }
      if (opts.four && nic.addrs.length === 0) continue;
      out += linkHeader(nic, false);
      if (!opts.four) out += linkLine(nic);
      if (opts.stats > 0 && !opts.four) out += statsBlock(nic);
      out += addrLines(nic);
    }
    return out;
  }
  if (matches(cmd, "add") || matches(cmd, "delete") || cmd === "replace" || cmd === "change") {
    const adding = !matches(cmd, "delete");
    let dev: string | undefined;
    let pfx: { addr: Ip4; plen: number } | undefined;
    let plenGiven = false;
    let brd: "none" | "auto" = "none";
    while (args.length > 0) {
      const a = args.shift()!;
      if (a === "dev") dev = args.shift();
      else if (a === "brd" || a === "broadcast") {
        const v = args.shift() ?? "";
        if (v === "+") brd = "auto";
        else if (parseIp4(v) !== undefined) brd = "auto";
        else if (v !== "-") fail(`Error: inet prefix is expected rather than "${v}".`, 1);
      } else if (a === "label" || a === "scope" || a === "valid_lft" || a === "preferred_lft") args.shift();
      else if (a === "local" || pfx === undefined) {
        const v = a === "local" ? args.shift() ?? "" : a;
        pfx = parsePrefix(v);
        if (!pfx) fail(`Error: any valid prefix is expected rather than "${v}".`, 1);
        plenGiven = v.includes("/");
      } else fail(`Error: either "local" is duplicate, or "${a}" is a garbage.`, 255);
    }
    if (dev === undefined) fail('Not enough information: "dev" argument is required.', 1);
    const nic = findNic(host, dev, "cannot-find");
    if (!pfx) fail("Error: ipv4: Address not found.", 2);
    if (adding) {
      const exists = nic.addrs.find((x) => x.addr === pfx.addr && x.plen === pfx.plen);
      if (exists) {
        if (cmd === "replace" || cmd === "change") return "";
        fail("Error: ipv4: Address already assigned.", 2);
      }
      const err = host.addAddress(nic.name, pfx.addr, pfx.plen);
      if (err === "EEXIST") fail("Error: ipv4: Address already assigned.", 2);
      const added = nic.addrs[nic.addrs.length - 1]!;
      if (brd === "none") noBroadcast.add(added);
      if (!nic.up) host.routes.remove((r) => r.proto === "kernel" && r.dev === nic.name && r.src === pfx.addr);
      if (isSecondary(nic, added)) host.routes.remove((r) => r.proto === "kernel" && r.dev === nic.name && r.src === pfx.addr);
      return "";
    }
    let target = nic.addrs.find((x) => x.addr === pfx.addr && (!plenGiven || x.plen === pfx.plen));
    if (!target) fail("Error: ipv4: Address not found.", 2);
    let warn = "";
    if (!plenGiven) {
      warn =
        `Warning: Executing wildcard deletion to stay compatible with old scripts.\n` +
        `         Explicitly specify the prefix length (${formatIp4(pfx.addr)}/${target.plen}) to avoid this warning.\n` +
        `         This special behaviour is likely to disappear in further releases,\n` +
        `         fix your scripts!\n`;
    }
    host.removeAddress(nic.name, target.addr, target.plen);
    if (warn) throw new IpWarning(warn);
    return "";
  }
  if (matches(cmd, "flush")) {
    let dev: string | undefined;
    while (args.length > 0) {
      const a = args.shift()!;
      if (a === "dev") dev = args.shift();
      else dev = a;
    }
    if (dev === undefined) fail("Flush requires arguments.", 255);
    const nic = findNic(host, dev, "not-exist");
    for (const a of [...nic.addrs].reverse()) host.removeAddress(nic.name, a.addr, a.plen);
    return "";
  }
  fail(`Command "${cmd}" is unknown, try "ip address help".`, 255);
}

/** A warning on stderr with success (wildcard address deletion). */
class IpWarning extends IpError {
  constructor(text: string) {
    super(text.replace(/\n$/, ""), 0);
  }
}

// ------------------------------------------------------------------ route

export function formatRoute(r: Route, withDev = true): string {
  let s = formatPrefix(r.dst, r.plen) + " ";
  if (r.gateway !== undefined) s += `via ${formatIp4(r.gateway)} `;
  if (withDev) s += `dev ${r.dev} `;
  if (r.proto !== "boot") s += `proto ${r.proto} `;
  if (r.scope !== "global") s += `scope ${r.scope} `;
  if (r.src !== undefined) s += `src ${formatIp4(r.src)} `;
  if (r.metric !== 0) s += `metric ${r.metric} `;
  return s + "\n";
}

interface RouteSpec {
  dst: Ip4;
  plen: number;
  gateway?: Ip4;
  dev?: string;
  src?: Ip4;
  metric?: number;
  scope?: Route["scope"];
  proto?: Route["proto"];
}

function parseRouteSpec(args: string[]): RouteSpec {
  let spec: RouteSpec | undefined;
  const set: Partial<RouteSpec> = {};
  while (args.length > 0) {
    const a = args.shift()!;
    const val = () => {
      const v = args.shift();
      if (v === undefined) fail(`Command line is not complete. Try option "help"`, 255);
      return v;
    };
    if (a === "via") {
      const v = val();
      const g = parseIp4(v);
      if (g === undefined) fail(`Error: inet address is expected rather than "${v}".`, 1);
      set.gateway = g;
    } else if (a === "dev" || a === "oif") set.dev = val();
    else if (a === "src") {
      const v = val();
      const s = parseIp4(v);
      if (s === undefined) fail(`Error: inet address is expected rather than "${v}".`, 1);
      set.src = s;
    } else if (a === "metric" || a === "priority" || a === "preference") {
      const v = val();
      if (!/^\d+$/.test(v)) fail(`Error: argument "${v}" is wrong: "metric" value is invalid\n`, 255);
      set.metric = Number(v);
    } else if (a === "proto" || a === "protocol") {
      const v = val();
      set.proto = v === "kernel" ? "kernel" : v === "static" ? "static" : "boot";
    } else if (a === "scope") {
      const v = val();
      set.scope = v === "link" ? "link" : v === "host" ? "host" : "global";
    } else if (a === "table") {
      const v = val();
      if (v !== "main" && v !== "254") fail(`Error: argument "${v}" is wrong: table id value is invalid\n`, 255);
    } else if (a === "onlink") {
      continue;
    } else if (spec === undefined) {
      const v = a === "to" ? val() : a;
      if (v === "default" || v === "0/0" || v === "any" || v === "all") spec = { dst: 0, plen: 0 };
      else {
        const p = parsePrefix(v);
        if (!p) fail(`Error: any valid prefix is expected rather than "${v}".`, 1);
        if (((p.addr & ~prefixToMask(p.plen)) >>> 0) !== 0) fail("Error: Invalid prefix for given prefix length.", 2);
        spec = { dst: p.addr, plen: p.plen };
      }
    } else fail(`Error: either "to" is duplicate, or "${a}" is a garbage.`, 255);
  }
  if (!spec) fail("Error: ipv4: Invalid prefix for given prefix length.", 2);
  return { ...spec, ...set };
}

/** A route exception's "expires 597sec mtu 1480 " (rt_fill_info: RTA_CACHEINFO and RTAX_MTU). */
function pmtuText(host: Host, dst: Ip4): string {
  const p = host.pmtu.get(dst);
  if (!p) return "";
  const left = Math.max(0, Math.floor((p.expires - host.world.now()) / 1_000_000));
  return `expires ${left}sec mtu ${p.locked ? "lock " : ""}${p.mtu} `;
}

/** `ip route show cache`: the learnt path MTUs (IPv4 has no other route cache since 3.6). */
function routeCacheList(host: Host): string {
  let out = "";
  for (const [dst] of host.pmtu.list()) {
    const rt = host.routeOutput(dst);
    if (!rt || rt.local) continue;
    const via = rt.nextHop !== dst ? `via ${formatIp4(rt.nextHop)} ` : "";
    out += `${formatIp4(dst)} ${via}dev ${rt.dev.name} \n    cache ${pmtuText(host, dst)}\n`;
  }
  return out;
}

function ipRoute(host: Host, args: string[], _opts: Opts): string {
  const cmd = args.shift();
  if (cmd === undefined || matches(cmd, "show") || matches(cmd, "list") || cmd === "lst") {
    let dev: string | undefined;
    if (args[0] === "cache") return routeCacheList(host);
    while (args.length > 0) {
      const a = args.shift()!;
      if (a === "dev") {
        dev = args.shift();
        if (dev !== undefined) findNic(host, dev, "cannot-find");
      } else if (a === "table") {
        const v = args.shift() ?? "";
        if (v !== "main" && v !== "254" && v !== "all") fail(`Error: argument "${v}" is wrong: table id value is invalid\n`, 255);
      }
    }
    return host.routes
      .list()
      .filter((r) => dev === undefined || r.dev === dev)
      .map((r) => formatRoute(r, dev === undefined))
      .join("");
  }
  if (matches(cmd, "get")) {
    let dst: Ip4 | undefined;
    while (args.length > 0) {
      const a = args.shift()!;
      if (a === "from" || a === "oif" || a === "iif" || a === "mark") {
        args.shift();
        continue;
      }
      if (a === "to") continue;
      const p = parsePrefix(a);
      if (!p) fail(`Error: any valid prefix is expected rather than "${a}".`, 1);
      dst = p.addr;
    }
    if (dst === undefined) fail("need at least a destination address", 1);
    const rt = host.routeOutput(dst);
    if (!rt) fail("RTNETLINK answers: Network is unreachable", 2);
    const d = formatIp4(dst);
    if (rt.local) return `local ${d} dev lo src ${formatIp4(rt.src)} uid 0 \n    cache <local> \n`;
    if (host.isBroadcastAddr(dst)) return `broadcast ${d} dev ${rt.dev.name} src ${formatIp4(rt.src)} uid 0 \n    cache <local,brd> \n`;
    const via = rt.nextHop !== dst ? `via ${formatIp4(rt.nextHop)} ` : "";
    return `${d} ${via}dev ${rt.dev.name} src ${formatIp4(rt.src)} uid 0 \n    cache ${pmtuText(host, dst)}\n`;
  }
  if (matches(cmd, "flush")) {
    let dev: string | undefined;
    while (args.length > 0) {
      const a = args.shift()!;
      if (a === "cache") {
        host.pmtu.flush();
        return "";
      }
      if (a === "dev") dev = args.shift();
    }
    if (dev === undefined) fail("\"ip route flush\" requires arguments.", 255);
    findNic(host, dev, "cannot-find");
    host.routes.remove((r) => r.dev === dev);
    return "";
  }
  const isAdd = matches(cmd, "add") || cmd === "append";
  const isDel = matches(cmd, "delete");
  const isReplace = matches(cmd, "replace") || matches(cmd, "change");
  if (!isAdd && !isDel && !isReplace) fail(`Command "${cmd}" is unknown, try "ip route help".`, 255);
  const spec = parseRouteSpec(args);
  if (spec.dev !== undefined) findNic(host, spec.dev, "cannot-find");
  if (isDel) {
    const n = host.routes.remove(
      (r) =>
        r.dst === spec.dst && r.plen === spec.plen &&
        (spec.gateway === undefined || r.gateway === spec.gateway) &&
        (spec.dev === undefined || r.dev === spec.dev) &&
        (spec.metric === undefined || r.metric === spec.metric),
    );
    if (n === 0) fail("RTNETLINK answers: No such process", 2);
    return "";
  }
  let dev = spec.dev;
  if (spec.gateway !== undefined) {
    // fib_check_nh: the gateway must be on a connected (scope link) route, not local.
    const gw = spec.gateway;
    const link = host.routes.lookup(gw, (r) => r.gateway === undefined && r.scope !== "global" && (dev === undefined || r.dev === dev));
    if (!link || host.isLocalAddr(gw) || (dev !== undefined && link.dev !== dev)) fail("Error: Nexthop has invalid gateway.", 2);
    dev ??= link.dev;
  }
  if (dev === undefined) fail("RTNETLINK answers: No such device", 2);
  if (spec.src !== undefined && !host.isLocalAddr(spec.src)) fail("Error: Invalid prefsrc address.", 2);
  const metric = spec.metric ?? 0;
  if (isReplace) host.routes.remove((r) => r.dst === spec.dst && r.plen === spec.plen && r.metric === metric);
  const err = host.routes.add({
    dst: spec.dst,
    plen: spec.plen,
    gateway: spec.gateway,
    dev,
    src: spec.src,
    metric,
    proto: spec.proto ?? "boot",
    scope: spec.scope ?? (spec.gateway !== undefined ? "global" : "link"),
  });
  if (err) fail("RTNETLINK answers: File exists", 2);
  return "";
}

// ------------------------------------------------------------------ neigh

function ipNeigh(host: Host, args: string[]): string {
  const cmd = args.shift();
  if (cmd === undefined || matches(cmd, "show") || matches(cmd, "list") || cmd === "lst") {
    let dev: string | undefined;
    while (args.length > 0) {
      const a = args.shift()!;
      if (a === "dev") {
        dev = args.shift();
        if (dev !== undefined) findNic(host, dev, "cannot-find");
      }
    }
    let out = "";
    for (const e of host.neigh.list()) {
      if (dev !== undefined && e.dev !== dev) continue;
      out += `${formatIp4(e.ip)} `;
      if (dev === undefined) out += `dev ${e.dev} `;
      if (e.mac !== undefined && e.state !== "INCOMPLETE" && e.state !== "FAILED") out += `lladdr ${formatMac(e.mac)} `;
      out += `${e.state} \n`;
    }
    return out;
  }
  if (matches(cmd, "flush")) {
    let dev: string | undefined;
    let all = false;
    while (args.length > 0) {
      const a = args.shift()!;
      if (a === "dev") dev = args.shift();
      else if (a === "all") all = true;
      else if (a === "nud") args.shift();
    }
    if (dev === undefined && !all) fail("Flush requires arguments.", 255);
    if (dev !== undefined) findNic(host, dev, "cannot-find");
    for (const e of host.neigh.list()) {
      if (dev !== undefined && e.dev !== dev) continue;
      if (e.state === "PERMANENT") continue;
      host.neigh.remove(e.dev, e.ip);
    }
    return "";
  }
  const isAdd = matches(cmd, "add");
  const isDel = matches(cmd, "delete");
  const isRepl = matches(cmd, "replace") || matches(cmd, "change");
  if (!isAdd && !isDel && !isRepl) fail(`Command "${cmd}" is unknown, try "ip neigh help".`, 255);
  let dst: Ip4 | undefined;
  let dev: string | undefined;
  let mac: number | undefined;
  let nud = "permanent";
  while (args.length > 0) {
    const a = args.shift()!;
    if (a === "dev") dev = args.shift();
    else if (a === "lladdr") {
      const v = args.shift() ?? "";
      mac = parseMac(v);
      if (mac === undefined) fail(`"${v}" is invalid lladdr.`, 1);
    } else if (a === "nud") nud = args.shift() ?? "";
    else if (a === "to" || dst === undefined) {
      const v = a === "to" ? args.shift() ?? "" : a;
      dst = parseIp4(v);
      if (dst === undefined) fail(`Error: inet address is expected rather than "${v}".`, 1);
    }
  }
  if (dst === undefined || dev === undefined) fail("Device and destination are required arguments.", 255);
  findNic(host, dev, "cannot-find");
  const existing = host.neigh.get(dev, dst);
  if (isDel) {
    if (!existing) fail("RTNETLINK answers: No such file or directory", 2);
    host.neigh.remove(dev, dst);
    return "";
  }
  if (isAdd && existing) fail("RTNETLINK answers: File exists", 2);
  if (mac === undefined) fail("Error: No link layer address given.", 2);
  host.neigh.addPermanent(dev, dst, mac);
  const e = host.neigh.get(dev, dst)!;
  if (nud === "stale") e.state = "STALE";
  else if (nud === "reachable") {
    e.state = "STALE";
    host.neigh.learn(dev, dst, mac, "reply");
  }
  return "";
}
