/**
 * Small coreutils-like commands that live with the shell: each is a `Tool` working on the
 * host's Vfs, printing GNU coreutils' (C locale) messages and exit statuses. Relative paths
 * are taken from `$PWD` in the command's environment. Options beyond the common ones are not
 * implemented; an unknown option is reported like GNU does.
 *
 * When the shell runs `echo`, `printf`, `test`/`[`, `pwd`, `true`, `false` itself (they are
 * bash builtins) it passes `shDialect` in the context, so dash's variants apply.
 */
import type { Tool, ToolContext, Vfs } from "../types.js";
import { getMode, isExecutable, markCreated, modeString, setMode, forgetMode } from "./modes.js";
import { basename as baseOf, dirname as dirOf, resolvePath, strerror } from "./paths.js";
import type { ErrnoName } from "../types.js";
import { runnerOf } from "./runner.js";

/** A context given by the shell to the commands it runs in-process. */
export interface BuiltinContext extends ToolContext {
  readonly shDialect?: "bash" | "dash";
}

function dialectOf(ctx: ToolContext): "bash" | "dash" {
  return (ctx as BuiltinContext).shDialect ?? "bash";
}

function cwdOf(ctx: ToolContext): string {
  return ctx.env.get("PWD") ?? "/";
}

function abs(ctx: ToolContext, p: string): string {
  return resolvePath(cwdOf(ctx), p);
}

function fsOf(ctx: ToolContext): Vfs {
  return ctx.host.fs;
}

function readFile(ctx: ToolContext, p: string): string | ErrnoName {
  const fs = fsOf(ctx);
  const path = abs(ctx, p);
  if (fs.isDir(path)) return "EISDIR";
  if (!fs.exists(path)) return "ENOENT";
  return fs.readText(path);
}

/** Inputs of a filter (cat, grep, head …): named files, or standard input. */
function inputs(ctx: ToolContext, files: string[], name: string, onError: (msg: string) => void): { name: string; text: string }[] {
  if (files.length === 0) return [{ name: "(standard input)", text: ctx.io.stdin ?? "" }];
  const out: { name: string; text: string }[] = [];
  for (const f of files) {
    if (f === "-") {
      out.push({ name: "(standard input)", text: ctx.io.stdin ?? "" });
      continue;
    }
    const t = readFile(ctx, f);
    if (isErr(t)) onError(`${name}: ${f}: ${strerror(t)}`);
    else out.push({ name: f, text: t });
  }
  return out;
}

const ERRNOS = new Set(["ENOENT", "EISDIR", "EACCES", "ENOTDIR", "EPERM", "EINVAL", "ENODEV"]);
function isErr(t: string): t is ErrnoName {
  return ERRNOS.has(t);
}

function lines(text: string): string[] {
  if (text === "") return [];
  const l = text.split("\n");
  if (l[l.length - 1] === "") l.pop();
  return l;
}

/** Splits argv into single-letter flags, option values and operands (GNU style). */
function parseOpts(args: readonly string[], withValue: string): { flags: Set<string>; values: Map<string, string>; operands: string[]; bad?: string } {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("--") && a.length > 2) {
      flags.add(a);
      continue;
    }
    if (!a.startsWith("-") || a === "-" || /^-\d/.test(a)) {
      operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (withValue.includes(c)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (v === undefined) return { flags, values, operands, bad: c };
        values.set(c, v);
        break;
      }
      flags.add(c);
    }
  }
  return { flags, values, operands };
}

// ---- echo, printf ----------------------------------------------------------------------

function escapes(s: string, dashOctal: boolean): { text: string; stop: boolean } {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\" || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[++i]!;
    const map: Record<string, string> = { a: "\x07", b: "\b", e: "\x1b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\" };
    if (n in map) out += map[n];
    else if (n === "c") return { text: out, stop: true };
    else if (n === "0" || (!dashOctal && /[1-7]/.test(n))) {
      const m = /^[0-7]{0,3}/.exec(s.slice(n === "0" ? i + 1 : i))![0];
      out += String.fromCharCode(Number.parseInt(m || "0", 8) & 255);
      i += n === "0" ? m.length : m.length - 1;
    } else if (n === "x" && !dashOctal) {
      const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1))?.[0];
      if (m) {
        out += String.fromCharCode(Number.parseInt(m, 16));
        i += m.length;
      } else out += "\\x";
    } else out += "\\" + n;
  }
  return { text: out, stop: false };
}

/** bash's echo builtin (and /bin/echo): -n, -e, -E; dash's echo: -n only, escapes always. */
export const echo: Tool = async (ctx) => {
  const args = ctx.argv.slice(1);
  const dash = dialectOf(ctx) === "dash";
  let newline = true;
  let esc = dash;
  while (args.length > 0 && (dash ? args[0] === "-n" : /^-[neE]+$/.test(args[0]!))) {
    const o = args.shift()!;
    for (const c of o.slice(1)) {
      if (c === "n") newline = false;
      else if (c === "e") esc = true;
      else if (c === "E") esc = false;
    }
  }
  let text = args.join(" ");
  if (esc) {
    const r = escapes(text, dash);
    text = r.text;
    if (r.stop) newline = false;
  }
  ctx.io.stdout(newline ? text + "\n" : text);
  return 0;
};

/** printf FORMAT [ARG]…: %s %b %c %d %i %u %o %x %X %e %f %g %%, flags, width, precision. */
export const printf: Tool = async (ctx) => {
  const args = ctx.argv.slice(1);
  if (args[0] === "--") args.shift();
  const fmt = args.shift();
  if (fmt === undefined) {
    ctx.io.stderr("printf: usage: printf [-v var] format [arguments]\n");
    return 2;
  }
  let status = 0;
  let out = "";
  let ai = 0;
  const next = (): string | undefined => (ai < args.length ? args[ai++] : undefined);
  const num = (v: string | undefined): number => {
    if (v === undefined || v === "") return 0;
    if (/^['"]/.test(v)) return v.codePointAt(1) ?? 0;
    const n = /^[-+]?0[xX][0-9a-fA-F]+$/.test(v) ? Number.parseInt(v, 16) : /^[-+]?0[0-7]+$/.test(v) ? Number.parseInt(v, 8) : Number(v);
    if (Number.isNaN(n)) {
      ctx.io.stderr(`printf: ${v}: invalid number\n`);
      status = 1;
      return Number.parseFloat(v) || 0;
    }
    return n;
  };
  const pad = (s: string, flags: string, width: number): string => {
    if (s.length >= width) return s;
    if (flags.includes("-")) return s.padEnd(width);
    if (flags.includes("0") && /^[-+]?\d/.test(s)) {
      const sign = /^[-+]/.test(s) ? s[0]! : "";
      return sign + s.slice(sign.length).padStart(width - sign.length, "0");
    }
    return s.padStart(width);
  };
  do {
    const before = ai;
    let stop = false;
    out += fmt.replace(/%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([sbcdiuoxXeEfgG%])|\\(?:[0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)/g, (m, flags: string, w: string, p: string, conv: string) => {
      if (stop) return "";
      if (m.startsWith("\\")) {
        const r = escapes(m, false);
        if (r.stop) stop = true;
        return r.text;
      }
      if (conv === "%") return "%";
      const width = w === "*" ? num(next()) : w ? Number(w) : 0;
      const prec = p === "*" ? num(next()) : p !== undefined ? Number(p) : undefined;
      const a = next();
      let s: string;
      switch (conv) {
        case "s": s = a ?? ""; if (prec !== undefined) s = s.slice(0, prec); break;
        case "b": { const r = escapes(a ?? "", false); s = r.text; if (r.stop) stop = true; break; }
        case "c": s = (a ?? "").slice(0, 1); break;
        case "d": case "i": { const n = Math.trunc(num(a)); s = (n >= 0 && flags.includes("+") ? "+" : n >= 0 && flags.includes(" ") ? " " : "") + String(n); break; }
        case "u": s = String(Math.trunc(num(a))); break;
        case "o": s = Math.trunc(num(a)).toString(8); break;
        case "x": s = Math.trunc(num(a)).toString(16); break;
        case "X": s = Math.trunc(num(a)).toString(16).toUpperCase(); break;
        case "e": case "E": s = num(a).toExponential(prec ?? 6).replace(/e([+-])(\d)$/, "e$10$2"); if (conv === "E") s = s.toUpperCase(); break;
        case "f": s = num(a).toFixed(prec ?? 6); break;
        default: s = String(Number(num(a).toPrecision(prec || 6))); break;
      }
      return pad(s, flags, width);
    });
    if (stop || ai === before) break;
  } while (ai < args.length);
  ctx.io.stdout(out);
  return status;
};

// ---- test / [ (POSIX test, bash/dash messages) -----------------------------------------

class TestError {
  constructor(readonly message: string) {}
}

export const test: Tool = async (ctx) => {
  const name = ctx.argv[0] ?? "test";
  let args = ctx.argv.slice(1);
  const dash = dialectOf(ctx) === "dash";
  if (name === "[") {
    if (args[args.length - 1] !== "]") {
      ctx.io.stderr(`[: missing \`]'\n`);
      return 2;
    }
    args = args.slice(0, -1);
  }
  const fs = fsOf(ctx);
  const int = (s: string): number => {
    if (!/^\s*[-+]?\d+\s*$/.test(s)) throw new TestError(dash ? `Illegal number: ${s}` : `${s}: integer expression expected`);
    return Number(s);
  };
  const unary = (op: string, a: string): boolean => {
    const p = abs(ctx, a);
    switch (op) {
      case "-n": return a !== "";
      case "-z": return a === "";
      case "-e": case "-a": return a !== "" && (fs.exists(p) || fs.isDir(p));
      case "-f": return a !== "" && fs.exists(p) && !fs.isDir(p);
      case "-d": return a !== "" && fs.isDir(p);
      case "-s": { if (a === "" || !fs.exists(p) || fs.isDir(p)) return fs.isDir(p); const t = fs.read(p); return typeof t !== "string" && t.length > 0; }
      case "-r": case "-w": return a !== "" && (fs.exists(p) || fs.isDir(p));
      case "-x": return a !== "" && (fs.isDir(p) || (fs.exists(p) && isExecutable(fs, p)));
      case "-L": case "-h": case "-b": case "-c": case "-p": case "-S": case "-t": case "-g": case "-u": case "-k": return false;
    }
    throw new TestError(`${op}: unary operator expected`);
  };
  const BIN = new Set(["=", "==", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef", "<", ">"]);
  const binary = (a: string, op: string, b: string): boolean => {
    switch (op) {
      case "=": case "==": return a === b;
      case "!=": return a !== b;
      case "<": return a < b;
      case ">": return a > b;
      case "-eq": return int(a) === int(b);
      case "-ne": return int(a) !== int(b);
      case "-lt": return int(a) < int(b);
      case "-le": return int(a) <= int(b);
      case "-gt": return int(a) > int(b);
      case "-ge": return int(a) >= int(b);
      default: return false;
    }
  };
  const UNARY = /^-[nzefdsrwxaLhbcpStguk]$/;
  // POSIX rules by argument count, then a small precedence parser for -a/-o/!/( ).
  const evalN = (t: string[]): boolean => {
    switch (t.length) {
      case 0: return false;
      case 1: return t[0] !== "";
      case 2:
        if (t[0] === "!") return !evalN(t.slice(1));
        if (UNARY.test(t[0]!)) return unary(t[0]!, t[1]!);
        throw new TestError(`${t[0]}: unary operator expected`);
      case 3:
        if (BIN.has(t[1]!)) return binary(t[0]!, t[1]!, t[2]!);
        if (t[0] === "!") return !evalN(t.slice(1));
        if (t[0] === "(" && t[2] === ")") return evalN([t[1]!]);
        if (t[1] === "-a") return t[0] !== "" && t[2] !== "";
        if (t[1] === "-o") return t[0] !== "" || t[2] !== "";
        throw new TestError(`${t[1]}: binary operator expected`);
      case 4:
        if (t[0] === "!") return !evalN(t.slice(1));
        if (t[0] === "(" && t[3] === ")") return evalN(t.slice(1, 3));
    }
    return orExpr(t);
  };
  const orExpr = (t: string[]): boolean => {
    const i = t.lastIndexOf("-o");
    if (i > 0) return orExpr(t.slice(0, i)) || andExpr(t.slice(i + 1));
    return andExpr(t);
  };
  const andExpr = (t: string[]): boolean => {
    const i = t.lastIndexOf("-a");
    if (i > 0 && !UNARY.test(t[i - 1] ?? "")) return andExpr(t.slice(0, i)) && evalN(t.slice(i + 1));
    if (t.length > 4) throw new TestError("too many arguments");
    return evalN(t);
  };
  try {
    return evalN(args) ? 0 : 1;
  } catch (e) {
    if (!(e instanceof TestError)) throw e;
    ctx.io.stderr(`${name}: ${e.message}\n`);
    return 2;
  }
};

// ---- small ones ------------------------------------------------------------------------

export const trueTool: Tool = async () => 0;
export const falseTool: Tool = async () => 1;

export const pwd: Tool = async (ctx) => {
  ctx.io.stdout(cwdOf(ctx) + "\n");
  return 0;
};

export const whoami: Tool = async (ctx) => {
  ctx.io.stdout("root\n");
  return 0;
};

export const id: Tool = async (ctx) => {
  const a = ctx.argv.slice(1);
  if (a.includes("-u")) ctx.io.stdout(a.includes("-n") ? "root\n" : "0\n");
  else if (a.includes("-g")) ctx.io.stdout(a.includes("-n") ? "root\n" : "0\n");
  else ctx.io.stdout("uid=0(root) gid=0(root) groups=0(root)\n");
  return 0;
};

export const KERNEL_RELEASE = "6.1.0-18-amd64";
const KERNEL_VERSION = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)";

export const uname: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "");
  const f = o.flags;
  const all = f.has("a") || f.has("--all");
  const parts: string[] = [];
  if (all || f.has("s") || f.size === 0) parts.push("Linux");
  if (all || f.has("n")) parts.push(ctx.host.name);
  if (all || f.has("r")) parts.push(KERNEL_RELEASE);
  if (all || f.has("v")) parts.push(KERNEL_VERSION);
  if (all || f.has("m")) parts.push("x86_64");
  if (all || f.has("o")) parts.push("GNU/Linux");
  ctx.io.stdout(parts.join(" ") + "\n");
  return 0;
};

function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(s);
  if (!m) return undefined;
  const mult = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]!]!;
  return Number(m[1]) * mult;
}

export const sleep: Tool = async (ctx) => {
  const args = ctx.argv.slice(1);
  if (args.length === 0) {
    ctx.io.stderr("sleep: missing operand\nTry 'sleep --help' for more information.\n");
    return 1;
  }
  let total = 0;
  for (const a of args) {
    const d = parseDuration(a);
    if (d === undefined) {
      ctx.io.stderr(`sleep: invalid time interval '${a}'\nTry 'sleep --help' for more information.\n`);
      return 1;
    }
    total += d;
  }
  await Promise.race([ctx.sleep(Math.round(total * 1_000_000)), ctx.interrupted]);
  return ctx.isInterrupted() ? 130 : 0;
};

export const cat: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "");
  let status = 0;
  let n = 0;
  for (const f of inputs(ctx, o.operands, "cat", (m) => {
    ctx.io.stderr(m + "\n");
    status = 1;
  })) {
    if (o.flags.has("n")) ctx.io.stdout(lines(f.text).map((l) => `${String(++n).padStart(6)}\t${l}\n`).join(""));
    else ctx.io.stdout(f.text);
  }
  return status;
};

export const mkdir: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "m");
  const fs = fsOf(ctx);
  if (o.operands.length === 0) {
    ctx.io.stderr("mkdir: missing operand\nTry 'mkdir --help' for more information.\n");
    return 1;
  }
  let status = 0;
  for (const d of o.operands) {
    const p = abs(ctx, d);
    if (fs.isDir(p) || fs.exists(p)) {
      if (o.flags.has("p") && fs.isDir(p)) continue;
      ctx.io.stderr(`mkdir: cannot create directory '${d}': File exists\n`);
      status = 1;
      continue;
    }
    if (!o.flags.has("p") && !fs.isDir(dirOf(p))) {
      ctx.io.stderr(`mkdir: cannot create directory '${d}': No such file or directory\n`);
      status = 1;
      continue;
    }
    fs.mkdirp(p);
  }
  return status;
};

export const rm: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "");
  const fs = fsOf(ctx);
  const force = o.flags.has("f");
  const recursive = o.flags.has("r") || o.flags.has("R");
  if (o.operands.length === 0 && !force) {
    ctx.io.stderr("rm: missing operand\nTry 'rm --help' for more information.\n");
    return 1;
  }
  let status = 0;
  for (const f of o.operands) {
    const p = abs(ctx, f);
    if (!fs.exists(p) && !fs.isDir(p)) {
      if (!force) {
        ctx.io.stderr(`rm: cannot remove '${f}': No such file or directory\n`);
        status = 1;
      }
      continue;
    }
    if (fs.isDir(p) && !recursive) {
      ctx.io.stderr(`rm: cannot remove '${f}': Is a directory\n`);
      status = 1;
      continue;
    }
    const r = fs.remove(p);
    if (r !== true) {
      ctx.io.stderr(`rm: cannot remove '${f}': ${strerror(r)}\n`);
      status = 1;
    } else forgetMode(fs, p);
  }
  return status;
};

export const touch: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "dtr");
  const fs = fsOf(ctx);
  let status = 0;
  for (const f of o.operands) {
    const p = abs(ctx, f);
    if (fs.exists(p) || fs.isDir(p)) continue;
    const r = fs.write(p, "");
    if (r !== true) {
      ctx.io.stderr(`touch: cannot touch '${f}': ${strerror(r)}\n`);
      status = 1;
    } else markCreated(fs, p);
  }
  return status;
};

export const chmod: Tool = async (ctx) => {
  const args = ctx.argv.slice(1).filter((a) => a !== "-R" && a !== "-v" && a !== "-f");
  const fs = fsOf(ctx);
  const mode = args.shift();
  if (mode === undefined || args.length === 0) {
    ctx.io.stderr(mode === undefined ? "chmod: missing operand\n" : `chmod: missing operand after '${mode}'\n`);
    ctx.io.stderr("Try 'chmod --help' for more information.\n");
    return 1;
  }
  let status = 0;
  for (const f of args) {
    const p = abs(ctx, f);
    if (!fs.exists(p) && !fs.isDir(p)) {
      ctx.io.stderr(`chmod: cannot access '${f}': No such file or directory\n`);
      status = 1;
      continue;
    }
    const m = applyMode(getMode(fs, p), mode);
    if (m === undefined) {
      ctx.io.stderr(`chmod: invalid mode: '${mode}'\nTry 'chmod --help' for more information.\n`);
      return 1;
    }
    setMode(fs, p, m);
  }
  return status;
};

/** An octal mode or a symbolic one (`+x`, `u+rwx,go-w`, `a=r`). */
export function applyMode(cur: number, spec: string): number | undefined {
  if (/^[0-7]{1,4}$/.test(spec)) return Number.parseInt(spec, 8);
  let m = cur;
  for (const clause of spec.split(",")) {
    const c = /^([ugoa]*)([-+=])([rwxX]*)$/.exec(clause);
    if (!c) return undefined;
    const who = c[1] === "" || c[1]!.includes("a") ? "ugo" : c[1]!;
    let bits = 0;
    for (const p of c[3]!) bits |= p === "r" ? 4 : p === "w" ? 2 : 1;
    let mask = 0;
    let val = 0;
    for (const w of who) {
      const shift = w === "u" ? 6 : w === "g" ? 3 : 0;
      mask |= 7 << shift;
      val |= bits << shift;
    }
    if (c[1] === "" && c[2] !== "=") val &= ~0o022 | (bits & 4 ? 0o044 : 0) | (bits & 1 ? 0o011 : 0);
    if (c[2] === "+") m |= val;
    else if (c[2] === "-") m &= ~val;
    else m = (m & ~mask) | val;
  }
  return m;
}

export const ls: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "");
  const fs = fsOf(ctx);
  const long = o.flags.has("l");
  const all = o.flags.has("a");
  const operands = o.operands.length > 0 ? o.operands : ["."];
  let status = 0;
  const files: string[] = [];
  const dirs: string[] = [];
  for (const a of operands) {
    const p = abs(ctx, a);
    if (fs.isDir(p)) dirs.push(a);
    else if (fs.exists(p)) files.push(a);
    else {
      ctx.io.stderr(`ls: cannot access '${a}': No such file or directory\n`);
      status = 2;
    }
  }
  const when = new Date(Math.floor(ctx.epochMicros(ctx.now()) / 1000));
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const stamp = `${MONTHS[when.getUTCMonth()]} ${String(when.getUTCDate()).padStart(2)} ${String(when.getUTCHours()).padStart(2, "0")}:${String(when.getUTCMinutes()).padStart(2, "0")}`;
  const show = (dir: string, names: string[]): string => {
    if (!long) return names.map((n) => n + "\n").join("");
    const rows = names.map((n) => {
      const p = resolvePath(abs(ctx, dir), n);
      const size = fs.isDir(p) ? 4096 : (() => { const b = fs.read(p); return typeof b === "string" ? 0 : b.length; })();
      return { mode: modeString(fs, p), size: String(size), n };
    });
    const w = Math.max(0, ...rows.map((r) => r.size.length));
    return `total 0\n` + rows.map((r) => `${r.mode} 1 root root ${r.size.padStart(w)} ${stamp} ${r.n}\n`).join("");
  };
  let out = "";
  if (files.length > 0) out += long ? show(".", files.map((f) => abs(ctx, f))).replace(/^total 0\n/, "").replace(/ \/[^\n]*/g, (m) => m) : files.map((f) => f + "\n").join("");
  dirs.forEach((d, i) => {
    const list = fs.list(abs(ctx, d));
    const names = (Array.isArray(list) ? list : []).filter((n) => all || !n.startsWith("."));
    if (all) names.unshift(".", "..");
    if (operands.length > 1) out += `${i > 0 || files.length > 0 ? "\n" : ""}${d}:\n`;
    out += show(d, names);
  });
  ctx.io.stdout(out);
  return status;
};

/** POSIX BRE/ERE to a JavaScript RegExp source. */
export function posixRegex(pat: string, extended: boolean): string {
  const classes: Record<string, string> = { digit: "0-9", alpha: "A-Za-z", alnum: "A-Za-z0-9", upper: "A-Z", lower: "a-z", space: "\\s", blank: " \\t", punct: "!-/:-@[-`{-~", xdigit: "0-9A-Fa-f" };
  let s = pat.replace(/\[:(\w+):\]/g, (m, n: string) => classes[n] ?? m);
  if (extended) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && i + 1 < s.length) {
      const n = s[++i]!;
      out += "(){}|+?".includes(n) ? n : "\\" + n;
    } else if ("(){}|+?".includes(c)) out += "\\" + c;
    else if (c === "[") {
      const close = s.indexOf("]", i + 2);
      if (close < 0) out += "\\[";
      else {
        out += s.slice(i, close + 1);
        i = close;
      }
    } else out += c;
  }
  s = out;
  return s;
}

export const grep: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "emAB");
  const f = o.flags;
  const operands = [...o.operands];
  const pattern = o.values.get("e") ?? operands.shift();
  if (pattern === undefined || o.bad) {
    ctx.io.stderr("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
    return 2;
  }
  let src = f.has("F") ? pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : posixRegex(pattern, f.has("E"));
  if (f.has("w")) src = `(?<![A-Za-z0-9_])(?:${src})(?![A-Za-z0-9_])`;
  if (f.has("x")) src = `^(?:${src})$`;
  let re: RegExp;
  try {
    re = new RegExp(src, f.has("i") ? "i" : "");
  } catch {
    ctx.io.stderr("grep: Unmatched ( or \\(\n");
    return 2;
  }
  let status = 1;
  let err = false;
  const ins = inputs(ctx, operands, "grep", (m) => {
    if (!f.has("s")) ctx.io.stderr(m + "\n");
    err = true;
  });
  const many = operands.length > 1 && !f.has("h");
  let out = "";
  for (const inp of ins) {
    let count = 0;
    lines(inp.text).forEach((line, i) => {
      const hit = re.test(line) !== f.has("v");
      if (!hit) return;
      count++;
      status = 0;
      if (f.has("q") || f.has("c") || f.has("l")) return;
      const pre = (many ? `${inp.name}:` : "") + (f.has("n") ? `${i + 1}:` : "");
      if (f.has("o") && !f.has("v")) {
        for (const m of line.matchAll(new RegExp(re.source, re.flags + "g"))) if (m[0] !== "") out += pre + m[0] + "\n";
      } else out += pre + line + "\n";
    });
    if (f.has("c")) out += (many ? `${inp.name}:` : "") + count + "\n";
    if (f.has("l") && count > 0) out += inp.name + "\n";
    if (f.has("q") && status === 0) return 0;
  }
  ctx.io.stdout(out);
  return err && !(f.has("q") && status === 0) ? 2 : status;
};

function countArg(ctx: ToolContext, name: string): { n: number; fromStart: boolean; bytes: boolean; files: string[] } | undefined {
  const args = ctx.argv.slice(1);
  let n = 10;
  let fromStart = false;
  let bytes = false;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let v: string | undefined;
    if (a === "-n" || a === "-c") {
      bytes = a === "-c";
      v = args[++i];
    } else if (/^-[nc]./.test(a)) {
      bytes = a[1] === "c";
      v = a.slice(2);
    } else if (/^-\d+$/.test(a)) v = a.slice(1);
    else if (a === "-f" || a === "-q") continue;
    else {
      files.push(a);
      continue;
    }
    if (v === undefined || !/^[-+]?\d+$/.test(v)) {
      ctx.io.stderr(`${name}: invalid number of ${bytes ? "bytes" : "lines"}: '${v ?? ""}'\n`);
      return undefined;
    }
    fromStart = v.startsWith("+");
    n = Math.abs(Number(v));
  }
  return { n, fromStart, bytes, files };
}

function headTail(which: "head" | "tail"): Tool {
  return async (ctx) => {
    const c = countArg(ctx, which);
    if (!c) return 1;
    let status = 0;
    const ins = inputs(ctx, c.files, which, (m) => {
      ctx.io.stderr(m.replace(/^(head|tail): (.*): (.*)$/, "$1: cannot open '$2' for reading: $3") + "\n");
      status = 1;
    });
    ins.forEach((inp, idx) => {
      if (ins.length > 1) ctx.io.stdout(`${idx > 0 ? "\n" : ""}==> ${inp.name} <==\n`);
      if (c.bytes) {
        ctx.io.stdout(which === "head" ? inp.text.slice(0, c.n) : c.fromStart ? inp.text.slice(Math.max(0, c.n - 1)) : inp.text.slice(Math.max(0, inp.text.length - c.n)));
        return;
      }
      const l = lines(inp.text);
      const sel = which === "head" ? l.slice(0, c.n) : c.fromStart ? l.slice(Math.max(0, c.n - 1)) : l.slice(Math.max(0, l.length - c.n));
      ctx.io.stdout(sel.map((x) => x + "\n").join(""));
    });
    return status;
  };
}

export const head = headTail("head");
export const tail = headTail("tail");

export const wc: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "");
  const f = o.flags;
  const which = f.has("l") || f.has("w") || f.has("c") || f.has("m") ? ["l", "w", "c", "m"].filter((x) => f.has(x)) : ["l", "w", "c"];
  let status = 0;
  const ins = inputs(ctx, o.operands, "wc", (m) => {
    ctx.io.stderr(m + "\n");
    status = 1;
  });
  const rows = ins.map((inp) => {
    const counts: Record<string, number> = {
      l: (inp.text.match(/\n/g) ?? []).length,
      w: inp.text.split(/\s+/).filter((x) => x !== "").length,
      c: Buffer.byteLength(inp.text),
      m: [...inp.text].length,
    };
    return { counts: which.map((k) => counts[k]!), name: o.operands.length > 0 ? inp.name : "" };
  });
  if (rows.length > 1) rows.push({ counts: which.map((_, i) => rows.reduce((s, r) => s + r.counts[i]!, 0)), name: "total" });
  const single = which.length === 1 && rows.length === 1;
  const width = single ? 0 : o.operands.length === 0 ? 7 : Math.max(1, ...rows.flatMap((r) => r.counts.map((n) => String(n).length)));
  ctx.io.stdout(rows.map((r) => r.counts.map((n) => String(n).padStart(width)).join(" ") + (r.name ? ` ${r.name}` : "") + "\n").join(""));
  return status;
};

export const seq: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "sf");
  const nums = o.operands;
  const sep = o.values.get("s") ?? "\n";
  if (nums.length === 0 || nums.length > 3) {
    ctx.io.stderr(`seq: ${nums.length === 0 ? "missing operand" : `extra operand '${nums[3]}'`}\nTry 'seq --help' for more information.\n`);
    return 1;
  }
  for (const n of nums) {
    if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(n)) {
      ctx.io.stderr(`seq: invalid floating point argument: '${n}'\nTry 'seq --help' for more information.\n`);
      return 1;
    }
  }
  const first = nums.length > 1 ? Number(nums[0]) : 1;
  const inc = nums.length === 3 ? Number(nums[1]) : 1;
  const last = Number(nums[nums.length - 1]);
  const decimals = Math.max(0, ...nums.slice(0, nums.length === 3 ? 2 : 1).map((n) => (n.includes(".") ? n.split(".")[1]!.length : 0)));
  const out: string[] = [];
  if (inc === 0) {
    ctx.io.stderr(`seq: invalid Zero increment value: '${nums[1]}'\nTry 'seq --help' for more information.\n`);
    return 1;
  }
  for (let i = 0; i < 1_000_000; i++) {
    const v = first + i * inc;
    if ((inc > 0 && v > last + 1e-9) || (inc < 0 && v < last - 1e-9)) break;
    out.push(v.toFixed(decimals));
  }
  if (o.flags.has("w")) {
    const w = Math.max(...out.map((s) => s.length));
    for (let i = 0; i < out.length; i++) out[i] = out[i]!.padStart(w, "0");
  }
  if (out.length > 0) ctx.io.stdout(out.join(sep) + "\n");
  return 0;
};

export const tee: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "");
  const fs = fsOf(ctx);
  const text = ctx.io.stdin ?? "";
  let status = 0;
  for (const f of o.operands) {
    const p = abs(ctx, f);
    const created = !fs.exists(p);
    const r = fs.write(p, text, o.flags.has("a") ? { append: true } : undefined);
    if (r !== true) {
      ctx.io.stderr(`tee: ${f}: ${strerror(r)}\n`);
      status = 1;
    } else if (created && !p.startsWith("/proc/")) markCreated(fs, p);
  }
  ctx.io.stdout(text);
  return status;
};

export const env: Tool = async (ctx) => {
  const args = ctx.argv.slice(1);
  const e = new Map(ctx.env);
  while (args.length > 0) {
    const a = args[0]!;
    if (a === "-i" || a === "-") e.clear();
    else if (a === "-u") {
      args.shift();
      e.delete(args[0] ?? "");
    } else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
      const i = a.indexOf("=");
      e.set(a.slice(0, i), a.slice(i + 1));
    } else break;
    args.shift();
  }
  if (args.length === 0) {
    ctx.io.stdout([...e].map(([k, v]) => `${k}=${v}\n`).join(""));
    return 0;
  }
  const r = await runnerOf(ctx)(args, ctx.io, e);
  if (r !== "not-found") return r;
  const local = CORE_UTILS[args[0]!];
  if (local) return local(ctxWith(ctx, args, e));
  ctx.io.stderr(`env: '${args[0]}': No such file or directory\n`);
  return 127;
};

function ctxWith(ctx: ToolContext, argv: string[], env: Map<string, string>): ToolContext {
  return {
    argv,
    io: ctx.io,
    env,
    host: ctx.host,
    now: () => ctx.now(),
    epochMicros: (t) => ctx.epochMicros(t),
    sleep: (us) => ctx.sleep(us),
    interrupted: ctx.interrupted,
    isInterrupted: () => ctx.isInterrupted(),
  };
}

/** Where Debian 12 installs the lab's commands (what `which` and `type` print). */
const KNOWN_PATHS: Record<string, string> = {
  ipvsadm: "/usr/sbin/ipvsadm",
  "ipvsadm-save": "/usr/sbin/ipvsadm-save",
  "ipvsadm-restore": "/usr/sbin/ipvsadm-restore",
  iptables: "/usr/sbin/iptables",
  "iptables-save": "/usr/sbin/iptables-save",
  "iptables-restore": "/usr/sbin/iptables-restore",
  ip: "/usr/sbin/ip",
  sysctl: "/usr/sbin/sysctl",
  ifconfig: "/usr/sbin/ifconfig",
  route: "/usr/sbin/route",
  arp: "/usr/sbin/arp",
  nginx: "/usr/sbin/nginx",
  tcpdump: "/usr/bin/tcpdump",
  curl: "/usr/bin/curl",
  ping: "/usr/bin/ping",
  hostname: "/usr/bin/hostname",
  sh: "/usr/bin/sh",
  bash: "/usr/bin/bash",
  dash: "/usr/bin/dash",
};

/**
 * The path of a command as `which` finds it: an executable file in $PATH on the Vfs, else
 * a command the host has (`host.hasCommand(name)` when the host offers it) or one of ours.
 */
export function locateCommand(ctx: ToolContext, name: string, tools: Readonly<Record<string, Tool>>): string | undefined {
  const fs = fsOf(ctx);
  if (name.includes("/")) {
    const p = abs(ctx, name);
    return fs.exists(p) && !fs.isDir(p) && isExecutable(fs, p) ? name : undefined;
  }
  for (const d of (ctx.env.get("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    if (d === "") continue;
    const p = resolvePath("/", `${d}/${name}`);
    if (fs.exists(p) && !fs.isDir(p) && isExecutable(fs, p)) return p;
  }
  const has = (ctx.host as { hasCommand?: (n: string) => boolean }).hasCommand;
  const known = typeof has === "function" ? has.call(ctx.host, name) : KNOWN_PATHS[name] !== undefined;
  if (known) return KNOWN_PATHS[name] ?? `/usr/bin/${name}`;
  return tools[name] ? `/usr/bin/${name}` : undefined;
}

export const which: Tool = async (ctx) => {
  const names = ctx.argv.slice(1).filter((a) => !a.startsWith("-"));
  let status = names.length === 0 ? 1 : 0;
  for (const n of names) {
    const p = locateCommand(ctx, n, CORE_UTILS);
    if (p) ctx.io.stdout(p + "\n");
    else status = 1;
  }
  return status;
};

export const basename: Tool = async (ctx) => {
  const [p, suffix] = ctx.argv.slice(1);
  if (p === undefined) {
    ctx.io.stderr("basename: missing operand\nTry 'basename --help' for more information.\n");
    return 1;
  }
  let b = baseOf(p);
  if (suffix && b.endsWith(suffix) && b !== suffix) b = b.slice(0, -suffix.length);
  ctx.io.stdout(b + "\n");
  return 0;
};

export const dirname: Tool = async (ctx) => {
  const p = ctx.argv[1];
  if (p === undefined) {
    ctx.io.stderr("dirname: missing operand\nTry 'dirname --help' for more information.\n");
    return 1;
  }
  ctx.io.stdout(dirOf(p) + "\n");
  return 0;
};

export const sort: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "tk");
  let status = 0;
  let all = inputs(ctx, o.operands, "sort", (m) => {
    ctx.io.stderr(m.replace(/^sort: (.*): (.*)$/, "sort: cannot read: $1: $2") + "\n");
    status = 2;
  }).flatMap((i) => lines(i.text));
  const numeric = o.flags.has("n");
  all.sort((a, b) => (numeric ? (Number.parseFloat(a) || 0) - (Number.parseFloat(b) || 0) || (a < b ? -1 : a > b ? 1 : 0) : a < b ? -1 : a > b ? 1 : 0));
  if (o.flags.has("r")) all.reverse();
  if (o.flags.has("u")) all = all.filter((l, i) => i === 0 || l !== all[i - 1]);
  ctx.io.stdout(all.map((l) => l + "\n").join(""));
  return status;
};

export const uniq: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "");
  const l = lines(inputs(ctx, o.operands.slice(0, 1), "uniq", (m) => ctx.io.stderr(m + "\n"))[0]?.text ?? "");
  const groups: { line: string; n: number }[] = [];
  for (const x of l) {
    const g = groups[groups.length - 1];
    if (g && g.line === x) g.n++;
    else groups.push({ line: x, n: 1 });
  }
  const sel = groups.filter((g) => (o.flags.has("d") ? g.n > 1 : o.flags.has("u") ? g.n === 1 : true));
  ctx.io.stdout(sel.map((g) => (o.flags.has("c") ? `${String(g.n).padStart(7)} ${g.line}\n` : g.line + "\n")).join(""));
  return 0;
};

export const cut: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "dfc");
  const delim = o.values.get("d") ?? "\t";
  const spec = o.values.get("f") ?? o.values.get("c");
  if (spec === undefined) {
    ctx.io.stderr("cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.\n");
    return 1;
  }
  const want = (i: number): boolean =>
    spec.split(",").some((r) => {
      const m = /^(\d*)(-?)(\d*)$/.exec(r);
      if (!m) return false;
      const lo = m[1] ? Number(m[1]) : 1;
      const hi = m[2] ? (m[3] ? Number(m[3]) : Infinity) : lo;
      return i >= lo && i <= hi;
    });
  let out = "";
  for (const inp of inputs(ctx, o.operands, "cut", (m) => ctx.io.stderr(m + "\n"))) {
    for (const l of lines(inp.text)) {
      if (o.values.has("c")) out += [...l].filter((_, i) => want(i + 1)).join("") + "\n";
      else if (!l.includes(delim)) out += o.flags.has("s") ? "" : l + "\n";
      else out += l.split(delim).filter((_, i) => want(i + 1)).join(delim) + "\n";
    }
  }
  ctx.io.stdout(out);
  return 0;
};

export const tr: Tool = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), "");
  const expand = (s: string): string[] => {
    const cls: Record<string, string> = { "[:upper:]": "A-Z", "[:lower:]": "a-z", "[:digit:]": "0-9", "[:space:]": " \t\n\r\f\v" };
    s = s.replace(/\[:\w+:\]/g, (m) => cls[m] ?? m);
    s = escapes(s, false).text;
    const out: string[] = [];
    for (let i = 0; i < s.length; i++) {
      if (s[i + 1] === "-" && i + 2 < s.length) {
        for (let c = s.charCodeAt(i); c <= s.charCodeAt(i + 2); c++) out.push(String.fromCharCode(c));
        i += 2;
      } else out.push(s[i]!);
    }
    return out;
  };
  const [a, b] = o.operands;
  if (a === undefined) {
    ctx.io.stderr("tr: missing operand\nTry 'tr --help' for more information.\n");
    return 1;
  }
  const from = expand(a);
  const to = b !== undefined ? expand(b) : [];
  let text = ctx.io.stdin ?? "";
  if (o.flags.has("d")) text = [...text].filter((c) => !from.includes(c)).join("");
  else if (b !== undefined) text = [...text].map((c) => { const i = from.indexOf(c); return i < 0 ? c : to[Math.min(i, to.length - 1)] ?? c; }).join("");
  if (o.flags.has("s")) {
    const set = new Set(b !== undefined && !o.flags.has("d") ? to : from);
    text = [...text].filter((c, i, arr) => !(i > 0 && c === arr[i - 1] && set.has(c))).join("");
  }
  ctx.io.stdout(text);
  return 0;
};

// ---- date ------------------------------------------------------------------------------

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** Abbreviations glibc prints for common lab time zones (the rest get "+08"-style names). */
const ZONE_ABBR: Record<string, [string, string?]> = {
  UTC: ["UTC"], "Etc/UTC": ["UTC"], GMT: ["GMT"], "Asia/Shanghai": ["CST"], "PRC": ["CST"], "Asia/Hong_Kong": ["HKT"], "Asia/Tokyo": ["JST"],
  "Europe/London": ["GMT", "BST"], "Europe/Berlin": ["CET", "CEST"], "Europe/Paris": ["CET", "CEST"], "America/New_York": ["EST", "EDT"],
  "America/Chicago": ["CST", "CDT"], "America/Los_Angeles": ["PST", "PDT"],
};

/** Offset of zone `tz` from UTC at instant `ms`, in minutes; undefined for an unknown zone. */
function zoneOffset(tz: string, ms: number): number | undefined {
  try {
    const f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
    return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
  } catch {
    return undefined;
  }
}

export function formatDate(epochUs: number, fmt: string, tz: string | undefined): string {
  const ms = Math.floor(epochUs / 1000);
  let zone = tz ?? "UTC";
  if (zone.startsWith(":")) zone = zone.slice(1);
  let off = zoneOffset(zone, ms);
  if (off === undefined) {
    off = 0;
    zone = "UTC";
  }
  const d = new Date(ms + off * 60000);
  const abbrs = ZONE_ABBR[zone];
  const jan = zoneOffset(zone, Date.UTC(d.getUTCFullYear(), 0, 1)) ?? off;
  const sign = off < 0 ? "-" : "+";
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, "0");
  const mm = String(Math.abs(off) % 60).padStart(2, "0");
  const abbr = abbrs ? (off !== jan && abbrs[1] ? abbrs[1] : abbrs[0]) : `${sign}${hh}${mm === "00" ? "" : mm}`;
  const p2 = (n: number): string => String(n).padStart(2, "0");
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  const spec: Record<string, () => string> = {
    Y: () => String(d.getUTCFullYear()), y: () => p2(d.getUTCFullYear() % 100), m: () => p2(d.getUTCMonth() + 1), d: () => p2(d.getUTCDate()),
    e: () => String(d.getUTCDate()).padStart(2), H: () => p2(d.getUTCHours()), I: () => p2(d.getUTCHours() % 12 || 12), M: () => p2(d.getUTCMinutes()),
    S: () => p2(d.getUTCSeconds()), N: () => String(epochUs % 1_000_000).padStart(6, "0") + "000", s: () => String(Math.floor(ms / 1000)),
    a: () => DAYS[d.getUTCDay()]!, b: () => MONTHS[d.getUTCMonth()]!, h: () => MONTHS[d.getUTCMonth()]!, p: () => (d.getUTCHours() < 12 ? "AM" : "PM"),
    Z: () => abbr, z: () => `${sign}${hh}${mm}`, j: () => String(Math.floor((d.getTime() - start) / 86400000) + 1).padStart(3, "0"),
    u: () => String(d.getUTCDay() || 7), w: () => String(d.getUTCDay()), n: () => "\n", t: () => "\t", "%": () => "%",
    T: () => `${spec.H!()}:${spec.M!()}:${spec.S!()}`, F: () => `${spec.Y!()}-${spec.m!()}-${spec.d!()}`, D: () => `${spec.m!()}/${spec.d!()}/${spec.y!()}`,
    R: () => `${spec.H!()}:${spec.M!()}`, c: () => `${spec.a!()} ${spec.b!()} ${spec.e!()} ${spec.T!()} ${spec.Y!()}`,
  };
  return fmt.replace(/%([A-Za-z%])/g, (m, c: string) => (spec[c] ? spec[c]!() : m));
}

export const date: Tool = async (ctx) => {
  const args = ctx.argv.slice(1);
  let tz = ctx.env.get("TZ");
  let fmt = "%a %b %e %H:%M:%S %Z %Y";
  let us = ctx.epochMicros(ctx.now());
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-u" || a === "--utc") tz = "UTC";
    else if (a === "-R") fmt = "%a, %d %b %Y %H:%M:%S %z";
    else if (a === "-d" || a.startsWith("--date=")) {
      const v = a === "-d" ? args[++i] ?? "" : a.slice(7);
      if (/^@-?\d+$/.test(v)) us = Number(v.slice(1)) * 1_000_000;
      else if (v !== "now") {
        ctx.io.stderr(`date: invalid date '${v}'\n`);
        return 1;
      }
    } else if (a.startsWith("+")) fmt = a.slice(1);
    else {
      ctx.io.stderr(`date: invalid date '${a}'\n`);
      return 1;
    }
  }
  ctx.io.stdout(formatDate(us, fmt, tz) + "\n");
  return 0;
};

/** The coreutils-like tools, by command name (without the shell itself; see index.ts). */
export const CORE_UTILS: Record<string, Tool> = {
  echo, printf, test, "[": test, true: trueTool, false: falseTool, ":": trueTool, pwd, whoami, id, uname, sleep, cat, mkdir, rm, touch,
  chmod, ls, grep, head, tail, wc, seq, tee, env, which, date, basename, dirname, sort, uniq, cut, tr,
};
