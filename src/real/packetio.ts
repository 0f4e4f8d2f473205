/**
 * Raw Ethernet frames in and out of real interfaces, through the Python bridge
 * (packetio_bridge.ts) that holds one AF_PACKET socket per interface. Frames cross its
 * stdin/stdout as length-prefixed records; writes to it are batched per turn of the event
 * loop and bounded (past the bound a frame is dropped and counted, as a full TX ring would).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { BRIDGE_PY } from "./packetio_bridge.js";
import { completePartialChecksum } from "./offload.js";

/** Bytes queued towards the bridge before frames are dropped. */
const TX_BACKLOG_MAX = 8 << 20;
const CONTROL_PORT = 255;
const FLAG_TRUNCATED = 2;

export interface PacketIoStats {
  /** Frames handed to the bridge, per interface. */
  tx: number[];
  /** Frames dropped here because the bridge was not keeping up. */
  txDropped: number[];
  /** Frames received from the bridge. */
  rx: number[];
  /** Frames whose partial L4 checksum was completed here. */
  rxCsumFixed: number[];
  /** Frames received truncated (larger than 64 KiB), dropped. */
  rxTruncated: number[];
}

export interface PacketIo {
  /** How frames reach the director: its own raw sockets, or the Python bridge's. */
  readonly kind: "direct" | "bridge";
  readonly ifaces: readonly string[];
  /** Resolves when every socket is bound; rejects with the bridge's reason otherwise. */
  readonly ready: Promise<void>;
  readonly stats: PacketIoStats;
  /** Queue a frame for interface `port` (its index in `ifaces`). */
  send(port: number, frame: Uint8Array): void;
  /** Hand queued frames to the bridge now (also done by itself on the next turn). */
  flush(): void;
  /** Counters per interface (rx, tx, rx_dropped, tx_dropped, rx_truncated); a missing one is unknown. */
  bridgeStats(): Promise<Record<string, number[]>>;
  close(): void;
  /** Set by the owner: called for every frame received, in arrival order. */
  onFrame: (port: number, frame: Uint8Array) => void;
  /** Set by the owner: called after each batch of received frames. */
  onBatch: () => void;
  /** Set by the owner: the bridge exited (code, or signal name). */
  onExit: (why: string) => void;
}

export interface PacketIoOptions {
  /** The Python interpreter (default: python3). */
  python?: string;
}

export function openPacketIo(ifaces: readonly string[], opts: PacketIoOptions = {}): PacketIo {
  const child: ChildProcess = spawn(opts.python ?? "python3", ["-c", BRIDGE_PY, ...ifaces], { stdio: ["pipe", "pipe", "inherit"] });
  const n = ifaces.length;
  const stats: PacketIoStats = { tx: zeros(n), txDropped: zeros(n), rx: zeros(n), rxCsumFixed: zeros(n), rxTruncated: zeros(n) };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let flushScheduled = false;
  let closed = false;
  let readyDone = false;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  const statsWaiters: ((s: Record<string, number[]>) => void)[] = [];

  const io: PacketIo = {
    kind: "bridge",
    ifaces,
    ready,
    stats,
    onFrame: () => undefined,
    onBatch: () => undefined,
    onExit: () => undefined,
    send(port, frame) {
      if (closed) return;
      const stdin = child.stdin!;
      if (frame.length > 0xffff || stdin.writableLength + pendingBytes > TX_BACKLOG_MAX) {
        stats.txDropped[port]!++;
        return;
      }
      const rec = Buffer.allocUnsafe(3 + frame.length);
      rec[0] = port;
      rec.writeUInt16BE(frame.length, 1);
      rec.set(frame, 3);
      pending.push(rec);
      pendingBytes += rec.length;
      stats.tx[port]!++;
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(() => io.flush());
      }
    },
    flush() {
      flushScheduled = false;
      if (pending.length === 0 || closed) return;
      const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      child.stdin!.write(buf);
    },
    bridgeStats() {
      return new Promise((res) => {
        statsWaiters.push(res);
        const rec = Buffer.from([CONTROL_PORT, 0, 0]);
        if (!closed) child.stdin!.write(rec);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      child.stdin!.end();
      child.kill("SIGTERM");
    },
  };

  child.stdin!.on("error", () => undefined); // EPIPE when the bridge died: reported by "exit"
  child.on("error", (e: NodeJS.ErrnoException) => {
    const why = e.code === "ENOENT" ? `${opts.python ?? "python3"} not found (real mode needs Python 3)` : e.message;
    if (!readyDone) {
      readyDone = true;
      rejectReady(new Error(why));
    }
    io.onExit(why);
  });
  child.on("exit", (code, signal) => {
    const why = signal ?? `exit status ${code}`;
    if (!readyDone) {
      readyDone = true;
      rejectReady(new Error(`the packet bridge exited (${why})`));
    }
    if (!closed) io.onExit(why);
  });

  let acc: Buffer = Buffer.alloc(0);
  child.stdout!.on("data", (chunk: Buffer) => {
    acc = acc.length === 0 ? chunk : Buffer.concat([acc, chunk]);
    let pos = 0;
    let frames = 0;
    while (acc.length - pos >= 4) {
      const port = acc[pos]!;
      const flags = acc[pos + 1]!;
      const len = acc.readUInt16BE(pos + 2);
      if (acc.length - pos - 4 < len) break;
      // A copy: the frame outlives this chunk (queued events, captures).
      const frame = new Uint8Array(len);
      frame.set(acc.subarray(pos + 4, pos + 4 + len));
      pos += 4 + len;
      if (port === CONTROL_PORT) {
        control(frame);
        continue;
      }
      if (port >= n) continue;
      stats.rx[port]!++;
      if (flags & FLAG_TRUNCATED) {
        stats.rxTruncated[port]!++;
        continue;
      }
      if (completePartialChecksum(frame)) stats.rxCsumFixed[port]!++;
      frames++;
      io.onFrame(port, frame);
    }
    acc = pos === acc.length ? Buffer.alloc(0) : acc.subarray(pos);
    if (frames > 0) io.onBatch();
  });

  function control(bytes: Uint8Array): void {
    let msg: { ready?: string[]; error?: string; errno?: number; stats?: Record<string, number[]> };
    try {
      msg = JSON.parse(Buffer.from(bytes).toString("utf8")) as typeof msg;
    } catch {
      return;
    }
    if (msg.ready && !readyDone) {
      readyDone = true;
      resolveReady();
    } else if (msg.error !== undefined && !readyDone) {
      readyDone = true;
      const hint = msg.errno === 1 ? " (real mode needs root, or CAP_NET_RAW and CAP_NET_ADMIN)" : "";
      rejectReady(new Error(`cannot open a raw socket on ${msg.error}${hint}`));
    } else if (msg.stats) {
      statsWaiters.shift()?.(msg.stats);
    }
  }
  return io;
}

function zeros(n: number): number[] {
  return new Array<number>(n).fill(0);
}
