/**
 * Test doubles for the shell: an in-memory Vfs whose /proc/sys behaves like sysctl files
 * (ENOENT for unknown keys, EINVAL for non-numbers), and a context whose host knows a few
 * commands and records every call.
 */
import type { ErrnoName, HostForTools, ToolContext, ToolIo, Vfs } from "../types.js";
import { contextRun, type CommandRunner } from "./runner.js";
import { coreTools } from "./index.js";

export class MemVfs implements Vfs {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>(["/"]);
  readonly sysctls = new Map<string, string>();
  readonly sysctlWrites: [string, string][] = [];

  constructor(files: Record<string, string> = {}, sysctls: Record<string, string> = {}) {
    for (const [p, t] of Object.entries(files)) this.put(p, t);
    for (const [k, v] of Object.entries(sysctls)) this.sysctls.set(`/proc/sys/${k.replace(/\./g, "/")}`, v);
    for (const d of ["/root", "/tmp", "/usr/local/sbin", "/usr/bin", "/etc"]) this.mkdirp(d);
  }

  put(path: string, text: string): void {
    this.mkdirp(path.slice(0, path.lastIndexOf("/")) || "/");
    this.files.set(path, text);
  }

  private sysDir(path: string): boolean {
    if (path === "/proc" || path === "/proc/sys") return true;
    for (const k of this.sysctls.keys()) if (k.startsWith(path + "/")) return true;
    return false;
  }

  read(path: string): Uint8Array | ErrnoName {
    const t = this.readText(path);
    return typeof t === "string" && /^E[A-Z]+$/.test(t) && !this.exists(path) ? (t as ErrnoName) : new TextEncoder().encode(t);
  }
  readText(path: string): string | ErrnoName {
    if (this.isDir(path)) return "EISDIR";
    const s = this.sysctls.get(path);
    if (s !== undefined) return s + "\n";
    return this.files.get(path) ?? "ENOENT";
  }
  write(path: string, data: Uint8Array | string, opts?: { append?: boolean }): true | ErrnoName {
    const text = typeof data === "string" ? data : new TextDecoder().decode(data);
    if (path.startsWith("/proc/")) {
      if (this.isDir(path)) return "EISDIR";
      if (!this.sysctls.has(path)) return "ENOENT";
      if (!/^\s*-?\d+\s*$/.test(text)) return "EINVAL";
      this.sysctls.set(path, text.trim());
      this.sysctlWrites.push([path.slice("/proc/sys/".length).replace(/\//g, "."), text.trim()]);
      return true;
    }
    if (this.isDir(path)) return "EISDIR";
    const dir = path.slice(0, path.lastIndexOf("/")) || "/";
    if (!this.dirs.has(dir)) return "ENOENT";
    this.files.set(path, (opts?.append ? this.files.get(path) ?? "" : "") + text);
    return true;
  }
  exists(path: string): boolean {
    return this.files.has(path) || this.sysctls.has(path) || this.isDir(path);
  }
  isDir(path: string): boolean {
    return this.dirs.has(path) || (path.startsWith("/proc") && this.sysDir(path));
  }
  list(path: string): string[] | ErrnoName {
    if (!this.isDir(path)) return this.exists(path) ? "ENOTDIR" : "ENOENT";
    const pre = path === "/" ? "/" : path + "/";
    const names = new Set<string>();
    for (const p of [...this.files.keys(), ...this.dirs, ...this.sysctls.keys()]) {
      if (p.startsWith(pre) && p !== pre) names.add(p.slice(pre.length).split("/")[0]!);
    }
    return [...names].sort();
  }
  mkdirp(path: string): void {
    let p = "";
    for (const part of path.split("/").filter((x) => x !== "")) {
      p += "/" + part;
      this.dirs.add(p);
    }
  }
  remove(path: string): true | ErrnoName {
    if (this.files.delete(path)) return true;
    if (this.dirs.has(path)) {
      for (const f of [...this.files.keys()]) if (f.startsWith(path + "/")) this.files.delete(f);
      for (const d of [...this.dirs]) if (d === path || d.startsWith(path + "/")) this.dirs.delete(d);
      return true;
    }
    return "ENOENT";
  }
}

/** The seed director's sysctls (eth0, eth1). */
export function directorSysctls(ifaces = ["eth0", "eth1"]): Record<string, string> {
  const s: Record<string, string> = { "net.ipv4.ip_forward": "0" };
  for (const i of ["all", "default", "lo", ...ifaces]) {
    s[`net.ipv4.conf.${i}.send_redirects`] = "1";
    s[`net.ipv4.conf.${i}.rp_filter`] = "0";
  }
  return s;
}

export interface Harness {
  ctx: ToolContext;
  fs: MemVfs;
  /** Every command the host ran, argv in order. */
  calls: string[][];
  out(): string;
  err(): string;
  /** Host tools that print their argv (for checking what the shell passed). */
}

export interface HarnessOptions {
  fs?: MemVfs;
  stdin?: string;
  env?: Record<string, string>;
  /** Commands the fake host knows: name → exit status (default: ipvsadm, iptables → 0; fail → 1). */
  hostCommands?: Record<string, number>;
  /** Register coreTools in the host's table too (as a real host does). */
  withCoreTools?: boolean;
}

export function harness(argv: string[], o: HarnessOptions = {}): Harness {
  const fs = o.fs ?? new MemVfs();
  const calls: string[][] = [];
  let out = "";
  let err = "";
  const io: ToolIo = { stdout: (s) => (out += s), stderr: (s) => (err += s) };
  if (o.stdin !== undefined) io.stdin = o.stdin;
  const known = o.hostCommands ?? { ipvsadm: 0, iptables: 0, fail: 1, args: 0 };
  const host: HostForTools = {
    name: "director",
    fs,
    capture: { interfaces: () => ["lo"], tap: () => "ENODEV" },
  };
  let t = 0;
  const base = {
    host,
    now: () => t,
    epochMicros: (x: number) => 1_700_000_000_000_000 + x,
    sleep: async (us: number) => {
      t += us;
    },
    interrupted: new Promise<"SIGINT" | "SIGTERM">(() => {}),
    isInterrupted: () => false,
  };
  const runner: CommandRunner = async (a, cio, env) => {
    const name = a[0]!;
    if (name in known) {
      calls.push([...a]);
      if (name === "args") cio.stdout(a.slice(1).map((x) => `<${x}>`).join("") + "\n");
      if (name === "fail") cio.stderr("fail: failed\n");
      return known[name]!;
    }
    const tool = o.withCoreTools ? coreTools[name] : undefined;
    if (tool) {
      calls.push([...a]);
      return tool({ ...base, argv: a, io: cio, env: env ?? new Map(), run: contextRun(runner) });
    }
    return "not-found";
  };
  const env = new Map(Object.entries({ HOME: "/root", PWD: "/root", PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...o.env }));
  const ctx: ToolContext = { ...base, argv, io, env, run: contextRun(runner) };
  return { ctx, fs, calls, out: () => out, err: () => err };
}
