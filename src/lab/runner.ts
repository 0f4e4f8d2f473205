/**
 * Runs a lab's steps the way a person at the hosts' terminals would, and keeps the
 * transcript: each command is shown after a prompt like `[root@vip ~]# `, followed by what
 * it printed (stdout and stderr interleaved as a terminal shows them). Background commands
 * (captures) are shown when they are stopped — with the `^C` that stopped them.
 *
 * This is the one place that mixes virtual time with JavaScript promises: events run in
 * (time, sequence) order, and whenever an event resolved something a command awaits
 * (`world.wakePending`), the loop yields so the command's continuation runs at that same
 * virtual instant.
 */
import type { Micros } from "../sim/clock.js";
import type { Host } from "../net/host.js";
import type { World } from "../net/world.js";
import { runScript, ShellState } from "../tools/sh/index.js";
import type { ToolIo } from "../tools/types.js";
import type { BuiltLab } from "./build.js";
import type { ExpectSpec, LabSpec, RunStep } from "./schema.js";

const yieldToPromises = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Longest virtual time a foreground command may run before the runner interrupts it. */
export const DEFAULT_STEP_LIMIT_US: Micros = 600_000_000;

/**
 * Run events until `done()` or until virtual time would pass `deadline`. Returns true when
 * done, false when the deadline came or nothing more can happen (a command waits forever).
 */
export async function drive(world: World, done: () => boolean, deadline: Micros): Promise<boolean> {
  let idleYields = 0;
  const settledAt = new Set<Micros>();
  for (;;) {
    if (done()) return true;
    if (world.wakePending) {
      world.wakePending = false;
      await yieldToPromises();
      idleYields = 0;
      continue;
    }
    const t = world.queue.peekTime();
    if (t === undefined || t > deadline) {
      // Let pending promise chains settle before concluding that nothing can happen.
      if (idleYields < 2) {
        idleYields++;
        await yieldToPromises();
        continue;
      }
      if (t !== undefined && t > deadline) world.queue.advanceTo(deadline);
      return done();
    }
    if (t > world.now() && !settledAt.has(world.now())) {
      // Before the clock moves on, let every command's pending continuations run at this
      // instant (a command may be about to send something "now").
      settledAt.add(world.now());
      await yieldToPromises();
      continue;
    }
    idleYields = 0;
    world.queue.step();
  }
}

/** Run virtual time forward by `us`, processing everything due. */
export async function sleepWorld(world: World, us: Micros): Promise<void> {
  const until = world.now() + us;
  await drive(world, () => false, until);
  if (world.now() < until) world.queue.advanceTo(until);
}

export class Transcript implements ToolIo {
  readonly chunks: string[] = [];
  stdoutText = "";
  stderrText = "";
  /** `live` gets what is printed as it is; standard error goes to `liveErr` instead when given. */
  constructor(
    private readonly live?: (s: string) => void,
    private readonly liveErr?: (s: string) => void,
  ) {}
  stdout(s: string): void {
    this.stdoutText += s;
    this.push(s);
  }
  stderr(s: string): void {
    this.stderrText += s;
    if (!this.liveErr) return this.push(s);
    this.chunks.push(s);
    this.liveErr(s);
  }
  push(s: string): void {
    this.chunks.push(s);
    this.live?.(s);
  }
  get text(): string {
    return this.chunks.join("");
  }
}

export interface Process {
  readonly host: Host;
  readonly line: string;
  readonly io: Transcript;
  exit: number | undefined;
  readonly promise: Promise<number>;
  interrupt(): void;
}

const shellStates = new WeakMap<Host, ShellState>();

/** Start a command line on a host through its shell (interactive bash, as typed at a prompt). */
export function startCommand(host: Host, line: string, io: Transcript): Process {
  let fire: (s: "SIGINT" | "SIGTERM") => void = () => undefined;
  const interrupt = new Promise<"SIGINT" | "SIGTERM">((r) => (fire = r));
  const ctx = host.makeContext(["bash"], io, { interrupt });
  let state = shellStates.get(host);
  if (!state) {
    state = ShellState.fromEnv(ctx.env);
    shellStates.set(host, state);
  }
  const proc: Process = {
    host,
    line,
    io,
    exit: undefined,
    promise: Promise.resolve(0),
    interrupt: () => {
      fire("SIGINT");
      host.world.wake();
    },
  };
  (proc as { promise: Promise<number> }).promise = runScript(line, ctx, { mode: "interactive", name: "bash", state }).then(
    (code) => {
      proc.exit = code;
      host.world.wake();
      return code;
    },
    (err: unknown) => {
      io.stderr(`lvslab: internal error in "${line}": ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      proc.exit = 70;
      host.world.wake();
      return 70;
    },
  );
  return proc;
}

/** Run a command to completion (interrupting it after `limitUs` of virtual time). */
export async function runCommand(
  host: Host,
  line: string,
  opts: { limitUs?: Micros; live?: (s: string) => void; liveErr?: (s: string) => void; stdin?: string } = {},
): Promise<{ exit: number; io: Transcript; timedOut: boolean }> {
  const io = new Transcript(opts.live, opts.liveErr);
  if (opts.stdin !== undefined) (io as ToolIo).stdin = opts.stdin; // `lvslab exec ... < FILE`
  const p = startCommand(host, line, io);
  const world = host.world;
  const ok = await drive(world, () => p.exit !== undefined, world.now() + (opts.limitUs ?? DEFAULT_STEP_LIMIT_US));
  let timedOut = false;
  if (!ok) {
    timedOut = true;
    io.push("^C");
    p.interrupt();
    await drive(world, () => p.exit !== undefined, world.now() + 10_000_000);
    if (p.exit === undefined) p.exit = 130;
  }
  return { exit: p.exit ?? 130, io, timedOut };
}

export function prompt(host: Host): string {
  return `[root@${host.sysctl.get("kernel.hostname") ?? host.name} ~]# `;
}

export interface StepOutcome {
  readonly index: number;
  readonly description: string;
  readonly ok: boolean;
  readonly problems: string[];
}

export interface RunOptions {
  /** Where the transcript goes (the CLI prints it). */
  out: (s: string) => void;
  /** Stop at the first failing step. */
  stopOnFailure?: boolean;
}

export interface RunReport {
  readonly ok: boolean;
  readonly steps: StepOutcome[];
}

export function checkExpect(exp: ExpectSpec | undefined, exit: number, stdout: string, stderr: string): string[] {
  const problems: string[] = [];
  if (!exp) {
    if (exit !== 0) problems.push(`exited with status ${exit}`);
    return problems;
  }
  const wantExit = exp.exit ?? 0;
  if (exit !== wantExit) problems.push(`exit status ${exit}, expected ${wantExit}`);
  if (exp.stdout !== undefined && stdout !== exp.stdout) problems.push(`stdout was ${JSON.stringify(stdout)}, expected ${JSON.stringify(exp.stdout)}`);
  if (exp.stderr !== undefined && stderr !== exp.stderr) problems.push(`stderr was ${JSON.stringify(stderr)}, expected ${JSON.stringify(exp.stderr)}`);
  for (const c of exp.contains) if (!stdout.includes(c)) problems.push(`stdout does not contain ${JSON.stringify(c)}`);
  for (const c of exp.notContains) if (stdout.includes(c)) problems.push(`stdout contains ${JSON.stringify(c)}`);
  for (const r of exp.matches) if (!r.test(stdout)) problems.push(`stdout ${JSON.stringify(clip(stdout))} does not match /${r.source}/`);
  return problems;
}

/** Long output cut for a message: its first 400 characters and how many more there were. */
function clip(s: string): string {
  return s.length <= 400 ? s : `${s.slice(0, 400)}… (${s.length - 400} more characters)`;
}

/** What `lvslab run` prints on stderr after the transcript when steps failed ("" when none did). */
export function failureSummary(report: RunReport): string {
  const failed = report.steps.filter((s) => !s.ok);
  if (failed.length === 0) return "";
  return `\nlvslab: ${failed.length} of ${report.steps.length} steps failed:\n` + failed.map((f) => `  ${f.description}: ${f.problems.join("; ")}\n`).join("");
}

/** A command started in the background (a capture), judged when it is stopped. */
export interface BackgroundJob {
  readonly io: Transcript;
  /** Interrupt it as Ctrl-C would (after `^C` is shown) and wait, bounded; its exit status, or undefined when it did not stop. */
  stop(): Promise<number | undefined>;
}

/**
 * Where a lab's steps run: the simulator (`simBackend`), or a lab that is up on real
 * network namespaces (src/real/run.ts). The step loop, the transcript and the checks of
 * `expect` are the same for both.
 */
export interface StepBackend {
  /** The shell prompt of a host, `[root@vip ~]# `. */
  prompt(host: string): string;
  /** Run a command line to completion, interrupting it after `limitUs` (its default when absent). */
  run(host: string, line: string, opts: { limitUs?: Micros; live: (s: string) => void }): Promise<{ exit: number; io: Transcript; timedOut: boolean }>;
  /** Start a command line in the background and let it get going (print its banner, attach its taps). */
  start(host: string, line: string): Promise<BackgroundJob>;
  sleep(us: Micros): Promise<void>;
  /** Why a step cannot mean here what it means in the lab (printed as a `#` line before it), if so. */
  caveat?(step: RunStep): string | undefined;
  /** Set when the run must end now (Ctrl-C): the remaining steps are not run. */
  readonly aborted?: () => boolean;
}

/** The simulator as a step backend: virtual time, the hosts' own shells. */
export function simBackend(lab: BuiltLab): StepBackend {
  const { world, hosts } = lab;
  return {
    prompt: (h) => prompt(hosts.get(h)!),
    run: (h, line, o) => runCommand(hosts.get(h)!, line, o),
    start: async (h, line) => {
      const io = new Transcript();
      const proc = startCommand(hosts.get(h)!, line, io);
      await drive(world, () => false, world.now());
      return {
        io,
        stop: async () => {
          io.push("^C");
          proc.interrupt();
          await drive(world, () => proc.exit !== undefined, world.now() + 10_000_000);
          return proc.exit;
        },
      };
    },
    sleep: (us) => sleepWorld(world, us),
  };
}

/** Run every step of a built lab, printing the transcript through `opts.out`. */
export function runSteps(lab: BuiltLab, opts: RunOptions): Promise<RunReport> {
  return runStepsOn(simBackend(lab), lab.spec, opts);
}

/** Run every step of a lab on a backend, printing the transcript through `opts.out`. */
export async function runStepsOn(backend: StepBackend, spec: LabSpec, opts: RunOptions): Promise<RunReport> {
  const out = opts.out;
  const background = new Map<string, { step: RunStep; job: BackgroundJob }>();
  const outcomes: StepOutcome[] = [];
  const stopBackground = async (name: string): Promise<void> => {
    const bg = background.get(name);
    if (!bg) return;
    background.delete(name);
    const exit = await bg.job.stop();
    const text = bg.job.io.text;
    out(backend.prompt(bg.step.on) + bg.step.run + "\n");
    out(text);
    if (text.length > 0 && !text.endsWith("\n")) out("\n");
    // A background command is judged when it is stopped; being interrupted is how it ends.
    const problems = bg.step.expect ? checkExpect(bg.step.expect, bg.step.expect.exit ?? exit ?? 0, bg.job.io.stdoutText, bg.job.io.stderrText) : [];
    if (exit === undefined) problems.unshift("did not stop when interrupted");
    outcomes.push({
      index: bg.step.index,
      description: `${bg.step.pos.file}:${bg.step.pos.line}: [${bg.step.on}] ${bg.step.run} (background)`,
      ok: problems.length === 0,
      problems,
    });
  };
  const stopAll = async (): Promise<void> => {
    for (const name of [...background.keys()]) await stopBackground(name);
  };
  for (const step of spec.steps) {
    if (backend.aborted?.()) break;
    switch (step.kind) {
      case "note":
        out(`# ${step.note}\n`);
        break;
      case "sleep":
        await backend.sleep(step.durationUs);
        break;
      case "stop":
        await stopBackground(step.stop);
        break;
      case "run": {
        const caveat = backend.caveat?.(step);
        if (caveat !== undefined) out(`# ${caveat}\n`);
        if (step.background) {
          background.set(step.name ?? `#${step.index}`, { step, job: await backend.start(step.on, step.run) });
          break;
        }
        out(backend.prompt(step.on) + step.run + "\n");
        const r = await backend.run(step.on, step.run, { limitUs: step.timeoutUs, live: out });
        const problems = checkExpect(step.expect, r.exit, r.io.stdoutText, r.io.stderrText);
        if (r.timedOut) problems.unshift("did not finish in time and was interrupted");
        if (r.io.text.length > 0 && !r.io.text.endsWith("\n")) out("\n");
        const where = `${step.pos.file}:${step.pos.line}`;
        outcomes.push({ index: step.index, description: `${where}: [${step.on}] ${step.run}`, ok: problems.length === 0, problems });
        if (problems.length > 0 && opts.stopOnFailure) {
          await stopAll();
          return { ok: false, steps: outcomes };
        }
        break;
      }
    }
  }
  await stopAll();
  return { ok: outcomes.every((o) => o.ok), steps: outcomes };
}
