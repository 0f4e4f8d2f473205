/**
 * `lvslab export LAB [--host NAME] [--format keepalived|ipvsadm|director|real-servers] [--at-end | --after-step N]`:
 * the command's own options and output; src/cli/main.ts loads the lab and hands it here.
 */
import { optionReader } from "../cli/options.js";
import type { BuiltLab } from "../lab/build.js";
import { formatIp4 } from "../wire/addr.js";
import { FwdMethod } from "../ipvs/api.js";
import { sortDests, sortServices } from "../tools/ipvsadm/format.js";
import { EXPORT_FORMATS, directors, exportDirector, exportKeepalived, exportRealServers, ipvsadmSave, runForExport, serviceName, type ExportFormat } from "./index.js";

export const EXPORT_USAGE = "Usage: lvslab export LAB [--seed N] [--host NAME] [--format keepalived|ipvsadm|director|real-servers] [--at-end | --after-step N]\n";

export interface ExportArgs {
  host?: string;
  format: ExportFormat;
  /** Run only the first N steps (undefined: all of them). */
  afterStep?: number;
}

/** Parse export's own options; returns an error text for a bad one. */
export function parseExportOptions(opts: readonly string[]): ExportArgs | string {
  const a: ExportArgs = { format: "keepalived" };
  let atEnd = false;
  const r = optionReader(opts);
  for (let o = r.next(); o; o = r.next()) {
    const { raw: x, name, value } = o;
    const shown = (v: string | undefined): string => (v === undefined ? "nothing" : JSON.stringify(v));
    if (name === "--host") {
      const v = value();
      if (!v) return `lvslab: --host needs a host name, got ${shown(v)}`;
      a.host = v;
    } else if (name === "--format") {
      const v = value();
      if (!EXPORT_FORMATS.includes(v as ExportFormat)) return `lvslab: --format must be ${EXPORT_FORMATS.slice(0, -1).join(", ")} or ${EXPORT_FORMATS[EXPORT_FORMATS.length - 1]}, got ${shown(v)}`;
      a.format = v as ExportFormat;
    } else if (name === "--after-step") {
      const v = value();
      if (v === undefined || !/^\d+$/.test(v)) return `lvslab: --after-step needs a step number (0, 1, 2, ...), got ${shown(v)}`;
      a.afterStep = Number(v);
    } else if (x === "--at-end") atEnd = true;
    else return `lvslab: unknown option ${x} for export\n${EXPORT_USAGE.trimEnd()}`;
  }
  if (atEnd && a.afterStep !== undefined) return "lvslab: --at-end and --after-step contradict each other; give one";
  return a;
}

/** Which director to export, or the one-line reason there is none. */
function pickDirector(lab: BuiltLab, want: string | undefined): string | { error: string } {
  const ds = directors(lab);
  const name = lab.spec.name;
  if (want !== undefined) {
    if (!lab.hosts.has(want)) return { error: `lvslab: no host ${JSON.stringify(want)} in the lab (hosts: ${[...lab.hosts.keys()].join(", ")})` };
    if (!ds.includes(want))
      return { error: `lvslab: host ${JSON.stringify(want)} has no IPVS (it needs ipvs: true in the lab file); ${ds.length > 0 ? `directors: ${ds.join(", ")}` : "the lab has no director"}` };
    return want;
  }
  if (ds.length === 0) return { error: `lvslab: lab ${name} has no director to export: no host has ipvs: true` };
  if (ds.length > 1) return { error: `lvslab: lab ${name} has several directors (${ds.join(", ")}): choose one with --host NAME` };
  return ds[0]!;
}

export async function runExport(lab: BuiltLab, a: ExportArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const host = pickDirector(lab, a.host);
  if (typeof host !== "string") {
    err(host.error + "\n");
    return 2;
  }
  const nSteps = lab.spec.steps.length;
  if (a.afterStep !== undefined && a.afterStep > nSteps) {
    err(`lvslab: --after-step ${a.afterStep}: lab ${lab.spec.name} has ${nSteps} step${nSteps === 1 ? "" : "s"}\n`);
    return 2;
  }
  const report = await runForExport(lab, a.afterStep);
  const failed = report.steps.filter((s) => !s.ok);
  if (failed.length > 0)
    err(`lvslab: warning: ${failed.length} of ${report.steps.length} steps did not go as the lab expects (first: ${failed[0]!.description}: ${failed[0]!.problems[0]}); exporting the table they left\n`);
  const when = a.afterStep === undefined ? "after all the lab's steps" : `after the lab's first ${a.afterStep} step${a.afterStep === 1 ? "" : "s"}`;
  const ipvs = lab.hosts.get(host)!.ipvs!;
  const services = sortServices(ipvs.services());
  if (services.length === 0) err(`lvslab: warning: ${host} has no IPVS service ${when}\n`);

  if (a.format === "ipvsadm") {
    const r = await ipvsadmSave(lab.hosts.get(host)!);
    out(r.stdout);
    if (r.exit !== 0) {
      err(r.stderr);
      return 1;
    }
    for (const se of services) {
      if (se.dests.some((d) => d.fwd === FwdMethod.FullNat) || se.proxyProtocol)
        err(`lvslab: warning: ${serviceName(se)}: its --fullnat, --add-laddr and --proxy-protocol options are lvslab extensions (after DPVS and Alibaba LVS): mainline ipvsadm refuses them\n`);
      for (const d of sortDests(se.dests))
        if (d.uThreshold || d.lThreshold)
          err(`lvslab: warning: ${serviceName(se)}: ipvsadm -S does not save thresholds: real server ${formatIp4(d.addr)}:${d.port} had -x ${d.uThreshold} -y ${d.lThreshold}\n`);
    }
    return 0;
  }
  if (a.format === "director") {
    const r = await exportDirector(lab, host, when);
    out(r.text);
    for (const w of r.warnings) err(`lvslab: warning: ${w}\n`);
    return 0;
  }
  if (a.format === "real-servers") {
    const r = exportRealServers(lab, host, when);
    out(r.text);
    for (const w of r.warnings) err(`lvslab: warning: ${w}\n`);
    return r.incomplete > 0 ? 1 : 0;
  }
  const k = exportKeepalived(lab, host, when);
  out(k.text);
  for (const w of k.warnings) err(`lvslab: warning: ${w}\n`);
  return k.omitted > 0 ? 1 : 0;
}
