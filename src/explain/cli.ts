/**
 * `lvslab explain LAB [--conn N] [--flow ADDR[:PORT]] [--brief] [--json]`: the command's
 * own options and output; src/cli/main.ts loads the lab and hands it here.
 */
import { optionReader } from "../cli/options.js";
import type { BuiltLab } from "../lab/build.js";
import { explainLab, explanationJson, formatExplanation } from "./index.js";
import { selectConversations } from "./format.js";
import { formatIp4, parseIp4 } from "../wire/index.js";

export const EXPLAIN_USAGE = "Usage: lvslab explain LAB [--seed N] [--conn N] [--flow ADDR[:PORT]] [--brief] [--json]\n";

export interface ExplainArgs {
  conn?: number;
  flow?: string;
  brief: boolean;
  json: boolean;
}

/** "A.B.C.D" or "A.B.C.D:PORT" in the form the stories print (so 192.168.75.300 or port 70000 are refused). */
function parseFlow(v: string): string | undefined {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(v);
  const addr = m ? parseIp4(m[1]!) : undefined;
  if (addr === undefined || (m![2] !== undefined && Number(m![2]) > 65535)) return undefined;
  return formatIp4(addr) + (m![2] !== undefined ? `:${Number(m![2])}` : "");
}

/** Parse explain's own options out of `rest`; returns an error text for a bad one. */
export function parseExplainOptions(opts: readonly string[]): ExplainArgs | string {
  const a: ExplainArgs = { brief: false, json: false };
  const r = optionReader(opts);
  for (let o = r.next(); o; o = r.next()) {
    const { raw: x, name, value } = o;
    if (name === "--conn") {
      const v = value();
      if (v === undefined || !/^[1-9]\d*$/.test(v)) return `lvslab: --conn needs a connection number (1, 2, ...), got ${v === undefined ? "nothing" : JSON.stringify(v)}`;
      a.conn = Number(v);
    } else if (name === "--flow") {
      const v = value();
      const f = v === undefined ? undefined : parseFlow(v);
      if (f === undefined) return `lvslab: --flow needs ADDR or ADDR:PORT (like 192.168.75.150:50172), got ${v === undefined ? "nothing" : JSON.stringify(v)}`;
      a.flow = f;
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
