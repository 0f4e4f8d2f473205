/**
 * Name resolution as ipvsadm sees it through libc: gethostbyname / gethostbyaddr (here:
 * /etc/hosts only — the simulated hosts have no DNS) and getservbyname / getservbyport
 * (/etc/services). ipvsadm resolves names in arguments always, and in listings unless `-n`.
 *
 * Also the libc number parsers ipvsadm relies on (inet_aton, inet_pton, strtol), so that
 * odd-but-legal inputs (`10.1`, `0x0a.0.0.1`, `+80`) behave as on Linux.
 */
import type { Ip4 } from "../../ipvs/api.js";
import type { Vfs } from "../types.js";
import { DEFAULT_ETC_SERVICES } from "./services-data.js";

export type ServiceProto = "tcp" | "udp" | "sctp";

/** What ipvsadm asks of the resolver (libc's gethostby* / getservby*). */
export interface NameResolver {
  /** gethostbyaddr: the canonical name of an address, if the hosts database has one. */
  hostByAddr(ip: Ip4): string | undefined;
  /** gethostbyname: the first IPv4 address of a name. */
  addrByHost(name: string): Ip4 | undefined;
  /** getservbyport: the official service name of a port for a protocol. */
  serviceByPort(port: number, proto: ServiceProto): string | undefined;
  /** getservbyname: a service name or alias to its port. */
  portByService(name: string, proto: ServiceProto): number | undefined;
}

interface HostLine { addr: Ip4; names: string[] }
interface ServLine { port: number; proto: string; names: string[] }

/** Parse /etc/hosts text (IPv4 lines only; IPv6 lines are skipped). */
export function parseHosts(text: string): HostLine[] {
  const out: HostLine[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.split("#", 1)[0]!.trim();
    if (!line) continue;
    const parts = line.split(/\s+/);
    if (parts.length < 2) continue;
    const addr = inetPton4(parts[0]!);
    if (addr === undefined) continue;
    out.push({ addr, names: parts.slice(1) });
  }
  return out;
}

/** Parse /etc/services text. */
export function parseServices(text: string): ServLine[] {
  const out: ServLine[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.split("#", 1)[0]!.trim();
    if (!line) continue;
    const parts = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(parts[1] ?? "");
    if (!m) continue;
    out.push({ port: Number(m[1]), proto: m[2]!, names: [parts[0]!, ...parts.slice(2)] });
  }
  return out;
}

const DEFAULT_HOSTS = "127.0.0.1\tlocalhost\n";

/** A resolver over hosts/services file contents (libc "files" semantics: first match wins). */
export function resolverFromFiles(hostsText?: string, servicesText?: string): NameResolver {
  const hosts = parseHosts(hostsText ?? DEFAULT_HOSTS);
  const servs = parseServices(servicesText ?? DEFAULT_ETC_SERVICES);
  return {
    hostByAddr(ip) {
      return hosts.find((h) => h.addr === ip)?.names[0];
    },
    addrByHost(name) {
      const n = name.toLowerCase();
      return hosts.find((h) => h.names.some((x) => x.toLowerCase() === n))?.addr;
    },
    serviceByPort(port, proto) {
      return servs.find((s) => s.port === port && s.proto === proto)?.names[0];
    },
    portByService(name, proto) {
      return servs.find((s) => s.proto === proto && s.names.includes(name))?.port;
    },
  };
}

let builtin: NameResolver | undefined;
/** localhost plus the Debian /etc/services table. */
export function defaultResolver(): NameResolver {
  return (builtin ??= resolverFromFiles());
}

/** A resolver reading the host's own /etc/hosts and /etc/services, with the defaults as fallback. */
export function vfsResolver(fs: Vfs): NameResolver {
  const read = (p: string): string | undefined => {
    if (!fs.exists(p)) return undefined;
    const t = fs.readText(p);
    return t === "ENOENT" || t === "EISDIR" || t === "EACCES" ? undefined : t;
  };
  const hosts = read("/etc/hosts");
  const services = read("/etc/services");
  if (hosts === undefined && services === undefined) return defaultResolver();
  return resolverFromFiles(hosts, services);
}

// ---------------------------------------------------------------------------------------
// libc number parsing

const isSpace = (c: string | undefined): boolean =>
  c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/** strtoul(s + i, &end, 0) without the sign/space prefix (inet_aton checks isdigit first). */
function strtoul0(s: string, i: number): [value: number, end: number] {
  let base = 10;
  if (s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X") && /[0-9a-fA-F]/.test(s[i + 2] ?? "")) {
    base = 16;
    i += 2;
  } else if (s[i] === "0") {
    base = 8;
  }
  let v = 0;
  let j = i;
  for (; j < s.length; j++) {
    const d = parseInt(s[j]!, 16);
    if (Number.isNaN(d) || d >= base) break;
    v = v * base + d;
    if (v > 0xffffffff) v = Infinity; // out of range: rejected by the caller
  }
  return [v, j];
}

/** glibc inet_aton: `a`, `a.b`, `a.b.c`, `a.b.c.d`, each part decimal, octal or hex. */
export function inetAton(s: string): Ip4 | undefined {
  const parts: number[] = [];
  let i = 0;
  let val: number;
  for (;;) {
    if (!isDigit(s[i])) return undefined;
    [val, i] = strtoul0(s, i);
    if (val > 0xffffffff) return undefined;
    if (s[i] === ".") {
      if (parts.length > 2 || val > 0xff) return undefined;
      parts.push(val);
      i++;
    } else break;
  }
  if (!(i >= s.length || isSpace(s[i]))) return undefined;
  const [a = 0, b = 0, c = 0] = parts;
  switch (parts.length) {
    case 0:
      return val >>> 0;
    case 1:
      return val > 0xffffff ? undefined : ((a << 24) | val) >>> 0;
    case 2:
      return val > 0xffff ? undefined : ((a << 24) | (b << 16) | val) >>> 0;
    default:
      return val > 0xff ? undefined : ((a << 24) | (b << 16) | (c << 8) | val) >>> 0;
  }
}

/** inet_pton(AF_INET): strict dotted quad, decimal, no leading zeros. */
export function inetPton4(s: string): Ip4 | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0;
  for (let k = 1; k <= 4; k++) {
    const p = m[k]!;
    if (p.length > 1 && p[0] === "0") return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

/** inet_pton(AF_INET6): true when `s` is a valid IPv6 text address. */
export function isInet6(s: string): boolean {
  if (s.length === 0 || s.length > 45) return false;
  let head = s;
  const lastColon = s.lastIndexOf(":");
  if (lastColon >= 0 && s.indexOf(".", lastColon) > lastColon) {
    // an embedded dotted quad stands for the last two groups
    if (inetPton4(s.slice(lastColon + 1)) === undefined) return false;
    head = s.slice(0, lastColon + 1) + "0:0";
  }
  const dbl = head.indexOf("::");
  if (dbl !== head.lastIndexOf("::")) return false;
  const groupOk = (g: string) => /^[0-9a-fA-F]{1,4}$/.test(g);
  if (dbl >= 0) {
    const left = head.slice(0, dbl);
    const right = head.slice(dbl + 2);
    const l = left === "" ? [] : left.split(":");
    const r = right === "" ? [] : right.split(":");
    if (!l.every(groupOk) || !r.every(groupOk)) return false;
    return l.length + r.length <= 7;
  }
  const groups = head.split(":");
  return groups.length === 8 && groups.every(groupOk);
}

/**
 * ipvsadm's string_to_number: strtol base 10 over the whole string (leading blanks and a
 * sign allowed), within [min, max]; otherwise -1.
 */
export function stringToNumber(s: string, min: number, max: number): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(s);
  if (!m) return -1;
  let n = Number(m[2]);
  if (m[1] === "-") n = -n;
  // strtol saturates at LONG_MIN/LONG_MAX with ERANGE: out of any range we use.
  if (!Number.isSafeInteger(n)) return -1;
  return min <= n && n <= max ? n : -1;
}

/** C atoi: leading blanks, sign, digits; 0 when none. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  return Number(m[1]) | 0;
}

export function formatIp4(a: Ip4): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
