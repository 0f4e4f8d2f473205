/**
 * # src/explain — `lvslab explain`
 *
 * Runs a lab with the trace recording every hop, then tells the story of each connection:
 * for every packet, which host saw it on which NIC, what each host changed (addresses,
 * ports, MACs, TTL, IPIP, TCP options) and where it was dropped or rejected and by which
 * rule; then, per lab, what the connections came to and — when something went wrong — the
 * cause in one sentence. The diagnosis is computed from what the packets did and the
 * hosts' configuration (src/explain/diagnose.ts), never from the lab's name.
 *
 * Output is deterministic: the same lab and seed give the same text.
 */
import type { BuiltLab } from "../lab/build.js";
import { runSteps, type RunReport } from "../lab/runner.js";
import type { Ip4 } from "../wire/index.js";
import { analyse, theDirector, type Conversation, type Finding, type LabView, type NicView } from "./diagnose.js";
import { buildStories, type StoryBook } from "./stories.js";

export { analyse, type Conversation, type Finding, type LabView } from "./diagnose.js";
export { buildStories, type Story, type Passage, type StoryBook } from "./stories.js";
export { formatExplanation, explanationJson } from "./format.js";

export interface Explanation {
  readonly lab: string;
  readonly seed: number;
  readonly epochUs: number;
  readonly report: RunReport;
  readonly book: StoryBook;
  readonly view: LabView;
  readonly conversations: Conversation[];
  readonly summary: string[];
  /** Distinct findings, failures first, each with the connections it concerns. */
  readonly diagnosis: { finding: Finding; conns: number[] }[];
}

/** Run the lab's steps quietly with the trace recording, then explain what happened. */
export async function explainLab(lab: BuiltLab): Promise<Explanation> {
  lab.world.trace.recording = true;
  const report = await runSteps(lab, { out: () => undefined });
  const view = labView(lab);
  const book = buildStories(lab.world.trace.events, (h, i) => lab.hosts.get(h)?.nics.get(i)?.mac);
  const conversations = analyse(book, view);
  return {
    lab: lab.spec.name,
    seed: lab.spec.seed,
    epochUs: lab.world.epochUs,
    report,
    book,
    view,
    conversations,
    summary: summarise(conversations),
    diagnosis: collect(conversations),
  };
}

export function labView(lab: BuiltLab): LabView {
  const nics: NicView[] = [];
  const directors = new Set<string>();
  for (const [name, host] of lab.hosts) {
    if (host.ipvs) directors.add(name);
    for (const nic of host.nics.values()) {
      nics.push({
        host: name,
        name: nic.name,
        mac: nic.mac,
        addrs: nic.addrs.map((a) => a.addr as Ip4),
        segment: nic.segment ? [...lab.world.segments].find(([, s]) => s === nic.segment)?.[0] : undefined,
        segmentType: nic.segment?.type,
      });
    }
  }
  return {
    nics,
    directors,
    toa: (h) => lab.hosts.get(h)?.tcp.toaEnabled === true,
    conf: (h, dev, key) => {
      const host = lab.hosts.get(h);
      return host ? Math.max(host.conf("all", key), host.conf(dev, key)) : 0;
    },
  };
}

const METHOD: Record<string, string> = {
  NAT: "LVS-NAT (the director rewrote the destination on the way in and the replies' source on the way out)",
  DR: "LVS-DR (the director handed each packet unchanged to the real server's MAC; the replies went straight to the client)",
  TUN: "LVS-TUN (the director wrapped each packet in IPIP to the real server; the replies went straight to the client)",
  FullNAT: "FullNAT (the director rewrote both source and destination, both ways)",
  local: "a real server on the director itself",
};

function summarise(convs: Conversation[]): string[] {
  const groups = new Map<string, Conversation[]>();
  for (const c of convs) {
    const k = `${c.proto}|${c.client}|${c.target}`;
    let l = groups.get(k);
    if (!l) groups.set(k, (l = []));
    l.push(c);
  }
  // An empty story is still an answer: say so rather than print an empty summary.
  if (convs.length === 0) return ["no connection was made: no host of the lab started one"];
  const lines: string[] = [];
  for (const cs of groups.values()) {
    const c0 = cs[0]!;
    const n = cs.length;
    const answered = cs.filter((c) => c.answered);
    const noun = c0.proto === "ICMP" ? (n === 1 ? "ICMP exchange" : "ICMP exchanges") : `${c0.proto} connection${n === 1 ? "" : "s"}`;
    const clientIp = c0.clientAddr.replace(/:\d+$/, "");
    let s = `${n} ${noun} from ${c0.client} (${clientIp}) to ${c0.target}: `;
    s += answered.length === n ? (n === 1 ? "answered" : `all ${n} answered`) : answered.length === 0 ? (n === 1 ? "not answered" : "none answered") : `${answered.length} of ${n} answered`;
    const by = new Map<string, number>();
    for (const c of answered) if (c.server) by.set(`${c.server} (${c.serverAddr})`, (by.get(`${c.server} (${c.serverAddr})`) ?? 0) + 1);
    if (by.size > 0) {
      const parts = [...by].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, v]) => (by.size === 1 && v === answered.length ? `by ${k}` : `${v} by ${k}`));
      s += `, ${parts.length === 1 ? parts[0] : parts.slice(0, -1).join(", ") + " and " + parts.at(-1)!.replace(/^(\d+) by/, "$1 by")}`;
    }
    const dirs = new Set(cs.filter((c) => c.director).map((c) => `${c.director}|${c.method}`));
    const balanced = cs.filter((c) => c.director).length;
    if (dirs.size === 1) {
      const [d, m] = [...dirs][0]!.split("|");
      // The method's longer description only where it is what happened.
      const how = answered.length === n ? METHOD[m!] ?? m : m === "NAT" || m === "DR" || m === "TUN" ? `LVS-${m}` : m;
      s += balanced === n ? `; balanced by ${theDirector(d!)} with ${how}` : `; ${theDirector(d!)} balanced ${balanced} of them with ${how}`;
    } else if (dirs.size === 0) s += "; no director balanced any of them";
    lines.push(s + ".");
  }
  return lines;
}

function collect(convs: Conversation[]): { finding: Finding; conns: number[] }[] {
  const out = new Map<string, { finding: Finding; conns: number[] }>();
  const rank = { failure: 0, warning: 1, info: 2 };
  for (const c of convs) {
    for (const f of c.findings) {
      const k = `${f.kind}|${f.sentence}`;
      const e = out.get(k);
      if (e) e.conns.push(c.id);
      else out.set(k, { finding: f, conns: [c.id] });
    }
  }
  return [...out.values()].sort((a, b) => rank[a.finding.severity] - rank[b.finding.severity] || a.conns[0]! - b.conns[0]!);
}
