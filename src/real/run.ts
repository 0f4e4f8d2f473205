/**
 * `lvslab run LAB --real`: the lab's steps on the real network namespaces `lvslab up`
 * builds, with the simulator's step loop, transcript and checks (runStepsOn in
 * src/lab/runner.ts) — only where a command runs differs.
 *
 * - A host's command goes the way `lvslab exec` sends it: into the host's namespace
 *   through its enter.sh, as `bash -c LINE`; on the director (lvslab's own, simulated
 *   host) through its control socket, as `eval LINE` in its shell, so the shell's state
 *   carries over from step to step as at a prompt.
 * - A command's stdout is a pseudo-terminal (python3's pty module), as at the prompt the
 *   transcript shows: curl prints no progress meter, tcpdump writes each packet as it
 *   comes. Its stderr stays apart, for `expect: { stderr }`.
 * - Ctrl-C is SIGINT to the command's process group (tcpdump prints its summary), or the
 *   control socket's INT for the director. Every command is bounded: a foreground one is
 *   interrupted after its step's `timeout` (default REAL_STEP_LIMIT_US), and whatever
 *   does not stop within STOP_GRACE_MS of an interrupt is killed.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Micros } from "../sim/clock.js";
import { type BackgroundJob, type RunReport, runStepsOn, type StepBackend, Transcript } from "../lab/runner.js";
import type { LabSpec, RunStep } from "../lab/schema.js";
import { isSimulatedModule } from "../tools/net/modprobe.js";
import { controlRequest } from "./control.js";
import { labsWithState, setStateRoot, STATE_ROOT } from "./state.js";
import { RealError, run as runSync, which } from "./sys.js";
import { down, execTarget, labState, up } from "./up.js";

/** A foreground step's time limit when the lab gives none (real seconds, not virtual ones). */
export const REAL_STEP_LIMIT_US: Micros = 60_000_000;
/** How long an interrupted command may take to finish before it is killed. */
const STOP_GRACE_MS = 10_000;
/** How long a background command may take to print its first line (tcpdump's "listening on"). */
const BACKGROUND_START_MS = 3_000;

/**
 * python3: runs argv[1:] with stdout on a new pseudo-terminal (output post-processing off,
 * so "\n" stays "\n"), stderr on a pipe and stdin from /dev/null, and passes on what it
 * prints in the order it came as records on its own stdout — b"o" or b"e", a 4-byte
 * big-endian length, the bytes — so that stdout and stderr stay apart (for `expect`) and
 * in order (for the transcript). Exits with the command's status (128+N for signal N, as a
 * shell reports it). It and the command share a process group; it shrugs off the SIGINT
 * sent to that group.
 */
const PTY_PY = String.raw`
import os, pty, select, signal, struct, sys, termios
m, s = pty.openpty()
a = termios.tcgetattr(s)
a[1] &= ~termios.OPOST
termios.tcsetattr(s, termios.TCSANOW, a)
er, ew = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(m); os.close(er)
    n = os.open("/dev/null", os.O_RDONLY)
    os.dup2(n, 0); os.dup2(s, 1); os.dup2(ew, 2)
    os.close(n); os.close(s); os.close(ew)
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    except OSError as e:
        os.write(2, ("%s: %s\n" % (sys.argv[1], e.strerror)).encode())
        os._exit(127)
signal.signal(signal.SIGINT, lambda *_: None)
os.close(s); os.close(ew)
tags = {m: b"o", er: b"e"}
while tags:
    try:
        ready = select.select(list(tags), [], [])[0]
    except InterruptedError:
        continue
    for fd in sorted(ready, key=lambda f: tags[f] == b"e"):
        try:
            d = os.read(fd, 65536)
        except OSError:
            d = b""
        if not d:
            del tags[fd]
            continue
        os.write(1, tags[fd] + struct.pack(">I", len(d)) + d)
st = os.waitpid(pid, 0)[1]
c = os.waitstatus_to_exitcode(st)
sys.exit(128 - c if c < 0 else c)
`;

/** Splits PTY_PY's records back into stdout and stderr. */
function recordReader(io: Transcript): (d: Buffer) => void {
  let buf = Buffer.alloc(0);
  const dec = { o: new TextDecoder(), e: new TextDecoder() };
  return (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const tag = buf[0] === 0x65 ? "e" : "o";
      const text = dec[tag].decode(buf.subarray(5, 5 + len), { stream: true });
      buf = buf.subarray(5 + len);
      if (tag === "e") io.stderr(text);
      else io.stdout(text);
    }
  };
}

interface Running {
  readonly io: Transcript;
  /** Resolves to the exit status. */
  readonly done: Promise<number>;
  exit: number | undefined;
  interrupt(): void;
  kill(): void;
}

/** Run argv (in its own process group) with its output going to `io`. */
function spawnCommand(argv: string[], io: Transcript): Running {
  const python = which("python3");
  const full = python ? [python, "-c", PTY_PY, ...argv] : argv;
  const child = spawn(full[0]!, full.slice(1), {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    cwd: existsSync("/root") ? "/root" : "/",
    env: { ...process.env, HOME: "/root" },
  });
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      // gone already
    }
  };
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => io.stderr(d));
  if (python) child.stdout!.on("data", recordReader(io));
  else {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (d: string) => io.stdout(d));
  }
  const r: Running = {
    io,
    exit: undefined,
    done: new Promise<number>((res) => {
      child.on("error", (e) => {
        io.stderr(`lvslab: ${full[0]}: ${e.message}\n`);
        r.exit = 127;
        res(127);
      });
      // "close", not "exit": every byte it wrote is in `io` by then.
      child.on("close", (code, sig) => {
        r.exit = code ?? 128 + (sig === "SIGINT" ? 2 : sig === "SIGKILL" ? 9 : 15);
        res(r.exit);
      });
    }),
    interrupt: () => signalGroup("SIGINT"),
    kill: () => signalGroup("SIGKILL"),
  };
  return r;
}

/** Run a command line on the director, through its control socket. */
function directorCommand(control: string, line: string, io: Transcript): Running {
  let fire: () => void = () => undefined;
  const interrupt = new Promise<void>((r) => (fire = r));
  const r: Running = {
    io,
    exit: undefined,
    done: controlRequest(control, { argv: ["eval", line] }, { onStdout: (s) => io.stdout(s), onStderr: (s) => io.stderr(s), interrupt }).then(
      (res) => (r.exit = res.code),
      (e: unknown) => {
        io.stderr(`lvslab: ${e instanceof Error ? e.message : String(e)}\n`);
        return (r.exit = 70);
      },
    ),
    interrupt: () => fire(),
    // Closing the request is the director's Ctrl-C too; nothing more can be done from here.
    kill: () => fire(),
  };
  return r;
}

const timeout = (ms: number): Promise<"timeout"> => new Promise((r) => setTimeout(() => r("timeout"), ms).unref());

/** Ctrl-C it (showing `^C`, as the simulator does), then wait; killed when it does not stop. */
async function interruptAndWait(p: Running): Promise<number | undefined> {
  p.io.push("^C");
  p.interrupt();
  if ((await Promise.race([p.done, timeout(STOP_GRACE_MS)])) !== "timeout") return p.exit;
  p.kill();
  await Promise.race([p.done, timeout(2_000)]);
  return undefined;
}

/** Modules a command line or script loads with modprobe. */
function modprobed(text: string): string[] {
  return [...text.matchAll(/^\s*modprobe\s+(?:-\S+\s+)*([\w-]+)/gm)].map((m) => m[1]!);
}

/** Whether this machine's kernel has a module: loaded or built in, or installed for modprobe. */
function kernelHasModule(name: string): boolean {
  return existsSync(`/sys/module/${name.replace(/-/g, "_")}`) || runSync("modinfo", [name]).code === 0;
}

/** The steps' backend on a lab that is up. */
class RealBackend implements StepBackend {
  private abortedFlag = false;
  private wakeSleep: () => void = () => undefined;
  /** Ends the foreground command's wait (Ctrl-C). */
  private onAbort: () => void = () => undefined;

  constructor(
    private readonly spec: LabSpec,
    private readonly labName: string,
  ) {}

  prompt(host: string): string {
    const h = this.spec.hosts.find((x) => x.name === host);
    return `[root@${h?.hostname ?? host} ~]# `;
  }

  private launch(host: string, line: string, io: Transcript): Running {
    const st = labState(this.labName);
    if (!st) throw new RealError(`lab ${this.labName} is not up any more`);
    const t = execTarget(st, host, ["bash", "-c", line]);
    if (typeof t === "string") throw new RealError(t.replace(/^lvslab: /, ""));
    const p = t.kind === "director" ? directorCommand(t.control, line, io) : spawnCommand(t.argv, io);
    return p;
  }

  async run(host: string, line: string, o: { limitUs?: Micros; live: (s: string) => void }): Promise<{ exit: number; io: Transcript; timedOut: boolean }> {
    const io = new Transcript(o.live);
    const p = this.launch(host, line, io);
    const limitMs = Math.ceil((o.limitUs ?? REAL_STEP_LIMIT_US) / 1000);
    const aborted = new Promise<"abort">((r) => (this.onAbort = () => r("abort")));
    const why = await Promise.race([p.done, timeout(limitMs), aborted]);
    this.onAbort = () => undefined;
    if (typeof why === "number") return { exit: why, io, timedOut: false };
    return { exit: (await interruptAndWait(p)) ?? 130, io, timedOut: why === "timeout" };
  }

  async start(host: string, line: string): Promise<BackgroundJob> {
    let printed: () => void = () => undefined;
    const said = new Promise<void>((r) => (printed = r));
    const io = new Transcript(() => printed());
    const p = this.launch(host, line, io);
    // It is going once it said so (tcpdump's "listening on ..."), or has ended, or after a while.
    await Promise.race([said, p.done, timeout(BACKGROUND_START_MS)]);
    return { io, stop: () => (p.exit !== undefined ? Promise.resolve(p.exit) : interruptAndWait(p)) };
  }

  sleep(us: Micros): Promise<void> {
    if (this.abortedFlag) return Promise.resolve();
    return new Promise((res) => {
      const t = setTimeout(res, Math.ceil(us / 1000));
      this.wakeSleep = () => {
        clearTimeout(t);
        res();
      };
    });
  }

  caveat(step: RunStep): string | undefined {
    // The simulator's hosts have every module a lab loads (ipip, toa); this machine's kernel
    // may not. Looked for in the command itself and in a lab script it runs (sh FILE).
    const host = this.spec.hosts.find((h) => h.name === step.on);
    if (!host || host.ipvs) return undefined;
    const script = /^\s*(?:sh|bash)\s+(\/\S+)/.exec(step.run)?.[1];
    const file = script === undefined ? undefined : host.files.find((f) => f.path === script);
    const modules = modprobed(step.run);
    if (file) modules.push(...modprobed(file.content));
    const missing = [...new Set(modules)].filter((m) => isSimulatedModule(m) && !kernelHasModule(m));
    if (missing.length === 0) return undefined;
    const what = `${missing.join(" and ")} module${missing.length > 1 ? "s" : ""}`;
    return `lvslab --real: this machine's kernel has no ${what}${file ? ` (${script} loads ${missing.length > 1 ? "them" : "it"})` : ""}; the simulator's hosts have ${missing.length > 1 ? "them" : "it"}, so this step cannot mean the same thing here`;
  }

  readonly aborted = (): boolean => this.abortedFlag;

  /** Ctrl-C: interrupt what runs in the foreground and run no further step. */
  abort(): void {
    this.abortedFlag = true;
    this.wakeSleep();
    this.onAbort();
  }
}

export interface RealRunOptions {
  labPath: string;
  /** The transcript (stdout). */
  out: (s: string) => void;
  /** Real mode's own messages: up, down, where the state is (stderr). */
  note: (s: string) => void;
  keep?: boolean;
  seed?: number;
  stopOnFailure?: boolean;
}

export interface RealRunResult {
  readonly report?: RunReport;
  /** Set when Ctrl-C (or SIGTERM, SIGHUP) ended the run early. */
  readonly interrupted: boolean;
  /** Set when standard output's reader went away (EPIPE) and the run stopped there. */
  readonly outputClosed: boolean;
}

/**
 * Bring the lab up, run its steps, take it down (unless `keep`) — also when a step fails,
 * something throws or a signal comes. A lab of the same name that is already up (or half
 * up) is left alone: this run builds its own copy, with its state in a directory of its
 * own (STATE_ROOT-run-PID) and so namespaces of its own.
 */
export async function runReal(spec: LabSpec, o: RealRunOptions): Promise<RealRunResult> {
  const name = spec.name;
  let own: string | undefined;
  if (labsWithState().includes(name)) {
    own = `${STATE_ROOT}-run-${process.pid}`;
    o.note(`lvslab: lab ${name} is up already; leaving it alone and running a copy with its state in ${own}\n`);
    setStateRoot(own);
  }
  const backend = new RealBackend(spec, name);
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    o.note(`\nlvslab: interrupted; stopping the commands${o.keep ? "" : " and taking the lab down"}\n`);
    backend.abort();
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, onSignal);
  // Output into a pipe whose reader left (`| head`, also `2>&1 | head`): stop as a real
  // command killed by SIGPIPE would, but take the lab down first — an unhandled EPIPE would
  // leave it up. Notes written after that go nowhere.
  let outputClosed = false;
  const onOutputError = (): void => {
    if (outputClosed) return;
    outputClosed = true;
    if (!interrupted) {
      interrupted = true;
      backend.abort();
    }
  };
  process.stdout.on("error", onOutputError);
  process.stderr.on("error", onOutputError);
  const out = (text: string): void => {
    if (!outputClosed) o.out(text);
  };
  const note = (text: string): void => {
    if (!outputClosed) o.note(text);
  };
  try {
    up(spec, { labPath: o.labPath, out: note, ...(o.seed !== undefined ? { seed: o.seed } : {}) });
    let report: RunReport | undefined;
    try {
      if (!interrupted) report = await runStepsOn(backend, spec, { out, stopOnFailure: o.stopOnFailure });
    } finally {
      if (o.keep) {
        const env = own !== undefined ? `LVSLAB_STATE_DIR=${own} ` : "";
        note(`lvslab: lab ${name} is still up (--keep): ${env}lvslab exec ${name} HOST -- CMD; ${env}lvslab down ${name} removes it\n`);
      } else down(name, note);
    }
    return { report, interrupted: interrupted && !outputClosed, outputClosed };
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
