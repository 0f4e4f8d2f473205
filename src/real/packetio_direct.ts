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
import { closeSync } from "node:fs";
import { getSystemErrorName } from "node:util";
import { completePartialChecksum } from "./offload.js";
import { TxRing } from "./packetio_tx.js";
import type { PacketIo, PacketIoStats } from "./packetio.js";

/** One byte more than the largest frame a record can carry: a read that fills it was truncated. */
const RX_BUFFER = 65536 + 1;
/** Received frames are carved from slabs this big (a few thousand frames each). */
const SLAB_BYTES = 1 << 20;
/** libuv's UV_EOF. */
const UV_EOF = -4095;

export const FDS_ENV = "LVSLAB_PACKET_FDS";
export const ERROR_ENV = "LVSLAB_PACKET_ERROR";

/**
 * The launcher: `python3 -c LAUNCH_PY IF... -- PROGRAM ARG...`. Two sockets per interface:
 *
 * - one to receive, bound to every interface with a filter that keeps only this one's
 *   frames (classic BPF on the frame's ifindex, attached before the socket is bound, so
 *   nothing else is ever queued). Bound to the interface itself, the socket would take
 *   ENETDOWN when the link goes down, a read() would return it and libuv stop reading for
 *   good; bound to all, a link flap only pauses the frames, as it does for the kernel's
 *   own forwarding. PACKET_IGNORE_OUTGOING (Linux 4.20+) keeps the namespace's own
 *   transmissions out (the director's included);
 * - one to send, bound to the interface with protocol 0: it receives nothing, and a
 *   write() on it goes out of that interface.
 *
 * 4 MiB buffers each way.
 */
export const LAUNCH_PY = String.raw`
import ctypes, os, socket, struct, sys
ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
SO_ATTACH_FILTER = 26
SO_SNDBUFFORCE, SO_RCVBUFFORCE = 32, 33
libc = ctypes.CDLL(None, use_errno=True)
args = sys.argv[1:]
if args and args[0] == "--pdeathsig":
    # Relaunched by a director process that stays to wait for us: go when it goes.
    import signal
    libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    args = args[1:]
sep = args.index("--")
names, prog = args[:sep], args[sep + 1:]

def buffers(s, force, opt):
    try:
        s.setsockopt(socket.SOL_SOCKET, force, 4 << 20)
    except OSError:
        try:
            s.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
        except OSError:
            pass

def only_ifindex(s, ifindex):
    # ld [ifidx]; jeq #ifindex, accept, drop; accept: ret #262144; drop: ret #0
    code = [(0x20, 0, 0, 0xfffff008), (0x15, 0, 1, ifindex), (0x06, 0, 0, 0x40000), (0x06, 0, 0, 0)]
    insns = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in code))
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(code), ctypes.addressof(insns)))

def bind_all(s):
    sll = struct.pack("HHiHBB8s", socket.AF_PACKET, socket.htons(ETH_P_ALL), 0, 0, 0, 0, b"")
    if libc.bind(s.fileno(), sll, len(sll)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

fds, socks = [], []
try:
    for name in names:
        try:
            ifindex = socket.if_nametoindex(name)
        except OSError:
            raise OSError(19, os.strerror(19))  # ENODEV
        # Protocol 0 until bound: the socket sees nothing meanwhile.
        rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        socks.append(rx)
        try:
            rx.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            raise LookupError()
        buffers(rx, SO_RCVBUFFORCE, socket.SO_RCVBUF)
        only_ifindex(rx, ifindex)
        bind_all(rx)
        tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        socks.append(tx)
        buffers(tx, SO_SNDBUFFORCE, socket.SO_SNDBUF)
        tx.bind((name, 0))
        # A full buffer is a full NIC ring: the transmit thread retries a moment, then drops.
        tx.setblocking(False)
    for i, name in enumerate(names):
        rx, tx = socks[2 * i].detach(), socks[2 * i + 1].detach()
        os.set_inheritable(rx, True)
        os.set_inheritable(tx, True)
        fds.append("%s=%d:%d" % (name, rx, tx))
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

/** The parts of libuv's pipe handle (Node's internal StreamBase) the receive path uses. */
interface PipeHandle {
  open(fd: number): number;
  close(cb?: () => void): void;
  readStart(): number;
  readStop(): number;
  /** Reads land in this buffer; onread may return the next one. */
  useUserBuffer(buf: Uint8Array): void;
  onread: ((ab: ArrayBuffer | undefined) => Uint8Array | undefined) | undefined;
}
type PipeCtor = new (type: number) => PipeHandle;

interface StreamBinding {
  Pipe: PipeCtor;
  SOCKET: number;
  /** Where StreamBase leaves a read's byte count (or negative libuv error) for onread. */
  state: Int32Array;
  nreadIndex: number;
}

/** libuv's pipe handle, which adopts any stream descriptor (undefined where unavailable). */
function pipeWrap(): StreamBinding | undefined {
  try {
    const binding = (process as unknown as { binding(n: string): Record<string, unknown> }).binding;
    const pw = binding("pipe_wrap") as { Pipe: PipeCtor; constants: { SOCKET: number } };
    const sw = binding("stream_wrap") as { streamBaseState: Int32Array; kReadBytesOrError: number };
    if (typeof pw.Pipe !== "function" || !(sw.streamBaseState instanceof Int32Array) || typeof sw.kReadBytesOrError !== "number") return undefined;
    const probe = pw.Pipe.prototype as Partial<PipeHandle>;
    if (typeof probe.useUserBuffer !== "function" || typeof probe.readStart !== "function") return undefined;
    return { Pipe: pw.Pipe, SOCKET: pw.constants.SOCKET, state: sw.streamBaseState, nreadIndex: sw.kReadBytesOrError };
  } catch {
    return undefined;
  }
}

/** Whether this process can take inherited packet sockets. */
export function directIoAvailable(): boolean {
  return pipeWrap() !== undefined;
}

/** An interface's two sockets: one that receives its frames, one that sends on it. */
export interface PacketFds {
  readonly rx: number;
  readonly tx: number;
}

/**
 * The sockets the launcher left us, by interface name ("eth0=3:4": receive on 3, send on 4);
 * an Error for the launcher's failure; undefined when not launched so.
 */
export function inheritedPacketFds(env: NodeJS.ProcessEnv = process.env): Map<string, PacketFds> | Error | undefined {
  const err = env[ERROR_ENV];
  if (err !== undefined) {
    const bar = err.lastIndexOf("|");
    const errno = Number(err.slice(bar + 1));
    const hint = errno === 1 ? " (real mode needs root, or CAP_NET_RAW and CAP_NET_ADMIN)" : "";
    return new Error(`cannot open a raw socket on ${err.slice(0, bar)}${hint}`);
  }
  const v = env[FDS_ENV];
  if (v === undefined) return undefined;
  const m = new Map<string, PacketFds>();
  const fdOf = (x: string | undefined): number | undefined => (x !== undefined && /^\d+$/.test(x) && Number(x) > 2 ? Number(x) : undefined);
  for (const part of v.split(",")) {
    const eq = part.lastIndexOf("=");
    if (eq <= 0) continue;
    const [a, b, ...rest] = part.slice(eq + 1).split(":");
    const rx = fdOf(a);
    const tx = fdOf(b);
    if (rx !== undefined && tx !== undefined && rest.length === 0) m.set(part.slice(0, eq), { rx, tx });
  }
  return m;
}

export function openDirectPacketIo(ifaces: readonly string[], fds: ReadonlyMap<string, PacketFds>): PacketIo {
  const pw = pipeWrap();
  const n = ifaces.length;
  const stats: PacketIoStats = { tx: zeros(n), txDropped: zeros(n), rx: zeros(n), rxCsumFixed: zeros(n), rxTruncated: zeros(n) };
  const handles: PipeHandle[] = [];
  let closed = false;
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
      // The sending sockets are closed once the transmit thread is gone: a descriptor
      // number freed under it could be reused by the next open() and written to.
      const txOnly = ifaces.map((x) => fds.get(x)).filter((f): f is PacketFds => f !== undefined && f.tx !== f.rx).map((f) => f.tx);
      void ring?.close().then(() => {
        for (const fd of txOnly) closeQuietly(fd);
      });
      for (const h of handles) {
        h.readStop();
        h.close();
      }
    },
  };
  if (readyErr) {
    io.ready.catch(() => undefined);
    return io;
  }
  ring = new TxRing(ifaces.map((x) => fds.get(x)!.tx), (e) => io.onExit(`transmit thread: ${e.message}`));
  // Each socket reads its frames straight into a slab of its own, each where the previous
  // one ended (8-byte aligned), and they are handed on as views of it: no copy, no
  // allocation per frame. A slab is never written twice: when the room left cannot hold
  // the largest frame, reading goes on in a fresh one, and the old one lives as long as
  // some frame still points into it.
  const { state, nreadIndex } = pw!;
  ifaces.forEach((name, port) => {
    const fd = fds.get(name)!.rx;
    const h = new pw!.Pipe(pw!.SOCKET);
    const err = h.open(fd);
    if (err) throw new Error(`${name}: cannot adopt the raw socket (uv error ${err})`);
    let slab = new ArrayBuffer(SLAB_BYTES);
    let off = 0;
    const nextBuffer = (): Uint8Array => {
      if (off + RX_BUFFER > SLAB_BYTES) {
        slab = new ArrayBuffer(SLAB_BYTES);
        off = 0;
      }
      return new Uint8Array(slab, off, RX_BUFFER);
    };
    // libuv calls back once per read() (a packet socket returns one frame per read), with
    // the byte count in StreamBase's shared state; what onread returns is where the next
    // read lands.
    h.onread = (): Uint8Array | undefined => {
      const nread = state[nreadIndex]!;
      if (nread <= 0) {
        if (nread < 0 && !closed) {
          h.readStop();
          io.onExit(`${name}: ${nread === UV_EOF ? "end of file" : getSystemErrorName(nread)}`);
        }
        return undefined;
      }
      stats.rx[port]!++;
      if (nread >= RX_BUFFER) {
        stats.rxTruncated[port]!++;
        return undefined; // the same buffer again
      }
      const frame = new Uint8Array(slab, off, nread);
      off += (nread + 7) & ~7;
      if (completePartialChecksum(frame)) stats.rxCsumFixed[port]!++;
      io.onFrame(port, frame);
      // A read is a batch of one: what the frame set off (its forwarding, replies) goes
      // out before the next read, with no trip round the event loop.
      io.onBatch();
      return nextBuffer();
    };
    h.useUserBuffer(nextBuffer());
    const rs = h.readStart();
    if (rs) throw new Error(`${name}: cannot read the raw socket (uv error ${rs})`);
    handles.push(h);
  });
  return io;
}

function zeros(n: number): number[] {
  return new Array<number>(n).fill(0);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
