/**
 * ipvsadm 1.31's command logic: parse_options (popt), generic_opt_check (the legality
 * table), the per-command checks of process_options, the kernel calls and their error
 * texts, and restore_table. Control flow mirrors ipvsadm.c: `fail()` prints and exits the
 * whole process (even inside `-R`), kernel errors print ipvs_strerror() and return -1
 * (exit status 255), listing errors exit 1.
 */
import {
  FwdMethod,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SVC_F_ONEPACKET,
  SVC_F_PERSISTENT,
  SVC_F_SCHED1,
  SVC_F_SCHED2,
  SVC_F_SCHED3,
  type DestSpec,
  type IpvsControl,
  type IpvsErrno,
  type ServiceKey,
  type TunType,
} from "../../ipvs/api.js";
import type { ToolIo } from "../types.js";
import {
  formatConns,
  formatDaemons,
  formatListAll,
  formatListService,
  formatTimeout,
  TUN_F_CSUM,
  TUN_F_NOCSUM,
  TUN_F_REMCSUM,
  type ListFormat,
} from "./format.js";
import { ipvsStrerror, IPVSADM_VERSION_LINE, tryHelpText, usageText, type Errno, type IpvsFunc } from "./messages.js";
import { PoptContext, poptStrerror, type PoptOption } from "./popt.js";
import { atoi, formatIp4 as formatIp4Text, inetAton, inetPton4, isInet6, stringToNumber, type NameResolver } from "./resolver.js";
import { formatLaddrTitle, formatServiceLaddrs } from "./laddr.js";

/** Thrown to end the whole ipvsadm process (C exit()). */
export class IpvsadmExit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

// --- commands and options ------------------------------------------------------------------

const enum Cmd {
  None = 0, Add, Edit, Del, Flush, List, AddDest, DelDest, EditDest, Timeout, StartDaemon, StopDaemon, Restore, Save, Zero,
  // lvslab extension (Alibaba LVS / DPVS ipvsadm): FullNAT local addresses.
  AddLaddr, DelLaddr, GetLaddr,
}

const CMD_NAMES = [
  "add-service", "edit-service", "delete-service", "flush", "list", "add-server", "delete-server",
  "edit-server", "set", "start-daemon", "stop-daemon", "restore", "save", "zero",
  "add-laddr", "del-laddr", "get-laddr",
];

/** Option indices (OPTC_*), in the order of the legality table. */
const enum O {
  Numeric, Connection, Service, Scheduler, Persistent, Netmask, Server, Forward, Weight, UThreshold,
  LThreshold, Mcast, Timeout, Daemon, Stats, Rate, Thresholds, PersistentConn, NoSort, SyncId, Exact,
  OnePacket, Pe, SchedFlags, McastGroup, McastPort, McastTtl, SyncMaxlen, TunInfo, TunType, TunPort,
  TunNocsum, TunCsum, TunRemcsum, Laddr, ProxyProtocol,
}
const NUMBER_OF_OPT = 36;

const OPT_NAMES = [
  "numeric", "connection", "service-address", "scheduler", "persistent", "netmask", "real-server",
  "forwarding-method", "weight", "u-threshold", "l-threshold", "mcast-interface", "timeout", "daemon",
  "stats", "rate", "thresholds", "persistent-conn", "nosort", "syncid", "exact", "ops", "pe",
  "sched-flags", "mcast-group", "mcast-port", "mcast-ttl", "sync-maxlen", "tun-info", "tun-type",
  "tun-port", "tun-nocsum", "tun-csum", "tun-remcsum", "local-address", "proxy-protocol",
];

/**
 * commands_v_options: per command, per option: '+' compulsory, 'x' illegal,
 * '1' at most one of the '1's, ' ' optional. Columns in OPT_NAMES order.
 */
const LEGALITY: readonly string[] = [
  /* add-service    */ "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxx ",
  /* edit-service   */ "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxx ",
  /* delete-service */ "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  /* flush          */ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  /* list           */ " 11xxxxxxxxx11       xxxxxxx xxxxxxx",
  /* add-server     */ "xx+xxx+    xxxxxxxxxxxxxxxxxx     xx",
  /* delete-server  */ "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  /* edit-server    */ "xx+xxx+    xxxxxxxxxxxxxxxxxx     xx",
  /* set            */ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  /* start-daemon   */ "xxxxxxxxxxx xxxxxxx xxxx    xxxxxxxx",
  /* stop-daemon    */ "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxxxx",
  /* restore        */ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  /* save           */ " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  /* zero           */ "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  // lvslab extension rows (Alibaba's ipvsadm: add/del need the service and -z; get may name a service)
  /* add-laddr      */ "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+x",
  /* del-laddr      */ "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+x",
  /* get-laddr      */ "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

const TUN_NAMES = ["ipip", "gue", "gre"] as const;
/** tunnel_types_v_options over (tun-port, tun-nocsum, tun-csum, tun-remcsum). */
const TUN_LEGALITY = ["xxxx", "+111", "x11x"];
const TUN_OPTS = [O.TunPort, O.TunNocsum, O.TunCsum, O.TunRemcsum];

const OPTIONS: readonly PoptOption[] = [
  { long: "add-service", short: "A", kind: "none", val: "A" },
  { long: "edit-service", short: "E", kind: "none", val: "E" },
  { long: "delete-service", short: "D", kind: "none", val: "D" },
  { long: "clear", short: "C", kind: "none", val: "C" },
  { long: "list", short: "L", kind: "none", val: "L" },
  { long: "list", short: "l", kind: "none", val: "l" },
  { long: "zero", short: "Z", kind: "none", val: "Z" },
  { long: "add-server", short: "a", kind: "none", val: "a" },
  { long: "edit-server", short: "e", kind: "none", val: "e" },
  { long: "delete-server", short: "d", kind: "none", val: "d" },
  { long: "set", kind: "none", val: "set" },
  { long: "help", short: "h", kind: "none", val: "h" },
  { long: "version", short: "v", kind: "none", val: "v" },
  { long: "restore", short: "R", kind: "none", val: "R" },
  { long: "save", short: "S", kind: "none", val: "S" },
  { long: "start-daemon", kind: "string", val: "start-daemon" },
  { long: "stop-daemon", kind: "string", val: "stop-daemon" },
  { long: "tcp-service", short: "t", kind: "string", val: "t" },
  { long: "udp-service", short: "u", kind: "string", val: "u" },
  { long: "sctp-service", kind: "string", val: "sctp-service" },
  { long: "fwmark-service", short: "f", kind: "string", val: "f" },
  { long: "scheduler", short: "s", kind: "string", val: "s" },
  { long: "persistent", short: "p", kind: "optional", val: "p" },
  { long: "netmask", short: "M", kind: "string", val: "M" },
  { long: "real-server", short: "r", kind: "string", val: "r" },
  { long: "masquerading", short: "m", kind: "none", val: "m" },
  { long: "ipip", short: "i", kind: "none", val: "i" },
  { long: "gatewaying", short: "g", kind: "none", val: "g" },
  { long: "weight", short: "w", kind: "string", val: "w" },
  { long: "u-threshold", short: "x", kind: "string", val: "x" },
  { long: "l-threshold", short: "y", kind: "string", val: "y" },
  { long: "numeric", short: "n", kind: "none", val: "n" },
  { long: "connection", short: "c", kind: "none", val: "c" },
  { long: "mcast-interface", kind: "string", val: "mcast-interface" },
  { long: "syncid", kind: "string", val: "syncid" },
  { long: "timeout", kind: "none", val: "timeout" },
  { long: "daemon", kind: "none", val: "daemon" },
  { long: "stats", kind: "none", val: "stats" },
  { long: "rate", kind: "none", val: "rate" },
  { long: "thresholds", kind: "none", val: "thresholds" },
  { long: "persistent-conn", kind: "none", val: "persistent-conn" },
  { long: "nosort", kind: "none", val: "nosort" },
  { long: "sort", kind: "none", val: "sort" },
  { long: "exact", short: "X", kind: "none", val: "X" },
  { long: "ipv6", short: "6", kind: "none", val: "6" },
  { long: "ops", short: "o", kind: "none", val: "o" },
  { long: "pe", kind: "string", val: "pe" },
  { long: "sched-flags", short: "b", kind: "string", val: "b" },
  { long: "mcast-group", kind: "string", val: "mcast-group" },
  { long: "mcast-port", kind: "string", val: "mcast-port" },
  { long: "mcast-ttl", kind: "string", val: "mcast-ttl" },
  { long: "sync-maxlen", kind: "string", val: "sync-maxlen" },
  { long: "tun-info", kind: "none", val: "tun-info" },
  { long: "tun-type", kind: "string", val: "tun-type" },
  { long: "tun-port", kind: "string", val: "tun-port" },
  { long: "tun-nocsum", kind: "none", val: "tun-nocsum" },
  { long: "tun-csum", kind: "none", val: "tun-csum" },
  { long: "tun-remcsum", kind: "none", val: "tun-remcsum" },
  // lvslab extension: FullNAT as Alibaba's and DPVS's ipvsadm spell it, in long form only:
  // their -b is 1.31's --sched-flags, and their -P/-Q/-G are unknown options to 1.31 whose
  // recorded behaviour (`ipvsadm -Q` -> "Try `ipvsadm -h'...", golden ipvsadm-errors) stays.
  // -z, which no 1.31 command reaches, keeps their short form.
  { long: "fullnat", kind: "none", val: "fullnat" },
  { long: "add-laddr", kind: "none", val: "P" },
  { long: "del-laddr", kind: "none", val: "Q" },
  { long: "get-laddr", kind: "none", val: "G" },
  { long: "laddr", short: "z", kind: "string", val: "z" },
  // DPVS's service option (long only there too): PROXY protocol inserted by the director.
  { long: "proxy-protocol", kind: "string", val: "proxy-protocol" },
];

const MAX_TIMEOUT = 86400 * 31;
const DEFAULT_PERSISTENT_TIMEOUT = 360;
const DEF_SCHED = "wlc";
const DEF_MCAST_IFN = "eth0";

// --- the command entry (struct ipvs_command_entry) ---------------------------------------------

type Af = 0 | 4 | 6;

/** An address as parse_service leaves it: IPv4 as a number, IPv6 kept as text. */
interface ParsedAddr {
  af: Af;
  addr: number;
  addr6?: string;
  port: number;
}

interface SvcEntry extends ParsedAddr {
  /** --proxy-protocol (DPVS extension): 0 disable, 1, 2. */
  pp: 0 | 1 | 2;
  protocol: number;
  fwmark: number;
  sched: string;
  flags: number;
  timeout: number;
  netmask: number;
  pe: string;
}

interface DestEntryIn extends ParsedAddr {
  fwd: FwdMethod;
  weight: number;
  uThreshold: number;
  lThreshold: number;
  tunType: 0 | 1 | 2;
  tunPort: number;
  tunFlags: number;
}

interface DaemonIn {
  state: "master" | "backup";
  mcastIfn: string;
  syncId: number;
  group: number;
  groupAf: Af;
  port: number;
  ttl: number;
  maxLen: number;
}

interface CommandEntry {
  cmd: Cmd;
  /** -z local address (FullNAT extension). */
  laddr: number;
  svc: SvcEntry;
  dest: DestEntryIn;
  timeout: { tcp: number; tcpfin: number; udp: number };
  daemon: DaemonIn;
}

const SERVICE_ADDR = 1;
const SERVICE_PORT = 2;

/** The run-time environment of one ipvsadm process. */
export interface IpvsadmEnv {
  readonly io: ToolIo;
  readonly ctl: IpvsControl;
  readonly resolver: NameResolver;
}

/** One ipvsadm process: argv[0] as typed. */
export class Ipvsadm {
  /** libipvs's ipvs_func: which call the next error message is about. */
  private func: IpvsFunc = "init";

  constructor(private readonly env: IpvsadmEnv) {}

  private out(s: string): void {
    if (s) this.env.io.stdout(s);
  }

  private fail(status: number, msg: string): never {
    this.env.io.stderr(msg + "\n");
    throw new IpvsadmExit(status);
  }

  /** main(): returns the exit status. */
  main(argv: readonly string[]): number {
    const info = this.env.ctl.info();
    const v = info.version.split(".").map((x) => Number(x) || 0);
    const code = ((v[0] ?? 0) << 16) | ((v[1] ?? 0) << 8) | (v[2] ?? 0);
    if (code < 0x010104)
      this.env.io.stderr(
        "Warning: IPVS version mismatch: \n" +
          `  Kernel compiled with IPVS version ${v[0] ?? 0}.${v[1] ?? 0}.${v[2] ?? 0}\n` +
          "  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n",
      );
    try {
      if (argv.length <= 1) {
        this.listAll({});
        return 0;
      }
      return this.processOptions(argv, false) & 255;
    } catch (e) {
      if (e instanceof IpvsadmExit) return e.status & 255;
      throw e;
    }
  }

  // --- parsing -------------------------------------------------------------------------------

  private parseOptions(argv: readonly string[], ce: CommandEntry, opts: { set: bigint }, fmt: ListFormat): number {
    const program = argv[0] ?? "ipvsadm";
    const ctx = new PoptContext(argv, OPTIONS);
    const tryhelp = (): never => {
      this.env.io.stderr(tryHelpText(program));
      throw new IpvsadmExit(255);
    };
    const setOption = (o: O): void => {
      const bit = 1n << BigInt(o);
      if (opts.set & bit) this.fail(2, `multiple '${OPT_NAMES[o]}' options specified`);
      opts.set |= bit;
    };

    let r = ctx.getNextOpt();
    if (r.kind !== "opt") return tryhelp();
    const first = r;
    switch (first.val) {
      case "A": ce.cmd = Cmd.Add; break;
      case "E": ce.cmd = Cmd.Edit; break;
      case "D": ce.cmd = Cmd.Del; break;
      case "a": ce.cmd = Cmd.AddDest; break;
      case "e": ce.cmd = Cmd.EditDest; break;
      case "d": ce.cmd = Cmd.DelDest; break;
      case "C": ce.cmd = Cmd.Flush; break;
      case "L":
      case "l": ce.cmd = Cmd.List; break;
      case "Z": ce.cmd = Cmd.Zero; break;
      case "set": ce.cmd = Cmd.Timeout; break;
      case "R": ce.cmd = Cmd.Restore; break;
      case "S": ce.cmd = Cmd.Save; break;
      case "P": ce.cmd = Cmd.AddLaddr; break;
      case "Q": ce.cmd = Cmd.DelLaddr; break;
      case "G": ce.cmd = Cmd.GetLaddr; break;
      case "start-daemon":
      case "stop-daemon": {
        const start = first.val === "start-daemon";
        ce.cmd = start ? Cmd.StartDaemon : Cmd.StopDaemon;
        if (first.arg === "master" || first.arg === "backup") ce.daemon.state = first.arg;
        else this.fail(2, start ? "illegal start-daemon parameter specified" : "illegal start_daemon specified");
        break;
      }
      case "h":
        this.out(usageText(program));
        throw new IpvsadmExit(0);
      case "v":
        this.out(IPVSADM_VERSION_LINE);
        throw new IpvsadmExit(0);
      default:
        return tryhelp();
    }

    let schedFlagsArg = "";
    for (r = ctx.getNextOpt(); r.kind === "opt"; r = ctx.getNextOpt()) {
      const arg = r.arg;
      const a = arg ?? "";
      switch (r.val) {
        case "t":
        case "u":
        case "sctp-service": {
          setOption(O.Service);
          ce.svc.protocol = r.val === "t" ? IPPROTO_TCP : r.val === "u" ? IPPROTO_UDP : IPPROTO_SCTP;
          const parse = this.parseService(a, ce.svc, ce.svc.protocol);
          if (!(parse & SERVICE_ADDR)) this.fail(2, "illegal virtual server address[:port] specified");
          break;
        }
        case "f":
          setOption(O.Service);
          ce.svc.af = 4;
          ce.svc.protocol = IPPROTO_TCP;
          ce.svc.fwmark = this.parseFwmark(a);
          break;
        case "s":
          setOption(O.Scheduler);
          ce.svc.sched = a.slice(0, 15);
          break;
        case "p":
          setOption(O.Persistent);
          ce.svc.flags |= SVC_F_PERSISTENT;
          ce.svc.timeout = this.parseTimeout(arg, 1, MAX_TIMEOUT);
          break;
        case "M":
          setOption(O.Netmask);
          if (ce.svc.af !== 6) {
            const m = inetAton(a) ?? this.env.resolver.addrByHost(a);
            if (m === undefined) this.fail(2, "illegal virtual server persistent mask specified");
            ce.svc.netmask = m;
          } else {
            ce.svc.netmask = atoi(a);
            if (ce.svc.netmask < 1 || ce.svc.netmask > 128) this.fail(2, "illegal ipv6 netmask specified");
          }
          break;
        case "r": {
          setOption(O.Server);
          const t: ParsedAddr = { af: ce.svc.af, addr: ce.svc.addr, addr6: ce.svc.addr6, port: ce.svc.port };
          const parse = this.parseService(a, t, ce.svc.protocol);
          ce.dest.af = t.af;
          ce.dest.addr = t.addr;
          ce.dest.addr6 = t.addr6;
          ce.dest.port = t.port;
          if (!(parse & SERVICE_ADDR)) this.fail(2, "illegal real server address[:port] specified");
          if (parse === SERVICE_ADDR) ce.dest.port = ce.svc.port;
          break;
        }
        case "i":
          setOption(O.Forward);
          ce.dest.fwd = FwdMethod.Tunnel;
          break;
        case "g":
          setOption(O.Forward);
          ce.dest.fwd = FwdMethod.Route;
          break;
        case "m":
          setOption(O.Forward);
          ce.dest.fwd = FwdMethod.Masq;
          break;
        case "fullnat":
          setOption(O.Forward);
          ce.dest.fwd = FwdMethod.FullNat;
          break;
        case "proxy-protocol": {
          setOption(O.ProxyProtocol);
          // DPVS's proxy_protocol_type, without its -insecure variants (not modelled).
          const v = a.toLowerCase();
          if (v === "v1") ce.svc.pp = 1;
          else if (v === "v2") ce.svc.pp = 2;
          else if (v === "disable") ce.svc.pp = 0;
          else this.fail(2, `invalid proxy-protocol \`${a}' specified (v1, v2 or disable)`);
          break;
        }
        case "z": {
          setOption(O.Laddr);
          // Alibaba's ipvsadm parses -z with parse_service: an address, a port is ignored.
          const t: ParsedAddr = { af: 0, addr: 0, port: 0 };
          if (!(this.parseService(a, t, ce.svc.protocol) & SERVICE_ADDR)) this.fail(2, "illegal local address");
          if (t.af === 6) this.fail(2, "illegal local address");
          ce.laddr = t.addr;
          break;
        }
        case "w":
          setOption(O.Weight);
          // the kernel's weight is an int: ipvsadm 1.31 as shipped accepts 70000 (golden ipvsadm-errors)
          if ((ce.dest.weight = stringToNumber(a, 0, 0x7fffffff)) === -1) this.fail(2, "illegal weight specified");
          break;
        case "x":
          setOption(O.UThreshold);
          if ((ce.dest.uThreshold = stringToNumber(a, 0, 0x7fffffff)) === -1) this.fail(2, "illegal u_threshold specified");
          break;
        case "y":
          setOption(O.LThreshold);
          if ((ce.dest.lThreshold = stringToNumber(a, 0, 0x7fffffff)) === -1) this.fail(2, "illegal l_threshold specified");
          break;
        case "c":
          setOption(O.Connection);
          break;
        case "n":
          setOption(O.Numeric);
          fmt.numeric = true;
          break;
        case "mcast-interface":
          setOption(O.Mcast);
          ce.daemon.mcastIfn = a.slice(0, 15);
          break;
        case "syncid":
          setOption(O.SyncId);
          if ((ce.daemon.syncId = stringToNumber(a, 0, 255)) === -1) this.fail(2, "illegal syncid specified");
          break;
        case "timeout":
          setOption(O.Timeout);
          break;
        case "daemon":
          setOption(O.Daemon);
          break;
        case "stats":
          setOption(O.Stats);
          fmt.stats = true;
          break;
        case "rate":
          setOption(O.Rate);
          fmt.rate = true;
          break;
        case "thresholds":
          setOption(O.Thresholds);
          fmt.thresholds = true;
          break;
        case "persistent-conn":
          setOption(O.PersistentConn);
          fmt.persistentConn = true;
          break;
        case "nosort":
          setOption(O.NoSort);
          fmt.nosort = true;
          break;
        case "sort":
          break; // the default; accepted for compatibility
        case "X":
          setOption(O.Exact);
          fmt.exact = true;
          break;
        case "6":
          if (ce.svc.fwmark) {
            ce.svc.af = 6;
            ce.svc.netmask = 128;
          } else this.fail(2, "-6 used before -f\n");
          break;
        case "o":
          setOption(O.OnePacket);
          ce.svc.flags |= SVC_F_ONEPACKET;
          break;
        case "pe":
          setOption(O.Pe);
          ce.svc.pe = a.slice(0, 16);
          break;
        case "b":
          setOption(O.SchedFlags);
          schedFlagsArg = a.slice(0, 127);
          break;
        case "mcast-group":
          setOption(O.McastGroup);
          if (a.includes(":")) {
            if (!isInet6(a) || !/^ff/i.test(a)) this.fail(2, `invalid IPv6 mcast-group \`${a}'`);
            ce.daemon.groupAf = 6;
          } else {
            const g = inetPton4(a);
            if (g === undefined || g >>> 28 !== 0xe) this.fail(2, `invalid IPv4 mcast-group \`${a}'`);
            ce.daemon.group = g;
            ce.daemon.groupAf = 4;
          }
          break;
        case "mcast-port": {
          setOption(O.McastPort);
          const n = stringToNumber(a, 1, 65535);
          if (n === -1) this.fail(2, "illegal mcast-port specified");
          ce.daemon.port = n;
          break;
        }
        case "mcast-ttl": {
          setOption(O.McastTtl);
          const n = stringToNumber(a, 1, 255);
          if (n === -1) this.fail(2, "illegal mcast-ttl specified");
          ce.daemon.ttl = n;
          break;
        }
        case "sync-maxlen": {
          setOption(O.SyncMaxlen);
          const n = stringToNumber(a, 1, 65535 - 20 - 8);
          if (n === -1) this.fail(2, "illegal sync-maxlen specified");
          ce.daemon.maxLen = n;
          break;
        }
        case "tun-info":
          setOption(O.TunInfo);
          fmt.tunInfo = true;
          break;
        case "tun-type": {
          setOption(O.TunType);
          const ti = TUN_NAMES.indexOf(a as TunType);
          if (ti < 0) this.fail(2, "illegal tunnel type specified");
          ce.dest.tunType = ti as 0 | 1 | 2;
          break;
        }
        case "tun-port": {
          setOption(O.TunPort);
          const n = stringToNumber(a, 1, 65535);
          if (n === -1) this.fail(2, "illegal tunnel port specified");
          ce.dest.tunPort = n;
          break;
        }
        case "tun-nocsum":
          setOption(O.TunNocsum);
          ce.dest.tunFlags |= TUN_F_NOCSUM;
          break;
        case "tun-csum":
          setOption(O.TunCsum);
          ce.dest.tunFlags |= TUN_F_CSUM;
          break;
        case "tun-remcsum":
          setOption(O.TunRemcsum);
          ce.dest.tunFlags |= TUN_F_REMCSUM;
          break;
        default:
          // a second command (or -h/-v) after the first one
          this.fail(2, `invalid option \`${ctx.badOption()}'`);
      }
    }

    if (r.kind === "error") {
      this.env.io.stderr(`${ctx.badOption()}: ${poptStrerror(r.code)}\n`);
      return -1;
    }

    if (ce.cmd === Cmd.Timeout) {
      const t0 = ctx.getArg();
      const t1 = t0 !== undefined ? ctx.getArg() : undefined;
      const t2 = t1 !== undefined ? ctx.getArg() : undefined;
      if (t0 !== undefined && t1 !== undefined && t2 !== undefined) {
        ce.timeout.tcp = this.parseTimeout(t0, 0, MAX_TIMEOUT);
        ce.timeout.tcpfin = this.parseTimeout(t1, 0, MAX_TIMEOUT);
        ce.timeout.udp = this.parseTimeout(t2, 0, MAX_TIMEOUT);
      } else this.fail(2, "--set option requires 3 timeout values");
    }

    const extra = ctx.getArg();
    if (extra !== undefined) this.fail(2, `unexpected argument ${extra}`);

    if (schedFlagsArg) {
      ce.svc.flags &= ~(SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3);
      ce.svc.flags |= this.parseSchedFlags(ce.svc.sched, schedFlagsArg);
    }
    return 0;
  }

  /** parse_service: host[:port], [v6]:port; returns SERVICE_ADDR|SERVICE_PORT bits. */
  private parseService(buf: string, into: ParsedAddr, protocol: number): number {
    if (/^\d*$/.test(buf)) return 0; // str_is_digit (true for "" too)
    let portp: string | undefined;
    let host = buf;
    if (host[0] === "[") {
      host = host.slice(1);
      const close = host.indexOf("]");
      if (close < 0) return 0;
      const after = host.slice(close + 1);
      host = host.slice(0, close);
      if (after[0] !== ":") return 0;
      portp = after.slice(1);
    }
    if (isInet6(host)) {
      into.af = 6;
      into.addr = 0;
      into.addr6 = host;
    } else {
      // strrchr(buf, ':') on the (possibly bracket-truncated) host part
      const colon = host.lastIndexOf(":");
      if (colon >= 0) {
        portp = host.slice(colon + 1);
        host = host.slice(0, colon);
      } else portp = undefined;
      const a = inetAton(host) ?? this.env.resolver.addrByHost(host);
      if (a === undefined) return 0;
      into.af = 4;
      into.addr = a;
      into.addr6 = undefined;
    }
    let result = SERVICE_ADDR;
    if (portp !== undefined) {
      result |= SERVICE_PORT;
      let n = stringToNumber(portp, 0, 65535);
      if (n === -1) {
        const p = protocol === IPPROTO_TCP ? "tcp" : protocol === IPPROTO_UDP ? "udp" : protocol === IPPROTO_SCTP ? "sctp" : undefined;
        n = (p && this.env.resolver.portByService(portp, p)) ?? -1;
      }
      if (n === -1) return 0;
      into.port = n;
    }
    return result;
  }

  private parseFwmark(buf: string): number {
    const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(buf);
    const n = m ? (m[1] === "-" ? -Number(m[2]) : Number(m[2])) : NaN;
    if (!m || !(n > 0) || n > 0xffffffff) this.fail(2, `invalid fwmark value \`${buf}' specified`);
    return n;
  }

  private parseTimeout(buf: string | undefined, min: number, max: number): number {
    if (buf === undefined) return DEFAULT_PERSISTENT_TIMEOUT;
    const i = stringToNumber(buf, min, max);
    if (i === -1) this.fail(2, `invalid timeout value \`${buf}' specified`);
    return i;
  }

  private parseSchedFlags(sched: string, arg: string): number {
    const s = sched || DEF_SCHED;
    let flags = 0;
    for (const flag of arg.split(",").filter((x) => x !== "")) {
      switch (flag) {
        case "flag-1": flags |= SVC_F_SCHED1; break;
        case "flag-2": flags |= SVC_F_SCHED2; break;
        case "flag-3": flags |= SVC_F_SCHED3; break;
        case "sh-fallback":
        case "sh-port":
        case "mh-fallback":
        case "mh-port":
          flags |= flag.endsWith("fallback") ? SVC_F_SCHED1 : SVC_F_SCHED2;
          if (s !== flag.slice(0, 2)) this.fail(2, `incompatible scheduler flag \`${flag}'`);
          break;
        default:
          this.fail(2, `invalid scheduler flag \`${flag}'`);
      }
    }
    return flags;
  }

  private genericOptCheck(cmd: Cmd, options: bigint): void {
    const row = LEGALITY[cmd - 1]!;
    let last = 0;
    let count = 0;
    for (let j = 0; j < NUMBER_OF_OPT; j++) {
      const has = (options & (1n << BigInt(j))) !== 0n;
      const rule = row[j];
      if (!has) {
        if (rule === "+") this.fail(2, `You need to supply the '${OPT_NAMES[j]}' option for the '${CMD_NAMES[cmd - 1]}' command`);
      } else {
        if (rule === "x") this.fail(2, `Illegal '${OPT_NAMES[j]}' option with the '${CMD_NAMES[cmd - 1]}' command`);
        if (rule === "1") {
          if (++count === 1) {
            last = j;
            continue;
          }
          this.fail(2, `The option '${OPT_NAMES[j]}' conflicts with the '${OPT_NAMES[last]}' option in the '${CMD_NAMES[cmd - 1]}' command`);
        }
      }
    }
  }

  private tunnelOptCheck(tunType: 0 | 1 | 2, options: bigint): void {
    const row = TUN_LEGALITY[tunType]!;
    const name = TUN_NAMES[tunType];
    let last: O = O.TunPort;
    let count = 0;
    for (let j = 0; j < TUN_OPTS.length; j++) {
      const k = TUN_OPTS[j]!;
      const has = (options & (1n << BigInt(k))) !== 0n;
      const rule = row[j];
      if (!has) {
        if (rule === "+") this.fail(2, `You need to supply the '${OPT_NAMES[k]}' option for the '${name}' tunnel type`);
      } else {
        if (rule === "x") this.fail(2, `Illegal '${OPT_NAMES[k]}' option with the '${name}' tunnel type`);
        if (rule === "1") {
          if (++count === 1) {
            last = k;
            continue;
          }
          this.fail(2, `The option '${OPT_NAMES[k]}' conflicts with the '${OPT_NAMES[last]}' option in the '${name}' tunnel type`);
        }
      }
    }
  }

  // --- processing ----------------------------------------------------------------------------

  /** process_options: returns 0 or -1 like the C function (exit() paths throw). */
  processOptions(argv: readonly string[], readingStdin: boolean): number {
    const ce: CommandEntry = {
      cmd: Cmd.None,
      laddr: 0,
      svc: { af: 0, addr: 0, port: 0, protocol: 0, fwmark: 0, sched: "", flags: 0, timeout: 0, netmask: 0xffffffff, pe: "", pp: 0 },
      dest: { af: 0, addr: 0, port: 0, fwd: FwdMethod.Route, weight: 1, uThreshold: 0, lThreshold: 0, tunType: 0, tunPort: 0, tunFlags: 0 },
      timeout: { tcp: 0, tcpfin: 0, udp: 0 },
      daemon: { state: "master", mcastIfn: "", syncId: 0, group: 0, groupAf: 0, port: 0, ttl: 0, maxLen: 0 },
    };
    const opts = { set: 0n };
    const fmt: ListFormat = {};
    if (this.parseOptions(argv, ce, opts, fmt)) return -1;
    const options = opts.set;
    const has = (o: O): boolean => (options & (1n << BigInt(o))) !== 0n;

    this.genericOptCheck(ce.cmd, options);

    if (ce.cmd === Cmd.Add || ce.cmd === Cmd.Edit) {
      if (!ce.svc.fwmark && !ce.svc.port && !(ce.svc.flags & SVC_F_PERSISTENT))
        this.fail(2, "Zero port specified for non-persistent service");
      if (ce.svc.flags & SVC_F_ONEPACKET && !ce.svc.fwmark && ce.svc.protocol !== IPPROTO_UDP)
        this.fail(2, "One-Packet Scheduling is only for UDP virtual services");
      if (!ce.svc.sched) ce.svc.sched = DEF_SCHED;
    }
    if (ce.cmd === Cmd.StartDaemon && !ce.daemon.mcastIfn) ce.daemon.mcastIfn = DEF_MCAST_IFN;

    if (ce.cmd === Cmd.AddDest || ce.cmd === Cmd.EditDest) {
      const fwd = ce.dest.fwd;
      // DR and tunnelling keep the packet's port: the dest port is the service's
      if (!ce.svc.fwmark && (fwd === FwdMethod.Tunnel || fwd === FwdMethod.Route)) ce.dest.port = ce.svc.port;
      if (ce.dest.af !== ce.svc.af && fwd !== FwdMethod.Tunnel)
        this.fail(2, "Different address family is allowed only for tunneling servers");
      if ((has(O.TunType) || has(O.TunPort) || has(O.TunNocsum) || has(O.TunCsum) || has(O.TunRemcsum)) && fwd !== FwdMethod.Tunnel)
        this.fail(2, "Tunnel options conflict with forward method");
      this.tunnelOptCheck(ce.dest.tunType, options);
    }

    const ctl = this.env.ctl;
    let err: Errno | undefined;
    switch (ce.cmd) {
      case Cmd.List:
        if (
          ((has(O.Connection) || has(O.Timeout) || has(O.Daemon)) && (has(O.Stats) || has(O.Rate) || has(O.Thresholds))) ||
          ((has(O.Timeout) || has(O.Daemon)) && has(O.PersistentConn))
        )
          this.fail(2, "options conflicts in the list command");
        if (has(O.Connection)) this.out(formatConns(ctl.conns(), fmt, this.env.resolver));
        else if (has(O.Service)) this.listService(ce.svc, fmt);
        else if (has(O.Timeout)) this.out(formatTimeout(ctl.getTimeouts()));
        else if (has(O.Daemon)) this.out(formatDaemons(ctl.daemons()));
        else this.listAll(fmt);
        return 0;
      case Cmd.Restore:
        return this.restoreTable(argv, readingStdin);
      case Cmd.Save: {
        const laddrs = ctl.laddrs?.bind(ctl);
        this.listAll({
          ...fmt,
          rule: true,
          laddrs: laddrs && ((se) => {
            const l = laddrs(se.key);
            return typeof l === "string" ? [] : l.map((x) => x.addr);
          }),
        });
        return 0;
      }
      case Cmd.AddLaddr:
      case Cmd.DelLaddr: {
        this.func = ce.cmd === Cmd.AddLaddr ? "add_laddr" : "del_laddr";
        const f = ce.cmd === Cmd.AddLaddr ? ctl.addLaddr : ctl.delLaddr;
        if (ce.svc.af === 6) err = "ESRCH";
        else err = f ? f.call(ctl, serviceKey(ce.svc), ce.laddr >>> 0) : "EOPNOTSUPP";
        break;
      }
      case Cmd.GetLaddr:
        this.func = "get_laddrs";
        err = this.listLaddrs(has(O.Service) ? ce.svc : undefined);
        break;
      case Cmd.Flush:
        ctl.flush();
        break;
      case Cmd.Add:
        this.func = "add_service";
        err = ce.svc.af === 6 ? "EAFNOSUPPORT" : ctl.addService(this.serviceSpec(ce.svc));
        break;
      case Cmd.Edit:
        this.func = "update_service";
        err = ce.svc.af === 6 ? "ESRCH" : ctl.editService(this.serviceSpec(ce.svc));
        break;
      case Cmd.Del:
        this.func = "del_service";
        err = ce.svc.af === 6 ? "ESRCH" : ctl.delService(serviceKey(ce.svc));
        break;
      case Cmd.Zero:
        this.func = "zero_service";
        if (ce.svc.af === 6) err = "ESRCH";
        else err = ctl.zero(ce.svc.fwmark || ce.svc.addr || ce.svc.port ? serviceKey(ce.svc) : undefined);
        break;
      case Cmd.AddDest:
      case Cmd.EditDest:
      case Cmd.DelDest: {
        this.func = ce.cmd === Cmd.AddDest ? "add_dest" : ce.cmd === Cmd.EditDest ? "update_dest" : "del_dest";
        if (ce.svc.af === 6) err = "ESRCH";
        else if (ce.dest.af === 6) err = "EAFNOSUPPORT";
        else {
          const key = serviceKey(ce.svc);
          const d = destSpec(ce.dest);
          err =
            ce.cmd === Cmd.AddDest ? ctl.addDest(key, d) : ce.cmd === Cmd.EditDest ? ctl.editDest(key, d) : ctl.delDest(key, d.addr, d.port);
        }
        break;
      }
      case Cmd.Timeout:
        this.func = "set_timeout";
        err = ctl.setTimeouts({ ...ce.timeout });
        break;
      case Cmd.StartDaemon:
        this.func = "start_daemon";
        err =
          ce.daemon.groupAf === 6
            ? "EAFNOSUPPORT"
            : ctl.startDaemon({
                state: ce.daemon.state,
                mcastIfn: ce.daemon.mcastIfn,
                syncId: ce.daemon.syncId,
                maxLen: ce.daemon.maxLen,
                group: ce.daemon.group,
                port: ce.daemon.port,
                ttl: ce.daemon.ttl,
              });
        break;
      case Cmd.StopDaemon:
        this.func = "stop_daemon";
        err = ctl.stopDaemon(ce.daemon.state, has(O.SyncId) ? ce.daemon.syncId : undefined);
        break;
      default:
        break;
    }
    if (err) {
      this.env.io.stderr(ipvsStrerror(this.func, err) + "\n");
      return -1;
    }
    return 0;
  }

  private serviceSpec(svc: SvcEntry) {
    return {
      key: serviceKey(svc),
      scheduler: svc.sched,
      flags: svc.flags,
      timeout: svc.timeout,
      netmask: svc.netmask >>> 0,
      pe: svc.pe,
      ...(svc.pp ? { proxyProtocol: svc.pp } : {}),
    };
  }

  private listAll(fmt: ListFormat): void {
    const ctl = this.env.ctl;
    this.out(formatListAll(ctl.info(), ctl.services(), fmt, this.env.resolver));
  }

  /** list_laddrs / list_all_laddrs (FullNAT extension): the title once, then each service. */
  private listLaddrs(svc: SvcEntry | undefined): Errno | undefined {
    const ctl = this.env.ctl;
    if (!ctl.laddrs) return "EOPNOTSUPP";
    const entries = svc ? [svc.af === 6 ? undefined : ctl.service(serviceKey(svc))] : ctl.services();
    let out = "";
    for (const se of entries) {
      if (se === undefined) {
        this.func = "get_service";
        return "ESRCH";
      }
      const l = ctl.laddrs(se.key);
      if (typeof l === "string") return l;
      if (out === "") out = formatLaddrTitle();
      const k = se.key;
      const vname = k.fwmark ? `0.0.0.0:0` : `${formatIp4Text(k.addr ?? 0)}:${k.port ?? 0}`;
      out += formatServiceLaddrs(vname, l);
    }
    this.out(out);
    return undefined;
  }

  private listService(svc: SvcEntry, fmt: ListFormat): void {
    this.func = "get_service";
    const se = svc.af === 6 ? undefined : this.env.ctl.service(serviceKey(svc));
    if (!se) this.fail(1, ipvsStrerror(this.func, "ESRCH"));
    this.out(formatListService(se, fmt, this.env.resolver));
  }

  /** restore_table: each stdin line is a separate invocation (config_stream_read). */
  private restoreTable(argv: readonly string[], readingStdin: boolean): number {
    if (readingStdin) {
      this.env.io.stderr(tryHelpText(argv[0] ?? "ipvsadm"));
      throw new IpvsadmExit(255);
    }
    let result = 0;
    for (const tokens of configStreamLines(this.env.io.stdin ?? "")) {
      if (tokens.length === 0) continue;
      result = this.processOptions([argv[0] ?? "ipvsadm", ...tokens], true);
    }
    return result;
  }
}

function serviceKey(svc: SvcEntry): ServiceKey {
  return svc.fwmark ? { fwmark: svc.fwmark } : { fwmark: 0, protocol: svc.protocol, addr: svc.addr >>> 0, port: svc.port };
}

function destSpec(d: DestEntryIn): DestSpec {
  return {
    addr: d.addr >>> 0,
    port: d.port,
    fwd: d.fwd,
    weight: d.weight,
    uThreshold: d.uThreshold,
    lThreshold: d.lThreshold,
    tunType: TUN_NAMES[d.tunType],
    tunPort: d.tunPort,
    tunFlags: d.tunFlags,
  };
}

/**
 * config_stream_read over all of stdin: per line, the words separated by blanks, tabs and
 * CRs, without any word equal to "ipvsadm". There is no comment syntax. As with the fscanf
 * loop of ipvsadm, a last line that has no newline but ends in blanks is lost.
 */
export function configStreamLines(text: string): string[][] {
  const lines = text.split("\n");
  const last = lines.pop()!;
  const out = lines.map(words);
  if (last !== "" && !/[ \t\r]$/.test(last)) out.push(words(last));
  return out;
}

function words(line: string): string[] {
  return line.split(/[ \t\r]+/).filter((w) => w !== "" && w !== "ipvsadm");
}

export type { IpvsErrno };
