/**
 * How the shell runs commands that are not its builtins: through the host's tool table.
 *
 * `ToolContext.run(argv, io)` resolves to an exit status, so "no such command" must be told
 * apart from a command that itself exited 127 (a nested `sh` that already printed its
 * message). The host marks the first case with `commandNotFound(io)`, which returns 127
 * and remembers the io object it was given; the shell then prints bash's or dash's
 * "command not found" text. A host may equally implement `CommandRunner`, whose result is
 * `"not-found"`, and install it with `contextRun(runner)`.
 */
import type { ToolContext, ToolIo } from "../types.js";

/**
 * Runs one command on the host. `env` is the shell's exported environment for the child
 * (the host gives it to the tool as `ctx.env`); the host prints nothing for an unknown
 * command and resolves to "not-found".
 */
export type CommandRunner = (argv: string[], io: ToolIo, env?: Map<string, string>) => Promise<number | "not-found">;

const notFound = new WeakSet<ToolIo>();

/** For hosts: what `ctx.run` returns for an unknown command (127, and the io is marked). */
export function commandNotFound(io: ToolIo): number {
  notFound.add(io);
  return 127;
}

/** Adapts a `CommandRunner` to the `ToolContext.run` shape. */
export function contextRun(runner: CommandRunner): NonNullable<ToolContext["run"]> {
  return async (argv: string[], io: ToolIo, env?: Map<string, string>) => {
    const r = await runner(argv, io, env);
    return r === "not-found" ? commandNotFound(io) : r;
  };
}

/** The shell's view of `ctx.run`: a `CommandRunner` (every command is unknown without one). */
export function runnerOf(ctx: ToolContext): CommandRunner {
  const run = ctx.run as ((argv: string[], io: ToolIo, env?: Map<string, string>) => Promise<number | "not-found">) | undefined;
  if (!run) return async () => "not-found";
  return async (argv, io, env) => {
    const r = await run.call(ctx, argv, io, env);
    if (r === "not-found" || (r === 127 && notFound.has(io))) return "not-found";
    return r;
  };
}
