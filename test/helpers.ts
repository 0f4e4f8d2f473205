/**
 * Shared helpers for scenario tests: run a lab file and get its transcript, split a
 * transcript or a golden .out into sections, and normalise capture lines so that runs of
 * the real kernel and of lvslab compare (timestamps, sequence numbers, ports, MACs and TCP
 * timestamps differ from run to run; everything else must match).
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLab, type BuiltLab } from "../src/lab/build.js";
import { loadLab } from "../src/lab/load.js";
import { runSteps, type RunReport } from "../src/lab/runner.js";
import { standardSetup } from "../src/lab/setup.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (tests run from dist/test/). */
export const ROOT = resolve(here, "..", "..");

export function repoPath(...parts: string[]): string {
  return join(ROOT, ...parts);
}

export function buildLabFile(rel: string, seed?: number): BuiltLab {
  const path = repoPath(rel);
  const r = loadLab(readFileSync(path, "utf8"), rel);
  if (!r.ok) throw new Error(`lab ${rel} has problems: ${JSON.stringify(r.diagnostics)}`);
  return buildLab(r.lab, { seed, setupHost: standardSetup });
}

export async function runLabFile(rel: string, seed?: number): Promise<{ lab: BuiltLab; report: RunReport; transcript: string }> {
  const lab = buildLabFile(rel, seed);
  let transcript = "";
  const report = await runSteps(lab, { out: (s) => (transcript += s) });
  return { lab, report, transcript };
}

/** Split a transcript into { prompt line -> output } blocks, in order. */
export function transcriptBlocks(t: string): Array<{ prompt: string; output: string }> {
  const blocks: Array<{ prompt: string; output: string }> = [];
  for (const line of t.split("\n")) {
    if (/^\[root@[^\]]+ ~\]# /.test(line) || line.startsWith("# ")) blocks.push({ prompt: line, output: "" });
    else if (blocks.length > 0) blocks[blocks.length - 1]!.output += line + "\n";
  }
  return blocks;
}

/** Sections of a golden .out file: "### title" -> text. */
export function goldenSections(rel: string): Map<string, string> {
  const text = readFileSync(repoPath(rel), "utf8");
  const m = new Map<string, string>();
  let cur: string | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("### ")) {
      cur = line.slice(4);
      m.set(cur, "");
    } else if (cur !== undefined) m.set(cur, m.get(cur)! + line + "\n");
  }
  return m;
}

/**
 * tcpdump packet lines (those starting with a timestamp), normalised for comparison:
 * timestamps, sequence numbers, TCP timestamps and client ports go; MACs go too unless
 * `keepMacs` (DR and TUN labs fix them, and there the MACs are the point).
 */
export function normalizeCapture(text: string, opts: { keepMacs?: boolean } = {}): string[] {
  return text
    .split("\n")
    .filter((l) => /^\d\d:\d\d:\d\d\.\d{6} /.test(l))
    .map((l) => {
      const x = l
        .replace(/^\d\d:\d\d:\d\d\.\d{6} /, "")
        .replace(/\b(seq|ack) (\d{4,})/g, "$1 N")
        .replace(/TS val \d+ ecr (\d+)/g, (_m, ecr: string) => `TS val T ecr ${ecr === "0" ? "0" : "T"}`)
        .replace(/(\d+\.\d+\.\d+\.\d+)\.(\d{4,5})\b/g, (_m, a: string) => `${a}.PORT`);
      return opts.keepMacs ? x : x.replace(/([0-9a-f]{2}:){5}[0-9a-f]{2}/g, "MAC");
    });
}

export type Blocks = ReturnType<typeof transcriptBlocks>;

/** The output of the (first) background tcpdump on `host`. */
export function captureOf(blocks: Blocks, host: string): string {
  const b = blocks.find((x) => x.prompt.startsWith(`[root@${host} ~]# tcpdump`));
  assert.ok(b, `no capture on ${host} in the transcript`);
  return b.output;
}

/** The output of the last run of `cmd` on `host`. */
export function lastOutput(blocks: Blocks, host: string, cmd: string): string {
  const b = blocks.filter((x) => x.prompt === `[root@${host} ~]# ${cmd}`).at(-1);
  assert.ok(b, `no "${cmd}" on ${host}`);
  return b.output;
}

/** `ipvsadm -L -n -c` rows without their countdowns and client ports, sorted. */
export function connRows(s: string): string[] {
  return s
    .split("\n")
    .filter((l) => l.startsWith("TCP "))
    .map((l) => l.replace(/^TCP \d\d:\d\d  /, "TCP ").replace(/:\d{4,5}\s+/, ":PORT ").replace(/\s+/g, " "))
    .sort();
}

/** Build a lab from YAML text (scenario tests that set up their own topology). */
export function buildLabText(yaml: string, name = "inline.yaml", seed?: number): BuiltLab {
  const r = loadLab(yaml, name);
  if (!r.ok) throw new Error(`lab ${name} has problems: ${JSON.stringify(r.diagnostics)}`);
  return buildLab(r.lab, { seed, setupHost: standardSetup });
}

/** The DR and TUN labs' four hosts, each with the name the kernel recordings give it. */
export const LVS_HOSTS: ReadonlyArray<readonly [host: string, golden: string]> = [
  ["client", "client"],
  ["director", "dir"],
  ["real_server1", "rs1"],
  ["real_server2", "rs2"],
];

/**
 * Asserts that each host's `tcpdump -e` capture in `blocks` shows the frames, between the
 * same MACs, that the kernel recording `golden(g)` shows for it (g: "client", "dir", ...).
 * `label` names the variant in messages ("broken " → "broken dir-eth0"); the golden capture
 * must have more than `moreThan` lines, so that an empty recording cannot pass. `raw` edits
 * both captures before normalizing, `want` and `ours` the normalized lines of one side;
 * `distinct` compares each side's frames in order of first sight.
 */
export function assertCapturesMatch(
  blocks: Blocks,
  golden: (g: string) => string,
  opts: {
    moreThan: number;
    label?: string;
    hosts?: ReadonlyArray<readonly [string, string]>;
    raw?: (text: string) => string;
    want?: (lines: string[]) => string[];
    ours?: (lines: string[], host: string, want: string[]) => string[];
    distinct?: boolean;
  },
): void {
  const { label = "", raw = (t: string) => t, distinct = false } = opts;
  const first = (l: string[]) => (distinct ? [...new Set(l)] : l);
  for (const [host, g] of opts.hosts ?? LVS_HOSTS) {
    let want = normalizeCapture(raw(golden(g)), { keepMacs: true });
    if (opts.want) want = opts.want(want);
    assert.ok(want.length > opts.moreThan, `golden capture ${label}${g} is empty`);
    let ours = normalizeCapture(raw(captureOf(blocks, host)), { keepMacs: true });
    if (opts.ours) ours = opts.ours(ours, host, want);
    assert.deepEqual(first(ours), first(want), `${host} eth0 differs from the kernel's ${label}${g}-eth0`);
  }
}

/** Read one chunk of the child's stdout, then close the pipe as `head -1` does; its exit status (bounded). */
export function headOne(p: ChildProcess): Promise<number | string> {
  return new Promise((res) => {
    const t = setTimeout(() => {
      p.kill("SIGKILL");
      res("still running 10 s after its reader left");
    }, 10_000);
    p.stdout!.once("data", () => p.stdout!.destroy());
    p.on("exit", (code, sig) => {
      clearTimeout(t);
      res(code ?? `killed by ${sig}`);
    });
  });
}
