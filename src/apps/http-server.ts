/**
 * An nginx 1.22.1-like static HTTP/1.1 server on a TcpStack: GET and HEAD of files under
 * a root (index.html for directories), the built-in error pages byte for byte, headers in
 * nginx's order, keep-alive (75 s), one write per response (headers and body together, as
 * the seed capture shows) and an access-log line per request in the `combined` format.
 *
 * `proxyProtocol` is nginx's `listen ... proxy_protocol`: every connection must start with
 * a PROXY protocol header (v1 or v2, src/wire/proxy.ts), whose addresses become
 * $proxy_protocol_addr/_port; without one nginx logs "broken header" to the error log and
 * closes the connection unanswered. `logFormat` is a `log_format` string over the variables
 * in LOG_VARIABLES (default: `combined`).
 *
 * Callback-based (no promises): a lab may run many of these.
 *
 * Not implemented: ranges, chunked request bodies, lingering close, gzip, autoindex.
 */
import type { Micros } from "../sim/clock.js";
import type { EventHandle } from "../sim/queue.js";
import type { TcpListener, TcpSocket, TcpStack } from "../tcp/index.js";
import { type Ip4, formatIp4 } from "../wire/addr.js";
import { readProxyHeader, type ProxyAddrs } from "../wire/proxy.js";

export interface HttpFile {
  data: Uint8Array;
  /** Modification time, seconds since the Unix epoch. */
  mtime: number;
}

/** The host's files: bytes (mtime unknown) or bytes with their mtime; undefined = no such file. */
export type FileReader = (path: string) => Uint8Array | HttpFile | undefined;

export interface HttpServerOptions {
  tcp: TcpStack;
  /**
   * nginx's connection counter ($connection, the `*N` of the error log): one per nginx
   * process, shared by all its servers (a lab host's nginx services share one). Absent: this
   * server's own.
   */
  connectionCounter?: { value: number };
  readFile: FileReader;
  /** Is `path` a directory? (enables 301 for "/dir" and 403 for a directory without index). */
  isDir?: (path: string) => boolean;
  /** Microseconds since the Unix epoch at virtual time t (the lab's wall clock). */
  epochMicros: (t: Micros) => number;
  /** access_log: receives each line without the trailing newline. */
  log?: (line: string) => void;
  addr?: Ip4;
  port?: number;
  root?: string;
  index?: string;
  /** The Server header and error-page signature. */
  version?: string;
  keepaliveTimeout?: Micros;
  clientHeaderTimeout?: Micros;
  keepaliveRequests?: number;
  /** How long nginx takes to answer a complete request (default 1 ms). */
  responseDelay?: Micros;
  /** mtime (epoch seconds) of files the reader gives without one (default: server start). */
  defaultMtime?: number;
  /** `listen ... proxy_protocol`. */
  proxyProtocol?: boolean;
  /** `log_format` of the access log (default: nginx's predefined `combined`). */
  logFormat?: string;
  /** error_log: receives each line without the trailing newline. */
  errorLog?: (line: string) => void;
  /** The worker's pid in error-log lines (default 1234). */
  pid?: number;
}

/** nginx's predefined `combined` log format. */
export const NGINX_COMBINED = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** The variables a log_format may use here (besides $http_NAME for any request header). */
export const LOG_VARIABLES = [
  "remote_addr", "remote_port", "remote_user", "time_local", "request", "status", "body_bytes_sent",
  "request_method", "request_uri", "server_protocol", "server_addr", "server_port", "connection",
  "proxy_protocol_addr", "proxy_protocol_port", "proxy_protocol_server_addr", "proxy_protocol_server_port",
];

/** The variables of `fmt` nginx would reject at startup ("unknown "NAME" variable"). */
export function unknownLogVariables(fmt: string): string[] {
  const out: string[] = [];
  for (const m of fmt.matchAll(/\$(?:\{(\w+)\}|(\w+))/g)) {
    const name = (m[1] ?? m[2]!).toLowerCase();
    if (!LOG_VARIABLES.includes(name) && !name.startsWith("http_")) out.push(name);
  }
  return out;
}

/** What a log line is made of. */
interface LogContext {
  peer: { addr: Ip4; port: number };
  local: { addr: Ip4; port: number };
  conn: number;
  pp: ProxyAddrs | undefined;
}

const REASONS: Record<number, string> = {
  200: "OK", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 403: "Forbidden",
  404: "Not Found", 405: "Not Allowed", 408: "Request Time-out", 413: "Request Entity Too Large",
  414: "Request-URI Too Large", 500: "Internal Server Error", 501: "Not Implemented",
};

/** ngx_http_special_response.c: statuses after which nginx drops keep-alive. */
const CLOSING = new Set([400, 413, 414, 500, 501]);

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const p2 = (n: number) => String(n).padStart(2, "0");

/** RFC 1123 date as nginx prints it ("Tue, 24 Nov 2026 17:45:22 GMT"). */
export function httpDate(epochSec: number): string {
  const d = new Date(epochSec * 1000);
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} GMT`;
}

/** $time_local with TZ=UTC ("24/Nov/2026:17:45:18 +0000"). */
export function nginxLocalTime(epochSec: number): string {
  const d = new Date(epochSec * 1000);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/** The built-in error page nginx sends for `status` (with server_tokens on). */
export function nginxErrorPage(status: number, version = "nginx/1.22.1"): string {
  const title = `${status} ${REASONS[status] ?? ""}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
    `<hr><center>${version}</center>\r\n</body>\r\n</html>\r\n`;
}

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

interface Request {
  method: string;
  uri: string;
  version: string;
  line: string;
  headers: Map<string, string>;
}

export class HttpServer {
  /** Requests answered so far. */
  requests = 0;
  /** Connections accepted so far. */
  connections = 0;
  readonly listener: TcpListener;
  private readonly startMtime: number;

  constructor(readonly opts: HttpServerOptions, listener: TcpListener) {
    this.listener = listener;
    this.startMtime = Math.floor(opts.epochMicros(opts.tcp.now()) / 1e6);
  }

  stop(): void {
    this.listener.close();
  }

  /** @internal */
  accept(sock: TcpSocket): void {
    this.connections++;
    const counter = this.opts.connectionCounter;
    new HttpConnection(this, sock, counter ? ++counter.value : this.connections);
  }

  /** @internal Builds the response to one request. */
  respond(req: Request | undefined): { bytes: Uint8Array; status: number; bodyLen: number; close: boolean } {
    const o = this.opts;
    const version = o.version ?? "nginx/1.22.1";
    const now = Math.floor(o.epochMicros(o.tcp.now()) / 1e6);
    const head = (status: number, extra: [string, string][], close: boolean, contentType = "text/html", len?: number) => {
      let h = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\nServer: ${version}\r\nDate: ${httpDate(now)}\r\n`;
      if (status !== 304) h += `Content-Type: ${contentType}\r\n`;
      if (len !== undefined) h += `Content-Length: ${len}\r\n`;
      const before = extra.filter(([k]) => k === "Last-Modified" || k === "Location");
      const after = extra.filter(([k]) => k !== "Last-Modified" && k !== "Location");
      for (const [k, v] of before) h += `${k}: ${v}\r\n`;
      h += `Connection: ${close ? "close" : "keep-alive"}\r\n`;
      for (const [k, v] of after) h += `${k}: ${v}\r\n`;
      return h + "\r\n";
    };
    const error = (status: number, head0 = false, extra: [string, string][] = [], forceClose = false) => {
      const close = forceClose || CLOSING.has(status) || !keepAlive(req);
      const page = nginxErrorPage(status, version);
      const body = head0 ? "" : page;
      const bytes = enc.encode(head(status, extra, close, "text/html", page.length) + body);
      return { bytes, status, bodyLen: body.length, close };
    };
    if (!req) return error(400, false, [], true);
    const isHead = req.method === "HEAD";
    if (req.version === "HTTP/1.1" && !req.headers.has("host")) return error(400, isHead, [], true);
    const path = normalizePath(req.uri);
    if (path === undefined) return error(400, isHead, [], true);
    if (req.method !== "GET" && req.method !== "HEAD") {
      if (req.method === "POST" || /^[A-Z_-]+$/.test(req.method)) return error(405, false);
      return error(400, false, [], true);
    }
    const root = (o.root ?? "/usr/share/nginx/html").replace(/\/+$/, "");
    let fsPath = root + path;
    if (path.endsWith("/")) {
      fsPath += o.index ?? "index.html";
    } else if (o.isDir?.(fsPath)) {
      const host = req.headers.get("host") ?? formatIp4(o.addr ?? 0);
      return error(301, isHead, [["Location", `http://${host.replace(/:80$/, "")}${path}/`]]);
    }
    const f = o.readFile(fsPath);
    if (f === undefined) {
      if (path.endsWith("/") && o.isDir?.(root + path)) return error(403, isHead);
      return error(404, isHead);
    }
    const file: HttpFile = f instanceof Uint8Array ? { data: f, mtime: o.defaultMtime ?? this.startMtime } : f;
    const lastModified = httpDate(file.mtime);
    const etag = `"${file.mtime.toString(16)}-${file.data.length.toString(16)}"`;
    const close = !keepAlive(req);
    const inm = req.headers.get("if-none-match");
    const ims = req.headers.get("if-modified-since");
    if ((inm !== undefined && (inm === etag || inm === "*")) || (inm === undefined && ims === lastModified)) {
      const h = head(304, [["Last-Modified", lastModified], ["ETag", etag]], close);
      return { bytes: enc.encode(h), status: 304, bodyLen: 0, close };
    }
    const h = enc.encode(head(200, [["Last-Modified", lastModified], ["ETag", etag], ["Accept-Ranges", "bytes"]], close,
      contentType(fsPath), file.data.length));
    if (isHead) return { bytes: h, status: 200, bodyLen: 0, close };
    const bytes = new Uint8Array(h.length + file.data.length);
    bytes.set(h);
    bytes.set(file.data, h.length);
    return { bytes, status: 200, bodyLen: file.data.length, close };
  }

  /** @internal ngx_http_log_handler: the log_format with each variable escaped, "-" when empty. */
  logLine(lc: LogContext, req: Request | undefined, rawLine: string, status: number, bytes: number): void {
    const log = this.opts.log;
    if (!log) return;
    const t = Math.floor(this.opts.epochMicros(this.opts.tcp.now()) / 1e6);
    const value = (name: string): string | undefined => {
      switch (name) {
        case "remote_addr": return formatIp4(lc.peer.addr);
        case "remote_port": return String(lc.peer.port);
        case "remote_user": return undefined;
        case "time_local": return nginxLocalTime(t);
        case "request": return rawLine;
        case "status": return String(status);
        case "body_bytes_sent": return String(bytes);
        case "request_method": return req?.method;
        case "request_uri": return req?.uri;
        case "server_protocol": return req?.version;
        case "server_addr": return formatIp4(lc.local.addr);
        case "server_port": return String(lc.local.port);
        case "connection": return String(lc.conn);
        case "proxy_protocol_addr": return lc.pp?.srcAddr;
        case "proxy_protocol_port": return lc.pp ? String(lc.pp.srcPort) : undefined;
        case "proxy_protocol_server_addr": return lc.pp?.dstAddr;
        case "proxy_protocol_server_port": return lc.pp ? String(lc.pp.dstPort) : undefined;
        default:
          return name.startsWith("http_") ? req?.headers.get(name.slice(5).replace(/_/g, "-")) : undefined;
      }
    };
    log((this.opts.logFormat ?? NGINX_COMBINED).replace(/\$(?:\{(\w+)\}|(\w+))/g, (_m, a?: string, b?: string) => {
      const v = value((a ?? b!).toLowerCase());
      return v === undefined || v === "" ? "-" : escapeLog(v);
    }));
  }

  /** @internal ngx_log_error at level error, as an HTTP connection's log writes it. */
  errorLine(lc: LogContext, msg: string, action: string): void {
    const log = this.opts.errorLog;
    if (!log) return;
    const d = new Date(Math.floor(this.opts.epochMicros(this.opts.tcp.now()) / 1e6) * 1000);
    const pid = this.opts.pid ?? 1234;
    const when = `${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    log(`${when} [error] ${pid}#${pid}: *${lc.conn} ${msg} while ${action}, client: ${formatIp4(lc.peer.addr)}, server: ${formatIp4(this.opts.addr ?? 0)}:${this.opts.port ?? 80}`);
  }
}

function keepAlive(req: Request | undefined): boolean {
  if (!req) return false;
  const c = req.headers.get("connection")?.toLowerCase() ?? "";
  if (req.version === "HTTP/1.1") return !/\bclose\b/.test(c);
  return /\bkeep-alive\b/.test(c);
}

function contentType(path: string): string {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  const types: Record<string, string> = {
    html: "text/html", htm: "text/html", shtml: "text/html", css: "text/css", txt: "text/plain",
    js: "application/javascript", json: "application/json", png: "image/png", jpg: "image/jpeg",
    jpeg: "image/jpeg", gif: "image/gif", svg: "image/svg+xml", ico: "image/x-icon", xml: "text/xml",
  };
  return types[ext] ?? "application/octet-stream";
}

/** nginx's $request escaping: bytes outside printable ASCII and `"`/`\` as \xHH. */
function escapeLog(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c > 0x7e || ch === '"' || ch === "\\") out += `\\x${c.toString(16).toUpperCase().padStart(2, "0")}`;
    else out += ch;
  }
  return out;
}

/** Decodes %XX, drops the query, resolves "." and ".."; undefined = 400. */
function normalizePath(uri: string): string | undefined {
  let u = uri;
  const abs = /^https?:\/\/[^/]*/i.exec(u);
  if (abs) u = u.slice(abs[0].length) || "/";
  if (!u.startsWith("/")) return undefined;
  const q = u.search(/[?#]/);
  if (q >= 0) u = u.slice(0, q);
  let decoded: string;
  try {
    decoded = decodeURIComponent(u);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  const parts: string[] = [];
  const segs = decoded.split("/");
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    if (s === "" && i < segs.length - 1) continue;
    if (s === ".") continue;
    if (s === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
      continue;
    }
    parts.push(s);
  }
  const trailing = decoded.endsWith("/") || decoded.endsWith("/.") || decoded.endsWith("/..");
  let p = "/" + parts.filter((x) => x !== "").join("/");
  if (trailing && !p.endsWith("/")) p += "/";
  return p;
}

class HttpConnection {
  private buf = new Uint8Array(0);
  private busy = false;
  private closing = false;
  private served = 0;
  private timer: EventHandle | undefined;
  private bodyLeft = 0;
  private readonly lc: LogContext;
  /** A PROXY protocol header is still expected at the start of the stream. */
  private proxyPending: boolean;

  constructor(private readonly srv: HttpServer, private readonly sock: TcpSocket, conn: number) {
    this.lc = { peer: sock.getpeername(), local: sock.getsockname(), conn, pp: undefined };
    this.proxyPending = srv.opts.proxyProtocol === true;
    sock.onData = (b) => this.onData(b);
    sock.onEnd = () => this.finish();
    sock.onClose = () => this.clearTimer();
    this.armTimer(srv.opts.clientHeaderTimeout ?? 60_000_000);
  }

  private get tcp(): TcpStack {
    return this.srv.opts.tcp;
  }

  private armTimer(delay: Micros): void {
    this.clearTimer();
    this.timer = this.tcp.schedule(this.tcp.now() + delay, () => {
      this.timer = undefined;
      this.finish();
    });
  }

  private clearTimer(): void {
    this.tcp.cancelTimer(this.timer);
    this.timer = undefined;
  }

  private onData(b: Uint8Array): void {
    if (this.closing) return;
    if (this.bodyLeft > 0) {
      const n = Math.min(this.bodyLeft, b.length);
      this.bodyLeft -= n;
      b = b.subarray(n);
    }
    const nb = new Uint8Array(this.buf.length + b.length);
    nb.set(this.buf);
    nb.set(b, this.buf.length);
    this.buf = nb;
    if (this.proxyPending && !this.readProxy()) return;
    this.next();
  }

  /**
   * ngx_http_wait_request_handler with proxy_protocol: the header must be in the first read;
   * a bad one is logged and the connection closed without an answer.
   */
  private readProxy(): boolean {
    this.proxyPending = false;
    const r = readProxyHeader(this.buf);
    if (!r.ok) {
      if (r.error) this.srv.errorLine(this.lc, r.error, "reading PROXY protocol");
      this.closing = true;
      this.clearTimer();
      this.sock.close();
      return false;
    }
    this.lc.pp = r.addrs;
    this.buf = this.buf.subarray(r.length);
    return true;
  }

  /** Parses and answers the next complete request, if any and if idle. */
  private next(): void {
    if (this.busy || this.closing) return;
    if (this.bodyLeft > 0) return;
    // Leading empty lines before a request are ignored (RFC 9112 §2.2).
    let start = 0;
    while (start < this.buf.length && (this.buf[start] === 13 || this.buf[start] === 10)) start++;
    if (start > 0) this.buf = this.buf.subarray(start);
    if (this.buf.length === 0) return;
    const text = latin1.decode(this.buf);
    const end = text.search(/\r?\n\r?\n/);
    const lineEnd = text.search(/\r?\n/);
    if (lineEnd >= 0) {
      // A malformed request line is answered at once (nginx does not wait for headers).
      const line = text.slice(0, lineEnd);
      if (!parseRequestLine(line)) {
        this.answer(undefined, line);
        return;
      }
    }
    if (end < 0) {
      this.armTimer(this.srv.opts.clientHeaderTimeout ?? 60_000_000);
      return;
    }
    const sepLen = /^\r?\n\r?\n/.exec(text.slice(end))![0].length;
    const headerText = text.slice(0, end);
    this.buf = this.buf.subarray(end + sepLen);
    const lines = headerText.split(/\r?\n/);
    const rl = parseRequestLine(lines[0]!)!;
    const headers = new Map<string, string>();
    let bad = false;
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      if (c <= 0 || /\s/.test(l.slice(0, c))) {
        bad = true;
        continue;
      }
      const k = l.slice(0, c).toLowerCase();
      if (!headers.has(k)) headers.set(k, l.slice(c + 1).trim());
    }
    const req: Request = { ...rl, line: lines[0]!, headers };
    const cl = headers.get("content-length");
    if (cl !== undefined) {
      const n = /^\d+$/.test(cl) ? parseInt(cl, 10) : NaN;
      if (!Number.isFinite(n)) bad = true;
      else {
        const take = Math.min(n, this.buf.length);
        this.buf = this.buf.subarray(take);
        this.bodyLeft = n - take;
      }
    }
    this.answer(bad ? undefined : req, req.line);
  }

  private answer(req: Request | undefined, rawLine: string): void {
    this.busy = true;
    this.clearTimer();
    const delay = this.srv.opts.responseDelay ?? 1000;
    this.tcp.schedule(this.tcp.now() + delay, () => {
      this.busy = false;
      if (this.sock.state === "CLOSED") return;
      const r = this.srv.respond(req);
      this.sock.send(r.bytes);
      this.srv.requests++;
      this.served++;
      this.srv.logLine(this.lc, req, rawLine, r.status, r.bodyLen);
      const max = this.srv.opts.keepaliveRequests ?? 1000;
      if (r.close || this.served >= max) {
        this.finish();
        return;
      }
      this.armTimer(this.srv.opts.keepaliveTimeout ?? 75_000_000);
      if (this.buf.length > 0) this.next();
    });
  }

  /** Client EOF, timeout or a closing response: close our side. */
  private finish(): void {
    if (this.closing) return;
    if (this.busy) {
      // The response is on its way; nginx closes after writing it.
      this.closing = true;
      const wait = () => {
        if (this.busy) this.tcp.schedule(this.tcp.now() + 1000, wait);
        else this.sock.close();
      };
      wait();
      return;
    }
    this.closing = true;
    this.clearTimer();
    this.sock.close();
  }
}

function parseRequestLine(line: string): { method: string; uri: string; version: string } | undefined {
  const m = /^([A-Za-z_-]+) (\S+)(?: (HTTP\/\d\.\d))?$/.exec(line);
  if (!m) return undefined;
  const method = m[1]!;
  if (!/^[A-Z_-]+$/.test(method)) return undefined;
  const version = m[3] ?? "HTTP/0.9";
  if (version !== "HTTP/1.0" && version !== "HTTP/1.1") return undefined;
  return { method, uri: m[2]!, version };
}

/** Starts listening; "EADDRINUSE" etc. when the port is taken. */
export function startHttpServer(opts: HttpServerOptions): HttpServer | string {
  let srv: HttpServer | undefined;
  const l = opts.tcp.listen({ addr: opts.addr, port: opts.port ?? 80 }, (s) => srv!.accept(s));
  if (typeof l === "string") return l;
  srv = new HttpServer(opts, l);
  return srv;
}
