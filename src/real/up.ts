/**
 * `lvslab up`, `down`, `exec` and `status` for real mode: a lab built from Linux network
 * namespaces (see netns.ts for the layout), real nginx on the real servers, real curl and
 * tcpdump anywhere, and lvslab's own user-space IPVS director (`lvslab director`) on the
 * host the lab marks `ipvs: true`.
 *
 * `up` builds the lab's state at t = 0 (interfaces, addresses, routes, sysctls, files,
 * services); it does not run the lab's steps. Everything it creates is written to the
 * journal (state.ts) before it is created, so `down` removes exactly that.
 */
import { spawn } from "node:child_process";
import { launchArgv, wantsLaunch } from "./packetio_direct.js";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { HostSpec, LabSpec } from "../lab/schema.js";
import { formatIp4 } from "../wire/addr.js";
import { bridgeName, hostConfig, hostNs, labId, namespaceInit, offloadsOff, portName, sq, switchNs } from "./netns.js";
import { accessLogPath, nginxConf, nginxConfPath, nginxPidPath } from "./nginx.js";
import { appendJournal, type JournalEntry, labDir, labsWithState, readJournal, STATE_ROOT } from "./state.js";
import { must, procStartTime, RealError, realModeBlocker, run, sleepMs, which } from "./sys.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The lvslab command itself (for `lvslab director` and `lvslab httpd` inside namespaces). */
const LVSLAB_MAIN = resolve(here, "..", "cli", "main.js");

/** Exit status when real mode cannot run here (no root, no `ip`): sysexits' EX_NOPERM. */
export const EXIT_NOPERM = 77;

const READY_LINE = "lvslab director: ready";
const DIRECTOR_START_MS = 20_000;
const SERVICE_START_MS = 5_000;
const STOP_GRACE_MS = 3_000;

export interface UpOptions {
  /** The lab file (absolute or relative path). */
  labPath: string;
  out: (s: string) => void;
  seed?: number;
  /** Use lvslab's HTTP server even when nginx is installed. */
  forceHttpd?: boolean;
}

/** The id that prefixes a lab's namespaces: from the lab's name and the state directory, so a test's labs never meet the user's. */
export function labIdFor(name: string): string {
  return labId(`${STATE_ROOT}/${name}`);
}

function assertCanRun(): void {
  const b = realModeBlocker();
  if (b) throw new RealError(b);
}

function existingNamespaces(): Set<string> {
  const r = run("ip", ["netns", "list"]);
  return new Set(r.stdout.split("\n").map((l) => l.split(" ")[0]!).filter((n) => n !== ""));
}

export function hostDirOf(labName: string, host: string): string {
  return join(labDir(labName), "hosts", host);
}

/** Bring a lab up. Throws RealError (after removing what it had created) when it cannot. */
export function up(spec: LabSpec, o: UpOptions): void {
  assertCanRun();
  const name = spec.name;
  const dir = labDir(name);
  const old = readJournal(name);
  if (old.length > 0) {
    throw new RealError(old.some((e) => e.kind === "ready")
      ? `lab ${name} is already up (lvslab down ${name} removes it)`
      : `lab ${name} was left half up by an interrupted lvslab up; run lvslab down ${name} first`);
  }
  const id = labIdFor(name);
  const present = existingNamespaces();
  const wanted = [switchNs(id), ...spec.hosts.map((h) => hostNs(id, h.name))];
  for (const ns of wanted) {
    if (present.has(ns)) throw new RealError(`network namespace ${ns} exists already and was not made by lvslab up ${name}; not touching it`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  appendJournal(name, { kind: "lab", name, file: resolve(o.labPath), id });
  try {
    build(spec, o, id);
  } catch (e) {
    o.out(`lvslab: up failed, removing what was created\n`);
    down(name, () => undefined);
    throw e;
  }
  appendJournal(name, { kind: "ready" });
}

function addNamespace(labName: string, ns: string): void {
  appendJournal(labName, { kind: "netns", name: ns });
  must("ip", ["netns", "add", ns]);
  must("ip", ["netns", "exec", ns, "sh", "-ec", namespaceInit().join("\n")]);
}

function inNs(ns: string, lines: string[]): RunResultLines {
  const r = run("ip", ["netns", "exec", ns, "sh", "-ec", lines.join("\n")], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new RealError(`configuring namespace ${ns}: ${(r.stderr || r.stdout).trim()}`);
  return { warnings: r.stderr.split("\n").filter((l) => l !== "") };
}

interface RunResultLines {
  warnings: string[];
}

function build(spec: LabSpec, o: UpOptions, id: string): void {
  const name = spec.name;
  const sw = switchNs(id);
  addNamespace(name, sw);
  // A switch only switches: with br_netfilter loaded (Docker loads it), bridged IPv4
  // would pass iptables and its header checks, and malformed frames never reach a port.
  const swLines: string[] = ["for f in arptables iptables ip6tables; do echo 0 > /proc/sys/net/bridge/bridge-nf-call-$f 2>/dev/null || true; done"];
  spec.segments.forEach((s, i) => {
    // A hub repeats every frame to every port: a bridge that never learns (ageing_time 0).
    swLines.push(`ip link add ${bridgeName(i)} type bridge stp_state 0 forward_delay 0 mcast_snooping 0${s.type === "hub" ? " ageing_time 0" : ""}`);
    swLines.push(`ip link set ${bridgeName(i)} up`);
  });
  inNs(sw, swLines);
  const warnings: string[] = [];
  const segIndex = new Map(spec.segments.map((s, i) => [s.name, i]));
  const attach: string[] = [];
  spec.hosts.forEach((h, hi) => {
    const ns = hostNs(id, h.name);
    addNamespace(name, ns);
    const portLines: string[] = [];
    h.nics.forEach((n, ni) => {
      const port = portName(hi, ni, n.name);
      const mac = formatMacText(n.mac);
      // Created from the switch namespace with the peer straight into the host's: no
      // interface ever exists in the namespace lvslab runs in.
      portLines.push(`ip link add ${port} mtu ${n.mtu} type veth peer name ${sq(n.name)} address ${mac} mtu ${n.mtu} netns ${sq(ns)}`);
      portLines.push(offloadsOff(port), `ip link set ${port} up`);
      attach.push(`ip link set ${port} master ${bridgeName(segIndex.get(n.segment)!)}`);
    });
    warnings.push(...inNs(sw, portLines).warnings);
    const cfg = hostConfig(h, { kernelOwnsAddresses: !h.ipvs });
    warnings.push(...cfg.skipped.map((s) => `lvslab: warning: ${s}`));
    warnings.push(...inNs(ns, cfg.lines).warnings);
  });
  // A Linux bridge floods a broadcast to its ports newest first; the simulator's switch
  // floods in the lab's order of hosts. Joined to their bridges last host first, the ports
  // get a broadcast in the lab's order, so a race between answers (several hosts replying
  // to one ARP request) comes out as in the simulator.
  warnings.push(...inNs(sw, attach.reverse()).warnings);
  for (const w of warnings) o.out(w + "\n");
  for (const h of spec.hosts) writeHostFiles(name, h);
  const summary: string[] = [];
  for (const h of spec.hosts) {
    const ns = hostNs(id, h.name);
    if (h.ipvs) summary.push(row(h, ns, startDirector(name, h, ns, o)));
    else summary.push(row(h, ns, startServices(name, h, ns, o)));
  }
  o.out(`lvslab: lab ${name} is up (network namespaces ${sw}-*, state in ${labDir(name)}):\n`);
  for (const s of summary) o.out(s);
  o.out(`Run commands with "lvslab exec ${name} HOST -- CMD"; remove it all with "lvslab down ${name}".\n`);
}

function row(h: HostSpec, ns: string, what: string): string {
  const addrs = h.ipvs ? "(no kernel address)" : h.nics.flatMap((n) => n.addrs.map((a) => a.text)).join(" ");
  return `  ${h.name.padEnd(14)} ${ns.padEnd(24)} ${addrs.padEnd(20)} ${what}\n`;
}

function formatMacText(m: number): string {
  return m.toString(16).padStart(12, "0").replace(/(..)(?!$)/g, "$1:");
}

function isRealDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The lab's files go to the host's directory; `enter.sh` there is what `lvslab exec` runs
 * the command through. In the mount namespace `ip netns exec` makes (a slave of the
 * machine's, so nothing propagates back) it lays the host's directories over the machine's
 * with read-only overlays — the lab's files appear at their lab paths beside what is
 * already there (`sh /usr/local/sbin/lvs_dr_rs.sh`) — and binds the writable ones (nginx's
 * logs), so `cat /var/log/nginx/access.log` on real_server1 reads real_server1's log.
 */
function writeHostFiles(labName: string, h: HostSpec): void {
  const hd = hostDirOf(labName, h.name);
  appendJournal(labName, { kind: "hostdir", host: h.name, dir: hd });
  mkdirSync(hd, { recursive: true });
  if (h.ipvs) return; // the director's files live in its simulated host (lvslab director reads the lab)
  const dirs = new Set<string>();
  for (const f of h.files) {
    const p = join(hd, f.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content);
    chmodSync(p, f.mode ?? 0o644);
    dirs.add(dirname(f.path));
  }
  const binds: string[] = [];
  if (h.services.length > 0) {
    for (const d of ["var/log/nginx", "var/lib/nginx", "run", "etc/nginx"]) mkdirSync(join(hd, d), { recursive: true });
    for (const svc of h.services) mkdirSync(join(hd, svc.root), { recursive: true });
    writeFileSync(nginxConfPath({ hostDir: hd }), nginxConf(h.services, { hostDir: hd }));
    // nginx -s stop in `lvslab exec` reads /etc/nginx/nginx.conf: this server's, with its pid file.
    dirs.add("/etc/nginx");
    dirs.add("/var/log/nginx");
    binds.push("/var/log/nginx");
  }
  // Overlay at the nearest directory the machine has (a lab's /srv/www shows up under /srv);
  // never over / itself; an overlay covers what lies below it.
  const at = new Set<string>();
  for (const d of dirs) {
    let a = d;
    while (a !== "/" && !isRealDir(a)) a = dirname(a);
    if (a !== "/") at.add(a);
  }
  const tops = [...at].sort().filter((d) => ![...at].some((o) => d.startsWith(o + "/")));
  const lines = ["#!/bin/sh", `# Generated by lvslab up: host ${h.name}'s view of the file system, then the command.`];
  // hostname(1) refuses names like real_server1; the kernel takes them.
  lines.push(`echo ${sq(h.hostname)} > /proc/sys/kernel/hostname 2>/dev/null`);
  for (const d of tops) lines.push(`mount -t overlay lvslab -o ${sq(`lowerdir=${join(hd, d)}:${d}`)} ${sq(d)} 2>/dev/null`);
  for (const d of binds) lines.push(`mount --bind ${sq(join(hd, d))} ${sq(d)} 2>/dev/null`);
  lines.push('exec "$@"', "");
  writeFileSync(join(hd, "enter.sh"), lines.join("\n"), { mode: 0o755 });
}

/** argv that runs `cmd` in a host's namespace, through its enter.sh (own hostname, lab files in place). */
export function hostCommand(labName: string, ns: string, host: string, cmd: readonly string[]): string[] {
  const enter = join(hostDirOf(labName, host), "enter.sh");
  const uts = which("unshare") ? ["unshare", "--uts"] : [];
  return ["ip", "netns", "exec", ns, ...uts, "/bin/sh", enter, ...cmd];
}

/** Start a process detached from this one (it outlives `up`), logging to `log`; recorded before `up` waits on it. */
function startDetached(labName: string, argv: string[], log: string, rec: { ns: string; host: string; what: string }): number {
  const fd = openSync(log, "a");
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new RealError(`cannot start ${argv[0]}`);
  child.unref();
  appendJournal(labName, { kind: "proc", pid, start: procStartTime(pid) ?? "", ns: rec.ns, host: rec.host, what: rec.what });
  return pid;
}

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s[s.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

/** Wait (bounded) until `ok()` or the process died. */
function waitFor(ok: () => boolean, pid: number, ms: number): "ok" | "died" | "timeout" {
  const end = Date.now() + ms;
  for (let i = 0; i < 10_000; i++) {
    if (ok()) return "ok";
    if (!alive(pid)) return ok() ? "ok" : "died";
    if (Date.now() > end) return "timeout";
    sleepMs(20);
  }
  return "timeout";
}

function tail(path: string): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-5).join("\n");
  } catch {
    return "";
  }
}

function startServices(labName: string, h: HostSpec, ns: string, o: UpOptions): string {
  const hd = hostDirOf(labName, h.name);
  const svc = h.services[0];
  if (!svc) return "";
  const pidFile = nginxPidPath({ hostDir: hd });
  const log = join(hd, "service.log");
  const nginx = o.forceHttpd ? undefined : which("nginx");
  let what: string;
  let argv: string[];
  if (nginx) {
    argv = hostCommand(labName, ns, h.name, [nginx, "-c", nginxConfPath({ hostDir: hd })]);
    what = "nginx";
  } else {
    argv = hostCommand(labName, ns, h.name, [process.execPath, LVSLAB_MAIN, "httpd", "--root", join(hd, svc.root), "--port", String(svc.port),
      "--index", svc.index, "--log", accessLogPath({ hostDir: hd }), "--pid-file", pidFile]);
    what = "lvslab httpd";
    if (h.services.length > 1 || svc.proxyProtocol) o.out(`lvslab: warning: ${h.name}: lvslab httpd serves only port ${svc.port}, without PROXY protocol; install nginx-light for the lab's other servers\n`);
  }
  const pid = startDetached(labName, argv, log, { ns, host: h.name, what });
  const r = waitFor(() => existsSync(pidFile), pid, SERVICE_START_MS);
  if (r !== "ok") throw new RealError(`${h.name}: ${what} did not start (${r}): ${tail(log)}`);
  return nginx ? `nginx (${nginxVersion(nginx)}), access log ${accessLogPath({ hostDir: hd })}` : "lvslab httpd (nginx is not installed), access log " + accessLogPath({ hostDir: hd });
}

function nginxVersion(nginx: string): string {
  const r = run(nginx, ["-v"]);
  return /nginx\/(\S+)/.exec(r.stderr)?.[0] ?? "nginx";
}

export function controlPath(labName: string, host: string): string {
  return join(labDir(labName), `${host}.sock`);
}

function startDirector(labName: string, h: HostSpec, ns: string, o: UpOptions): string {
  if (!which("python3")) throw new RealError(`${h.name}: lvslab's director needs python3 to open its raw sockets (Debian: apt-get install python3)`);
  const hd = hostDirOf(labName, h.name);
  const log = join(hd, "director.log");
  const control = controlPath(labName, h.name);
  const labFile = readJournal(labName).find((e): e is Extract<JournalEntry, { kind: "lab" }> => e.kind === "lab")!.file;
  // LVSLAB_DIRECTOR_PROFILE=DIR: the director writes a V8 CPU profile there when it stops.
  const prof = process.env.LVSLAB_DIRECTOR_PROFILE;
  const prog = [process.execPath, ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []), LVSLAB_MAIN, "director", "--lab", labFile, "--host", h.name, "--control", control];
  if (o.seed !== undefined) prog.push("--seed", String(o.seed));
  // Through the launcher, which opens the raw sockets and becomes the director (same pid).
  const argv = ["ip", "netns", "exec", ns, ...(wantsLaunch() ? launchArgv(h.nics.map((n) => n.name), prog) : prog)];
  appendJournal(labName, { kind: "director", host: h.name, ns, control });
  const pid = startDetached(labName, argv, log, { ns, host: h.name, what: "lvslab director" });
  const ready = (): boolean => existsSync(log) && readFileSync(log, "utf8").split("\n").includes(READY_LINE);
  const r = waitFor(ready, pid, DIRECTOR_START_MS);
  if (r !== "ok") throw new RealError(`${h.name}: lvslab director did not become ready (${r}): ${tail(log)}`);
  return `lvslab director (pid ${pid}, control ${control})`;
}

/** Pids of every process in a namespace (`ip netns pids`). */
function nsPids(ns: string): number[] {
  const r = run("ip", ["netns", "pids", ns]);
  if (r.code !== 0) return [];
  return r.stdout.split("\n").filter((l) => /^\d+$/.test(l)).map(Number);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Remove what the journal says `up` created: processes (the ones `up` started, if they are
 * still the same processes, and whatever runs in the lab's namespaces), the namespaces
 * (their interfaces and bridges go with them) and the lab's directory. Idempotent.
 */
export function down(labName: string, out: (s: string) => void): boolean {
  const dir = labDir(labName);
  const entries = readJournal(labName);
  if (entries.length === 0 && !existsSync(dir)) return false;
  assertCanRun();
  const nss = entries.filter((e): e is Extract<JournalEntry, { kind: "netns" }> => e.kind === "netns").map((e) => e.name);
  const present = existingNamespaces();
  const victims = (): number[] => {
    const pids = new Set<number>();
    for (const e of entries) if (e.kind === "proc" && e.start !== "" && procStartTime(e.pid) === e.start) pids.add(e.pid);
    for (const ns of nss) if (present.has(ns)) for (const p of nsPids(ns)) pids.add(p);
    pids.delete(process.pid);
    return [...pids].filter(alive);
  };
  let left = victims();
  for (const p of left) signal(p, "SIGTERM");
  const end = Date.now() + STOP_GRACE_MS;
  for (let i = 0; i < 1000 && left.length > 0 && Date.now() < end; i++) {
    sleepMs(30);
    left = victims();
  }
  for (const p of left) signal(p, "SIGKILL");
  for (let i = 0; i < 100 && victims().length > 0; i++) sleepMs(20);
  for (const ns of [...nss].reverse()) {
    if (!present.has(ns)) continue;
    const r = run("ip", ["netns", "del", ns]);
    if (r.code !== 0) out(`lvslab: ip netns del ${ns}: ${r.stderr.trim()}\n`);
  }
  rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(STATE_ROOT); // made by the first `up`; removed when no lab is left (only if empty)
  } catch {
    // other labs are up, or it was never made
  }
  out(`lvslab: lab ${labName} is down (${nss.filter((n) => present.has(n)).length} network namespaces removed)\n`);
  return true;
}

export interface LabState {
  readonly name: string;
  readonly id: string;
  readonly file: string;
  readonly ready: boolean;
  readonly entries: JournalEntry[];
}

export function labState(labName: string): LabState | undefined {
  const entries = readJournal(labName);
  const lab = entries.find((e): e is Extract<JournalEntry, { kind: "lab" }> => e.kind === "lab");
  if (!lab) return undefined;
  return { name: lab.name, id: lab.id, file: lab.file, ready: entries.some((e) => e.kind === "ready"), entries };
}

/** `lvslab status`: the labs that are up and what runs in them. */
export function status(out: (s: string) => void): void {
  const labs = labsWithState();
  if (labs.length === 0) {
    out("lvslab: no lab is up\n");
    return;
  }
  for (const l of labs) {
    const st = labState(l);
    if (!st) continue;
    out(`${st.name}: ${st.ready ? "up" : "half up (an interrupted lvslab up; lvslab down removes it)"} — ${st.file}\n`);
    for (const e of st.entries) {
      if (e.kind === "netns") out(`  netns ${e.name}\n`);
      if (e.kind === "proc") out(`    ${e.host}: ${e.what} pid ${e.pid}${procStartTime(e.pid) === e.start ? "" : " (exited)"}\n`);
    }
  }
}

/** The host a command goes to: a namespace, or the director's control socket. */
export type ExecTarget = { kind: "ns"; argv: string[] } | { kind: "director"; control: string };

export function execTarget(st: LabState, host: string, cmd: readonly string[]): ExecTarget | string {
  const dir = st.entries.find((e): e is Extract<JournalEntry, { kind: "director" }> => e.kind === "director" && e.host === host);
  if (dir) return { kind: "director", control: dir.control };
  const ns = hostNs(st.id, host);
  if (!st.entries.some((e) => e.kind === "netns" && e.name === ns)) {
    const hosts = st.entries.flatMap((e) => (e.kind === "hostdir" ? [e.host] : []));
    return `lvslab: no host ${JSON.stringify(host)} in lab ${st.name} (hosts: ${hosts.join(", ")})`;
  }
  return { kind: "ns", argv: hostCommand(st.name, ns, host, cmd) };
}

/**
 * Run a real command in a host's namespace; resolves to its exit status, as a shell reports
 * it (130 for SIGINT, 141 for SIGPIPE). With this terminal and this process's signals passed
 * on; or, given `interrupt`, with no standard input, in a process group of its own that
 * the interrupt reaches whole (bash -c and the command it waits for), as a terminal's Ctrl-C.
 */
export function execInNamespace(argv: string[], interrupt?: Promise<void>): Promise<number> {
  return new Promise((res) => {
    const child = interrupt
      ? spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "inherit", "inherit"], detached: true })
      : spawn(argv[0]!, argv.slice(1), { stdio: "inherit" });
    const fwd = (sig: NodeJS.Signals): void => {
      child.kill(sig);
    };
    if (interrupt) {
      void interrupt.then(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGINT");
        } catch {
          // already gone
        }
      });
    } else {
      process.on("SIGTERM", fwd);
      process.on("SIGINT", fwd);
    }
    child.on("error", () => res(127));
    child.on("exit", (code, sig) => {
      process.off("SIGTERM", fwd);
      process.off("SIGINT", fwd);
      res(code ?? 128 + (sig ? osConstants.signals[sig] : 0));
    });
  });
}

