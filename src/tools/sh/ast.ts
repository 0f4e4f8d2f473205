/**
 * The shell's syntax tree: what `parse.ts` builds and `interp.ts` walks. Words keep their
 * quoting structure until expansion, because quoting decides field splitting and globbing
 * (POSIX XCU 2.6), and their source text, for error messages and xtrace.
 */

export type WordPart =
  /** Unquoted literal text (globbing applies, field splitting does not). */
  | { readonly k: "lit"; readonly s: string }
  /** Quoted literal text: '…', a backslash escape, or literal text inside "…". */
  | { readonly k: "q"; readonly s: string }
  /** "…": its parts expand, but never split or glob. */
  | { readonly k: "dq"; readonly parts: readonly WordPart[] }
  /** $name, ${name}, ${name op arg}, ${#name}. */
  | { readonly k: "param"; readonly name: string; readonly op?: ParamOp; readonly arg?: Word; readonly length?: boolean }
  /** $(…) (parsed) or `…` (kept as text, parsed when run). */
  | { readonly k: "cmd"; readonly body: List | string }
  /** $((…)): the expression's text, expanded then evaluated. */
  | { readonly k: "arith"; readonly expr: Word }
  /** ~ or ~user at the start of a word. */
  | { readonly k: "tilde"; readonly user: string };

export type ParamOp = ":-" | "-" | ":=" | "=" | ":+" | "+" | ":?" | "?" | "#" | "##" | "%" | "%%";

export interface Word {
  readonly parts: readonly WordPart[];
  /** The word as written. */
  readonly raw: string;
}

export type RedirOp = ">" | ">>" | ">|" | "<" | "<>" | ">&" | "<&" | "&>" | "&>>" | "<<" | "<<-" | "<<<";

export interface Redir {
  readonly fd: number;
  readonly op: RedirOp;
  readonly target: Word;
  /** For << and <<-: the body (filled in when the parser reaches the end of the line). */
  heredoc?: Word;
}

export interface Assign {
  readonly name: string;
  readonly value: Word;
}

export type Command =
  | { readonly k: "simple"; readonly line: number; readonly assigns: readonly Assign[]; readonly words: readonly Word[]; readonly redirs: readonly Redir[] }
  | { readonly k: "if"; readonly line: number; readonly clauses: readonly { cond: List; body: List }[]; readonly otherwise?: List; readonly redirs: readonly Redir[] }
  | { readonly k: "for"; readonly line: number; readonly name: string; readonly items?: readonly Word[]; readonly body: List; readonly redirs: readonly Redir[] }
  | { readonly k: "while"; readonly line: number; readonly until: boolean; readonly cond: List; readonly body: List; readonly redirs: readonly Redir[] }
  | { readonly k: "case"; readonly line: number; readonly word: Word; readonly arms: readonly { patterns: Word[]; body: List }[]; readonly redirs: readonly Redir[] }
  | { readonly k: "group"; readonly line: number; readonly body: List; readonly redirs: readonly Redir[] }
  | { readonly k: "subshell"; readonly line: number; readonly body: List; readonly redirs: readonly Redir[] }
  | { readonly k: "func"; readonly line: number; readonly name: string; readonly body: Command };

export interface Pipeline {
  readonly line: number;
  readonly bang: boolean;
  readonly cmds: readonly Command[];
}

export interface AndOr {
  readonly first: Pipeline;
  readonly rest: readonly { op: "&&" | "||"; p: Pipeline }[];
}

export interface List {
  readonly items: readonly { ao: AndOr; bg: boolean }[];
}
