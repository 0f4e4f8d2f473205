/**
 * The sip persistence engine (ip_vs_pe_sip.c): a UDP service with `--pe sip` keeps one
 * persistence template per SIP Call-ID, so every datagram of a call reaches the same real
 * server whatever source port it comes from. The Call-ID is found as the kernel finds it,
 * with nf_conntrack_sip's ct_sip_get_header (header names case-insensitive at a line start,
 * the compact form "i", whitespace and continuation lines around the colon, the value a
 * SIP "word", optionally "@" and a second word).
 */

/** IP_VS_PEDATA_MAXLEN: a longer Call-ID is useless to the engine. */
export const PEDATA_MAXLEN = 255;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;

/** The kernel's ctype (lib/ctype.c), Latin-1 included: letters and digits. */
function isalpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && c <= 0xff && c !== 0xd7 && c !== 0xf7);
}

function isalnum(c: number): boolean {
  return isalpha(c) || (c >= 0x30 && c <= 0x39);
}

/** iswordc: RFC 3261's word characters. */
function iswordc(c: number): boolean {
  return isalnum(c) || c === 0x21 || c === 0x22 || c === 0x25 || (c >= 0x28 && c <= 0x2b) || c === 0x3a || c === 0x3c ||
    c === 0x3e || c === 0x3f || (c >= 0x5b && c <= 0x5d) || c === 0x5f || c === 0x60 || c === 0x7b || c === 0x7d ||
    c === 0x7e || (c >= 0x2d && c <= 0x2f) || c === 0x27;
}

function wordLen(b: Uint8Array, p: number, limit: number): number {
  let n = 0;
  while (p + n < limit && iswordc(b[p + n]!)) n++;
  return n;
}

/** callid_len: a word, and "@" with a second word when one follows (0: "@" with none). */
function callidLen(b: Uint8Array, p: number, limit: number): number {
  let len = wordLen(b, p, limit);
  p += len;
  if (len === 0 || p === limit || b[p] !== 0x40) return len;
  p++;
  len++;
  const domain = wordLen(b, p, limit);
  return domain === 0 ? 0 : len + domain;
}

/** sip_follow_continuation: past a line end into a continuation line's text, or -1. */
function followContinuation(b: Uint8Array, p: number, limit: number): number {
  if (++p >= limit) return -1;
  if (b[p - 1] === CR && b[p] === LF && ++p >= limit) return -1;
  if (b[p] !== SP && b[p] !== HT) return -1;
  while (p < limit && (b[p] === SP || b[p] === HT)) p++;
  return p;
}

/** sip_skip_whitespace: -1 where a line ends without a continuation. */
function skipWhitespace(b: Uint8Array, p: number, limit: number): number {
  for (; p < limit; p++) {
    const c = b[p]!;
    if (c === SP || c === HT) continue;
    if (c !== CR && c !== LF) break;
    return followContinuation(b, p, limit);
  }
  return p;
}

const NAME = [0x63, 0x61, 0x6c, 0x6c, 0x2d, 0x69, 0x64]; // "call-id"

function nameAt(b: Uint8Array, p: number): boolean {
  for (let k = 0; k < NAME.length; k++) {
    const c = b[p + k]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== NAME[k]) return false;
  }
  return true;
}

/**
 * ct_sip_get_header for Call-ID: 1 with the value's offset and length, 0 when there is
 * none, -1 when a header was found but its value is not a Call-ID (offset set).
 */
function getHeader(b: Uint8Array, dataoff: number, datalen: number, m: { off: number; len: number }): number {
  const limit = datalen;
  for (let p = dataoff; p < limit; p++) {
    // The beginning of a line: a header is only ever looked for there.
    if (b[p] !== CR && b[p] !== LF) continue;
    if (++p >= limit) break;
    if (b[p - 1] === CR && b[p] === LF && ++p >= limit) break;
    if (b[p] === SP || b[p] === HT) continue; // a continuation line
    if (limit - p >= NAME.length && nameAt(b, p)) p += NAME.length;
    else if (limit - p >= 2 && (b[p]! | 0x20) === 0x69 && !isalpha(b[p + 1]!)) p += 1;
    else continue;
    p = skipWhitespace(b, p, limit);
    if (p < 0) break;
    if (p >= limit || b[p] !== 0x3a || ++p >= limit) break; // the colon
    p = skipWhitespace(b, p, limit);
    if (p < 0) break;
    m.off = p;
    m.len = callidLen(b, p, limit);
    return m.len === 0 ? -1 : 1;
  }
  return 0;
}

/**
 * ip_vs_sip_fill_param's get_callid on a UDP payload: the Call-ID, or undefined (the
 * kernel then drops the datagram). The search starts at the payload's first byte (Linux
 * 6.1: a Call-ID on the line right after a 17-byte request line is found,
 * test/golden/kernel/pe-sip.out); the request line itself is never taken for a header.
 */
export function sipCallId(payload: Uint8Array): string | undefined {
  const datalen = payload.length;
  const m = { off: 0, len: 0 };
  let dataoff = 0;
  for (;;) {
    const r = getHeader(payload, dataoff, datalen, m);
    if (r > 0) break;
    if (r === 0) return undefined;
    dataoff += m.off; // as the kernel does: the value's offset from the payload's start, added
  }
  if (m.len > PEDATA_MAXLEN) return undefined;
  // SIP headers are always followed by a line terminator.
  if (m.off + m.len === datalen) return undefined;
  const next = payload[m.off + m.len];
  if (next !== CR && next !== LF) return undefined;
  return latin1(payload.subarray(m.off, m.off + m.len));
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
}
