/**
 * What happened to packets, hop by hop. Every drop anywhere is counted by reason (like the
 * kernel's MIB counters) and, when recording is on, every hop is kept as a trace event.
 */
import type { Micros } from "../sim/clock.js";

export type TraceKind = "tx" | "rx" | "drop" | "forward" | "deliver" | "ipvs" | "arp" | "icmp" | "note";

export interface TraceEvent {
  readonly t: Micros;
  readonly host: string;
  readonly kind: TraceKind;
  readonly ifname?: string;
  /** The IPv4 packet (or frame for rx/tx) at that point, copied. */
  readonly bytes?: Uint8Array;
  /** For an event that changed a packet (IPVS, forwarding, MASQUERADE, IPIP decapsulation): the IPv4 packet it was given. */
  readonly before?: Uint8Array;
  /** Machine-readable facts behind the text (e.g. the route a locally sent packet took). */
  readonly facts?: Readonly<Record<string, string>>;
  readonly text: string;
}

export class Trace {
  recording = false;
  readonly events: TraceEvent[] = [];
  /** Drops by "host: reason". */
  readonly drops = new Map<string, number>();

  record(e: TraceEvent): void {
    if (this.recording) this.events.push(e);
  }

  /** A frame seen by a NIC (rx) or put on its wire (tx); only kept while recording. */
  frame(t: Micros, host: string, kind: "rx" | "tx", ifname: string, frame: Uint8Array): void {
    if (this.recording) this.events.push({ t, host, kind, ifname, bytes: frame.slice(), text: "" });
  }

  drop(t: Micros, host: string, reason: string, bytes?: Uint8Array, ifname?: string): void {
    const key = `${host}: ${reason}`;
    this.drops.set(key, (this.drops.get(key) ?? 0) + 1);
    if (this.recording) this.events.push({ t, host, kind: "drop", ifname, bytes: bytes?.slice(), text: reason });
  }
}
