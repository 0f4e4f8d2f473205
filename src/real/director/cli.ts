/**
 * `lvslab director`, `lvslab ipvsadm` and `lvslab ctl`: the command-line side of the
 * userspace director (the only code here that touches the real console, signals and exit).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { constants as osConstants, hostname, networkInterfaces } from "node:os";
import { formatDiagnostic, loadLab } from "../../lab/load.js";
import { readLabFile } from "../../lab/read.js";
import type { AddrSpec, HostSpec, LabSpec, NicSpec, RouteSpec } from "../../lab/schema.js";
import { formatIp4, parseIp4 } from "../../wire/index.js";
import { exitOnBrokenPipe, forwardedStdin } from "../../cli/stdio.js";
import { controlRequest, defaultControlPath } from "../control.js";
import { launchArgv, wantsLaunch } from "../packetio_direct.js";
import { realMac, realMtu, startDirector } from "./director.js";

export const DIRECTOR_USAGE = `Usage:
  lvslab director --lab FILE --host NAME [--control SOCK] [--seed N]
  lvslab director --iface IF [--iface IF ...] [--addr IF=A/LEN ...] [--route SPEC ...]
                  [--sysctl NAME=VALUE ...] [--rules FILE] [--control SOCK] [--seed N]
  lvslab ipvsadm ARGS...                     (ipvsadm on the running director)
  lvslab ctl [--control SOCK] [--stdin] -- CMD [ARG...]

The director drives the named interfaces from user space (raw sockets, opened by a short
python3 launcher; needs root or CAP_NET_RAW + CAP_NET_ADMIN). SPEC is like "default via 10.0.0.1" or
"10.1.0.0/16 via 10.0.0.2 dev eth0". SOCK defaults to $LVSLAB_CONTROL, else ${"/run/lvslab/director.sock"}.
`;

function fail(msg: string, code = 2): number {
  process.stderr.write(`lvslab director: ${msg}\n`);
  return code;
}

interface DirectorArgs {
  lab?: string;
  host?: string;
  control?: string;
  seed?: number;
  ifaces: string[];
  addrs: string[];
  routes: string[];
  sysctls: string[];
  rules?: string;
}

function parseDirectorArgs(argv: string[]): DirectorArgs | string {
  const a: DirectorArgs = { ifaces: [], addrs: [], routes: [], sysctls: [] };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    const eq = x.indexOf("=");
    const [opt, inline] = x.startsWith("--") && eq > 0 ? [x.slice(0, eq), x.slice(eq + 1)] : [x, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    const need = (v: string | undefined): string => {
      if (v === undefined || v === "") throw new Error(`${opt} needs a value`);
      return v;
    };
    try {
      switch (opt) {
        case "--lab": a.lab = need(value()); break;
        case "--host": a.host = need(value()); break;
        case "--control": a.control = need(value()); break;
        case "--rules": a.rules = need(value()); break;
        case "--iface": a.ifaces.push(need(value())); break;
        case "--addr": a.addrs.push(need(value())); break;
        case "--route": a.routes.push(need(value())); break;
        case "--sysctl": a.sysctls.push(need(value())); break;
        case "--seed": {
          const v = need(value());
          if (!/^\d+$/.test(v)) return `--seed needs a whole number, got ${JSON.stringify(v)}`;
          a.seed = Number(v);
          break;
        }
        default:
          return `unknown option ${x}\n${DIRECTOR_USAGE}`;
      }
    } catch (e) {
      return (e as Error).message;
    }
  }
  if (a.lab !== undefined || a.host !== undefined) {
    if (a.lab === undefined || a.host === undefined) return "--lab and --host go together";
    if (a.ifaces.length > 0 || a.addrs.length > 0 || a.routes.length > 0 || a.sysctls.length > 0) return "--lab/--host take the interfaces, addresses and routes from the lab; --iface, --addr, --route and --sysctl are for the standalone form";
  } else if (a.ifaces.length === 0) return `give --lab FILE --host NAME, or at least one --iface\n${DIRECTOR_USAGE}`;
  return a;
}

function addrSpec(text: string): AddrSpec | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text);
  if (!m) return undefined;
  const addr = parseIp4(m[1]!);
  const prefix = Number(m[2]);
  if (addr === undefined || prefix > 32) return undefined;
  return { addr, prefix, text: `${formatIp4(addr)}/${prefix}` };
}

/** "default via A", "NET/LEN via A [dev IF] [metric N]", "NET/LEN dev IF". */
export function parseRouteSpec(text: string): RouteSpec | string {
  const w = text.trim().split(/\s+/);
  const to = w[0] === "default" ? { addr: 0, prefix: 0, text: "default" } : addrSpec(w[0] ?? "");
  if (!to) return `--route ${JSON.stringify(text)}: the destination must be "default" or NET/LEN`;
  let via: number | undefined;
  let dev: string | undefined;
  let metric: number | undefined;
  for (let i = 1; i < w.length; i += 2) {
    const v = w[i + 1];
    if (v === undefined) return `--route ${JSON.stringify(text)}: ${w[i]} needs a value`;
    if (w[i] === "via") {
      via = parseIp4(v);
      if (via === undefined) return `--route ${JSON.stringify(text)}: ${JSON.stringify(v)} is not an IPv4 address`;
    } else if (w[i] === "dev") dev = v;
    else if (w[i] === "metric" && /^\d+$/.test(v)) metric = Number(v);
    else return `--route ${JSON.stringify(text)}: unexpected ${JSON.stringify(w[i])}`;
  }
  if (via === undefined && dev === undefined) return `--route ${JSON.stringify(text)}: give "via ADDRESS" or "dev IF"`;
  return { to, ...(via !== undefined ? { via } : {}), ...(dev !== undefined ? { dev } : {}), ...(metric !== undefined ? { metric } : {}) };
}

/** The standalone director as a one-host lab. */
function standaloneSpec(a: DirectorArgs, warn: (s: string) => void): { lab: LabSpec; host: HostSpec } | string {
  const addrs = new Map<string, AddrSpec[]>();
  for (const x of a.addrs) {
    const m = /^([^=]+)=(.+)$/.exec(x);
    const spec = m ? addrSpec(m[2]!) : undefined;
    if (m && !spec && parseIp4(m[2]!) !== undefined) return `--addr ${JSON.stringify(x)}: ${m[2]} has no prefix length; write ${m[1]}=${m[2]}/24 (or whatever the network's is)`;
    if (!m || !spec) return `--addr ${JSON.stringify(x)}: want IF=A.B.C.D/LEN (like eth1=192.168.75.131/24)`;
    if (!a.ifaces.includes(m[1]!)) return `--addr ${JSON.stringify(x)}: ${m[1]} is not one of the --iface interfaces`;
    addrs.set(m[1]!, [...(addrs.get(m[1]!) ?? []), spec]);
  }
  const kernel = networkInterfaces();
  for (const [dev, list] of addrs) {
    for (const s of list) {
      for (const [kdev, kaddrs] of Object.entries(kernel)) {
        if (kaddrs?.some((k) => k.family === "IPv4" && k.address === formatIp4(s.addr))) {
          warn(`the kernel here also owns ${formatIp4(s.addr)} (on ${kdev}): it will answer ARP for it and reset TCP connections to it; remove it (ip addr del ${s.text} dev ${kdev}) so only the director answers for ${dev}`);
        }
      }
    }
  }
  const nics: NicSpec[] = [];
  for (const name of a.ifaces) {
    const mac = realMac(name);
    if (mac === undefined) return `--iface ${name}: no such network interface here`;
    nics.push({ name, segment: name, mac, macGenerated: false, addrs: addrs.get(name) ?? [], mtu: realMtu(name) ?? 1500 });
  }
  const routes: RouteSpec[] = [];
  for (const r of a.routes) {
    const spec = parseRouteSpec(r);
    if (typeof spec === "string") return spec;
    routes.push(spec);
  }
  const sysctl = [];
  for (const s of a.sysctls) {
    const m = /^([\w.\-/]+)=(.*)$/.exec(s);
    if (!m) return `--sysctl ${JSON.stringify(s)}: want NAME=VALUE (like net.ipv4.ip_forward=1)`;
    sysctl.push({ name: m[1]!.replace(/\//g, "."), value: m[2]! });
  }
  const name = hostname().split(".")[0] || "director";
  const host: HostSpec = { name, hostname: name, ipvs: true, nics, routes, sysctl, files: [], services: [] };
  const lab: LabSpec = { name: "standalone", description: "", seed: a.seed ?? 1, clockEpochUs: 0, timezone: process.env["TZ"] || "UTC", segments: [], hosts: [host], steps: [], source: "" };
  return { lab, host };
}

export async function cmdDirector(argv: string[]): Promise<number> {
  const a = parseDirectorArgs(argv);
  if (typeof a === "string") return fail(a);
  const warn = (s: string): void => {
    process.stderr.write(`lvslab director: warning: ${s}\n`);
  };
  let lab: LabSpec;
  let host: HostSpec;
  if (a.lab !== undefined) {
    const f = readLabFile(a.lab);
    if ("error" in f) return fail(f.error);
    const text = f.text;
    const r = loadLab(text, a.lab);
    if (!r.ok) {
      for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d) + "\n");
      return fail(`${r.diagnostics.length} problem${r.diagnostics.length === 1 ? "" : "s"} in ${a.lab}`);
    }
    lab = r.lab;
    const h = lab.hosts.find((x) => x.name === a.host);
    if (!h) return fail(`no host ${JSON.stringify(a.host)} in the lab (hosts: ${lab.hosts.map((x) => x.name).join(", ")})`);
    host = h;
  } else {
    const s = standaloneSpec(a, warn);
    if (typeof s === "string") return fail(s);
    ({ lab, host } = s);
  }
  // Direct packet I/O: start again through the launcher, which opens the raw sockets and
  // hands them to a new director process (this one waits for it and passes signals on).
  if (wantsLaunch()) return relaunch(host.nics.map((n) => n.name));
  let rules: string | undefined;
  if (a.rules !== undefined) {
    try {
      rules = readFileSync(a.rules, "utf8");
    } catch {
      return fail(`cannot read rules file ${a.rules}`);
    }
  }
  let director;
  try {
    director = await startDirector({ lab, host, seed: a.seed, controlPath: a.control ?? defaultControlPath(), rules, warn });
  } catch (e) {
    return fail((e as Error).message, 1);
  }
  const d = director;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (code: number): void => {
      if (stopping) return;
      stopping = true;
      void d.close().then(() => resolve(code));
    };
    process.on("SIGTERM", () => stop(0));
    process.on("SIGINT", () => stop(0));
    process.on("SIGHUP", () => stop(0)); // its terminal went away: still leave no socket behind
    d.io.onExit = (why) => {
      process.stderr.write(`lvslab director: the packet I/O stopped (${why})\n`);
      stop(1);
    };
    process.stdout.write("lvslab director: ready\n");
  });
}

function relaunch(ifaces: string[]): Promise<number> {
  const argv = launchArgv(ifaces, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], { pdeathsig: true });
  return new Promise<number>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: "inherit" });
    const pass = (sig: NodeJS.Signals) => (): void => {
      child.kill(sig);
    };
    const handlers = (["SIGTERM", "SIGINT", "SIGHUP"] as const).map((sig) => [sig, pass(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    child.on("error", (e: NodeJS.ErrnoException) => {
      resolve(fail(e.code === "ENOENT" ? `${argv[0]} not found (real mode needs Python 3)` : e.message, 1));
    });
    child.on("exit", (code, signal) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(code ?? 128 + (signal ? osConstants.signals[signal] : 0));
    });
  });
}

async function request(sock: string, argv: string[], stdin: NodeJS.ReadableStream | undefined): Promise<number> {
  let fire: () => void = () => undefined;
  const interrupt = new Promise<void>((r) => (fire = r));
  const onInt = (): void => fire();
  process.on("SIGINT", onInt);
  try {
    const r = await controlRequest(sock, { argv, ...(stdin !== undefined ? { stdin: stdin as AsyncIterable<Buffer> } : {}) }, {
      onStdout: (s) => process.stdout.write(s),
      onStderr: (s) => process.stderr.write(s),
      interrupt,
    });
    return r.code;
  } catch (e) {
    process.stderr.write(`lvslab: ${(e as Error).message}\n`);
    return 2;
  } finally {
    process.off("SIGINT", onInt);
  }
}

/**
 * `lvslab exec LAB HOST -- CMD` where HOST is the director: the command runs in its shell,
 * with this process's standard input when that is a pipe or a file, and Ctrl-C reaching it.
 */
export function execOnDirector(sock: string, cmd: string[]): Promise<number> {
  exitOnBrokenPipe();
  return request(sock, cmd, forwardedStdin());
}

/** `lvslab ipvsadm ARGS...`: `-R`/`--restore` read the rules from standard input, as ipvsadm does. */
export function cmdIpvsadm(argv: string[]): Promise<number> {
  const restore = argv.some((x) => x === "-R" || x === "--restore" || /^-[a-zA-Z]*R/.test(x));
  return request(defaultControlPath(), ["ipvsadm", ...argv], restore ? process.stdin : undefined);
}

/** `lvslab ctl [--control SOCK] [--stdin] -- CMD [ARG...]`. */
export function cmdCtl(argv: string[]): Promise<number> {
  let sock = defaultControlPath();
  let withStdin = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === "--") {
      i++;
      break;
    }
    if (x === "--control") {
      const v = argv[++i];
      if (!v) return Promise.resolve(fail("--control needs a socket path"));
      sock = v;
    } else if (x.startsWith("--control=")) sock = x.slice(10);
    else if (x === "--stdin") withStdin = true;
    else break;
  }
  const cmd = argv.slice(i);
  if (cmd.length === 0) {
    process.stderr.write("Usage: lvslab ctl [--control SOCK] [--stdin] -- CMD [ARG...]\n");
    return Promise.resolve(2);
  }
  return request(sock, cmd, withStdin ? process.stdin : undefined);
}
