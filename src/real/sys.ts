/**
 * The outside world for real mode: running programs (always bounded in time), and whether
 * this process may create network namespaces at all. Everything in src/real that touches
 * the host machine goes through here.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a program to completion (killed after `timeoutMs`); never throws. */
export function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(cmd, args, { input: opts.input, encoding: "utf8", timeout: opts.timeoutMs ?? 20_000, killSignal: "SIGKILL" });
  if (r.error) return { code: 127, stdout: r.stdout ?? "", stderr: `${cmd}: ${r.error.message}` };
  return { code: r.status ?? 128 + 9, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Like `run`, but a failure is an Error naming the command and what it printed. */
export function must(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new RealError(`${[cmd, ...args].join(" ")}: ${(r.stderr || r.stdout).trim() || `exit status ${r.code}`}`);
  return r.stdout;
}

/** An expected failure of real mode (told to the user in one line, not as a stack). */
export class RealError extends Error {}

const PATH_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Where a program is, or undefined (PATH plus the sbin directories sudo may drop). */
export function which(prog: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":").filter((d) => d !== ""), ...PATH_DIRS];
  for (const d of dirs) if (existsSync(`${d}/${prog}`)) return `${d}/${prog}`;
  return undefined;
}

/** CAP_NET_ADMIN is bit 12 of the effective capability set. */
const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/**
 * Why real mode cannot run here, or undefined when it can. Creating and entering network
 * namespaces needs CAP_NET_ADMIN and CAP_SYS_ADMIN (the mounts under /run/netns); root has both.
 */
export function realModeBlocker(): string | undefined {
  let capEff = 0n;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) capEff = BigInt(`0x${m[1]}`);
  } catch {
    // no /proc: not Linux
  }
  if (process.platform !== "linux") return "real mode needs Linux (network namespaces)";
  const has = (bit: bigint): boolean => ((capEff >> bit) & 1n) === 1n;
  if (!has(CAP_NET_ADMIN) || !has(CAP_SYS_ADMIN)) return "real mode needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces; run it as root or with sudo";
  if (!which("ip")) return "real mode needs the ip command (Debian: apt-get install iproute2)";
  return undefined;
}

/** Start time of a process (field 22 of /proc/PID/stat, clock ticks since boot), or undefined if it is gone. */
export function procStartTime(pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields start after the last ")".
    return s.slice(s.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
