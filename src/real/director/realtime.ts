/**
 * Runs a World's event queue against the wall clock: virtual time is the real time elapsed
 * since the driver started (µs), so TCP and IPVS timers fire when they are due and `date`,
 * tcpdump and the connection table show real time. Nothing spins: between events the
 * driver sleeps in a Node timer armed for the next one, and it wakes early for a frame
 * from the wire, a command's continuation or a timer a command just set.
 */
import type { Micros } from "../../sim/clock.js";
import type { EventHandle } from "../../sim/queue.js";
import type { World } from "../../net/world.js";

/** Events run in one go before the driver lets I/O in (a burst must not starve the sockets). */
const MAX_EVENTS_PER_TURN = 20_000;

export class RealTimeDriver {
  private readonly t0 = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private timerAt: Micros = Infinity;
  private immediate: NodeJS.Immediate | undefined;
  private inPump = false;
  private stopped = false;
  /** Called at the end of every pump (the packet I/O flushes what the events sent). */
  afterPump: () => void = () => undefined;
  /**
   * Called with what an event threw. A data plane must not stop for one bad packet: the
   * event is abandoned, the error reported, and the queue goes on.
   */
  onError: (e: unknown) => void = (e) => {
    process.stderr.write(`lvslab director: internal error in an event: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  };

  constructor(readonly world: World) {
    const q = world.queue;
    // Whatever schedules an event from outside a pump (a command continuing after an
    // await, a frame a tool sends) must wake the driver, and must count its delay from
    // now, not from the last pump: the clock is caught up first when nothing is overdue.
    const at = q.at.bind(q);
    q.at = (t: Micros, fn: () => void): EventHandle => {
      const h = at(t, fn);
      this.kick(h.at);
      return h;
    };
    const after = q.after.bind(q);
    q.after = (delay: Micros, fn: () => void): EventHandle => {
      this.catchUp();
      return after(delay, fn); // through `at` above
    };
    const deliverAfter = q.deliverAfter.bind(q);
    q.deliverAfter = (delay, sink, frame) => {
      this.catchUp();
      deliverAfter(delay, sink, frame);
      this.kick(q.now() + delay);
    };
  }

  /** Microseconds of real time since the driver started. */
  realNow(): Micros {
    // performance.now() is monotonic with sub-µs resolution, and costs no BigInt per call.
    return Math.floor((performance.now() - this.t0) * 1000);
  }

  /** Bring virtual time up to real time, running every event due. */
  pump(): void {
    if (this.stopped || this.inPump) return;
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    this.inPump = true;
    const q = this.world.queue;
    const now = this.realNow();
    let n = 0;
    let more = false;
    try {
      for (;;) {
        const t = q.peekTime();
        if (t === undefined || t > now) break;
        if (++n > MAX_EVENTS_PER_TURN) {
          more = true;
          break;
        }
        try {
          q.step();
        } catch (e) {
          this.onError(e);
        }
      }
      if (!more && q.now() < now) q.advanceTo(now);
      // Promise continuations resolved by these events run after this turn; they reach
      // the queue through `at`, which kicks the driver again.
      this.world.wakePending = false;
    } finally {
      this.inPump = false;
    }
    this.afterPump();
    if (more) this.soon();
    else this.arm();
  }

  /** Run `fn` at real time now, with virtual time caught up first (a frame arriving). */
  inject(fn: () => void): void {
    if (this.stopped) return;
    this.pump();
    fn();
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** Outside a pump, move virtual time up to real time (never past an overdue event). */
  private catchUp(): void {
    if (this.inPump || this.stopped) return;
    const q = this.world.queue;
    const now = this.realNow();
    if (q.now() >= now) return;
    const next = q.peekTime();
    if (next === undefined || next > now) q.advanceTo(now);
  }

  private kick(at: Micros): void {
    if (this.inPump || this.stopped) return;
    if (at <= this.realNow()) this.soon();
    else if (at < this.timerAt) this.arm();
  }

  private soon(): void {
    if (this.immediate === undefined && !this.stopped) this.immediate = setImmediate(() => this.pump());
  }

  private arm(): void {
    const next = this.world.queue.peekTime();
    if (next === undefined) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer && this.timerAt === next) return;
    if (this.timer) clearTimeout(this.timer);
    const delayMs = Math.max(0, Math.ceil((next - this.realNow()) / 1000));
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, delayMs);
  }
}
