/**
 * `lvslab explain` as text (for a student at a terminal) and as JSON (for tools). Both
 * are deterministic: times are the lab's virtual wall clock, as tcpdump in the lab prints
 * them, so a line here can be found in a capture.
 */
import { formatIp4, formatMac, parseIp4 } from "../wire/index.js";
import { hostDiff, macOwner, type Conversation, type LabView } from "./diagnose.js";
import { changeText, pktLine, payloadPkt, type Pkt } from "./packet.js";
import { explainDrop } from "./rules.js";
import type { Passage, Story } from "./stories.js";
import type { Explanation } from "./index.js";

export interface FormatOptions {
  /** Only this connection (1-based, as numbered in the output). */
  readonly conn?: number;
  /** Only connections with a packet to or from ADDR[:PORT]. */
  readonly flow?: string;
  /** Summary and diagnosis only, no packets. */
  readonly brief?: boolean;
}

function clock(epochUs: number, t: number): string {
  const us = epochUs + t;
  const d = new Date(Math.floor(us / 1000));
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(((us % 1_000_000) + 1_000_000) % 1_000_000, 6)}`;
}

/** Sentences start with a capital, host names keep their case. */
const cap = (s: string): string => (s.startsWith("the ") ? "T" + s.slice(1) : s);

/** The conversations the options select, or an error text. */
export function selectConversations(x: Explanation, opts: FormatOptions): Conversation[] | string {
  let cs = x.conversations;
  if (opts.conn !== undefined) {
    const c = cs.find((k) => k.id === opts.conn);
    if (!c) return `lvslab explain: no connection ${opts.conn} in lab ${x.lab} (${cs.length === 0 ? "it made no connection at all" : `it has ${cs.length}`})`;
    cs = [c];
  }
  if (opts.flow !== undefined) {
    const want = opts.flow;
    cs = cs.filter((c) => c.stories.some((s) => s.passages.some((p) => pktsOf(p).some((q) => endpoints(q).some((e) => e === want || e.startsWith(want + ":"))))));
    if (cs.length === 0) return `lvslab explain: no connection of lab ${x.lab} has a packet to or from ${want}`;
  }
  return cs;
}

function pktsOf(p: Passage): Pkt[] {
  const l: Pkt[] = [];
  if (p.inPkt) l.push(p.inPkt);
  for (const o of p.outs) l.push(o.pkt);
  return l;
}

function endpoints(p: Pkt): string[] {
  const q = payloadPkt(p);
  return [
    q.sport === undefined ? formatIp4(q.src) : `${formatIp4(q.src)}:${q.sport}`,
    q.dport === undefined ? formatIp4(q.dst) : `${formatIp4(q.dst)}:${q.dport}`,
  ];
}

function nicName(view: LabView, mac: number): string {
  if (mac === 0xffffffffffff) return "broadcast";
  const o = macOwner(view, mac);
  return o ? `${o.host} ${o.name}` : "no host of the lab";
}

export function formatExplanation(x: Explanation, opts: FormatOptions = {}): string {
  const sel = selectConversations(x, opts);
  if (typeof sel === "string") throw new Error(sel);
  const out: string[] = [];
  out.push(`lvslab explain: lab ${x.lab}, seed ${x.seed}; times are the lab's clock (UTC), as its tcpdump prints them.`);
  const failed = x.report.steps.filter((s) => !s.ok);
  if (failed.length > 0) out.push(`(${failed.length} of the lab's steps did not meet their expectations; the story below is what happened anyway.)`);
  out.push("");
  if (!opts.brief) {
    out.push("Hosts:");
    const w = Math.max(...x.view.nics.map((n) => n.host.length));
    for (const n of x.view.nics) {
      if (n.name === "lo" && n.addrs.every((a) => a >>> 24 === 127)) continue;
      const role = x.view.directors.has(n.host) ? " (director)" : "";
      out.push(`  ${n.host.padEnd(w)} ${n.name.padEnd(6)} ${n.name === "lo" || n.name === "tunl0" || n.name === "gre0" ? "                 " : formatMac(n.mac)}  ${n.addrs.map(formatIp4).join(", ")}${role}`);
    }
    out.push("");
    for (const c of sel) out.push(...formatConversation(x, c));
  }
  out.push("Summary:");
  for (const s of x.summary) out.push(`  ${s}`);
  const failures = x.diagnosis.filter((d) => d.finding.severity === "failure");
  const warnings = x.diagnosis.filter((d) => d.finding.severity === "warning");
  const notes = x.diagnosis.filter((d) => d.finding.severity === "info");
  const conns = (l: number[]) => (x.conversations.length === 1 ? "" : l.length === x.conversations.length ? " (every connection)" : ` (connection${l.length === 1 ? "" : "s"} ${l.join(", ")})`);
  out.push("");
  if (failures.length === 0 && warnings.length === 0) {
    out.push(`Diagnosis: no problem found${x.conversations.length === 0 ? " (and no connection was made)" : "; every connection was answered the way the lab is built to answer it"}.`);
  }
  for (const d of failures) out.push(`Diagnosis${conns(d.conns)}: ${cap(d.finding.sentence)}`);
  for (const d of warnings) out.push(`${failures.length === 0 ? "Diagnosis" : "Also"}${conns(d.conns)}: ${cap(d.finding.sentence)}`);
  for (const d of notes) out.push(`Note${conns(d.conns)}: ${cap(d.finding.sentence)}`);
  return out.join("\n") + "\n";
}

function formatConversation(x: Explanation, c: Conversation): string[] {
  const out: string[] = [];
  const via = c.director ? `, balanced by ${c.director} (${c.method}) to ${c.server ?? "?"}${c.serverAddr ? " " + c.serverAddr : ""}` : c.server ? `, answered by ${c.server}` : "";
  out.push(`Connection ${c.id}: ${c.proto} ${c.clientAddr} (${c.client}) -> ${c.target}${via}`);
  out.push(...arpLines(x, c));
  let n = 0;
  for (const s of c.stories) out.push(...formatStory(x, s, ++n));
  const fs = c.findings.filter((f) => f.severity !== "info");
  out.push(`  => ${c.answered ? "answered" : "not answered"}${fs.length ? ": " + fs.map((f) => f.sentence).join(" ") : "."}`);
  out.push("");
  return out;
}

/** The ARP that the connection's hosts sent while it ran, about its addresses. */
export function arpOf(x: Explanation, c: Conversation) {
  const ts = c.stories.flatMap((s) => s.passages.map((p) => p.t));
  const t0 = Math.min(...ts);
  const t1 = Math.max(...ts);
  const addrs = new Set<number>();
  const add = (q: Pkt | undefined): void => {
    for (let p = q; p; p = p.inner ?? p.icmp?.quoted) {
      addrs.add(p.src);
      addrs.add(p.dst);
    }
  };
  for (const s of c.stories) {
    for (const p of s.passages) {
      add(p.inPkt);
      for (const o of p.outs) add(o.pkt);
      if (p.origin?.route?.via) addrs.add(parseIp4(p.origin.route.via) ?? 0);
    }
  }
  return x.book.arp.filter((a) => a.dir === "tx" && a.t >= t0 && a.t <= t1 && (addrs.has(a.tpa) || addrs.has(a.spa)));
}


function arpLines(x: Explanation, c: Conversation): string[] {
  const l = arpOf(x, c);
  if (l.length === 0) return [];
  const hw = Math.max(8, ...l.map((a) => a.host.length));
  const out = ["  ARP:"];
  for (const a of l) {
    const what = a.op === 1
      ? `${a.host} asked "who-has ${formatIp4(a.tpa)} tell ${formatIp4(a.spa)}" on ${a.ifname}${a.ethDst === 0xffffffffffff ? " (broadcast)" : ` (to ${formatMac(a.ethDst)})`}`
      : `${a.host} answered "${formatIp4(a.spa)} is-at ${formatMac(a.sha)}" to ${nicName(x.view, a.ethDst)}`;
    out.push(`     ${clock(x.epochUs, a.t)}  ${a.host.padEnd(hw)}  ${what.slice(a.host.length + 1)}`);
  }
  return out;
}

function formatStory(x: Explanation, s: Story, n: number): string[] {
  const out: string[] = [];
  const first = s.first;
  out.push(`  ${n}. ${first ? pktLine(first) : "(undecodable packet)"}`);
  const hw = Math.max(...s.passages.map((p) => p.host.length), 8);
  for (const p of s.passages) {
    const head = `     ${clock(x.epochUs, p.t)}  ${p.host.padEnd(hw)}  `;
    const pad = " ".repeat(head.length + 2);
    const lines = passageLines(x, p);
    out.push(head + lines[0]!);
    for (const l of lines.slice(1)) out.push(pad + l);
  }
  return out;
}

function passageLines(x: Explanation, p: Passage): string[] {
  const lines: string[] = [];
  const outIfs = [...new Set(p.outs.map((o) => o.ifname))].join(", ");
  const toMac = p.outs.map((o) => `${formatMac(o.eth.dst)} (${nicName(x.view, o.eth.dst)})`);
  if (p.origin) {
    const r = p.origin.route;
    const route = r ? ` (route ${r.route}${r.via ? " via " + r.via : ""} dev ${r.dev})` : "";
    lines.push(p.outs.length ? `sent on ${outIfs}${route} to ${[...new Set(toMac)].join(", ")}` : `made it${route}, but did not send it`);
  } else if (p.fate === "ignored") {
    lines.push(`saw it on ${p.inIf} (promiscuous): addressed to ${p.inEth ? formatMac(p.inEth.dst) : "?"} (${p.inEth ? nicName(x.view, p.inEth.dst) : "?"}), not to this NIC; ignored`);
    return lines;
  } else {
    const what =
      p.fate === "delivered" ? "delivered it to TCP"
      : p.fate === "dropped" ? (explainDrop(p.dropReason ?? "").rule === "no-socket" ? "rejected it" : "dropped it")
      : p.outs.length ? `sent it on ${outIfs} to ${[...new Set(toMac)].join(", ")}`
      : p.fate === "consumed" ? "handled it"
      : "took it in";
    lines.push(`received on ${p.inIf}, ${what}`);
  }
  for (const nt of p.notes) {
    if (nt.kind === "ipvs") lines.push(`IPVS: ${nt.text}`);
    else if (nt.kind === "decap") lines.push(`${/received on (\S+)$/.exec(nt.text)?.[1] ?? "tunl0"}: ${nt.text}`);
    else if (nt.kind === "note") lines.push(nt.text);
    else if (nt.kind === "icmp") lines.push(nt.text);
  }
  for (const ch of hostDiff(p)) lines.push(`changed ${changeText(ch)}`);
  if (p.fate === "dropped") {
    const r = explainDrop(p.dropReason ?? "");
    lines.push(`why: ${r.plain} [${r.rule}]`);
  }
  return lines;
}

/** The same facts as a JSON value (for tools). */
export function explanationJson(x: Explanation, opts: FormatOptions = {}): unknown {
  const sel = selectConversations(x, opts);
  if (typeof sel === "string") throw new Error(sel);
  const pj = (q: Pkt | undefined) => (q ? pktLine(q) : undefined);
  return {
    lab: x.lab,
    seed: x.seed,
    summary: x.summary,
    diagnosis: x.diagnosis.map((d) => ({ ...d.finding, connections: d.conns })),
    connections: opts.brief ? undefined : sel.map((c) => ({
      id: c.id,
      proto: c.proto,
      client: c.client,
      clientAddr: c.clientAddr,
      target: c.target,
      director: c.director,
      method: c.method,
      server: c.server,
      serverAddr: c.serverAddr,
      answered: c.answered,
      findings: c.findings,
      packets: c.stories.map((s) => ({
        packet: pj(s.first),
        hops: s.passages.map((p) => ({
          time: clock(x.epochUs, p.t),
          host: p.host,
          in: p.inIf,
          out: [...new Set(p.outs.map((o) => o.ifname))],
          fate: p.origin ? "sent" : p.fate ?? "received",
          route: p.origin?.route,
          notes: p.notes.map((n) => n.text),
          changes: hostDiff(p),
          drop: p.fate === "dropped" ? { reason: p.dropReason, ...explainDrop(p.dropReason ?? "") } : undefined,
        })),
      })),
    })),
  };
}
