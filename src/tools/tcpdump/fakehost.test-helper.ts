/**
 * A tool context over an in-memory file system and a capture source the test drives:
 * `emit(frame)` delivers a frame to the taps, `interrupt()` resolves ctx.interrupted.
 */
import type { CapturedFrame, ErrnoName, ToolContext, Vfs } from "../types.js";

export class MemFs implements Vfs {
  readonly files = new Map<string, Uint8Array>();
  read(path: string): Uint8Array | ErrnoName { return this.files.get(path) ?? "ENOENT"; }
  readText(path: string): string | ErrnoName {
    const b = this.files.get(path);
    return b === undefined ? "ENOENT" : new TextDecoder().decode(b);
  }
  write(path: string, data: Uint8Array | string, opts?: { append?: boolean }): true | ErrnoName {
    if (!path.startsWith("/") || path.startsWith("/nonexistent/")) return "ENOENT";
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const old = opts?.append ? this.files.get(path) ?? new Uint8Array(0) : new Uint8Array(0);
    const out = new Uint8Array(old.length + bytes.length);
    out.set(old); out.set(bytes, old.length);
    this.files.set(path, out);
    return true;
  }
  exists(path: string): boolean { return this.files.has(path); }
  isDir(): boolean { return false; }
  list(): string[] { return [...this.files.keys()].sort(); }
  mkdirp(): void {}
  remove(path: string): true | ErrnoName { return this.files.delete(path) ? true : "ENOENT"; }
}

export interface FakeRun {
  ctx: ToolContext;
  fs: MemFs;
  out: () => string;
  err: () => string;
  /** Deliver a frame at virtual time `ts` (µs). */
  emit(ifname: string, frame: Uint8Array, ts: number, dir?: "in" | "out"): void;
  interrupt(): void;
}

/** Lab wall clock starts at 2023-11-14 22:13:20 UTC (epoch 1700000000). */
export const EPOCH_US = 1700000000_000000;

export function fakeRun(argv: string[], opts: { fs?: MemFs; ifaces?: string[]; env?: Record<string, string> } = {}): FakeRun {
  const fs = opts.fs ?? new MemFs();
  const ifaces = opts.ifaces ?? ["lo", "eth0", "eth1"];
  let out = "", err = "";
  const taps: { ifname: string; fn: (f: CapturedFrame) => void }[] = [];
  let interrupt!: (s: "SIGINT") => void;
  let interrupted = false;
  const intr = new Promise<"SIGINT" | "SIGTERM">((res) => { interrupt = res; });
  const ctx: ToolContext = {
    argv,
    io: { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } },
    env: new Map(Object.entries(opts.env ?? {})),
    host: {
      name: "h",
      fs,
      capture: {
        interfaces: () => ifaces,
        tap(ifname, fn) {
          if (ifname !== "any" && !ifaces.includes(ifname)) return "ENODEV";
          const t = { ifname, fn };
          taps.push(t);
          return () => { taps.splice(taps.indexOf(t), 1); };
        },
      },
    },
    now: () => 0,
    epochMicros: (t) => EPOCH_US + t,
    sleep: async () => {},
    interrupted: intr,
    isInterrupted: () => interrupted,
  };
  return {
    ctx, fs, out: () => out, err: () => err,
    emit(ifname, frame, ts, dir = "in") {
      for (const t of [...taps]) if (t.ifname === "any" || t.ifname === ifname) t.fn({ ts, ifname, dir, frame });
    },
    interrupt() { interrupted = true; interrupt("SIGINT"); },
  };
}
