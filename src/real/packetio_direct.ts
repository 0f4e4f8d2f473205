/**
 * Raw Ethernet frames in and out of real interfaces with no helper process in the path:
 * a short Python 3 launcher (Node has no AF_PACKET, and lvslab ships no native addon)
 * opens one AF_PACKET socket per interface and then replaces itself with the director
 * (exec), which inherits the sockets. The event loop reads them through libuv like any
 * stream descriptor — read() on a packet socket returns one frame — and a transmit thread
 * writes them (packetio_tx.ts). No copy through a pipe, no second process to wake per frame.
 *
 * The launcher passes the descriptors in LVSLAB_PACKET_FDS ("eth0=3,eth1=4"), or the
 * reason it could not open them in LVSLAB_PACKET_ERROR ("eth0: Operation not permitted|1").
 */
import { Socket } from "node:net";
import { completePartialChecksum } from "./offload.js";
import { TxRing } from "./packetio_tx.js";
import type { PacketIo, PacketIoStats } from "./packetio.js";

/** One byte more than the largest frame a record can carry: a read that fills it was truncated. */
const RX_BUFFER = 65536 + 1;

export const FDS_ENV = "LVSLAB_PACKET_FDS";
export const ERROR_ENV = "LVSLAB_PACKET_ERROR";

/**
 * The launcher: `python3 -c LAUNCH_PY IF... -- PROGRAM ARG...`. Protocol 0 until bound,
 * so a socket sees nothing from other interfaces meanwhile; PACKET_IGNORE_OUTGOING (Linux
 * 4.20+) keeps the namespace's own transmissions out; 4 MiB buffers each way.
 */
export const LAUNCH_PY = String.raw`
import os, socket, sys
ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
SO_SNDBUFFORCE, SO_RCVBUFFORCE = 32, 33
args = sys.argv[1:]
if args and args[0] == "--pdeathsig":
    # Relaunched by a director process that stays to wait for us: go when it goes.
    import ctypes, signal
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    args = args[1:]
sep = args.index("--")
names, prog = args[:sep], args[sep + 1:]
fds, socks = [], []
try:
    for name in names:
        # Protocol 0 until bound: the socket sees nothing from other interfaces meanwhile.
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        socks.append(s)
        try:
            s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            raise LookupError()
        for force, opt in ((SO_RCVBUFFORCE, socket.SO_RCVBUF), (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
            try:
                s.setsockopt(socket.SOL_SOCKET, force, 4 << 20)
            except OSError:
                try:
                    s.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
                except OSError:
                    pass
        s.bind((name, ETH_P_ALL))
    for name, s in zip(names, socks):
        fd = s.detach()
        os.set_inheritable(fd, True)
        fds.append("%s=%d" % (name, fd))
    os.environ["LVSLAB_PACKET_FDS"] = ",".join(fds)
except LookupError:
    # Linux < 4.20 cannot keep our own transmissions out of a socket: the bridge, which
    # filters them per frame, does the job instead.
    for s in socks:
        s.close()
    os.environ["LVSLAB_PACKET_IO"] = "bridge"
except OSError as e:
    os.environ["LVSLAB_PACKET_ERROR"] = "%s: %s|%d" % (name, e.strerror or str(e), e.errno or 0)
os.execvp(prog[0], prog)
`;

/** LVSLAB_PACKET_IO=bridge keeps the director on the Python bridge (packetio.ts). */
export const IO_ENV = "LVSLAB_PACKET_IO";

/**
 * Whether this director should go through the launcher first: direct I/O wanted and
 * possible, and not already launched.
 */
export function wantsLaunch(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[FDS_ENV] === undefined && env[ERROR_ENV] === undefined && env[IO_ENV] !== "bridge" && directIoAvailable();
}

/** The command that runs `prog` with raw sockets on `ifaces` opened for it. */
export function launchArgv(ifaces: readonly string[], prog: readonly string[], opts: { python?: string; pdeathsig?: boolean } = {}): string[] {
  return [opts.python ?? "python3", "-c", LAUNCH_PY, ...(opts.pdeathsig ? ["--pdeathsig"] : []), ...ifaces, "--", ...prog];
}

interface PipeHandle {
  open(fd: number): number;
  close(cb?: () => void): void;
}
type PipeCtor = new (type: number) => PipeHandle;

/** libuv's pipe handle, which adopts any stream descriptor (undefined where unavailable). */
function pipeWrap(): { Pipe: PipeCtor; SOCKET: number } | undefined {
  try {
    const b = (process as unknown as { binding(n: string): { Pipe: PipeCtor; constants: { SOCKET: number } } }).binding("pipe_wrap");
    return { Pipe: b.Pipe, SOCKET: b.constants.SOCKET };
  } catch {
    return undefined;
  }
}

/** Whether this process can take inherited packet sockets. */
export function directIoAvailable(): boolean {
  return pipeWrap() !== undefined;
}

/** The sockets the launcher left us, by interface name; an Error for the launcher's failure; undefined when not launched so. */
export function inheritedPacketFds(env: NodeJS.ProcessEnv = process.env): Map<string, number> | Error | undefined {
  const err = env[ERROR_ENV];
  if (err !== undefined) {
    const bar = err.lastIndexOf("|");
    const errno = Number(err.slice(bar + 1));
    const hint = errno === 1 ? " (real mode needs root, or CAP_NET_RAW and CAP_NET_ADMIN)" : "";
    return new Error(`cannot open a raw socket on ${err.slice(0, bar)}${hint}`);
  }
  const v = env[FDS_ENV];
  if (v === undefined) return undefined;
  const m = new Map<string, number>();
  for (const part of v.split(",")) {
    const eq = part.lastIndexOf("=");
    const fd = Number(part.slice(eq + 1));
    if (eq > 0 && Number.isInteger(fd) && fd > 2) m.set(part.slice(0, eq), fd);
  }
  return m;
}

export function openDirectPacketIo(ifaces: readonly string[], fds: ReadonlyMap<string, number>): PacketIo {
  const pw = pipeWrap();
  const n = ifaces.length;
  const stats: PacketIoStats = { tx: zeros(n), txDropped: zeros(n), rx: zeros(n), rxCsumFixed: zeros(n), rxTruncated: zeros(n) };
  const sockets: Socket[] = [];
  let closed = false;
  let batchScheduled = false;
  let ring: TxRing | undefined;

  let readyErr: Error | undefined;
  if (!pw) readyErr = new Error("this Node.js cannot adopt raw sockets (process.binding('pipe_wrap') is gone)");
  for (const name of ifaces) if (!fds.has(name)) readyErr ??= new Error(`no raw socket was opened for ${name}`);

  const io: PacketIo = {
    kind: "direct",
    ifaces,
    ready: readyErr ? Promise.reject(readyErr) : Promise.resolve(),
    stats,
    onFrame: () => undefined,
    onBatch: () => undefined,
    onExit: () => undefined,
    send(port, frame) {
      if (closed) return;
      if (ring!.push(port, frame)) stats.tx[port]!++;
      else stats.txDropped[port]!++;
    },
    flush() {},
    bridgeStats() {
      // tx: frames the kernel took (the transmit thread's writes that succeeded);
      // tx_dropped: no room in the ring, or the socket refused the frame.
      const tx = ifaces.map((_, i) => ring?.counter(i, "sent") ?? 0);
      const txDropped = ifaces.map((_, i) => stats.txDropped[i]! + (ring ? ring.counter(i, "full") + ring.counter(i, "err") : 0));
      return Promise.resolve({ rx: [...stats.rx], tx, tx_dropped: txDropped, rx_truncated: [...stats.rxTruncated] });
    },
    close() {
      if (closed) return;
      closed = true;
      ring?.close();
      for (const s of sockets) s.destroy();
    },
  };
  if (readyErr) {
    io.ready.catch(() => undefined);
    return io;
  }
  ring = new TxRing(ifaces.map((x) => fds.get(x)!), (e) => io.onExit(`transmit thread: ${e.message}`));
  const onBatch = (): void => {
    batchScheduled = false;
    io.onBatch();
  };
  ifaces.forEach((name, port) => {
    const fd = fds.get(name)!;
    const h = new pw!.Pipe(pw!.SOCKET);
    const err = h.open(fd);
    if (err) throw new Error(`${name}: cannot adopt the raw socket (uv error ${err})`);
    // Each read lands in one buffer kept for this socket (no allocation, no stream
    // machinery per frame); the frame is copied out, as it outlives the read.
    const s = new Socket({
      handle: h,
      readable: true,
      writable: false,
      onread: {
        buffer: Buffer.allocUnsafe(RX_BUFFER),
        callback: (nread: number, buf: Buffer): boolean => {
          stats.rx[port]!++;
          if (nread >= RX_BUFFER) {
            stats.rxTruncated[port]!++;
            return true;
          }
          const frame = new Uint8Array(nread);
          frame.set(buf.subarray(0, nread));
          if (completePartialChecksum(frame)) stats.rxCsumFixed[port]!++;
          io.onFrame(port, frame);
          if (!batchScheduled) {
            batchScheduled = true;
            setImmediate(onBatch);
          }
          return true;
        },
      },
    } as unknown as ConstructorParameters<typeof Socket>[0]);
    s.on("error", (e) => {
      if (!closed) io.onExit(`${name}: ${e.message}`);
    });
    sockets.push(s);
  });
  return io;
}

function zeros(n: number): number[] {
  return new Array<number>(n).fill(0);
}
