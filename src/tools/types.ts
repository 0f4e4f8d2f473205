/**
 * The contract between a host and the commands people type on it (`ipvsadm`, `tcpdump`,
 * `curl`, `ip`, `sh` …). A tool is an async function of its context that resolves to the
 * exit status. Tools never touch the real console, file system or clock: everything comes
 * through the context, so a run is deterministic.
 */
import type { Micros } from "../sim/clock.js";

export interface ToolIo {
  /** Text for standard output (a tool may write partial lines). */
  stdout(text: string): void;
  /** Text for standard error. */
  stderr(text: string): void;
  /** Standard input, when the caller supplied any (e.g. `ipvsadm -R < file`). */
  stdin?: string;
}

/** The virtual file system of one host (paths are absolute; /proc/sys is live). */
export interface Vfs {
  /** File contents, or an errno name: "ENOENT", "EISDIR", "EACCES". */
  read(path: string): Uint8Array | ErrnoName;
  readText(path: string): string | ErrnoName;
  write(path: string, data: Uint8Array | string, opts?: { append?: boolean }): true | ErrnoName;
  exists(path: string): boolean;
  isDir(path: string): boolean;
  /** Names in a directory, sorted. */
  list(path: string): string[] | ErrnoName;
  mkdirp(path: string): void;
  remove(path: string): true | ErrnoName;
}

export type ErrnoName =
  | "ENOENT" | "EEXIST" | "EISDIR" | "ENOTDIR" | "EACCES" | "EPERM" | "EINVAL" | "ESRCH"
  | "ERANGE" | "ENODEV" | "EADDRINUSE" | "EADDRNOTAVAIL" | "ECONNREFUSED" | "ETIMEDOUT"
  | "EHOSTUNREACH" | "ENETUNREACH" | "ECONNRESET" | "ENOPROTOOPT" | "EOPNOTSUPP" | "EAFNOSUPPORT"
  | "ENOMEM" | "EMSGSIZE" | "EPIPE" | "EAGAIN" | "ENOTCONN";

/** Direction of a frame seen by a capture tap, relative to the host owning the NIC. */
export type FrameDirection = "in" | "out";

/** One frame as a capture point sees it. `frame` starts at the Ethernet header. */
export interface CapturedFrame {
  readonly ts: Micros;
  readonly ifname: string;
  readonly dir: FrameDirection;
  readonly frame: Uint8Array;
}

/** What a capture tool asks of the host: frames from one NIC, or from all of them ("any"). */
export interface CaptureSource {
  /** Interface names in `ip link` order (lo first). */
  interfaces(): string[];
  /** The interface's ARPHRD_* type (tunnels carry raw IP); Ethernet when not given. */
  hatype?(ifname: string): number | undefined;
  /**
   * Start receiving frames seen on `ifname` ("any" = every interface). Returns a function
   * that stops the tap, or "ENODEV" when there is no such interface.
   */
  tap(ifname: string, listener: (f: CapturedFrame) => void): (() => void) | "ENODEV";
}

export interface ToolContext {
  /** argv[0] is the command name as typed. */
  readonly argv: readonly string[];
  readonly io: ToolIo;
  readonly env: Map<string, string>;
  /** The host this command runs on (see src/net/host.ts). Typed loosely here to keep tools decoupled. */
  readonly host: HostForTools;
  /** Virtual time now. */
  now(): Micros;
  /** Microseconds since the Unix epoch for virtual time `t` (the lab's wall-clock start + t). */
  epochMicros(t: Micros): number;
  /** Resolves after `us` microseconds of virtual time. */
  sleep(us: Micros): Promise<void>;
  /** Resolves when the command is interrupted (Ctrl-C at the end of a background capture). */
  readonly interrupted: Promise<"SIGINT" | "SIGTERM">;
  isInterrupted(): boolean;
  /** Run another command line on the same host (what `sh` does for each simple command). */
  run?(argv: string[], io: ToolIo): Promise<number>;
}

/**
 * The slice of a host that tools see. Each tool uses the parts it needs; the concrete
 * Host in src/net implements all of it.
 */
export interface HostForTools {
  readonly name: string;
  readonly fs: Vfs;
  readonly capture: CaptureSource;
  // Further members (ipvs, netfilter, routes, sockets) are declared in src/net/host.ts.
  [key: string]: unknown;
}

export type Tool = (ctx: ToolContext) => Promise<number>;
