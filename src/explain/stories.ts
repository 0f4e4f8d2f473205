/**
 * From a recorded trace to packet stories. A story is one packet's journey: the host that
 * sent it, then every host that received it, with what each one did to it (forwarded,
 * rewrote by IPVS or MASQUERADE, took it out of a tunnel, delivered, dropped, or only saw
 * it because its NIC is promiscuous). The packet is followed by its exact bytes: a frame
 * sent on a wire is the frame the receivers get; inside a host, the trace events that
 * change a packet name the bytes they were given (`before`) and the bytes they made.
 * Stories are grouped into conversations (a TCP connection, both directions, on both
 * sides of a NAT) by the endpoints their packets carried at any hop.
 */
import type { Micros } from "../sim/clock.js";
import type { TraceEvent } from "../net/trace.js";
import { ETHERTYPE_ARP, parseArp, type Ip4, type Mac } from "../wire/index.js";
import { bytesKey, convKey, decodeEth, decodeIp, frameIp, trimIp, type EthInfo, type Pkt } from "./packet.js";

export type Fate = "sent" | "delivered" | "dropped" | "ignored" | "consumed";

/** What one host did with one packet. */
export interface Passage {
  readonly host: string;
  readonly t: Micros;
  /** Set for the host that made the packet. */
  origin?: { route?: Readonly<Record<string, string>> };
  inIf?: string;
  inEth?: EthInfo;
  /** The packet as received (or as first sent, at its origin). */
  inPkt?: Pkt;
  outs: { t: Micros; ifname: string; eth: EthInfo; pkt: Pkt }[];
  /** IPVS, MASQUERADE, decapsulation, redirect handling: what the host said it did. */
  notes: { kind: string; text: string; pkt?: Pkt; facts?: Readonly<Record<string, string>> }[];
  fate?: Fate;
  dropReason?: string;
  /** The packet's state after the host's last change (before it was sent or delivered). */
  cur?: Pkt;
}

export interface Story {
  readonly id: number;
  readonly passages: Passage[];
  /** The packet as its origin made it. */
  first?: Pkt;
  conv?: number;
}

export interface ArpEvent {
  readonly t: Micros;
  readonly host: string;
  readonly ifname: string;
  readonly dir: "rx" | "tx";
  readonly op: number;
  readonly sha: Mac;
  readonly spa: Ip4;
  readonly tpa: Ip4;
  readonly ethDst: Mac;
}

export interface HostDrop {
  readonly t: Micros;
  readonly host: string;
  readonly reason: string;
}

export interface StoryBook {
  readonly stories: Story[];
  readonly arp: ArpEvent[];
  /** Drops that belong to no story (e.g. "no route" before a packet was made). */
  readonly looseDrops: HostDrop[];
  /** What hosts said about the ARP they sent (the arp_ignore / arp_announce in force). */
  readonly arpNotes: ArpNote[];
}

export interface ArpNote {
  readonly t: Micros;
  readonly host: string;
  readonly ifname: string;
  readonly facts: Readonly<Record<string, string>>;
}

interface Holder {
  story: Story;
  passage: Passage;
}

/** `macOf(host, ifname)`: the MAC of a NIC, to tell frames for it from frames it only overheard. */
export function buildStories(events: readonly TraceEvent[], macOf: (host: string, ifname: string) => Mac | undefined): StoryBook {
  const stories: Story[] = [];
  const arp: ArpEvent[] = [];
  const looseDrops: HostDrop[] = [];
  const arpNotes: ArpNote[] = [];
  const pending = new Map<string, Map<string, Holder>>();
  const inflight = new Map<string, { t: Micros; h: Holder }[]>();
  const last = new Map<string, { t: Micros; h: Holder }>();

  const hostPending = (host: string): Map<string, Holder> => {
    let m = pending.get(host);
    if (!m) pending.set(host, (m = new Map()));
    return m;
  };
  const newStory = (): Story => {
    const s: Story = { id: stories.length + 1, passages: [] };
    stories.push(s);
    return s;
  };
  const touch = (host: string, t: Micros, h: Holder): Holder => {
    last.set(host, { t, h });
    return h;
  };
  /** The story a host event is about: by the exact bytes it names, else the host's latest packet at this instant. */
  const find = (e: TraceEvent, bytes: Uint8Array | undefined): Holder | undefined => {
    if (bytes) {
      const h = pending.get(e.host)?.get(bytesKey(trimIp(bytes)));
      if (h) return touch(e.host, e.t, h);
    }
    const l = last.get(e.host);
    return l && l.t === e.t ? l.h : undefined;
  };

  for (const e of events) {
    if ((e.kind === "rx" || e.kind === "tx") && e.bytes && e.ifname) {
      const frame = e.bytes;
      if (frame.length < 14) continue;
      const eth = decodeEth(frame);
      if (eth.type === ETHERTYPE_ARP) {
        const r = parseArp(frame.subarray(14));
        if (r.ok) arp.push({ t: e.t, host: e.host, ifname: e.ifname, dir: e.kind, op: r.value.op, sha: r.value.sha, spa: r.value.spa, tpa: r.value.tpa, ethDst: eth.dst });
        continue;
      }
      const ip = frameIp(frame);
      if (!ip) continue;
      const pkt = decodeIp(ip);
      if (!pkt) continue;
      const fkey = bytesKey(frame.subarray(0, 14)) + bytesKey(ip);
      if (e.kind === "tx") {
        let h = hostPending(e.host).get(bytesKey(ip));
        if (!h) {
          // Made here without an IPv4 output route (e.g. an ICMP error IPVS sends): a new story.
          const story = newStory();
          story.first = pkt;
          const passage: Passage = { host: e.host, t: e.t, origin: {}, inPkt: pkt, outs: [], notes: [] };
          story.passages.push(passage);
          h = { story, passage };
        }
        touch(e.host, e.t, h);
        h.passage.outs.push({ t: e.t, ifname: e.ifname, eth, pkt });
        h.passage.fate ??= "sent";
        let l = inflight.get(fkey);
        if (!l) inflight.set(fkey, (l = []));
        l.push({ t: e.t, h });
      } else {
        const cands = inflight.get(fkey);
        let from: Holder | undefined;
        if (cands) for (const c of cands) if (c.t <= e.t) from = c.h;
        const story = from?.story ?? newStory();
        story.first ??= pkt;
        const passage: Passage = { host: e.host, t: e.t, inIf: e.ifname, inEth: eth, inPkt: pkt, outs: [], notes: [] };
        story.passages.push(passage);
        const mine = macOf(e.host, e.ifname);
        const forMe = e.ifname === "lo" || eth.dst === mine || (eth.dst & 0x010000000000) !== 0;
        if (!forMe) passage.fate = "ignored";
        else {
          const h = { story, passage };
          hostPending(e.host).set(bytesKey(ip), h);
          touch(e.host, e.t, h);
        }
      }
      continue;
    }
    if (e.kind === "note" && e.facts?.route !== undefined && e.bytes) {
      // A locally made packet and the route it takes.
      const story = newStory();
      const pkt = decodeIp(e.bytes);
      story.first = pkt;
      const passage: Passage = { host: e.host, t: e.t, origin: { route: e.facts }, inPkt: pkt, outs: [], notes: [] };
      story.passages.push(passage);
      const h = { story, passage };
      hostPending(e.host).set(bytesKey(trimIp(e.bytes)), h);
      touch(e.host, e.t, h);
      continue;
    }
    if (e.kind === "note" && e.facts?.arp !== undefined) {
      arpNotes.push({ t: e.t, host: e.host, ifname: e.ifname ?? "", facts: e.facts });
      continue;
    }
    if (e.kind === "drop") {
      const h = find(e, e.bytes);
      if (h) {
        h.passage.fate = "dropped";
        h.passage.dropReason = e.text;
      } else looseDrops.push({ t: e.t, host: e.host, reason: e.text });
      continue;
    }
    if (e.kind !== "note" && e.kind !== "ipvs" && e.kind !== "forward" && e.kind !== "deliver" && e.kind !== "icmp") continue;
    if (!e.bytes) continue;
    const h = find(e, e.before ?? e.bytes);
    if (!h) continue;
    const pkt = decodeIp(e.bytes);
    if (e.kind === "deliver" && !e.before) {
      h.passage.fate = "delivered";
      h.passage.notes.push({ kind: "deliver", text: e.text, pkt });
      continue;
    }
    if (e.kind === "icmp") {
      // What a host made of an ICMP message it received (a redirect taken or ignored).
      h.passage.notes.push({ kind: "icmp", text: e.text, pkt, facts: e.facts });
      h.passage.fate = "consumed";
      continue;
    }
    // A change: IPVS, forwarding (TTL), MASQUERADE, IPIP decapsulation.
    if (e.kind !== "forward") h.passage.notes.push({ kind: e.kind === "deliver" ? "decap" : e.kind, text: e.text, pkt, facts: e.facts });
    if (pkt) h.passage.cur = pkt;
    hostPending(e.host).set(bytesKey(trimIp(e.bytes)), h);
  }
  groupConversations(stories);
  return { stories, arp, looseDrops, arpNotes };
}

/** Union the stories whose packets carried the same endpoints at any hop. */
function groupConversations(stories: Story[]): void {
  const parent = new Map<string, string>();
  const root = (k: string): string => {
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(k, r);
    return r;
  };
  const keysOf = (s: Story): string[] => {
    const ks = new Set<string>();
    const add = (p: Pkt | undefined): void => {
      const k = p && convKey(p);
      if (k) ks.add(k);
    };
    add(s.first);
    for (const p of s.passages) {
      add(p.inPkt);
      add(p.cur);
      for (const o of p.outs) add(o.pkt);
      for (const n of p.notes) add(n.pkt);
    }
    return [...ks];
  };
  const storyKeys = stories.map(keysOf);
  for (const ks of storyKeys) {
    for (const k of ks) if (!parent.has(k)) parent.set(k, k);
    for (let i = 1; i < ks.length; i++) {
      const a = root(ks[0]!);
      const b = root(ks[i]!);
      if (a !== b) parent.set(b, a);
    }
  }
  const ids = new Map<string, number>();
  stories.forEach((s, i) => {
    const ks = storyKeys[i]!;
    if (ks.length === 0) return;
    const r = root(ks[0]!);
    let id = ids.get(r);
    if (id === undefined) ids.set(r, (id = ids.size + 1));
    s.conv = id;
  });
}
