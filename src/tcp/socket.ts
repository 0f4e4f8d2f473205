/**
 * One TCP connection: the state machine of RFC 9293 with the choices Linux 6.1 makes on
 * the wire (net/ipv4/tcp_input.c, tcp_output.c, tcp_timer.c). Comments name the kernel
 * function each piece mirrors.
 */
import type { Micros } from "../sim/clock.js";
import type { EventHandle } from "../sim/queue.js";
import type { Ip4 } from "../wire/addr.js";
import {
  TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpOption, type TcpSegment, emitTcp,
} from "../wire/tcp.js";
import { ByteQueue, after, before, seqAdd, seqDiff } from "./seq.js";
import type { TcpListener, TcpStack } from "./stack.js";
import type { TcpErrno, TcpSocketInfo, TcpState } from "./types.js";

// include/net/tcp.h
export const TCP_TIMEOUT_INIT: Micros = 1_000_000;
export const TCP_RTO_MIN: Micros = 200_000;
export const TCP_RTO_MAX: Micros = 120_000_000;
export const TCP_DELACK_MIN: Micros = 40_000;
export const TCP_DELACK_MAX: Micros = 200_000;
export const TCP_ATO_MIN: Micros = 40_000;
export const TCP_TIMEWAIT_LEN: Micros = 60_000_000;
const TCP_MAX_QUICKACKS = 16;
const TCP_MSS_DEFAULT = 536;
const TCP_MIN_MSS = 88;
const TCP_INIT_CWND = 10;
/** Reverted to 1 in 2023 ("Revert tcp: change pingpong threshold to 3"), in 6.1 stable. */
const TCP_PINGPONG_THRESH = 1;
const TCPOLEN_TSTAMP_ALIGNED = 12;
const TCP_MAX_WSCALE = 14;

type RtxKind = "syn" | "synack" | "rto" | "probe";

/** Where an ACK-bearing segment's window and options come from. */
interface OutSeg {
  flags: number;
  seq: number;
  payload?: Uint8Array;
  /** Retransmission (not counted in OutSegs). */
  rtx?: boolean;
}

export interface ConnectOptions {
  dst: Ip4;
  dport: number;
  src?: Ip4;
  sport?: number;
  /** TCP_NODELAY (curl sets it; Linux's default is Nagle on). */
  noDelay?: boolean;
}

export class TcpSocket {
  state: TcpState = "CLOSED";
  localAddr: Ip4 = 0;
  localPort = 0;
  remoteAddr: Ip4 = 0;
  remotePort = 0;
  /** Set when the connection ended with an error. */
  error?: TcpErrno;
  /** True for sockets created by a listener. */
  readonly passive: boolean;

  onConnect?: () => void;
  onData?: (bytes: Uint8Array) => void;
  /** The peer sent FIN (all its data has been delivered). */
  onEnd?: () => void;
  /** The connection is over (CLOSED or TIME_WAIT); `err` when it failed. */
  onClose?: (err?: TcpErrno) => void;

  /** Options of the SYN this socket was created from (passive sockets). */
  synOptions: readonly TcpOption[] = [];
  /** Options of the ACK that completed the handshake (passive sockets). */
  ackOptions: readonly TcpOption[] = [];
  /** The TOA option (kind 254) of the handshake-completing ACK, as the toa module keeps it. */
  toa?: { addr: Ip4; port: number };
  /** TCP_NODELAY. */
  noDelay = false;

  // ---- send side ----
  private iss = 0;
  /** inet_id: the IPv4 id of this socket's next packet (DF set, so ids only need to be unique per flow). */
  private ipId = -1;
  private sndUna = 0;
  private sndNxt = 0;
  /** Highest sequence sent (snd_nxt before a go-back-N retransmission). */
  private sndMax = 0;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private maxWindow = 0;
  private sndWscale = 0;
  private readonly sendQ = new ByteQueue();
  /** Sequence number of sendQ's first byte. */
  private sendQSeq = 0;
  /** Sequence numbers where an application write ended (PSH goes on that segment). */
  private writeEnds: number[] = [];
  private finQueued = false;
  /** The FIN first left without data (tcp_send_fin found no unsent skb to ride on). */
  private finSentAlone = false;
  private finSeq = 0;
  /** Effective send MSS (payload bytes per segment, after the timestamp option). */
  private mss = TCP_MSS_DEFAULT;
  private advmss = 1460;
  private peerMss = TCP_MSS_DEFAULT;
  private cwnd = TCP_INIT_CWND;
  private cwndCnt = 0;
  private ssthresh = 0x7fffffff;
  private dupAcks = 0;
  /** snd_max when fast recovery started (NewReno's "recover"). */
  private recoverySeq: number | undefined;
  /** Minshall's Nagle: end of the last small segment sent. */
  private sndSml = 0;
  private rto: Micros = TCP_TIMEOUT_INIT;
  private srtt: Micros | undefined;
  private rttvar: Micros = 0;
  private retransmits = 0;
  private headSentAt: Micros = 0;
  private rttSeq: number | undefined;
  private rttStart: Micros = 0;

  // ---- receive side ----
  private irs = 0;
  private rcvNxt = 0;
  private rcvWnd = 0;
  private rcvWup = 0;
  private rcvWscale = 0;
  private windowClamp = 0;
  private rcvSsthresh = 0;
  private rcvbuf = 131072;
  private tsOk = false;
  private sackOk = false;
  private wscaleOk = false;
  private tsRecent = 0;
  private tsOffset = 0;
  private ooo: { seq: number; data: Uint8Array; fin: boolean }[] = [];
  private readonly rcvQ = new ByteQueue();
  /** Bytes queued for the application in this input pass. */
  private toDeliver: Uint8Array[] = [];
  private eofPending = false;
  /** The peer's FIN has been received (RCV_SHUTDOWN from the peer side). */
  private peerFin = false;
  /** close() was called: the socket is an orphan (SOCK_DEAD). */
  private orphan = false;
  private eofDelivered = false;
  /** DRS (tcp_rcv_space_adjust) state. */
  private rcvSpace = { space: 0, seq: 0, time: 0 };

  // ---- delayed ACK engine (icsk_ack) ----
  private ack = {
    quick: 0,
    pingpong: 0,
    ato: 0,
    lrcvtime: 0,
    pending: false,
    /** 1 = ICSK_ACK_PUSHED, 2 = ICSK_ACK_PUSHED2 */
    pushed: 0,
    now: false,
    rcvMss: TCP_MSS_DEFAULT,
    lastSegSize: 0,
    timer: undefined as EventHandle | undefined,
    timeout: 0,
  };

  // ---- timers ----
  private rtx: { h: EventHandle; kind: RtxKind; expires: Micros } | undefined;
  private stateTimer: { h: EventHandle; kind: "timewait" | "finwait2"; expires: Micros } | undefined;
  private synackRetries = 0;

  private closeNotified = false;
  private connectWaiters: ((r: true | TcpErrno) => void)[] = [];
  private readWaiters: ((r: Uint8Array | null) => void)[] = [];
  /** Soft error from ICMP, reported if the connection later times out. */
  private softError: TcpErrno | undefined;
  /** icsk_pmtu_cookie: the route MTU the MSS was last computed on. */
  private pmtuCookie = 0;
  /** The listener a SYN_RECV socket belongs to. */
  listener: TcpListener | undefined;

  constructor(readonly stack: TcpStack, passive: boolean) {
    this.passive = passive;
  }

  // =====================================================================================
  // Application API
  // =====================================================================================

  /** Queues bytes for sending; returns the count accepted or an error. */
  send(data: Uint8Array | string): number | TcpErrno {
    const b = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (this.error) return this.error === "ECONNRESET" ? "EPIPE" : this.error;
    if (this.finQueued || !this.canSend()) return "EPIPE";
    if (b.length === 0) return 0;
    this.sendQ.push(b.slice());
    this.writeEnds.push(this.dataEnd());
    if (this.state === "ESTABLISHED" || this.state === "CLOSE_WAIT") this.pushPending();
    return b.length;
  }

  /** shutdown(SHUT_WR): FIN after the queued data. */
  shutdown(): void {
    if (this.finQueued) return;
    switch (this.state) {
      case "ESTABLISHED":
        this.finQueued = true;
        this.finSeq = this.dataEnd();
        this.setState("FIN_WAIT1");
        this.pushPending();
        break;
      case "CLOSE_WAIT":
        this.finQueued = true;
        this.finSeq = this.dataEnd();
        this.setState("LAST_ACK");
        this.pushPending();
        break;
      case "SYN_SENT":
      case "SYN_RECV":
        // Linux waits for the handshake and sends FIN then; keep it simple: remember it.
        this.finQueued = true;
        break;
      default:
        break;
    }
  }

  /**
   * close(): FIN, or RST when unread data is left (tcp_close: "data was unread, send
   * active reset", TCPAbortOnClose). The socket becomes an orphan.
   */
  close(): void {
    if (this.orphan) return;
    this.orphan = true;
    this.onData = undefined;
    if (this.state === "CLOSED" || this.state === "TIME_WAIT") return;
    if (this.state === "SYN_SENT") {
      this.done();
      return;
    }
    if (this.rcvQ.length > 0) {
      this.stack.ext.TCPAbortOnClose++;
      this.sendActiveReset();
      this.done();
      return;
    }
    this.shutdown();
  }

  /** close() with SO_LINGER{1,0}: RST to the peer (tcp_disconnect). */
  abort(): void {
    this.orphan = true;
    switch (this.state) {
      case "ESTABLISHED": case "CLOSE_WAIT": case "FIN_WAIT1": case "FIN_WAIT2":
      case "CLOSING": case "LAST_ACK": case "SYN_RECV":
        this.sendActiveReset();
        this.done();
        break;
      case "SYN_SENT":
        this.done();
        break;
      case "TIME_WAIT":
        this.done();
        break;
      default:
        break;
    }
  }

  /** Resolves true once ESTABLISHED, or with the error the attempt ended with. */
  connected(): Promise<true | TcpErrno> {
    if (this.state !== "SYN_SENT" && this.state !== "SYN_RECV" && this.state !== "CLOSED") {
      return Promise.resolve(true);
    }
    if (this.state === "CLOSED") return Promise.resolve(this.error ?? "ENOTCONN");
    return new Promise((r) => this.connectWaiters.push(r));
  }

  /** Next received bytes; null at end of stream (peer FIN) or when the connection is gone. */
  read(): Promise<Uint8Array | null> {
    if (this.rcvQ.length > 0) {
      const b = this.rcvQ.takeAll();
      this.afterAppRead(b.length);
      return Promise.resolve(b);
    }
    if (this.peerFin || this.state === "CLOSED" || this.state === "TIME_WAIT") return Promise.resolve(null);
    return new Promise((r) => this.readWaiters.push(r));
  }

  /** getpeername(): the TOA address when the stack's toa module is loaded and one was carried. */
  getpeername(): { addr: Ip4; port: number } {
    if (this.stack.toaEnabled) {
      if (this.toa) {
        this.stack.toaStats.getname_toa_ok++;
        return { addr: this.toa.addr, port: this.toa.port };
      }
      this.stack.toaStats.getname_toa_empty++;
    }
    return { addr: this.remoteAddr, port: this.remotePort };
  }

  getsockname(): { addr: Ip4; port: number } {
    return { addr: this.localAddr, port: this.localPort };
  }

  /** Unread bytes (Recv-Q). */
  get unread(): number {
    return this.rcvQ.length;
  }

  /** Bytes not yet acknowledged by the peer, sent or not (Send-Q). */
  get unacked(): number {
    return this.sendQ.length;
  }

  info(): TcpSocketInfo {
    const i: TcpSocketInfo = {
      state: this.state,
      localAddr: this.localAddr,
      localPort: this.localPort,
      remoteAddr: this.remoteAddr,
      remotePort: this.remotePort,
      recvQ: this.rcvQ.length,
      sendQ: this.sendQ.length,
      rto: this.rto,
      mss: this.mss,
      cwnd: this.cwnd,
      sndWscale: this.sndWscale,
      rcvWscale: this.rcvWscale,
      ts: this.tsOk,
      sack: this.sackOk,
    };
    if (this.srtt !== undefined) i.srtt = this.srtt;
    if (this.rtx) {
      i.timer = { kind: this.rtx.kind === "probe" ? "persist" : "on", expires: this.rtx.expires, retrans: this.retransmits };
    } else if (this.stateTimer) {
      i.timer = { kind: "timewait", expires: this.stateTimer.expires, retrans: 0 };
    }
    return i;
  }

  // =====================================================================================
  // Opening
  // =====================================================================================

  /** tcp_v4_connect + tcp_connect: choose the ISN and options, send the SYN. */
  startActive(src: Ip4, sport: number, dst: Ip4, dport: number): void {
    this.localAddr = src;
    this.localPort = sport;
    this.remoteAddr = dst;
    this.remotePort = dport;
    const st = this.stack;
    this.iss = st.isn(src, sport, dst, dport);
    this.tsOffset = st.tsOffset(src, dst);
    this.tsOk = st.sysInt("net.ipv4.tcp_timestamps", 1) !== 0;
    this.sackOk = st.sysInt("net.ipv4.tcp_sack", 1) !== 0;
    this.wscaleOk = st.sysInt("net.ipv4.tcp_window_scaling", 1) !== 0;
    this.advmss = this.routeAdvmss();
    this.pmtuCookie = this.routeMtu();
    // tcp_connect_init: the window is computed on the full advmss (no ts_recent_stamp yet).
    this.initWindow(this.advmss);
    this.rcvSsthresh = this.rcvWnd;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.sndSml = this.iss;
    this.sendQSeq = seqAdd(this.iss, 1);
    this.rcvNxt = 0;
    this.rcvWup = 0;
    this.setState("SYN_SENT");
    st.counters.ActiveOpens++;
    this.sendSyn(false);
    this.armRtx("syn", TCP_TIMEOUT_INIT);
  }

  /** tcp_conn_request: a SYN reached `listener`; answer with a SYN-ACK. */
  startPassive(listener: TcpListener, seg: TcpSegment, src: Ip4, dst: Ip4): void {
    const st = this.stack;
    this.listener = listener;
    this.localAddr = dst;
    this.localPort = seg.dstPort;
    this.remoteAddr = src;
    this.remotePort = seg.srcPort;
    this.synOptions = seg.options;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvWup = this.rcvNxt;
    const o = readSynOptions(seg.options);
    this.tsOk = o.ts !== undefined && st.sysInt("net.ipv4.tcp_timestamps", 1) !== 0;
    this.sackOk = o.sackOk && st.sysInt("net.ipv4.tcp_sack", 1) !== 0;
    this.wscaleOk = o.wscale !== undefined && st.sysInt("net.ipv4.tcp_window_scaling", 1) !== 0;
    this.sndWscale = this.wscaleOk ? Math.min(o.wscale!, TCP_MAX_WSCALE) : 0;
    if (this.tsOk) this.tsRecent = o.ts!.val;
    this.peerMss = o.mss ?? TCP_MSS_DEFAULT;
    this.tsOffset = st.tsOffset(dst, src);
    this.iss = st.isn(dst, seg.dstPort, src, seg.srcPort);
    this.advmss = this.routeAdvmss();
    // tcp_openreq_init_rwin: the SYN-ACK window is computed on mss minus the timestamp option.
    this.initWindow(this.advmss - (this.tsOk ? TCPOLEN_TSTAMP_ALIGNED : 0));
    this.rcvSsthresh = this.rcvWnd;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.sndSml = this.iss;
    this.sendQSeq = seqAdd(this.iss, 1);
    this.sndWnd = seg.window; // never scaled in a SYN
    this.sndWl1 = seg.seq;
    this.setState("SYN_RECV");
    this.sendSyn(true);
    this.armRtx("synack", TCP_TIMEOUT_INIT);
  }

  /** tcp_select_initial_window: the first receive window, its clamp and our wscale. */
  private initWindow(mssForWin: number): void {
    const rmem = this.stack.sysInts("net.ipv4.tcp_rmem", [4096, 131072, 6291456]);
    this.rcvbuf = rmem[1] ?? 131072;
    let space = this.fullSpace();
    let clamp = 65535 * 2 ** TCP_MAX_WSCALE;
    space = Math.min(clamp, space);
    if (space > mssForWin) space -= space % mssForWin;
    this.rcvWnd = Math.min(space, 65535);
    let ws = 0;
    if (this.wscaleOk) {
      const rmemMax = this.stack.sysInt("net.core.rmem_max", 212992);
      let big = Math.max(rmem[2] ?? 6291456, rmemMax, space);
      big = Math.min(65535 * 2 ** TCP_MAX_WSCALE, big);
      ws = Math.max(0, Math.min(TCP_MAX_WSCALE, Math.floor(Math.log2(big)) - 15));
    }
    this.rcvWscale = ws;
    this.windowClamp = Math.min(65535 * 2 ** ws, clamp);
  }

  /** tcp_init_buffer_space, once the connection is established. */
  private initBufferSpace(): void {
    const maxwin = this.fullSpace();
    if (this.windowClamp >= maxwin) this.windowClamp = maxwin;
    if (this.windowClamp > 2 * this.advmss && this.windowClamp + this.advmss > maxwin) {
      this.windowClamp = Math.max(2 * this.advmss, maxwin - this.advmss);
    }
    this.rcvSsthresh = Math.min(this.rcvSsthresh, this.windowClamp);
    this.rcvSpace = { space: Math.min(this.rcvSsthresh, this.rcvWnd, TCP_INIT_CWND * this.advmss), seq: this.rcvNxt, time: this.stack.now() };
    // tcp_initialize_rcv_mss
    let hint = Math.min(this.advmss, this.mss, Math.floor(this.rcvWnd / 2), TCP_MSS_DEFAULT);
    hint = Math.max(hint, TCP_MIN_MSS);
    this.ack.rcvMss = hint;
  }

  /** dst_mtu of this socket's route: the device's MTU or a path MTU learnt for the peer. */
  private routeMtu(): number {
    return this.stack.ports.routeMtu?.(this.remoteAddr) ?? 1500;
  }

  private routeAdvmss(): number {
    const mtu = this.routeMtu();
    // ipv4_default_advmss: MTU − 40, at most IPV4_MAX_PMTU − 40.
    return Math.max(Math.min(mtu - 40, 65535 - 40), TCP_MIN_MSS);
  }

  /** tcp_sync_mss: what one segment carries on the route's MTU (icsk_pmtu_cookie remembers it). */
  private syncMss(): void {
    this.pmtuCookie = this.routeMtu();
    const pmtuMss = this.routeAdvmss();
    this.mss = Math.max(Math.min(this.peerMss, pmtuMss) - (this.tsOk ? TCPOLEN_TSTAMP_ALIGNED : 0), 48);
  }

  /**
   * tcp_v4_err (ICMP_FRAG_NEEDED) -> tcp_v4_mtu_reduced: the route learns `mtu`; when that
   * is below the MTU the MSS was computed on, the MSS shrinks and tcp_simple_retransmit
   * sends what is in flight again at once, cut to the new size (the lost segments, as a
   * whole from snd_una here: lvslab keeps no per-segment retransmission queue).
   */
  mtuReduced(mtu: number, seq: number): void {
    if (this.state === "CLOSED" || this.state === "TIME_WAIT") return;
    if (before(seq, this.sndUna) || after(seq, this.sndNxt)) return; // OutOfWindowIcmps
    const ports = this.stack.ports;
    ports.updatePmtu?.(this.remoteAddr, mtu);
    const now = this.routeMtu();
    // Remembered as a soft error in case the connection cannot recover.
    if (mtu < now) this.softError = "EMSGSIZE";
    if (!(this.pmtuCookie > now)) return;
    this.syncMss();
    if (this.state === "SYN_SENT" || this.sndUna === this.sndMax) return;
    this.rttSeq = undefined;
    this.sndNxt = this.sndUna;
    this.pushPending();
  }

  private fullSpace(): number {
    // tcp_win_from_space with tcp_adv_win_scale = 1: half the buffer is for data.
    return Math.floor(this.rcvbuf / 2);
  }

  // =====================================================================================
  // Input
  // =====================================================================================

  /** A segment for this connection (checksum already verified). */
  input(seg: TcpSegment): void {
    switch (this.state) {
      case "SYN_SENT":
        this.inputSynSent(seg);
        break;
      case "SYN_RECV":
        this.inputSynRecv(seg);
        break;
      case "TIME_WAIT":
        this.inputTimeWait(seg);
        break;
      case "CLOSED":
      case "LISTEN":
        break;
      default:
        this.inputSynchronized(seg);
    }
  }

  /** tcp_rcv_synsent_state_process */
  private inputSynSent(seg: TcpSegment): void {
    const f = seg.flags;
    if (f & TCP_ACK) {
      if (!after(seg.ack, this.iss) || after(seg.ack, this.sndMax)) {
        if (!(f & TCP_RST)) this.stack.sendReset(this.localAddr, this.remoteAddr, seg);
        return;
      }
    }
    if (f & TCP_RST) {
      if (f & TCP_ACK) this.reset();
      return;
    }
    if (!(f & TCP_SYN)) return;
    const o = readSynOptions(seg.options);
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvWup = this.rcvNxt;
    this.tsOk = this.tsOk && o.ts !== undefined;
    this.sackOk = this.sackOk && o.sackOk;
    if (this.wscaleOk && o.wscale !== undefined) {
      this.sndWscale = Math.min(o.wscale, TCP_MAX_WSCALE);
    } else {
      this.wscaleOk = false;
      this.sndWscale = 0;
      this.rcvWscale = 0;
      this.windowClamp = Math.min(this.windowClamp, 65535);
    }
    if (this.tsOk) this.tsRecent = o.ts!.val;
    this.peerMss = o.mss ?? TCP_MSS_DEFAULT;
    if (!(f & TCP_ACK)) {
      // Simultaneous open (rare): answer with SYN-ACK.
      this.setState("SYN_RECV");
      this.sndWnd = seg.window;
      this.sendSyn(true);
      return;
    }
    this.sndUna = seg.ack;
    this.sndNxt = seg.ack;
    this.sndWnd = seg.window; // the window of a SYN-ACK is never scaled
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.maxWindow = this.sndWnd;
    if (this.retransmits === 0) this.rttSample(this.stack.now() - this.rttStart);
    else if (this.srtt === undefined) this.rto = 3_000_000; // TCP_TIMEOUT_FALLBACK
    else this.setRto();
    this.retransmits = 0;
    this.cancelRtx();
    this.syncMss();
    this.initBufferSpace();
    this.setState("ESTABLISHED");
    this.ack.lrcvtime = this.stack.now();
    // tcp_rcv_synsent_state_process: no pending write → ACK at once.
    this.sendAck();
    this.notifyConnected();
    if (this.state !== "ESTABLISHED" && this.state !== "CLOSE_WAIT") return;
    this.onConnect?.();
    if (this.finQueued && this.state === "ESTABLISHED") {
      this.finQueued = false;
      this.shutdown();
    } else {
      this.pushPending();
    }
  }

  /** tcp_check_req: the request socket's view of a segment. */
  private inputSynRecv(seg: TcpSegment): void {
    const f = seg.flags;
    const st = this.stack;
    // A retransmitted SYN: send the SYN-ACK again.
    if ((f & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN && seg.seq === this.irs) {
      this.sendSyn(true, true);
      return;
    }
    const endSeq = seqAdd(seg.seq, seg.payload.length + (f & TCP_FIN ? 1 : 0));
    const inWindow = !before(endSeq, this.rcvNxt) && !after(seg.seq, seqAdd(this.rcvNxt, this.rcvWnd));
    if (!inWindow) {
      if (!(f & TCP_RST)) this.sendAck();
      return;
    }
    if (f & (TCP_RST | TCP_SYN)) {
      st.counters.AttemptFails++;
      if (!(f & TCP_RST)) st.sendReset(this.localAddr, this.remoteAddr, seg);
      this.drop();
      return;
    }
    if (!(f & TCP_ACK)) return;
    if (seg.ack !== seqAdd(this.iss, 1)) {
      st.sendReset(this.localAddr, this.remoteAddr, seg);
      return;
    }
    // syn_recv_sock: the full socket is born (and the toa hook reads this ACK's options).
    this.ackOptions = seg.options;
    // Without the module nothing looks at the option (and nothing counts).
    const toa = st.toaEnabled ? seg.options.find((o) => o.kind === "toa") : undefined;
    if (toa && toa.kind === "toa") {
      this.toa = { addr: toa.addr, port: toa.port };
      st.toaStats.syn_recv_sock_toa++;
    } else if (st.toaEnabled) {
      st.toaStats.syn_recv_sock_no_toa++;
    }
    this.cancelRtx();
    if (this.synackRetries === 0) this.rttSample(st.now() - this.rttStart);
    this.sndUna = seg.ack;
    this.sndNxt = seg.ack;
    this.sndWnd = seg.window * 2 ** this.sndWscale;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.maxWindow = this.sndWnd;
    this.syncMss();
    this.initBufferSpace();
    st.counters.PassiveOpens++;
    this.setState("ESTABLISHED");
    this.ack.lrcvtime = st.now();
    if (this.tsOk) {
      const ts = findTs(seg.options);
      if (ts) this.tsRecent = ts.val;
    }
    const listener = this.listener;
    this.listener = undefined;
    listener?.accepted(this);
    if (seg.payload.length > 0 || f & TCP_FIN) this.inputSynchronized(seg, true);
    else this.flushToApp();
  }

  /** tcp_timewait_state_process */
  private inputTimeWait(seg: TcpSegment): void {
    const f = seg.flags;
    if (f & TCP_RST) {
      this.done();
      return;
    }
    if (f & TCP_SYN && !(f & TCP_ACK) && after(seg.seq, this.rcvNxt)) {
      // TCP_TW_SYN: a new incarnation may reuse the 4-tuple if someone listens.
      const l = this.stack.findListener(this.localAddr, this.localPort);
      if (l) {
        this.done();
        l.input(seg, this.remoteAddr, this.localAddr);
        return;
      }
    }
    if (f & TCP_ACK) {
      if (f & TCP_FIN && seqAdd(seg.seq, seg.payload.length + 1) === this.rcvNxt) {
        // The peer did not get our last ACK: resend it and restart the 2MSL wait.
        this.armStateTimer("timewait", TCP_TIMEWAIT_LEN);
      }
      this.sendAck();
    }
  }

  /** tcp_rcv_established / tcp_rcv_state_process for the synchronized states. */
  private inputSynchronized(seg: TcpSegment, fromHandshake = false): void {
    const st = this.stack;
    const f = seg.flags;
    const len = seg.payload.length;
    const endSeq = seqAdd(seg.seq, len + (f & TCP_SYN ? 1 : 0) + (f & TCP_FIN ? 1 : 0));

    if (!fromHandshake) {
      // tcp_sequence
      if (before(endSeq, this.rcvWup) || after(seg.seq, seqAdd(this.rcvNxt, this.receiveWindow()))) {
        if (!(f & TCP_RST)) {
          if (f & TCP_SYN) this.challengeAck();
          else this.sendDupAck(seg);
        }
        return;
      }
      // RFC 5961 §3: only an exact RST resets; others in the window get a challenge ACK.
      if (f & TCP_RST) {
        const exact = seg.seq === this.rcvNxt ||
          ((this.state === "CLOSE_WAIT" || this.state === "LAST_ACK" || this.state === "CLOSING") &&
            seg.seq === seqAdd(this.rcvNxt, -1));
        if (exact) this.reset();
        else this.challengeAck();
        return;
      }
      if (f & TCP_SYN) {
        this.challengeAck();
        return;
      }
      if (!(f & TCP_ACK)) return;
      if (!this.processAck(seg)) return;
      if (this.state === "CLOSED" || this.state === "TIME_WAIT") {
        return;
      }
      if (this.tsOk) {
        const ts = findTs(seg.options);
        if (ts && !after(seg.seq, this.rcvWup)) this.tsRecent = ts.val;
      }
    }

    // Step 7: the segment text.
    if (len > 0 || f & TCP_FIN) {
      switch (this.state) {
        case "CLOSE_WAIT": case "CLOSING": case "LAST_ACK":
          // The peer already sent FIN: later data is ignored; a retransmission goes to
          // tcp_data_queue, which asks for an immediate ACK. That ACK rides on whatever
          // pushPending sends first (a FIN of ours the host could not send yet takes it along).
          if (before(seg.seq, this.rcvNxt)) this.dataQueue(seg);
          break;
        case "FIN_WAIT1": case "FIN_WAIT2":
          if (this.orphan && len > 0 && after(seqAdd(seg.seq, len), this.rcvNxt)) {
            // RFC 1122: data for a closed socket → RST (TCPAbortOnData).
            st.ext.TCPAbortOnData++;
            st.sendReset(this.localAddr, this.remoteAddr, seg);
            this.error = "ECONNRESET";
            this.done();
            return;
          }
          this.dataQueue(seg);
          break;
        default:
          this.dataQueue(seg);
      }
    }
    if (this.state === "CLOSED") return;
    this.pushPending();
    this.ackSndCheck();
    this.flushToApp();
  }

  /** tcp_ack: returns false when the segment must be discarded. */
  private processAck(seg: TcpSegment): boolean {
    const ackNo = seg.ack;
    if (after(ackNo, this.sndMax)) return false;
    if (before(ackNo, this.sndUna)) {
      if (before(ackNo, seqAdd(this.sndUna, -this.maxWindow))) {
        this.challengeAck();
        return false;
      }
      return true; // old ACK: nothing to learn, but the data is processed
    }
    const nwin = seg.window * 2 ** this.sndWscale;
    const acked = seqDiff(ackNo, this.sndUna);
    const windowChanged = nwin !== this.sndWnd;
    // tcp_may_update_window
    if (acked > 0 || after(seg.seq, this.sndWl1) || (seg.seq === this.sndWl1 && (nwin > this.sndWnd || nwin === 0))) {
      this.sndWnd = nwin;
      this.sndWl1 = seg.seq;
      this.sndWl2 = ackNo;
      if (nwin > this.maxWindow) this.maxWindow = nwin;
    }
    if (acked > 0) {
      const finAcked = this.finSentOnce() && after(ackNo, this.finSeq);
      const dataAcked = Math.min(acked - (finAcked ? 1 : 0), this.sendQ.length);
      if (dataAcked > 0) {
        this.sendQ.drop(dataAcked);
        this.sendQSeq = seqAdd(this.sendQSeq, dataAcked);
        while (this.writeEnds.length > 0 && !after(this.writeEnds[0]!, this.sendQSeq)) this.writeEnds.shift();
      }
      this.sndUna = ackNo;
      if (before(this.sndNxt, ackNo)) this.sndNxt = ackNo;
      if (this.rttSeq !== undefined && !before(ackNo, this.rttSeq)) {
        this.rttSample(this.stack.now() - this.rttStart);
        this.rttSeq = undefined;
      }
      this.retransmits = 0;
      this.setRto();
      this.dupAcks = 0;
      const segs = Math.max(1, Math.ceil(dataAcked / this.mss));
      if (this.recoverySeq !== undefined) {
        if (before(ackNo, this.recoverySeq)) {
          // NewReno (RFC 6582): a partial ACK during recovery retransmits the next hole.
          this.retransmitHead();
        } else {
          this.recoverySeq = undefined;
          this.cwnd = this.ssthresh;
        }
      } else if (this.cwnd < this.ssthresh) {
        this.cwnd = Math.min(this.cwnd + segs, this.ssthresh);
      } else {
        this.cwndCnt += segs;
        if (this.cwndCnt >= this.cwnd) {
          this.cwndCnt -= this.cwnd;
          this.cwnd++;
        }
      }
      if (this.sndUna !== this.sndMax) {
        this.headSentAt = this.stack.now();
        this.armRtx("rto", this.rto);
      } else {
        this.cancelRtx();
      }
      if (finAcked) this.ourFinAcked();
    } else if (seg.payload.length === 0 && !(seg.flags & TCP_FIN) && !windowChanged && this.sndUna !== this.sndMax) {
      this.dupAcks++;
      if (this.dupAcks === 3 && this.recoverySeq === undefined) this.fastRetransmit();
    }
    return true;
  }

  /** Our FIN was acknowledged. */
  private ourFinAcked(): void {
    switch (this.state) {
      case "FIN_WAIT1":
        this.setState("FIN_WAIT2");
        if (this.orphan) this.armStateTimer("finwait2", this.stack.sysInt("net.ipv4.tcp_fin_timeout", 60) * 1_000_000);
        break;
      case "CLOSING":
        this.enterTimeWait();
        break;
      case "LAST_ACK":
        this.done();
        break;
      default:
        break;
    }
  }

  /** tcp_data_queue */
  private dataQueue(seg: TcpSegment): void {
    let seq = seg.seq;
    let data = seg.payload;
    const fin = (seg.flags & TCP_FIN) !== 0;
    const endData = seqAdd(seq, data.length);
    if (data.length === 0 && !fin) return;
    if (!after(seqAdd(endData, fin ? 1 : 0), this.rcvNxt)) {
      // A retransmission of what we have: force an immediate ACK (and quickack mode).
      this.enterQuickack();
      this.scheduleAck(true);
      return;
    }
    if (before(seq, this.rcvNxt)) {
      data = data.subarray(seqDiff(this.rcvNxt, seq));
      seq = this.rcvNxt;
    }
    if (seq !== this.rcvNxt) {
      // Out of order: keep it (tcp_data_queue_ofo) and ACK at once with SACK blocks.
      if (after(seq, seqAdd(this.rcvNxt, this.receiveWindow()))) {
        this.scheduleAck(true);
        return;
      }
      this.oooInsert(seq, data, fin);
      this.scheduleAck(true);
      return;
    }
    if (this.receiveWindow() === 0 && data.length > 0) {
      this.enterQuickack();
      this.scheduleAck(true);
      return;
    }
    let gotFin = fin;
    if (data.length > 0) {
      this.queueData(data, seg.flags);
    }
    if (this.ooo.length > 0) {
      // Fill from the out-of-order queue; a filled gap is ACKed at once (RFC 5681 §4.2).
      for (;;) {
        const i = this.ooo.findIndex((e) => !after(e.seq, this.rcvNxt));
        if (i < 0) break;
        const e = this.ooo.splice(i, 1)[0]!;
        const end = seqAdd(e.seq, e.data.length);
        if (after(end, this.rcvNxt)) this.queueData(e.data.subarray(seqDiff(this.rcvNxt, e.seq)), 0);
        if (e.fin && !before(end, this.rcvNxt)) gotFin = true;
      }
      this.ack.now = true;
    }
    this.scheduleAck(false);
    if (gotFin) this.finReceived();
  }

  private queueData(data: Uint8Array, flags: number): void {
    this.measureRcvMss(data.length, flags);
    this.rcvNxt = seqAdd(this.rcvNxt, data.length);
    this.toDeliver.push(data.slice());
    this.eventDataRecv(data.length);
  }

  private oooInsert(seq: number, data: Uint8Array, fin: boolean): void {
    for (const e of this.ooo) {
      if (e.seq === seq && e.data.length >= data.length) return;
    }
    this.ooo.push({ seq, data: data.slice(), fin });
  }

  /** tcp_fin */
  private finReceived(): void {
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.peerFin = true;
    this.eofPending = true;
    this.ooo = [];
    this.scheduleAck(false);
    switch (this.state) {
      case "SYN_RECV":
      case "ESTABLISHED":
        this.setState("CLOSE_WAIT");
        this.ack.pingpong = TCP_PINGPONG_THRESH; // inet_csk_enter_pingpong_mode
        break;
      case "FIN_WAIT1":
        // Simultaneous close: ACK the FIN, wait for the ACK of ours.
        this.sendAck();
        this.setState("CLOSING");
        break;
      case "FIN_WAIT2":
        this.sendAck();
        this.enterTimeWait();
        break;
      default:
        break;
    }
  }

  /** tcp_event_data_recv: the delayed-ACK engine learns the peer's pace. */
  private eventDataRecv(len: number): void {
    const now = this.stack.now();
    const a = this.ack;
    if (a.ato === 0) {
      this.incrQuickack(TCP_MAX_QUICKACKS);
      a.ato = TCP_ATO_MIN;
    } else {
      const m = now - a.lrcvtime;
      if (m <= TCP_ATO_MIN / 2) {
        a.ato = Math.floor(a.ato / 2) + TCP_ATO_MIN / 2;
      } else if (m < a.ato) {
        a.ato = Math.min(Math.floor(a.ato / 2) + m, this.rto);
      } else if (m > this.rto) {
        this.incrQuickack(TCP_MAX_QUICKACKS);
      }
    }
    a.lrcvtime = now;
    if (len >= 128) this.growWindow(len);
  }

  /** tcp_measure_rcv_mss */
  private measureRcvMss(len: number, flags: number): void {
    const a = this.ack;
    const lss = a.lastSegSize;
    a.lastSegSize = 0;
    if (len >= a.rcvMss) {
      a.rcvMss = Math.min(len, this.advmss);
      return;
    }
    const hdr = 20 + (this.tsOk ? TCPOLEN_TSTAMP_ALIGNED : 0);
    const full = len + hdr;
    if (full >= TCP_MSS_DEFAULT + 20 || (full >= TCP_MIN_MSS + 20 && !(flags & (TCP_FIN | TCP_SYN | TCP_PSH)))) {
      a.lastSegSize = len;
      if (len === lss) {
        a.rcvMss = len;
        return;
      }
    }
    if (a.pushed & 1) a.pushed |= 2;
    a.pushed |= 1;
  }

  /** tcp_grow_window: the receive window opens as full-sized segments arrive. */
  private growWindow(len: number): void {
    const room = Math.min(this.windowClamp, this.freeSpace()) - this.rcvSsthresh;
    if (room <= 0) return;
    // A full-sized segment's truesize (~2 KB) is at most twice its length.
    const truesize = len >= 1024 ? 2304 : 1280;
    let incr: number;
    if (Math.floor(truesize / 2) <= len) {
      incr = 2 * this.advmss;
    } else {
      incr = 0;
      let t = Math.floor(truesize / 4);
      let w = Math.floor(this.stack.sysInts("net.ipv4.tcp_rmem", [4096, 131072, 6291456])[2]! / 4);
      while (this.rcvSsthresh <= w) {
        if (t <= len) {
          incr = 2 * this.ack.rcvMss;
          break;
        }
        t >>= 1;
        w >>= 1;
      }
    }
    if (incr > 0) {
      incr = Math.max(incr, 2 * len);
      this.rcvSsthresh += Math.min(room, incr);
      this.ack.quick |= 1;
    }
  }

  /** tcp_rcv_space_adjust (dynamic right-sizing), once per RTT of application reads. */
  private rcvSpaceAdjust(): void {
    const now = this.stack.now();
    const rtt = this.srtt ?? 0;
    if (rtt === 0 || now - this.rcvSpace.time < rtt) return;
    const copied = seqDiff(this.rcvNxt, this.rcvSpace.seq) - this.rcvQ.length;
    if (copied > this.rcvSpace.space) {
      let rcvwin = 2 * copied + 16 * this.advmss;
      const grow = Math.floor((rcvwin * (copied - this.rcvSpace.space)) / Math.max(1, this.rcvSpace.space));
      rcvwin += 2 * grow;
      const max = this.stack.sysInts("net.ipv4.tcp_rmem", [4096, 131072, 6291456])[2]!;
      const rcvbuf = Math.min(rcvwin * 2, max);
      if (rcvbuf > this.rcvbuf) {
        this.rcvbuf = rcvbuf;
        this.windowClamp = Math.min(this.fullSpace(), 65535 * 2 ** this.rcvWscale);
      }
      this.rcvSpace.space = copied;
    }
    this.rcvSpace.seq = this.rcvNxt;
    this.rcvSpace.time = now;
  }

  private incrQuickack(max: number): void {
    let q = Math.floor(this.rcvWnd / (2 * this.ack.rcvMss));
    if (q === 0) q = 2;
    q = Math.min(q, max);
    if (q > this.ack.quick) this.ack.quick = q;
  }

  private enterQuickack(): void {
    this.incrQuickack(TCP_MAX_QUICKACKS);
    this.ack.pingpong = 0;
    this.ack.ato = TCP_ATO_MIN;
  }

  private inQuickackMode(): boolean {
    return this.ack.quick > 0 && this.ack.pingpong < TCP_PINGPONG_THRESH;
  }

  private scheduleAck(now: boolean): void {
    this.ack.pending = true;
    if (now) this.ack.now = true;
  }

  /** __tcp_ack_snd_check */
  private ackSndCheck(): void {
    if (!this.ack.pending) return;
    if (this.state === "CLOSED") return;
    if (
      (seqDiff(this.rcvNxt, this.rcvWup) > this.ack.rcvMss && this.rawSelectWindow() >= this.rcvWnd) ||
      this.inQuickackMode() || this.ack.now || this.ooo.length > 0
    ) {
      this.sendAck();
      return;
    }
    this.sendDelayedAck();
  }

  /** tcp_send_delayed_ack */
  private sendDelayedAck(): void {
    const a = this.ack;
    const now = this.stack.now();
    let ato = a.ato;
    if (ato > TCP_DELACK_MIN) {
      let maxAto = 500_000;
      if (a.pingpong >= TCP_PINGPONG_THRESH || a.pushed) maxAto = TCP_DELACK_MAX;
      if (this.srtt !== undefined) {
        const rtt = Math.max(this.srtt, TCP_DELACK_MIN);
        if (rtt < maxAto) maxAto = rtt;
      }
      ato = Math.min(ato, maxAto);
    }
    ato = Math.max(ato, TCP_DELACK_MIN);
    let timeout = now + ato;
    if (a.timer && !a.timer.cancelled) {
      if (a.timeout <= now + (ato >> 2)) {
        this.sendAck();
        return;
      }
      if (timeout >= a.timeout) timeout = a.timeout;
      this.stack.ports.cancel(a.timer);
    }
    a.timeout = timeout;
    a.timer = this.stack.ports.at(timeout, () => this.delackTimer());
  }

  /** tcp_delack_timer_handler */
  private delackTimer(): void {
    const a = this.ack;
    a.timer = undefined;
    if (!a.pending || this.state === "CLOSED" || this.state === "TIME_WAIT") return;
    if (a.pingpong < TCP_PINGPONG_THRESH) {
      a.ato = Math.min(a.ato * 2, this.rto);
    } else {
      a.pingpong = 0;
      a.ato = TCP_ATO_MIN;
    }
    this.stack.ext.DelayedACKs++;
    this.sendAck();
  }

  /** Hands queued bytes and EOF to the application, then tcp_cleanup_rbuf. */
  private flushToApp(): void {
    if (this.toDeliver.length > 0) {
      const chunks = this.toDeliver;
      this.toDeliver = [];
      for (const c of chunks) this.rcvQ.push(c);
    }
    if (this.rcvQ.length > 0) {
      if (this.onData) {
        const b = this.rcvQ.takeAll();
        this.onData(b);
        this.afterAppRead(b.length);
      } else if (this.readWaiters.length > 0) {
        const b = this.rcvQ.takeAll();
        const w = this.readWaiters.shift()!;
        w(b);
        this.afterAppRead(b.length);
        this.stack.ports.wake();
      }
    }
    if (this.eofPending && this.rcvQ.length === 0 && !this.eofDelivered) {
      this.eofPending = false;
      this.eofDelivered = true;
      this.onEnd?.();
      this.flushReadWaiters();
    }
  }

  private flushReadWaiters(): void {
    if (this.readWaiters.length === 0) return;
    const ws = this.readWaiters;
    this.readWaiters = [];
    for (const w of ws) w(null);
    this.stack.ports.wake();
  }

  /** tcp_cleanup_rbuf after the application consumed `copied` bytes. */
  private afterAppRead(copied: number): void {
    if (this.state === "CLOSED" || this.state === "TIME_WAIT" || this.state === "SYN_RECV") return;
    this.rcvSpaceAdjust();
    const a = this.ack;
    let timeToAck = false;
    if (a.pending) {
      if (
        seqDiff(this.rcvNxt, this.rcvWup) > a.rcvMss ||
        (copied > 0 && (a.pushed & 2 || (a.pushed & 1 && a.pingpong < TCP_PINGPONG_THRESH)) && this.rcvQ.length === 0)
      ) {
        timeToAck = true;
      }
    }
    if (copied > 0 && !timeToAck && !this.peerFin) {
      const now = this.receiveWindow();
      if (2 * now <= this.windowClamp) {
        const nw = this.rawSelectWindow();
        if (nw > 0 && nw >= 2 * now) timeToAck = true;
      }
    }
    if (timeToAck) this.sendAck();
  }

  // =====================================================================================
  // Windows
  // =====================================================================================

  /** tcp_receive_window: what is left of the window we last advertised. */
  private receiveWindow(): number {
    return Math.max(0, seqDiff(seqAdd(this.rcvWup, this.rcvWnd), this.rcvNxt));
  }

  private freeSpace(): number {
    return Math.max(0, this.fullSpace() - this.rcvQ.length - this.toDeliverBytes());
  }

  private toDeliverBytes(): number {
    let n = 0;
    for (const c of this.toDeliver) n += c.length;
    return n;
  }

  /** __tcp_select_window */
  private rawSelectWindow(): number {
    let mss = this.ack.rcvMss;
    let free = this.freeSpace();
    const full = Math.min(this.windowClamp, this.fullSpace());
    if (mss > full) mss = full;
    if (free < full >> 1) {
      this.ack.quick = 0;
      if (free < mss) return 0;
    }
    if (free > this.rcvSsthresh) free = this.rcvSsthresh;
    if (this.rcvWscale) {
      const g = 2 ** this.rcvWscale;
      return Math.ceil(free / g) * g;
    }
    let window = this.rcvWnd;
    if (window <= free - mss || window > free) window = free - (free % mss);
    else if (mss === full && free > window + (full >> 1)) window = free;
    return window;
  }

  /** tcp_select_window: the value for the header (never shrinking what was offered). */
  private selectWindow(): number {
    const cur = this.receiveWindow();
    let w = this.rawSelectWindow();
    const g = 2 ** this.rcvWscale;
    if (w < cur) w = Math.ceil(cur / g) * g;
    this.rcvWnd = w;
    this.rcvWup = this.rcvNxt;
    w = Math.min(w, 65535 * g);
    return Math.floor(w / g);
  }

  // =====================================================================================
  // Output
  // =====================================================================================

  private tsNow(): number {
    return (Math.floor(this.stack.now() / 1000) + this.tsOffset) >>> 0;
  }

  /** Linux's SYN option layout (tcp_options_write). */
  private synOptionList(synAck: boolean): TcpOption[] {
    const o: TcpOption[] = [{ kind: "mss", value: this.advmss }];
    const ts: TcpOption = { kind: "timestamp", val: this.tsNow(), ecr: synAck ? this.tsRecent : 0 };
    if (this.tsOk) {
      if (this.sackOk) o.push({ kind: "sackOK" }, ts);
      else o.push({ kind: "nop" }, { kind: "nop" }, ts);
    } else if (this.sackOk) {
      o.push({ kind: "nop" }, { kind: "nop" }, { kind: "sackOK" });
    }
    if (this.wscaleOk) o.push({ kind: "nop" }, { kind: "wscale", shift: this.rcvWscale });
    return o;
  }

  private sendSyn(synAck: boolean, rtx = false): void {
    const st = this.stack;
    const flags = synAck ? TCP_SYN | TCP_ACK : TCP_SYN;
    const bytes = emitTcp({
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq: this.iss,
      ack: synAck ? this.rcvNxt : 0,
      flags,
      window: Math.min(this.rcvWnd, 65535),
      options: this.synOptionList(synAck),
    }, this.localAddr, this.remoteAddr);
    if (!rtx) this.rttStart = st.now();
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    if (rtx) {
      st.counters.RetransSegs++;
      st.ext.TCPSynRetrans++;
    }
    st.counters.OutSegs++;
    // A SYN-ACK goes out from the request socket, which has no inet_id: id 0 (ip_build_and_send_pkt).
    st.output(this.localAddr, this.remoteAddr, bytes, synAck ? 0 : this.nextIpId());
  }

  /**
   * Linux starts inet_id at a random value when the socket connects or is accepted
   * (tcp_v4_connect, tcp_v4_syn_recv_sock) and counts up per packet; lvslab derives the start
   * from the socket's ISN so that no random stream is consumed.
   */
  private nextIpId(): number {
    if (this.ipId < 0) this.ipId = Math.imul(this.iss ^ 0x9e3779b9, 0x85ebca6b) >>> 16;
    const id = this.ipId;
    this.ipId = (this.ipId + 1) & 0xffff;
    return id;
  }

  /**
   * tcp_transmit_skb for everything after the handshake. The ACK it carries counts as sent
   * (tcp_event_ack_sent comes before ip_queue_xmit) even when the host then fails to send
   * the segment; the result says whether it left.
   */
  private emit(s: OutSeg): boolean {
    const st = this.stack;
    const opts: TcpOption[] = [];
    if (this.tsOk) opts.push({ kind: "nop" }, { kind: "nop" }, { kind: "timestamp", val: this.tsNow(), ecr: this.tsRecent });
    if (this.sackOk && this.ooo.length > 0 && !(s.flags & TCP_RST)) {
      const room = Math.floor((40 - (this.tsOk ? 12 : 0) - 4) / 8);
      const blocks = this.sackBlocks().slice(0, room);
      if (blocks.length > 0) opts.push({ kind: "nop" }, { kind: "nop" }, { kind: "sack", blocks });
    }
    const window = this.selectWindow();
    const bytes = emitTcp({
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq: s.seq,
      ack: this.rcvNxt,
      flags: s.flags,
      window,
      options: opts,
      payload: s.payload,
    }, this.localAddr, this.remoteAddr);
    if (s.rtx) st.counters.RetransSegs++;
    else st.counters.OutSegs++;
    if (s.flags & TCP_RST) st.counters.OutRsts++;
    // tcp_event_ack_sent
    const a = this.ack;
    if (a.pending && a.quick > 0) {
      a.quick--;
      if (a.quick === 0) a.ato = TCP_ATO_MIN;
    }
    a.pending = false;
    a.now = false;
    a.pushed = 0;
    if (a.timer) {
      st.ports.cancel(a.timer);
      a.timer = undefined;
    }
    return st.output(this.localAddr, this.remoteAddr, bytes, this.nextIpId());
  }

  private sackBlocks(): [number, number][] {
    // Merge the out-of-order queue into ranges; the most recent one first (RFC 2018).
    const sorted = [...this.ooo].sort((x, y) => seqDiff(x.seq, y.seq));
    const ranges: [number, number][] = [];
    for (const e of sorted) {
      // A FIN takes a sequence number: an out-of-order FIN alone is SACKed as {seq:seq+1}.
      const end = seqAdd(e.seq, e.data.length + (e.fin ? 1 : 0));
      const last = ranges[ranges.length - 1];
      if (last && !after(e.seq, last[1])) {
        if (after(end, last[1])) last[1] = end;
      } else {
        ranges.push([e.seq, end]);
      }
    }
    const newest = this.ooo[this.ooo.length - 1];
    if (newest) {
      const i = ranges.findIndex(([l, r]) => !before(newest.seq, l) && !after(newest.seq, r));
      if (i > 0) ranges.unshift(ranges.splice(i, 1)[0]!);
    }
    return ranges;
  }

  sendAck(): void {
    if (this.state === "CLOSED") return;
    this.emit({ flags: TCP_ACK, seq: this.sndNxt });
  }

  private sendDupAck(seg: TcpSegment): void {
    if (seg.payload.length > 0 && before(seg.seq, this.rcvNxt)) this.enterQuickack();
    this.sendAck();
  }

  private challengeAck(): void {
    this.stack.ext.TCPChallengeACK++;
    this.sendAck();
  }

  /** tcp_send_active_reset */
  private sendActiveReset(): void {
    this.emit({ flags: TCP_RST | TCP_ACK, seq: this.sndMax });
  }

  private dataEnd(): number {
    return seqAdd(this.sendQSeq, this.sendQ.length);
  }

  private finSentOnce(): boolean {
    return this.finQueued && after(this.sndMax, this.finSeq);
  }

  private canSend(): boolean {
    return this.state === "ESTABLISHED" || this.state === "CLOSE_WAIT" ||
      this.state === "SYN_SENT" || this.state === "SYN_RECV";
  }

  /** tcp_write_xmit: send what the windows, Nagle and the FIN allow. */
  private pushPending(): void {
    if (!(this.state === "ESTABLISHED" || this.state === "CLOSE_WAIT" || this.state === "FIN_WAIT1" ||
      this.state === "LAST_ACK" || this.state === "CLOSING")) return;
    // tcp_current_mss: the route's MTU moved since the MSS was computed (a path MTU another
    // socket learnt, or one that expired): the MSS follows before anything is sent.
    if (this.pmtuCookie !== 0 && this.routeMtu() !== this.pmtuCookie) this.syncMss();
    const end = this.dataEnd();
    for (;;) {
      const nxt = this.sndNxt;
      const unsent = seqDiff(end, nxt);
      if (unsent > 0) {
        const len = Math.min(this.mss, unsent);
        const wndEnd = seqAdd(this.sndUna, this.sndWnd);
        if (after(seqAdd(nxt, len), wndEnd)) {
          if (this.sndUna === this.sndMax && !this.rtx) this.armRtx("probe", this.rto);
          break;
        }
        const inFlight = Math.ceil(seqDiff(this.sndMax, this.sndUna) / this.mss);
        const isRtx = before(nxt, this.sndMax);
        const inFlightNow = Math.ceil(seqDiff(nxt, this.sndUna) / this.mss);
        if (inFlightNow >= this.cwnd && inFlight > 0) break;
        // A FIN first sent on its own is a separate skb: retransmitted data does not carry it.
        const finHere = this.finQueued && seqAdd(nxt, len) === this.finSeq && !(isRtx && this.finSentAlone);
        if (len < this.mss && !this.noDelay && !finHere && !isRtx && after(this.sndSml, this.sndUna)) break;
        const payload = this.sendQ.slice(seqDiff(nxt, this.sendQSeq), len);
        const segEnd = seqAdd(nxt, len);
        let flags = TCP_ACK;
        if (this.writeEnds.some((e) => after(e, nxt) && !after(e, segEnd))) flags |= TCP_PSH;
        if (finHere) flags |= TCP_FIN;
        if (!this.transmit(nxt, payload, flags, isRtx)) break;
        continue;
      }
      if (this.finQueued && nxt === this.finSeq && !(unsent < 0)) {
        const finRtx = before(nxt, this.sndMax);
        // Only a first FIN ignores the congestion window (tcp_cwnd_test); after a timeout
        // (cwnd 1, the head resent) the FIN waits its turn.
        if (finRtx && nxt !== this.sndUna && Math.ceil(seqDiff(nxt, this.sndUna) / this.mss) >= this.cwnd) break;
        if (!this.transmit(nxt, undefined, TCP_FIN | TCP_ACK, finRtx)) break;
        continue;
      }
      break;
    }
  }

  /**
   * Send one segment of the queue. A new segment the host fails to send stays unsent, as
   * in tcp_write_xmit: nothing moves, and with nothing in flight the probe timer retries it
   * (tcp_check_probe_timer), backing off each time. False then.
   */
  private transmit(seq: number, payload: Uint8Array | undefined, flags: number, isRtx: boolean): boolean {
    const len = payload?.length ?? 0;
    const end = seqAdd(seq, len + (flags & TCP_FIN ? 1 : 0));
    const wasIdle = this.sndUna === this.sndMax;
    if (!this.emit({ flags, seq, payload, rtx: isRtx }) && !isRtx) {
      if (wasIdle && !this.rtx) this.armRtx("probe", Math.max(this.rto, TCP_RTO_MIN));
      return false;
    }
    if (!isRtx && this.rttSeq === undefined && len > 0) {
      this.rttSeq = end;
      this.rttStart = this.stack.now();
    }
    if (len > 0 && len < this.mss) this.sndSml = end;
    if (len === 0 && flags & TCP_FIN && !isRtx) this.finSentAlone = true;
    this.sndNxt = end;
    if (after(end, this.sndMax)) {
      this.sndMax = end;
      // tcp_event_data_sent: a reply within ato of the last receive counts as ping-pong.
      if (len > 0 && this.stack.now() - this.ack.lrcvtime < this.ack.ato && this.ack.pingpong < 255) this.ack.pingpong++;
    }
    if (wasIdle) this.headSentAt = this.stack.now();
    if (!this.rtx || this.rtx.kind === "probe") this.armRtx("rto", this.rto);
    return true;
  }

  /** Three duplicate ACKs: resend the first unacknowledged segment and enter recovery. */
  private fastRetransmit(): void {
    const flight = Math.ceil(seqDiff(this.sndMax, this.sndUna) / this.mss);
    this.ssthresh = Math.max(Math.floor(flight / 2), 2);
    this.cwnd = this.ssthresh;
    this.recoverySeq = this.sndMax;
    this.retransmitHead();
  }

  /** Resends the segment at snd_una with the flags it had. */
  private retransmitHead(): void {
    this.rttSeq = undefined;
    const len = Math.min(this.mss, seqDiff(this.dataEnd(), this.sndUna));
    if (len <= 0) return;
    const payload = this.sendQ.slice(seqDiff(this.sndUna, this.sendQSeq), len);
    const end = seqAdd(this.sndUna, len);
    let flags = TCP_ACK;
    if (this.writeEnds.some((e) => after(e, this.sndUna) && !after(e, end))) flags |= TCP_PSH;
    if (this.finQueued && end === this.finSeq && after(this.sndMax, this.finSeq) && !this.finSentAlone) flags |= TCP_FIN;
    this.emit({ flags, seq: this.sndUna, payload, rtx: true });
    this.armRtx("rto", this.rto);
  }

  // =====================================================================================
  // Timers
  // =====================================================================================

  private armRtx(kind: RtxKind, delay: Micros): void {
    this.cancelRtx();
    const expires = this.stack.now() + delay;
    this.rtx = { kind, expires, h: this.stack.ports.at(expires, () => this.rtxTimer()) };
  }

  private cancelRtx(): void {
    if (this.rtx) {
      this.stack.ports.cancel(this.rtx.h);
      this.rtx = undefined;
    }
  }

  private armStateTimer(kind: "timewait" | "finwait2", delay: Micros): void {
    if (this.stateTimer) this.stack.ports.cancel(this.stateTimer.h);
    const expires = this.stack.now() + delay;
    this.stateTimer = { kind, expires, h: this.stack.ports.at(expires, () => { this.stateTimer = undefined; this.done(); }) };
  }

  /** tcp_retransmit_timer / tcp_probe_timer / SYN and SYN-ACK retransmission. */
  private rtxTimer(): void {
    const r = this.rtx;
    this.rtx = undefined;
    if (!r) return;
    const st = this.stack;
    switch (r.kind) {
      case "syn": {
        const retries = st.sysInt("net.ipv4.tcp_syn_retries", 6);
        if (this.retransmits >= retries) {
          this.timeoutError();
          return;
        }
        this.retransmits++;
        st.ext.TCPTimeouts++;
        this.sendSyn(false, true);
        this.armRtx("syn", Math.min(TCP_TIMEOUT_INIT * 2 ** this.retransmits, TCP_RTO_MAX));
        return;
      }
      case "synack": {
        const retries = st.sysInt("net.ipv4.tcp_synack_retries", 5);
        if (this.synackRetries >= retries) {
          this.drop();
          return;
        }
        this.synackRetries++;
        this.sendSyn(true, true);
        this.armRtx("synack", Math.min(TCP_TIMEOUT_INIT * 2 ** this.synackRetries, TCP_RTO_MAX));
        return;
      }
      case "probe": {
        if (this.sndUna !== this.sndMax) return;
        // tcp_write_wakeup: send what fits, else an ACK with an old sequence number.
        const avail = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
        const unsent = seqDiff(this.dataEnd(), this.sndNxt);
        if (avail > 0 && unsent > 0) {
          const len = Math.min(avail, this.mss, unsent);
          const payload = this.sendQ.slice(seqDiff(this.sndNxt, this.sendQSeq), len);
          if (this.transmit(this.sndNxt, payload, TCP_ACK | TCP_PSH, false)) return;
        } else if (unsent <= 0 && this.finQueued && this.sndNxt === this.finSeq) {
          // A FIN the host could not send (see transmit) is the send head.
          if (this.transmit(this.sndNxt, undefined, TCP_FIN | TCP_ACK, false)) return;
        } else {
          this.emit({ flags: TCP_ACK, seq: seqAdd(this.sndUna, -1) });
        }
        this.retransmits++;
        this.armRtx("probe", Math.min(this.rto * 2 ** this.retransmits, TCP_RTO_MAX));
        return;
      }
      case "rto": {
        if (this.sndUna === this.sndMax) return;
        const boundary = this.orphan ? 8 : st.sysInt("net.ipv4.tcp_retries2", 15);
        if (st.now() - this.headSentAt >= modelTimeout(boundary) && this.retransmits > 0) {
          this.timeoutError();
          return;
        }
        st.ext.TCPTimeouts++;
        const flight = Math.ceil(seqDiff(this.sndMax, this.sndUna) / this.mss);
        this.ssthresh = Math.max(Math.floor(flight / 2), 2);
        this.cwnd = 1;
        this.cwndCnt = 0;
        this.rttSeq = undefined;
        this.retransmits++;
        this.recoverySeq = undefined;
        // Go back: resend from the first unacknowledged byte (one segment, cwnd = 1).
        this.sndNxt = this.sndUna;
        this.rto = Math.min(this.rto * 2, TCP_RTO_MAX);
        this.pushPending();
        this.armRtx("rto", this.rto);
        return;
      }
    }
  }

  private rttSample(m: Micros): void {
    m = Math.max(1, m);
    if (this.srtt === undefined) {
      this.srtt = m;
      this.rttvar = m / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - m);
      this.srtt = 0.875 * this.srtt + 0.125 * m;
    }
    this.setRto();
  }

  /** tcp_set_rto: srtt + max(4·rttvar, rto_min) (the variance floor is TCP_RTO_MIN). */
  private setRto(): void {
    if (this.srtt === undefined) return;
    this.rto = Math.round(Math.min(TCP_RTO_MAX, Math.max(TCP_RTO_MIN, this.srtt + Math.max(4 * this.rttvar, TCP_RTO_MIN))));
  }

  // =====================================================================================
  // Errors and teardown
  // =====================================================================================

  /** tcp_v4_err for this socket. */
  icmpError(errno: TcpErrno, seq: number, hard: boolean): void {
    if (this.state === "SYN_SENT" || this.state === "SYN_RECV") {
      if (this.state === "SYN_RECV" && this.passive) {
        if (seq === this.iss) this.drop();
        return;
      }
      if (before(seq, this.sndUna) || after(seq, this.sndMax)) return;
      this.error = errno;
      this.done();
      return;
    }
    // Established: soft error only (no IP_RECVERR), kept for a later timeout.
    if (hard || !hard) this.softError = errno;
  }

  /** tcp_reset: the peer reset the connection. */
  private reset(): void {
    switch (this.state) {
      case "SYN_SENT": this.error = "ECONNREFUSED"; break;
      case "CLOSE_WAIT": this.error = "EPIPE"; break;
      case "CLOSED": return;
      default: this.error = "ECONNRESET";
    }
    this.done();
  }

  private timeoutError(): void {
    this.error = this.softError ?? "ETIMEDOUT";
    this.done();
  }

  private enterTimeWait(): void {
    this.cancelRtx();
    this.setState("TIME_WAIT");
    this.armStateTimer("timewait", TCP_TIMEWAIT_LEN);
    this.notifyClosed();
  }

  /** A request socket goes away without telling anyone (no accept happened). */
  private drop(): void {
    this.cancelRtx();
    this.setState("CLOSED");
    this.stack.unhash(this);
  }

  /** tcp_done */
  done(): void {
    if (this.state === "CLOSED") {
      this.stack.unhash(this);
      return;
    }
    if (this.state === "SYN_SENT" || this.state === "SYN_RECV") this.stack.counters.AttemptFails++;
    this.cancelRtx();
    if (this.stateTimer) {
      this.stack.ports.cancel(this.stateTimer.h);
      this.stateTimer = undefined;
    }
    if (this.ack.timer) {
      this.stack.ports.cancel(this.ack.timer);
      this.ack.timer = undefined;
    }
    const wasTimeWait = this.state === "TIME_WAIT";
    this.setState("CLOSED");
    this.stack.unhash(this);
    if (this.passive && this.listener) return; // never accepted
    if (!wasTimeWait) this.notifyClosed();
  }

  private setState(s: TcpState): void {
    const old = this.state;
    if (old === s) return;
    if (s === "CLOSED" && (old === "ESTABLISHED" || old === "CLOSE_WAIT")) this.stack.counters.EstabResets++;
    this.state = s;
  }

  private notifyConnected(): void {
    if (this.connectWaiters.length === 0) return;
    const ws = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of ws) w(true);
    this.stack.ports.wake();
  }

  private notifyClosed(): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    if (this.connectWaiters.length > 0) {
      const ws = this.connectWaiters;
      this.connectWaiters = [];
      for (const w of ws) w(this.error ?? "ECONNRESET");
      this.stack.ports.wake();
    }
    // Whatever arrived before the end is still readable.
    this.flushToApp();
    this.flushReadWaiters();
    this.onClose?.(this.error);
  }

  /** Reports an immediate failure of connect() (no route, no port) after the caller returns. */
  failLater(err: TcpErrno): void {
    this.error = err;
    this.state = "CLOSED";
    this.stack.ports.at(this.stack.now(), () => this.notifyClosed());
  }
}

/** tcp_model_timeout(sk, boundary, TCP_RTO_MIN): how long retries take before giving up. */
function modelTimeout(boundary: number): Micros {
  const thresh = Math.floor(Math.log2(TCP_RTO_MAX / TCP_RTO_MIN));
  if (boundary <= thresh) return (2 ** (boundary + 1) - 1) * TCP_RTO_MIN;
  return (2 ** (thresh + 1) - 1) * TCP_RTO_MIN + (boundary - thresh) * TCP_RTO_MAX;
}

interface SynOpts {
  mss?: number;
  wscale?: number;
  sackOk: boolean;
  ts?: { val: number; ecr: number };
}

function readSynOptions(opts: readonly TcpOption[]): SynOpts {
  const r: SynOpts = { sackOk: false };
  for (const o of opts) {
    switch (o.kind) {
      case "mss": r.mss = o.value; break;
      case "wscale": r.wscale = o.shift; break;
      case "sackOK": r.sackOk = true; break;
      case "timestamp": r.ts = { val: o.val, ecr: o.ecr }; break;
      default: break;
    }
  }
  return r;
}

function findTs(opts: readonly TcpOption[]): { val: number; ecr: number } | undefined {
  for (const o of opts) if (o.kind === "timestamp") return o;
  return undefined;
}
