#!/usr/bin/env node
/**
 * The `lvslab` command: a thin shell over src/lab. The only code that touches the real
 * console, files and process exit status.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { buildLab, type BuiltLab } from "../lab/build.js";
import { formatDiagnostic, loadLab } from "../lab/load.js";
import { readLabFile } from "../lab/read.js";
import { failureSummary, prompt, runCommand, runSteps } from "../lab/runner.js";
import { standardSetup } from "../lab/setup.js";
import { attachPcaps } from "../lab/pcap.js";
import { bashQuote } from "../tools/sh/quote.js";
import { exitOnBrokenPipe, forwardedStdin, readStdinText, StdinTooLarge } from "./stdio.js";
import { REAL_USAGE, realExec, realMain, realRun, realShell } from "../real/cli.js";
import { EXPLAIN_USAGE, parseExplainOptions, runExplain } from "../explain/cli.js";
import { EXPORT_USAGE, parseExportOptions, runExport } from "../export/cli.js";

const here = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_ROOT = resolve(here, "..", "..", "..");
const DEFAULT_LAB = join(PACKAGE_ROOT, "labs", "lvs-nat.yaml");

const USAGE = `Usage: lvslab <command> [options]

Commands:
  run [LAB]                     run a lab's steps and print the session (default: the seed's LVS-NAT lab)
  run LAB --real [--keep]       the same steps for real, on network namespaces (see Real mode below)
  exec LAB HOST -- CMD [ARG...]  run the lab's steps quietly, then one command on HOST
  shell LAB [HOST]              run the lab's steps quietly, then an interactive prompt on HOST
                                (when LAB is up: on the real lab, see Real mode below)
  explain LAB                   run a lab and tell each connection's story hop by hop, and why it failed
  export LAB                    run a lab, then print its director's IPVS table as a keepalived.conf
                                or as ipvsadm -S -n rules, for real directors (or, with
                                --format director / real-servers, setup scripts for both sides)
  labs                          list the labs that come with lvslab
  director ...                  real mode: the userspace IPVS director on real interfaces (director --help)
  ipvsadm ARGS...               real mode: ipvsadm on the running director
  ctl -- CMD [ARG...]           real mode: run a command on the running director
  help                          show this help

Options:
  --seed N        seed for every random choice (default: the lab's)
  --pcap DIR      (run) write one pcap file per NIC: DIR/HOST-NIC.pcap
  --trace         (run) print every dropped packet with its reason at the end
  --stop-on-failure  (run) stop at the first failing step
  --conn N        (explain) only connection N;  --flow ADDR[:PORT]  only connections with that endpoint
  --brief         (explain) summary and diagnosis only;  --json  the same facts as JSON
  --format F      (export) keepalived (default), ipvsadm, director or real-servers;  --host NAME  the director, when several
  --after-step N  (export) the table after the lab's first N steps;  --at-end  after all (default)

LAB is a path to a lab file, or the name of a bundled lab (e.g. lvs-nat, lvs-nat-no-gateway).

${REAL_USAGE}`;

interface Args {
  cmd: string;
  pos: string[];
  rest: string[];
  seed?: number;
  pcap?: string;
  trace: boolean;
  stopOnFailure: boolean;
  real: boolean;
  keep: boolean;
}

function parseArgs(argv: string[]): Args | string {
  const a: Args = { cmd: argv[0] ?? "help", pos: [], rest: [], trace: false, stopOnFailure: false, real: false, keep: false };
  for (let i = 1; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === "--") {
      a.rest = argv.slice(i + 1);
      break;
    }
    if (x === "--seed") {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) return `lvslab: --seed needs a whole number, got ${v === undefined ? "nothing" : JSON.stringify(v)}`;
      a.seed = Number(v);
    } else if (x.startsWith("--seed=")) {
      const v = x.slice(7);
      if (!/^\d+$/.test(v)) return `lvslab: --seed needs a whole number, got ${JSON.stringify(v)}`;
      a.seed = Number(v);
    } else if (x === "--pcap") {
      const v = argv[++i];
      if (!v) return "lvslab: --pcap needs a directory";
      a.pcap = v;
    } else if (x === "--trace") a.trace = true;
    else if (x === "--stop-on-failure") a.stopOnFailure = true;
    else if (a.cmd === "run" && x === "--real") a.real = true;
    else if (a.cmd === "run" && x === "--keep") a.keep = true;
    else if (a.cmd === "explain" && /^--(conn|flow)(=|$)/.test(x)) {
      a.rest.push(x);
      if (!x.includes("=") && i + 1 < argv.length) a.rest.push(argv[++i]!);
    } else if (a.cmd === "explain" && (x === "--brief" || x === "--json")) a.rest.push(x);
    else if (a.cmd === "export" && /^--(host|format|after-step)(=|$)/.test(x)) {
      a.rest.push(x);
      if (!x.includes("=") && i + 1 < argv.length) a.rest.push(argv[++i]!);
    } else if (a.cmd === "export" && x === "--at-end") a.rest.push(x);
    else if (x.startsWith("-") && x !== "-") return `lvslab: unknown option ${x}\nTry 'lvslab help'.`;
    else a.pos.push(x);
  }
  return a;
}

function resolveLab(name: string | undefined): string {
  if (!name) return DEFAULT_LAB;
  if (existsSync(name)) return name;
  for (const cand of [join(PACKAGE_ROOT, "labs", name), join(PACKAGE_ROOT, "labs", `${name}.yaml`)]) if (existsSync(cand)) return cand;
  return name;
}

function load(labArg: string | undefined, seed: number | undefined): BuiltLab | undefined {
  const path = resolveLab(labArg);
  const f = readLabFile(path, true);
  if ("error" in f) {
    process.stderr.write(`lvslab: ${f.error}\n`);
    return undefined;
  }
  const text = f.text;
  const r = loadLab(text, labArg && existsSync(labArg) ? labArg : path);
  if (!r.ok) {
    for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d) + "\n");
    process.stderr.write(`lvslab: ${r.diagnostics.length} problem${r.diagnostics.length === 1 ? "" : "s"} in ${path}\n`);
    return undefined;
  }
  const lab = buildLab(r.lab, { seed, setupHost: standardSetup });
  for (const w of lab.warnings) process.stderr.write(`lvslab: warning: ${w}\n`);
  return lab;
}

function listLabs(): void {
  const dir = join(PACKAGE_ROOT, "labs");
  const walk = (d: string, prefix: string): void => {
    for (const f of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (f.isDirectory()) walk(join(d, f.name), `${prefix}${f.name}/`);
      else if (f.name.endsWith(".yaml")) {
        const r = loadLab(readFileSync(join(d, f.name), "utf8"), f.name);
        const desc = r.ok ? r.lab.description.split("\n")[0] : "(has problems)";
        process.stdout.write(`${(prefix + f.name.replace(/\.yaml$/, "")).padEnd(32)} ${desc}\n`);
      }
    }
  };
  walk(dir, "");
}

async function cmdRun(a: Args): Promise<number> {
  if (a.real) {
    if (a.pcap !== undefined || a.trace) {
      process.stderr.write(`lvslab: ${a.pcap !== undefined ? "--pcap" : "--trace"} is for the simulator; with --real, run tcpdump -w in the lab's steps\n`);
      return 2;
    }
    return realRun(resolveLab(a.pos[0]), { keep: a.keep, stopOnFailure: a.stopOnFailure, ...(a.seed !== undefined ? { seed: a.seed } : {}) });
  }
  if (a.keep) {
    process.stderr.write("lvslab: --keep goes with --real (it keeps the real lab up after its steps)\n");
    return 2;
  }
  const lab = load(a.pos[0], a.seed);
  if (!lab) return 2;
  if (a.trace) lab.world.trace.recording = true;
  const pcaps = a.pcap ? attachPcaps(lab) : undefined;
  const report = await runSteps(lab, { out: (s) => process.stdout.write(s), stopOnFailure: a.stopOnFailure });
  if (pcaps && a.pcap) {
    mkdirSync(a.pcap, { recursive: true });
    for (const [file, bytes] of pcaps()) writeFileSync(join(a.pcap, file), bytes);
    process.stderr.write(`lvslab: wrote ${pcaps().size} pcap files to ${a.pcap}\n`);
  }
  if (a.trace || !report.ok) {
    const drops = [...lab.world.trace.drops];
    if (drops.length > 0) {
      process.stderr.write("\nPackets dropped (host: reason  count):\n");
      for (const [k, n] of drops) process.stderr.write(`  ${k}  ${n}\n`);
    }
  }
  const failed = failureSummary(report);
  process.stderr.write(failed);
  return failed === "" ? 0 : 1;
}

async function cmdExec(a: Args): Promise<number> {
  const [labArg, hostName] = a.pos;
  if (!labArg || !hostName || a.rest.length === 0) {
    process.stderr.write("Usage: lvslab exec LAB HOST -- CMD [ARG...]\n");
    return 2;
  }
  const real = await realExec(labArg, hostName, a.rest, resolveLab);
  if (real !== undefined) return real;
  const lab = load(labArg, a.seed);
  if (!lab) return 2;
  const host = lab.hosts.get(hostName);
  if (!host) {
    process.stderr.write(`lvslab: no host ${JSON.stringify(hostName)} in the lab (hosts: ${[...lab.hosts.keys()].join(", ")})\n`);
    return 2;
  }
  exitOnBrokenPipe();
  // Standard input from a pipe or file goes to the command, as a shell would give it.
  const from = forwardedStdin();
  let stdin: string | undefined;
  try {
    stdin = from && (await readStdinText(from));
  } catch (e) {
    process.stderr.write(`lvslab: ${e instanceof StdinTooLarge ? e.message : `cannot read standard input: ${(e as Error).message}`}\n`);
    return 2;
  }
  await runSteps(lab, { out: () => undefined });
  const line = a.rest.map(bashQuote).join(" ");
  const r = await runCommand(host, line, { live: (s) => process.stdout.write(s), liveErr: (s) => process.stderr.write(s), ...(stdin !== undefined ? { stdin } : {}) });
  return r.exit;
}

async function cmdShell(a: Args): Promise<number> {
  if (a.pos[0] !== undefined) {
    const real = await realShell(a.pos[0], a.pos[1], resolveLab);
    if (real !== undefined) return real;
  }
  const lab = load(a.pos[0], a.seed);
  if (!lab) return 2;
  let host = lab.hosts.get(a.pos[1] ?? "") ?? [...lab.hosts.values()][0];
  if (!host) return 2;
  if (a.pos[1] && !lab.hosts.has(a.pos[1])) {
    process.stderr.write(`lvslab: no host ${JSON.stringify(a.pos[1])} in the lab (hosts: ${[...lab.hosts.keys()].join(", ")})\n`);
    return 2;
  }
  await runSteps(lab, { out: () => undefined });
  const stack: typeof host[] = [];
  const tty = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, historySize: 500 });
  process.stdout.write(`lvslab shell: lab ${lab.spec.name}; hosts: ${[...lab.hosts.keys()].join(", ")}. "ssh HOST" switches, "exit" leaves.\n`);
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (): Promise<string | undefined> => {
    process.stdout.write(prompt(host!));
    const r = await lines.next();
    if (r.done) {
      process.stdout.write("\n");
      return undefined;
    }
    if (process.stdin.isTTY !== true) process.stdout.write(r.value + "\n");
    return r.value;
  };
  for (;;) {
    const line = await ask();
    if (line === undefined) break;
    const t = line.trim();
    if (t === "") continue;
    if (t === "exit" || t === "logout") {
      const prev = stack.pop();
      if (!prev) break;
      process.stdout.write(`logout\nConnection to ${host!.name} closed.\n`);
      host = prev;
      continue;
    }
    const ssh = /^ssh\s+(?:root@)?(\S+)$/.exec(t);
    if (ssh) {
      const target = [...lab.hosts.values()].find((h) => h.name === ssh[1] || h.sysctl.get("kernel.hostname") === ssh[1]);
      if (!target) {
        process.stdout.write(`ssh: Could not resolve hostname ${ssh[1]}: Name or service not known\n`);
        continue;
      }
      stack.push(host!);
      host = target;
      continue;
    }
    const r = await runCommand(host!, t, { live: (s) => process.stdout.write(s) });
    if (r.io.text.length > 0 && !r.io.text.endsWith("\n")) process.stdout.write("\n");
  }
  rl.close();
  return 0;
}

/** A command of one lab with its own options (explain, export): parse them, load the lab, run. */
async function cmdOnLab<O>(
  a: Args,
  parse: (rest: readonly string[]) => O | string,
  usage: string,
  run: (lab: BuiltLab, o: O, out: (s: string) => void, err: (s: string) => void) => Promise<number>,
): Promise<number> {
  const o = parse(a.rest);
  if (typeof o === "string" || a.pos.length !== 1) {
    process.stderr.write(typeof o === "string" ? o + "\n" : usage);
    return 2;
  }
  const lab = load(a.pos[0], a.seed);
  if (!lab) return 2;
  return run(lab, o, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
}

export async function main(argv: string[]): Promise<number> {
  // Real mode's director commands have their own options.
  if (argv[0] === "director" || argv[0] === "ipvsadm" || argv[0] === "ctl") {
    const real = await import("../real/director/cli.js");
    const rest = argv.slice(1);
    if (argv[0] === "director") return rest.includes("--help") || rest.includes("-h") ? (process.stdout.write(real.DIRECTOR_USAGE), 0) : real.cmdDirector(rest);
    return argv[0] === "ipvsadm" ? real.cmdIpvsadm(rest) : real.cmdCtl(rest);
  }
  const up = await realMain(argv, resolveLab);
  if (up !== undefined) return up;
  const a = parseArgs(argv);
  if (typeof a === "string") {
    process.stderr.write(a + "\n");
    return 2;
  }
  switch (a.cmd) {
    case "run":
      return cmdRun(a);
    case "exec":
      return cmdExec(a);
    case "shell":
      return cmdShell(a);
    case "explain":
      return cmdOnLab(a, parseExplainOptions, EXPLAIN_USAGE, runExplain);
    case "export":
      return cmdOnLab(a, parseExportOptions, EXPORT_USAGE, runExport);
    case "labs":
      listLabs();
      return 0;
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`lvslab: unknown command ${JSON.stringify(a.cmd)}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`lvslab: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
