/**
 * Layer-2 segments. A switch learns source MACs and forwards unicast frames to the port
 * that owns the destination (flooding unknown and broadcast destinations); a hub repeats
 * every frame to every other port — so a NIC on a hub, in promiscuous mode (tcpdump),
 * sees its neighbours' traffic. With `pad`, frames shorter than 60 bytes are padded on the
 * wire as an Ethernet NIC does (the sender's capture shows the short frame, receivers the
 * padded one: "length 46" ARP replies, as in VMware); without it frames pass unpadded, as
 * on Linux veth pairs and bridges (what the real-kernel recordings used).
 */
import type { Micros } from "../sim/clock.js";
import type { EventQueue } from "../sim/queue.js";
import { ETH_ZLEN, allocBytes, copyBytes, readMac } from "../wire/index.js";

export interface SegmentPort {
  /** Called when a frame arrives at this port (the bytes are the receiver's own copy). */
  receive(frame: Uint8Array): void;
}

export type SegmentType = "switch" | "hub";

export class Segment {
  private ports: SegmentPort[] = [];
  private fdb = new Map<number, SegmentPort>();
  framesCarried = 0;

  constructor(
    readonly name: string,
    readonly type: SegmentType,
    readonly latency: Micros,
    private readonly queue: EventQueue,
    readonly pad = false,
  ) {}

  attach(p: SegmentPort): void {
    this.ports.push(p);
  }

  detach(p: SegmentPort): void {
    this.ports = this.ports.filter((x) => x !== p);
    for (const [mac, port] of this.fdb) if (port === p) this.fdb.delete(mac);
  }

  /**
   * Put a frame on the segment. Every receiver gets bytes of its own. With `owned`, the
   * caller hands the frame over (nobody else holds it), so one receiver may get it as is.
   */
  send(from: SegmentPort, frame: Uint8Array, owned = false): void {
    if (frame.length < 14) return;
    this.framesCarried++;
    let wire = frame;
    if (this.pad && frame.length < ETH_ZLEN) {
      wire = padded(frame);
      owned = true;
    }
    if (this.type === "switch") {
      if ((wire[6]! & 1) === 0) this.fdb.set(readMac(wire, 6), from);
      if ((wire[0]! & 1) === 0) {
        const to = this.fdb.get(readMac(wire, 0));
        if (to) {
          if (to !== from) this.queue.deliverAfter(this.latency, to, owned ? wire : copyBytes(wire));
          return;
        }
      }
    }
    const ports = this.ports;
    let last = -1;
    for (let i = ports.length - 1; i >= 0; i--) {
      if (ports[i] !== from) {
        last = i;
        break;
      }
    }
    for (let i = 0; i <= last; i++) {
      const p = ports[i]!;
      if (p === from) continue;
      this.queue.deliverAfter(this.latency, p, owned && i === last ? wire : copyBytes(wire));
    }
  }
}

function padded(frame: Uint8Array): Uint8Array {
  const out = allocBytes(ETH_ZLEN);
  out.set(frame, 0);
  return out;
}
