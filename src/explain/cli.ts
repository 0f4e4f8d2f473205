/**
 * `lvslab explain LAB [--conn N] [--flow ADDR[:PORT]] [--brief] [--json]`: the command's
 * own options and output; src/cli/main.ts loads the lab and hands it here.
 */
import type { BuiltLab } from "../lab/build.js";
import { explainLab, explanationJson, formatExplanation } from "./index.js";
import { selectConversations } from "./format.js";

export const EXPLAIN_USAGE = "Usage: lvslab explain LAB [--seed N] [--conn N] [--flow ADDR[:PORT]] [--brief] [--json]\n";

export interface ExplainArgs {
  conn?: number;
  flow?: string;
  brief: boolean;
  json: boolean;
}

/** Parse explain's own options out of `rest`; returns an error text for a bad one. */
export function parseExplainOptions(opts: readonly string[]): ExplainArgs | string {
  const a: ExplainArgs = { brief: false, json: false };
  for (let i = 0; i < opts.length; i++) {
    const x = opts[i]!;
    const eq = x.indexOf("=");
    const name = x.startsWith("--") && eq > 0 ? x.slice(0, eq) : x;
    const inline = x.startsWith("--") && eq > 0 ? x.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? opts[++i];
    if (name === "--conn") {
      const v = value();
      if (v === undefined || !/^[1-9]\d*$/.test(v)) return `lvslab: --conn needs a connection number (1, 2, ...), got ${v === undefined ? "nothing" : JSON.stringify(v)}`;
      a.conn = Number(v);
    } else if (name === "--flow") {
      const v = value();
      if (v === undefined || !/^\d+\.\d+\.\d+\.\d+(:\d+)?$/.test(v)) return `lvslab: --flow needs ADDR or ADDR:PORT (like 192.168.75.150:50172), got ${v === undefined ? "nothing" : JSON.stringify(v)}`;
      a.flow = v;
    } else if (x === "--brief") a.brief = true;
    else if (x === "--json") a.json = true;
    else return `lvslab: unknown option ${x} for explain\n${EXPLAIN_USAGE}`;
  }
  return a;
}

export async function runExplain(lab: BuiltLab, a: ExplainArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const x = await explainLab(lab);
  const sel = selectConversations(x, a);
  if (typeof sel === "string") {
    err(sel + "\n");
    return 2;
  }
  out(a.json ? JSON.stringify(explanationJson(x, a), null, 2) + "\n" : formatExplanation(x, a));
  return 0;
}
