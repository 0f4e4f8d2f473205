/**
 * What happened to each conversation, and why: who the client talked to, which director
 * balanced it to which real server by which method, whether the client got its answer, and
 * when it did not (or got it the wrong way), the one cause in a sentence. Everything here is
 * computed from the packet stories and the hosts' configuration, never from a lab's name.
 */
import { formatIp4, formatMac, parseIp4, readProxyHeader, ICMP_REDIRECT, TCP_ACK, TCP_RST, TCP_SYN, type Ip4, type Mac } from "../wire/index.js";
import { diffPkts, ipPort, payloadPkt, pktName, type Change, type Pkt } from "./packet.js";
import { explainDrop } from "./rules.js";
import type { ArpEvent, Passage, Story, StoryBook } from "./stories.js";

export interface NicView {
  readonly host: string;
  readonly name: string;
  readonly mac: Mac;
  readonly addrs: readonly Ip4[];
  readonly segmentType?: string;
  readonly segment?: string;
}

/** The lab as explain sees it (at the end of the run). */
export interface LabView {
  readonly nics: readonly NicView[];
  /** Hosts with an IPVS engine. */
  readonly directors: ReadonlySet<string>;
  /** The effective value of a per-device sysctl (the larger of conf/all and conf/DEV). */
  conf(host: string, dev: string, key: string): number;
  /** Whether a host has the toa module loaded (its sockets report the TOA address as the peer). */
  toa(host: string): boolean;
}

export type Method = "NAT" | "DR" | "TUN" | "FullNAT" | "local";

export type Severity = "failure" | "warning" | "info";

export interface Finding {
  readonly severity: Severity;
  /** A stable name for tools and tests: wrong-source, dropped, no-answer, bypass, redirect, overheard, icmp-error. */
  readonly kind: string;
  /** The host whose behaviour the finding is about. */
  readonly host: string;
  readonly sentence: string;
}

export interface Conversation {
  readonly id: number;
  readonly proto: string;
  readonly stories: Story[];
  readonly client: string;
  readonly clientAddr: string;
  readonly target: string;
  readonly director?: string;
  readonly method?: Method;
  readonly server?: string;
  readonly serverAddr?: string;
  /** The client got its answer from the address it talked to. */
  readonly answered: boolean;
  readonly findings: Finding[];
}

export function macOwner(view: LabView, mac: Mac): NicView | undefined {
  return view.nics.find((n) => n.mac === mac && n.name !== "lo");
}

export function addrOwners(view: LabView, a: Ip4): NicView[] {
  return view.nics.filter((n) => n.addrs.includes(a));
}

function hostOfAddr(view: LabView, a: Ip4): string | undefined {
  const o = addrOwners(view, a);
  return o.length === 1 ? o[0]!.host : undefined;
}

const originOf = (s: Story): Passage | undefined => (s.passages[0]?.origin ? s.passages[0] : undefined);
const isSyn = (p: Pkt | undefined): boolean => !!p?.tcp && (p.tcp.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
const isSynAck = (p: Pkt | undefined): boolean => !!p?.tcp && (p.tcp.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);

/** The packet as the last host had it (after decapsulation, NAT): what it was delivered as. */
function finalPkt(p: Passage): Pkt | undefined {
  return p.cur ?? p.inPkt;
}

/** How a director changed a packet it balanced. */
export function methodOf(p: Passage): Method | undefined {
  if (!p.inPkt) return undefined;
  if (p.fate === "delivered") return "local";
  const out = p.outs[0]?.pkt ?? p.cur;
  if (!out) return undefined;
  const a = payloadPkt(p.inPkt);
  if (out.inner && !p.inPkt.inner) return "TUN";
  const b = payloadPkt(out);
  if (a.dst !== b.dst || a.dport !== b.dport) return a.src !== b.src || a.sport !== b.sport ? "FullNAT" : "NAT";
  return "DR";
}

export function analyse(book: StoryBook, view: LabView): Conversation[] {
  const byConv = new Map<number, Story[]>();
  for (const s of book.stories) {
    if (s.conv === undefined || s.passages.length === 0) continue;
    let l = byConv.get(s.conv);
    if (!l) byConv.set(s.conv, (l = []));
    l.push(s);
  }
  const convs: Conversation[] = [];
  for (const stories of byConv.values()) {
    const c = analyseOne(convs.length + 1, stories, book, view);
    if (c) convs.push(c);
  }
  return convs;
}

function analyseOne(id: number, stories: Story[], book: StoryBook, view: LabView): Conversation | undefined {
  const first = stories[0]!;
  const f = first.first ? payloadPkt(first.first) : undefined;
  if (!f) return undefined;
  const client = first.passages[0]!.host;
  const proto = f.tcp ? "TCP" : f.sport !== undefined ? "UDP" : "ICMP";
  const targetIp = f.dst;
  const target = ipPort(f.dst, f.dport);
  const clientAddr = ipPort(f.src, f.sport);
  const fromClient = stories.filter((s) => s.passages[0]!.host === client && originOf(s));
  // The director: a host whose IPVS balanced one of the client's packets.
  let director: string | undefined;
  let method: Method | undefined;
  let server: string | undefined;
  let serverAddr: string | undefined;
  for (const s of fromClient) {
    for (const p of s.passages) {
      if (!director && p.notes.some((n) => n.kind === "ipvs")) {
        director = p.host;
        method = methodOf(p);
      }
      if (!server && p.host !== client && p.fate === "delivered" && (isSyn(s.first) || !f.tcp)) {
        server = p.host;
        const fp = finalPkt(p);
        if (fp) {
          // DR and TUN deliver to the VIP the real server also holds: name its own address.
          const q = payloadPkt(fp);
          const nic = view.nics.find((n) => n.host === p.host && n.name === p.inIf);
          const own = nic && !nic.addrs.includes(q.dst) && nic.addrs[0] !== undefined ? nic.addrs[0] : q.dst;
          serverAddr = ipPort(own, q.dport);
        }
      }
    }
  }
  if (!server && director) {
    // Nothing took the packet in (it was dropped): name the real server the director chose.
    const p = fromClient.flatMap((s) => s.passages).find((x) => x.host === director && x.outs.length > 0);
    const o = p?.outs[0];
    const owner = o && macOwner(view, o.eth.dst);
    if (o && owner) {
      server = owner.host;
      const q = payloadPkt(o.pkt);
      serverAddr = ipPort(o.pkt.inner ? o.pkt.dst : owner.addrs.includes(q.dst) ? q.dst : owner.addrs[0] ?? q.dst, q.dport);
    }
  }
  // What reached the client.
  const atClient = (s: Story): Passage | undefined => s.passages.find((p) => p.host === client && !p.origin && p.fate !== "ignored");
  const isAnswer = (p: Pkt): boolean => formatIp4(p.src) === formatIp4(targetIp) && p.sport === f.dport;
  let answered = false;
  let repliedData = false;
  for (const s of stories) {
    const p = atClient(s);
    const q = p && finalPkt(p);
    if (p && q && !q.icmp && isAnswer(payloadPkt(q)) && p.fate !== "dropped" && !((q.tcp?.flags ?? 0) & TCP_RST)) {
      answered = true;
      if ((q.tcp?.dataLen ?? 0) > 0) repliedData = true;
    }
  }
  // The client sent data (a request) and the server closed without a byte back: no answer either.
  const sentData = fromClient.reduce((n, s) => n + (s.first?.tcp ? payloadPkt(s.first).tcp!.dataLen : 0), 0);
  const emptyReply = answered && !!f.tcp && sentData > 0 && !repliedData;
  if (emptyReply) answered = false;
  const findings: Finding[] = [];
  const conv = { id, proto, stories, client, clientAddr, target, director, method, server, serverAddr, answered, findings };

  // The client got a reply from an address it never talked to, and rejected it.
  for (const s of stories) {
    const p = atClient(s);
    const q = p && finalPkt(p);
    if (!p || !q || q.icmp || !q.tcp || isAnswer(q) || q.tcp.flags & TCP_RST) continue;
    if (p.fate !== "dropped" || explainDrop(p.dropReason ?? "").rule !== "no-socket") continue;
    findings.push(wrongSource(conv, s, q, view));
    break;
  }
  // Packets of the conversation dropped on the way (not the client's own rejection above).
  let icmpTold = false;
  if (findings.length === 0) {
    for (const s of stories) {
      if (s.first?.icmp) continue; // an ICMP error is told with the packet it is about
      const d = s.passages.find((p) => p.fate === "dropped" && !(p.host === client && explainDrop(p.dropReason ?? "").rule === "no-socket"));
      if (!d || (d.host !== client && explainDrop(d.dropReason ?? "").rule === "no-socket" && !isSyn(s.first))) continue;
      const f = dropped(conv, s, d, stories, fromClient);
      icmpTold = f.icmpTold;
      findings.push(f.finding);
      break;
    }
  }
  // ICMP errors the client received about its own packets.
  for (const s of icmpTold ? [] : stories) {
    const p = atClient(s);
    const q = p && finalPkt(p);
    if (!p || !q?.icmp || q.icmp.type === ICMP_REDIRECT || !q.icmp.quoted) continue;
    findings.push({
      severity: answered ? "warning" : "failure",
      kind: "icmp-error",
      host: s.passages[0]!.host,
      sentence: `${s.passages[0]!.host} sent the client an ${pktName(q)} about its packet to ${ipPort(q.icmp.quoted.dst, q.icmp.quoted.dport)}.`,
    });
    break;
  }
  if (emptyReply && !findings.some((x) => x.severity === "failure")) {
    findings.push({
      severity: "failure",
      kind: "empty-reply",
      host: server ?? client,
      sentence: `${server ?? "the server"} accepted the connection to ${target} but closed it without answering the ${sentData} bytes the client sent.`,
    });
  }
  if (!answered && !findings.some((x) => x.severity === "failure") && f.tcp) findings.push(noAnswer(conv, fromClient));
  // The director bypassed: the client's packets for the service went straight to a real server.
  const by = bypass(conv, fromClient, book, view);
  if (by) findings.push(by);
  // ICMP redirects sent about this conversation's packets.
  const red = redirects(stories, view);
  if (red) findings.push(red);
  const hidden = clientHidden(conv, fromClient, view);
  if (hidden) findings.push(hidden);
  const heard = overheard(stories, view);
  if (heard) findings.push(heard);
  return conv;
}

function routeText(route: Readonly<Record<string, string>> | undefined, view: LabView, dst: Ip4): string {
  if (!route) return "";
  const via = route.via ? ` via ${route.via}` : "";
  const gwHost = route.via ? hostOfAddr(view, parseIp4(route.via) ?? 0) : undefined;
  if (route.route === "default" && route.via) return `to its default gateway ${route.via}${gwHost ? ` (${gwHost})` : ""}`;
  if (route.via) return `to its gateway ${route.via}${gwHost ? ` (${gwHost})` : ""} for ${route.route}`;
  return `straight to ${formatIp4(dst)}, which is on its own network ${route.route ?? ""}${via}`.trimEnd();
}

/** "the director", or "the director NAME" when the host has another name. */
export function theDirector(host: string): string {
  return host === "director" ? "the director" : `the director ${host}`;
}

/** "the client", or "the client NAME" when the host has another name. */
export function theClient(host: string): string {
  return host === "client" ? "the client" : `the client ${host}`;
}


function wrongSource(c: { client: string; target: string; director?: string; server?: string }, s: Story, q: Pkt, view: LabView): Finding {
  const origin = s.passages[0]!;
  const sender = origin.host;
  const name = pktName(q);
  const how = routeText(origin.origin?.route, view, q.dst);
  const past = c.director ? `not back through ${theDirector(c.director)}` : "not through the host the client talked to";
  const sentence =
    `${sender} sent its ${name} ${how ? how + ", " : ""}${past}, so its source stayed ${ipPort(q.src, q.sport)}` +
    ` instead of ${c.target}; ${theClient(c.client)} had sent its SYN to ${c.target}, did not recognise the reply and answered it with a RST.`;
  return { severity: "failure", kind: "wrong-source", host: sender, sentence };
}

function dropped(
  c: { client: string; target: string; server?: string; answered: boolean },
  s: Story,
  d: Passage,
  stories: Story[],
  fromClient: Story[],
): { finding: Finding; icmpTold: boolean } {
  const rule = explainDrop(d.dropReason ?? "");
  const first = s.first ? payloadPkt(s.first) : undefined;
  if (rule.rule === "no-socket" && isSyn(first) && d.host !== c.client) {
    const at = d.cur ?? d.inPkt;
    const dst = at ? ipPort(payloadPkt(at).dst, payloadPkt(at).dport) : "that port";
    return {
      finding: {
        severity: "failure", kind: "refused", host: d.host,
        sentence: `${d.host} has nothing listening on ${dst}: it answered the client's SYN with a RST, so the client's connection to ${c.target} was refused.`,
      },
      icmpTold: false,
    };
  }
  const whose = s.passages[0]!.host === c.client ? "the client's" : `${s.passages[0]!.host}'s`;
  const what = first ? `${whose} ${pktName(first)}` : "a packet";
  const dn = d.notes.find((n) => n.kind === "decap");
  const decap = dn ? ` after taking it out of the ${/^(GRE|GUE|FOU)\b/.exec(dn.text)?.[1] ?? "IPIP"} tunnel` : "";
  // The ICMP error the dropping host sent about it: did it reach the client?
  const icmp = stories.find((x) => x.first?.icmp?.quoted && x.passages[0]!.host === d.host && x.passages[0]!.t >= d.t);
  let consequence = "";
  let icmpTold = false;
  if (icmp) {
    const lost = icmp.passages.find((p) => p.fate === "dropped");
    const name = pktName(icmp.first!);
    if (lost) {
      const why = explainDrop(lost.dropReason ?? "").plain;
      const again = first?.tcp ? `, so the client kept resending the same ${first.totalLen}-byte packet` : "";
      consequence = `; but the ${name} never reached the client: ${lost.host} dropped it because ${why}${again}` +
        (c.answered ? "" : `${again ? " and" : ", so"} the connection to ${c.target} timed out`) +
        (icmp.first!.icmp!.type === 3 && icmp.first!.icmp!.code === 4 ? " (a path-MTU black hole)" : "");
      icmpTold = true;
    } else if (icmp.passages.some((p) => p.host === c.client && !p.origin && p.fate !== "ignored")) {
      const after = fromClient.filter((x) => x.passages[0]!.t > icmp.passages[0]!.t && (x.first?.tcp?.dataLen ?? 0) > 0);
      const biggest = Math.max(0, ...after.map((x) => x.first!.totalLen));
      consequence = c.answered && biggest > 0
        ? `; the client took the ${name}, sent the data again in packets of at most ${biggest} bytes, and got its answer`
        : `; the client got the ${name}`;
      icmpTold = true;
    }
  }
  if (!consequence && !c.answered) consequence = isSyn(first) ? `; nothing answered, so the client's connection to ${c.target} timed out` : "; the client got no answer";
  return {
    finding: { severity: c.answered ? "warning" : "failure", kind: "dropped", host: d.host, sentence: `${d.host} dropped ${what}${decap}: ${rule.plain}${consequence}.` },
    icmpTold,
  };
}

function noAnswer(c: { client: string; target: string; server?: string; director?: string }, fromClient: Story[]): Finding {
  const syn = fromClient.find((s) => isSyn(s.first));
  const lastP = syn?.passages.filter((p) => p.fate !== "ignored").at(-1);
  const where = !lastP ? "" : lastP.host === c.client ? `; it never left ${c.client}` : `; it was last seen at ${lastP.host} (${lastP.fate ?? "received"})`;
  return {
    severity: "failure",
    kind: "no-answer",
    host: lastP?.host ?? c.client,
    sentence: `the client's SYN to ${c.target} got no answer${where}.`,
  };
}

/** The client's packets for the target that a non-director holding the same address received first. */
function bypass(c: { client: string; target: string; director?: string }, fromClient: Story[], book: StoryBook, view: LabView): Finding | undefined {
  if (view.directors.size === 0) return undefined;
  for (const s of fromClient) {
    const out = s.passages[0]!.outs[0];
    const recv = s.passages.find((p) => p.host !== c.client && p.fate !== "ignored" && !p.origin);
    if (!out || !recv || view.directors.has(recv.host)) continue;
    const dst = payloadPkt(out.pkt).dst;
    const holders = addrOwners(view, dst);
    if (!holders.some((h) => view.directors.has(h.host)) || !holders.some((h) => h.host === recv.host)) continue;
    const mac = out.eth.dst;
    const owner = macOwner(view, mac);
    const who = owner?.host ?? recv.host;
    const why = arpWhy(book, view, c.client, out.ifname, dst, mac, out.t);
    const dirs = [...view.directors].filter((d) => holders.some((h) => h.host === d)).join(", ");
    return {
      severity: "warning",
      kind: "bypass",
      host: who,
      sentence:
        `the client sent its ${pktName(out.pkt)} for the VIP ${formatIp4(dst)} straight to ${who}'s MAC ${formatMac(mac)}, ` +
        `so ${theDirector(dirs)} ${c.director ? "saw only the start of this connection" : "never saw it and balanced nothing"}${why ? ": " + why : ""}.`,
    };
  }
  return undefined;
}

/** Why `host` had `mac` for `ip`: the last ARP message it received that said so. */
function arpWhy(book: StoryBook, view: LabView, host: string, ifname: string, ip: Ip4, mac: Mac, before: number): string {
  const heard = book.arp.filter((a) => a.host === host && a.ifname === ifname && a.dir === "rx" && a.spa === ip && a.t <= before);
  const last = [...heard].reverse().find((a) => a.sha === mac);
  if (!last) return "";
  const sender = macOwner(view, mac);
  const who = sender?.host ?? formatMac(mac);
  const dev = sender?.name ?? "eth0";
  if (last.op === 2) {
    // Replies to the same request: those heard within a second of this one.
    const answers = heard.filter((a) => a.op === 2 && Math.abs(a.t - last.t) < 1_000_000);
    const firstAnswer = answers[0];
    const names = answers.map((a) => macOwner(view, a.sha)?.host ?? formatMac(a.sha));
    const note = [...book.arpNotes].reverse().find((n) => n.host === who && n.t <= last.t && n.facts.arp === "reply" && n.facts.tpa === formatIp4(ip));
    const ign = note?.facts.arp_ignore ?? (sender ? String(view.conf(sender.host, dev, "arp_ignore")) : "?");
    const cause = `${who} holds ${formatIp4(ip)} too and answers ARP for it (arp_ignore=${ign} on ${dev})`;
    if (answers.length > 1 && firstAnswer?.sha === mac) {
      return `${cause}; ${answers.length} hosts answered the client's "who-has ${formatIp4(ip)}" (${names.join(", ")}) and the client kept the first answer, ${who}'s`;
    }
    return `${cause}, and the client kept its answer to "who-has ${formatIp4(ip)}"`;
  }
  const note = [...book.arpNotes].reverse().find((n) => n.host === who && n.t <= last.t && n.facts.arp === "request" && n.facts.spa === formatIp4(ip));
  const ann = note?.facts.arp_announce ?? (sender ? String(view.conf(sender.host, dev, "arp_announce")) : "?");
  return (
    `${who}'s own ARP request "who-has ${formatIp4(last.tpa)} tell ${formatIp4(ip)}" used the VIP as its sender address ` +
    `(arp_announce=${ann} on ${dev}), and the client took that as the VIP's new MAC`
  );
}

function redirects(stories: Story[], view: LabView): Finding | undefined {
  for (const s of stories) {
    const first = s.first;
    if (!first?.icmp || first.icmp.type !== ICMP_REDIRECT) continue;
    const from = s.passages[0]!.host;
    const to = s.passages.find((p) => p.host !== from && p.fate !== "ignored");
    const q = first.icmp.quoted;
    const about = q ? formatIp4(q.dst) : "?";
    const out = s.passages[0]!.outs[0]?.ifname ?? "eth0";
    const said = stories.flatMap((x) => x.passages).filter((p) => p.host === from && p.t <= s.passages[0]!.t)
      .flatMap((p) => p.notes).filter((n) => n.facts?.redirect === "sent").at(-1);
    const sr = said?.facts?.send_redirects ?? String(view.conf(from, out, "send_redirects"));
    const handled = to?.notes.find((n) => n.kind === "icmp");
    const result = !to
      ? ""
      : handled?.facts?.redirect === "accepted"
        ? `; ${to.host} took it and now sends to ${about} via ${formatIp4(first.icmp.rest)}`
        : handled
          ? `; ${to.host} ignored it because ${handled.text.replace(/^ICMP redirect ignored: /, "")}`
          : "";
    return {
      severity: "warning",
      kind: "redirect",
      host: from,
      sentence:
        `${from} forwarded ${to?.host ?? "a host"}'s ${q ? pktName(q) : "packet"} for ${about} out of ${out}, the interface it came in on, ` +
        `so it sent an ICMP redirect (send_redirects=${sr}) saying "use ${formatIp4(first.icmp.rest)} for ${about}"${result}.`,
    };
  }
  return undefined;
}

/** FullNAT: the real server sees the director's local address; a TOA option may carry the client's. */
function clientHidden(
  c: { client: string; director?: string; method?: Method; server?: string },
  fromClient: Story[],
  view: LabView,
): Finding | undefined {
  if (c.method !== "FullNAT" || !c.server || !c.director) return undefined;
  for (const s of fromClient) {
    const at = s.passages.find((p) => p.host === c.server && p.fate === "delivered");
    const q = at && finalPkt(at);
    if (!q || !s.first) continue;
    const orig = payloadPkt(s.first);
    const seen = payloadPkt(q);
    const toa = [...s.passages].flatMap((p) => [p.cur, ...p.outs.map((o) => o.pkt)]).concat(q)
      .flatMap((x) => (x ? payloadPkt(x).tcp?.options ?? [] : [])).find((o) => o.kind === "toa");
    const swap = `${c.director} replaced the client's address ${formatIp4(orig.src)} with its local address ${formatIp4(seen.src)} (FullNAT)`;
    // A PROXY protocol header at the start of the client's data names the client to a server that reads it.
    for (const d of fromClient) {
      const head = d.first && payloadPkt(d.first).tcp?.head;
      const r = head && readProxyHeader(head);
      if (!r || !r.ok || !r.addrs) continue;
      return {
        severity: "info", kind: "proxy-protocol", host: c.server,
        sentence: `${swap}, so ${c.server}'s socket sees ${formatIp4(seen.src)} as the peer; but the client's data starts with a PROXY protocol v${r.version} header ` +
          `naming ${r.addrs.srcAddr}, which a server listening with proxy_protocol (nginx's $proxy_protocol_addr) reads instead.`,
      };
    }
    // The director itself may put the header in front of the client's first data (DPVS's
    // --proxy-protocol): it is in what the server got, not in what the client sent.
    for (const d of fromClient) {
      const got = d.passages.find((p) => p.host === c.server && p.fate === "delivered");
      const gq = got && finalPkt(got);
      const head = gq && payloadPkt(gq).tcp?.head;
      const r = head && readProxyHeader(head);
      if (!r || !r.ok || !r.addrs) continue;
      return {
        severity: "info", kind: "proxy-protocol", host: c.server,
        sentence: `${swap}, so ${c.server}'s socket sees ${formatIp4(seen.src)} as the peer; but ${c.director} put a PROXY protocol v${r.version} header ` +
          `naming ${r.addrs.srcAddr} in front of the client's data (--proxy-protocol), which a server listening with proxy_protocol (nginx's $proxy_protocol_addr) reads instead.`,
      };
    }
    if (toa && toa.kind === "toa") {
      const carried = `and carried ${formatIp4(toa.addr)} in a TOA option (TCP option 254)`;
      return view.toa(c.server)
        ? { severity: "info", kind: "toa", host: c.server, sentence: `${swap} ${carried}; ${c.server} has the toa module loaded, so its applications see the client ${formatIp4(toa.addr)} as the peer.` }
        : {
            severity: "warning", kind: "client-hidden", host: c.server,
            sentence: `${swap} ${carried}, but ${c.server} has no toa module (modprobe toa), so its applications see ${formatIp4(seen.src)} as the peer, not the client.`,
          };
    }
    return {
      severity: "warning", kind: "client-hidden", host: c.server,
      sentence: `${swap}, so ${c.server} and its applications (nginx's access log) see ${formatIp4(seen.src)} as the peer, never the client; the director adds no TOA option to carry it.`,
    };
  }
  return undefined;
}

function overheard(stories: Story[], view: LabView): Finding | undefined {
  for (const s of stories) {
    for (const p of s.passages) {
      if (p.fate !== "ignored" || !p.inEth || !p.inIf) continue;
      const nic = view.nics.find((n) => n.host === p.host && n.name === p.inIf);
      const dst = macOwner(view, p.inEth.dst);
      const medium =
        nic?.segmentType === "hub"
          ? `${nic.segment ?? "its segment"} is a hub, which repeats every frame to every port`
          : `the switch${nic?.segment ? " " + nic.segment : ""} flooded it (it had not learnt where ${formatMac(p.inEth.dst)} is)`;
      return {
        severity: "info",
        kind: "overheard",
        host: p.host,
        sentence:
          `${p.host}'s ${p.inIf} also saw frames addressed to ${dst ? `${dst.host}'s MAC` : "the MAC"} ${formatMac(p.inEth.dst)}: ${medium}; ` +
          `its stack ignored them, but a capture in promiscuous mode shows them.`,
      };
    }
  }
  return undefined;
}

/**
 * The diff each host made: what came in against what went out (MACs included), or, for a
 * packet it kept, against what it finally delivered (an IPIP header taken off).
 */
export function hostDiff(p: Passage): Change[] {
  if (!p.inPkt || p.origin) return [];
  const out = p.outs[0];
  if (out) return diffPkts(p.inPkt, out.pkt, p.inEth, out.eth);
  return p.cur ? diffPkts(p.inPkt, p.cur) : [];
}
