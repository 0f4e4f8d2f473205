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
 * Per frame the bridge makes one recv() and one send(): with PACKET_IGNORE_OUTGOING (Linux
 * 4.20+) the kernel keeps our own transmissions away, so no source address is asked for
 * (Python resolves it to an interface name with an extra ioctl per frame); older kernels
 * get recvfrom() and the PACKET_OUTGOING test.
 *
 * One epoll loop, every descriptor non-blocking: reading the sockets never waits behind
 * a write to Node, and sending never waits behind reading. Both directions have bounded
 * buffers; what does not fit is dropped and counted, as a NIC ring would. stdin's EOF
 * (the director is gone) ends the bridge.
 */
export const BRIDGE_PY = String.raw`
import errno, json, os, select, signal, socket, struct, sys

ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
PACKET_OUTGOING = 4
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

socks = []
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
except OSError as e:
    control({"error": "%s: %s" % (name, e.strerror or str(e)), "errno": e.errno or 0})
    flush_blocking()
    sys.exit(1)

os.set_blocking(0, False)
os.set_blocking(1, False)
txq = [[] for _ in socks]
inbuf = b""
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

def read_stdin():
    global inbuf
    try:
        chunk = os.read(0, 1 << 20)
    except (BlockingIOError, InterruptedError):
        return True
    if not chunk:
        return False
    buf = inbuf + chunk if inbuf else chunk
    mv = memoryview(buf)
    pos = 0
    n = len(buf)
    nsock = len(socks)
    while n - pos >= 3:
        port = buf[pos]
        ln = (buf[pos + 1] << 8) | buf[pos + 2]
        end = pos + 3 + ln
        if end > n:
            break
        if port < nsock:
            send(port, mv[pos + 3:end])
        elif port == 255:
            control({"stats": stats})
        pos = end
    mv.release()
    inbuf = buf[pos:] if pos < n else b""
    return True

def read_sock(i):
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
