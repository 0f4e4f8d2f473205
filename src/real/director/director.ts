/**
 * The userspace director: one simulated Host — built from the lab's host spec exactly as
 * the simulator builds it — whose NICs are plugged into real interfaces through the packet
 * bridge, with its event queue run in real time. ARP, routing, forwarding, netfilter, IPVS,
 * the shell and every tool are the simulator's own; only the wires are real.
 *
 * Each NIC sits on a private one-port segment whose other end is the real interface:
 * frames the NIC transmits go to the bridge, frames the bridge reads are handed to the NIC.
 */
import { readFileSync } from "node:fs";
import { buildHost, writeEtcHosts } from "../../lab/build.js";
import type { HostSpec, LabSpec } from "../../lab/schema.js";
import { standardSetup } from "../../lab/setup.js";
import { startCommand, Transcript } from "../../lab/runner.js";
import type { Host, Nic } from "../../net/host.js";
import { Segment, type SegmentPort } from "../../net/segment.js";
import { World } from "../../net/world.js";
import type { Tool, ToolIo } from "../../tools/types.js";
import { bashQuote } from "../../tools/sh/quote.js";
import { ETH_HLEN, parseMac, type Mac } from "../../wire/index.js";
import { segmentTcp } from "../offload.js";
import { inheritedPacketFds, openDirectPacketIo } from "../packetio_direct.js";
import { openPacketIo, type PacketIo, type PacketIoOptions } from "../packetio.js";
import { startControlServer, type ControlRequest, type ControlServer } from "../control.js";
import { RealTimeDriver } from "./realtime.js";

export interface DirectorOptions {
  lab: LabSpec;
  /** The lab host this process is (its NIC names are the real interfaces' names). */
  host: HostSpec;
  seed?: number;
  /** Where the control socket listens (none when absent). */
  controlPath?: string;
  /** An `ipvsadm-save` file's text, restored once the host is up (`ipvsadm -R`). */
  rules?: string;
  /** Warnings (a MAC that differs from the lab's, a rule that failed). */
  warn?: (s: string) => void;
  packetIo?: PacketIoOptions;
}

export interface Director {
  readonly host: Host;
  readonly world: World;
  readonly io: PacketIo;
  readonly driver: RealTimeDriver;
  /** Run a command line on the director (what the control socket does). */
  run(req: ControlRequest, out: { stdout(s: string): void; stderr(s: string): void }, interrupt?: Promise<unknown>): Promise<number>;
  /** Stop: control socket removed, bridge killed, timers cleared. */
  close(): Promise<void>;
}

/** A real interface's MAC (from sysfs), or undefined when it has none readable. */
export function realMac(ifname: string): Mac | undefined {
  try {
    return parseMac(readFileSync(`/sys/class/net/${ifname}/address`, "utf8").trim());
  } catch {
    return undefined;
  }
}

/** How often the director looks for its interfaces (a deleted one is told on stderr). */
const IFACE_WATCH_MS = 1000;

export function realMtu(ifname: string): number | undefined {
  try {
    const v = Number(readFileSync(`/sys/class/net/${ifname}/mtu`, "utf8").trim());
    return Number.isInteger(v) && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

export async function startDirector(opts: DirectorOptions): Promise<Director> {
  const warn = opts.warn ?? (() => undefined);
  const spec = opts.host;
  const ifaces = spec.nics.map((n) => n.name);
  for (const name of ifaces) {
    if (realMac(name) === undefined) throw new Error(`no network interface ${name} here (${spec.name}'s NICs must exist, named as in the lab)`);
  }
  const inherited = inheritedPacketFds();
  if (inherited instanceof Error) throw inherited;
  const io = inherited ? openDirectPacketIo(ifaces, inherited) : openPacketIo(ifaces, opts.packetIo);
  try {
    await io.ready;
  } catch (e) {
    io.close();
    throw e;
  }
  // Virtual time 0 is now, so the virtual wall clock is the real one.
  const world = new World({ seed: opts.seed ?? opts.lab.seed, epochUs: Date.now() * 1000, timezone: opts.lab.timezone });
  const driver = new RealTimeDriver(world);
  const nics: Nic[] = [];
  const warnings: string[] = [];
  const host = buildHost(world, spec, opts.lab, warnings, {
    seed: opts.seed,
    setupHost: standardSetup,
    attachNic: (nic, n) => {
      const port = ifaces.indexOf(n.name);
      const mac = realMac(n.name)!;
      if (mac !== n.mac && !n.macGenerated) warn(`${n.name}: the interface's MAC differs from the lab's; using the interface's`);
      nic.mac = mac;
      const seg = new Segment(`${n.name}@real`, "hub", 0, world.queue);
      const wire: SegmentPort = { receive: (frame) => io.send(port, frame) };
      seg.attach(nic);
      seg.attach(wire);
      nic.segment = seg;
      nics[port] = nic;
    },
  });
  writeEtcHosts(host, spec, opts.lab);
  world.hosts.set(spec.name, host);
  host.tools.set("lvslab-drops", dropsTool(world, io));
  for (const w of warnings) warn(w);

  let batch = false;
  io.onFrame = (port, frame) => {
    if (!batch) {
      batch = true;
      driver.pump(); // virtual time catches up with the frame's arrival
    }
    const nic = nics[port]!;
    try {
      // A GRO/TSO super-frame is cut back into MTU-sized segments, as the NIC would have.
      if (frame.length > nic.mtu + ETH_HLEN) for (const f of segmentTcp(frame, nic.mtu)) nic.receive(f);
      else nic.receive(frame);
    } catch (e) {
      driver.onError(e);
    }
  };
  io.onBatch = () => {
    batch = false;
    driver.pump();
  };
  driver.afterPump = () => io.flush();
  // Counted with the other drops (lvslab-drops), and the first few told on stderr.
  let errorsTold = 0;
  driver.onError = (e) => {
    world.trace.drop(world.now(), spec.name, "internal error while handling a packet or timer (see the director's stderr)");
    if (errorsTold++ < 10) warn(`internal error (the packet or timer is dropped, the director goes on): ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  };
  driver.pump();

  const run: Director["run"] = async (req, out, interrupt) => {
    const line = req.argv.map(bashQuote).join(" ");
    // Virtual time catches up with real time first: a command reads the state of now
    // (countdowns, the estimator's 2 s ticks), not of the last frame's arrival.
    driver.pump();
    const t = new StreamIo(out, req.stdin);
    const proc = startCommand(host, line, t);
    void interrupt?.then(() => proc.interrupt());
    return proc.promise;
  };

  if (opts.rules !== undefined) {
    const errs: string[] = [];
    const code = await run({ argv: ["ipvsadm", "-R"], stdin: opts.rules }, { stdout: () => undefined, stderr: (s) => errs.push(s) });
    if (code !== 0) {
      driver.stop();
      io.close();
      throw new Error(`--rules: ipvsadm -R failed (exit ${code}): ${errs.join("").trim()}`);
    }
  }

  let control: ControlServer | undefined;
  if (opts.controlPath) {
    try {
      control = await startControlServer(opts.controlPath, (req, out, intr) => run(req, out, intr));
    } catch (e) {
      driver.stop();
      io.close();
      throw e;
    }
  }
  // The sockets follow an interface by its index: one deleted (or deleted and made again)
  // no longer brings its frames. Told once, on stderr, rather than going quiet.
  const ifindexOf = (n: string): string | undefined => {
    try {
      return readFileSync(`/sys/class/net/${n}/ifindex`, "utf8").trim();
    } catch {
      return undefined;
    }
  };
  const indexes = ifaces.map(ifindexOf);
  const told = new Set<string>();
  const watch = setInterval(() => {
    ifaces.forEach((n, i) => {
      if (told.has(n) || indexes[i] === undefined || ifindexOf(n) === indexes[i]) return;
      told.add(n);
      warn(`${n}: the interface is gone (deleted, or made again): its frames no longer reach the director; restart it`);
    });
  }, IFACE_WATCH_MS);
  watch.unref();
  let closed = false;
  return {
    host,
    world,
    io,
    driver,
    run,
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(watch);
      await control?.close();
      driver.stop();
      io.close();
    },
  };
}

/** A terminal for one control request: output streams to the client as it is printed. */
class StreamIo extends Transcript implements ToolIo {
  constructor(
    private readonly out: { stdout(s: string): void; stderr(s: string): void },
    readonly stdin: string | undefined,
  ) {
    super();
  }
  override stdout(s: string): void {
    super.stdout(s);
    this.out.stdout(s);
  }
  override stderr(s: string): void {
    super.stderr(s);
    this.out.stderr(s);
  }
}

/**
 * `lvslab-drops`: every packet the director dropped, by reason (the table `lvslab run
 * --trace` prints), then the packet I/O's counters per interface.
 */
function dropsTool(world: World, io: PacketIo): Tool {
  return async (ctx) => {
    const drops = [...world.trace.drops].sort((a, b) => a[0].localeCompare(b[0]));
    let out = "";
    for (const [k, n] of drops) out += `${k}  ${n}\n`;
    if (drops.length === 0) out += "no packet dropped\n";
    const b = await Promise.race([io.bridgeStats(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000))]);
    out += `\npacket I/O: ${io.kind === "direct" ? "the director's own raw sockets" : "the Python bridge's raw sockets"}\n`;
    out += "nic: iface rx tx rx_dropped tx_dropped rx_csum_partial rx_truncated\n";
    io.ifaces.forEach((name, i) => {
      // "-": a counter this I/O cannot read (the kernel's socket drops, in direct mode).
      const col = (k: string): string => (b?.[k]?.[i] === undefined ? "-" : String(b[k]![i]));
      // The bridge's own drops plus those before it, in Node; direct I/O counts them all itself.
      const txDropped = (b?.["tx_dropped"]?.[i] ?? 0) + (io.kind === "bridge" ? io.stats.txDropped[i] ?? 0 : 0);
      out += `nic: ${name} ${col("rx")} ${col("tx")} ${col("rx_dropped")} ${txDropped} ${io.stats.rxCsumFixed[i] ?? 0} ${col("rx_truncated")}\n`;
    });
    ctx.io.stdout(out);
    return 0;
  };
}
