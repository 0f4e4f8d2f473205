import type { Clock, Micros } from "./clock.js";

/**
 * The discrete-event queue. Events run in (time, sequence) order: two events due at the
 * same microsecond run in the order they were scheduled (ns-3), never in heap order.
 */
export interface EventHandle {
  readonly at: Micros;
  readonly seq: number;
  cancelled: boolean;
}

/** Something a frame event hands its bytes to (a segment port). */
export interface FrameSink {
  receive(frame: Uint8Array): void;
}

/**
 * One event: either a callback (`fn`) or a frame delivery (`sink.receive(frame)`), which
 * needs no closure. Frame entries are never handed out, so they are recycled after running.
 */
interface Entry extends EventHandle {
  at: Micros;
  seq: number;
  fn: (() => void) | undefined;
  sink: FrameSink | undefined;
  frame: Uint8Array | undefined;
}

const POOL_MAX = 4096;

export class EventQueue implements Clock {
  private heap: Entry[] = [];
  private pool: Entry[] = [];
  private seqNo = 0;
  private current: Micros = 0;
  /** Number of events run so far. */
  executed = 0;

  now(): Micros {
    return this.current;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Run `fn` at absolute time `at` (clamped to now). */
  at(at: Micros, fn: () => void): EventHandle {
    if (!Number.isFinite(at)) throw new RangeError(`EventQueue.at: bad time ${at}`);
    const e: Entry = { at: Math.max(Math.round(at), this.current), seq: this.seqNo++, cancelled: false, fn, sink: undefined, frame: undefined };
    this.push(e);
    return e;
  }

  /**
   * Deliver `frame` to `sink` after `delay` microseconds: the same as
   * `after(delay, () => sink.receive(frame))`, without the closure, and not cancellable.
   */
  deliverAfter(delay: Micros, sink: FrameSink, frame: Uint8Array): void {
    const at = this.current + Math.max(0, Math.round(delay));
    if (!Number.isFinite(at)) throw new RangeError(`EventQueue.at: bad time ${at}`);
    const e = this.pool.pop();
    if (e === undefined) {
      this.push({ at, seq: this.seqNo++, cancelled: false, fn: undefined, sink, frame });
      return;
    }
    e.at = at;
    e.seq = this.seqNo++;
    e.sink = sink;
    e.frame = frame;
    this.push(e);
  }

  /** Run `fn` after `delay` microseconds. */
  after(delay: Micros, fn: () => void): EventHandle {
    return this.at(this.current + Math.max(0, Math.round(delay)), fn);
  }

  cancel(h: EventHandle | undefined): void {
    if (h) h.cancelled = true;
  }

  /** Time of the next live event, or undefined when idle. */
  peekTime(): Micros | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap.length > 0 ? this.heap[0]!.at : undefined;
  }

  /** Run one event; false when there is none. */
  step(): boolean {
    for (;;) {
      const e = this.pop();
      if (!e) return false;
      if (e.cancelled) continue;
      this.current = e.at;
      this.executed++;
      const fn = e.fn;
      if (fn !== undefined) {
        fn();
        return true;
      }
      const sink = e.sink!;
      const frame = e.frame!;
      e.sink = undefined;
      e.frame = undefined;
      if (this.pool.length < POOL_MAX) this.pool.push(e);
      sink.receive(frame);
      return true;
    }
  }

  /** Run every event due at or before `t`, then set the clock to `t`. */
  runUntil(t: Micros): void {
    for (;;) {
      const next = this.peekTime();
      if (next === undefined || next > t) break;
      this.step();
    }
    if (t > this.current) this.current = t;
  }

  /** Advance the clock without running anything (only allowed when nothing is due before). */
  advanceTo(t: Micros): void {
    const next = this.peekTime();
    if (next !== undefined && next < t) throw new Error("EventQueue.advanceTo would skip events");
    if (t > this.current) this.current = t;
  }

  private push(e: Entry): void {
    const h = this.heap;
    let i = h.length;
    h.push(e);
    const at = e.at;
    const seq = e.seq;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const x = h[p]!;
      if (x.at < at || (x.at === at && x.seq < seq)) break;
      h[i] = x;
      i = p;
    }
    h[i] = e;
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const n = h.length - 1;
    if (n < 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (n > 0) {
      const at = last.at;
      const seq = last.seq;
      let i = 0;
      for (;;) {
        let m = 2 * i + 1;
        if (m >= n) break;
        let c = h[m]!;
        const r = m + 1;
        if (r < n) {
          const y = h[r]!;
          if (y.at < c.at || (y.at === c.at && y.seq < c.seq)) {
            m = r;
            c = y;
          }
        }
        if (at < c.at || (at === c.at && seq < c.seq)) break;
        h[i] = c;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}
