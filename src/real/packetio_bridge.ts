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
 * Flags: bit 0 = the kernel left the L4 checksum partial (TP_STATUS_CSUMNOTREADY: a
 * locally generated packet on an interface with checksum offload), bit 1 = the frame was
 * truncated to the buffer (a GRO super-frame); the director completes the checksum.
 *
 * One select() loop, every descriptor non-blocking: reading the sockets never waits behind
 * a write to Node, and sending never waits behind reading. Both directions have bounded
 * buffers; what does not fit is dropped and counted, as a NIC ring would. stdin's EOF
 * (the director is gone) ends the bridge.
 */
export const BRIDGE_PY = String.raw`
import errno, json, os, select, signal, socket, struct, sys

ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_IGNORE_OUTGOING = 23
PACKET_OUTGOING = 4
TP_STATUS_CSUMNOTREADY = 8
OUT_MAX = 8 << 20      # bytes waiting for Node before frames are dropped
TXQ_MAX = 1024         # frames waiting for a busy socket before frames are dropped
BATCH = 256            # frames read from one socket per select round
SNAP = 65535

signal.signal(signal.SIGINT, signal.SIG_IGN)  # the director decides when to stop
names = sys.argv[1:]
stats = {"rx": [0] * len(names), "tx": [0] * len(names), "rx_dropped": [0] * len(names),
         "tx_dropped": [0] * len(names), "rx_csum_partial": [0] * len(names), "rx_truncated": [0] * len(names)}
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
try:
    for name in names:
        # Protocol 0 until bound: the socket sees nothing from other interfaces meanwhile.
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            pass  # Linux < 4.20: PACKET_OUTGOING is filtered below
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
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
inbuf = bytearray()
control({"ready": names})
fdmap = {s.fileno(): i for i, s in enumerate(socks)}
AUX = struct.Struct("IIIHHHH")
CMSG = socket.CMSG_SPACE(AUX.size)

def send(i, frame):
    if txq[i]:
        if len(txq[i]) >= TXQ_MAX:
            stats["tx_dropped"][i] += 1
        else:
            txq[i].append(frame)
        return
    try:
        socks[i].send(frame)
        stats["tx"][i] += 1
    except BlockingIOError:
        txq[i].append(frame)
    except OSError as e:
        if e.errno in (errno.ENOBUFS, errno.EAGAIN):
            txq[i].append(frame)
        else:
            stats["tx_dropped"][i] += 1  # ENETDOWN, EMSGSIZE...: the frame is lost, as on a wire

def drain_txq(i):
    q = txq[i]
    while q:
        try:
            socks[i].send(q[0])
            stats["tx"][i] += 1
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            if e.errno in (errno.ENOBUFS, errno.EAGAIN):
                return
            stats["tx_dropped"][i] += 1
        q.pop(0)

def read_stdin():
    global inbuf
    try:
        chunk = os.read(0, 1 << 20)
    except BlockingIOError:
        return True
    if not chunk:
        return False
    inbuf.extend(chunk)
    pos = 0
    n = len(inbuf)
    while n - pos >= 3:
        port = inbuf[pos]
        ln = (inbuf[pos + 1] << 8) | inbuf[pos + 2]
        if n - pos - 3 < ln:
            break
        frame = bytes(inbuf[pos + 3:pos + 3 + ln])
        pos += 3 + ln
        if port == 255:
            control({"stats": stats})
        elif port < len(socks):
            send(port, frame)
    del inbuf[:pos]
    return True

def read_sock(i):
    s = socks[i]
    for _ in range(BATCH):
        try:
            data, anc, flags, addr = s.recvmsg(SNAP, CMSG, socket.MSG_TRUNC)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # the interface went down; it comes back by itself
        if addr[2] == PACKET_OUTGOING:
            continue
        f = 0
        for level, typ, cdata in anc:
            if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cdata) >= AUX.size:
                if AUX.unpack_from(cdata)[0] & TP_STATUS_CSUMNOTREADY:
                    f |= 1
                    stats["rx_csum_partial"][i] += 1
        if len(data) > SNAP or (flags & socket.MSG_TRUNC):
            f |= 2
            stats["rx_truncated"][i] += 1
            data = data[:SNAP]
        if len(out) >= OUT_MAX:
            stats["rx_dropped"][i] += 1
            continue
        stats["rx"][i] += 1
        emit(i, f, data)

while True:
    rl = [0]
    if len(out) < OUT_MAX:
        rl.extend(s.fileno() for s in socks)
    wl = [socks[i].fileno() for i in range(len(socks)) if txq[i]]
    if out:
        wl.append(1)
    try:
        r, w, _ = select.select(rl, wl, [])
    except InterruptedError:
        continue
    for fd in w:
        if fd == 1:
            continue
        drain_txq(fdmap[fd])
    for fd in r:
        if fd == 0:
            if not read_stdin():
                sys.exit(0)
        else:
            read_sock(fdmap[fd])
    if out:
        try:
            k = os.write(1, out)
            del out[:k]
        except BlockingIOError:
            pass
        except BrokenPipeError:
            sys.exit(0)
`;
