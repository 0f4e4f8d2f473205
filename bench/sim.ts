/**
 * The seed's LVS-NAT lab (labs/lvs-nat.yaml) built in code and scaled up: a director "vip"
 * (eth0 192.168.1.186 on "lan", eth1 192.168.75.131 on "wan", ip_forward on, ipvs wrr
 * 192.168.75.131:80 in NAT mode), R real servers running the nginx-like server with the
 * director as default gateway, and N clients on "wan", each making K sequential HTTP GETs
 * on fresh connections (as `curl 192.168.75.131` does) with a callback-based load client.
 *
 * The event queue is driven synchronously (`world.queue.step()`): no promises, no
 * setImmediate, no async tools — what is measured is the simulator itself.
 */
import { startHttpServer } from "../src/apps/http-server.js";
import { FwdMethod } from "../src/ipvs/api.js";
import { destSpec, svcSpec, tcpKey } from "../src/ipvs/test_util.js";
import { Host } from "../src/net/host.js";
import type { Segment } from "../src/net/segment.js";
import { World } from "../src/net/world.js";
import type { TcpSocket } from "../src/tcp/index.js";
import { Printer } from "../src/tools/tcpdump/print.js";
import { PcapWriter } from "../src/tools/tcpdump/pcap.js";
import type { CapturedFrame } from "../src/tools/types.js";
import { formatIp4, parseIp4, type Ip4 } from "../src/wire/index.js";
import { now } from "./util.js";

export type TapMode = "none" | "print" | "pcap";

export interface SimOptions {
  clients: number;
  realServers: number;
  requestsPerClient: number;
  /** A capture on every NIC of every host: none, tcpdump -nn text, or tcpdump -w pcap. */
  tap?: TapMode;
  /** Stop early after this much wall time (the result says how far it got). */
  maxWallMs?: number;
  /** Keep the frames the taps saw (for the capture benchmarks). */
  keepFrames?: number;
}

export interface SimResult {
  wallMs: number;
  /** GETs answered with a complete 200 response. */
  requests: number;
  failed: number;
  /** Events run by the queue. */
  events: number;
  /** Frames that arrived at a receiving NIC (sum of rx over all non-loopback NICs). */
  packetHops: number;
  /** Frames put on a segment (sum of tx over all non-loopback NICs). */
  framesSent: number;
  /** IPv4 packets the director forwarded or IPVS transmitted. */
  directorPackets: number;
  /** Highest heapUsed + arrayBuffers sampled during the run. */
  peakHeap: number;
  virtualUs: number;
  /** Lines / bytes the taps produced. */
  tapOutput: number;
  frames: CapturedFrame[];
  complete: boolean;
}

const VIP = ip("192.168.75.131");
const DIR_LAN = ip("192.168.1.186");
const RS_ADDRS = [185, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200];
const BODY = ["1111111111111master\n", "2222222222222slave\n"];

function ip(s: string): Ip4 {
  const a = parseIp4(s);
  if (a === undefined) throw new Error(s);
  return a;
}

/** The 200 replies our load client sends and expects, as curl 7.76 does them. */
const REQUEST = "GET / HTTP/1.1\r\nHost: 192.168.75.131\r\nUser-Agent: curl/7.76.1\r\nAccept: */*\r\n\r\n";

interface Built {
  world: World;
  hosts: Host[];
  clients: Host[];
  director: Host;
}

export function buildSeedLab(opts: { clients: number; realServers: number }): Built {
  if (opts.realServers > RS_ADDRS.length) throw new Error("too many real servers");
  const world = new World({ seed: 1 });
  const lan = world.addSegment("lan", "switch", 50);
  const wan = world.addSegment("wan", "switch", 50);
  let macSeq = 0x1000;
  const hosts: Host[] = [];
  const addHost = (name: string): Host => {
    const h = new Host(world, name);
    world.hosts.set(name, h);
    hosts.push(h);
    return h;
  };
  const addNic = (h: Host, name: string, seg: Segment, addr: Ip4): void => {
    const n = h.addNic(name, 0x000c29000000 + macSeq++);
    seg.attach(n);
    n.segment = seg;
    h.addAddress(name, addr, 24);
  };

  const director = addHost("vip");
  addNic(director, "eth0", lan, DIR_LAN);
  addNic(director, "eth1", wan, VIP);
  director.sysctl.set("net.ipv4.ip_forward", "1");
  for (const dev of ["all", "default", "eth0", "eth1"]) director.sysctl.set(`net.ipv4.conf.${dev}.send_redirects`, "0");
  const ipvs = director.enableIpvs();
  const key = tcpKey("192.168.75.131", 80);
  check(ipvs.addService(svcSpec(key, "wrr")));

  for (let i = 0; i < opts.realServers; i++) {
    const rs = addHost(`real_server${i + 1}`);
    const addr = ip(`192.168.1.${RS_ADDRS[i]}`);
    addNic(rs, "eth0", lan, addr);
    rs.routes.add({ dst: 0, plen: 0, gateway: DIR_LAN, dev: "eth0", metric: 0, proto: "boot", scope: "global" });
    const page = new TextEncoder().encode(BODY[i % 2]!);
    const mtime = Math.floor(world.epochUs / 1e6) - 86400;
    let logLines = 0;
    const srv = startHttpServer({
      tcp: rs.tcp,
      port: 80,
      epochMicros: (t) => world.epochUs + t,
      readFile: (p) => (p === "/usr/share/nginx/html/index.html" ? { data: page, mtime } : undefined),
      isDir: (p) => p === "/usr/share/nginx/html",
      // The lab appends each line to /var/log/nginx/access.log in the VFS; here a counter,
      // so the figure is the network's (MemVfs appends copy the whole file: O(n) a line).
      log: () => void logLines++,
    });
    if (typeof srv === "string") throw new Error(srv);
    check(ipvs.addDest(key, destSpec(formatIp4(addr), 80, { fwd: FwdMethod.Masq, weight: i === 0 ? 1 : 2 })));
  }

  const clients: Host[] = [];
  for (let i = 0; i < opts.clients; i++) {
    const c = addHost(`client${i + 1}`);
    // 192.168.75.150 is the seed's client; the others follow it (skipping the VIP).
    let last = 150 + i;
    if (last >= 254) last = 10 + (last - 254);
    addNic(c, "eth0", wan, ip(`192.168.75.${last}`));
    clients.push(c);
  }
  return { world, hosts, clients, director };
}

function check(e: string | undefined): void {
  if (e !== undefined) throw new Error(`ipvs: ${e}`);
}

/** K sequential GETs from one client host, each on a new connection, closed after the reply. */
class LoadClient {
  ok = 0;
  failed = 0;
  finished = false;

  constructor(
    private readonly host: Host,
    private readonly world: World,
    private readonly k: number,
    private readonly onFinish: () => void,
  ) {}

  next(): void {
    if (this.ok + this.failed >= this.k) {
      this.finished = true;
      this.onFinish();
      return;
    }
    const s: TcpSocket = this.host.tcp.connect({ dst: VIP, dport: 80, noDelay: true });
    let text = "";
    let need = -1;
    let answered = false;
    let closed = false;
    s.onConnect = () => void s.send(REQUEST);
    s.onData = (b) => {
      if (answered) return;
      text += String.fromCharCode.apply(null, b as unknown as number[]);
      if (need < 0) {
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) return;
        const m = /\r\nContent-Length: (\d+)\r\n/.exec(text.slice(0, end + 2));
        need = end + 4 + (m ? Number(m[1]) : 0);
      }
      if (text.length >= need) {
        answered = true;
        if (text.startsWith("HTTP/1.1 200 ")) this.ok++;
        else this.failed++;
        s.close();
      }
    };
    s.onClose = () => {
      if (closed) return;
      closed = true;
      if (!answered) this.failed++;
      this.world.queue.after(0, () => this.next());
    };
  }
}

export function runSim(o: SimOptions): SimResult {
  const { world, hosts, clients, director } = buildSeedLab(o);
  const frames: CapturedFrame[] = [];
  let tapOutput = 0;
  const tap = o.tap ?? "none";
  if (tap !== "none") {
    for (const h of hosts) {
      for (const nic of h.nics.values()) {
        // One `tcpdump -nn -i NIC` (or `tcpdump -w FILE -i NIC`) per interface, as the lab's
        // background captures run: a printer or a pcap writer of its own.
        const printer = new Printer({ numeric: 1 });
        const writer = new PcapWriter();
        const listener = tap === "print"
          ? (cf: CapturedFrame) => {
            const us = world.epochUs + cf.ts;
            const sec = Math.floor(us / 1e6);
            tapOutput += printer.format({ sec, nsec: (us - sec * 1e6) * 1000, data: cf.frame, origLen: cf.frame.length }).length;
            if (o.keepFrames && frames.length < o.keepFrames && nic.name !== "lo") frames.push(cf);
          }
          : (cf: CapturedFrame) => {
            writer.add(world.epochUs + cf.ts, cf.frame);
            tapOutput += 16 + cf.frame.length;
          };
        const stop = h.capture.tap(nic.name, listener);
        if (stop === "ENODEV") throw new Error(nic.name);
      }
    }
  }

  let running = clients.length;
  const lcs = clients.map((c) => new LoadClient(c, world, o.requestsPerClient, () => running--));
  // Clients start 20 µs apart, like people pressing Enter.
  lcs.forEach((lc, i) => world.queue.at(i * 20, () => lc.next()));

  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  let peak = mem();
  const q = world.queue;
  const t0 = now();
  const limit = o.maxWallMs ?? Infinity;
  let steps = 0;
  let complete = true;
  while (running > 0) {
    if (!q.step()) break;
    if ((++steps & 4095) === 0) {
      const m = mem();
      if (m > peak) peak = m;
      if (now() - t0 > limit) {
        complete = false;
        break;
      }
    }
  }
  const wallMs = now() - t0;
  const m = mem();
  if (m > peak) peak = m;
  if (running > 0) complete = false;

  let rx = 0;
  let tx = 0;
  for (const h of hosts) {
    for (const n of h.nics.values()) {
      if (n.isLoopback) continue;
      rx += n.stats.rxPackets;
      tx += n.stats.txPackets;
    }
  }
  const ipvs = director.ipvs!.totals().stats;
  return {
    wallMs,
    requests: lcs.reduce((a, l) => a + l.ok, 0),
    failed: lcs.reduce((a, l) => a + l.failed, 0),
    events: q.executed,
    packetHops: rx,
    framesSent: tx,
    directorPackets: ipvs.inpkts + ipvs.outpkts,
    peakHeap: peak,
    virtualUs: world.now(),
    tapOutput,
    frames,
    complete,
  };
}
