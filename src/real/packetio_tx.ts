/**
 * The director's transmit thread. A write() on a raw socket does not return until the
 * kernel has carried the frame as far as it can go inline — through the veth pair and
 * bridge into the receiving namespace's IP and TCP — which is about half of the director's
 * CPU per frame. A worker thread does those writes, so the event loop goes on reading and
 * forwarding meanwhile, on the other CPU.
 *
 * The main thread queues frames in a ring in shared memory (one producer, one consumer, so
 * frames leave in the order they were queued, per interface and overall) and wakes the
 * worker only when it sleeps. Records: u32 port << 16 | length, the frame, padded to 4
 * bytes; a record that would wrap leaves a skip mark (length 0xffff) and starts at 0.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { writeSync } from "node:fs";

const RING_BYTES = 4 << 20;
/** Control words (Int32): the read index, the write index, the worker sleeping, stop. */
const HEAD = 0;
const TAIL = 1;
const SLEEPING = 2;
const STOP = 3;
const CTRL_WORDS = 4;
const SKIP = 0xffff;
/** Counter words per port: sent, dropped (socket full after retries), dropped (other errors). */
const C_SENT = 0;
const C_FULL = 1;
const C_ERR = 2;
const C_WORDS = 3;
/** A full socket buffer is retried for this long before the frame is dropped. */
const FULL_RETRY_MS = 20;

interface TxData {
  ring: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  fds: number[];
}

export class TxRing {
  private readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  private readonly ctrl: Int32Array;
  readonly counters: Int32Array;
  private readonly worker: Worker;
  private tail = 0;
  /** Frames not queued because the ring was full. */
  ringFull = 0;

  constructor(fds: number[], onError: (e: Error) => void) {
    const ring = new SharedArrayBuffer(RING_BYTES);
    const ctrl = new SharedArrayBuffer(CTRL_WORDS * 4);
    const counters = new SharedArrayBuffer(fds.length * C_WORDS * 4);
    this.bytes = new Uint8Array(ring);
    this.words = new Uint32Array(ring);
    this.ctrl = new Int32Array(ctrl);
    this.counters = new Int32Array(counters);
    const data: TxData = { ring, ctrl, counters, fds };
    this.worker = new Worker(new URL(import.meta.url), { workerData: data });
    this.worker.on("error", onError);
    this.worker.unref();
  }

  /** Queue a frame; false when the ring has no room (the frame is dropped). */
  push(port: number, frame: Uint8Array): boolean {
    if (frame.length >= SKIP) return this.full(); // no Ethernet frame the director sends is that long
    const need = 4 + ((frame.length + 3) & ~3);
    const head = Atomics.load(this.ctrl, HEAD);
    let t = this.tail;
    const free = (head - t - 4 + RING_BYTES) % RING_BYTES; // one word kept empty
    if (t + need > RING_BYTES) {
      // Wrap: a skip mark here, the record at 0.
      if (free < RING_BYTES - t + need) return this.full();
      this.words[t >> 2] = SKIP;
      t = 0;
    } else if (free < need) return this.full();
    this.words[t >> 2] = (port << 16) | frame.length;
    this.bytes.set(frame, t + 4);
    t += need;
    if (t === RING_BYTES) t = 0;
    this.tail = t;
    Atomics.store(this.ctrl, TAIL, t);
    if (Atomics.load(this.ctrl, SLEEPING) === 1) Atomics.notify(this.ctrl, TAIL);
    return true;
  }

  private full(): boolean {
    this.ringFull++;
    return false;
  }

  counter(port: number, which: "sent" | "full" | "err"): number {
    return Atomics.load(this.counters, port * C_WORDS + (which === "sent" ? C_SENT : which === "full" ? C_FULL : C_ERR));
  }

  /** Stops the thread; resolves once it is gone (no write of it can follow). */
  close(): Promise<void> {
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.notify(this.ctrl, TAIL);
    return this.worker.terminate().then(() => undefined);
  }
}

function runWorker(d: TxData): void {
  const bytes = new Uint8Array(d.ring);
  const words = new Uint32Array(d.ring);
  const ctrl = new Int32Array(d.ctrl);
  const counters = new Int32Array(d.counters);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let head = 0;
  for (;;) {
    let tail = Atomics.load(ctrl, TAIL);
    if (head === tail) {
      Atomics.store(ctrl, SLEEPING, 1);
      tail = Atomics.load(ctrl, TAIL);
      if (head === tail) {
        if (Atomics.load(ctrl, STOP) === 1) return;
        Atomics.wait(ctrl, TAIL, tail);
      }
      Atomics.store(ctrl, SLEEPING, 0);
      continue;
    }
    while (head !== tail) {
      const w = words[head >> 2]!;
      if (w === SKIP) {
        head = 0;
        continue;
      }
      const port = w >>> 16;
      const len = w & 0xffff;
      const frame = bytes.subarray(head + 4, head + 4 + len);
      const base = port * C_WORDS;
      const fd = d.fds[port]!;
      for (let waited = 0; ; ) {
        try {
          writeSync(fd, frame);
          counters[base + C_SENT]!++;
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if ((code === "EAGAIN" || code === "ENOBUFS") && waited < FULL_RETRY_MS) {
            Atomics.wait(pause, 0, 0, 1);
            waited++;
            continue;
          }
          counters[base + (code === "EAGAIN" || code === "ENOBUFS" ? C_FULL : C_ERR)]!++;
          break;
        }
      }
      head += 4 + ((len + 3) & ~3);
      if (head === bytes.length) head = 0;
      Atomics.store(ctrl, HEAD, head);
    }
  }
}

if (!isMainThread && parentPort && (workerData as TxData | undefined)?.ring) runWorker(workerData as TxData);
