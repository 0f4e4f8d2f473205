/**
 * The slice of popt 1.19's poptGetNextOpt that ipvsadm uses: bundled short options
 * (`-Lnc`), `-p600` / `-p=600`, `--long`, `--long=value`, `--` ending options, non-option
 * words kept as leftovers (read back with poptGetArg), and optional arguments
 * (POPT_ARGFLAG_OPTIONAL) that take the next word unless it starts with `-`.
 * No aliases, no abbreviations of long options (popt has none).
 */

export type ArgKind = "none" | "string" | "optional";

export interface PoptOption {
  readonly long?: string;
  readonly short?: string;
  readonly kind: ArgKind;
  /** What poptGetNextOpt returns for this option. */
  readonly val: string;
}

export const POPT_ERROR_NOARG = -10;
export const POPT_ERROR_BADOPT = -11;
export const POPT_ERROR_UNWANTEDARG = -12;

export type PoptResult =
  | { readonly kind: "opt"; readonly val: string; readonly arg: string | undefined }
  | { readonly kind: "end" }
  | { readonly kind: "error"; readonly code: number };

export function poptStrerror(code: number): string {
  switch (code) {
    case POPT_ERROR_NOARG:
      return "missing argument";
    case POPT_ERROR_BADOPT:
      return "unknown option";
    case POPT_ERROR_UNWANTEDARG:
      return "option does not take an argument";
    default:
      return "unknown error";
  }
}

export class PoptContext {
  private next = 1;
  private nextCharArg: string | undefined;
  private restLeftover = false;
  private readonly leftovers: string[] = [];
  private nextLeftover = 0;

  constructor(
    private readonly argv: readonly string[],
    private readonly table: readonly PoptOption[],
  ) {}

  /** poptGetNextOpt. */
  getNextOpt(): PoptResult {
    for (;;) {
      let opt: PoptOption | undefined;
      let longArg: string | undefined;
      if (this.nextCharArg === undefined && this.next >= this.argv.length) return { kind: "end" };

      if (this.nextCharArg === undefined) {
        const word = this.argv[this.next++]!;
        if (this.restLeftover || word[0] !== "-" || word === "-") {
          this.leftovers.push(word);
          continue;
        }
        if (word === "--") {
          this.restLeftover = true;
          continue;
        }
        let s = word.slice(1);
        const singleDash = s[0] !== "-";
        if (!singleDash) s = s.slice(1);
        const eq = s.indexOf("=");
        const name = eq >= 0 ? s.slice(0, eq) : s;
        if (eq >= 0) longArg = s.slice(eq + 1);
        // ipvsadm has no POPT_ARGFLAG_ONEDASH options: a single dash always starts short options
        if (!singleDash) {
          opt = this.table.find((o) => o.long === name);
          if (!opt) return { kind: "error", code: POPT_ERROR_BADOPT };
        } else {
          this.nextCharArg = word.slice(1);
          longArg = undefined;
        }
      }

      if (this.nextCharArg !== undefined) {
        const chars = this.nextCharArg;
        this.nextCharArg = undefined;
        const c = chars[0];
        opt = c === undefined ? undefined : this.table.find((o) => o.short === c);
        if (!opt) return { kind: "error", code: POPT_ERROR_BADOPT };
        const rest = chars.slice(1);
        if (rest !== "") this.nextCharArg = rest[0] === "=" ? rest.slice(1) : rest;
      }
      if (!opt) return { kind: "error", code: POPT_ERROR_BADOPT };

      if (opt.kind === "none") {
        if (longArg !== undefined || (this.nextCharArg !== undefined && this.nextCharArg[0] === "="))
          return { kind: "error", code: POPT_ERROR_UNWANTEDARG };
        return { kind: "opt", val: opt.val, arg: undefined };
      }
      let arg: string | undefined;
      if (longArg !== undefined) {
        arg = longArg;
      } else if (this.nextCharArg !== undefined) {
        const ca: string = this.nextCharArg;
        arg = ca[0] === "=" ? ca.slice(1) : ca;
        this.nextCharArg = undefined;
      } else if (this.next >= this.argv.length) {
        if (opt.kind !== "optional") return { kind: "error", code: POPT_ERROR_NOARG };
        arg = undefined;
      } else if (opt.kind === "optional" && this.argv[this.next]![0] === "-") {
        arg = undefined;
      } else {
        arg = this.argv[this.next++]!;
      }
      return { kind: "opt", val: opt.val, arg };
    }
  }

  /** poptBadOption(POPT_BADOPTION_NOALIAS): the argv word being processed. */
  badOption(): string {
    return this.argv[this.next - 1] ?? "";
  }

  /** poptGetArg: the next leftover (non-option) word. */
  getArg(): string | undefined {
    return this.nextLeftover < this.leftovers.length ? this.leftovers[this.nextLeftover++] : undefined;
  }
}
