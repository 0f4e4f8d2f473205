/**
 * The real-mode commands of `lvslab`: up, down, status, exec on a lab that is up, and
 * httpd (the web server `up` starts where nginx is not installed).
 */
import { readFileSync } from "node:fs";
import { formatDiagnostic, loadLab } from "../lab/load.js";
import { readLabFile } from "../lab/read.js";
import type { LabSpec } from "../lab/schema.js";
import { execOnDirector } from "./director/cli.js";
import { serveHttp } from "./nginx.js";
import { labsWithState } from "./state.js";
import { RealError } from "./sys.js";
import { createInterface } from "node:readline";
import { controlRequest } from "./control.js";
import { down, EXIT_NOPERM, execInNamespace, execTarget, labState, status, up } from "./up.js";
import { realModeBlocker } from "./sys.js";
import { failureSummary } from "../lab/runner.js";
import { runReal } from "./run.js";

const out = (s: string): void => void process.stdout.write(s);
const err = (s: string): void => void process.stderr.write(s);

export const REAL_USAGE = `Real mode (Linux network namespaces; needs root):
  up LAB [--httpd]              build LAB for real: a namespace per host, bridges, nginx, lvslab's director
  down LAB                      remove everything "up" created (idempotent)
  status                        the labs that are up
  exec LAB HOST -- CMD [ARG...]  when LAB is up: run CMD in HOST's namespace (on the director: through its control socket)
  shell LAB [HOST]              when LAB is up: a prompt on HOST (the director's shell, or bash in the host's
                                namespace); "ssh HOST" switches, "exit" leaves
  run LAB --real [--keep]       up, then the lab's steps for real with the same checks and transcript as run,
                                then down (also on failure or Ctrl-C; --keep leaves it up). A lab of that
                                name that is up already is left alone: the run builds its own copy
`;

function loadSpec(path: string): LabSpec | undefined {
  const f = readLabFile(path, true);
  if ("error" in f) {
    err(`lvslab: ${f.error}\n`);
    return undefined;
  }
  const text = f.text;
  const r = loadLab(text, path);
  if (!r.ok) {
    for (const d of r.diagnostics) err(formatDiagnostic(d) + "\n");
    err(`lvslab: ${r.diagnostics.length} problem${r.diagnostics.length === 1 ? "" : "s"} in ${path}\n`);
    return undefined;
  }
  return r.lab;
}

/** A lab argument as `down`/`exec` take it: the name of a lab that is up, or a lab file (whose `lab:` name counts). */
export function labNameOf(arg: string, resolveLab: (a: string) => string): string {
  if (labsWithState().includes(arg)) return arg;
  const path = resolveLab(arg);
  try {
    const r = loadLab(readFileSync(path, "utf8"), path);
    if (r.ok) return r.lab.name;
  } catch {
    // not a readable file: take it as a name
  }
  return arg;
}

function upLabName(arg: string, resolveLab: (a: string) => string): string | undefined {
  const name = labNameOf(arg, resolveLab);
  return labsWithState().includes(name) ? name : undefined;
}

function fail(e: unknown): number {
  if (e instanceof RealError) {
    err(`lvslab: ${e.message}\n`);
    return realModeBlocker() ? EXIT_NOPERM : 1;
  }
  throw e;
}

/** Handles argv when argv[0] is a real-mode command; returns undefined otherwise. */
export async function realMain(argv: string[], resolveLab: (a: string) => string): Promise<number | undefined> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case "up": {
      const forceHttpd = args.includes("--httpd");
      const pos = args.filter((a) => a !== "--httpd");
      const bad = pos.find((a) => a.startsWith("-"));
      if (bad || pos.length !== 1) {
        err(bad ? `lvslab: unknown option ${bad}\nTry 'lvslab help'.\n` : "Usage: lvslab up LAB [--httpd]\n");
        return 2;
      }
      const path = resolveLab(pos[0]!);
      const spec = loadSpec(path);
      if (!spec) return 2;
      try {
        up(spec, { labPath: path, out, forceHttpd });
        return 0;
      } catch (e) {
        return fail(e);
      }
    }
    case "down": {
      if (args.length !== 1 || args[0]!.startsWith("-")) {
        err("Usage: lvslab down LAB\n");
        return 2;
      }
      const name = labNameOf(args[0]!, resolveLab);
      try {
        if (!down(name, out)) out(`lvslab: lab ${name} is not up\n`);
        return 0;
      } catch (e) {
        return fail(e);
      }
    }
    case "status":
      status(out);
      return 0;
    case "httpd":
      return httpd(args);
    default:
      return undefined;
  }
}

/** `lvslab run LAB --real`: exit status 0, 1 (a step failed), 2 (bad lab), 77 (no root), 130 (interrupted). */
export async function realRun(path: string, o: { keep: boolean; stopOnFailure: boolean; seed?: number }): Promise<number> {
  const spec = loadSpec(path);
  if (!spec) return 2;
  const b = realModeBlocker();
  if (b) {
    err(`lvslab: ${b}\n`);
    return EXIT_NOPERM;
  }
  try {
    const r = await runReal(spec, { labPath: path, out, note: err, ...o });
    if (r.outputClosed) return 141; // 128 + SIGPIPE, as the shell reports a command killed by it
    if (r.interrupted) return 130;
    const failed = r.report ? failureSummary(r.report) : "";
    err(failed);
    return failed === "" ? 0 : 1;
  } catch (e) {
    return fail(e);
  }
}

/** `lvslab exec` on a lab that is up; undefined when LAB is not up (the simulator's exec then runs). */
export async function realExec(labArg: string, host: string, cmd: string[], resolveLab: (a: string) => string): Promise<number | undefined> {
  const name = upLabName(labArg, resolveLab);
  if (name === undefined) return undefined;
  const st = labState(name);
  if (!st) return undefined;
  const t = execTarget(st, host, cmd);
  if (typeof t === "string") {
    err(t + "\n");
    return 2;
  }
  if (t.kind === "ns") {
    const b = realModeBlocker();
    if (b) {
      err(`lvslab: ${b}\n`);
      return EXIT_NOPERM;
    }
    return execInNamespace(t.argv);
  }
  // The director is lvslab itself: the command runs in its shell, through its control socket.
  return execOnDirector(t.control, cmd);
}

/**
 * `lvslab shell LAB [HOST]` on a lab that is up: a prompt whose lines run one by one on a
 * host — on the director in its shell through the control socket, on any other host with
 * bash in its namespace — with Ctrl-C interrupting the command, as at a terminal. "ssh
 * HOST" goes to another host and "exit" comes back, as in the simulator's shell.
 * Undefined when the lab is not up.
 */
export async function realShell(labArg: string, hostArg: string | undefined, resolveLab: (a: string) => string): Promise<number | undefined> {
  const name = upLabName(labArg, resolveLab);
  if (name === undefined) return undefined;
  const st = labState(name);
  if (!st) return undefined;
  const hosts = st.entries.flatMap((e) => (e.kind === "hostdir" ? [e.host] : []));
  const first = hostArg ?? hosts[0];
  if (first === undefined) return undefined;
  const t0 = execTarget(st, first, []);
  if (typeof t0 === "string") {
    err(t0 + "\n");
    return 2;
  }
  const blocker = realModeBlocker();
  if (blocker && hosts.some((h) => (execTarget(st, h, []) as { kind: string }).kind === "ns")) {
    err(`lvslab: ${blocker}\n`);
    return EXIT_NOPERM;
  }

  /** One line on one host; resolves to its exit status. */
  const runLine = (host: string, line: string, interrupted: Promise<void>): Promise<number> => {
    const t = execTarget(st, host, ["bash", "-c", line]);
    if (typeof t === "string") return Promise.resolve(127);
    if (t.kind === "director") {
      return controlRequest(t.control, { argv: ["bash", "-c", line] }, { onStdout: out, onStderr: err, interrupt: interrupted }).then(
        (r) => r.code,
        (e: Error) => (err(`lvslab: ${e.message}\n`), 2),
      );
    }
    return execInNamespace(t.argv, interrupted);
  };

  const tty = process.stdin.isTTY === true;
  out(`lvslab shell: lab ${st.name} (up, real); hosts: ${hosts.join(", ")}. "ssh HOST" switches, "exit" leaves.\n`);
  const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, historySize: 500 });
  const lines = rl[Symbol.asyncIterator]();
  let host = first;
  const stack: string[] = [];
  let interrupt: (() => void) | undefined;
  const showPrompt = (): void => {
    const p = `[root@${host} ~]# `;
    if (tty) {
      rl.setPrompt(p);
      rl.prompt();
    } else out(p);
  };
  let code = 0;
  // Ctrl-C: a key readline reports on a terminal, a signal otherwise (kill -INT).
  rl.on("SIGINT", () => {
    if (interrupt) interrupt();
    else {
      // At the prompt, as bash does: the line is dropped, a new prompt.
      const line = rl as unknown as { line: string; cursor: number };
      line.line = "";
      line.cursor = 0;
      out("^C\n");
      showPrompt();
    }
  });
  // Not on a terminal, a SIGINT at the prompt ends the shell, as it ends a bash reading a script.
  const onSignal = (): void => {
    if (interrupt) interrupt();
    else {
      code = 130;
      rl.close();
    }
  };
  process.on("SIGINT", onSignal);
  for (;;) {
    showPrompt();
    const r = await lines.next();
    if (r.done) {
      out("\n");
      break;
    }
    if (!tty) out(r.value + "\n");
    const line = r.value.trim();
    if (line === "") continue;
    if (line === "exit" || line === "logout") {
      const prev = stack.pop();
      if (prev === undefined) break;
      out(`logout\nConnection to ${host} closed.\n`);
      host = prev;
      continue;
    }
    const ssh = /^ssh\s+(?:root@)?(\S+)$/.exec(line);
    if (ssh) {
      if (typeof execTarget(st, ssh[1]!, []) === "string") out(`ssh: Could not resolve hostname ${ssh[1]}: Name or service not known\n`);
      else {
        stack.push(host);
        host = ssh[1]!;
      }
      continue;
    }
    code = await runLine(host, line, new Promise<void>((res) => (interrupt = res)));
    interrupt = undefined;
  }
  process.off("SIGINT", onSignal);
  rl.close();
  return code;
}

function httpd(args: string[]): Promise<number> {
  const o: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) o[args[i]!.replace(/^--/, "")] = args[i + 1] ?? "";
  const port = Number(o.port ?? "80");
  if (!o.root || !o.log || !o["pid-file"] || !Number.isInteger(port)) {
    err("Usage: lvslab httpd --root DIR --port N --index FILE --log FILE --pid-file FILE\n");
    return Promise.resolve(2);
  }
  return serveHttp({ root: o.root, port, index: o.index ?? "index.html", log: o.log, pidFile: o["pid-file"] }).then(() => 0);
}
