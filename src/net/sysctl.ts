/**
 * The sysctl table of one host (/proc/sys), keyed by dotted names as `sysctl` prints them
 * ("net.ipv4.ip_forward"). Per-interface keys (net.ipv4.conf.<if>.*) appear when the NIC
 * does, seeded from conf.default as Linux does. The IPVS knobs (net.ipv4.vs.*) live in the
 * engine and are reached through a delegate.
 */
import type { ErrnoName } from "../tools/types.js";

/** Defaults of a Linux 6.1 network namespace, for the keys lvslab models. */
export const GLOBAL_DEFAULTS: Record<string, string> = {
  "kernel.hostname": "localhost",
  "kernel.osrelease": "6.1.0-28-amd64",
  "net.ipv4.ip_forward": "0",
  "net.ipv4.ip_default_ttl": "64",
  "net.ipv4.ip_local_port_range": "32768\t60999",
  "net.ipv4.ip_nonlocal_bind": "0",
  "net.ipv4.icmp_echo_ignore_all": "0",
  "net.ipv4.icmp_echo_ignore_broadcasts": "1",
  "net.ipv4.icmp_ratelimit": "1000",
  "net.ipv4.ip_no_pmtu_disc": "0",
  "net.ipv4.ip_forward_use_pmtu": "0",
  "net.ipv4.route.min_pmtu": "552",
  "net.ipv4.route.mtu_expires": "600",
  "net.ipv4.tcp_mtu_probing": "0",
  "net.ipv4.tcp_timestamps": "1",
  "net.ipv4.tcp_sack": "1",
  "net.ipv4.tcp_window_scaling": "1",
  "net.ipv4.tcp_syn_retries": "6",
  "net.ipv4.tcp_synack_retries": "5",
  "net.ipv4.tcp_fin_timeout": "60",
  "net.ipv4.tcp_retries2": "15",
  "net.ipv4.neigh.default.base_reachable_time_ms": "30000",
  "net.ipv4.neigh.default.delay_first_probe_time": "5",
  "net.ipv4.neigh.default.retrans_time_ms": "1000",
  "net.ipv4.neigh.default.ucast_solicit": "3",
  "net.ipv4.neigh.default.mcast_solicit": "3",
  "net.ipv4.neigh.default.gc_stale_time": "60",
};

/** Per-interface keys (net.ipv4.conf.<if>.<key>) and their defaults. */
export const CONF_DEFAULTS: Record<string, string> = {
  accept_local: "0",
  accept_redirects: "1",
  accept_source_route: "0",
  arp_accept: "0",
  arp_announce: "0",
  arp_filter: "0",
  arp_ignore: "0",
  forwarding: "0",
  log_martians: "0",
  proxy_arp: "0",
  route_localnet: "0",
  rp_filter: "0",
  secure_redirects: "1",
  send_redirects: "1",
  shared_media: "1",
};

export interface SysctlDelegate {
  prefix: string;
  get(name: string): string | undefined;
  set(name: string, value: string): ErrnoName | undefined;
  names(): string[];
}

/**
 * An integer sysctl read on a hot path: `value` is `getInt(name, dflt)`, parsed again only
 * after the table changed. Names a delegate serves are read through every time.
 */
export class SysctlInt {
  private version = -1;
  private v = 0;

  constructor(
    private readonly table: SysctlTable,
    readonly name: string,
    private readonly dflt: number,
  ) {}

  get value(): number {
    const t = this.table;
    if (this.version === t.version) return this.v;
    this.v = t.getInt(this.name, this.dflt);
    this.version = t.isDelegated(this.name) ? -1 : t.version;
    return this.v;
  }
}

export class SysctlTable {
  private values = new Map<string, string>();
  private delegates: SysctlDelegate[] = [];
  /** Bumped by every change to the values or the delegates (SysctlInt caches by it). */
  version = 0;
  /** Called after a successful write (the host reacts, e.g. ip_forward). */
  onChange: (name: string, value: string) => void = () => {};

  constructor() {
    for (const [k, v] of Object.entries(GLOBAL_DEFAULTS)) this.values.set(k, v);
    for (const ifn of ["all", "default"]) this.addInterface(ifn);
  }

  addInterface(ifname: string): void {
    this.version++;
    for (const [k, v] of Object.entries(CONF_DEFAULTS)) {
      const dflt = this.values.get(`net.ipv4.conf.default.${k}`);
      this.values.set(`net.ipv4.conf.${ifname}.${k}`, ifname === "all" || ifname === "default" ? v : dflt ?? v);
    }
  }

  addDelegate(d: SysctlDelegate): void {
    this.delegates.push(d);
    this.version++;
  }

  private delegateFor(name: string): SysctlDelegate | undefined {
    return this.delegates.find((d) => name.startsWith(d.prefix));
  }

  isDelegated(name: string): boolean {
    return this.delegateFor(name) !== undefined;
  }

  /** A cached reader of an integer key (see SysctlInt). */
  int(name: string, dflt = 0): SysctlInt {
    return new SysctlInt(this, name, dflt);
  }

  get(name: string): string | undefined {
    const d = this.delegateFor(name);
    if (d) return d.get(name.slice(d.prefix.length));
    return this.values.get(name);
  }

  getInt(name: string, dflt = 0): number {
    const v = this.get(name);
    const n = v === undefined ? NaN : parseInt(v, 10);
    return Number.isFinite(n) ? n : dflt;
  }

  /** Write like `echo VALUE > /proc/sys/...`: EINVAL for a malformed value, ENOENT for no such key. */
  set(name: string, raw: string): ErrnoName | undefined {
    const value = raw.replace(/\n$/, "").trim();
    this.version++;
    const d = this.delegateFor(name);
    if (d) {
      const err = d.set(name.slice(d.prefix.length), value);
      if (!err) this.onChange(name, value);
      return err;
    }
    const old = this.values.get(name);
    if (old === undefined) return "ENOENT";
    if (name === "kernel.hostname") {
      this.values.set(name, value);
    } else if (name === "net.ipv4.ip_local_port_range") {
      const parts = value.split(/\s+/).map((x) => Number(x));
      if (parts.length !== 2 || parts.some((x) => !Number.isInteger(x) || x < 1 || x > 65535) || parts[0]! > parts[1]!) return "EINVAL";
      this.values.set(name, `${parts[0]}\t${parts[1]}`);
    } else {
      if (!/^-?\d+$/.test(value)) return "EINVAL";
      this.values.set(name, String(parseInt(value, 10)));
    }
    if (name === "net.ipv4.ip_forward") {
      // Linux: writing ip_forward sets forwarding on "all", "default" and every device.
      for (const k of [...this.values.keys()]) {
        if (/^net\.ipv4\.conf\.[^.]+\.forwarding$/.test(k)) this.values.set(k, this.values.get(name)!);
      }
    }
    this.onChange(name, this.values.get(name)!);
    return undefined;
  }

  names(): string[] {
    const all = [...this.values.keys()];
    for (const d of this.delegates) for (const n of d.names()) all.push(d.prefix + n);
    return all.sort();
  }

  /** "net.ipv4.ip_forward" <-> "net/ipv4/ip_forward" (interface names may contain dots: not modelled). */
  static fromPath(rel: string): string {
    return rel.split("/").filter(Boolean).join(".");
  }
  static toPath(name: string): string {
    return name.split(".").join("/");
  }
}
