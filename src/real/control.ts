/**
 * The running director's control socket: a unix stream socket (mode 0600) on which a client
 * sends one command line and gets back what it printed and its exit status. The director
 * runs the line through its own shell and tools, as `lvslab exec` does in the simulator, so
 * `ipvsadm -L -n -c`, `sysctl -w ...` or `bash /usr/local/sbin/lvs_nat.sh` act on the live
 * data plane.
 *
 * Protocol: newline-delimited JSON. Client: {"argv": [...], "stdin"?: "..."} then, at
 * will, {"signal": "INT"} (Ctrl-C). Server: {"out": text} and {"err": text} as the command
 * prints, then {"exit": code}, then it closes. A request larger than MAX_REQUEST_BYTES is
 * refused.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";

export const MAX_REQUEST_BYTES = 1 << 20;
export const DEFAULT_CONTROL_PATH = "/run/lvslab/director.sock";

export function defaultControlPath(): string {
  return process.env["LVSLAB_CONTROL"] || DEFAULT_CONTROL_PATH;
}

export interface ControlRequest {
  argv: string[];
  stdin?: string;
}

export interface ControlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RequestOptions {
  /** Called with output as it arrives (for a live terminal). */
  onStdout?: (s: string) => void;
  onStderr?: (s: string) => void;
  /** Resolve it to send Ctrl-C to the command. */
  interrupt?: Promise<unknown>;
}

/** Run a command line on the director listening on `sock`. Rejects when none listens there. */
export function controlRequest(sock: string, req: ControlRequest, opts: RequestOptions = {}): Promise<ControlResult> {
  return new Promise((resolve, reject) => {
    const c = connect(sock);
    let stdout = "";
    let stderr = "";
    let code: number | undefined;
    let buf = "";
    let connected = false;
    c.setEncoding("utf8");
    c.on("connect", () => {
      connected = true;
      c.write(JSON.stringify({ argv: req.argv, ...(req.stdin !== undefined ? { stdin: req.stdin } : {}) }) + "\n");
      void opts.interrupt?.then(() => {
        if (!c.destroyed) c.write(JSON.stringify({ signal: "INT" }) + "\n");
      });
    });
    c.on("data", (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let m: { out?: string; err?: string; exit?: number };
        try {
          m = JSON.parse(line) as typeof m;
        } catch {
          continue;
        }
        if (typeof m.out === "string") {
          stdout += m.out;
          opts.onStdout?.(m.out);
        }
        if (typeof m.err === "string") {
          stderr += m.err;
          opts.onStderr?.(m.err);
        }
        if (typeof m.exit === "number") code = m.exit;
      }
    });
    c.on("error", (e: NodeJS.ErrnoException) => {
      if (!connected) {
        const why = e.code === "ENOENT" || e.code === "ECONNREFUSED" ? "no director is listening there" : e.code === "EACCES" ? "permission denied (the socket is root's, mode 0600)" : e.message;
        reject(new Error(`cannot connect to ${sock}: ${why}`));
      }
    });
    c.on("close", () => {
      if (!connected) return;
      if (code === undefined) reject(new Error(`the director at ${sock} closed the connection without an exit status`));
      else resolve({ stdout, stderr, code });
    });
  });
}

/** What the server hands each request to: write output, return the exit status. */
export type ControlHandler = (
  req: ControlRequest,
  io: { stdout(s: string): void; stderr(s: string): void },
  interrupt: Promise<"SIGINT">,
) => Promise<number>;

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Listen on `path` (its directory is created 0700 if missing). A stale socket left by a
 * killed director is replaced; a live one is an error.
 */
export async function startControlServer(path: string, handler: ControlHandler): Promise<ControlServer> {
  if (!existsSync(dirname(path))) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket()) throw new Error(`${path} exists and is not a socket`);
    const alive = await new Promise<boolean>((res) => {
      const c = connect(path);
      c.on("connect", () => {
        c.destroy();
        res(true);
      });
      c.on("error", () => res(false));
    });
    if (alive) throw new Error(`${path}: another director is already listening there`);
    unlinkSync(path);
  }
  const clients = new Set<Socket>();
  const server: Server = createServer((c) => serve(c, handler, clients));
  // The socket file is created with the umask; make sure it is never wider than 0600.
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((res, rej) => {
      server.once("error", rej);
      server.listen(path, () => res());
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((res) => {
        for (const c of clients) c.destroy();
        server.close(() => res());
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }),
  };
}

function serve(c: Socket, handler: ControlHandler, clients: Set<Socket>): void {
  clients.add(c);
  let buf = "";
  let started = false;
  let fire: (s: "SIGINT") => void = () => undefined;
  const interrupt = new Promise<"SIGINT">((r) => (fire = r));
  const send = (m: object): void => {
    if (!c.destroyed) c.write(JSON.stringify(m) + "\n");
  };
  c.setEncoding("utf8");
  c.on("error", () => undefined);
  c.on("close", () => {
    clients.delete(c);
    fire("SIGINT"); // the client went away: stop what it started
  });
  c.on("data", (d: string) => {
    buf += d;
    if (buf.length > MAX_REQUEST_BYTES) {
      send({ err: `lvslab director: request larger than ${MAX_REQUEST_BYTES} bytes refused\n` });
      send({ exit: 2 });
      c.end();
      buf = "";
      return;
    }
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let m: { argv?: unknown; stdin?: unknown; signal?: unknown };
      try {
        m = JSON.parse(line) as typeof m;
      } catch {
        m = {};
      }
      if (started) {
        if (m.signal === "INT") fire("SIGINT");
        continue;
      }
      started = true;
      if (!Array.isArray(m.argv) || m.argv.length === 0 || !m.argv.every((a) => typeof a === "string") || (m.stdin !== undefined && typeof m.stdin !== "string")) {
        send({ err: "lvslab director: bad request (want {\"argv\": [\"cmd\", ...], \"stdin\"?: \"...\"})\n" });
        send({ exit: 2 });
        c.end();
        return;
      }
      const req: ControlRequest = { argv: m.argv as string[], ...(typeof m.stdin === "string" ? { stdin: m.stdin } : {}) };
      handler(req, { stdout: (s) => send({ out: s }), stderr: (s) => send({ err: s }) }, interrupt).then(
        (code) => {
          send({ exit: code });
          c.end();
        },
        (e: unknown) => {
          send({ err: `lvslab director: internal error: ${e instanceof Error ? e.message : String(e)}\n` });
          send({ exit: 70 });
          c.end();
        },
      );
    }
  });
}
