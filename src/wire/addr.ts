/**
 * Addresses. An IPv4 address is an unsigned 32-bit host-order number (10.0.0.1 is
 * 0x0A000001); a MAC address is a 48-bit number (exact in a JS double). Text forms exist
 * only at the edges: lab files, tool arguments and tool output.
 */

/** IPv4 address, unsigned 32-bit, host order. */
export type Ip4 = number;
/** MAC address, 48-bit unsigned. */
export type Mac = number;

export const MAC_BROADCAST: Mac = 0xffffffffffff;
export const MAC_ZERO: Mac = 0;
export const IP4_ANY: Ip4 = 0;
export const IP4_BROADCAST: Ip4 = 0xffffffff;

const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/**
 * Strict dotted quad: four decimal octets 0..255, no leading zeros (so "010.0.0.1", which
 * inet_aton would read as octal, is refused), no shorthand forms, no whitespace.
 */
export function parseIp4(s: string): Ip4 | undefined {
  const m = DOTTED_QUAD.exec(s);
  if (m === null) return undefined;
  return ((+m[1]! << 24) | (+m[2]! << 16) | (+m[3]! << 8) | +m[4]!) >>> 0;
}

export function formatIp4(a: Ip4): string {
  return `${(a >>> 24) & 0xff}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** Builds an address from its four octets: `ip4(10, 0, 0, 1)`. */
export function ip4(a: number, b: number, c: number, d: number): Ip4 {
  return (((a & 0xff) << 24) | ((b & 0xff) << 16) | ((c & 0xff) << 8) | (d & 0xff)) >>> 0;
}

const MAC_TEXT = /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})$/;

/** Six colon-separated two-digit hex octets, either case: `00:0c:29:5a:c3:3e`. */
export function parseMac(s: string): Mac | undefined {
  const m = MAC_TEXT.exec(s);
  if (m === null) return undefined;
  let v = 0;
  for (let i = 1; i <= 6; i++) v = v * 256 + parseInt(m[i]!, 16);
  return v;
}

/** Lowercase, colon-separated, as `ip link` and tcpdump -e print it. */
export function formatMac(m: Mac): string {
  const hi = Math.floor(m / 0x100000000);
  const lo = m >>> 0;
  const parts = [
    (hi >>> 8) & 0xff, hi & 0xff,
    (lo >>> 24) & 0xff, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff,
  ];
  return parts.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** Netmask of a prefix length 0..32 (24 → 255.255.255.0). */
export function prefixToMask(len: number): Ip4 {
  if (len <= 0) return 0;
  if (len >= 32) return 0xffffffff;
  return (0xffffffff << (32 - len)) >>> 0;
}

/** Prefix length of a netmask, or undefined when its one bits are not contiguous. */
export function maskToPrefix(mask: Ip4): number | undefined {
  const m = mask >>> 0;
  const inv = ~m >>> 0;
  // A contiguous mask's complement is 2^k - 1, i.e. inv & (inv + 1) == 0.
  if ((inv & (inv + 1)) !== 0) return undefined;
  return Math.clz32(inv);
}

export function sameSubnet(a: Ip4, b: Ip4, len: number): boolean {
  const mask = prefixToMask(len);
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

/** Network address of `a` under a prefix length. */
export function networkOf(a: Ip4, len: number): Ip4 {
  return (a & prefixToMask(len)) >>> 0;
}

/** Directed broadcast address of `a`'s subnet. */
export function broadcastOf(a: Ip4, len: number): Ip4 {
  return (a | ~prefixToMask(len)) >>> 0;
}

/** 224.0.0.0/4 */
export function isMulticastIp4(a: Ip4): boolean {
  return (a >>> 28) === 0xe;
}

/** The I/G bit: set in broadcast and multicast MACs. */
export function isMulticastMac(m: Mac): boolean {
  return (Math.floor(m / 0x10000000000) & 1) === 1;
}

/** Big-endian 32-bit read at `off`. */
export function readIp4(b: Uint8Array, off: number): Ip4 {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export function writeIp4(b: Uint8Array, off: number, a: Ip4): void {
  b[off] = a >>> 24;
  b[off + 1] = a >>> 16;
  b[off + 2] = a >>> 8;
  b[off + 3] = a;
}

/** Big-endian 48-bit read at `off`. */
export function readMac(b: Uint8Array, off: number): Mac {
  const hi = (b[off]! << 8) | b[off + 1]!;
  const lo = ((b[off + 2]! << 24) | (b[off + 3]! << 16) | (b[off + 4]! << 8) | b[off + 5]!) >>> 0;
  return hi * 0x100000000 + lo;
}

export function writeMac(b: Uint8Array, off: number, m: Mac): void {
  const hi = Math.floor(m / 0x100000000);
  const lo = m >>> 0;
  b[off] = hi >>> 8;
  b[off + 1] = hi;
  b[off + 2] = lo >>> 24;
  b[off + 3] = lo >>> 16;
  b[off + 4] = lo >>> 8;
  b[off + 5] = lo;
}
