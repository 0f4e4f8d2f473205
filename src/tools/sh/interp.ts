/**
 * The interpreter: walks the tree from parse.ts one complete command at a time, with
 * bash's or dash's wording for every diagnostic.
 *
 * Simplifications (documented in index.ts): pipelines run their stages one after the other,
 * each in a subshell, the output of one becoming the input of the next; output redirected to
 * a file is written to the Vfs when the command ends (one `write` per command, which is
 * also what a sysctl file under /proc/sys wants); background jobs (`&`) run concurrently as
 * promises and `wait` awaits them.
 */
import type { Command, List, Pipeline, Redir, AndOr } from "./ast.js";
import { expandPattern, expandString, expandWord, expandWords, type ExpandEnv } from "./expand.js";
import { Parser, ShSyntaxError, isName } from "./parse.js";
import { isExecutable, markCreated } from "./modes.js";
import { basename, dirname, isOpenError, resolvePath, strerror } from "./paths.js";
import type { CommandRunner } from "./runner.js";
import type { ErrnoName, Tool, ToolContext, ToolIo, Vfs } from "../types.js";
import { BUILTINS, SPECIAL_BUILTINS } from "./builtins.js";
import { bashQuote } from "./quote.js";

export type Dialect = "bash" | "dash";

/**
 * "script": a file (`NAME: line N: ` before bash's messages); "command": `sh -c`;
 * "interactive": a line typed at a prompt (bash says `bash: `).
 */
export type ShellMode = "script" | "command" | "interactive";

export interface ShellConfig {
  readonly dialect: Dialect;
  readonly mode: ShellMode;
  /** What /bin/sh is on the host (Debian: dash), for `#!/bin/sh` scripts run by path. */
  readonly binSh: Dialect;
  /** Commands the shell runs itself when the host does not know them (coreutils). */
  readonly tools: Readonly<Record<string, Tool>>;
  readonly runner: CommandRunner;
}

/** Standard input of a command: text read front to back (`read` takes a line at a time). */
export class Input {
  constructor(
    public text: string | undefined,
    public pos = 0,
  ) {}
  rest(): string | undefined {
    return this.text === undefined ? undefined : this.text.slice(this.pos);
  }
  consumeAll(): void {
    if (this.text !== undefined) this.pos = this.text.length;
  }
  readLine(): string | undefined {
    if (this.text === undefined || this.pos >= this.text.length) return undefined;
    const nl = this.text.indexOf("\n", this.pos);
    const end = nl < 0 ? this.text.length : nl;
    const line = this.text.slice(this.pos, end);
    this.pos = nl < 0 ? end : end + 1;
    return nl < 0 ? line + "\u0000" : line; // NUL marks a last line without newline
  }
}

export interface Sink {
  write(s: string): void;
}

const NULL_SINK: Sink = { write() {} };

export class BufferSink implements Sink {
  private chunks: string[] = [];
  write(s: string): void {
    this.chunks.push(s);
  }
  text(): string {
    return this.chunks.join("");
  }
}

/** Output redirected to a file: written to the Vfs when the command ends. */
class FileSink extends BufferSink {
  constructor(
    readonly fs: Vfs,
    readonly path: string,
    readonly target: string,
    readonly append: boolean,
    /** /proc files are neither created nor truncated; errors surface at write time. */
    readonly proc: boolean,
  ) {
    super();
  }
  flush(): true | ErrnoName {
    const data = this.text();
    if (this.proc) {
      if (data === "") return this.fs.exists(this.path) ? true : "ENOENT";
      return this.fs.write(this.path, data, this.append ? { append: true } : undefined);
    }
    return data === "" ? true : this.fs.write(this.path, data, { append: true });
  }
}

export interface Fds {
  input: Input;
  out: Map<number, Sink>;
}

export class ExitSignal {
  constructor(readonly status: number) {}
}
class ReturnSignal {
  constructor(readonly status: number) {}
}
export class LoopSignal {
  constructor(
    readonly kind: "break" | "continue",
    public n: number,
  ) {}
}
class ExpandFailure {
  constructor(
    readonly message: string,
    readonly fatal: boolean,
  ) {}
}

/** Variables, options, functions: what a subshell copies and a script starts afresh. */
export class ShellState {
  vars = new Map<string, string>();
  exported = new Set<string>();
  positional: string[] = [];
  arg0 = "sh";
  funcs = new Map<string, Command>();
  errexit = false;
  xtrace = false;
  nounset = false;
  noglob = false;
  status = 0;
  pid = 4242;
  lastBg: number | undefined;
  /** Set when `exit` ran (an interactive session ends). */
  exited = false;

  static fromEnv(env: ReadonlyMap<string, string>): ShellState {
    const st = new ShellState();
    for (const [k, v] of env) {
      st.vars.set(k, v);
      st.exported.add(k);
    }
    if (!st.vars.has("PWD")) st.vars.set("PWD", "/root");
    if (!st.vars.has("PATH")) {
      st.vars.set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
      st.exported.add("PATH");
    }
    if (!st.vars.has("IFS")) st.vars.set("IFS", " \t\n");
    return st;
  }

  clone(): ShellState {
    const st = new ShellState();
    st.vars = new Map(this.vars);
    st.exported = new Set(this.exported);
    st.positional = [...this.positional];
    st.arg0 = this.arg0;
    st.funcs = new Map(this.funcs);
    st.errexit = this.errexit;
    st.xtrace = this.xtrace;
    st.nounset = this.nounset;
    st.noglob = this.noglob;
    st.status = this.status;
    st.pid = this.pid;
    st.lastBg = this.lastBg;
    return st;
  }

  /** The environment a child command gets. */
  exportedEnv(extra: readonly [string, string][] = []): Map<string, string> {
    const env = new Map<string, string>();
    for (const k of [...this.exported].sort()) {
      const v = this.vars.get(k);
      if (v !== undefined) env.set(k, v);
    }
    for (const [k, v] of extra) env.set(k, v);
    return env;
  }
}

const SHELL_TOOLS = new Set(["echo", "printf", "test", "[", "true", "false", "pwd", ":"]);

export class Shell implements ExpandEnv {
  line = 0;
  /** >0 where `set -e` does not apply: conditions, `!`, all but the last of && ||. */
  suppress = 0;
  substDepth = 0;
  funcDepth = 0;
  loopDepth = 0;
  /** `local` saves the outer values here, restored when the function returns. */
  locals: Map<string, string | undefined>[] = [];
  bg: Promise<unknown>[] = [];
  private fds: Fds;
  private lastSubst: number | undefined;
  private nextBgPid = 4300;

  constructor(
    readonly ctx: ToolContext,
    readonly st: ShellState,
    readonly cfg: ShellConfig,
    fds: Fds,
  ) {
    this.fds = fds;
  }

  get fs(): Vfs {
    return this.ctx.host.fs;
  }

  // ---- messages --------------------------------------------------------------------------

  /** `x.sh: line 7: ` (bash script), `bash: ` (bash -c, interactive), `sh: 7: ` (dash). */
  prefix(line = this.line): string {
    if (this.cfg.dialect === "dash") return `${this.st.arg0}: ${line}: `;
    return this.cfg.mode === "script" ? `${this.st.arg0}: line ${line}: ` : `${this.st.arg0}: `;
  }

  error(msg: string, fds: Fds = this.fds): void {
    (fds.out.get(2) ?? NULL_SINK).write(`${this.prefix()}${msg}\n`);
  }

  private syntaxError(e: ShSyntaxError, fds: Fds): void {
    const err = fds.out.get(2) ?? NULL_SINK;
    if (this.cfg.dialect === "dash") {
      const pfx = `${this.st.arg0}: ${e.line}: `;
      if (e.kind === "quote") err.write(`${pfx}Syntax error: Unterminated quoted string\n`);
      else if (e.kind === "eof") err.write(`${pfx}Syntax error: end of file unexpected${e.expecting ? ` (expecting "${e.expecting}")` : ""}\n`);
      else err.write(`${pfx}Syntax error: ${e.token === "newline" ? "newline" : `"${e.token}"`} unexpected\n`);
      return;
    }
    const pfx = this.cfg.mode === "script" ? `${this.st.arg0}: line ${e.line}: ` : this.cfg.mode === "command" ? `${this.st.arg0}: -c: line ${e.line}: ` : `${this.st.arg0}: `;
    if (e.kind === "quote") err.write(`${pfx}unexpected EOF while looking for matching \`${e.token}'\n`);
    else if (e.kind === "eof") err.write(`${pfx}syntax error: unexpected end of file\n`);
    else {
      err.write(`${pfx}syntax error near unexpected token \`${e.token}'\n`);
      err.write(`${pfx}\`${e.lineText}'\n`);
    }
  }

  // ---- entry points ----------------------------------------------------------------------

  /** Runs a whole text (script, `-c` string, typed line); returns the exit status. */
  async main(text: string): Promise<number> {
    try {
      await this.runText(text, this.fds, 1);
    } catch (e) {
      if (e instanceof ExitSignal) {
        this.st.status = e.status;
      } else if (e instanceof ReturnSignal) {
        this.st.status = e.status;
      } else if (e instanceof LoopSignal) {
        // break/continue outside a loop: ignored.
      } else throw e;
    }
    return this.st.status;
  }

  /** Parses and runs one complete command after another. */
  async runText(text: string, fds: Fds, firstLine: number): Promise<number> {
    const parser = new Parser(text, firstLine);
    for (;;) {
      let list: List | null;
      try {
        list = parser.next();
      } catch (e) {
        if (!(e instanceof ShSyntaxError)) throw e;
        this.syntaxError(e, fds);
        this.st.status = 2;
        if (this.cfg.mode !== "interactive") throw new ExitSignal(2);
        return 2;
      }
      if (!list) return this.st.status;
      await this.execList(list, fds);
    }
  }

  // ---- lists -----------------------------------------------------------------------------

  async execList(list: List, fds: Fds): Promise<number> {
    let status = this.st.status;
    for (const { ao, bg } of list.items) {
      if (bg) {
        const sub = this.subshell();
        const pid = this.nextBgPid++;
        this.st.lastBg = pid;
        this.bg.push(
          sub.execAndOr(ao, fds).catch((e: unknown) => {
            if (e instanceof ExitSignal) return e.status;
            throw e;
          }),
        );
        status = this.st.status = 0;
        continue;
      }
      status = await this.execAndOr(ao, fds);
    }
    return status;
  }

  /**
   * A foreground pipeline, with bash's "wait and cooperative exit": when Ctrl-C came while
   * it ran and it died of it (status > 128), the shell ends and what follows in the list
   * (`sleep 30; echo slept`) does not run; one that caught SIGINT and exited normally
   * (tcpdump prints its summary and exits 0) lets the shell go on, and so does a status
   * over 128 after an interrupt that came earlier.
   */
  private async foreground(p: Pipeline, fds: Fds): Promise<number> {
    const before = this.ctx.isInterrupted();
    const status = await this.execPipeline(p, fds);
    if (status > 128 && !before && this.ctx.isInterrupted()) throw new ExitSignal(status);
    return status;
  }

  async execAndOr(ao: AndOr, fds: Fds): Promise<number> {
    if (ao.rest.length === 0) return this.foreground(ao.first, fds);
    let status = await this.suppressed(() => this.foreground(ao.first, fds));
    for (let k = 0; k < ao.rest.length; k++) {
      const { op, p } = ao.rest[k]!;
      if ((op === "&&") !== (status === 0)) continue;
      const last = k === ao.rest.length - 1;
      status = last ? await this.foreground(p, fds) : await this.suppressed(() => this.foreground(p, fds));
    }
    return status;
  }

  async suppressed<T>(f: () => Promise<T>): Promise<T> {
    this.suppress++;
    try {
      return await f();
    } finally {
      this.suppress--;
    }
  }

  private async execPipeline(p: Pipeline, fds: Fds): Promise<number> {
    let status: number;
    const run = async (): Promise<number> => {
      if (p.cmds.length === 1) return this.execCommand(p.cmds[0]!, fds);
      let input = fds.input;
      let s = 0;
      for (let i = 0; i < p.cmds.length; i++) {
        const last = i === p.cmds.length - 1;
        const buf = new BufferSink();
        const out = new Map(fds.out);
        if (!last) out.set(1, buf);
        const sub = this.subshell();
        try {
          s = await sub.execCommand(p.cmds[i]!, { input, out });
        } catch (e) {
          if (!(e instanceof ExitSignal)) throw e;
          s = e.status;
        }
        input = new Input(buf.text());
      }
      return s;
    };
    status = p.bang ? await this.suppressed(run) : await run();
    if (p.bang) status = status === 0 ? 1 : 0;
    this.st.status = status;
    if (!p.bang && status !== 0 && this.st.errexit && this.suppress === 0) throw new ExitSignal(status);
    return status;
  }

  subshell(): Shell {
    const sub = new Shell(this.ctx, this.st.clone(), this.cfg, this.fds);
    sub.line = this.line;
    sub.suppress = this.suppress;
    sub.substDepth = this.substDepth;
    sub.funcDepth = this.funcDepth;
    return sub;
  }

  // ---- commands --------------------------------------------------------------------------

  async execCommand(cmd: Command, fds: Fds): Promise<number> {
    this.line = cmd.line;
    switch (cmd.k) {
      case "simple":
        return this.execSimple(cmd, fds);
      case "func":
        this.st.funcs.set(cmd.name, cmd.body);
        return (this.st.status = 0);
      case "group":
        return this.withRedirs(cmd.redirs, fds, "", (f) => this.execList(cmd.body, f));
      case "subshell":
        return this.withRedirs(cmd.redirs, fds, "", async (f) => {
          const sub = this.subshell();
          try {
            return await sub.execList(cmd.body, f);
          } catch (e) {
            if (e instanceof ExitSignal) return e.status;
            throw e;
          }
        });
      case "if":
        return this.withRedirs(cmd.redirs, fds, "", async (f) => {
          for (const c of cmd.clauses) {
            if ((await this.suppressed(() => this.execList(c.cond, f))) === 0) return this.execList(c.body, f);
          }
          return cmd.otherwise ? this.execList(cmd.otherwise, f) : (this.st.status = 0);
        });
      case "while":
        return this.withRedirs(cmd.redirs, fds, "", async (f) => {
          let status = 0;
          this.loopDepth++;
          try {
            for (;;) {
              const c = await this.suppressed(() => this.execList(cmd.cond, f));
              if ((c === 0) === cmd.until) break;
              const r = await this.loopBody(cmd.body, f);
              status = r.status;
              if (r.brk) break;
              if (this.ctx.isInterrupted()) throw new ExitSignal(130);
            }
          } finally {
            this.loopDepth--;
          }
          return (this.st.status = status);
        });
      case "for":
        return this.withRedirs(cmd.redirs, fds, "", async (f) => {
          this.fds = f;
          const items = cmd.items ? await this.expandOrFail(() => expandWords(cmd.items!, this)) : [...this.st.positional];
          if (items === undefined) return 1;
          let status = 0;
          this.loopDepth++;
          try {
            for (const v of items) {
              this.st.vars.set(cmd.name, v);
              const r = await this.loopBody(cmd.body, f);
              status = r.status;
              if (r.brk) break;
            }
          } finally {
            this.loopDepth--;
          }
          return (this.st.status = status);
        });
      case "case":
        return this.withRedirs(cmd.redirs, fds, "", async (f) => {
          this.fds = f;
          const w = await this.expandOrFail(() => expandString(cmd.word, this));
          if (w === undefined) return 1;
          for (const arm of cmd.arms) {
            for (const pat of arm.patterns) {
              const src = await expandPattern(pat, this);
              if (new RegExp(`^(?:${src})$`, "s").test(w)) return arm.body.items.length > 0 ? this.execList(arm.body, f) : (this.st.status = 0);
            }
          }
          return (this.st.status = 0);
        });
    }
  }

  private async loopBody(body: List, fds: Fds): Promise<{ status: number; brk: boolean }> {
    try {
      return { status: await this.execList(body, fds), brk: false };
    } catch (e) {
      if (!(e instanceof LoopSignal)) throw e;
      if (e.n > 1) {
        e.n--;
        throw e;
      }
      return { status: 0, brk: e.kind === "break" };
    }
  }

  /** Runs an expansion; on an expansion error prints it and returns undefined (or exits). */
  private async expandOrFail<T>(f: () => Promise<T>): Promise<T | undefined> {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof ExpandFailure)) throw e;
      this.error(e.message);
      this.st.status = 1;
      if (e.fatal && this.cfg.mode !== "interactive") throw new ExitSignal(this.cfg.dialect === "dash" ? 2 : 1);
      return undefined;
    }
  }

  private async execSimple(cmd: Extract<Command, { k: "simple" }>, fds: Fds): Promise<number> {
    this.fds = fds;
    this.lastSubst = undefined;
    const expanded = await this.expandOrFail(async () => {
      const argv = await expandWords(cmd.words, this);
      const assigns: [string, string][] = [];
      for (const a of cmd.assigns) assigns.push([a.name, await expandString(a.value, this)]);
      return { argv, assigns };
    });
    if (!expanded) return this.st.status;
    const { argv, assigns } = expanded;
    if (this.st.xtrace) this.trace(assigns, argv, fds);
    if (argv.length === 0) {
      for (const [k, v] of assigns) this.setVar(k, v);
      const status = this.lastSubst ?? 0;
      return (this.st.status = await this.withRedirs(cmd.redirs, fds, "", async () => status));
    }
    const status = await this.withRedirs(cmd.redirs, fds, argv[0]!, (f) => this.dispatch(argv, assigns, f));
    return (this.st.status = status);
  }

  private trace(assigns: [string, string][], argv: string[], fds: Fds): void {
    const q = this.cfg.dialect === "bash" ? bashQuote : (s: string) => s;
    const plus = this.cfg.dialect === "bash" ? "+".repeat(1 + this.substDepth) : "+";
    const err = fds.out.get(2) ?? NULL_SINK;
    if (this.cfg.dialect === "bash") {
      for (const [k, v] of assigns) err.write(`${plus} ${k}=${q(v)}\n`);
      if (argv.length > 0) err.write(`${plus} ${argv.map(q).join(" ")}\n`);
    } else {
      err.write(`${plus} ${[...assigns.map(([k, v]) => `${k}=${v}`), ...argv].join(" ")}\n`);
    }
  }

  /** Runs argv: function, builtin, the host's command, a local tool, or a script file. */
  async dispatch(argv: string[], assigns: [string, string][], fds: Fds): Promise<number> {
    const name = argv[0]!;
    const fn = this.st.funcs.get(name);
    if (fn) return this.withTempVars(assigns, () => this.callFunction(fn, argv, fds));
    const builtin = BUILTINS[name];
    if (builtin) {
      if (SPECIAL_BUILTINS.has(name)) {
        for (const [k, v] of assigns) this.setVar(k, v);
        return builtin(this, argv, fds);
      }
      return this.withTempVars(assigns, async () => builtin(this, argv, fds));
    }
    const io = this.ioFor(fds);
    const env = this.st.exportedEnv(assigns);
    const tool = SHELL_TOOLS.has(name) ? this.cfg.tools[name] : undefined;
    if (tool) {
      // A builtin: its messages carry the shell's prefix (`x.sh: line 3: [: …`).
      const pfx = this.prefix();
      const bio: ToolIo = { stdout: io.stdout, stderr: (s) => io.stderr(s.replace(/^(?=.)/gm, pfx)) };
      const status = await tool({ ...this.childCtx(argv, bio, env), shDialect: this.cfg.dialect } as ToolContext);
        return status;
    }
    return this.runExternal(argv, io, env, fds);
  }

  private async withTempVars<T>(assigns: [string, string][], f: () => Promise<T>): Promise<T> {
    if (assigns.length === 0) return f();
    const saved = assigns.map(([k]) => [k, this.st.vars.get(k)] as const);
    for (const [k, v] of assigns) this.st.vars.set(k, v);
    try {
      return await f();
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) this.st.vars.delete(k);
        else this.st.vars.set(k, v);
      }
    }
  }

  async callFunction(body: Command, argv: string[], fds: Fds): Promise<number> {
    const savedPos = this.st.positional;
    this.st.positional = argv.slice(1);
    this.funcDepth++;
    this.locals.push(new Map());
    try {
      return await this.execCommand(body, fds);
    } catch (e) {
      if (e instanceof ReturnSignal) return (this.st.status = e.status);
      throw e;
    } finally {
      const saved = this.locals.pop()!;
      for (const [k, v] of saved) {
        if (v === undefined) this.st.vars.delete(k);
        else this.st.vars.set(k, v);
      }
      this.funcDepth--;
      this.st.positional = savedPos;
    }
  }

  ioFor(fds: Fds): ToolIo {
    const out = fds.out.get(1) ?? NULL_SINK;
    const err = fds.out.get(2) ?? NULL_SINK;
    const input = fds.input;
    const io: ToolIo = { stdout: (s) => out.write(s), stderr: (s) => err.write(s) };
    // A command consumes its standard input only if it reads it (`while read l; do ipvsadm …`).
    if (input.rest() !== undefined) {
      Object.defineProperty(io, "stdin", {
        enumerable: true,
        get: () => {
          const text = input.rest();
          input.consumeAll();
          return text;
        },
      });
    }
    return io;
  }

  /** A context for a command run by this shell. */
  childCtx(argv: string[], io: ToolIo, env: Map<string, string>): ToolContext {
    const ctx = this.ctx;
    const child: ToolContext = {
      argv,
      io,
      env,
      host: ctx.host,
      now: () => ctx.now(),
      epochMicros: (t) => ctx.epochMicros(t),
      sleep: (us) => ctx.sleep(us),
      interrupted: ctx.interrupted,
      isInterrupted: () => ctx.isInterrupted(),
      ...(ctx.run ? { run: ctx.run.bind(ctx) } : {}),
    };
    return child;
  }

  private async runLocal(tool: Tool, argv: string[], io: ToolIo, env: Map<string, string>, fds: Fds): Promise<number> {
    const status = await tool(this.childCtx(argv, io, env));
    return status;
  }

  private async runExternal(argv: string[], io: ToolIo, env: Map<string, string>, fds: Fds): Promise<number> {
    const name = argv[0]!;
    const fs = this.fs;
    const path = name.includes("/") ? resolvePath(this.cwd(), name) : undefined;
    if (path !== undefined) {
      if (fs.isDir(path)) {
        this.error(`${name}: ${this.cfg.dialect === "bash" ? "Is a directory" : "Permission denied"}`, fds);
        return 126;
      }
      if (fs.exists(path)) {
        if (!isExecutable(fs, path)) {
          this.error(`${name}: Permission denied`, fds);
          return 126;
        }
        return this.runFile(path, name, argv, io, env, fds);
      }
    }
    const r = await this.cfg.runner(argv, io, env);
    if (r !== "not-found") {
        return r;
    }
    const std = path === undefined || PATH_DIRS.has(dirname(path));
    const local = std ? this.cfg.tools[path === undefined ? name : basename(path)] : undefined;
    if (local) return this.runLocal(local, argv, io, env, fds);
    if (path === undefined) {
      for (const dir of (this.getVar("PATH") ?? "").split(":")) {
        if (dir === "") continue;
        const p = resolvePath(this.cwd(), `${dir}/${name}`);
        if (fs.exists(p) && !fs.isDir(p) && isExecutable(fs, p)) return this.runFile(p, p, argv, io, env, fds);
      }
      this.error(this.cfg.dialect === "bash" ? `${name}: command not found` : `${name}: not found`, fds);
    } else {
      this.error(this.cfg.dialect === "bash" ? `${name}: No such file or directory` : `${name}: not found`, fds);
    }
    return 127;
  }

  /** Runs a script file from the Vfs by its `#!` line (bash, sh, dash, or another program). */
  private async runFile(path: string, arg0: string, argv: string[], io: ToolIo, env: Map<string, string>, fds: Fds): Promise<number> {
    const text = this.fs.readText(path);
    if (typeof text !== "string" || isErrnoValue(text, this.fs, path)) {
      this.error(`${argv[0]}: ${strerror(text as ErrnoName)}`, fds);
      return 126;
    }
    let dialect = this.cfg.dialect;
    const m = /^#![ \t]*(\S+)(?:[ \t]+(\S+))?/.exec(text);
    if (m) {
      let interp = m[1]!;
      let arg: string | undefined = m[2];
      if (basename(interp) === "env" && arg) {
        interp = arg;
        arg = undefined;
      }
      const b = basename(interp);
      if (b === "bash") dialect = "bash";
      else if (b === "dash") dialect = "dash";
      else if (b === "sh") dialect = this.cfg.binSh;
      else {
        const r = await this.cfg.runner([interp, ...(arg ? [arg] : []), path, ...argv.slice(1)], io, env);
            if (r !== "not-found") return r;
        this.error(`${argv[0]}: ${interp}: bad interpreter: No such file or directory`, fds);
        return 126;
      }
    }
    const status = await runShellText(text, this.childCtx([arg0, ...argv.slice(1)], io, env), {
      ...this.cfg,
      dialect,
      mode: "script",
      name: arg0,
      args: argv.slice(1),
    });
    return status;
  }

  // ---- redirections ----------------------------------------------------------------------

  /**
   * Applies redirections around `body`. A redirection that fails stops the command before it
   * runs (bash: status 1, dash: 2); output for files is written when it ends.
   */
  async withRedirs(redirs: readonly Redir[], fds: Fds, label: string, body: (fds: Fds) => Promise<number>): Promise<number> {
    if (redirs.length === 0) return body(fds);
    const f: Fds = { input: fds.input, out: new Map(fds.out) };
    const files: FileSink[] = [];
    const failStatus = this.cfg.dialect === "dash" ? 2 : 1;
    this.fds = fds;
    for (const r of redirs) {
      let target: string;
      if (r.op === "<<" || r.op === "<<-") {
        f.input = new Input(r.heredoc ? await expandString(r.heredoc, this) : "");
        continue;
      }
      if (r.op === "<<<") {
        f.input = new Input((await expandString(r.target, this)) + "\n");
        continue;
      }
      const fields = await this.expandOrFail(() => expandWord(r.target, this));
      if (fields === undefined) return failStatus;
      if (fields.length !== 1) {
        this.error(`${r.target.raw}: ambiguous redirect`, fds);
        return failStatus;
      }
      target = fields[0]!;
      if ((r.op === ">&" || r.op === "<&") && (target === "-" || /^\d+$/.test(target))) {
        if (target === "-") f.out.set(r.fd, NULL_SINK);
        else if (r.op === ">&") {
          const src = f.out.get(Number(target));
          if (!src) {
            this.error(`${target}: Bad file descriptor`, fds);
            return failStatus;
          }
          f.out.set(r.fd, src);
        }
        continue;
      }
      if (r.op === "<" || r.op === "<>" || r.op === "<&") {
        if (target === "/dev/null") {
          f.input = new Input("");
          continue;
        }
        if (target === "/dev/stdin") continue;
        const text = this.fs.readText(resolvePath(this.cwd(), target));
        if (typeof text !== "string" || isErrnoValue(text, this.fs, resolvePath(this.cwd(), target))) {
          const e = text as ErrnoName;
          this.error(this.cfg.dialect === "dash" ? `cannot open ${target}: ${e === "ENOENT" ? "No such file" : strerror(e)}` : `${target}: ${strerror(e)}`, fds);
          return failStatus;
        }
        f.input = new Input(text);
        continue;
      }
      const append = r.op === ">>" || r.op === "&>>";
      const sink = this.openOut(target, append, f);
      if (typeof sink === "string") {
        this.error(this.cfg.dialect === "dash" ? `cannot create ${target}: ${sink === "ENOENT" ? "Directory nonexistent" : strerror(sink)}` : `${target}: ${strerror(sink)}`, fds);
        return failStatus;
      }
      if (sink instanceof FileSink) files.push(sink);
      if (r.op === "&>" || r.op === "&>>" || r.op === ">&") {
        f.out.set(1, sink);
        f.out.set(2, sink);
      } else f.out.set(r.fd, sink);
    }
    let status = await body(f);
    for (const file of files) {
      const res = file.flush();
      if (res === true) continue;
      status = failStatus;
      if (isOpenError(res)) {
        this.error(this.cfg.dialect === "dash" ? `cannot create ${file.target}: ${res === "ENOENT" ? "Directory nonexistent" : strerror(res)}` : `${file.target}: ${strerror(res)}`, fds);
      } else if (BUILTINS[label] || SHELL_TOOLS.has(label)) {
        this.error(this.cfg.dialect === "dash" ? `${label}: ${label}: I/O error` : `${label}: write error: ${strerror(res)}`, fds);
        status = 1;
      } else {
        (fds.out.get(2) ?? NULL_SINK).write(`${label}: write error: ${strerror(res)}\n`);
        status = 1;
      }
    }
    return status;
  }

  private openOut(target: string, append: boolean, f: Fds): Sink | ErrnoName {
    if (target === "/dev/null") return NULL_SINK;
    if (target === "/dev/stdout") return f.out.get(1) ?? NULL_SINK;
    if (target === "/dev/stderr") return f.out.get(2) ?? NULL_SINK;
    const fs = this.fs;
    const path = resolvePath(this.cwd(), target);
    if (fs.isDir(path)) return "EISDIR";
    if (path.startsWith("/proc/")) return new FileSink(fs, path, target, append, true);
    if (!fs.exists(path)) {
      const r = fs.write(path, "", { append: true });
      if (r !== true) return r;
      markCreated(fs, path);
    } else if (!append) {
      const r = fs.write(path, "");
      if (r !== true) return r;
    }
    return new FileSink(fs, path, target, true, false);
  }

  // ---- ExpandEnv -------------------------------------------------------------------------

  getVar(name: string): string | undefined {
    switch (name) {
      case "?": return String(this.st.status);
      case "#": return String(this.st.positional.length);
      case "$": return String(this.st.pid);
      case "!": return this.st.lastBg === undefined ? "" : String(this.st.lastBg);
      case "0": return this.st.arg0;
      case "-": return (this.st.errexit ? "e" : "") + (this.st.xtrace ? "x" : "") + (this.st.nounset ? "u" : "") + (this.st.noglob ? "f" : "");
      case "LINENO": return String(this.line);
    }
    if (/^\d+$/.test(name)) return this.st.positional[Number(name) - 1];
    return this.st.vars.get(name);
  }

  setVar(name: string, value: string): void {
    this.st.vars.set(name, value);
  }

  positional(): readonly string[] {
    return this.st.positional;
  }

  cwd(): string {
    return this.st.vars.get("PWD") ?? "/";
  }

  noglob(): boolean {
    return this.st.noglob;
  }

  listDir(path: string): string[] | undefined {
    if (!this.fs.isDir(path)) return undefined;
    const l = this.fs.list(path);
    return Array.isArray(l) ? l : undefined;
  }

  isDir(path: string): boolean {
    return this.fs.isDir(path);
  }

  fail(message: string, fatal = false): never {
    throw new ExpandFailure(message, fatal);
  }

  async substitute(body: List | string): Promise<string> {
    const buf = new BufferSink();
    const sub = this.subshell();
    sub.substDepth++;
    const fds: Fds = { input: new Input(undefined), out: new Map(this.fds.out) };
    fds.out.set(1, buf);
    let status: number;
    try {
      if (typeof body === "string") status = await sub.runText(body, fds, this.line);
      else status = await sub.execList(body, fds);
    } catch (e) {
      if (!(e instanceof ExitSignal)) throw e;
      status = e.status;
    }
    this.lastSubst = status;
    this.st.status = status;
    return buf.text();
  }

  // ---- for builtins ----------------------------------------------------------------------

  exit(status: number): never {
    this.st.exited = true;
    throw new ExitSignal(status);
  }

  doReturn(status: number): never {
    throw new ReturnSignal(status);
  }

  /** `eval`: run text in this shell. */
  async runHere(text: string, fds: Fds): Promise<number> {
    return this.runText(text, fds, this.line);
  }

  sourceDepth = 0;

  /** `.`/`source`: run a file's text in this shell; `return` ends it. */
  async source(text: string, args: string[] | undefined, fds: Fds): Promise<number> {
    const savedPos = this.st.positional;
    if (args) this.st.positional = args;
    this.sourceDepth++;
    try {
      return await this.runText(text, fds, 1);
    } catch (e) {
      if (e instanceof ReturnSignal) return (this.st.status = e.status);
      throw e;
    } finally {
      this.sourceDepth--;
      if (args) this.st.positional = savedPos;
    }
  }

  loopJump(kind: "break" | "continue", n: number): never {
    throw new LoopSignal(kind, Math.min(n, this.loopDepth));
  }

  async waitAll(): Promise<number> {
    let status = 0;
    while (this.bg.length > 0) {
      const jobs = this.bg.splice(0);
      for (const j of jobs) status = Number(await j) || 0;
    }
    return status;
  }

  isName(s: string): boolean {
    return isName(s);
  }
}

const PATH_DIRS = new Set(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]);

/** readText's result is an errno name only when the file could not be read. */
function isErrnoValue(text: string, fs: Vfs, path: string): boolean {
  return /^E[A-Z]+$/.test(text) && !fs.exists(path);
}

export interface RunOptions {
  /** $0, and the name in messages. */
  readonly name: string;
  readonly args?: readonly string[];
  readonly dialect: Dialect;
  readonly mode: ShellMode;
  readonly binSh: Dialect;
  readonly tools: Readonly<Record<string, Tool>>;
  readonly runner: CommandRunner;
  /** Shell options on entry (`sh -e -x`). */
  readonly errexit?: boolean;
  readonly xtrace?: boolean;
  /** Keep variables, functions and the directory between calls (an interactive session). */
  readonly state?: ShellState;
}

/** Runs a shell text with the given identity; resolves to its exit status. */
export async function runShellText(text: string, ctx: ToolContext, opts: RunOptions): Promise<number> {
  const st = opts.state ?? ShellState.fromEnv(ctx.env);
  st.arg0 = opts.name;
  if (opts.args) st.positional = [...opts.args];
  if (opts.errexit) st.errexit = true;
  if (opts.xtrace) st.xtrace = true;
  const fds: Fds = {
    input: new Input(ctx.io.stdin),
    out: new Map<number, Sink>([
      [1, { write: (s) => ctx.io.stdout(s) }],
      [2, { write: (s) => ctx.io.stderr(s) }],
    ]),
  };
  const shell = new Shell(ctx, st, opts, fds);
  return shell.main(text);
}
