/**
 * Builtins that change the shell itself (directory, variables, options, control flow), with
 * bash's and dash's messages. Commands that do not touch shell state (`echo`, `printf`,
 * `test`, `pwd`, `true`, `false`) are tools in coreutils.ts, which the shell runs in-process.
 */
import type { Fds, Shell } from "./interp.js";
import { bashQuote } from "./quote.js";
import { evalArith } from "./expand.js";
import { resolvePath, strerror } from "./paths.js";
import { locateCommand } from "./coreutils.js";

export type Builtin = (sh: Shell, argv: string[], fds: Fds) => Promise<number> | number;

function out(fds: Fds, s: string): void {
  fds.out.get(1)?.write(s);
}

const KEYWORDS = new Set(["if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done", "in", "{", "}", "!", "function"]);

function bad(sh: Shell): number {
  return sh.cfg.dialect === "dash" ? 2 : 1;
}

const cd: Builtin = (sh, argv, fds) => {
  const args = argv.slice(1).filter((a) => a !== "-L" && a !== "-P");
  if (args[0] === "--") args.shift();
  const dash = sh.cfg.dialect === "dash";
  if (args.length > 1 && !dash) {
    sh.error("cd: too many arguments", fds);
    return 1;
  }
  let dir = args[0] ?? sh.getVar("HOME") ?? "/root";
  let print = false;
  if (dir === "-") {
    const old = sh.getVar("OLDPWD");
    if (old === undefined) {
      sh.error(dash ? "cd: can't cd to -" : "cd: OLDPWD not set", fds);
      return bad(sh);
    }
    dir = old;
    print = true;
  }
  const fs = sh.fs;
  const path = resolvePath(sh.cwd(), dir);
  if (!fs.isDir(path)) {
    const why = fs.exists(path) ? "Not a directory" : "No such file or directory";
    sh.error(dash ? `cd: can't cd to ${dir}` : `cd: ${dir}: ${why}`, fds);
    return bad(sh);
  }
  sh.st.vars.set("OLDPWD", sh.cwd());
  sh.st.vars.set("PWD", path);
  if (print) out(fds, path + "\n");
  return 0;
};

function assignArgs(sh: Shell, name: string, argv: string[], fds: Fds, exportIt: boolean): number {
  let status = 0;
  for (const a of argv) {
    const eq = a.indexOf("=");
    const n = eq < 0 ? a : a.slice(0, eq);
    if (!sh.isName(n)) {
      sh.error(sh.cfg.dialect === "dash" ? `${name}: ${a}: bad variable name` : `${name}: \`${a}': not a valid identifier`, fds);
      if (sh.cfg.dialect === "dash") return 2;
      status = 1;
      continue;
    }
    if (eq >= 0) sh.st.vars.set(n, a.slice(eq + 1));
    if (exportIt) sh.st.exported.add(n);
  }
  return status;
}

function listExports(sh: Shell, fds: Fds, name: string): void {
  for (const k of [...sh.st.exported].sort()) {
    const v = sh.st.vars.get(k);
    if (sh.cfg.dialect === "dash") out(fds, v === undefined ? `${name} ${k}\n` : `${name} ${k}='${v.replace(/'/g, "'\\''")}'\n`);
    else out(fds, v === undefined ? `declare -x ${k}\n` : `declare -x ${k}="${v.replace(/(["\\$`])/g, "\\$1")}"\n`);
  }
}

const exportB: Builtin = (sh, argv, fds) => {
  let args = argv.slice(1);
  let unexport = false;
  while (args[0]?.startsWith("-")) {
    const o = args.shift()!;
    if (o === "--") break;
    if (o.includes("n")) unexport = true;
  }
  if (args.length === 0) {
    listExports(sh, fds, "export");
    return 0;
  }
  if (unexport) {
    for (const a of args) sh.st.exported.delete(a);
    return 0;
  }
  return assignArgs(sh, "export", args, fds, true);
};

const readonlyB: Builtin = (sh, argv, fds) => assignArgs(sh, "readonly", argv.slice(1).filter((a) => !a.startsWith("-")), fds, false);

const unset: Builtin = (sh, argv) => {
  let fn = false;
  for (const a of argv.slice(1)) {
    if (a === "-f") fn = true;
    else if (a === "-v") fn = false;
    else if (fn) sh.st.funcs.delete(a);
    else {
      sh.st.vars.delete(a);
      sh.st.exported.delete(a);
    }
  }
  return 0;
};

const OPTION_NAMES: Record<string, "errexit" | "xtrace" | "nounset" | "noglob" | undefined> = {
  errexit: "errexit",
  xtrace: "xtrace",
  nounset: "nounset",
  noglob: "noglob",
};
const OPTION_LETTERS: Record<string, "errexit" | "xtrace" | "nounset" | "noglob" | undefined> = { e: "errexit", x: "xtrace", u: "nounset", f: "noglob" };

const set: Builtin = (sh, argv, fds) => {
  const args = argv.slice(1);
  if (args.length === 0) {
    for (const k of [...sh.st.vars.keys()].sort()) out(fds, `${k}=${bashQuote(sh.st.vars.get(k)!)}\n`);
    return 0;
  }
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      i++;
      sh.st.positional = args.slice(i);
      return 0;
    }
    if (a === "-" || a === "+") continue;
    if (!/^[-+]/.test(a)) break;
    const on = a[0] === "-";
    if (a.slice(1) === "o") {
      const name = args[++i];
      if (name === undefined) {
        for (const [n, k] of Object.entries(OPTION_NAMES)) out(fds, `${n.padEnd(15)}\t${sh.st[k!] ? "on" : "off"}\n`);
        continue;
      }
      const k = OPTION_NAMES[name];
      if (k) sh.st[k] = on;
      else if (name !== "pipefail" && name !== "posix" && name !== "verbose") {
        sh.error(`set: ${name}: invalid option name`, fds);
        return sh.cfg.dialect === "dash" ? 2 : 1;
      }
      continue;
    }
    for (const c of a.slice(1)) {
      const k = OPTION_LETTERS[c];
      if (k) sh.st[k] = on;
      else if (!"vhBHCPTkmnab".includes(c)) {
        sh.error(sh.cfg.dialect === "dash" ? `set: Illegal option ${a[0]}${c}` : `set: ${a[0]}${c}: invalid option`, fds);
        return 2;
      }
    }
  }
  if (i < args.length) sh.st.positional = args.slice(i);
  return 0;
};

function numArg(sh: Shell, name: string, a: string | undefined, fds: Fds, dflt: number): number | undefined {
  if (a === undefined) return dflt;
  if (/^-?\d+$/.test(a)) return Number(a);
  sh.error(sh.cfg.dialect === "dash" ? `${name}: Illegal number: ${a}` : `${name}: ${a}: numeric argument required`, fds);
  return undefined;
}

const shift: Builtin = (sh, argv, fds) => {
  const n = numArg(sh, "shift", argv[1], fds, 1);
  if (n === undefined) return 2;
  if (n > sh.st.positional.length) {
    if (sh.cfg.dialect === "dash") {
      sh.error("shift: can't shift that many", fds);
      return 2;
    }
    return 1;
  }
  sh.st.positional = sh.st.positional.slice(n);
  return 0;
};

const exit: Builtin = (sh, argv, fds) => {
  const n = numArg(sh, "exit", argv[1], fds, sh.st.status);
  return sh.exit(n === undefined ? 2 : n & 255);
};

const ret: Builtin = (sh, argv, fds) => {
  if (sh.funcDepth === 0 && sh.sourceDepth === 0) {
    if (sh.cfg.dialect === "bash") {
      sh.error("return: can only `return' from a function or sourced script", fds);
      return 1;
    }
    return sh.exit(sh.st.status);
  }
  const n = numArg(sh, "return", argv[1], fds, sh.st.status);
  return sh.doReturn(n === undefined ? 2 : n & 255);
};

function loop(kind: "break" | "continue"): Builtin {
  return (sh, argv, fds) => {
    const n = numArg(sh, kind, argv[1], fds, 1);
    if (n === undefined) return 1;
    if (n < 1) {
      sh.error(`${kind}: ${argv[1]}: loop count out of range`, fds);
      return 1;
    }
    if (sh.loopDepth === 0) {
      if (sh.cfg.dialect === "bash") sh.error(`${kind}: only meaningful in a \`for', \`while', or \`until' loop`, fds);
      return 0;
    }
    return sh.loopJump(kind, n);
  };
}

const local: Builtin = (sh, argv, fds) => {
  const frame = sh.locals[sh.locals.length - 1];
  if (sh.funcDepth === 0 || !frame) {
    sh.error("local: can only be used in a function", fds);
    return sh.cfg.dialect === "dash" ? 2 : 1;
  }
  for (const a of argv.slice(1)) {
    if (a.startsWith("-")) continue;
    const eq = a.indexOf("=");
    const n = eq < 0 ? a : a.slice(0, eq);
    if (!frame.has(n)) frame.set(n, sh.st.vars.get(n));
    if (eq >= 0) sh.st.vars.set(n, a.slice(eq + 1));
    else if (sh.cfg.dialect === "bash") sh.st.vars.delete(n);
  }
  return 0;
};

const read: Builtin = (sh, argv, fds) => {
  const args = argv.slice(1);
  let raw = false;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-r") raw = true;
    else if (a === "-p" || a === "-t" || a === "-u" || a === "-n" || a === "-d") i++;
    else if (a.startsWith("-") && a.length > 1) continue;
    else names.push(a);
  }
  if (names.length === 0) names.push("REPLY");
  let line = fds.input.readLine();
  let status = 0;
  if (line === undefined) {
    for (const n of names) sh.st.vars.set(n, "");
    return 1;
  }
  if (line.endsWith("\u0000")) {
    line = line.slice(0, -1);
    status = 1;
  }
  if (!raw) {
    while (line.endsWith("\\")) {
      const next = fds.input.readLine();
      if (next === undefined) {
        line = line.slice(0, -1);
        break;
      }
      line = line.slice(0, -1) + next.replace(/\u0000$/, "");
    }
    line = line.replace(/\\(.)/g, "$1");
  }
  const ifs = sh.getVar("IFS") ?? " \t\n";
  const isIfs = (c: string): boolean => ifs.includes(c);
  let rest = line;
  const trimStart = (s: string): string => {
    let i = 0;
    while (i < s.length && isIfs(s[i]!) && /\s/.test(s[i]!)) i++;
    return s.slice(i);
  };
  rest = trimStart(rest);
  names.forEach((n, idx) => {
    if (idx === names.length - 1) {
      let end = rest.length;
      while (end > 0 && isIfs(rest[end - 1]!) && /\s/.test(rest[end - 1]!)) end--;
      sh.st.vars.set(n, rest.slice(0, end));
      return;
    }
    let j = 0;
    while (j < rest.length && !isIfs(rest[j]!)) j++;
    sh.st.vars.set(n, rest.slice(0, j));
    rest = trimStart(rest.slice(j + (j < rest.length && !/\s/.test(rest[j]!) ? 1 : 0)));
  });
  return status;
};

const evalB: Builtin = async (sh, argv, fds) => {
  const text = argv.slice(1).join(" ");
  if (text.trim() === "") return 0;
  return sh.runHere(text, fds);
};

const source: Builtin = async (sh, argv, fds) => {
  const file = argv[1];
  if (file === undefined) {
    sh.error(sh.cfg.dialect === "dash" ? ".: filename argument required" : `${argv[0]}: filename argument required`, fds);
    return 2;
  }
  const fs = sh.fs;
  let path: string | undefined;
  if (file.includes("/")) path = resolvePath(sh.cwd(), file);
  else {
    for (const d of [...(sh.getVar("PATH") ?? "").split(":"), ...(sh.cfg.dialect === "bash" ? [sh.cwd()] : [])]) {
      if (d === "") continue;
      const p = resolvePath(sh.cwd(), `${d}/${file}`);
      if (fs.exists(p) && !fs.isDir(p)) {
        path = p;
        break;
      }
    }
  }
  const text = path !== undefined && fs.exists(path) ? fs.readText(path) : "ENOENT";
  if (path === undefined || text === "ENOENT" || text === "EISDIR" || text === "EACCES") {
    const e = text === "EISDIR" || text === "EACCES" ? text : "ENOENT";
    if (sh.cfg.dialect === "dash") {
      sh.error(`${argv[0]}: cannot open ${file}: ${e === "ENOENT" ? "No such file" : strerror(e)}`, fds);
      sh.exit(2);
    }
    sh.error(`${file}: ${strerror(e)}`, fds);
    return 1;
  }
  return sh.source(text, argv.length > 2 ? argv.slice(2) : undefined, fds);
};

const wait: Builtin = async (sh) => sh.waitAll();

function describe(sh: Shell, name: string): { kind: "function" | "builtin" | "keyword" | "file"; path?: string } | undefined {
  if (KEYWORDS.has(name)) return { kind: "keyword" };
  if (sh.st.funcs.has(name)) return { kind: "function" };
  if (BUILTINS[name] || ["echo", "printf", "test", "[", "true", "false", "pwd", ":"].includes(name)) return { kind: "builtin" };
  const path = locateCommand(sh.childCtx([name], { stdout() {}, stderr() {} }, sh.st.exportedEnv()), name, sh.cfg.tools);
  return path ? { kind: "file", path } : undefined;
}

const type: Builtin = (sh, argv, fds) => {
  let status = 0;
  for (const n of argv.slice(1).filter((a) => !a.startsWith("-"))) {
    const d = describe(sh, n);
    if (!d) {
      if (sh.cfg.dialect === "dash") out(fds, `${n}: not found\n`);
      else sh.error(`type: ${n}: not found`, fds);
      status = sh.cfg.dialect === "dash" ? 127 : 1;
      continue;
    }
    const what =
      d.kind === "keyword" ? "a shell keyword" : d.kind === "function" ? "a function" : d.kind === "builtin" ? "a shell builtin" : d.path!;
    out(fds, `${n} is ${what}\n`);
  }
  return status;
};

const command: Builtin = async (sh, argv, fds) => {
  const args = argv.slice(1);
  if (args[0] === "-v" || args[0] === "-V") {
    const verbose = args[0] === "-V";
    let status = 0;
    for (const n of args.slice(1)) {
      const d = describe(sh, n);
      if (!d) {
        status = 1;
        continue;
      }
      out(fds, verbose ? `${n} is ${d.path ?? `a shell ${d.kind}`}\n` : `${d.path ?? n}\n`);
    }
    return status;
  }
  if (args[0] === "-p") args.shift();
  if (args.length === 0) return 0;
  const fn = sh.st.funcs.get(args[0]!);
  if (fn) sh.st.funcs.delete(args[0]!);
  try {
    return await sh.dispatch(args, [], fds);
  } finally {
    if (fn) sh.st.funcs.set(args[0]!, fn);
  }
};

const exec: Builtin = async (sh, argv, fds) => {
  if (argv.length < 2) return 0;
  return sh.exit(await sh.dispatch(argv.slice(1), [], fds));
};

const let_: Builtin = (sh, argv, fds) => {
  let v = 0;
  try {
    for (const a of argv.slice(1)) v = evalArith(a, sh);
  } catch (e) {
    if (e instanceof Error) throw e;
    sh.error(String((e as { message?: string }).message ?? e), fds);
    return 1;
  }
  return v === 0 ? 1 : 0;
};

const noop: Builtin = () => 0;

export const BUILTINS: Record<string, Builtin> = {
  cd,
  export: exportB,
  readonly: readonlyB,
  unset,
  set,
  shift,
  exit,
  return: ret,
  break: loop("break"),
  continue: loop("continue"),
  local,
  read,
  eval: evalB,
  ".": source,
  source,
  wait,
  type,
  command,
  exec,
  let: let_,
  trap: noop,
  umask: noop,
  alias: noop,
  unalias: noop,
  ulimit: noop,
  hash: noop,
  shopt: noop,
};

/** POSIX special builtins: assignments before them stay (XCU 2.14). */
export const SPECIAL_BUILTINS = new Set(["export", "readonly", "unset", "set", "shift", "exit", "return", "break", "continue", "eval", ".", "exec", "trap", ":"]);
