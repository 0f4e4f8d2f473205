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

interface Entry extends EventHandle {
  fn: () => void;
}

export class EventQueue implements Clock {
  private heap: Entry[] = [];
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
    const e: Entry = { at: Math.max(Math.round(at), this.current), seq: this.seqNo++, cancelled: false, fn };
    this.push(e);
    return e;
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
      e.fn();
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

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
