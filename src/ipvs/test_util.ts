/** Test helpers for the IPVS engine: fake ports, a fake clock, spec builders. */
import type { DestSpec, Ip4, IpvsPorts, ServiceKey, ServiceSpec } from "./api.js";
import { FwdMethod, IPPROTO_TCP } from "./api.js";
import { IpvsEngine, type IpvsEngineOptions } from "./engine.js";
import { parseIp4 } from "../wire/index.js";

export function ip(s: string): Ip4 {
  const a = parseIp4(s);
  if (a === undefined) throw new Error(`bad address ${s}`);
  return a;
}

export interface FakeWorld extends IpvsPorts {
  t: number;
  logs: string[];
  local: Set<number>;
}

export function fakePorts(local: string[] = ["192.168.75.131", "192.168.1.1"]): FakeWorld {
  let seed = 12345;
  const w: FakeWorld = {
    t: 0,
    logs: [],
    local: new Set(local.map(ip)),
    now: () => w.t,
    sourceFor: () => ip("192.168.1.1"),
    isLocal: (a) => w.local.has(a >>> 0),
    log: (l) => void w.logs.push(l),
    random: () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    },
  };
  return w;
}

export function newEngine(opts: IpvsEngineOptions = {}, local?: string[]): { e: IpvsEngine; w: FakeWorld } {
  const w = fakePorts(local);
  return { e: new IpvsEngine(w, opts), w };
}

export function tcpKey(addr: string, port: number): ServiceKey {
  return { fwmark: 0, protocol: IPPROTO_TCP, addr: ip(addr), port };
}

export function svcSpec(key: ServiceKey, scheduler = "wlc", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { key, scheduler, flags: 0, timeout: 0, netmask: 0xffffffff, pe: "", ...extra };
}

export function destSpec(addr: string, port: number, extra: Partial<DestSpec> = {}): DestSpec {
  return {
    addr: ip(addr), port, fwd: FwdMethod.Masq, weight: 1, uThreshold: 0, lThreshold: 0,
    tunType: "ipip", tunPort: 0, tunFlags: 0, ...extra,
  };
}

export const SEC = 1_000_000;
