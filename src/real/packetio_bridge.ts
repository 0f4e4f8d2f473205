/**
 * The Python 3 program that owns the director's raw sockets (Node has no AF_PACKET, and
 * lvslab ships no native addon). It is kept here as a string and run with `python3 -c`, so
 * it works from an npm install with nothing to find on disk. Standard library only.
 *
 * Records on its stdin (frames to send):   u8 port, u16 length (big-endian), frame bytes.
 * Records on its stdout (frames received): u8 port, u8 flags, u16 length, frame bytes.
 * Port 255 carries control messages as JSON: on stdout {"ready":[...]} once every socket
 * is bound, {"error":"..."} before exiting on a failure, and the counters in answer to a
 * "stats" record on stdin.
 *
 * Flags: bit 1 = the frame was longer than 64 KiB and is truncated (the director drops it).
 * Partial checksums (offloads on) are recognised and finished by the director (offload.ts).
 *
 * Frames are received through a PACKET_MMAP ring (TPACKET_V2) and sent with one send()
 * each: with PACKET_IGNORE_OUTGOING (Linux 4.20+) the kernel keeps our own transmissions
 * away. Older kernels, or a ring the kernel refuses, get one recvfrom() per frame and the
 * PACKET_OUTGOING test (recv() when only the ring is missing).
 *
 * One epoll loop, every descriptor non-blocking: reading the sockets never waits behind
 * a write to Node, and sending never waits behind reading. Both directions have bounded
 * buffers; what does not fit is dropped and counted, as a NIC ring would. stdin's EOF
 * (the director is gone) ends the bridge.
 */
export const BRIDGE_PY = String.raw`
import errno, json, mmap, os, select, signal, socket, struct, sys

ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
PACKET_OUTGOING = 4
PACKET_RX_RING = 5
PACKET_COPY_THRESH = 7
PACKET_VERSION = 10
TPACKET_V2 = 1
TP_STATUS_USER = 1
TP_STATUS_COPY = 2
RING_BYTES = 4 << 20   # per interface
OUT_MAX = 8 << 20      # bytes waiting for Node before frames are dropped
TXQ_MAX = 1024         # frames waiting for a busy socket before frames are dropped
BATCH = 256            # frames read from one socket per select round
SNAP = 65535
RECV_MAX = SNAP + 1    # one byte more than a record can carry: longer frames are flagged

signal.signal(signal.SIGINT, signal.SIG_IGN)  # the director decides when to stop
names = sys.argv[1:]
stats = {"rx": [0] * len(names), "tx": [0] * len(names), "rx_dropped": [0] * len(names),
         "tx_dropped": [0] * len(names), "rx_truncated": [0] * len(names)}
out = bytearray()

def emit(port, flags, data):
    out.extend(struct.pack(">BBH", port, flags, len(data)))
    out.extend(data)

def control(obj):
    emit(255, 0, json.dumps(obj).encode())

def flush_blocking():
    os.set_blocking(1, True)
    try:
        os.write(1, bytes(out))
    except OSError:
        pass

def open_ring(s, name):
    # A PACKET_MMAP receive ring (TPACKET_V2): the kernel writes frames into memory shared
    # with us, so reading one costs no system call. A slot holds an MTU-sized frame; a
    # longer one (a GRO super-frame) is also queued whole to the socket (PACKET_COPY_THRESH)
    # and its slot says so (TP_STATUS_COPY). Without the ring, one recv() per frame.
    try:
        with open("/sys/class/net/%s/mtu" % name) as f:
            mtu = int(f.read())
        fsize = 2048
        while fsize < mtu + 256:
            fsize <<= 1
        bsize = max(fsize, 1 << 16)
        bnr = max(1, RING_BYTES // bsize)
        fnr = bnr * (bsize // fsize)
        s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
        s.setsockopt(SOL_PACKET, PACKET_COPY_THRESH, 1)
        s.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack("IIII", bsize, bnr, fsize, fnr))
        m = mmap.mmap(s.fileno(), bsize * bnr, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    except (OSError, ValueError):
        return None
    return [m, memoryview(m), fsize, fnr, 0]

socks = []
rings = []
ignore_outgoing = True
try:
    for name in names:
        # Protocol 0 until bound: the socket sees nothing from other interfaces meanwhile.
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            ignore_outgoing = False  # Linux < 4.20: PACKET_OUTGOING is filtered when reading
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                s.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
            except OSError:
                pass
        s.bind((name, ETH_P_ALL))
        s.setblocking(False)
        socks.append(s)
        rings.append(open_ring(s, name) if ignore_outgoing else None)
except OSError as e:
    control({"error": "%s: %s" % (name, e.strerror or str(e)), "errno": e.errno or 0})
    flush_blocking()
    sys.exit(1)

os.set_blocking(0, False)
os.set_blocking(1, False)
txq = [[] for _ in socks]
control({"ready": names})
pack_hdr = struct.Struct(">BBH").pack
rx, rx_dropped, rx_trunc = stats["rx"], stats["rx_dropped"], stats["rx_truncated"]
tx, tx_dropped = stats["tx"], stats["tx_dropped"]

# Level-triggered epoll: stdin and the sockets for reading; a socket for writing only while
# its queue is not empty, stdout only while frames wait for Node.
ep = select.epoll()
ep.register(0, select.EPOLLIN)
sockfd = {s.fileno(): i for i, s in enumerate(socks)}
for s in socks:
    ep.register(s.fileno(), select.EPOLLIN)
ep.register(1, 0)
reading = True
out_watch = False

def watch_sock(i):
    ep.modify(socks[i].fileno(), (select.EPOLLIN if reading else 0) | (select.EPOLLOUT if txq[i] else 0))

def send(i, frame):
    q = txq[i]
    if q:
        if len(q) >= TXQ_MAX:
            tx_dropped[i] += 1
        else:
            q.append(bytes(frame))
        return
    try:
        socks[i].send(frame)
        tx[i] += 1
        return
    except (BlockingIOError, InterruptedError):
        pass
    except OSError as e:
        if e.errno != errno.ENOBUFS:
            tx_dropped[i] += 1  # ENETDOWN, EMSGSIZE...: the frame is lost, as on a wire
            return
    q.append(bytes(frame))
    watch_sock(i)

def drain_txq(i):
    q = txq[i]
    s = socks[i]
    while q:
        try:
            s.send(q[0])
            tx[i] += 1
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            if e.errno == errno.ENOBUFS:
                return
            tx_dropped[i] += 1
        q.pop(0)
    watch_sock(i)

INBUF = 1 << 20
inbuf = bytearray(INBUF + 65536 + 3)
inmv = memoryview(inbuf)
have = 0

def read_stdin():
    # Into one buffer allocated once (os.read would map and unmap a fresh megabyte per call).
    global have
    try:
        k = os.readv(0, [inmv[have:have + INBUF]])
    except (BlockingIOError, InterruptedError):
        return True
    if not k:
        return False
    n = have + k
    pos = 0
    nsock = len(socks)
    while n - pos >= 3:
        port = inbuf[pos]
        ln = (inbuf[pos + 1] << 8) | inbuf[pos + 2]
        end = pos + 3 + ln
        if end > n:
            break
        if port < nsock:
            send(port, inmv[pos + 3:end])
        elif port == 255:
            control({"stats": stats})
        pos = end
    have = n - pos
    if have:
        inbuf[:have] = inbuf[pos:n]
    return True

ring_hdr = struct.Struct("IIIH").unpack_from
ring_status = struct.Struct("I").unpack_from
ZERO4 = bytes(4)

def read_ring(i, r):
    m, mv, fsize, fnr, k = r
    s = socks[i]
    for _ in range(BATCH):
        off = k * fsize
        status, ln, snap, mac = ring_hdr(m, off)
        if not status & TP_STATUS_USER:
            break
        f = 0
        data = None
        if status & TP_STATUS_COPY:
            try:
                data = s.recv(RECV_MAX)
            except OSError:
                data = None
        if data is not None:
            ln = snap = len(data)
        if ln > snap or snap > SNAP:
            f = 2
            rx_trunc[i] += 1
            snap = min(snap, SNAP)
        if len(out) >= OUT_MAX:
            rx_dropped[i] += 1
        else:
            rx[i] += 1
            out.extend(pack_hdr(i, f, snap))
            out.extend(mv[off + mac:off + mac + snap] if data is None else memoryview(data)[:snap])
        m[off:off + 4] = ZERO4  # the slot goes back to the kernel
        k += 1
        if k == fnr:
            k = 0
    r[4] = k

def read_sock(i):
    r = rings[i]
    if r is not None:
        read_ring(i, r)
        return
    s = socks[i]
    recv = s.recv
    recvfrom = s.recvfrom
    for _ in range(BATCH):
        try:
            if ignore_outgoing:
                data = recv(RECV_MAX)
            else:
                data, addr = recvfrom(RECV_MAX)
                if addr[2] == PACKET_OUTGOING:
                    continue
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # the interface went down; it comes back by itself
        f = 0
        if len(data) > SNAP:
            f = 2
            rx_trunc[i] += 1
            data = data[:SNAP]
        if len(out) >= OUT_MAX:
            rx_dropped[i] += 1
            continue
        rx[i] += 1
        out.extend(pack_hdr(i, f, len(data)))
        out.extend(data)

def set_reading(on):
    global reading
    if on != reading:
        reading = on
        for i in range(len(socks)):
            watch_sock(i)

while True:
    if out:
        try:
            k = os.write(1, out)
            del out[:k]
        except (BlockingIOError, InterruptedError):
            pass
        except BrokenPipeError:
            sys.exit(0)
    # Stop reading the sockets while Node is behind (the kernel's socket buffers then fill
    # and drop, counted there); watch stdout only while something waits for it.
    set_reading(len(out) < OUT_MAX)
    want = bool(out)
    if want != out_watch:
        out_watch = want
        ep.modify(1, select.EPOLLOUT if want else 0)
    try:
        events = ep.poll()
    except InterruptedError:
        continue
    for fd, ev in events:
        if fd == 0:
            if not read_stdin():
                sys.exit(0)
        elif fd == 1:
            if ev & (select.EPOLLERR | select.EPOLLHUP):
                sys.exit(0)  # nobody reads our frames any more
        else:
            i = sockfd[fd]
            if ev & select.EPOLLOUT:
                drain_txq(i)
            if ev & (select.EPOLLIN | select.EPOLLERR):
                read_sock(i)
`;
