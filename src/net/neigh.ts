/**
 * The ARP neighbour table (net/core/neighbour.c, net/ipv4/arp.c), per interface.
 *
 * States as `ip neigh` prints them: INCOMPLETE (resolving, packets queued), REACHABLE
 * (confirmed within reachable_time), STALE (usable, unconfirmed), DELAY (used while stale;
 * after delay_first_probe_time a unicast probe starts unless something confirmed it),
 * PROBE (unicast requests every retrans_time, ucast_solicit of them), FAILED.
 * This is why the seed's director capture shows "ARP, Request who-has 192.168.75.150"
 * five seconds after it first forwarded a reply to the client: the entry learnt from the
 * client's own request was STALE, the reply moved it to DELAY, and forwarded traffic
 * never confirms a neighbour.
 */
import type { Micros } from "../sim/clock.js";
import type { EventHandle, EventQueue } from "../sim/queue.js";
import type { Rng } from "../sim/rng.js";
import type { Ip4, Mac } from "../wire/index.js";

export type NeighState = "INCOMPLETE" | "REACHABLE" | "STALE" | "DELAY" | "PROBE" | "FAILED" | "PERMANENT";

export interface NeighParams {
  baseReachable: Micros;
  delayFirstProbe: Micros;
  retrans: Micros;
  ucastSolicit: number;
  mcastSolicit: number;
  /** neigh locktime: an entry changed less than this ago ignores other link addresses. */
  locktime: Micros;
}

export interface NeighEntry {
  readonly ip: Ip4;
  readonly dev: string;
  mac: Mac | undefined;
  state: NeighState;
  confirmed: Micros;
  updated: Micros;
  probes: number;
  timer?: EventHandle;
  /** Packets waiting for resolution (IPv4 packets, with the callback that sends each). */
  queue: Array<(mac: Mac | undefined) => void>;
  /** Source address of the packet queued last (the skb arp_solicit looks at), if any. */
  queuedSrc: Ip4 | undefined;
  reachableTime: Micros;
}

export interface NeighPorts {
  queue: EventQueue;
  rng: Rng;
  params(dev: string): NeighParams;
  /**
   * Send an ARP request for `ip` on `dev`: broadcast when `unicastTo` is undefined. `src` is
   * the source address of the last packet waiting for the answer (neigh_probe hands
   * arp_solicit the tail of arp_queue), undefined when none waits (unicast probes).
   */
  solicit(dev: string, ip: Ip4, unicastTo: Mac | undefined, src: Ip4 | undefined): void;
}

const UNRES_QLEN = 101; // unres_qlen_bytes / truesize of a small packet, roughly

export class NeighTable {
  /** Every entry, in the order `ip neigh` lists them (insertion order of "dev|ip"). */
  private entries = new Map<string, NeighEntry>();
  /**
   * The same entries by device, then by `ip | 0` (an int32 is a small integer to V8, an Ip4
   * above 2^31 a heap number): the lookup the packet path uses.
   */
  private byDev = new Map<string, Map<number, NeighEntry>>();

  constructor(private readonly ports: NeighPorts) {}

  private key(dev: string, ip: Ip4): string {
    return `${dev}|${ip}`;
  }

  private store(e: NeighEntry): void {
    this.entries.set(this.key(e.dev, e.ip), e);
    let m = this.byDev.get(e.dev);
    if (m === undefined) {
      m = new Map();
      this.byDev.set(e.dev, m);
    }
    m.set(e.ip | 0, e);
  }

  get(dev: string, ip: Ip4): NeighEntry | undefined {
    return this.byDev.get(dev)?.get(ip | 0);
  }

  /**
   * `dev`'s entries by `ip | 0`, the live map this table keeps (made empty if `dev` has none
   * yet; it is never replaced): the packet path holds it per device instead of looking the
   * device name up for every frame.
   */
  devEntries(dev: string): ReadonlyMap<number, NeighEntry> {
    let m = this.byDev.get(dev);
    if (m === undefined) {
      m = new Map();
      this.byDev.set(dev, m);
    }
    return m;
  }

  list(): NeighEntry[] {
    return [...this.entries.values()];
  }

  private now(): Micros {
    return this.ports.queue.now();
  }

  private randomReachable(p: NeighParams): Micros {
    // neigh_rand_reach_time: uniform in [base/2, 3*base/2)
    return Math.floor(p.baseReachable / 2) + this.ports.rng.below(Math.max(1, p.baseReachable));
  }

  private setTimer(e: NeighEntry, delay: Micros): void {
    this.ports.queue.cancel(e.timer);
    e.timer = this.ports.queue.after(delay, () => this.timerFired(e));
  }

  /**
   * Resolve `ip` on `dev` for one outgoing packet; `send(mac)` runs now or when resolution
   * ends (mac undefined = failed: the caller drops and reports host unreachable). `src` is
   * the packet's source address (what arp_announce looks at when the packet has to wait).
   */
  resolve(dev: string, ip: Ip4, send: (mac: Mac | undefined) => void, src?: Ip4): void {
    let e = this.get(dev, ip);
    const now = this.now();
    if (!e || e.state === "FAILED") {
      const p = this.ports.params(dev);
      if (!e) {
        e = { ip, dev, mac: undefined, state: "INCOMPLETE", confirmed: now - p.baseReachable, updated: now, probes: 0, queue: [], queuedSrc: undefined, reachableTime: this.randomReachable(p) };
        this.store(e);
      } else {
        e.state = "INCOMPLETE";
        e.updated = now;
        e.probes = 0;
      }
      e.queue.push(send);
      e.queuedSrc = src;
      e.probes++;
      this.ports.solicit(dev, ip, undefined, src);
      this.setTimer(e, p.retrans);
      return;
    }
    switch (e.state) {
      case "INCOMPLETE":
        if (e.queue.length >= UNRES_QLEN) e.queue.shift()!(undefined);
        e.queue.push(send);
        e.queuedSrc = src;
        return;
      case "STALE":
        e.state = "DELAY";
        e.updated = now;
        this.setTimer(e, this.ports.params(dev).delayFirstProbe);
        break;
      case "REACHABLE":
        if (now - e.confirmed > e.reachableTime) {
          // Reachability lapsed while nobody looked: the timer would have made it STALE.
          e.state = "DELAY";
          e.updated = now;
          this.setTimer(e, this.ports.params(dev).delayFirstProbe);
        }
        break;
      default:
        break;
    }
    send(e.mac);
  }

  /**
   * resolve() for a packet that can go at once, without a callback: the MAC to send to,
   * after the same state changes resolve() makes, or -1 when the packet would have to wait
   * or fail (then call resolve(), which finds the entry untouched).
   */
  resolveNow(entries: ReadonlyMap<number, NeighEntry>, dev: string, ip: Ip4): Mac {
    const e = entries.get(ip | 0);
    if (e === undefined || e.mac === undefined || e.state === "FAILED" || e.state === "INCOMPLETE") return -1;
    if (e.state === "STALE") {
      const now = this.now();
      e.state = "DELAY";
      e.updated = now;
      this.setTimer(e, this.ports.params(dev).delayFirstProbe);
    } else if (e.state === "REACHABLE") {
      const now = this.now();
      if (now - e.confirmed > e.reachableTime) {
        e.state = "DELAY";
        e.updated = now;
        this.setTimer(e, this.ports.params(dev).delayFirstProbe);
      }
    }
    return e.mac;
  }

  /** Upper-layer confirmation (TCP forward progress: dst_confirm_neigh). */
  confirm(dev: string, ip: Ip4): void {
    const e = this.get(dev, ip);
    if (e && e.mac !== undefined) e.confirmed = this.now();
  }

  /** A frame from `ip` carrying `mac` arrived: confirm the entry if it matches. */
  confirmFrom(entries: ReadonlyMap<number, NeighEntry>, ip: Ip4, mac: Mac): void {
    const e = entries.get(ip | 0);
    if (e && e.mac === mac) e.confirmed = this.now();
  }

  /**
   * ARP input (arp_process -> neigh_update). A request addressed to us creates or refreshes
   * the sender as STALE and always overrides (neigh_event_ns); other ARP only updates an
   * existing entry (arp_accept=0): a reply sent to us makes it REACHABLE, anything else STALE.
   * Within `locktime` of the entry's last change a different link address is ignored ("if
   * several different ARP replies follow back-to-back, use the FIRST one"), unless the ARP
   * is gratuitous (`garp`).
   */
  learn(dev: string, ip: Ip4, mac: Mac, how: "reply" | "request-for-us" | "other", garp = false): void {
    let e = this.get(dev, ip);
    const now = this.now();
    const p = this.ports.params(dev);
    if (!e) {
      if (how !== "request-for-us") return; // arp_accept=0: no entry from gratuitous/other ARP
      e = { ip, dev, mac, state: "STALE", confirmed: now - p.baseReachable, updated: now, probes: 0, queue: [], queuedSrc: undefined, reachableTime: this.randomReachable(p) };
      this.store(e);
      return;
    }
    if (e.state === "PERMANENT") return;
    const changed = e.mac !== mac;
    const valid = e.state !== "INCOMPLETE" && e.state !== "FAILED";
    if (how === "reply") e.confirmed = now;
    const override = how === "request-for-us" || garp || now > e.updated + p.locktime;
    if (valid && changed && !override) return;
    if (how === "reply") {
      if (changed || e.state !== "REACHABLE") e.updated = now;
      e.mac = mac;
      e.state = "REACHABLE";
      e.probes = 0;
      e.reachableTime = this.randomReachable(p);
      this.setTimer(e, e.reachableTime);
      this.flush(e);
    } else if (changed || !valid) {
      e.mac = mac;
      e.state = "STALE";
      e.updated = now;
      this.ports.queue.cancel(e.timer);
      e.timer = undefined;
      this.flush(e);
    }
  }

  addPermanent(dev: string, ip: Ip4, mac: Mac): void {
    const now = this.now();
    const old = this.get(dev, ip);
    if (old) this.ports.queue.cancel(old.timer);
    const e: NeighEntry = { ip, dev, mac, state: "PERMANENT", confirmed: now, updated: now, probes: 0, queue: old?.queue ?? [], queuedSrc: undefined, reachableTime: 0 };
    this.store(e);
    this.flush(e);
  }

  remove(dev: string, ip: Ip4): boolean {
    const e = this.get(dev, ip);
    if (!e) return false;
    this.ports.queue.cancel(e.timer);
    this.entries.delete(this.key(dev, ip));
    this.byDev.get(dev)!.delete(ip | 0);
    return true;
  }

  flushDev(dev?: string): void {
    for (const e of [...this.entries.values()]) if (!dev || e.dev === dev) this.remove(e.dev, e.ip);
  }

  private flush(e: NeighEntry): void {
    const q = e.queue;
    e.queue = [];
    e.queuedSrc = undefined;
    for (const send of q) send(e.mac);
  }

  private timerFired(e: NeighEntry): void {
    e.timer = undefined;
    const now = this.now();
    const p = this.ports.params(e.dev);
    switch (e.state) {
      case "REACHABLE":
        if (now - e.confirmed >= e.reachableTime) {
          e.state = "STALE";
          e.updated = now;
        } else {
          this.setTimer(e, e.confirmed + e.reachableTime - now);
        }
        return;
      case "DELAY":
        if (now - e.confirmed <= p.delayFirstProbe) {
          e.state = "REACHABLE";
          e.updated = now;
          this.setTimer(e, e.reachableTime);
          return;
        }
        e.state = "PROBE";
        e.updated = now;
        e.probes = 1;
        this.ports.solicit(e.dev, e.ip, e.mac, undefined);
        this.setTimer(e, p.retrans);
        return;
      case "PROBE":
        if (e.probes >= p.ucastSolicit) {
          this.fail(e);
          return;
        }
        e.probes++;
        this.ports.solicit(e.dev, e.ip, e.mac, undefined);
        this.setTimer(e, p.retrans);
        return;
      case "INCOMPLETE":
        if (e.probes >= p.mcastSolicit) {
          this.fail(e);
          return;
        }
        e.probes++;
        this.ports.solicit(e.dev, e.ip, undefined, e.queue.length > 0 ? e.queuedSrc : undefined);
        this.setTimer(e, p.retrans);
        return;
      default:
        return;
    }
  }

  private fail(e: NeighEntry): void {
    e.state = "FAILED";
    e.updated = this.now();
    e.mac = undefined;
    const q = e.queue;
    e.queue = [];
    e.queuedSrc = undefined;
    for (const send of q) send(undefined);
  }
}
