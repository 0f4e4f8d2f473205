/**
 * The running director's control socket: a unix stream socket (mode 0600) on which a client
 * sends one command line and gets back what it printed and its exit status. The director
 * runs the line through its own shell and tools, as `lvslab exec` does in the simulator, so
 * `ipvsadm -L -n -c`, `sysctl -w ...` or `bash /usr/local/sbin/lvs_nat.sh` act on the live
 * data plane.
 *
 * Protocol: newline-delimited JSON. Client: {"argv": [...]} (no standard input), or
 * {"argv": [...], "stdin": "..."} (all of it inline), or {"argv": [...], "stdinFollows": true}
 * then {"in": text} as standard input is read and {"eof": true} at its end; and at will
 * {"signal": "INT"} (Ctrl-C). The command starts once its standard input is complete (the
 * director's tools read it whole); Ctrl-C before that ends the request with status 130, as
 * for a command killed while it waited for input. Server: {"out": text} and {"err": text} as
 * the command prints, then {"exit": code}, then it closes. A line longer than
 * MAX_REQUEST_BYTES, or standard input past MAX_STDIN_BYTES, is refused (status 2).
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { MAX_STDIN_BYTES, StdinTooLarge, stdinChunks, stdinTooLargeMessage } from "../cli/stdio.js";

export const MAX_REQUEST_BYTES = 1 << 20;
export const DEFAULT_CONTROL_PATH = "/run/lvslab/director.sock";

export function defaultControlPath(): string {
  return process.env["LVSLAB_CONTROL"] || DEFAULT_CONTROL_PATH;
}

export interface ControlRequest {
  argv: string[];
  stdin?: string;
}

/** A request as a client sends it: standard input may be a stream, forwarded as it is read. */
export interface OutgoingRequest {
  argv: string[];
  stdin?: string | AsyncIterable<Buffer | string>;
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
  /** The most standard input sent (default MAX_STDIN_BYTES); past it the request fails with StdinTooLarge. */
  maxStdinBytes?: number;
}

/** Pieces of a string small enough for one protocol line each, however JSON escapes them. */
function* pieces(s: string): Generator<string> {
  for (let i = 0; i < s.length; i += STDIN_PIECE) yield s.slice(i, i + STDIN_PIECE);
}
const STDIN_PIECE = 16384;

/**
 * Run a command line on the director listening on `sock`. Rejects when none listens there,
 * when standard input cannot be read or is larger than allowed.
 */
export function controlRequest(sock: string, req: OutgoingRequest, opts: RequestOptions = {}): Promise<ControlResult> {
  return new Promise((resolve, reject) => {
    const c = connect(sock);
    let stdout = "";
    let stderr = "";
    let code: number | undefined;
    let buf = "";
    let connected = false;
    let failed: Error | undefined;
    const src = req.stdin === undefined ? undefined : typeof req.stdin === "string" ? pieces(req.stdin) : req.stdin;
    const send = (m: object): boolean => !c.destroyed && !c.writableEnded && c.write(JSON.stringify(m) + "\n");
    const drained = (): Promise<void> =>
      new Promise((r) => {
        const go = (): void => {
          c.off("drain", go).off("close", go);
          r();
        };
        c.on("drain", go).on("close", go);
      });
    const pump = async (from: AsyncIterable<Buffer | string> | Iterable<string>): Promise<void> => {
      try {
        for await (const s of stdinChunks(from, opts.maxStdinBytes ?? MAX_STDIN_BYTES)) {
          if (c.destroyed) return;
          for (const p of pieces(s)) {
            if (c.destroyed || c.writableEnded) return;
            if (!send({ in: p })) await drained();
          }
        }
        send({ eof: true });
      } catch (e) {
        if (c.destroyed) return; // the command ended meanwhile: the rest of the input is not wanted
        failed = e instanceof StdinTooLarge ? e : new Error(`cannot read standard input: ${(e as Error).message}`);
        c.destroy();
      }
    };
    c.setEncoding("utf8");
    c.on("connect", () => {
      connected = true;
      send({ argv: req.argv, ...(src !== undefined ? { stdinFollows: true } : {}) });
      if (src !== undefined) void pump(src);
      void opts.interrupt?.then(() => send({ signal: "INT" }));
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
      // Standard input still being read is no longer wanted (a pipe that never ends must not keep us).
      const stream = req.stdin as { destroy?: () => void } | undefined;
      if (typeof stream?.destroy === "function") stream.destroy();
      if (!connected) return;
      if (failed) reject(failed);
      else if (code === undefined) reject(new Error(`the director at ${sock} closed the connection without an exit status`));
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
  /** Waiting for the request, gathering its standard input, or running it. */
  let phase: "request" | "stdin" | "running" | "done" = "request";
  const done = (): boolean => phase === "done";
  let argv: string[] = [];
  const stdin: string[] = [];
  let stdinBytes = 0;
  let fire: (s: "SIGINT") => void = () => undefined;
  const interrupt = new Promise<"SIGINT">((r) => (fire = r));
  const send = (m: object): void => {
    if (!c.destroyed) c.write(JSON.stringify(m) + "\n");
  };
  const finish = (code: number, err?: string): void => {
    if (done()) return;
    phase = "done";
    if (err !== undefined) send({ err });
    send({ exit: code });
    c.end();
    buf = "";
  };
  const start = (req: ControlRequest): void => {
    phase = "running";
    handler(req, { stdout: (s) => send({ out: s }), stderr: (s) => send({ err: s }) }, interrupt).then(
      (code) => finish(code),
      (e: unknown) => finish(70, `lvslab director: internal error: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  };
  c.setEncoding("utf8");
  c.on("error", () => undefined);
  c.on("close", () => {
    clients.delete(c);
    fire("SIGINT"); // the client went away: stop what it started
  });
  const tooLong = (): void => finish(2, `lvslab director: request larger than ${MAX_REQUEST_BYTES} bytes refused\n`);
  c.on("data", (d: string) => {
    if (done()) return;
    buf += d;
    let i: number;
    while (!done() && (i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.length > MAX_REQUEST_BYTES) {
        if (phase === "running") continue; // nothing left to refuse: the command runs
        return tooLong();
      }
      let m: { argv?: unknown; stdin?: unknown; stdinFollows?: unknown; in?: unknown; eof?: unknown; signal?: unknown };
      try {
        m = JSON.parse(line) as typeof m;
      } catch {
        m = {};
      }
      if (phase === "running") {
        if (m.signal === "INT") fire("SIGINT");
      } else if (phase === "stdin") {
        if (m.signal === "INT") finish(130); // killed while it waited for its input
        else if (typeof m.in === "string") {
          stdinBytes += Buffer.byteLength(m.in);
          if (stdinBytes > MAX_STDIN_BYTES) finish(2, `lvslab director: ${stdinTooLargeMessage()}\n`);
          else stdin.push(m.in);
        } else if (m.eof === true) start({ argv, stdin: stdin.join("") });
      } else {
        if (!Array.isArray(m.argv) || m.argv.length === 0 || !m.argv.every((a) => typeof a === "string") || (m.stdin !== undefined && typeof m.stdin !== "string") || (m.stdinFollows !== undefined && typeof m.stdinFollows !== "boolean")) {
          return finish(2, "lvslab director: bad request (want {\"argv\": [\"cmd\", ...], \"stdin\"?: \"...\"} or {\"argv\": [...], \"stdinFollows\": true})\n");
        }
        argv = m.argv as string[];
        if (m.stdinFollows === true) phase = "stdin";
        else start({ argv, ...(typeof m.stdin === "string" ? { stdin: m.stdin } : {}) });
      }
    }
    if (!done() && buf.length > MAX_REQUEST_BYTES) {
      if (phase === "running") buf = "";
      else tooLong();
    }
  });
}
