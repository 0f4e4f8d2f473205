/**
 * HAProxy PROXY protocol headers (doc/proxy-protocol.txt), v1 (text) and v2 (binary): the
 * first bytes a proxy sends on a connection to tell the server who the client is.
 *
 * `readProxyHeader` accepts what nginx 1.22's ngx_proxy_protocol_read accepts and fails as
 * it does: v2 when the 12-byte signature starts a buffer of 16 bytes or more, otherwise a
 * "PROXY " line (TCP4/TCP6 with two addresses and two ports, or UNKNOWN), else "broken
 * header" quoting what it read (as nginx 1.22.1 does: checked against it in real mode). A v2 LOCAL command, a non-stream transport or an unknown
 * family is skipped without addresses; TLVs are skipped.
 */
import { formatIp4, parseIp4, type Ip4 } from "./addr.js";

export const PROXY_V2_SIGNATURE = new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

export interface ProxyAddrs {
  /** Address texts as nginx keeps them ($proxy_protocol_addr, $proxy_protocol_server_addr). */
  readonly srcAddr: string;
  readonly dstAddr: string;
  readonly srcPort: number;
  readonly dstPort: number;
}

export type ProxyRead =
  /** `length` bytes are the header; `addrs` absent for UNKNOWN / LOCAL / unsupported. */
  | { readonly ok: true; readonly version: 1 | 2; readonly length: number; readonly addrs?: ProxyAddrs }
  /** nginx's error-log text ("broken header: \"...\"", "header is too large", ...). */
  | { readonly ok: false; readonly error: string };

const latin1 = new TextDecoder("latin1");

/** nginx 1.22 quotes the whole buffer it read, CR and LF included (1.25 cut it at the first line). */
function broken(b: Uint8Array): ProxyRead {
  return { ok: false, error: `broken header: "${latin1.decode(b)}"` };
}

/** ngx_proxy_protocol_read_port: decimal digits up to `delim`, 0..65535. */
function readPort(t: string, at: number, delim: string): [number, number] | undefined {
  const end = t.indexOf(delim, at);
  if (end < 0) return undefined;
  const s = t.slice(at, end);
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n > 65535 ? undefined : [n, end + 1];
}

/** ngx_proxy_protocol_read_addr: up to a space, a valid IPv4 or IPv6 address. */
function readAddr(t: string, at: number): [string, number] | undefined {
  const end = t.indexOf(" ", at);
  if (end < 0) return undefined;
  const s = t.slice(at, end);
  const v4 = parseIp4(s) !== undefined;
  const v6 = /^[0-9a-fA-F:.]+$/.test(s) && s.includes(":");
  return v4 || v6 ? [s, end + 1] : undefined;
}

export function readProxyHeader(b: Uint8Array): ProxyRead {
  if (b.length >= 16 && PROXY_V2_SIGNATURE.every((x, i) => b[i] === x)) return readV2(b);
  const t = latin1.decode(b);
  if (t.length < 8 || !t.startsWith("PROXY ")) return broken(b);
  let p = 6;
  if (t.startsWith("UNKNOWN", p)) {
    const crlf = t.indexOf("\r\n", p + 7);
    return crlf < 0 ? broken(b) : { ok: true, version: 1, length: crlf + 2 };
  }
  if (!t.startsWith("TCP", p) || (t[p + 3] !== "4" && t[p + 3] !== "6") || t[p + 4] !== " ") return broken(b);
  p += 5;
  const src = readAddr(t, p);
  if (!src) return broken(b);
  const dst = readAddr(t, src[1]);
  if (!dst) return broken(b);
  const sp = readPort(t, dst[1], " ");
  if (!sp) return broken(b);
  const dp = readPort(t, sp[1], "\r");
  if (!dp || t[dp[1]] !== "\n") return broken(b);
  return { ok: true, version: 1, length: dp[1] + 1, addrs: { srcAddr: src[0], dstAddr: dst[0], srcPort: sp[0], dstPort: dp[0] } };
}

function readV2(b: Uint8Array): ProxyRead {
  const version = b[12]! >> 4;
  if (version !== 2) return { ok: false, error: `unknown PROXY protocol version: ${version}` };
  const len = (b[14]! << 8) | b[15]!;
  if (b.length - 16 < len) return { ok: false, error: "header is too large" };
  const length = 16 + len;
  const command = b[12]! & 0x0f;
  const transport = b[13]! & 0x0f;
  const family = b[13]! >> 4;
  if (command !== 1 || transport !== 1 || family !== 1) return { ok: true, version: 2, length };
  if (len < 12) return { ok: false, error: "" }; // nginx returns NULL without a message
  const rd = (o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  return {
    ok: true, version: 2, length,
    addrs: {
      srcAddr: formatIp4(rd(16)), dstAddr: formatIp4(rd(20)),
      srcPort: (b[24]! << 8) | b[25]!, dstPort: (b[26]! << 8) | b[27]!,
    },
  };
}

/** A v1 line for TCP over IPv4: "PROXY TCP4 src dst sport dport\r\n". */
export function emitProxyV1(src: Ip4, dst: Ip4, sport: number, dport: number): Uint8Array {
  return new TextEncoder().encode(`PROXY TCP4 ${formatIp4(src)} ${formatIp4(dst)} ${sport} ${dport}\r\n`);
}

/** A v2 PROXY header for TCP over IPv4 (command PROXY, 0x21 0x11, 12 address bytes). */
export function emitProxyV2(src: Ip4, dst: Ip4, sport: number, dport: number): Uint8Array {
  const b = new Uint8Array(28);
  b.set(PROXY_V2_SIGNATURE, 0);
  b[12] = 0x21;
  b[13] = 0x11;
  b[15] = 12;
  const wr = (o: number, v: number) => {
    b[o] = v >>> 24;
    b[o + 1] = (v >>> 16) & 255;
    b[o + 2] = (v >>> 8) & 255;
    b[o + 3] = v & 255;
  };
  wr(16, src);
  wr(20, dst);
  b[24] = sport >> 8;
  b[25] = sport & 255;
  b[26] = dport >> 8;
  b[27] = dport & 255;
  return b;
}
