/**
 * Turns a validated LabSpec into a running World: segments, hosts with their NICs,
 * addresses, routes, sysctls, files, commands and daemons, all at virtual t = 0.
 */
import { startHttpServer } from "../apps/http-server.js";
import { Host, type Nic } from "../net/host.js";
import { World } from "../net/world.js";
import { hostTools } from "../tools/registry.js";
import type { Tool } from "../tools/types.js";
import { formatIp4 } from "../wire/index.js";
import { setMode } from "../tools/sh/index.js";
import type { HostSpec, LabSpec, NicSpec } from "./schema.js";

export interface BuildOptions {
  seed?: number;
  /** Extra per-host commands (e.g. the network tools), merged over the defaults. */
  tools?: Record<string, Tool>;
  /** Called for every host after it is built (mount /proc, add tools). */
  setupHost?: (host: Host) => void;
  /**
   * Plug a host's NIC in. Default: into the lab segment its spec names. Real mode plugs the
   * director's NICs into real interfaces instead.
   */
  attachNic?: (nic: Nic, spec: NicSpec) => void;
}

export interface BuiltLab {
  readonly spec: LabSpec;
  readonly world: World;
  readonly hosts: Map<string, Host>;
  /** Problems met while building (e.g. a route the kernel would refuse). */
  readonly warnings: string[];
}

export function buildLab(spec: LabSpec, opts: BuildOptions = {}): BuiltLab {
  const world = new World({ seed: opts.seed ?? spec.seed, epochUs: spec.clockEpochUs, timezone: spec.timezone });
  const warnings: string[] = [];
  for (const s of spec.segments) world.addSegment(s.name, s.type, s.latencyUs);
  const hosts = new Map<string, Host>();
  for (const h of spec.hosts) {
    const host = buildHost(world, h, spec, warnings, opts);
    hosts.set(h.name, host);
    world.hosts.set(h.name, host);
  }
  for (const h of spec.hosts) writeEtcHosts(hosts.get(h.name)!, h, spec);
  return { spec, world, hosts, warnings };
}

/** /etc/hosts names every lab host (first address), as a lab admin would set it up. */
export function writeEtcHosts(host: Host, h: HostSpec, spec: LabSpec): void {
  const lines = ["127.0.0.1\tlocalhost"];
  for (const o of spec.hosts) {
    const a = o.nics[0]?.addrs[0];
    if (a) lines.push(`${formatIp4(a.addr)}\t${o.hostname}`);
  }
  host.fs.mkdirp("/etc"); // a host with no files under /etc still has the directory
  if (!host.fs.exists("/etc/hosts")) host.fs.write("/etc/hosts", lines.join("\n") + "\n" + (h.hostsFile ?? ""));
}

/** One host of a lab, in `world` (buildLab builds them all; real mode builds only the director). */
export function buildHost(world: World, h: HostSpec, spec: LabSpec, warnings: string[], opts: BuildOptions): Host {
  const host = new Host(world, h.name);
  host.sysctl.set("kernel.hostname", h.hostname);
  host.env.set("HOME", "/root");
  host.env.set("USER", "root");
  host.env.set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  host.env.set("TZ", spec.timezone);
  host.env.set("HOSTNAME", h.hostname);
  // The directories every Debian host has.
  for (const d of ["/tmp", "/root", "/etc", "/var/log", "/var/tmp", "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/bin", "/sbin", "/home"]) host.fs.mkdirp(d);
  host.env.set("PWD", "/root");
  for (const n of h.nics) {
    const nic = host.addNic(n.name, n.mac, n.mtu);
    if (opts.attachNic) opts.attachNic(nic, n);
    else {
      const seg = world.segments.get(n.segment);
      if (seg) {
        seg.attach(nic);
        nic.segment = seg;
      }
    }
    for (const a of n.addrs) host.addAddress(n.name, a.addr, a.prefix);
  }
  for (const r of h.routes) {
    let dev = r.dev;
    if (!dev && r.via !== undefined) dev = host.routeOutput(r.via)?.dev.name;
    if (!dev) {
      warnings.push(`${h.name}: route ${r.to.text} via ${r.via !== undefined ? formatIp4(r.via) : "?"}: Nexthop has invalid gateway`);
      continue;
    }
    const err = host.routes.add({
      dst: r.to.addr, plen: r.to.prefix, gateway: r.via, dev, metric: r.metric ?? 0, proto: "boot",
      scope: r.via === undefined ? "link" : "global",
    });
    if (err) warnings.push(`${h.name}: route ${r.to.text}: File exists`);
  }
  if (h.ipvs) host.enableIpvs();
  for (const s of h.sysctl) {
    const err = host.sysctl.set(s.name, s.value);
    if (err) warnings.push(`${h.name}: sysctl ${s.name}=${s.value}: ${err}`);
  }
  for (const f of h.files) {
    const dir = f.path.slice(0, f.path.lastIndexOf("/")) || "/";
    host.fs.mkdirp(dir);
    host.fs.write(f.path, f.content);
    setMode(host.fs, f.path, f.mode ?? 0o755);
  }
  for (const [k, v] of hostTools(host, opts.tools ?? {})) host.tools.set(k, v);
  opts.setupHost?.(host);
  const nginxConnections = { value: 0 }; // the host's nginx services are one nginx
  for (const svc of h.services) {
    if (svc.kind === "nginx") {
      host.fs.mkdirp("/var/log/nginx");
      const srv = startHttpServer({
        tcp: host.tcp,
        connectionCounter: nginxConnections,
        port: svc.port,
        root: svc.root,
        index: svc.index,
        epochMicros: (t) => world.epochUs + t,
        readFile: (p) => {
          const r = host.fs.read(p);
          if (typeof r === "string") return undefined;
          const m = host.fs.mtimes.get(p);
          return m === undefined ? r : { data: r, mtime: Math.floor(m / 1e6) };
        },
        isDir: (p) => host.fs.isDir(p),
        log: (line) => {
          host.fs.write("/var/log/nginx/access.log", line + "\n", { append: true });
        },
        errorLog: (line) => {
          host.fs.write("/var/log/nginx/error.log", line + "\n", { append: true });
        },
        proxyProtocol: svc.proxyProtocol,
        logFormat: svc.logFormat,
      });
      if (typeof srv === "string") warnings.push(`${h.name}: nginx: bind() to 0.0.0.0:${svc.port} failed (${srv})`);
    }
  }
  return host;
}
