/**
 * A recursive-descent parser for the POSIX shell grammar subset we run (XCU 2.10), working
 * straight on the characters because shell tokens depend on context (reserved words only in
 * command position, `#` only at the start of a word, here-document bodies after the line).
 *
 * Like bash and dash, a script is parsed one complete command at a time (`next()`), and
 * each is run before the next is parsed: a syntax error on line 9 does not stop lines 1–8.
 */
import type { AndOr, Assign, Command, List, ParamOp, Pipeline, Redir, RedirOp, Word, WordPart } from "./ast.js";

export type SyntaxErrorKind = "token" | "eof" | "quote";

/** A syntax error; the shell turns it into bash's or dash's message. */
export class ShSyntaxError extends Error {
  constructor(
    readonly kind: SyntaxErrorKind,
    readonly line: number,
    /** The unexpected token ("fi", "newline", ")"), or the unmatched quote character. */
    readonly token: string,
    /** The source line where the error was found (bash echoes it). */
    readonly lineText: string,
    /** What the parser was waiting for (dash says "expecting ..."). */
    readonly expecting?: string,
  ) {
    super(`syntax error (${kind}) at line ${line}: ${token}`);
  }
}

const META = new Set([" ", "\t", "\n", ";", "&", "|", "(", ")", "<", ">"]);
const OPS = ["&&", "||", ";;", "&>>", "&>", "<<<", "<<-", "<<", ">>", ">&", "<&", ">|", "<>", ";", "&", "|", "(", ")", "<", ">", "\n"];
const REDIR_OPS = new Set<string>([">", ">>", ">|", "<", "<>", ">&", "<&", "&>", "&>>", "<<", "<<-", "<<<"]);
const RESERVED = new Set(["if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "in", "{", "}", "!", "function"]);
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SPECIAL_PARAMS = "@*#?$!-0";

export function isName(s: string): boolean {
  return NAME_RE.test(s);
}

export class Parser {
  private pos = 0;
  private readonly lineStarts: number[] = [0];
  private pending: Redir[] = [];

  constructor(private readonly src: string, private readonly firstLine = 1) {
    for (let i = 0; i < src.length; i++) if (src[i] === "\n") this.lineStarts.push(i + 1);
  }

  /** The next complete command (a list ended by a newline), or null at the end. */
  next(): List | null {
    this.skipNewlines();
    if (this.pos >= this.src.length) return null;
    const list = this.parseList(() => false, true);
    const op = this.peekOp();
    if (op === "\n") this.newline();
    else if (op !== null) this.fail(op);
    else if (this.pos < this.src.length) this.fail(this.peekPlain() ?? this.src[this.pos]!);
    return list;
  }

  /** Line number of the current position. */
  lineAt(pos = this.pos): number {
    let lo = 0, hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + this.firstLine;
  }

  private lineText(line: number): string {
    const i = line - this.firstLine;
    const start = this.lineStarts[i] ?? this.src.length;
    const end = this.lineStarts[i + 1] !== undefined ? this.lineStarts[i + 1]! - 1 : this.src.length;
    return this.src.slice(start, end);
  }

  private fail(token: string | null, expecting?: string): never {
    if (token === null) throw new ShSyntaxError("eof", this.lineAt(), "", "", expecting);
    const line = this.lineAt();
    throw new ShSyntaxError("token", line, token === "\n" ? "newline" : token, this.lineText(line), expecting);
  }

  private quoteFail(q: string, at: number): never {
    const line = this.lineAt(at);
    throw new ShSyntaxError("quote", line, q, this.lineText(line));
  }

  // ---- low-level scanning ----------------------------------------------------------------

  private skipBlanks(): void {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === " " || c === "\t") this.pos++;
      else if (c === "\\" && s[this.pos + 1] === "\n") this.pos += 2;
      else if (c === "#") {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
      } else return;
    }
  }

  private skipNewlines(): void {
    for (;;) {
      this.skipBlanks();
      if (this.src[this.pos] === "\n") this.newline();
      else return;
    }
  }

  /** The operator at the current position (after blanks), or null (a word, or the end). */
  private peekOp(): string | null {
    this.skipBlanks();
    for (const op of OPS) if (this.src.startsWith(op, this.pos)) return op;
    return null;
  }

  /** The next word if it is plain text (no quotes or expansions): how reserved words are seen. */
  private peekPlain(): string | null {
    this.skipBlanks();
    let i = this.pos;
    while (i < this.src.length && !META.has(this.src[i]!)) {
      if ("'\"\\$`".includes(this.src[i]!)) return null;
      i++;
    }
    return i > this.pos ? this.src.slice(this.pos, i) : null;
  }

  private peekReserved(): string | null {
    const w = this.peekPlain();
    return w !== null && RESERVED.has(w) ? w : null;
  }

  private expectWord(w: string, expecting = w): void {
    if (this.peekPlain() === w) {
      this.pos += w.length;
      return;
    }
    this.failHere(expecting);
  }

  private failHere(expecting?: string): never {
    if (this.pos >= this.src.length) this.fail(null, expecting);
    this.fail(this.peekOp() ?? this.peekPlain() ?? this.src[this.pos]!, expecting);
  }

  private newline(): void {
    this.pos++;
    if (this.pending.length > 0) this.readHeredocs();
  }

  private readHeredocs(): void {
    const pending = this.pending;
    this.pending = [];
    for (const r of pending) {
      const quoted = r.target.parts.some((p) => p.k !== "lit");
      const delim = literalText(r.target);
      const lines: string[] = [];
      while (this.pos < this.src.length) {
        let end = this.src.indexOf("\n", this.pos);
        if (end < 0) end = this.src.length;
        let line = this.src.slice(this.pos, end);
        this.pos = Math.min(end + 1, this.src.length);
        if (r.op === "<<-") line = line.replace(/^\t+/, "");
        if (line === delim) break;
        lines.push(line);
      }
      const body = lines.length > 0 ? lines.join("\n") + "\n" : "";
      r.heredoc = quoted ? { parts: [{ k: "q", s: body }], raw: body } : { parts: new Parser(body).readDq(null), raw: body };
    }
  }

  // ---- grammar ---------------------------------------------------------------------------

  /**
   * A sequence of and-or lists separated by `;`, `&` or newlines. Stops before a reserved
   * word for which `stop` is true, before `)` and `;;`, and (at top level) at a newline.
   */
  private parseList(stop: (w: string) => boolean, topLevel = false): List {
    const items: { ao: AndOr; bg: boolean }[] = [];
    for (;;) {
      if (topLevel) this.skipBlanks();
      else this.skipNewlines();
      if (this.pos >= this.src.length) break;
      const op = this.peekOp();
      if (op === ")" || op === ";;" || (topLevel && op === "\n")) break;
      const w = this.peekReserved();
      if (w !== null && stop(w)) break;
      const ao = this.parseAndOr();
      const sep = this.peekOp();
      if (sep === ";" || sep === "&") {
        this.pos++;
        items.push({ ao, bg: sep === "&" });
        continue;
      }
      items.push({ ao, bg: false });
      if (sep === "\n") {
        if (topLevel) break;
        this.newline();
        continue;
      }
      break;
    }
    return { items };
  }

  private parseBody(stop: (w: string) => boolean, expecting: string): List {
    const list = this.parseList(stop);
    if (list.items.length === 0) this.failHere(expecting);
    return list;
  }

  private parseAndOr(): AndOr {
    const first = this.parsePipeline();
    const rest: { op: "&&" | "||"; p: Pipeline }[] = [];
    for (;;) {
      const op = this.peekOp();
      if (op !== "&&" && op !== "||") break;
      this.pos += 2;
      this.skipNewlines();
      rest.push({ op, p: this.parsePipeline() });
    }
    return { first, rest };
  }

  private parsePipeline(): Pipeline {
    const line = this.lineAt(this.skipAndPos());
    let bang = false;
    if (this.peekPlain() === "!") {
      this.pos++;
      bang = true;
    }
    const cmds = [this.parseCommand()];
    while (this.peekOp() === "|") {
      this.pos++;
      this.skipNewlines();
      cmds.push(this.parseCommand());
    }
    return { line, bang, cmds };
  }

  private skipAndPos(): number {
    this.skipBlanks();
    return this.pos;
  }

  private parseCommand(): Command {
    const line = this.lineAt(this.skipAndPos());
    const op = this.peekOp();
    if (op === "(") {
      this.pos++;
      const body = this.parseBody(() => false, ")");
      if (this.peekOp() !== ")") this.failHere(")");
      this.pos++;
      return { k: "subshell", line, body, redirs: this.parseRedirs() };
    }
    if (op !== null && !REDIR_OPS.has(op) && !/^\d/.test(this.src.slice(this.pos))) this.fail(op);
    if (this.pos >= this.src.length) this.fail(null);
    const w = this.peekReserved();
    switch (w) {
      case "if": return this.parseIf(line);
      case "while":
      case "until": return this.parseWhile(line, w === "until");
      case "for": return this.parseFor(line);
      case "case": return this.parseCase(line);
      case "{": {
        this.pos++;
        const body = this.parseBody((x) => x === "}", "}");
        this.expectWord("}");
        return { k: "group", line, body, redirs: this.parseRedirs() };
      }
      case "function": {
        this.pos += w.length;
        this.skipBlanks();
        const name = this.peekPlain();
        if (name === null || !isName(name)) this.failHere();
        this.pos += name.length;
        const m = /^[ \t]*\([ \t]*\)/.exec(this.src.slice(this.pos));
        if (m) this.pos += m[0].length;
        this.skipNewlines();
        return { k: "func", line, name, body: this.parseCommand() };
      }
      case null:
        break;
      default:
        if (w !== "!") this.fail(w);
    }
    const fm = /^([A-Za-z_][A-Za-z0-9_]*)[ \t]*\([ \t]*\)/.exec(this.src.slice(this.pos, this.pos + 200));
    if (fm) {
      this.pos += fm[0].length;
      this.skipNewlines();
      return { k: "func", line, name: fm[1]!, body: this.parseCommand() };
    }
    return this.parseSimple(line);
  }

  private parseIf(line: number): Command {
    this.pos += 2;
    const clauses: { cond: List; body: List }[] = [];
    let otherwise: List | undefined;
    for (;;) {
      const cond = this.parseBody((x) => x === "then", "then");
      this.expectWord("then");
      const body = this.parseBody((x) => x === "elif" || x === "else" || x === "fi", "fi");
      clauses.push({ cond, body });
      const w = this.peekReserved();
      if (w === "elif") {
        this.pos += 4;
        continue;
      }
      if (w === "else") {
        this.pos += 4;
        otherwise = this.parseBody((x) => x === "fi", "fi");
      }
      this.expectWord("fi");
      break;
    }
    return { k: "if", line, clauses, ...(otherwise ? { otherwise } : {}), redirs: this.parseRedirs() };
  }

  private parseWhile(line: number, until: boolean): Command {
    this.pos += 5; // "while" and "until"
    const cond = this.parseBody((x) => x === "do", "do");
    const body = this.parseDoGroup();
    return { k: "while", line, until, cond, body, redirs: this.parseRedirs() };
  }

  private parseDoGroup(): List {
    this.expectWord("do");
    const body = this.parseBody((x) => x === "done", "done");
    this.expectWord("done");
    return body;
  }

  private parseFor(line: number): Command {
    this.pos += 3;
    const name = this.peekPlain();
    if (name === null || !isName(name)) this.failHere();
    this.pos += name.length;
    let items: Word[] | undefined;
    if (this.peekOp() === ";") this.pos++;
    this.skipNewlines();
    if (this.peekPlain() === "in") {
      this.pos += 2;
      items = [];
      for (;;) {
        const op = this.peekOp();
        if (op === ";" || op === "\n") {
          if (op === ";") this.pos++;
          else this.newline();
          break;
        }
        if (op !== null || this.pos >= this.src.length) this.failHere("do");
        items.push(this.readWord()!);
      }
      this.skipNewlines();
    }
    const body = this.parseDoGroup();
    return { k: "for", line, name, ...(items ? { items } : {}), body, redirs: this.parseRedirs() };
  }

  private parseCase(line: number): Command {
    this.pos += 4;
    this.skipBlanks();
    const word = this.readWord();
    if (!word) this.failHere();
    this.skipNewlines();
    this.expectWord("in");
    const arms: { patterns: Word[]; body: List }[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.peekPlain() === "esac") break;
      if (this.peekOp() === "(") this.pos++;
      const patterns: Word[] = [];
      for (;;) {
        this.skipBlanks();
        const p = this.readWord();
        if (!p) this.failHere();
        patterns.push(p);
        const op = this.peekOp();
        if (op === "|") {
          this.pos++;
          continue;
        }
        if (op === ")") {
          this.pos++;
          break;
        }
        this.failHere(")");
      }
      const body = this.parseList((x) => x === "esac");
      arms.push({ patterns, body });
      this.skipNewlines();
      if (this.peekOp() === ";;") {
        this.pos += 2;
        continue;
      }
      break;
    }
    this.skipNewlines();
    this.expectWord("esac");
    return { k: "case", line, word, arms, redirs: this.parseRedirs() };
  }

  private parseRedirs(): Redir[] {
    const redirs: Redir[] = [];
    for (;;) {
      const r = this.tryRedir();
      if (!r) return redirs;
      redirs.push(r);
    }
  }

  private tryRedir(): Redir | null {
    this.skipBlanks();
    const m = /^(\d*)(&>>|&>|<<<|<<-|<<|>>|>&|<&|>\||<>|<|>)/.exec(this.src.slice(this.pos, this.pos + 12));
    if (!m) return null;
    if (m[1] !== "" && m[2]!.startsWith("&")) return null;
    this.pos += m[0].length;
    const op = m[2] as RedirOp;
    const fd = m[1] !== "" ? Number(m[1]) : op.startsWith("<") ? 0 : 1;
    this.skipBlanks();
    const target = this.readWord();
    if (!target) this.failHere();
    const r: Redir = { fd, op, target };
    if (op === "<<" || op === "<<-") this.pending.push(r);
    return r;
  }

  private parseSimple(line: number): Command {
    const assigns: Assign[] = [];
    const words: Word[] = [];
    const redirs: Redir[] = [];
    for (;;) {
      const r = this.tryRedir();
      if (r) {
        redirs.push(r);
        continue;
      }
      const op = this.peekOp();
      if (op !== null || this.pos >= this.src.length) break;
      const w = this.readWord();
      if (!w) break;
      const a = words.length === 0 ? asAssignment(w) : null;
      if (a) assigns.push(a);
      else words.push(w);
    }
    if (assigns.length === 0 && words.length === 0 && redirs.length === 0) this.failHere();
    return { k: "simple", line, assigns, words, redirs };
  }

  // ---- words -----------------------------------------------------------------------------

  /** Reads one word at the current position; null if there is none. */
  readWord(inBraces = false): Word | null {
    const s = this.src;
    const start = this.pos;
    const parts: WordPart[] = [];
    let lit = "";
    const flush = (): void => {
      if (lit !== "") parts.push({ k: "lit", s: lit });
      lit = "";
    };
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (inBraces ? c === "}" : META.has(c)) break;
      if (c === "\\") {
        const n = s[this.pos + 1];
        if (n === "\n") {
          this.pos += 2;
          continue;
        }
        if (n === undefined) {
          lit += "\\";
          this.pos++;
          continue;
        }
        flush();
        parts.push({ k: "q", s: n });
        this.pos += 2;
        continue;
      }
      if (c === "'") {
        const end = s.indexOf("'", this.pos + 1);
        if (end < 0) this.quoteFail("'", this.pos);
        flush();
        parts.push({ k: "q", s: s.slice(this.pos + 1, end) });
        this.pos = end + 1;
        continue;
      }
      if (c === '"') {
        flush();
        this.pos++;
        parts.push({ k: "dq", parts: this.readDq('"') });
        continue;
      }
      if (c === "$") {
        const p = this.readDollar();
        if (p) {
          flush();
          parts.push(p);
        } else {
          lit += "$";
          this.pos++;
        }
        continue;
      }
      if (c === "`") {
        flush();
        parts.push(this.readBacktick());
        continue;
      }
      if (c === "~" && this.pos === start && !inBraces) {
        const m = /^~([A-Za-z0-9_.-]*)(?=\/|$|[ \t\n;&|()<>])/.exec(s.slice(this.pos, this.pos + 64));
        if (m) {
          parts.push({ k: "tilde", user: m[1]! });
          this.pos += m[0].length;
          continue;
        }
      }
      lit += c;
      this.pos++;
    }
    flush();
    if (this.pos === start) return null;
    return { parts, raw: s.slice(start, this.pos) };
  }

  /** Parts inside double quotes up to `end` (consumed), or to the end of the text (here-documents). */
  readDq(end: string | null): WordPart[] {
    const s = this.src;
    const open = this.pos - 1;
    const parts: WordPart[] = [];
    let lit = "";
    const flush = (): void => {
      if (lit !== "") parts.push({ k: "q", s: lit });
      lit = "";
    };
    for (;;) {
      if (this.pos >= s.length) {
        if (end === null) break;
        this.quoteFail(end, open);
      }
      const c = s[this.pos]!;
      if (c === end) {
        this.pos++;
        break;
      }
      if (c === "\\") {
        const n = s[this.pos + 1];
        if (n === "\n") {
          this.pos += 2;
          continue;
        }
        if (n !== undefined && (n === "$" || n === "`" || n === "\\" || (n === '"' && end === '"'))) {
          lit += n;
          this.pos += 2;
          continue;
        }
        lit += c;
        this.pos++;
        continue;
      }
      if (c === "$") {
        const p = this.readDollar();
        if (p) {
          flush();
          parts.push(p);
        } else {
          lit += "$";
          this.pos++;
        }
        continue;
      }
      if (c === "`") {
        flush();
        parts.push(this.readBacktick());
        continue;
      }
      lit += c;
      this.pos++;
    }
    flush();
    return parts;
  }

  private readDollar(): WordPart | null {
    const s = this.src;
    const n = s[this.pos + 1];
    if (n === undefined) return null;
    if (n === "{") return this.readBraceParam();
    if (n === "(" && s[this.pos + 2] === "(") {
      const start = this.pos + 3;
      let depth = 0;
      let i = start;
      for (; i < s.length; i++) {
        if (s[i] === "(") depth++;
        else if (s[i] === ")") {
          if (depth === 0 && s[i + 1] === ")") break;
          depth--;
        }
      }
      if (i >= s.length) this.quoteFail("(", this.pos);
      const text = s.slice(start, i);
      this.pos = i + 2;
      return { k: "arith", expr: { parts: new Parser(text).readDq(null), raw: text } };
    }
    if (n === "(") {
      this.pos += 2;
      const body = this.parseList(() => false);
      this.skipNewlines();
      if (this.peekOp() !== ")") this.failHere(")");
      this.pos++;
      return { k: "cmd", body };
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.pos + 1, this.pos + 256));
    if (m) {
      this.pos += 1 + m[0].length;
      return { k: "param", name: m[0] };
    }
    if (/[0-9]/.test(n) || SPECIAL_PARAMS.includes(n)) {
      this.pos += 2;
      return { k: "param", name: n };
    }
    return null;
  }

  private readBraceParam(): WordPart {
    const s = this.src;
    const open = this.pos;
    this.pos += 2;
    let length = false;
    if (s[this.pos] === "#" && s[this.pos + 1] !== "}" && /[A-Za-z_0-9@*#?$!-]/.test(s[this.pos + 1] ?? "")) {
      length = true;
      this.pos++;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!0-])/.exec(s.slice(this.pos, this.pos + 256));
    if (!m) this.quoteFail("{", open);
    const name = m[1]!;
    this.pos += name.length;
    if (s[this.pos] === "}") {
      this.pos++;
      return { k: "param", name, ...(length ? { length } : {}) };
    }
    const om = /^(:-|:=|:\+|:\?|##|%%|-|=|\+|\?|#|%)/.exec(s.slice(this.pos, this.pos + 2));
    if (!om || length) this.quoteFail("{", open);
    const op = om[1] as ParamOp;
    this.pos += op.length;
    const arg = this.readWord(true) ?? { parts: [], raw: "" };
    if (s[this.pos] !== "}") this.quoteFail("{", open);
    this.pos++;
    return { k: "param", name, op, arg };
  }

  private readBacktick(): WordPart {
    const s = this.src;
    const open = this.pos;
    let body = "";
    let i = this.pos + 1;
    for (; i < s.length && s[i] !== "`"; i++) {
      if (s[i] === "\\" && i + 1 < s.length && "$`\\".includes(s[i + 1]!)) {
        body += s[i + 1];
        i++;
      } else body += s[i];
    }
    if (i >= s.length) this.quoteFail("`", open);
    this.pos = i + 1;
    return { k: "cmd", body };
  }
}

/** `NAME=value` as the first words of a simple command. */
function asAssignment(w: Word): Assign | null {
  const first = w.parts[0];
  if (!first || first.k !== "lit") return null;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.s);
  if (!m) return null;
  const restFirst = first.s.slice(m[0].length);
  const parts: WordPart[] = restFirst !== "" ? [{ k: "lit", s: restFirst }, ...w.parts.slice(1)] : w.parts.slice(1);
  return { name: m[1]!, value: { parts, raw: w.raw.slice(m[0].length) } };
}

/** The text of a word with its quotes removed and nothing expanded (here-document delimiters). */
export function literalText(w: Word): string {
  let out = "";
  for (const p of w.parts) {
    if (p.k === "lit" || p.k === "q") out += p.s;
    else if (p.k === "dq") out += literalText({ parts: p.parts, raw: "" });
    else if (p.k === "tilde") out += "~" + p.user;
    else out += "$";
  }
  return out;
}

/** Parses a whole text (command substitutions, `eval`); throws ShSyntaxError. */
export function parseAll(src: string): List {
  const p = new Parser(src);
  const items: { ao: AndOr; bg: boolean }[] = [];
  for (let l = p.next(); l !== null; l = p.next()) items.push(...l.items);
  return { items };
}
