/**
 * `curl` 7.88.1 for plain HTTP over the host's TcpStack: the request bytes, the `-v`
 * trace, the output options and the error messages and exit codes of the real tool.
 *
 * Supported: http:// URLs (several per command, reusing a kept-alive connection), -s -S
 * -v -I -i -D -o -O -H -A -e -X -d -f -L -w --connect-timeout -m --resolve --interface
 * (an IPv4 address or an interface name: bind the source address) -V -h, names
 * through ctx.host.resolve() or /etc/hosts.
 *
 * Not implemented: https and other protocols (exit 1), the progress meter (curl shows it
 * only when stdout is not a terminal; `-v` traces follow the terminal rules unless
 * `ctx.io.stdoutIsTty === false`), globbing, proxies, authentication, cookies.
 */
import type { Micros } from "../sim/clock.js";
import type { TcpErrno, TcpSocket, TcpStack } from "../tcp/index.js";
import { type Ip4, formatIp4, parseIp4 } from "../wire/addr.js";
import type { Tool, ToolContext } from "./types.js";

/** What curl needs from the host it runs on. */
export interface CurlHost {
  tcp: TcpStack;
  /** Name lookup (DNS-like); /etc/hosts is read when absent or when it returns undefined. */
  resolve?: (name: string) => Ip4 | undefined;
  /** NICs by name (for `--interface eth0`). */
  nics?: ReadonlyMap<string, { addrs: ReadonlyArray<{ addr: Ip4 }> }>;
}

const VERSION = "curl/7.88.1";
const VERSION_TEXT =
  "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.20 zlib/1.2.13 brotli/1.0.9 zstd/1.5.4 " +
  "libidn2/2.3.3 libpsl/0.21.2 (+libidn2/2.3.3) libssh2/1.10.0 nghttp2/1.52.0 librtmp/2.3 OpenLDAP/2.5.13\n" +
  "Release-Date: 2023-02-20\n" +
  "Protocols: dict file ftp ftps gopher gophers http https imap imaps ldap ldaps mqtt pop3 pop3s rtmp rtsp scp sftp smb smbs smtp smtps telnet tftp\n" +
  "Features: alt-svc AsynchDNS brotli GSS-API HSTS HTTP2 HTTPS-proxy IDN IPv6 Kerberos Largefile libz NTLM NTLM_WB PSL SPNEGO SSL threadsafe TLS-SRP UnixSockets zstd\n";
const TRY_HELP = "curl: try 'curl --help' or 'curl --manual' for more information\n";
const HELP =
  "Usage: curl [options...] <url>\n" +
  " -d, --data <data>          HTTP POST data\n" +
  " -f, --fail                 Fail fast with no output on HTTP errors\n" +
  " -h, --help <category>      Get help for commands\n" +
  " -i, --include              Include protocol response headers in the output\n" +
  " -o, --output <file>        Write to file instead of stdout\n" +
  " -O, --remote-name          Write output to a file named as the remote file\n" +
  " -s, --silent               Silent mode\n" +
  " -T, --upload-file <file>   Transfer local FILE to destination\n" +
  " -u, --user <user:password> Server user and password\n" +
  " -A, --user-agent <name>    Send User-Agent <name> to server\n" +
  " -v, --verbose              Make the operation more talkative\n" +
  " -V, --version              Show version number and quit\n" +
  "\n" +
  "This is not the full help, this menu is stripped into categories.\n" +
  "Use \"--help category\" to get an overview of all categories.\n" +
  "For all options use the manual or \"--help all\".\n";

/** curl_easy_strerror for the codes this tool produces. */
const STRERROR: Record<number, string> = {
  1: "Unsupported protocol",
  3: "URL using bad/illegal format or missing URL",
  6: "Couldn't resolve host name",
  7: "Couldn't connect to server",
  18: "Transferred a partial file",
  22: "HTTP response code said error",
  23: "Failed writing received data to disk/application",
  28: "Timeout was reached",
  45: "Failed binding local connection end",
  47: "Number of redirects hit maximum amount",
  52: "Server returned nothing (no headers, no data)",
  56: "Failure when receiving data from the peer",
};

/** strerror() texts curl shows in its -v trace. */
const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  ETIMEDOUT: "Connection timed out",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  EPIPE: "Broken pipe",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EADDRINUSE: "Address already in use",
  ENOPROTOOPT: "Protocol not available",
  EMSGSIZE: "Message too long",
};

class CurlError {
  constructor(readonly code: number, readonly message: string) {}
}

interface Options {
  urls: string[];
  silent: boolean;
  showError: boolean;
  verbose: boolean;
  head: boolean;
  include: boolean;
  dumpHeader?: string;
  output?: string;
  remoteName: boolean;
  headers: string[];
  userAgent?: string;
  referer?: string;
  method?: string;
  data?: string;
  fail: boolean;
  location: boolean;
  writeOut?: string;
  connectTimeout?: Micros;
  maxTime?: Micros;
  resolve: Map<string, Ip4>;
  /** --interface: an address or an interface name to take the source address from. */
  iface?: string;
  /** --haproxy-protocol: a PROXY protocol v1 line first on every new connection. */
  haproxyProtocol?: boolean;
}

interface Url {
  host: string;
  port: number;
  path: string;
  /** Host header value. */
  authority: string;
  text: string;
}

interface Conn {
  id: number;
  sock: TcpSocket;
  host: string;
  port: number;
  ip: Ip4;
  /** Bytes read past the previous response. */
  leftover: Uint8Array;
}

interface Response {
  status: number;
  headerText: string;
  headers: Map<string, string>;
  body: Uint8Array;
  keepAlive: boolean;
}

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

const ARG_OPTS = new Map<string, keyof Options | "resolve" | "header">([
  ["-o", "output"], ["--output", "output"], ["-H", "header"], ["--header", "header"],
  ["-A", "userAgent"], ["--user-agent", "userAgent"], ["-e", "referer"], ["--referer", "referer"],
  ["-X", "method"], ["--request", "method"], ["-d", "data"], ["--data", "data"], ["--data-raw", "data"],
  ["--data-binary", "data"], ["-w", "writeOut"], ["--write-out", "writeOut"], ["-D", "dumpHeader"],
  ["--dump-header", "dumpHeader"], ["--connect-timeout", "connectTimeout"], ["-m", "maxTime"],
  ["--max-time", "maxTime"], ["--resolve", "resolve"], ["--url", "urls"],
  ["--interface", "iface"],
]);

const FLAG_OPTS = new Map<string, string>([
  ["-s", "silent"], ["--silent", "silent"], ["-S", "showError"], ["--show-error", "showError"],
  ["-v", "verbose"], ["--verbose", "verbose"], ["-I", "head"], ["--head", "head"], ["-i", "include"],
  ["--include", "include"], ["-f", "fail"], ["--fail", "fail"], ["-L", "location"], ["--location", "location"],
  ["-O", "remoteName"], ["--remote-name", "remoteName"], ["--haproxy-protocol", "haproxyProtocol"],
  // Accepted and ignored: they change nothing in this simulation.
  ["-4", ""], ["--ipv4", ""], ["--http1.1", ""], ["-k", ""], ["--insecure", ""], ["--no-progress-meter", ""],
  ["-#", ""], ["--progress-bar", ""], ["--compressed", ""], ["-N", ""], ["--no-buffer", ""],
]);

function parseArgs(argv: readonly string[]): Options | { exit: number; out?: string; err?: string } {
  const o: Options = {
    urls: [], silent: false, showError: false, verbose: false, head: false, include: false,
    remoteName: false, headers: [], fail: false, location: false, resolve: new Map(),
  };
  const unknown = (opt: string) => ({ exit: 2, err: `curl: option ${opt}: is unknown\n${TRY_HELP}` });
  const setArg = (opt: string, key: string, v: string): { exit: number; err: string } | undefined => {
    switch (key) {
      case "header": o.headers.push(v); break;
      case "urls": o.urls.push(v); break;
      case "resolve": {
        const m = /^([^:]+):(\d+):(\d+\.\d+\.\d+\.\d+)$/.exec(v);
        const a = m ? parseIp4(m[3]!) : undefined;
        if (m && a !== undefined) o.resolve.set(`${m[1]!.toLowerCase()}:${m[2]}`, a);
        break;
      }
      case "connectTimeout": case "maxTime": {
        if (!/^\d+(\.\d+)?$/.test(v)) {
          return { exit: 2, err: `curl: option ${opt}: expected a proper numerical parameter\n${TRY_HELP}` };
        }
        o[key] = Math.round(parseFloat(v) * 1e6);
        break;
      }
      default:
        (o as unknown as Record<string, string>)[key] = v;
    }
    return undefined;
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-h" || a === "--help") return { exit: 0, out: HELP };
    if (a === "-V" || a === "--version") return { exit: 0, out: VERSION_TEXT };
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (FLAG_OPTS.has(name)) {
        const k = FLAG_OPTS.get(name)!;
        if (k) (o as unknown as Record<string, boolean>)[k] = true;
        continue;
      }
      const k = ARG_OPTS.get(name);
      if (!k) return unknown(name);
      const v = i + 1 < argv.length ? argv[++i]! : undefined;
      if (v === undefined) return { exit: 2, err: `curl: option ${name}: requires parameter\n${TRY_HELP}` };
      const e = setArg(name, k, v);
      if (e) return e;
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      // Bundled short options: -sS, -sI, -so file, -ofile.
      for (let j = 1; j < a.length; j++) {
        const opt = `-${a[j]}`;
        if (FLAG_OPTS.has(opt)) {
          const k = FLAG_OPTS.get(opt)!;
          if (k) (o as unknown as Record<string, boolean>)[k] = true;
          continue;
        }
        const k = ARG_OPTS.get(opt);
        if (!k) return unknown(opt);
        let v: string | undefined = a.slice(j + 1);
        if (v === "") v = i + 1 < argv.length ? argv[++i] : undefined;
        if (v === undefined) return { exit: 2, err: `curl: option ${opt}: requires parameter\n${TRY_HELP}` };
        const e = setArg(opt, k, v);
        if (e) return e;
        break;
      }
      continue;
    }
    o.urls.push(a);
  }
  return o;
}

/** Parses a URL the way curl's URL API accepts it for http (scheme defaults to http). */
function parseUrl(text: string): Url | CurlError {
  let rest = text;
  const sm = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(rest);
  if (sm) {
    const scheme = sm[1]!.toLowerCase();
    if (scheme !== "http") return new CurlError(1, `Protocol "${sm[1]}" not supported or disabled in libcurl`);
    rest = rest.slice(sm[0].length);
  }
  const cut = rest.search(/[/?#]/);
  const authority = cut < 0 ? rest : rest.slice(0, cut);
  let path = cut < 0 ? "/" : rest.slice(cut);
  if (path.startsWith("?")) path = "/" + path;
  const hash = path.indexOf("#");
  if (hash >= 0) path = path.slice(0, hash);
  const hostPort = authority.slice(authority.lastIndexOf("@") + 1);
  const m = /^([^:]*)(?::(\d*))?$/.exec(hostPort);
  if (!m || m[1] === "" || /[\s<>\\^`{|}]/.test(m[1]!)) return new CurlError(3, "URL using bad/illegal format or missing URL");
  const port = m[2] ? parseInt(m[2], 10) : 80;
  if (port > 65535) return new CurlError(3, "URL using bad/illegal format or missing URL");
  const host = m[1]!.toLowerCase();
  path = path.replace(/ /g, "%20");
  return { host, port, path, authority: port === 80 ? host : `${host}:${port}`, text };
}

function etcHosts(ctx: ToolContext, name: string): Ip4 | undefined {
  if (name === "localhost") return parseIp4("127.0.0.1");
  const fs = ctx.host?.fs;
  if (!fs || typeof fs.readText !== "function") return undefined;
  const text = fs.readText("/etc/hosts");
  if (typeof text !== "string") return undefined;
  for (const raw of text.split("\n")) {
    const parts = raw.split("#", 1)[0]!.trim().split(/\s+/);
    if (parts.length < 2) continue;
    const a = parseIp4(parts[0]!);
    if (a !== undefined && parts.slice(1).some((n) => n.toLowerCase() === name)) return a;
  }
  return undefined;
}

export const curl: Tool = async (ctx) => {
  const parsed = parseArgs(ctx.argv);
  if ("exit" in parsed) {
    if (parsed.out) ctx.io.stdout(parsed.out);
    if (parsed.err) ctx.io.stderr(parsed.err);
    return parsed.exit;
  }
  if (parsed.urls.length === 0) {
    ctx.io.stderr(`curl: no URL specified!\n${TRY_HELP}`);
    return 2;
  }
  const host = ctx.host as unknown as Partial<CurlHost>;
  if (!host?.tcp) {
    ctx.io.stderr("curl: (7) Couldn't connect to server\n");
    return 7;
  }
  parsed.headers = headersFromFiles(ctx, parsed.headers, parsed.silent);
  return new Curl(ctx, parsed, host as CurlHost).main();
};

/**
 * -H @FILE (curl 7.55+): every line of FILE is a header (strtok on "\r\n", so blank lines
 * vanish); a file that cannot be opened is a warning ("Failed to open FILE!"), not an error.
 */
function headersFromFiles(ctx: ToolContext, headers: string[], silent: boolean): string[] {
  const out: string[] = [];
  for (const h of headers) {
    if (!h.startsWith("@") || h === "@-") {
      out.push(h);
      continue;
    }
    const path = h.slice(1);
    const cwd = ctx.env.get("PWD") ?? "/root";
    const abs = path.startsWith("/") ? path : `${cwd.replace(/\/$/, "")}/${path}`;
    const data = ctx.host?.fs?.read(abs);
    if (data === undefined || typeof data === "string") {
      if (!silent) ctx.io.stderr(`Warning: Failed to open ${path}!\n`);
      continue;
    }
    for (const line of new TextDecoder().decode(data).split(/[\r\n]+/)) if (line !== "") out.push(line);
  }
  return out;
}

class Curl {
  private conns: Conn[] = [];
  private nextId = 0;
  private readonly tty: boolean;
  private readonly tcp: TcpStack;
  private exitCode = 0;

  constructor(private readonly ctx: ToolContext, private readonly o: Options, private readonly host: CurlHost) {
    this.tcp = host.tcp;
    this.tty = (ctx.io as { stdoutIsTty?: boolean }).stdoutIsTty !== false;
  }

  private info(s: string): void {
    if (this.o.verbose) this.ctx.io.stderr(`* ${s}\n`);
  }

  async main(): Promise<number> {
    for (const u of this.o.urls) {
      const code = await this.transfer(u);
      if (code !== 0) this.exitCode = code;
    }
    for (const c of this.conns) c.sock.close();
    this.conns = [];
    return this.exitCode;
  }

  /** One URL: returns the exit code. */
  private async transfer(urlText: string): Promise<number> {
    const start = this.ctx.now();
    const info: Record<string, string | number> = { url_effective: urlText, num_connects: 0 };
    let res: Response | undefined;
    try {
      let url = parseUrl(urlText);
      if (url instanceof CurlError) throw url;
      let redirects = 0;
      for (;;) {
        res = await this.fetch(url, start, info);
        const loc = res.headers.get("location");
        if (this.o.location && loc && res.status >= 300 && res.status < 400) {
          if (++redirects > 50) throw new CurlError(47, "Maximum (50) redirects followed");
          const next = parseUrl(/^[a-z]+:\/\//i.test(loc) ? loc : `http://${url.authority}${loc.startsWith("/") ? loc : "/" + loc}`);
          if (next instanceof CurlError) throw next;
          this.info(`Issue another request to this URL: '${next.text}'`);
          this.output(res, false);
          url = next;
          info.url_effective = next.text;
          continue;
        }
        break;
      }
      if (this.o.fail && res.status >= 400) {
        throw new CurlError(22, `The requested URL returned error: ${res.status}`);
      }
      this.output(res, true);
      this.writeOut(info, res, start, 0);
      return 0;
    } catch (e) {
      if (!(e instanceof CurlError)) throw e;
      if (e.code !== 22 || this.o.verbose) this.info(e.message);
      if (e.code !== 22) this.info(`Closing connection ${this.nextId > 0 ? this.nextId - 1 : 0}`);
      if (!this.o.silent || this.o.showError) this.ctx.io.stderr(`curl: (${e.code}) ${e.message}\n`);
      this.writeOut(info, res, start, e.code, e.message);
      return e.code;
    }
  }

  private elapsedMs(start: Micros): number {
    return Math.floor((this.ctx.now() - start) / 1000);
  }

  /** Resolves when p settles or at `deadline` (µs, virtual) with "timeout". */
  private until<T>(p: Promise<T>, deadline: Micros | undefined): Promise<T | "timeout"> {
    if (deadline === undefined) return p;
    return new Promise((resolve) => {
      let done = false;
      const h = this.tcp.schedule(deadline, () => {
        if (done) return;
        done = true;
        resolve("timeout");
        this.tcp.ports.wake();
      });
      void p.then((v) => {
        if (done) return;
        done = true;
        this.tcp.cancelTimer(h);
        resolve(v);
      });
    });
  }

  private resolve(url: Url): Ip4 | undefined {
    const lit = parseIp4(url.host);
    if (lit !== undefined) return lit;
    const forced = this.o.resolve.get(`${url.host}:${url.port}`);
    if (forced !== undefined) {
      this.info(`Added ${url.host}:${url.port}:${formatIp4(forced)} to DNS cache`);
      return forced;
    }
    return this.host.resolve?.(url.host) ?? etcHosts(this.ctx, url.host);
  }

  /**
   * --interface (Curl_bindlocal): an interface name gives that NIC's first address, an
   * IPv4 literal is used as is; either must be an address of this host, or bind() fails
   * with EADDRNOTAVAIL and curl exits 45.
   */
  private bindAddress(): Ip4 | undefined {
    const spec = this.o.iface;
    if (spec === undefined) return undefined;
    const nic = this.host.nics?.get(spec);
    const addr = nic ? nic.addrs[0]?.addr : parseIp4(spec);
    if (addr === undefined) throw new CurlError(45, `Couldn't bind to '${spec}'`);
    if (!this.tcp.ports.isLocal(addr)) {
      this.info(`bind failed with errno 99: ${ERRNO_TEXT.EADDRNOTAVAIL}`);
      throw new CurlError(45, `bind failed with errno 99: ${ERRNO_TEXT.EADDRNOTAVAIL}`);
    }
    return addr;
  }

  private async connect(url: Url, start: Micros, info: Record<string, string | number>): Promise<Conn> {
    const reuse = this.conns.find((c) => c.host === url.host && c.port === url.port);
    if (reuse) {
      if (reuse.sock.state === "ESTABLISHED") {
        this.info(`Re-using existing connection #${reuse.id} with host ${url.host}`);
        return reuse;
      }
      reuse.sock.close();
      this.conns.splice(this.conns.indexOf(reuse), 1);
    }
    const ip = this.resolve(url);
    if (ip === undefined) throw new CurlError(6, `Could not resolve host: ${url.host}`);
    const id = this.nextId++;
    const ipText = formatIp4(ip);
    this.info(`  Trying ${ipText}:${url.port}...`);
    const src = this.bindAddress();
    const sock = this.tcp.connect({ dst: ip, dport: url.port, noDelay: true, src });
    const connectTimeout = this.o.connectTimeout ?? 300_000_000;
    const budget = this.o.maxTime !== undefined ? Math.min(connectTimeout, this.o.maxTime) : connectTimeout;
    // curl's timers fire a millisecond after the deadline it checks with ms granularity.
    const r = await this.until(sock.connected(), start + budget + 1000);
    if (r === "timeout") {
      sock.close();
      this.info(`IPv4 connect timeout after ${Math.floor(budget / 1000)}ms, move on!`);
      // multi_handle_timeout: a deadline (--connect-timeout or -m) met while connecting.
      throw new CurlError(28, `Connection timed out after ${this.elapsedMs(start)} milliseconds`);
    }
    if (r !== true) {
      this.info(`connect to ${ipText} port ${url.port} failed: ${ERRNO_TEXT[r] ?? r}`);
      const code = r === "ETIMEDOUT" ? 28 : 7;
      throw new CurlError(code, `Failed to connect to ${url.host} port ${url.port} after ${this.elapsedMs(start)} ms: ${STRERROR[7]}`);
    }
    info.num_connects = (info.num_connects as number) + 1;
    info.time_connect = (this.ctx.now() - start) / 1e6;
    this.info(`Connected to ${url.host} (${ipText}) port ${url.port} (#${id})`);
    if (this.o.haproxyProtocol) {
      // add_haproxy_protocol_header (lib/http.c): its own send, before the request, with
      // the connection's own addresses (local first).
      const line = `PROXY TCP4 ${formatIp4(sock.localAddr)} ${ipText} ${sock.localPort} ${url.port}\r\n`;
      if (this.o.verbose) this.ctx.io.stderr(`> ${line}`);
      sock.send(line);
    }
    const c: Conn = { id, sock, host: url.host, port: url.port, ip, leftover: new Uint8Array(0) };
    this.conns.push(c);
    return c;
  }

  private request(url: Url): string {
    const o = this.o;
    const method = o.method ?? (o.head ? "HEAD" : o.data !== undefined ? "POST" : "GET");
    const custom = new Map<string, string | undefined>();
    const customOrder: string[] = [];
    for (const h of o.headers) {
      const m = /^([^:;]+)[:;]\s*(.*)$/.exec(h);
      if (!m) continue;
      const name = m[1]!.trim();
      custom.set(name.toLowerCase(), h.includes(":") && m[2] === "" ? undefined : m[2]!);
      customOrder.push(h.includes(":") && m[2] === "" ? "" : `${name}: ${m[2]}`);
    }
    const lines = [`${method} ${url.path} HTTP/1.1`];
    if (!custom.has("host")) lines.push(`Host: ${url.authority}`);
    if (!custom.has("user-agent")) lines.push(`User-Agent: ${o.userAgent ?? VERSION}`);
    if (!custom.has("accept")) lines.push("Accept: */*");
    if (o.referer !== undefined && !custom.has("referer")) lines.push(`Referer: ${o.referer}`);
    for (const l of customOrder) if (l) lines.push(l);
    if (o.data !== undefined) {
      if (!custom.has("content-length")) lines.push(`Content-Length: ${enc.encode(o.data).length}`);
      if (!custom.has("content-type")) lines.push("Content-Type: application/x-www-form-urlencoded");
    }
    return lines.map((l) => `${l}\r\n`).join("") + "\r\n";
  }

  private async fetch(url: Url, start: Micros, info: Record<string, string | number>): Promise<Response> {
    const conn = await this.connect(url, start, info);
    const head = this.request(url);
    if (this.o.verbose) {
      this.ctx.io.stderr(head.split("\r\n").slice(0, -1).map((l) => `> ${l}\r\n`).join(""));
    }
    const body = this.o.data !== undefined ? this.o.data : "";
    if (this.o.verbose && body) this.ctx.io.stderr(`* upload completely sent off: ${enc.encode(body).length} out of ${enc.encode(body).length} bytes\n`);
    conn.sock.send(head + body);
    info.remote_ip = formatIp4(conn.ip);
    info.remote_port = conn.port;
    info.local_ip = formatIp4(conn.sock.localAddr);
    info.local_port = conn.sock.localPort;
    return this.readResponse(conn, start, this.o.head || (this.o.method ?? "") === "HEAD");
  }

  private async readResponse(conn: Conn, start: Micros, isHead: boolean): Promise<Response> {
    const maxDeadline = this.o.maxTime !== undefined ? start + this.o.maxTime + 1000 : undefined;
    let buf = conn.leftover;
    conn.leftover = new Uint8Array(0);
    let headerEnd = -1;
    let bodyBytes = 0;
    let total: number | undefined;
    const more = async (): Promise<boolean> => {
      const r = await this.until(conn.sock.read(), maxDeadline);
      if (r === "timeout") {
        this.drop(conn);
        const ms = this.elapsedMs(start);
        throw new CurlError(28, total !== undefined
          ? `Operation timed out after ${ms} milliseconds with ${bodyBytes} out of ${total} bytes received`
          : `Operation timed out after ${ms} milliseconds with ${bodyBytes} bytes received`);
      }
      if (r === null) {
        if (conn.sock.error === "ECONNRESET" || conn.sock.error === "EPIPE") {
          this.drop(conn);
          throw new CurlError(56, "Recv failure: Connection reset by peer");
        }
        return false;
      }
      const nb = new Uint8Array(buf.length + r.length);
      nb.set(buf);
      nb.set(r, buf.length);
      buf = nb;
      return true;
    };
    // Status line and headers.
    for (;;) {
      const text = latin1.decode(buf);
      headerEnd = text.indexOf("\r\n\r\n");
      let sep = 4;
      if (headerEnd < 0) {
        headerEnd = text.indexOf("\n\n");
        sep = 2;
      }
      if (headerEnd >= 0) {
        headerEnd += sep;
        break;
      }
      if (!(await more())) {
        this.drop(conn);
        if (buf.length === 0) throw new CurlError(52, "Empty reply from server");
        throw new CurlError(56, "Recv failure: Connection reset by peer");
      }
    }
    const headerText = latin1.decode(buf.subarray(0, headerEnd));
    const lines = headerText.split(/\r?\n/).filter((l) => l !== "");
    const sm = /^HTTP\/(\d(?:\.\d)?) (\d{3})/.exec(lines[0] ?? "");
    if (!sm) {
      this.drop(conn);
      throw new CurlError(1, "Received HTTP/0.9 when not allowed");
    }
    const status = parseInt(sm[2]!, 10);
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
    }
    if (this.o.verbose) {
      this.ctx.io.stderr(headerText.split(/\r?\n/).slice(0, -1).map((l) => `< ${l}\r\n`).join(""));
    }
    const connHdr = (headers.get("connection") ?? "").toLowerCase();
    let keepAlive = sm[1] === "1.1" ? !connHdr.includes("close") : connHdr.includes("keep-alive");
    buf = buf.subarray(headerEnd);
    const chunked = (headers.get("transfer-encoding") ?? "").toLowerCase().includes("chunked");
    const cl = headers.get("content-length");
    const noBody = isHead || status === 204 || status === 304 || (status >= 100 && status < 200);
    let body: Uint8Array;
    if (noBody) {
      body = new Uint8Array(0);
      conn.leftover = buf;
    } else if (chunked) {
      const out: Uint8Array[] = [];
      for (;;) {
        const t = latin1.decode(buf);
        const le = t.indexOf("\r\n");
        if (le < 0) {
          if (!(await more())) throw new CurlError(18, "transfer closed with outstanding read data remaining");
          continue;
        }
        const size = parseInt(t.slice(0, le), 16);
        if (!Number.isFinite(size)) throw new CurlError(56, "Illegal or missing hexadecimal sequence in chunked-encoding");
        if (buf.length < le + 2 + size + 2) {
          if (!(await more())) throw new CurlError(18, "transfer closed with outstanding read data remaining");
          continue;
        }
        out.push(buf.slice(le + 2, le + 2 + size));
        bodyBytes += size;
        buf = buf.subarray(le + 2 + size + 2);
        if (size === 0) break;
      }
      body = concat(out);
      conn.leftover = buf;
    } else if (cl !== undefined && /^\d+$/.test(cl)) {
      total = parseInt(cl, 10);
      bodyBytes = Math.min(buf.length, total);
      while (buf.length < total) {
        if (!(await more())) {
          this.drop(conn);
          throw new CurlError(18, `transfer closed with ${total - buf.length} bytes remaining to read`);
        }
        bodyBytes = Math.min(buf.length, total);
      }
      body = buf.slice(0, total);
      conn.leftover = buf.subarray(total);
    } else {
      // Read until the server closes.
      while (await more()) bodyBytes = buf.length;
      body = buf.slice();
      keepAlive = false;
    }
    if (this.o.verbose && !this.tty && body.length > 0) this.ctx.io.stderr(`{ [${body.length} bytes data]\n`);
    if (keepAlive && conn.sock.state === "ESTABLISHED") {
      this.info(`Connection #${conn.id} to host ${conn.host} left intact`);
    } else {
      this.info(`Closing connection ${conn.id}`);
      conn.sock.close();
      this.drop(conn);
    }
    return { status, headerText, headers, body, keepAlive };
  }

  private drop(conn: Conn): void {
    const i = this.conns.indexOf(conn);
    if (i >= 0) this.conns.splice(i, 1);
    if (conn.sock.state !== "CLOSED") conn.sock.close();
  }

  /** Headers (-i/-I/-D) and body (stdout or -o) of one response. */
  private output(res: Response, final: boolean): void {
    const o = this.o;
    const io = this.ctx.io;
    if (o.dumpHeader !== undefined) {
      if (o.dumpHeader === "-") io.stdout(res.headerText);
      else this.writeFile(o.dumpHeader, enc.encode(res.headerText), true);
    }
    if (o.include || o.head) {
      if (o.output && o.output !== "-") this.writeFile(o.output, enc.encode(res.headerText), true);
      else io.stdout(res.headerText);
    }
    if (!final && o.location) return;
    if (o.head) return;
    if (o.output !== undefined && o.output !== "-") {
      this.writeFile(o.output, res.body, o.include);
    } else if (o.remoteName) {
      const name = this.o.urls[0]!.replace(/[?#].*$/, "").split("/").pop() || "";
      if (name) this.writeFile(name, res.body, false);
    } else {
      io.stdout(utf8.decode(res.body));
    }
  }

  private writeFile(path: string, data: Uint8Array, append: boolean): void {
    const fs = this.ctx.host?.fs;
    const cwd = this.ctx.env.get("PWD") ?? "/root";
    const abs = path.startsWith("/") ? path : `${cwd.replace(/\/$/, "")}/${path}`;
    const r = fs?.write(abs, data, { append });
    if (r !== true) throw new CurlError(23, "Failure writing output to destination");
  }

  /** -w: the %{variable} subset that is cheap to know here. */
  private writeOut(info: Record<string, string | number>, res: Response | undefined, start: Micros, exit: number, err = ""): void {
    const fmt = this.o.writeOut;
    if (fmt === undefined) return;
    const total = (this.ctx.now() - start) / 1e6;
    const vars: Record<string, string> = {
      http_code: String(res?.status ?? 0).padStart(3, "0"),
      response_code: String(res?.status ?? 0).padStart(3, "0"),
      size_download: String(res?.body.length ?? 0),
      size_header: String(res?.headerText.length ?? 0),
      time_total: total.toFixed(6),
      time_connect: Number(info.time_connect ?? 0).toFixed(6),
      remote_ip: String(info.remote_ip ?? ""),
      remote_port: String(info.remote_port ?? ""),
      local_ip: String(info.local_ip ?? ""),
      local_port: String(info.local_port ?? ""),
      num_connects: String(info.num_connects ?? 0),
      url_effective: String(info.url_effective ?? ""),
      content_type: res?.headers.get("content-type") ?? "",
      exitcode: String(exit),
      errormsg: err,
      http_version: res ? "1.1" : "0",
      method: this.o.method ?? (this.o.head ? "HEAD" : "GET"),
    };
    const out = fmt
      .replace(/\\n/g, "\n").replace(/\\r/g, "\r").replace(/\\t/g, "\t")
      .replace(/%\{([a-z_]+)\}/g, (m, k: string) => vars[k] ?? m);
    this.ctx.io.stdout(out);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export type { TcpErrno };
