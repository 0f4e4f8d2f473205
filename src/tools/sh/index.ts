/**
 * `sh`/`bash`: the shell that runs what users type and the scripts labs ship (the seed's
 * /usr/local/sbin/lvs_nat.sh runs verbatim), plus the coreutils-like commands that live with it.
 *
 * ## Contract with the host (how commands are found)
 * The shell runs its builtins itself (`cd`, `export`, `set`, `exit`, `read`, `eval`, `.` …,
 * and bash's builtin `echo`, `printf`, `test`/`[`, `pwd`, `true`, `false`). Every other command goes to
 * `ctx.run(argv, io, env?)`: the host looks the name up in its tool table and runs the tool with
 * `io` and, when given, `env` as the tool's `ctx.env` (the shell's exported variables). For an
 * unknown name the host prints nothing and returns `commandNotFound(io)` (127, with `io`
 * marked); a host written against `CommandRunner` (which resolves to `"not-found"`) installs
 * it with `ctx.run = contextRun(runner)`. Only then does the shell try, in order: one of
 * `coreTools` by that name, an executable script file on `$PATH` in the host's Vfs, and
 * finally prints bash's `x.sh: line 3: foo: command not found` (or dash's `x.sh: 3: foo: not
 * found`) with status 127. A name containing `/` is a file in the Vfs first (a script run by
 * its `#!` line), then the host's, then a `coreTools` entry for /bin, /usr/bin … paths.
 * Hosts should register `coreTools` (which includes `sh`, `bash` and `dash`) in their table.
 *
 * ## Dialects
 * Invoked as `bash`, messages are bash's; invoked as `sh` they are dash's, as on Debian,
 * where /bin/sh is dash (`makeSh({ binSh: "bash" })` for a CentOS-like host). Scripts run by
 * path follow their `#!` line.
 *
 * ## Implemented
 * Simple commands, `;` `&&` `||` `!` `|` `&`, newlines, comments, quoting and backslashes,
 * `$VAR ${VAR} ${VAR:-x} ${#VAR} ${VAR%pat}` …, `$1..$9 $# $@ $* $? $$ $! $0`, `$(…)`, backticks,
 * `$((…))`, tilde, globbing over the Vfs, redirections `> >> < 2>&1 >&2 &> <<EOF <<<`,
 * `if/elif/else`, `for`, `while`/`until`, `case`, `{ }`, `( )`, functions, `local`, `return`,
 * `break`/`continue`, `set -e`/`-x`/`-f`, `exit`, `read`, `eval`, `.`, `wait`, `type`, `command`.
 *
 * ## Not implemented (simplifications)
 * Pipelines run stage after stage (each stage's whole output feeds the next); output
 * redirected to a file reaches the Vfs when the command ends; `set -u` is accepted and
 * ignored; no job control, traps, `getopts`, arrays, `[[ ]]`, `(( ))`, here-string quirks,
 * aliases, brace expansion, `$RANDOM`; `ls` prints one name a line.
 */
import type { Tool, ToolContext } from "../types.js";
import { CORE_UTILS } from "./coreutils.js";
import { runShellText, ShellState, type Dialect, type ShellMode } from "./interp.js";
import { resolvePath } from "./paths.js";
import { runnerOf, type CommandRunner } from "./runner.js";

export type { CommandRunner } from "./runner.js";
export { commandNotFound, contextRun } from "./runner.js";
export { ShellState, type Dialect, type ShellMode } from "./interp.js";
export { getMode, setMode, isExecutable } from "./modes.js";
export { locateCommand, formatDate, KERNEL_RELEASE } from "./coreutils.js";

export interface ShOptions {
  /** What `sh` is on the host: "dash" (Debian, the default) or "bash". */
  readonly binSh?: Dialect;
}

export interface ScriptOptions {
  /** $0 and the name in messages; default "bash". */
  readonly name?: string;
  readonly args?: readonly string[];
  /** Default "bash". */
  readonly dialect?: Dialect;
  /** Default "script". */
  readonly mode?: ShellMode;
  readonly binSh?: Dialect;
  /** Default: `ctx.run`. */
  readonly runner?: CommandRunner;
  /** Default: `coreTools`. */
  readonly tools?: Readonly<Record<string, Tool>>;
  readonly errexit?: boolean;
  readonly xtrace?: boolean;
  /** Reuse to keep variables, functions and the directory between calls (interactive). */
  readonly state?: ShellState;
}

/** Runs shell text on the context's host; resolves to the exit status. */
export function runScript(text: string, ctx: ToolContext, opts: ScriptOptions = {}): Promise<number> {
  return runShellText(text, ctx, {
    name: opts.name ?? "bash",
    ...(opts.args ? { args: opts.args } : {}),
    dialect: opts.dialect ?? "bash",
    mode: opts.mode ?? "script",
    binSh: opts.binSh ?? "dash",
    tools: opts.tools ?? coreTools,
    runner: opts.runner ?? runnerOf(ctx),
    ...(opts.errexit ? { errexit: true } : {}),
    ...(opts.xtrace ? { xtrace: true } : {}),
    ...(opts.state ? { state: opts.state } : {}),
  });
}

/** The `sh`/`bash`/`dash` command: `sh [-ex] FILE [ARGS]`, `sh -c 'CMD' [NAME [ARGS]]`, `sh < script`. */
export function makeSh(shOpts: ShOptions = {}): Tool {
  const binSh = shOpts.binSh ?? "dash";
  return async (ctx) => {
    const argv0 = ctx.argv[0] ?? "sh";
    const base = argv0.slice(argv0.lastIndexOf("/") + 1);
    const dialect: Dialect = base === "bash" ? "bash" : base === "dash" ? "dash" : binSh;
    const args = ctx.argv.slice(1);
    let command: string | undefined;
    let errexit = false;
    let xtrace = false;
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (a === "--" || a === "-") {
        i++;
        break;
      }
      if (a === "--version" && dialect === "bash") {
        ctx.io.stdout("GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)\n");
        return 0;
      }
      if (!/^[-+][a-zA-Z]+$/.test(a)) break;
      for (const c of a.slice(1)) {
        if (c === "c") command = "";
        else if (c === "e") errexit = a[0] === "-";
        else if (c === "x") xtrace = a[0] === "-";
        else if (!"ilsvnuo".includes(c)) {
          ctx.io.stderr(dialect === "bash" ? `${argv0}: -${c}: invalid option\n` : `${argv0}: 0: Illegal option -${c}\n`);
          return 2;
        }
      }
    }
    const common = { dialect, binSh, errexit, xtrace };
    if (command !== undefined) {
      const text = args[i];
      if (text === undefined) {
        ctx.io.stderr(dialect === "bash" ? `${argv0}: -c: option requires an argument\n` : `${argv0}: 0: -c requires an argument\n`);
        return 2;
      }
      return runScript(text, ctx, { ...common, mode: "command", name: args[i + 1] ?? argv0, args: args.slice(i + 2) });
    }
    const file = args[i];
    if (file === undefined) return runScript(ctx.io.stdin ?? "", ctx, { ...common, mode: "command", name: argv0 });
    const fs = ctx.host.fs;
    const path = resolvePath(ctx.env.get("PWD") ?? "/", file);
    const text = fs.isDir(path) ? "EISDIR" : fs.exists(path) ? fs.readText(path) : "ENOENT";
    if (text === "ENOENT" || text === "EISDIR" || text === "EACCES") {
      if (dialect === "dash") {
        ctx.io.stderr(`${argv0}: 0: cannot open ${file}: ${text === "ENOENT" ? "No such file" : text === "EISDIR" ? "Is a directory" : "Permission denied"}\n`);
        return 2;
      }
      if (text === "EISDIR") {
        ctx.io.stderr(`${argv0}: ${file}: Is a directory\n`);
        return 126;
      }
      ctx.io.stderr(`${argv0}: ${file}: ${text === "ENOENT" ? "No such file or directory" : "Permission denied"}\n`);
      return text === "ENOENT" ? 127 : 126;
    }
    return runScript(text, ctx, { ...common, mode: "script", name: file, args: args.slice(i + 1) });
  };
}

/** `sh`, `bash`, `dash`: the dialect follows argv[0]; `sh` is dash (Debian). */
export const sh: Tool = makeSh();
export const bash: Tool = sh;

/** Every command of this folder, by name: register them in a host's tool table. */
export const coreTools: Record<string, Tool> = { ...CORE_UTILS, sh, bash, dash: sh };
