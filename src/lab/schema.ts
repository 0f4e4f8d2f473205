/**
 * The lab file, as the rest of lvslab sees it. `loadLab` (load.ts) turns YAML text into a
 * `LabSpec` or into diagnostics; everything here is plain data, already validated and
 * resolved: addresses are numbers, durations are integer microseconds, every NIC has a MAC
 * (generated when the file gives none), defaults are filled in. The builder and the runner
 * never look at YAML. The file format is documented in docs/lab-format.md.
 */

import type { Ip4, Mac } from "../wire/addr.js";

/** Integer microseconds (the simulator's time unit). */
export type Micros = number;

/** An IPv4 address with its prefix length, as written in the lab (`192.168.1.186/24`). */
export interface AddrSpec {
  /** The address, u32 host order. */
  readonly addr: Ip4;
  /** Prefix length 0..32. */
  readonly prefix: number;
  /** The canonical text, `a.b.c.d/n`. */
  readonly text: string;
}

/** Where something came from in the lab file (for the runner's messages). */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type SegmentType = "switch" | "hub";

/** An L2 segment: every NIC attached to it shares one broadcast domain. */
export interface SegmentSpec {
  readonly name: string;
  /** `switch` learns MACs and forwards unicast to one port; `hub` repeats every frame to every port. */
  readonly type: SegmentType;
  /** One-way delay through the segment. */
  readonly latencyUs: Micros;
}

export interface NicSpec {
  /** Interface name on its host (`eth0`). */
  readonly name: string;
  /** Name of the segment it is plugged into. */
  readonly segment: string;
  readonly mac: Mac;
  /** True when the lab file gave no MAC and the loader derived one (see `generateMac`). */
  readonly macGenerated: boolean;
  /** Addresses in file order; the first is the primary one. */
  readonly addrs: readonly AddrSpec[];
  readonly mtu: number;
}

export interface RouteSpec {
  /** Destination; `default` is 0.0.0.0/0 with text "default". */
  readonly to: AddrSpec;
  /** Next hop, if any (absent: the destination is on-link through `dev`). */
  readonly via?: Ip4;
  /** Output interface, if given. */
  readonly dev?: string;
  readonly metric?: number;
}

export interface SysctlSpec {
  /** Dotted name as `sysctl` prints it: `net.ipv4.ip_forward`. */
  readonly name: string;
  /** Value as written to /proc/sys. */
  readonly value: string;
}

export interface FileSpec {
  /** Absolute path. */
  readonly path: string;
  readonly content: string;
  /** Permission bits (e.g. 0o755); absent: the file system's default. */
  readonly mode?: number;
}

export interface NginxServiceSpec {
  readonly kind: "nginx";
  readonly root: string;
  readonly port: number;
  readonly index: string;
  /** `listen ... proxy_protocol`: connections start with a PROXY protocol header. */
  readonly proxyProtocol: boolean;
  /** The access log's `log_format` (absent: `combined`). */
  readonly logFormat?: string;
}

/** A daemon started at t=0. */
export type ServiceSpec = NginxServiceSpec;

export interface HostSpec {
  /** The key under `hosts:`; steps refer to hosts by it. */
  readonly name: string;
  /** What `hostname` prints and the shell prompt shows. Defaults to `name`. */
  readonly hostname: string;
  /** Whether the ip_vs module is available (ipvsadm works). */
  readonly ipvs: boolean;
  readonly nics: readonly NicSpec[];
  /** Routes besides the connected ones, in file order. */
  readonly routes: readonly RouteSpec[];
  /** Applied at t=0 in file order. */
  readonly sysctl: readonly SysctlSpec[];
  readonly files: readonly FileSpec[];
  readonly services: readonly ServiceSpec[];
  /** Extra lines for /etc/hosts (the builder adds localhost and the host's own name). */
  readonly hostsFile?: string;
}

export interface ExpectSpec {
  /** Exit status (0..255). */
  readonly exit?: number;
  /** Exact standard output. */
  readonly stdout?: string;
  /** Exact standard error. */
  readonly stderr?: string;
  /** Strings that must each occur in standard output. */
  readonly contains: readonly string[];
  /** Strings that must not occur in standard output. */
  readonly notContains: readonly string[];
  /** Regular expressions standard output must match (flag m: ^ and $ at every line). */
  readonly matches: readonly RegExp[];
}

interface StepBase {
  /** Index in `steps`. */
  readonly index: number;
  readonly pos: SourcePos;
}

/** Run a command line on a host. */
export interface RunStep extends StepBase {
  readonly kind: "run";
  /** Host name (a key of `hosts`). */
  readonly on: string;
  readonly run: string;
  /** Start it and go on; its output is printed when it is stopped. */
  readonly background: boolean;
  /** For `stop:` and for messages. */
  readonly name?: string;
  readonly expect?: ExpectSpec;
  /** Longest virtual time a foreground command may take; absent: the runner's default. */
  readonly timeoutUs?: Micros;
}

/** Let virtual time pass. */
export interface SleepStep extends StepBase {
  readonly kind: "sleep";
  readonly durationUs: Micros;
}

/** Interrupt a background step (as Ctrl-C would); its output is printed then. */
export interface StopStep extends StepBase {
  readonly kind: "stop";
  /** Name of an earlier background step. */
  readonly stop: string;
}

/** Print a comment line. */
export interface NoteStep extends StepBase {
  readonly kind: "note";
  readonly note: string;
}

export type StepSpec = RunStep | SleepStep | StopStep | NoteStep;

export interface LabSpec {
  readonly name: string;
  readonly description: string;
  /** Default RNG seed (the CLI's --seed overrides it). */
  readonly seed: number;
  /** Virtual wall-clock time at t=0, microseconds since the Unix epoch (UTC). */
  readonly clockEpochUs: Micros;
  /** TZ for tools (`date`, tcpdump's local times). */
  readonly timezone: string;
  readonly segments: readonly SegmentSpec[];
  /** In file order. */
  readonly hosts: readonly HostSpec[];
  readonly steps: readonly StepSpec[];
  /** The file name given to loadLab. */
  readonly source: string;
}

/** A problem in a lab file: where, what, and (sometimes) how to fix it. */
export interface Diagnostic {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** Field path like `hosts.vip.nics.eth1.addrs[0]`; "" for syntax errors. */
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
}

export const DEFAULTS = {
  seed: 1,
  clock: "2026-11-24T01:00:00Z",
  timezone: "UTC",
  segmentType: "switch" as SegmentType,
  latency: "50us",
  mtu: 1500,
  nginx: { root: "/usr/share/nginx/html", port: 80, index: "index.html" },
} as const;
