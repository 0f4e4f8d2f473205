/**
 * The `tcpdump` command (4.99.3 with libpcap 1.10.3, as on Debian 12): option parsing with
 * getopt's and tcpdump's messages, live capture from the host's NICs (`-i IF`, `-i any` as
 * Linux cooked v2), reading and writing pcap files in the host's file system, the filter
 * language, and the stderr banners and exit summary.
 *
 * A live capture runs until `-c N` packets were printed/written or the command is
 * interrupted; it then prints the statistics (and, when it was printing to stdout and was
 * interrupted, the empty line tcpdump writes just in case a line was cut).
 */
import type { CapturedFrame, Tool, ToolContext } from "../types.js";
import { vfsResolver } from "../ipvsadm/resolver.js";
import { compileFilter } from "./filter.js";
import { ARPHRD_ETHER, ARPHRD_IPGRE, ARPHRD_LOOPBACK, ARPHRD_TUNNEL, DEFAULT_SNAPLEN, LINKTYPE_EN10MB, LINKTYPE_RAW, LINKTYPE_SLL2, PcapWriter, linktypeText, rawToSll2, readPcap, toSll2 } from "./pcap.js";
import { Printer, type PrintOptions } from "./print.js";
import type { TcpdumpNames } from "./names.js";

const VERSION = "tcpdump version 4.99.3\nlibpcap version 1.10.3 (with TPACKET_V3)\nOpenSSL 3.0.19 27 Jan 2026\n";
const USAGE = `Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [--count]
\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]
\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]
\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]
\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]
\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]
\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]
\t\t[ -z postrotate-command ] [ -Z user ] [ expression ]
`;

/** getopt string of tcpdump 4.99.3 (letters followed by ':' take an argument). */
const SHORTOPTS = "aAbB:c:C:dDeE:fF:G:hHi:I:j:J:KlLm:M:nNOpq:Qr:s:StT:uUvV:w:W:xXy:Yz:Z:#";
const SHORT_WITH_ARG = new Set<string>();
const SHORT_FLAGS = new Set<string>();
for (let i = 0; i < SHORTOPTS.length; i++) {
  const c = SHORTOPTS[i]!;
  if (SHORTOPTS[i + 1] === ":") { SHORT_WITH_ARG.add(c); i++; } else SHORT_FLAGS.add(c);
}
// -q and -Q: in 4.99.3 `q` is a flag and `Q` takes an argument.
SHORT_WITH_ARG.delete("q"); SHORT_FLAGS.add("q");
SHORT_FLAGS.delete("Q"); SHORT_WITH_ARG.add("Q");

const LONGOPTS: ReadonlyMap<string, { arg: boolean; short?: string }> = new Map([
  ["buffer-size", { arg: true, short: "B" }], ["count", { arg: false }], ["help", { arg: false, short: "h" }],
  ["interface", { arg: true, short: "i" }], ["immediate-mode", { arg: false }],
  ["list-interfaces", { arg: false, short: "D" }], ["list-time-stamp-types", { arg: false, short: "J" }],
  ["micro", { arg: false }], ["nano", { arg: false }], ["number", { arg: false, short: "#" }],
  ["print", { arg: false }], ["direction", { arg: true, short: "Q" }], ["snapshot-length", { arg: true, short: "s" }],
  ["time-stamp-precision", { arg: true }], ["time-stamp-type", { arg: true, short: "j" }],
  ["version", { arg: false }], ["relinquish-privileges", { arg: true, short: "Z" }],
  ["monitor-mode", { arg: false, short: "I" }], ["dont-verify-checksums", { arg: false, short: "K" }],
  ["no-promiscuous-mode", { arg: false, short: "p" }], ["list-data-link-types", { arg: false, short: "L" }],
  ["linktype", { arg: true, short: "y" }], ["fp-type", { arg: true }],
]);

interface Opts {
  count?: number;
  iface?: string;
  read?: string;
  write?: string;
  snaplen: number;
  nano: boolean;
  number: boolean;
  print: boolean;
  direction?: "in" | "out" | "inout";
  listIfaces: boolean;
  countOnly: boolean;
  p: PrintOptions & { numeric: number; verbose: number; quiet: number; tsFormat: number; hex: number; hexAscii: number; ascii: number };
  expr: string[];
}

class Usage { constructor(readonly msg: string) {} }
class Fatal { constructor(readonly msg: string) {} }

function parseArgs(argv: readonly string[]): Opts | "help" | "version" {
  const o: Opts = {
    snaplen: DEFAULT_SNAPLEN, nano: false, number: false, print: false, listIfaces: false, countOnly: false,
    p: { numeric: 0, verbose: 0, quiet: 0, tsFormat: 0, hex: 0, hexAscii: 0, ascii: 0 }, expr: [],
  };
  let help = false, version = false;
  const apply = (c: string, arg: string | undefined): void => {
    switch (c) {
      case "A": o.p.ascii++; break;
      case "c": {
        const n = /^[0-9]+$/.test(arg!) ? Number(arg) : NaN;
        if (!(n > 0) || n > 0x7fffffff) throw new Fatal(`invalid packet count ${arg}`);
        o.count = n;
        break;
      }
      case "D": o.listIfaces = true; break;
      case "e": o.p.link = true; break;
      case "h": help = true; break;
      case "i": o.iface = arg; break;
      case "n": o.p.numeric++; break;
      case "q": o.p.quiet++; break;
      case "Q": {
        if (arg !== "in" && arg !== "out" && arg !== "inout") throw new Fatal(`unknown capture direction \`${arg}'`);
        o.direction = arg;
        break;
      }
      case "r": o.read = arg; break;
      case "s": {
        const n = /^-?[0-9]+$/.test(arg!) ? Number(arg) : NaN;
        if (!(n >= 0 && n <= 262144)) throw new Fatal(`invalid snaplen ${arg} (must be >= 0 and <= 262144)`);
        o.snaplen = n === 0 ? DEFAULT_SNAPLEN : n;
        break;
      }
      case "S": o.p.absoluteSeq = true; break;
      case "t": o.p.tsFormat++; break;
      case "v": o.p.verbose++; break;
      case "w": o.write = arg; break;
      case "x": o.p.hex++; break;
      case "X": o.p.hexAscii++; break;
      case "y": if (arg !== "EN10MB") throw new Fatal(`invalid data link type ${arg}`); break;
      case "#": o.number = true; break;
      default: break; // accepted and ignored: -l -U -p -K -N -O -f -b -B …
    }
  };
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") { i++; break; }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const matches = [...LONGOPTS.keys()].filter((k) => k === name || k.startsWith(name));
      const exact = LONGOPTS.has(name) ? name : matches.length === 1 ? matches[0] : undefined;
      if (exact === undefined) {
        throw new Usage(matches.length > 1 ? `option '${a}' is ambiguous` : `unrecognized option '${a}'`);
      }
      const spec = LONGOPTS.get(exact)!;
      let arg: string | undefined;
      if (spec.arg) {
        if (eq >= 0) arg = a.slice(eq + 1);
        else if (i + 1 < argv.length) arg = argv[++i];
        else throw new Usage(`option '--${exact}' requires an argument`);
      } else if (eq >= 0) throw new Usage(`option '--${exact}' doesn't allow an argument`);
      if (spec.short) apply(spec.short, arg);
      else switch (exact) {
        case "count": o.countOnly = true; break;
        case "version": version = true; break;
        case "nano": o.nano = true; break;
        case "micro": o.nano = false; break;
        case "print": o.print = true; break;
        case "time-stamp-precision":
          if (arg === "nano") o.nano = true;
          else if (arg === "micro") o.nano = false;
          else throw new Fatal("unsupported time stamp precision");
          break;
        default: break;
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (SHORT_WITH_ARG.has(c)) {
          let arg: string;
          if (j + 1 < a.length) arg = a.slice(j + 1);
          else if (i + 1 < argv.length) arg = argv[++i]!;
          else throw new Usage(`option requires an argument -- '${c}'`);
          apply(c, arg);
          break;
        }
        if (!SHORT_FLAGS.has(c)) throw new Usage(`invalid option -- '${c}'`);
        apply(c, undefined);
      }
      continue;
    }
    // GNU getopt permutes: operands may come before options.
    o.expr.push(a);
  }
  for (; i < argv.length; i++) o.expr.push(argv[i]!);
  if (help) return "help";
  if (version) return "version";
  return o;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Names for hosts and ports without -n: the host's hook if any, else /etc/hosts and /etc/services. */
function namesFor(ctx: ToolContext): TcpdumpNames {
  const hook = ctx.host["tcpdumpNames"] as TcpdumpNames | undefined;
  const r = vfsResolver(ctx.host.fs);
  return {
    host: (ip) => hook?.host?.(ip) ?? r.hostByAddr(ip),
    tcpPort: (p) => hook?.tcpPort?.(p) ?? r.serviceByPort(p, "tcp"),
    udpPort: (p) => hook?.udpPort?.(p) ?? r.serviceByPort(p, "udp"),
  };
}

export const tcpdump: Tool = async (ctx) => {
  const { io } = ctx;
  let o: Opts;
  try {
    const r = parseArgs(ctx.argv);
    if (r === "help") { io.stdout(VERSION + USAGE); return 0; }
    if (r === "version") { io.stdout(VERSION); return 0; }
    o = r;
  } catch (e) {
    if (e instanceof Usage) { io.stderr(`tcpdump: ${e.msg}\n${VERSION}${USAGE}`); return 1; }
    if (e instanceof Fatal) { io.stderr(`tcpdump: ${e.msg}\n`); return 1; }
    throw e;
  }
  try {
    return await run(ctx, o);
  } catch (e) {
    if (e instanceof Fatal) { io.stderr(`tcpdump: ${e.msg}\n`); return 1; }
    throw e;
  }
};

async function run(ctx: ToolContext, o: Opts): Promise<number> {
  const { io } = ctx;
  const fs = ctx.host.fs;
  const cap = ctx.host.capture;
  if (o.listIfaces) {
    const ifs = cap.interfaces();
    let n = 1;
    const lines: string[] = [];
    for (const name of ifs.filter((x) => x !== "lo")) lines.push(`${n++}.${name} [Up, Running, Connected]`);
    lines.push(`${n++}.any (Pseudo-device that captures on all interfaces) [Up, Running]`);
    if (ifs.includes("lo")) lines.push(`${n++}.lo [Up, Running, Loopback]`);
    io.stdout(lines.join("\n") + "\n");
    return 0;
  }
  const names = namesFor(ctx);
  const tz = ctx.env.get("TZ") ?? "UTC";
  const filterText = o.expr.join(" ");

  // ---- reading a file ------------------------------------------------------------------
  if (o.read !== undefined) {
    const data = fs.read(o.read);
    if (typeof data === "string") throw new Fatal(`${o.read}: ${errnoText(data)}`);
    const file = readPcap(data);
    if (typeof file === "string") throw new Fatal(file);
    const f = compileFilter(filterText, { linktype: file.linktype, names: { hostAddr: (n) => vfsResolver(fs).addrByHost(n) } });
    if (!f.ok) throw new Fatal(f.error);
    const sll2Names = ctx.host.capture.interfaces();
    const printer = new Printer({ ...o.p, tz, nano: o.nano, names, ifnameByIndex: (i) => sll2Names[i - 1] }, file.linktype);
    io.stderr(`reading from file ${o.read}, link-type ${linktypeText(file.linktype)}, snapshot length ${file.snaplen}\n`);
    if (file.linktype === LINKTYPE_SLL2) io.stderr("Warning: interface names might be incorrect\n");
    if (file.linktype !== LINKTYPE_EN10MB && file.linktype !== LINKTYPE_SLL2 && file.linktype !== LINKTYPE_RAW) {
      throw new Fatal(`unknown data link type ${file.linktype} (min 104, max 289)`);
    }
    const writer = o.write !== undefined ? new PcapWriter({ linktype: file.linktype, snaplen: o.snaplen, nano: o.nano }) : undefined;
    if (writer) writeOut(ctx, o.write!, writer, false);
    let n = 0;
    let out = "";
    for (const rec of file.records) {
      const data = rec.data.length > o.snaplen ? rec.data.subarray(0, o.snaplen) : rec.data;
      if (!f.match(data, rec.origLen)) continue;
      n++;
      if (writer) {
        writer.add(rec.sec * 1e6 + Math.floor(rec.nsec / 1000), data, rec.origLen, rec.nsec);
        writeOut(ctx, o.write!, writer, true);
        if (o.print) out += printer.format({ ...rec, data });
      } else if (!o.countOnly) {
        out += (o.number ? `${String(n).padStart(5)}  ` : "") + printer.format({ ...rec, data });
      }
      if (out.length > 65536) { io.stdout(out); out = ""; }
      if (o.count !== undefined && n >= o.count) break;
    }
    if (out) io.stdout(out);
    if (file.error && !(o.count !== undefined && n >= o.count)) throw new Fatal(`pcap_loop: ${file.error}`);
    if (o.countOnly) io.stdout(`${plural(n, "packet")}\n`);
    return 0;
  }

  // ---- live capture ----------------------------------------------------------------------
  const ifs = cap.interfaces();
  const ifname = o.iface ?? ifs.find((x) => x !== "lo") ?? "lo";
  if (ifname !== "any" && !ifs.includes(ifname)) {
    throw new Fatal(`${ifname}: No such device exists\n(No such device exists)`);
  }
  const any = ifname === "any";
  const hatype = (n: string): number => cap.hatype?.(n) ?? (n === "lo" ? ARPHRD_LOOPBACK : ARPHRD_ETHER);
  const tunnel = (n: string): boolean => hatype(n) === ARPHRD_TUNNEL || hatype(n) === ARPHRD_IPGRE;
  // A tunnel device has no link header: its packets are raw IP (DLT_RAW).
  const linktype = any ? LINKTYPE_SLL2 : tunnel(ifname) ? LINKTYPE_RAW : LINKTYPE_EN10MB;
  if (any) io.stderr("tcpdump: data link type LINUX_SLL2\n");
  const f = compileFilter(filterText, { linktype, live: true, names: { hostAddr: (n) => vfsResolver(fs).addrByHost(n) } });
  if (!f.ok) throw new Fatal(f.error);
  const printer = new Printer({ ...o.p, tz, nano: o.nano, names, ifnameByIndex: (i) => ifs[i - 1] }, linktype);
  const writer = o.write !== undefined ? new PcapWriter({ linktype, snaplen: o.snaplen, nano: o.nano }) : undefined;
  if (writer) writeOut(ctx, o.write!, writer, false);
  const banner = `listening on ${ifname}, link-type ${linktypeText(linktype)}, snapshot length ${o.snaplen} bytes\n`;
  if (o.p.verbose || writer) io.stderr(`tcpdump: ${banner}`);
  else io.stderr(`tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n${banner}`);

  let captured = 0, received = 0;
  let finish!: () => void;
  const done = new Promise<void>((res) => { finish = res; });
  let stopped = false;
  const onFrame = (cf: CapturedFrame): void => {
    if (stopped) return;
    // The kernel hands a packet sent on lo to packet sockets twice, outgoing and incoming;
    // libpcap (linux_check_direction) drops the outgoing copy, so lo packets are "In" — the
    // host taps lo once, when it sends.
    const loop = cf.ifname === "lo";
    const dir = loop ? "in" : cf.dir;
    if (o.direction === "in" && dir !== "in") return;
    if (o.direction === "out" && dir !== "out") return;
    const frame = !any ? cf.frame
      : tunnel(cf.ifname) ? rawToSll2(cf.frame, ifs.indexOf(cf.ifname) + 1, cf.dir === "out" ? 4 : 0, hatype(cf.ifname))
      : toSll2(cf.frame, ifs.indexOf(cf.ifname) + 1, loop ? 0 : pkttype(cf), loop ? ARPHRD_LOOPBACK : ARPHRD_ETHER);
    const wire = frame.length;
    const data = wire > o.snaplen ? frame.subarray(0, o.snaplen) : frame;
    if (!f.match(data, wire, dir)) return;
    received++;
    captured++;
    const us = ctx.epochMicros(cf.ts);
    const sec = Math.floor(us / 1e6);
    const nsec = (us - sec * 1e6) * 1000;
    if (writer) {
      writer.add(us, data, wire);
      writeOut(ctx, o.write!, writer, true);
      if (o.print) io.stdout(printer.format({ sec, nsec, data, origLen: wire }));
    } else {
      io.stdout((o.number ? `${String(captured).padStart(5)}  ` : "") + printer.format({ sec, nsec, data, origLen: wire }));
    }
    if (o.count !== undefined && captured >= o.count) { stopped = true; finish(); }
  };
  const stop = cap.tap(ifname, onFrame);
  if (stop === "ENODEV") throw new Fatal(`${ifname}: No such device exists\n(No such device exists)`);
  const how = await Promise.race([done.then(() => "count" as const), ctx.interrupted]);
  stopped = true;
  stop();
  if (how !== "count" && !writer) io.stdout("\n");
  io.stderr(`${plural(captured, "packet")} captured\n${plural(received, "packet")} received by filter\n0 packets dropped by kernel\n`);
  return 0;
}

/** Linux packet type of a frame as `-i any` reports it. */
function pkttype(cf: CapturedFrame): number {
  if (cf.dir === "out") return 4;
  const b = cf.frame;
  if (b.length >= 6 && b[0] === 0xff && b[1] === 0xff && b[2] === 0xff && b[3] === 0xff && b[4] === 0xff && b[5] === 0xff) return 1;
  if (b.length >= 1 && (b[0]! & 1)) return 2;
  return 0;
}

/** Writes the pcap bytes (whole file on the first call, appends afterwards). */
function writeOut(ctx: ToolContext, path: string, w: PcapWriter, append: boolean): void {
  const r = ctx.host.fs.write(path, w.take(), { append });
  if (r !== true) throw new Fatal(`${path}: ${errnoText(r)}`);
}

function errnoText(e: string): string {
  switch (e) {
    case "ENOENT": return "No such file or directory";
    case "EISDIR": return "Is a directory";
    case "EACCES": return "Permission denied";
    case "ENOTDIR": return "Not a directory";
    case "EPERM": return "Operation not permitted";
    default: return e;
  }
}
