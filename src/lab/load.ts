/**
 * Loading a lab file: YAML text → `LabSpec`, or every problem found as a `Diagnostic`
 * naming file, line, column and field path. The checks are written by hand so each
 * message can say what was expected and, where possible, how to fix it (unknown keys get a
 * "did you mean" from edit distance). Bad input never throws: a YAML syntax error is a
 * diagnostic like any other.
 *
 * Order of work: YAML syntax (stop there if broken, since the tree may be nonsense), then
 * each section's shape and values, then the cross references (segments, hosts, step names)
 * and uniqueness (addresses, MACs). MACs the file leaves out are generated here, so a
 * `LabSpec` always has them.
 */

import { LineCounter, Parser, isAlias, isMap, isScalar, isSeq, parseDocument } from "yaml";
import type { Document, Node as YamlNode } from "yaml";
import { type Ip4, type Mac, formatIp4, formatMac, isMulticastMac, parseIp4, parseMac, prefixToMask, sameSubnet } from "../wire/addr.js";
import { LOG_VARIABLES, unknownLogVariables } from "../apps/http-server.js";
import {
  type AddrSpec, type Diagnostic, type ExpectSpec, type FileSpec, type HostSpec, type LabSpec,
  type Micros, type NicSpec, type RouteSpec, type SegmentSpec, type SegmentType, type ServiceSpec,
  type StepSpec, type SysctlSpec, DEFAULTS,
} from "./schema.js";

export type LoadResult = { ok: true; lab: LabSpec } | { ok: false; diagnostics: Diagnostic[] };

/** `labs/x.yaml:12:9: hosts.vip.nics.eth1.addrs[0]: message` and, on a second line, the hint. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.column}: `;
  const head = where + (d.path === "" ? "" : `${d.path}: `) + d.message;
  return d.hint === undefined ? head : `${head}\n  hint: ${d.hint}`;
}

// ---------------------------------------------------------------------------------------
// Value parsers shared with tests and tools.

const DURATION = /^([0-9]+)(?:\.([0-9]+))?(us|ms|s|m)$/;
const UNIT_US: Record<string, number> = { us: 1, ms: 1_000, s: 1_000_000, m: 60_000_000 };

/**
 * `50us`, `1ms`, `0.2ms`, `1s`, `1.5s`, `2m` → integer microseconds; undefined when the
 * text is not a duration or is not a whole number of microseconds.
 */
export function parseDuration(s: string): Micros | undefined {
  const m = DURATION.exec(s);
  if (m === null) return undefined;
  const whole = m[1]!;
  const frac = m[2] ?? "";
  if (whole.length > 12 || frac.length > 9) return undefined;
  const unit = UNIT_US[m[3]!]!;
  const scale = 10 ** frac.length;
  const fracUnits = frac === "" ? 0 : Number(frac) * unit;
  if (fracUnits % scale !== 0) return undefined;
  const us = Number(whole) * unit + fracUnits / scale;
  return Number.isSafeInteger(us) ? us : undefined;
}

/** `a.b.c.d/n` → address and prefix; undefined otherwise. */
export function parseCidr(s: string): AddrSpec | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const addr = parseIp4(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (addr === undefined || !/^(3[0-2]|[12]?[0-9])$/.test(p)) return undefined;
  const prefix = Number(p);
  return { addr, prefix, text: `${formatIp4(addr)}/${prefix}` };
}

/** FNV-1a, 32 bits, over the char codes of `s`. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The MAC a NIC gets when the lab gives none: VMware's OUI 00:0c:29 (the seed's lab ran
 * on VMware) and three bytes of a hash of "host/nic", so it stays the same from run to run
 * and from lab to lab. `attempt` > 0 rehashes when a MAC is already taken.
 */
export function generateMac(host: string, nic: string, attempt = 0): Mac {
  const key = attempt === 0 ? `${host}/${nic}` : `${host}/${nic}#${attempt}`;
  return 0x000c29000000 + (fnv1a(key) & 0xffffff);
}

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours as one. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The closest candidate within a third of the word's length (at least 1, at most 3 edits). */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  return bestD <= limit ? best : undefined;
}

// ---------------------------------------------------------------------------------------
// Walking the YAML tree.

/** A value in the tree: its node (aliases resolved; null when empty), where it is, its path. */
interface Val {
  readonly node: YamlNode | null;
  readonly off: number;
  readonly path: string;
}

interface Entry {
  readonly key: string;
  readonly keyOff: number;
  readonly val: Val;
}

const NAME = /^[A-Za-z0-9_.-]+$/;
const IFNAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
const SYSCTL_NAME = /^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/;

function childPath(path: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

class Loader {
  readonly diags: Diagnostic[] = [];

  constructor(
    readonly file: string,
    readonly lc: LineCounter,
    private readonly doc: Document.Parsed,
  ) {}

  errAt(off: number, path: string, message: string, hint?: string): void {
    const { line, col } = this.lc.linePos(off);
    const d: Diagnostic = hint === undefined
      ? { file: this.file, line, column: col, path, message }
      : { file: this.file, line, column: col, path, message, hint };
    this.diags.push(d);
  }

  err(v: Val, message: string, hint?: string): void {
    this.errAt(v.off, v.path, message, hint);
  }

  /** Wraps a child node, resolving aliases. */
  val(node: unknown, fallbackOff: number, path: string): Val {
    let n = node as YamlNode | null | undefined;
    for (let hops = 0; n != null && isAlias(n) && hops < 32; hops++) {
      const target = n.resolve(this.doc);
      if (target === undefined) this.errAt(n.range?.[0] ?? fallbackOff, path, `YAML: no anchor &${n.source} before this alias`);
      n = target ?? null;
    }
    if (n != null && isAlias(n)) n = null;
    const off = n?.range?.[0] ?? fallbackOff;
    return { node: n ?? null, off, path };
  }

  describe(v: Val): string {
    const n = v.node;
    if (n === null) return "empty";
    if (isMap(n)) return "a map";
    if (isSeq(n)) return "a list";
    if (isScalar(n)) {
      const x = n.value;
      if (x === null) return "empty";
      if (typeof x === "string") return `the string ${JSON.stringify(x)}`;
      return `${typeof x === "boolean" ? "" : "the number "}${String(x)}`;
    }
    return "something else";
  }

  isEmpty(v: Val): boolean {
    return v.node === null || (isScalar(v.node) && v.node.value === null);
  }

  /** A map's entries in order, or undefined (with a diagnostic) when `v` is not a map. */
  entries(v: Val, what: string, emptyOk = false): Entry[] | undefined {
    if (emptyOk && this.isEmpty(v)) return [];
    if (v.node === null || !isMap(v.node)) {
      this.err(v, `expected ${what}, found ${this.describe(v)}`);
      return undefined;
    }
    const out: Entry[] = [];
    for (const pair of v.node.items) {
      const k = this.val(pair.key, v.off, v.path);
      let key: string | undefined;
      if (k.node !== null && isScalar(k.node) && k.node.value !== null && typeof k.node.value !== "object") {
        key = String(k.node.value);
      }
      if (key === undefined) {
        this.err(k, "a key must be a plain name");
        continue;
      }
      const path = childPath(v.path, key);
      out.push({ key, keyOff: k.off, val: this.val(pair.value, k.off, path) });
    }
    return out;
  }

  /**
   * A map with a fixed set of keys: unknown ones are reported (with the nearest known key
   * as a hint), known ones are returned by name.
   */
  fields(v: Val, what: string, known: readonly string[], required: readonly string[] = []): Map<string, Val> | undefined {
    const es = this.entries(v, what);
    if (es === undefined) return undefined;
    const out = new Map<string, Val>();
    const suggested = new Set<string>();
    for (const e of es) {
      if (known.includes(e.key)) { out.set(e.key, e.val); continue; }
      const near = closest(e.key, known);
      if (near !== undefined) suggested.add(near);
      this.errAt(e.keyOff, e.val.path, `unknown field "${e.key}"`,
        near !== undefined ? `did you mean "${near}"?` : `known fields: ${known.join(", ")}`);
    }
    for (const r of required) {
      // A misspelt required field is reported once, as unknown (with the hint).
      if (!out.has(r) && !suggested.has(r)) this.err(v, `missing field "${r}"`);
    }
    return out;
  }

  str(v: Val, what = "a string"): string | undefined {
    if (v.node !== null && isScalar(v.node) && typeof v.node.value === "string") return v.node.value;
    this.err(v, `expected ${what}, found ${this.describe(v)}`);
    return undefined;
  }

  name(v: Val, what: string): string | undefined {
    const s = this.str(v, what);
    if (s === undefined) return undefined;
    if (!NAME.test(s)) {
      this.err(v, `${JSON.stringify(s)} is not a usable ${what}`, "use letters, digits, '_', '.' and '-' only");
      return undefined;
    }
    return s;
  }

  int(v: Val, what: string, min: number, max: number): number | undefined {
    const n = v.node !== null && isScalar(v.node) ? v.node.value : undefined;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
      this.err(v, `expected ${what} (an integer ${min}..${max}), found ${this.describe(v)}`);
      return undefined;
    }
    return n;
  }

  bool(v: Val): boolean | undefined {
    const b = v.node !== null && isScalar(v.node) ? v.node.value : undefined;
    if (typeof b === "boolean") return b;
    this.err(v, `expected true or false, found ${this.describe(v)}`);
    return undefined;
  }

  duration(v: Val): Micros | undefined {
    const n = v.node !== null && isScalar(v.node) ? v.node.value : undefined;
    if (typeof n === "number") {
      this.err(v, `${String(n)} has no unit`, `write it with a unit: ${String(n)}s, ${String(n)}ms or ${String(n)}us`);
      return undefined;
    }
    const s = this.str(v, "a duration (like 50us, 1ms, 0.2ms, 1s, 2m)");
    if (s === undefined) return undefined;
    const us = parseDuration(s);
    if (us === undefined) {
      this.err(v, `${JSON.stringify(s)} is not a duration`,
        DURATION.test(s) ? "it must be a whole number of microseconds" : "write a number and a unit: us, ms, s or m (like 50us, 0.2ms, 1s)");
    }
    return us;
  }

  cidr(v: Val): AddrSpec | undefined {
    const s = this.str(v, "an IPv4 address with a prefix (like 192.168.75.131/24)");
    if (s === undefined) return undefined;
    const a = parseCidr(s);
    if (a === undefined) {
      const bare = parseIp4(s);
      this.err(v, `${JSON.stringify(s)} is not an IPv4 address with a prefix (like 192.168.75.131/24)`,
        bare !== undefined ? `add the prefix length: ${s}/24 (or whatever the network's is)` : undefined);
      return undefined;
    }
    return a;
  }

  ip(v: Val): Ip4 | undefined {
    const s = this.str(v, "an IPv4 address (like 192.168.1.186)");
    if (s === undefined) return undefined;
    const a = parseIp4(s);
    if (a === undefined) {
      this.err(v, `${JSON.stringify(s)} is not an IPv4 address (like 192.168.1.186)`,
        parseCidr(s) !== undefined ? "a gateway is a single address: leave out the prefix" : undefined);
    }
    return a;
  }

  /** A string, or a list of strings, as a list. */
  strings(v: Val): string[] | undefined {
    if (v.node !== null && isSeq(v.node)) {
      const out: string[] = [];
      v.node.items.forEach((it, i) => {
        const s = this.str(this.val(it, v.off, `${v.path}[${i}]`));
        if (s !== undefined) out.push(s);
      });
      return out;
    }
    const s = this.str(v, "a string or a list of strings");
    return s === undefined ? undefined : [s];
  }

  items(v: Val, what: string): Val[] | undefined {
    if (this.isEmpty(v)) return [];
    if (v.node === null || !isSeq(v.node)) {
      this.err(v, `expected ${what}, found ${this.describe(v)}`);
      return undefined;
    }
    return v.node.items.map((it, i) => this.val(it, v.off, `${v.path}[${i}]`));
  }
}

// ---------------------------------------------------------------------------------------
// The sections.

const TOP_KEYS = ["lab", "description", "seed", "clock", "timezone", "segments", "hosts", "steps"];
const SEGMENT_KEYS = ["type", "latency"];
const HOST_KEYS = ["hostname", "ipvs", "nics", "routes", "sysctl", "files", "services", "hosts_file"];
const NIC_KEYS = ["segment", "mac", "addrs", "mtu"];
const ROUTE_KEYS = ["to", "via", "dev", "metric"];
const FILE_KEYS = ["content", "mode"];
const SERVICES = ["nginx"];
const NGINX_KEYS = ["root", "port", "index", "proxy_protocol", "log_format"];
const RUN_KEYS = ["on", "run", "background", "name", "expect", "timeout"];
const STEP_KINDS = ["run", "sleep", "stop", "note"] as const;
const EXPECT_KEYS = ["exit", "stdout", "stderr", "contains", "not_contains", "matches"];

const CLOCK = /^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?(Z|[+-][0-9]{2}:[0-9]{2})$/;

/** `2026-11-24T01:00:00Z` (or with an offset like +08:00) → µs since the epoch. */
export function parseClock(s: string): Micros | undefined {
  const m = CLOCK.exec(s);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!);
  const back = new Date(ms);
  if (!Number.isFinite(ms) || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo! - 1 ||
      back.getUTCDate() !== d || h! > 23 || mi! > 59 || sec! > 59) return undefined;
  let offMin = 0;
  const z = m[8]!;
  if (z !== "Z") {
    const oh = Number(z.slice(1, 3));
    const om = Number(z.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offMin = (z[0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const frac = Number((m[7] ?? "").padEnd(6, "0"));
  return (ms - offMin * 60_000) * 1000 + frac;
}

function validTimezone(tz: string): boolean {
  if (!/^[A-Za-z0-9_+\-/]+$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

interface Pending<T> { readonly value: T; readonly val: Val }

/** Deeper than any real lab; it keeps the yaml package's recursive composer off the stack limit. */
const MAX_CST_DEPTH = 256;

/**
 * The offset of the first token nested deeper than MAX_CST_DEPTH in yaml's concrete syntax
 * tree (built without recursion), or undefined. Deeply nested input otherwise makes the
 * composer exhaust the stack, which can abort the process rather than throw.
 */
function tooDeep(text: string): number | undefined {
  for (const top of new Parser().parse(text)) {
    // [node, depth, offset of the nearest enclosing token that has one]
    const stack: [unknown, number, number][] = [[top, 0, 0]];
    while (stack.length > 0) {
      const [n, d, parentOff] = stack.pop()!;
      if (n === null || typeof n !== "object") continue;
      const own = (n as { offset?: unknown }).offset;
      const off = typeof own === "number" ? own : parentOff;
      if (d > MAX_CST_DEPTH) return off;
      for (const k of ["items", "value", "key", "sep", "start"]) {
        const v = (n as Record<string, unknown>)[k];
        if (Array.isArray(v)) for (const x of v) stack.push([x, d + 1, off]);
        else if (v !== null && typeof v === "object") stack.push([v, d + 1, off]);
      }
    }
  }
  return undefined;
}

export function loadLab(text: string, fileName: string): LoadResult {
  const lc = new LineCounter();
  const deep = tooDeep(text);
  if (deep !== undefined) {
    lc.addNewLine(0);
    for (const m of text.matchAll(/\n/g)) lc.addNewLine(m.index + 1);
    const { line, col } = lc.linePos(deep);
    return { ok: false, diagnostics: [{ file: fileName, line, column: col, path: "", message: "YAML: nested too deeply", hint: "a lab file needs only a few levels" }] };
  }
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, version: "1.2", keepSourceTokens: false });
  const L = new Loader(fileName, lc, doc);

  for (const e of [...doc.errors, ...doc.warnings]) {
    L.errAt(e.pos[0], "", yamlMessage(e.message));
  }
  if (L.diags.length > 0) return { ok: false, diagnostics: L.diags };

  const root = L.val(doc.contents, 0, "");
  if (L.isEmpty(root)) {
    L.errAt(0, "", "the lab file is empty", "start with `lab: NAME` and a `hosts:` map; see docs/lab-format.md");
    return { ok: false, diagnostics: L.diags };
  }
  const top = L.fields(root, "a map with lab, hosts, segments and steps", TOP_KEYS, ["lab", "hosts"]);
  if (top === undefined) return { ok: false, diagnostics: L.diags };

  const get = (k: string) => top.get(k);
  const name = get("lab") !== undefined ? L.name(get("lab")!, "lab name") : undefined;
  const description = get("description") !== undefined ? L.str(get("description")!) : "";
  const seed = get("seed") !== undefined ? L.int(get("seed")!, "a seed", 0, 0xffffffff) : DEFAULTS.seed;
  let clockEpochUs: Micros | undefined = parseClock(DEFAULTS.clock);
  const clockV = get("clock");
  if (clockV !== undefined) {
    const s = L.str(clockV, 'a UTC time like "2026-11-24T01:00:00Z"');
    clockEpochUs = s === undefined ? undefined : parseClock(s);
    if (s !== undefined && clockEpochUs === undefined) {
      L.err(clockV, `${JSON.stringify(s)} is not a date and time`, 'write it like "2026-11-24T01:00:00Z" (UTC) or "2026-11-24T09:00:00+08:00"');
    }
  }
  let timezone: string | undefined = DEFAULTS.timezone;
  const tzV = get("timezone");
  if (tzV !== undefined) {
    timezone = L.str(tzV, "a time zone name like UTC or Asia/Shanghai");
    if (timezone !== undefined && !validTimezone(timezone)) {
      L.err(tzV, `${JSON.stringify(timezone)} is not a known time zone`, 'use an IANA name like "UTC", "Europe/Berlin" or "Asia/Shanghai"');
      timezone = undefined;
    }
  }

  const segments = loadSegments(L, get("segments"));
  const segNames = declaredKeys(get("segments"));
  const hosts = loadHosts(L, get("hosts"), segNames);
  const steps = loadSteps(L, get("steps"), declaredKeys(get("hosts")));

  // Report in file order (sections are checked in an order of their own).
  L.diags.sort((a, b) => a.line - b.line || a.column - b.column);
  if (L.diags.length > 0 || name === undefined || description === undefined || seed === undefined ||
      clockEpochUs === undefined || timezone === undefined) {
    if (L.diags.length === 0) L.errAt(0, "", "the lab file is incomplete");
    return { ok: false, diagnostics: L.diags };
  }
  return {
    ok: true,
    lab: { name, description, seed, clockEpochUs, timezone, segments, hosts, steps, source: fileName },
  };
}

/** The keys of a map node, without diagnostics: names declared, even if their settings are wrong. */
function declaredKeys(v: Val | undefined): Set<string> {
  const out = new Set<string>();
  if (v?.node != null && isMap(v.node)) {
    for (const p of v.node.items) if (isScalar(p.key) && p.key.value != null) out.add(String(p.key.value));
  }
  return out;
}

/** The yaml package's messages end with a source excerpt when pretty; keep the first line. */
function yamlMessage(m: string): string {
  const first = m.split("\n")[0]!.trim();
  return `YAML: ${first.replace(/ at line \d+, column \d+:?$/, "")}`;
}

function loadSegments(L: Loader, v: Val | undefined): SegmentSpec[] {
  if (v === undefined) return [];
  const es = L.entries(v, "a map of segment names to { type, latency }", true);
  if (es === undefined) return [];
  const out: SegmentSpec[] = [];
  for (const e of es) {
    const path = e.val.path;
    if (!NAME.test(e.key)) {
      L.errAt(e.keyOff, path, `${JSON.stringify(e.key)} is not a usable segment name`, "use letters, digits, '_', '.' and '-' only");
      continue;
    }
    let type: SegmentType = DEFAULTS.segmentType;
    let latencyUs: Micros | undefined = parseDuration(DEFAULTS.latency);
    if (!L.isEmpty(e.val)) {
      const f = L.fields(e.val, "a map with type and latency", SEGMENT_KEYS);
      if (f === undefined) continue;
      const t = f.get("type");
      if (t !== undefined) {
        const s = L.str(t, "switch or hub");
        if (s === "switch" || s === "hub") type = s;
        else if (s !== undefined) {
          const near = closest(s, ["switch", "hub"]);
          L.err(t, `${JSON.stringify(s)} is not a segment type`, near !== undefined ? `did you mean "${near}"?` : "use switch (learns MACs) or hub (every port sees every frame)");
        }
      }
      const lat = f.get("latency");
      if (lat !== undefined) latencyUs = L.duration(lat);
    }
    if (latencyUs !== undefined) out.push({ name: e.key, type, latencyUs });
  }
  return out;
}

function loadHosts(L: Loader, v: Val | undefined, segNames: Set<string>): HostSpec[] {
  if (v === undefined) return [];
  const es = L.entries(v, "a map of host names to their settings");
  if (es === undefined) return [];
  if (es.length === 0) L.err(v, "a lab needs at least one host");
  const hosts: HostSpec[] = [];
  const addrOwners = new Map<number, { path: string; text: string }>();
  const macOwners = new Map<Mac, string>();
  const pendingMacs: { host: string; nic: string; set: (m: Mac) => void }[] = [];

  for (const e of es) {
    const hv = e.val;
    if (!NAME.test(e.key)) {
      L.errAt(e.keyOff, hv.path, `${JSON.stringify(e.key)} is not a usable host name`, "host names appear in prompts: use letters, digits, '_', '.' and '-' only");
      continue;
    }
    const f = L.isEmpty(hv) ? new Map<string, Val>() : L.fields(hv, "a map of host settings", HOST_KEYS);
    if (f === undefined) continue;
    const hostname = f.has("hostname") ? L.name(f.get("hostname")!, "host name") : e.key;
    const ipvs = f.has("ipvs") ? L.bool(f.get("ipvs")!) : false;

    // NICs
    const nics: NicSpec[] = [];
    /** Every NIC's valid addresses, even of NICs dropped for other errors (for route checks). */
    const onLink: { name: string; addrs: AddrSpec[] }[] = [];
    const nicErrorsBefore = L.diags.length;
    const nicV = f.get("nics");
    const nicEntries = nicV === undefined ? [] : L.entries(nicV, "a map of interface names to { segment, addrs, mac, mtu }", true) ?? [];
    for (const ne of nicEntries) {
      const p = ne.val.path;
      if (!IFNAME.test(ne.key) || ne.key === "lo") {
        L.errAt(ne.keyOff, p, ne.key === "lo" ? "lo exists on every host; do not list it" : `${JSON.stringify(ne.key)} is not a usable interface name`,
          ne.key === "lo" ? undefined : "a letter, then up to 14 letters, digits, '_', '.' or '-' (like eth0)");
        continue;
      }
      const nf = L.fields(ne.val, "a map with segment, addrs, mac and mtu", NIC_KEYS, ["segment"]);
      if (nf === undefined) continue;
      let segment: string | undefined;
      const sv = nf.get("segment");
      if (sv !== undefined) {
        segment = L.str(sv, "a segment name");
        if (segment !== undefined && !segNames.has(segment)) {
          const near = closest(segment, segNames);
          L.err(sv, `no segment named ${JSON.stringify(segment)}`,
            near !== undefined ? `did you mean "${near}"?` : segNames.size > 0 ? `segments: ${[...segNames].join(", ")}` : "declare it under `segments:`");
          segment = undefined;
        }
      }
      const addrs: AddrSpec[] = [];
      const av = nf.get("addrs");
      if (av !== undefined) {
        for (const iv of L.items(av, "a list of addresses like [192.168.1.186/24]") ?? []) {
          const a = L.cidr(iv);
          if (a === undefined) continue;
          if (a.addr === 0 || a.addr >>> 24 === 127 || a.addr >>> 28 >= 0xe || a.prefix === 0) {
            L.err(iv, `${a.text} is not a usable interface address`, "use a unicast address outside 0.0.0.0/8, 127.0.0.0/8 and 224.0.0.0/3, with a prefix of 1..32");
            continue;
          }
          const prev = addrOwners.get(a.addr);
          if (prev !== undefined) {
            L.err(iv, `${formatIp4(a.addr)} is already given to ${prev.path}`, "every address belongs to one interface");
            continue;
          }
          addrOwners.set(a.addr, { path: iv.path, text: a.text });
          addrs.push(a);
        }
      }
      onLink.push({ name: ne.key, addrs });
      const mtu = nf.has("mtu") ? L.int(nf.get("mtu")!, "an MTU", 68, 65535) : DEFAULTS.mtu;
      let mac: Mac | undefined;
      const mv = nf.get("mac");
      if (mv !== undefined) {
        const s = L.str(mv, 'a MAC address like "00:0c:29:a1:b2:01"');
        if (s !== undefined) {
          mac = parseMac(s);
          if (mac === undefined) {
            L.err(mv, `${JSON.stringify(s)} is not a MAC address`, 'six two-digit hex bytes separated by colons, like "00:0c:29:a1:b2:01"');
          } else if (isMulticastMac(mac) || mac === 0) {
            L.err(mv, `${formatMac(mac)} is not a unicast MAC address`, "the first byte must be even (its lowest bit marks multicast)");
            mac = undefined;
          } else if (macOwners.has(mac)) {
            L.err(mv, `${formatMac(mac)} is already given to ${macOwners.get(mac)!}`, "every NIC needs its own MAC");
            mac = undefined;
          } else {
            macOwners.set(mac, p);
          }
        }
      }
      if (segment === undefined || mtu === undefined || (mv !== undefined && mac === undefined)) continue;
      const nic = { name: ne.key, segment, mac: mac ?? 0, macGenerated: mac === undefined, addrs, mtu };
      if (mac === undefined) pendingMacs.push({ host: e.key, nic: ne.key, set: (m) => { nic.mac = m; } });
      nics.push(nic);
    }

    const routes = loadRoutes(L, f.get("routes"), onLink, L.diags.length === nicErrorsBefore);
    const sysctl = loadSysctl(L, f.get("sysctl"));
    const files = loadFiles(L, f.get("files"));
    const services = loadServices(L, f.get("services"));
    let hostsFile: string | undefined;
    if (f.has("hosts_file")) hostsFile = L.str(f.get("hosts_file")!, "lines for /etc/hosts");

    if (hostname === undefined || ipvs === undefined) continue;
    const host: HostSpec = hostsFile === undefined
      ? { name: e.key, hostname, ipvs, nics, routes, sysctl, files, services }
      : { name: e.key, hostname, ipvs, nics, routes, sysctl, files, services, hostsFile };
    hosts.push(host);
  }

  // Generated MACs last, so a MAC written in the file always wins over a generated one.
  for (const pm of pendingMacs) {
    let attempt = 0;
    let m = generateMac(pm.host, pm.nic);
    while (macOwners.has(m)) m = generateMac(pm.host, pm.nic, ++attempt);
    macOwners.set(m, `hosts.${pm.host}.nics.${pm.nic}`);
    pm.set(m);
  }
  return hosts;
}

/**
 * `nics` are the host's interfaces with their addresses; `nicsComplete` is false when some
 * NIC had errors, and then a gateway is not checked against the connected networks (its
 * network may be the one whose address was wrong).
 */
function loadRoutes(L: Loader, v: Val | undefined, nics: readonly { name: string; addrs: readonly AddrSpec[] }[], nicsComplete: boolean): RouteSpec[] {
  if (v === undefined) return [];
  const out: RouteSpec[] = [];
  const seen = new Map<string, string>();
  for (const rv of L.items(v, "a list of routes like { to: default, via: 192.168.1.186 }") ?? []) {
    const f = L.fields(rv, "a route { to, via, dev, metric }", ROUTE_KEYS, ["to"]);
    if (f === undefined) continue;
    let to: AddrSpec | undefined;
    const tv = f.get("to");
    if (tv !== undefined) {
      const s = L.str(tv, "default or a network like 10.0.0.0/8");
      if (s === "default") to = { addr: 0, prefix: 0, text: "default" };
      else if (s !== undefined) {
        const bare = parseIp4(s);
        to = bare !== undefined ? { addr: bare, prefix: 32, text: `${s}/32` } : parseCidr(s);
        if (to === undefined) {
          L.err(tv, `${JSON.stringify(s)} is not a destination`, "write default, a network like 10.0.0.0/8, or one address");
        } else if (((to.addr & ~prefixToMask(to.prefix)) >>> 0) !== 0) {
          const net = `${formatIp4((to.addr & prefixToMask(to.prefix)) >>> 0)}/${to.prefix}`;
          L.err(tv, `${to.text} has host bits set`, `the network is ${net} (ip route refuses it too: "Invalid prefix for given prefix length.")`);
          to = undefined;
        }
      }
    }
    let dev: string | undefined;
    let devOk = true;
    const dv = f.get("dev");
    if (dv !== undefined) {
      dev = L.str(dv, "an interface name");
      const names = nics.map((n) => n.name);
      if (dev !== undefined && !names.includes(dev)) {
        const near = closest(dev, names);
        L.err(dv, `this host has no interface ${JSON.stringify(dev)}`, near !== undefined ? `did you mean "${near}"?` : `interfaces: ${names.join(", ") || "none"}`);
        dev = undefined;
      }
      if (dev === undefined) devOk = false;
    }
    let via: Ip4 | undefined;
    let viaOk = true;
    const vv = f.get("via");
    if (vv !== undefined) {
      via = L.ip(vv);
      if (via === undefined) viaOk = false;
      else if (devOk && nicsComplete) {
        // The kernel accepts a gateway only on a connected network (fib_check_nh).
        const cands = nics.filter((n) => dev === undefined || n.name === dev);
        const onLink = cands.some((n) => n.addrs.some((a) => sameSubnet(a.addr, via!, a.prefix)));
        if (!onLink) {
          L.err(vv, `${formatIp4(via)} is not on a network of ${dev === undefined ? "this host" : dev}`,
            'a gateway must be on a connected network (ip route says "Error: Nexthop has invalid gateway.")');
          viaOk = false;
        }
      }
    }
    if (vv === undefined && dv === undefined) L.err(rv, "a route needs via or dev (or both)");
    const metric = f.has("metric") ? L.int(f.get("metric")!, "a metric", 0, 0xffffffff) : undefined;
    if (to === undefined || !viaOk || !devOk || (vv === undefined && dv === undefined) || (f.has("metric") && metric === undefined)) continue;
    const key = `${to.addr}/${to.prefix}/${metric ?? 0}`;
    if (seen.has(key)) {
      L.err(rv, `a route to ${to.text}${metric !== undefined ? ` with metric ${metric}` : ""} is already given at ${seen.get(key)!}`,
        "give one of them another metric, or remove it (ip route says \"RTNETLINK answers: File exists\")");
      continue;
    }
    seen.set(key, rv.path);
    const r: { to: AddrSpec; via?: Ip4; dev?: string; metric?: number } = { to };
    if (via !== undefined) r.via = via;
    if (dev !== undefined) r.dev = dev;
    if (metric !== undefined) r.metric = metric;
    out.push(r);
  }
  return out;
}

function loadSysctl(L: Loader, v: Val | undefined): SysctlSpec[] {
  if (v === undefined) return [];
  const out: SysctlSpec[] = [];
  for (const e of L.entries(v, "a map of sysctl names to values, like { net.ipv4.ip_forward: 1 }", true) ?? []) {
    if (!SYSCTL_NAME.test(e.key)) {
      L.errAt(e.keyOff, e.val.path, `${JSON.stringify(e.key)} is not a sysctl name`, "write it dotted, as sysctl prints it: net.ipv4.ip_forward");
      continue;
    }
    const n = e.val.node !== null && isScalar(e.val.node) ? e.val.node.value : undefined;
    if (typeof n === "number" && Number.isInteger(n)) out.push({ name: e.key, value: String(n) });
    else if (typeof n === "string") out.push({ name: e.key, value: n });
    else L.err(e.val, `expected a number or a string, found ${L.describe(e.val)}`);
  }
  return out;
}

function loadFiles(L: Loader, v: Val | undefined): FileSpec[] {
  if (v === undefined) return [];
  const out: FileSpec[] = [];
  for (const e of L.entries(v, "a map of absolute paths to contents", true) ?? []) {
    if (!e.key.startsWith("/") || e.key.endsWith("/") || e.key.split("/").some((c) => c === "." || c === "..") || e.key.includes("//")) {
      L.errAt(e.keyOff, e.val.path, `${JSON.stringify(e.key)} is not an absolute file path`, "like /usr/share/nginx/html/index.html");
      continue;
    }
    if (e.val.node !== null && isMap(e.val.node)) {
      const f = L.fields(e.val, "a map with content and mode", FILE_KEYS, ["content"]);
      if (f === undefined) continue;
      const content = f.has("content") ? L.str(f.get("content")!, "the file's text") : undefined;
      let mode: number | undefined;
      const mv = f.get("mode");
      let modeOk = true;
      if (mv !== undefined) {
        const n = mv.node !== null && isScalar(mv.node) ? mv.node.value : undefined;
        if (typeof n === "string" && /^0?[0-7]{3}$/.test(n)) mode = parseInt(n, 8);
        else {
          modeOk = false;
          L.err(mv, `expected an octal mode as a string, found ${L.describe(mv)}`, 'quote it: mode: "0755"');
        }
      }
      if (content === undefined || !modeOk) continue;
      out.push(mode === undefined ? { path: e.key, content } : { path: e.key, content, mode });
    } else {
      const content = L.str(e.val, "the file's text (or { content, mode })");
      if (content !== undefined) out.push({ path: e.key, content });
    }
  }
  return out;
}

function loadServices(L: Loader, v: Val | undefined): ServiceSpec[] {
  if (v === undefined) return [];
  const out: ServiceSpec[] = [];
  const ports = new Map<number, string>();
  for (const sv of L.items(v, "a list of services like [nginx]") ?? []) {
    let kind: string | undefined;
    let opts: Val | undefined;
    let kindVal: Val = sv;
    if (sv.node !== null && isMap(sv.node)) {
      const es = L.entries(sv, "a service") ?? [];
      if (es.length !== 1) {
        L.err(sv, "a service is a name, or a map with one name: { nginx: { root, port } }");
        continue;
      }
      kind = es[0]!.key;
      opts = es[0]!.val;
      kindVal = { node: null, off: es[0]!.keyOff, path: sv.path };
    } else {
      kind = L.str(sv, "a service name like nginx");
    }
    if (kind === undefined) continue;
    if (!SERVICES.includes(kind)) {
      const near = closest(kind, SERVICES);
      L.err(kindVal, `unknown service ${JSON.stringify(kind)}`, near !== undefined ? `did you mean "${near}"?` : `services: ${SERVICES.join(", ")}`);
      continue;
    }
    let root: string | undefined = DEFAULTS.nginx.root;
    let port: number | undefined = DEFAULTS.nginx.port;
    let index: string | undefined = DEFAULTS.nginx.index;
    let proxyProtocol: boolean | undefined = false;
    let logFormat: string | undefined;
    if (opts !== undefined && !L.isEmpty(opts)) {
      const f = L.fields(opts, "nginx settings { root, port, index, proxy_protocol, log_format }", NGINX_KEYS);
      if (f === undefined) continue;
      if (f.has("root")) {
        root = L.str(f.get("root")!, "a directory");
        if (root !== undefined && !root.startsWith("/")) {
          L.err(f.get("root")!, `${JSON.stringify(root)} is not an absolute path`);
          root = undefined;
        }
      }
      if (f.has("port")) port = L.int(f.get("port")!, "a port", 1, 65535);
      if (f.has("index")) index = L.str(f.get("index")!, "a file name");
      if (f.has("proxy_protocol")) proxyProtocol = L.bool(f.get("proxy_protocol")!);
      if (f.has("log_format")) {
        logFormat = L.str(f.get("log_format")!, "an nginx log_format string");
        const bad = logFormat !== undefined ? unknownLogVariables(logFormat) : [];
        if (bad.length > 0) {
          L.err(f.get("log_format")!, `unknown "${bad[0]}" variable`, `nginx would not start; variables: ${LOG_VARIABLES.map((v) => "$" + v).join(", ")}, $http_NAME`);
          logFormat = undefined;
          continue;
        }
      }
    }
    if (root === undefined || port === undefined || index === undefined || proxyProtocol === undefined) continue;
    if (ports.has(port)) {
      L.err(sv, `port ${port} is already taken by ${ports.get(port)!}`, "nginx would fail with \"Address already in use\"");
      continue;
    }
    ports.set(port, sv.path);
    out.push({
      kind: "nginx", root: root.length > 1 ? root.replace(/\/+$/, "") : root, port, index, proxyProtocol,
      ...(logFormat !== undefined ? { logFormat } : {}),
    });
  }
  return out;
}

/** `hostNames`: every host the file declares (even one with errors, to avoid echoes). */
function loadSteps(L: Loader, v: Val | undefined, hostNames: ReadonlySet<string>): StepSpec[] {
  if (v === undefined) return [];
  const out: StepSpec[] = [];
  /** name → { index, background, stoppedAt } */
  const named = new Map<string, { index: number; background: boolean; path: string; stoppedAt?: string }>();
  const items = L.items(v, "a list of steps") ?? [];
  items.forEach((sv, index) => {
    const es = L.entries(sv, "a step like { on: HOST, run: COMMAND }, { sleep: 1s }, { stop: NAME } or { note: TEXT }");
    if (es === undefined) return;
    const kinds = es.filter((e) => (STEP_KINDS as readonly string[]).includes(e.key));
    const { line, col } = L.lc.linePos(sv.off);
    const pos = { file: L.file, line, column: col };
    if (kinds.length === 0) {
      const unknown = es.find((e) => !RUN_KEYS.includes(e.key));
      const near = unknown !== undefined ? closest(unknown.key, [...STEP_KINDS, ...RUN_KEYS]) : undefined;
      if (unknown !== undefined) {
        L.errAt(unknown.keyOff, unknown.val.path, `unknown field "${unknown.key}"`,
          near !== undefined ? `did you mean "${near}"?` : "a step has one of run, sleep, stop, note");
      } else {
        L.err(sv, "a step needs one of run, sleep, stop or note");
      }
      return;
    }
    if (kinds.length > 1) {
      L.errAt(kinds[1]!.keyOff, kinds[1]!.val.path, `a step does one thing: "${kinds[0]!.key}" and "${kinds[1]!.key}" given`, "split it into two steps");
      return;
    }
    const kind = kinds[0]!.key as (typeof STEP_KINDS)[number];
    const f = L.fields(sv, `a ${kind} step`, kind === "run" ? RUN_KEYS : [kind], kind === "run" ? ["on"] : []);
    if (f === undefined) return;
    switch (kind) {
      case "sleep": {
        const d = L.duration(f.get("sleep")!);
        if (d !== undefined) out.push({ kind: "sleep", index, pos, durationUs: d });
        return;
      }
      case "note": {
        const s = L.str(f.get("note")!);
        if (s !== undefined) out.push({ kind: "note", index, pos, note: s });
        return;
      }
      case "stop": {
        const sv2 = f.get("stop")!;
        const s = L.str(sv2, "the name of a background step");
        if (s === undefined) return;
        const target = named.get(s);
        if (target === undefined) {
          const near = closest(s, named.keys());
          const later = items.slice(index + 1).some((it) => stepName(it) === s);
          L.err(sv2, later ? `step ${JSON.stringify(s)} starts later` : `no earlier step is named ${JSON.stringify(s)}`,
            later ? "stop a background step after it has started" : near !== undefined ? `did you mean "${near}"?` : "give the background step a name: { on: HOST, run: ..., background: true, name: NAME }");
          return;
        }
        if (!target.background) {
          L.err(sv2, `step ${JSON.stringify(s)} is not a background step`, "only background steps can be stopped; foreground steps end by themselves");
          return;
        }
        if (target.stoppedAt !== undefined) {
          L.err(sv2, `step ${JSON.stringify(s)} is already stopped at ${target.stoppedAt}`);
          return;
        }
        target.stoppedAt = sv.path;
        out.push({ kind: "stop", index, pos, stop: s });
        return;
      }
      case "run": {
        let on: string | undefined;
        const onV = f.get("on");
        if (onV !== undefined) {
          on = L.str(onV, "a host name");
          if (on !== undefined && !hostNames.has(on)) {
            const near = closest(on, hostNames);
            L.err(onV, `no host named ${JSON.stringify(on)}`, near !== undefined ? `did you mean "${near}"?` : `hosts: ${[...hostNames].join(", ")}`);
            on = undefined;
          }
        }
        const rv = f.get("run")!;
        const run = L.str(rv, "a command line");
        if (run !== undefined && run.trim() === "") L.err(rv, "the command line is empty");
        const background = f.has("background") ? L.bool(f.get("background")!) : false;
        let name: string | undefined;
        let nameOk = true;
        const nv = f.get("name");
        if (nv !== undefined) {
          name = L.name(nv, "step name");
          if (name !== undefined && named.has(name)) {
            L.err(nv, `step name ${JSON.stringify(name)} is already used by ${named.get(name)!.path}`);
            name = undefined;
          }
          if (name === undefined) nameOk = false;
          else named.set(name, { index, background: background === true, path: sv.path });
        }
        const expect = f.has("expect") ? loadExpect(L, f.get("expect")!) : undefined;
        const timeoutUs = f.has("timeout") ? L.duration(f.get("timeout")!) : undefined;
        if (on === undefined || run === undefined || run.trim() === "" || background === undefined || !nameOk ||
            (f.has("expect") && expect === undefined) || (f.has("timeout") && timeoutUs === undefined)) return;
        const step: { kind: "run"; index: number; pos: typeof pos; on: string; run: string; background: boolean; name?: string; expect?: ExpectSpec; timeoutUs?: Micros } =
          { kind: "run", index, pos, on, run, background };
        if (name !== undefined) step.name = name;
        if (expect !== undefined) step.expect = expect;
        if (timeoutUs !== undefined) step.timeoutUs = timeoutUs;
        out.push(step);
        return;
      }
    }
  });
  return out;
}

/** The `name:` of a step node, read without diagnostics (to tell "starts later" from "unknown"). */
function stepName(v: Val): string | undefined {
  if (v.node === null || !isMap(v.node)) return undefined;
  for (const p of v.node.items) {
    if (isScalar(p.key) && p.key.value === "name" && isScalar(p.value) && typeof p.value.value === "string") return p.value.value;
  }
  return undefined;
}

/** `matches:` regular expressions (JavaScript syntax; ^ and $ match at every line). */
function loadPatterns(L: Loader, v: Val): RegExp[] {
  const out: RegExp[] = [];
  const items = v.node !== null && isSeq(v.node) ? v.node.items.map((it, i) => L.val(it, v.off, `${v.path}[${i}]`)) : [v];
  for (const it of items) {
    const src = L.str(it, items.length === 1 && it === v ? "a regular expression or a list of them" : "a regular expression");
    if (src === undefined) continue;
    try {
      out.push(new RegExp(src, "m"));
    } catch (e) {
      L.err(it, `not a regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, "")}`);
    }
  }
  return out;
}

function loadExpect(L: Loader, v: Val): ExpectSpec | undefined {
  const f = L.fields(v, "expectations { exit, stdout, stderr, contains, not_contains, matches }", EXPECT_KEYS);
  if (f === undefined) return undefined;
  const before = L.diags.length;
  const exit = f.has("exit") ? L.int(f.get("exit")!, "an exit status", 0, 255) : undefined;
  const stdout = f.has("stdout") ? L.str(f.get("stdout")!, "the exact output") : undefined;
  const stderr = f.has("stderr") ? L.str(f.get("stderr")!, "the exact error output") : undefined;
  const contains = f.has("contains") ? L.strings(f.get("contains")!) ?? [] : [];
  const notContains = f.has("not_contains") ? L.strings(f.get("not_contains")!) ?? [] : [];
  const matches = f.has("matches") ? loadPatterns(L, f.get("matches")!) : [];
  if (L.diags.length > before) return undefined;
  const e: { exit?: number; stdout?: string; stderr?: string; contains: string[]; notContains: string[]; matches: RegExp[] } = { contains, notContains, matches };
  if (exit !== undefined) e.exit = exit;
  if (stdout !== undefined) e.stdout = stdout;
  if (stderr !== undefined) e.stderr = stderr;
  return e;
}
