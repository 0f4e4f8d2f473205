/**
 * Word expansion (POSIX XCU 2.6): tilde, parameters, command substitution, arithmetic, then
 * field splitting of unquoted expansion results, pathname expansion (globbing over the
 * host's Vfs) and quote removal. Quoting is tracked per character run, because it decides
 * what splits and what globs.
 */
import type { List, Word, WordPart } from "./ast.js";

/** What expansion needs from the shell. */
export interface ExpandEnv {
  getVar(name: string): string | undefined;
  setVar(name: string, value: string): void;
  /** $1…; `$@` and `$*` come from here. */
  positional(): readonly string[];
  /** $0, $?, $$, $!, $#, $- are answered by getVar. */
  /** Runs a command substitution and returns its standard output. */
  substitute(body: List | string): Promise<string>;
  /** Reports an expansion error (bash: `x: parameter null or not set`) and aborts the command. */
  fail(message: string, fatal?: boolean): never;
  listDir(path: string): string[] | undefined;
  isDir(path: string): boolean;
  cwd(): string;
  noglob(): boolean;
}

/** A run of characters of one field: quoted runs never glob. */
interface Run {
  s: string;
  quoted: boolean;
}
type Field = Run[];

/** Expansion results before splitting: `split` runs came from unquoted expansions. */
interface Seg {
  s: string;
  quoted: boolean;
  split: boolean;
  /** "$@" boundary: ends the current field even though quoted. */
  brk?: boolean;
}

export class ExpandError extends Error {}

/** Expands words into fields (argv). */
export async function expandWords(words: readonly Word[], env: ExpandEnv): Promise<string[]> {
  const out: string[] = [];
  for (const w of words) out.push(...(await expandWord(w, env)));
  return out;
}

export async function expandWord(w: Word, env: ExpandEnv): Promise<string[]> {
  const segs: Seg[] = [];
  await expandParts(w.parts, env, segs, false);
  const fields = split(segs, env.getVar("IFS") ?? " \t\n");
  const out: string[] = [];
  for (const f of fields) {
    const globbed = env.noglob() ? undefined : glob(f, env);
    if (globbed && globbed.length > 0) out.push(...globbed);
    else out.push(f.map((r) => r.s).join(""));
  }
  return out;
}

/** Expands a word to one string without splitting or globbing (assignments, redirection targets, case words). */
export async function expandString(w: Word, env: ExpandEnv): Promise<string> {
  const segs: Seg[] = [];
  await expandParts(w.parts, env, segs, true);
  return segs.map((s) => s.s).join(segs.some((s) => s.brk) ? " " : "");
}

/** Expands a word into a pattern: a RegExp source where quoted characters match literally. */
export async function expandPattern(w: Word, env: ExpandEnv): Promise<string> {
  const segs: Seg[] = [];
  await expandParts(w.parts, env, segs, false);
  return patternSource(segs.map((s) => ({ s: s.s, quoted: s.quoted })));
}

async function expandParts(parts: readonly WordPart[], env: ExpandEnv, out: Seg[], inDq: boolean): Promise<void> {
  for (const p of parts) {
    switch (p.k) {
      case "lit":
        out.push({ s: p.s, quoted: inDq, split: false });
        break;
      case "q":
        out.push({ s: p.s, quoted: true, split: false });
        break;
      case "dq":
        // An empty "" still makes a field.
        out.push({ s: "", quoted: true, split: false });
        await expandParts(p.parts, env, out, true);
        break;
      case "tilde": {
        const home = p.user === "" ? env.getVar("HOME") ?? "/root" : p.user === "root" ? "/root" : `/home/${p.user}`;
        out.push({ s: home, quoted: true, split: false });
        break;
      }
      case "cmd": {
        const text = (await env.substitute(p.body)).replace(/\n+$/, "");
        out.push({ s: text, quoted: inDq, split: !inDq });
        break;
      }
      case "arith": {
        const text = await expandString(p.expr, env);
        out.push({ s: String(evalArith(text, env)), quoted: inDq, split: !inDq });
        break;
      }
      case "param":
        await expandParam(p, env, out, inDq);
        break;
    }
  }
}

async function expandParam(p: Extract<WordPart, { k: "param" }>, env: ExpandEnv, out: Seg[], inDq: boolean): Promise<void> {
  if ((p.name === "@" || p.name === "*") && !p.op && !p.length) {
    const args = env.positional();
    if (p.name === "@" && inDq) {
      args.forEach((a, i) => {
        if (i > 0) out.push({ s: "", quoted: true, split: false, brk: true });
        out.push({ s: a, quoted: true, split: false });
      });
      return;
    }
    const ifs = env.getVar("IFS") ?? " \t\n";
    out.push({ s: args.join(inDq ? ifs.slice(0, 1) : " "), quoted: inDq, split: !inDq });
    return;
  }
  let value = p.name === "@" || p.name === "*" ? env.positional().join(" ") : env.getVar(p.name);
  if (p.length) {
    out.push({ s: String((value ?? "").length), quoted: inDq, split: !inDq });
    return;
  }
  const arg = async (): Promise<string> => (p.arg ? expandString(p.arg, env) : "");
  switch (p.op) {
    case undefined:
      break;
    case ":-":
    case "-":
      if (value === undefined || (p.op === ":-" && value === "")) {
        if (p.arg) {
          // The default word keeps its own quoting.
          const segs: Seg[] = [];
          await expandParts(p.arg.parts, env, segs, inDq);
          out.push(...segs);
        }
        return;
      }
      break;
    case ":=":
    case "=":
      if (value === undefined || (p.op === ":=" && value === "")) {
        value = await arg();
        env.setVar(p.name, value);
      }
      break;
    case ":+":
    case "+":
      if (value === undefined || (p.op === ":+" && value === "")) return;
      if (p.arg) {
        const segs: Seg[] = [];
        await expandParts(p.arg.parts, env, segs, inDq);
        out.push(...segs);
      }
      return;
    case ":?":
    case "?":
      if (value === undefined || (p.op === ":?" && value === "")) {
        const msg = await arg();
        env.fail(`${p.name}: ${msg !== "" ? msg : "parameter null or not set"}`, true);
      }
      break;
    case "#":
    case "##":
    case "%":
    case "%%": {
      const v = value ?? "";
      const segs: Seg[] = [];
      if (p.arg) await expandParts(p.arg.parts, env, segs, false);
      const src = patternSource(segs.map((s) => ({ s: s.s, quoted: s.quoted })));
      value = trimPattern(v, src, p.op);
      break;
    }
  }
  if (value !== undefined) out.push({ s: value, quoted: inDq, split: !inDq });
}

function trimPattern(v: string, src: string, op: "#" | "##" | "%" | "%%"): string {
  const re = new RegExp(`^(?:${src})$`, "s");
  if (op === "#" || op === "##") {
    const lens = [...Array(v.length + 1).keys()];
    if (op === "##") lens.reverse();
    for (const n of lens) if (re.test(v.slice(0, n))) return v.slice(n);
  } else {
    const starts = [...Array(v.length + 1).keys()];
    if (op === "%") starts.reverse();
    for (const n of starts) if (re.test(v.slice(n))) return v.slice(0, n);
  }
  return v;
}

/** Field splitting (XCU 2.6.5), simplified: IFS whitespace and other IFS characters both delimit. */
function split(segs: Seg[], ifs: string): Field[] {
  const fields: Field[] = [];
  let cur: Field = [];
  let has = false; // the current field exists (has content or a quoted part)
  const end = (): void => {
    if (has) fields.push(cur);
    cur = [];
    has = false;
  };
  for (const seg of segs) {
    if (seg.brk) {
      fields.push(cur);
      cur = [];
      has = true;
      continue;
    }
    if (!seg.split || ifs === "") {
      if (seg.s !== "" || seg.quoted) has = true;
      if (seg.s !== "") cur.push({ s: seg.s, quoted: seg.quoted });
      continue;
    }
    let buf = "";
    for (const c of seg.s) {
      if (ifs.includes(c)) {
        if (buf !== "") {
          cur.push({ s: buf, quoted: false });
          has = true;
          buf = "";
        }
        end();
      } else buf += c;
    }
    if (buf !== "") {
      cur.push({ s: buf, quoted: false });
      has = true;
    }
  }
  end();
  return fields;
}

const GLOB_CHARS = /[*?[]/;

/** The RegExp source for a shell pattern (XCU 2.13); quoted runs match literally. */
export function patternSource(runs: readonly Run[]): string {
  let re = "";
  for (const r of runs) {
    if (r.quoted) {
      re += escapeRe(r.s);
      continue;
    }
    const s = r.s;
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (c === "*") re += ".*";
      else if (c === "?") re += ".";
      else if (c === "[") {
        const close = s.indexOf("]", i + 2);
        if (close < 0) {
          re += "\\[";
          continue;
        }
        let body = s.slice(i + 1, close);
        let neg = false;
        if (body.startsWith("!") || body.startsWith("^")) {
          neg = true;
          body = body.slice(1);
        }
        re += `[${neg ? "^" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
        i = close;
      } else if (c === "\\" && i + 1 < s.length) {
        re += escapeRe(s[i + 1]!);
        i++;
      } else re += escapeRe(c);
    }
  }
  return re;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Pathname expansion over the Vfs; undefined when the field has no unquoted pattern characters. */
function glob(f: Field, env: ExpandEnv): string[] | undefined {
  if (!f.some((r) => !r.quoted && GLOB_CHARS.test(r.s))) return undefined;
  // Split the field's runs into path components.
  const comps: Run[][] = [[]];
  for (const r of f) {
    const pieces = r.s.split("/");
    pieces.forEach((p, i) => {
      if (i > 0) comps.push([]);
      if (p !== "") comps[comps.length - 1]!.push({ s: p, quoted: r.quoted });
    });
  }
  const absolute = comps[0]!.length === 0 && comps.length > 1;
  let paths: string[] = [absolute ? "/" : ""];
  const start = absolute ? 1 : 0;
  for (let i = start; i < comps.length; i++) {
    const comp = comps[i]!;
    const last = i === comps.length - 1;
    if (comp.length === 0) {
      if (last) paths = paths.map((p) => p + (p.endsWith("/") ? "" : "/"));
      continue;
    }
    const isPattern = comp.some((r) => !r.quoted && GLOB_CHARS.test(r.s));
    const next: string[] = [];
    for (const base of paths) {
      const join = (name: string): string => (base === "" ? name : base.endsWith("/") ? base + name : `${base}/${name}`);
      if (!isPattern) {
        next.push(join(comp.map((r) => r.s).join("")));
        continue;
      }
      const dir = base === "" ? env.cwd() : base;
      const names = env.listDir(dir);
      if (!names) continue;
      const re = new RegExp(`^${patternSource(comp)}$`, "s");
      const dotOk = comp[0]!.s.startsWith(".");
      for (const n of names) if (re.test(n) && (dotOk || !n.startsWith("."))) next.push(join(n));
    }
    paths = next;
  }
  return paths.filter((p) => {
    const abs = p.startsWith("/") ? p : `${env.cwd().replace(/\/$/, "")}/${p}`;
    return env.listDir(abs) !== undefined || env.isDir(abs) || exists(env, abs);
  }).sort();
}

function exists(env: ExpandEnv, abs: string): boolean {
  const slash = abs.lastIndexOf("/");
  const names = env.listDir(slash === 0 ? "/" : abs.slice(0, slash));
  return names !== undefined && names.includes(abs.slice(slash + 1));
}

// ---- arithmetic ($((…)), XCU 2.6.4): integers, C operators, variables by name ----------

export function evalArith(text: string, env: Pick<ExpandEnv, "getVar" | "setVar" | "fail">): number {
  const toks = text.match(/\s*(0[xX][0-9a-fA-F]+|\d+|[A-Za-z_][A-Za-z0-9_]*|<<=|>>=|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%]=|[-+*/%<>=!~&|^?:()])/gy) ?? [];
  const consumed = toks.join("").length;
  if (text.slice(consumed).trim() !== "") env.fail(`${text}: syntax error: invalid arithmetic operator (error token is "${text.slice(consumed).trim()}")`);
  const t = toks.map((s) => s.trim());
  let i = 0;
  const peek = (): string | undefined => t[i];
  const num = (name: string): number => {
    const v = env.getVar(name);
    if (v === undefined || v.trim() === "") return 0;
    return /^\s*-?\d+\s*$/.test(v) ? Number.parseInt(v, 10) : evalArith(v, env);
  };
  const BIN: string[][] = [["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", "<=", ">", ">="], ["<<", ">>"], ["+", "-"], ["*", "/", "%"]];
  const apply = (op: string, a: number, b: number): number => {
    switch (op) {
      case "||": return a || b ? 1 : 0;
      case "&&": return a && b ? 1 : 0;
      case "|": return a | b;
      case "^": return a ^ b;
      case "&": return a & b;
      case "==": return a === b ? 1 : 0;
      case "!=": return a !== b ? 1 : 0;
      case "<": return a < b ? 1 : 0;
      case "<=": return a <= b ? 1 : 0;
      case ">": return a > b ? 1 : 0;
      case ">=": return a >= b ? 1 : 0;
      case "<<": return a << b;
      case ">>": return a >> b;
      case "+": return a + b;
      case "-": return a - b;
      case "*": return a * b;
      case "/":
      case "%":
        if (b === 0) env.fail(`${text.trim()}: division by 0 (error token is "${text.trim().split(/[/%]/).pop()?.trim() ?? ""}")`);
        return op === "/" ? Math.trunc(a / b) : a % b;
    }
    return 0;
  };
  const level = (n: number): number => {
    if (n >= BIN.length) return unary();
    let a = level(n + 1);
    while (peek() !== undefined && BIN[n]!.includes(peek()!)) {
      const op = t[i++]!;
      const b = level(n + 1);
      a = apply(op, a, b);
    }
    return a;
  };
  const unary = (): number => {
    const tok = peek();
    if (tok === "-") { i++; return -unary(); }
    if (tok === "+") { i++; return unary(); }
    if (tok === "!") { i++; return unary() ? 0 : 1; }
    if (tok === "~") { i++; return ~unary(); }
    if (tok === "(") {
      i++;
      const v = expr();
      if (t[i++] !== ")") env.fail(`${text}: missing \`)'`);
      return v;
    }
    if (tok === undefined) env.fail(`${text}: syntax error: operand expected`);
    i++;
    if (/^\d/.test(tok)) return tok.startsWith("0x") || tok.startsWith("0X") ? Number.parseInt(tok, 16) : tok.length > 1 && tok.startsWith("0") ? Number.parseInt(tok, 8) : Number(tok);
    if (/^[A-Za-z_]/.test(tok)) {
      const op = peek();
      if (op === "=" || (op !== undefined && /^[-+*/%]=$/.test(op))) {
        i++;
        const rhs = expr();
        const v = op === "=" ? rhs : apply(op[0]!, num(tok), rhs);
        env.setVar(tok, String(v));
        return v;
      }
      if (op === "++" || op === "--") {
        i++;
        const old = num(tok);
        env.setVar(tok, String(op === "++" ? old + 1 : old - 1));
        return old;
      }
      return num(tok);
    }
    env.fail(`${text}: syntax error: operand expected (error token is "${tok}")`);
  };
  const expr = (): number => {
    const c = level(0);
    if (peek() === "?") {
      i++;
      const a = expr();
      if (t[i++] !== ":") env.fail(`${text}: syntax error`);
      const b = expr();
      return c ? a : b;
    }
    return c;
  };
  if (t.length === 0) return 0;
  const v = expr();
  if (i < t.length) env.fail(`${text.trim()}: syntax error in expression (error token is "${t.slice(i).join(" ")}")`);
  return v;
}
