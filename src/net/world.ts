/**
 * A simulated world: the event queue, seeded random streams, the trace, the segments and
 * the hosts. Nothing here reads the wall clock; `epochUs` is the lab's virtual wall-clock
 * time at t = 0 (what tcpdump, date and nginx print).
 */
import type { Micros } from "../sim/clock.js";
import { EventQueue } from "../sim/queue.js";
import { RngFactory } from "../sim/rng.js";
import { Segment, type SegmentType } from "./segment.js";
import { Trace } from "./trace.js";
import type { Host } from "./host.js";

export interface WorldOptions {
  seed?: number;
  /** Microseconds since the Unix epoch at virtual t = 0. */
  epochUs?: number;
  timezone?: string;
}

/** 2026-11-24 01:00:00 UTC: the default virtual wall clock. */
export const DEFAULT_EPOCH_US = Date.UTC(2026, 10, 24, 1, 0, 0) * 1000;

export class World {
  readonly queue = new EventQueue();
  readonly rng: RngFactory;
  readonly trace = new Trace();
  readonly hosts = new Map<string, Host>();
  readonly segments = new Map<string, Segment>();
  readonly epochUs: number;
  readonly timezone: string;
  /** Set when an event resolved something an async tool awaits (see src/lab/runner.ts). */
  wakePending = false;

  constructor(opts: WorldOptions = {}) {
    this.rng = new RngFactory(opts.seed ?? 1);
    this.epochUs = opts.epochUs ?? DEFAULT_EPOCH_US;
    this.timezone = opts.timezone ?? "UTC";
  }

  now(): Micros {
    return this.queue.now();
  }

  wake(): void {
    this.wakePending = true;
  }

  addSegment(name: string, type: SegmentType, latency: Micros): Segment {
    const s = new Segment(name, type, latency, this.queue);
    this.segments.set(name, s);
    return s;
  }
}
