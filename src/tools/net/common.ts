/**
 * Shared pieces of the network commands: the host behind a tool context, output helpers,
 * interface naming and the per-address details the Host does not keep itself.
 */
import type { Host, Nic, NicAddr } from "../../net/host.js";
import type { ToolContext } from "../types.js";
import { parseIp4, type Ip4 } from "../../wire/index.js";
import { DEFAULT_ETC_SERVICES } from "../ipvsadm/services-data.js";
import { bytesText } from "../../net/vfs.js";

export function hostOf(ctx: ToolContext): Host {
  return ctx.host as unknown as Host;
}

/** Interfaces in ifindex order (lo first), as `ip link` lists them. */
export function nicsByIndex(host: Host): Nic[] {
  return [...host.nics.values()].sort((a, b) => a.index - b.index);
}

/**
 * Addresses added by `ip addr add` without `brd`: the kernel then keeps no broadcast
 * address (iproute2 prints none, ifconfig prints "broadcast 0.0.0.0"). Lab-configured
 * addresses get one, as ifcfg/ifupdown scripts set it.
 */
export const noBroadcast = new WeakSet<NicAddr>();

/** "secondary": another address of the same subnet and prefix was configured first. */
export function isSecondary(nic: Nic, a: NicAddr): boolean {
  const i = nic.addrs.indexOf(a);
  for (let j = 0; j < i; j++) {
    const b = nic.addrs[j]!;
    if (b.plen === a.plen && a.plen < 32 && sameNet(a.addr, b.addr, a.plen) && !isSecondary(nic, b)) return true;
  }
  return false;
}

function sameNet(a: Ip4, b: Ip4, plen: number): boolean {
  if (plen === 0) return true;
  const m = (0xffffffff << (32 - plen)) >>> 0;
  return ((a & m) >>> 0) === ((b & m) >>> 0);
}

/** Addresses in the kernel's list order: primaries first, then secondaries. */
export function orderedAddrs(nic: Nic): NicAddr[] {
  const prim = nic.addrs.filter((a) => !isSecondary(nic, a));
  const sec = nic.addrs.filter((a) => isSecondary(nic, a));
  return [...prim, ...sec];
}

/** Parse "A.B.C.D[/N]"; `defPlen` when no prefix is given. */
export function parsePrefix(s: string, defPlen = 32): { addr: Ip4; plen: number } | undefined {
  const [a, p, extra] = s.split("/");
  if (extra !== undefined) return undefined;
  const addr = parseIp4(a ?? "");
  if (addr === undefined) return undefined;
  if (p === undefined) return { addr, plen: defPlen };
  if (!/^\d+$/.test(p)) return undefined;
  const plen = Number(p);
  if (plen > 32) return undefined;
  return { addr, plen };
}

let servicesCache: Map<string, string> | undefined;

/** getservbyport: /etc/services of the host when it has one, else Debian's. */
export function serviceName(host: Host, port: number, proto: "tcp" | "udp"): string | undefined {
  const own = host.fs.read("/etc/services");
  const text = typeof own === "string" ? undefined : bytesText(own);
  let map: Map<string, string>;
  if (text !== undefined) map = parseServices(text);
  else map = servicesCache ??= parseServices(DEFAULT_ETC_SERVICES);
  return map.get(`${port}/${proto}`);
}

function parseServices(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const f = line.replace(/#.*/, "").trim().split(/\s+/);
    if (f.length < 2) continue;
    const pp = f[1]!;
    if (!m.has(pp)) m.set(pp, f[0]!);
  }
  return m;
}

/** getservbyname. */
export function servicePort(host: Host, name: string, proto: "tcp" | "udp"): number | undefined {
  const own = host.fs.read("/etc/services");
  const text = typeof own === "string" ? DEFAULT_ETC_SERVICES : bytesText(own);
  for (const line of text.split("\n")) {
    const f = line.replace(/#.*/, "").trim().split(/\s+/);
    if (f.length < 2) continue;
    const [port, pr] = f[1]!.split("/");
    if (pr === proto && (f[0] === name || f.slice(2).includes(name))) return Number(port);
  }
  return undefined;
}

/** printf("%-Ns") */
export function padR(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}
/** printf("%Ns") */
export function padL(s: string, n: number): string {
  return s.length >= n ? s : " ".repeat(n - s.length) + s;
}

/**
 * iproute2's get_integer(.., 0) (lib/utils.c): strtol base 0 ("0x" hex, leading-0 octal, else
 * decimal; leading blanks and a sign allowed) over the whole, non-empty string, within C int;
 * undefined otherwise. So `mtu -1` parses (the kernel then refuses it) while
 * `mtu 4294967295` and `mtu 1400x` do not.
 */
export function getInteger(s: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9]\d*))$/.exec(s);
  if (!m) return undefined;
  const n = (m[1] === "-" ? -1 : 1) * (m[2] !== undefined ? parseInt(m[2], 16) : m[3] !== undefined ? parseInt(m[3], 8) : Number(m[4]));
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}
