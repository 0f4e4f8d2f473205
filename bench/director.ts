/**
 * Real mode's director without the real wires: the host "vip" of bench/real-lab.yaml built
 * as `lvslab director` builds it (buildHost, standardSetup, each NIC on a private one-port
 * hub whose other end is the wire) and configured by the lab's own lvs_nat.sh. The wires are
 * sink ports: what the director transmits is counted and checked instead of written to a
 * socket, and the peers behind them (the client, the two real servers) answer ARP.
 *
 * The frames fed are an LVS-NAT exchange as wrk with "Connection: close" makes it, one
 * client (192.168.75.150) and fresh source ports: per connection 10 frames, 5 from the
 * client to the VIP on eth1 (SYN, ACK, GET, ACK of the response, FIN) and 5 from the real
 * server the director chose on eth0 (SYN+ACK, ACK of the GET, the response, FIN, last ACK).
 * `window` connections are in flight at once: each of the 10 steps is fed for the whole
 * window, then the queue runs what is due, as the real-time driver pumps after a batch.
 * Virtual time moves 10 µs per frame; the connection table keeps every entry (TIME_WAIT
 * lasts longer than a run), as it does under load.
 *
 * Frames are built before the clock starts; what is timed is `nic.receive(frame)` and the
 * queue's delivery of every transmitted frame to the sink — the director's whole path.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildHost, writeEtcHosts } from "../src/lab/build.js";
import { loadLab } from "../src/lab/load.js";
import { runCommand } from "../src/lab/runner.js";
import type { HostSpec, LabSpec } from "../src/lab/schema.js";
import { standardSetup } from "../src/lab/setup.js";
import type { Host, Nic } from "../src/net/host.js";
import { Segment, type SegmentPort } from "../src/net/segment.js";
import { World } from "../src/net/world.js";
import {
  ARP_REPLY, ARP_REQUEST, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, emitArp, emitEthernet, formatIp4, parseArp,
  readIp4, type Ip4, type Mac,
} from "../src/wire/index.js";
import { buildTcpPacket } from "../src/wire/testing.js";
import { type BenchConfig, type Report, fmt, now } from "./util.js";

const LAB_FILE = fileURLToPath(new URL("../../bench/real-lab.yaml", import.meta.url));
const CLIENT = "client";
const FRAME_STEP_US = 10;

/** wrk's request with -H "Connection: close". */
const GET = "GET / HTTP/1.1\r\nHost: 192.168.75.131\r\nConnection: close\r\n\r\n";
/** What the nginx-like server answers the seed page with (headers plus the 20-byte body). */
const RESPONSE = "HTTP/1.1 200 OK\r\nServer: nginx/1.20.1\r\nDate: Tue, 24 Nov 2026 00:58:00 GMT\r\n" +
  "Content-Type: text/html\r\nContent-Length: 20\r\nLast-Modified: Mon, 23 Nov 2026 00:58:00 GMT\r\n" +
  "Connection: close\r\nETag: \"6a5e1d38-14\"\r\nAccept-Ranges: bytes\r\n\r\n1111111111111master\n";

export interface DirectorRun {
  frames: number;
  wallMs: number;
  cpuUs: number;
  /** Frames the director transmitted (ARP excluded). */
  sent: number;
  conns: number;
}

interface Lab {
  spec: LabSpec;
  vip: HostSpec;
  client: { ip: Ip4; mac: Mac };
  servers: { ip: Ip4; mac: Mac }[];
}

function readLab(): Lab {
  const r = loadLab(readFileSync(LAB_FILE, "utf8"), LAB_FILE);
  if (!r.ok) throw new Error(`${LAB_FILE}: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  const host = (name: string): HostSpec => {
    const h = r.lab.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`${LAB_FILE}: no host ${name}`);
    return h;
  };
  const first = (h: HostSpec): { ip: Ip4; mac: Mac } => ({ ip: h.nics[0]!.addrs[0]!.addr, mac: h.nics[0]!.mac });
  return { spec: r.lab, vip: host("vip"), client: first(host(CLIENT)), servers: [first(host("real_server1")), first(host("real_server2"))] };
}

/** The wire behind one director NIC: counts what arrives, answers ARP for the peers behind it. */
class Wire implements SegmentPort {
  nic!: Nic;
  sent = 0;
  /** For the LAN wire: the real server each client port's connection went to. */
  readonly rsByPort = new Map<number, Ip4>();

  constructor(
    private readonly world: World,
    private readonly peers: { ip: Ip4; mac: Mac }[],
  ) {}

  receive(frame: Uint8Array): void {
    const type = (frame[12]! << 8) | frame[13]!;
    if (type === ETHERTYPE_ARP) {
      const a = parseArp(frame.subarray(ETH_HLEN));
      if (!a.ok || a.value.op !== ARP_REQUEST) return;
      const p = this.peers.find((x) => x.ip === a.value.tpa);
      if (!p) return;
      const reply = emitArp({ op: ARP_REPLY, sha: p.mac, spa: p.ip, tha: a.value.sha, tpa: a.value.spa });
      this.world.queue.deliverAfter(0, this.nic, emitEthernet({ dst: a.value.sha, src: p.mac, ethertype: ETHERTYPE_ARP, payload: reply }, { pad: true }));
      return;
    }
    if (type !== ETHERTYPE_IPV4) return;
    this.sent++;
    if (frame[ETH_HLEN + 9] === 6 && (frame[ETH_HLEN + 33]! & 0x02) !== 0) {
      // A SYN the director scheduled: remember which real server got it.
      const ihl = (frame[ETH_HLEN]! & 15) << 2;
      const o = ETH_HLEN + ihl;
      this.rsByPort.set((frame[o]! << 8) | frame[o + 1]!, readIp4(frame, ETH_HLEN + 16));
    }
  }
}

interface Director {
  world: World;
  host: Host;
  wan: Wire;
  lan: Wire;
}

async function startDirector(lab: Lab): Promise<Director> {
  const world = new World({ seed: lab.spec.seed, epochUs: lab.spec.clockEpochUs, timezone: lab.spec.timezone });
  const wan = new Wire(world, [lab.client]);
  const lan = new Wire(world, lab.servers);
  const warnings: string[] = [];
  const host = buildHost(world, lab.vip, lab.spec, warnings, {
    setupHost: standardSetup,
    attachNic: (nic, n) => {
      const wire = n.name === "eth1" ? wan : lan;
      wire.nic = nic;
      const seg = new Segment(`${n.name}@real`, "hub", 0, world.queue);
      seg.attach(nic);
      seg.attach(wire);
      nic.segment = seg;
    },
  });
  writeEtcHosts(host, lab.vip, lab.spec);
  world.hosts.set(lab.vip.name, host);
  const r = await runCommand(host, "sh /usr/local/sbin/lvs_nat.sh");
  if (r.exit !== 0) throw new Error(`lvs_nat.sh: exit ${r.exit}: ${r.io.stderrText}`);
  return { world, host, wan, lan };
}

/** One connection's frames in feeding order; the real server's are built for both servers. */
interface ConnFrames {
  cport: number;
  client: Uint8Array[];
  /** By real server index, then step. */
  server: Uint8Array[][];
}

// Feeding order: which side sends step k (C = client on eth1, S = real server on eth0).
const ORDER = "CSCCSSCSCS";

function buildConns(lab: Lab, d: Director, n: number): ConnFrames[] {
  const vip = d.host.nics.get("eth1")!;
  const inner = d.host.nics.get("eth0")!;
  const VIP = vip.addrs[0]!.addr;
  const c = lab.client;
  const out: ConnFrames[] = [];
  for (let i = 0; i < n; i++) {
    const cport = 1024 + (i % 64000);
    const isn = (i * 2654435761) >>> 0;
    const frame = (src: Mac, dst: Mac, pkt: Uint8Array): Uint8Array => emitEthernet({ dst, src, ethertype: ETHERTYPE_IPV4, payload: pkt }, { pad: true });
    const fromClient = (flags: string, seq: number, ack: number, payload?: string, options?: string): Uint8Array =>
      frame(c.mac, vip.mac, buildTcpPacket({ src: c.ip, dst: VIP, sport: cport, dport: 80, flags, seq, ack, payload, options, win: 502 }));
    // Linux's segments: timestamps on every one (so no frame is shorter than 66 bytes).
    const ts = (val: number, ecr: number): string => `nop,nop,TS val ${val} ecr ${ecr}`;
    const client = [
      fromClient("S", isn, 0, undefined, "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7"),
      fromClient(".", isn + 1, 1001, undefined, ts(2, 1)),
      fromClient("P.", isn + 1, 1001, GET, ts(2, 1)),
      fromClient(".", isn + 1 + GET.length, 1001 + RESPONSE.length, undefined, ts(3, 2)),
      fromClient("F.", isn + 1 + GET.length, 1002 + RESPONSE.length, undefined, ts(3, 2)),
    ];
    const server = lab.servers.map((s) => {
      const fromServer = (flags: string, seq: number, ack: number, payload?: string, options?: string): Uint8Array =>
        frame(s.mac, inner.mac, buildTcpPacket({ src: s.ip, dst: c.ip, sport: 80, dport: cport, flags, seq, ack, payload, options, win: 509 }));
      return [
        fromServer("S.", 1000, isn + 1, undefined, "mss 1460,sackOK,TS val 1 ecr 1,nop,wscale 7"),
        fromServer(".", 1001, isn + 1 + GET.length, undefined, ts(2, 2)),
        fromServer("P.", 1001, isn + 1 + GET.length, RESPONSE, ts(2, 2)),
        fromServer("F.", 1001 + RESPONSE.length, isn + 1 + GET.length, undefined, ts(2, 2)),
        fromServer(".", 1002 + RESPONSE.length, isn + 2 + GET.length, undefined, ts(3, 3)),
      ];
    });
    out.push({ cport, client, server });
  }
  return out;
}

/** Templates are built once per process (every director built from the lab has the same MACs). */
let templates: { n: number; conns: ConnFrames[] } | undefined;

/** Feed `conns` through a fresh director; the timed part is the feeding and the queue runs. */
export async function runDirector(opts: { conns: number; window: number }): Promise<DirectorRun> {
  return (await prepareDirector(opts))();
}

/** A fresh director and its frames, and the function that feeds them (timed; call it once). */
export async function prepareDirector(opts: { conns: number; window: number }): Promise<() => DirectorRun> {
  const lab = readLab();
  const d = await startDirector(lab);
  if (!templates || templates.n < opts.conns) templates = { n: opts.conns, conns: buildConns(lab, d, opts.conns) };
  const conns = templates.conns.slice(0, opts.conns);
  const rsIndex = new Map(lab.servers.map((s, i) => [s.ip, i]));
  return () => feed(d, conns, rsIndex, opts);
}

/** Connections whose frames are copied from the templates at a time (about 0.5 MB of frames, as few as keeps the timer calls rare: fewer live frames, less for each scavenge to copy). */
const BATCH = 256;

/**
 * Frames are copied from the templates a batch at a time just before they are fed (not
 * timed): fresh bytes, likely still in the cache, each frame its own `new Uint8Array` as the
 * packet bridge delivers them (the director rewrites received frames in place).
 */
function feed(d: Director, conns: ConnFrames[], rsIndex: Map<Ip4, number>, opts: { conns: number; window: number }): DirectorRun {
  const eth1 = d.host.nics.get("eth1")!;
  const eth0 = d.host.nics.get("eth0")!;
  const q = d.world.queue;
  const W = opts.window;
  const chosen = new Int32Array(conns.length);
  let frames = 0;
  let wallMs = 0;
  let cpuUs = 0;
  for (let b = 0; b < conns.length; b += BATCH) {
    const bend = Math.min(conns.length, b + BATCH);
    const client: Uint8Array[][] = [];
    const server: Uint8Array[][][] = [];
    for (let i = b; i < bend; i++) {
      client.push(conns[i]!.client.map((f) => f.slice()));
      server.push(conns[i]!.server.map((fs) => fs.map((f) => f.slice())));
    }
    const c0 = process.cpuUsage();
    const t0 = now();
    for (let w = b; w < bend; w += W) {
      const end = Math.min(bend, w + W);
      let ci = 0;
      let si = 0;
      for (let k = 0; k < ORDER.length; k++) {
        const fromClient = ORDER[k] === "C";
        for (let i = w; i < end; i++) {
          if (fromClient) eth1.receive(client[i - b]![ci]!);
          else eth0.receive(server[i - b]![chosen[i]!]![si]!);
        }
        frames += end - w;
        q.runUntil(q.now() + (end - w) * FRAME_STEP_US);
        if (fromClient) ci++;
        else si++;
        if (k === 0) {
          // The SYNs went out on eth0: which real server did each get?
          for (let i = w; i < end; i++) {
            const rs = d.lan.rsByPort.get(conns[i]!.cport);
            const x = rs === undefined ? undefined : rsIndex.get(rs);
            if (x === undefined) throw new Error(`connection ${i}: the SYN did not reach a real server`);
            chosen[i] = x;
          }
        }
      }
    }
    wallMs += now() - t0;
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
  }
  const sent = d.wan.sent + d.lan.sent;
  if (sent !== frames) {
    const drops = [...d.world.trace.drops].map(([k, v]) => `${k} (${v})`).join("; ");
    throw new Error(`the director sent ${sent} of ${frames} frames on: ${drops || "no drop counted"}`);
  }
  const made = d.host.ipvs!.conns().length;
  if (made !== opts.conns) throw new Error(`IPVS holds ${made} connections, not ${opts.conns}`);
  return { frames, wallMs, cpuUs, sent, conns: made };
}
export async function directorBench(r: Report, cfg: BenchConfig): Promise<void> {
  r.begin("Director: real mode's host, LVS-NAT frames in and out (no sockets)");
  const conns = cfg.quick ? 3000 : 20_000;
  const window = 64;
  await runDirector({ conns: Math.min(conns, 3000), window }); // JIT warm-up, not reported
  const runs: DirectorRun[] = [];
  for (let i = 0; i < 3; i++) runs.push(await runDirector({ conns, window }));
  const us = runs.map((x) => (x.wallMs * 1000) / x.frames).sort((a, b) => a - b);
  const cpu = runs.map((x) => x.cpuUs / x.frames).sort((a, b) => a - b);
  const f = runs[0]!.frames;
  const spread = (v: number[]): string => `runs ${v.map(fmt).join(" / ")}`;
  r.add("wall time per frame (median of 3)", us[1]!, "µs/frame", `${spread(us)}; ${fmt(f)} frames, ${fmt(conns)} conns, ${window} in flight`);
  r.add("CPU time per frame (median of 3)", cpu[1]!, "µs/frame", `${spread(cpu)}; user+system`);
  r.add("frames (median of 3)", 1e6 / us[1]!, "frames/s", `10 frames per HTTP GET on a new connection, ${formatIp4(0xc0a84b96)} to the VIP`);
}
