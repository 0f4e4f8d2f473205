import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { connect } from "node:net";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { MAX_REQUEST_BYTES, controlRequest, startControlServer } from "./control.js";
import { MAX_STDIN_BYTES, stdinTooLargeMessage } from "../cli/stdio.js";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "lvslab-control-"));
}

/** Send raw bytes, return every line the server wrote before closing. */
function raw(sock: string, data: string): Promise<string[]> {
  return new Promise((res, rej) => {
    const c = connect(sock);
    let buf = "";
    c.setEncoding("utf8");
    c.on("connect", () => c.write(data));
    c.on("data", (d: string) => (buf += d));
    c.on("error", rej);
    c.on("close", () => res(buf.split("\n").filter(Boolean)));
  });
}

test("a request runs through the handler: argv, stdin, streamed output, exit status; socket 0600", async () => {
  const dir = tmp();
  const sock = join(dir, "d.sock");
  const seen: { argv: string[]; stdin?: string }[] = [];
  const srv = await startControlServer(sock, async (req, io) => {
    seen.push(req);
    io.stdout("one\n");
    io.stderr("warn\n");
    io.stdout("two\n");
    return 3;
  });
  try {
    assert.equal(statSync(sock).mode & 0o777, 0o600);
    const live: string[] = [];
    const r = await controlRequest(sock, { argv: ["ipvsadm", "-R"], stdin: "-A -t 1.2.3.4:80\n" }, { onStdout: (s) => live.push(s) });
    assert.deepEqual(r, { stdout: "one\ntwo\n", stderr: "warn\n", code: 3 });
    assert.deepEqual(live, ["one\n", "two\n"]);
    assert.deepEqual(seen, [{ argv: ["ipvsadm", "-R"], stdin: "-A -t 1.2.3.4:80\n" }]);
  } finally {
    await srv.close();
  }
  assert.equal(existsSync(sock), false, "close removes the socket");
  rmSync(dir, { recursive: true, force: true });
});

test("bad and oversized requests are refused with exit 2; Ctrl-C reaches the command", async () => {
  const dir = tmp();
  const sock = join(dir, "d.sock");
  const srv = await startControlServer(sock, async (_req, io, interrupt) => {
    const sig = await Promise.race([interrupt, new Promise<string>((r) => setTimeout(() => r("timeout"), 5000))]);
    io.stdout(`${sig}\n`);
    return 130;
  });
  try {
    assert.deepEqual(await raw(sock, "not json\n"), [JSON.stringify({ err: 'lvslab director: bad request (want {"argv": ["cmd", ...], "stdin"?: "..."} or {"argv": [...], "stdinFollows": true})\n' }), JSON.stringify({ exit: 2 })]);
    assert.deepEqual((await raw(sock, JSON.stringify({ argv: [] }) + "\n")).at(-1), JSON.stringify({ exit: 2 }));
    const big = await raw(sock, "x".repeat(MAX_REQUEST_BYTES + 10));
    assert.deepEqual(big, [JSON.stringify({ err: `lvslab director: request larger than ${MAX_REQUEST_BYTES} bytes refused\n` }), JSON.stringify({ exit: 2 })]);
    let fire!: () => void;
    const intr = new Promise<void>((r) => (fire = r));
    const p = controlRequest(sock, { argv: ["tcpdump"] }, { interrupt: intr });
    setTimeout(fire, 50);
    assert.deepEqual(await p, { stdout: "SIGINT\n", stderr: "", code: 130 });
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a stale socket is replaced, a live one is refused, nobody listening is a clear error", async () => {
  const dir = tmp();
  const sock = join(dir, "d.sock");
  await assert.rejects(controlRequest(sock, { argv: ["true"] }), { message: `cannot connect to ${sock}: no director is listening there` });
  const first = await startControlServer(sock, async () => 0);
  await assert.rejects(startControlServer(sock, async () => 0), { message: `${sock}: another director is already listening there` });
  await first.close();
  // A socket file left behind by a director killed with SIGKILL (nobody accepts on it).
  spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, "SIGKILL"))`]);
  assert.equal(statSync(sock).isSocket(), true);
  writeFileSync(join(dir, "plain"), "");
  await assert.rejects(startControlServer(join(dir, "plain"), async () => 0), { message: `${join(dir, "plain")} exists and is not a socket` });
  const again = await startControlServer(sock, async (_r, io) => {
    io.stdout("ok\n");
    return 0;
  });
  assert.equal((await controlRequest(sock, { argv: ["x"] })).stdout, "ok\n");
  await again.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A server whose handler records each request and echoes its standard input back. */
async function echoServer(sock: string): Promise<{ seen: { argv: string[]; stdin?: string }[]; close(): Promise<void> }> {
  const seen: { argv: string[]; stdin?: string }[] = [];
  const srv = await startControlServer(sock, async (req, io) => {
    seen.push(req);
    io.stdout(req.stdin ?? "(none)");
    return 0;
  });
  return { seen, close: () => srv.close() };
}

test("streamed standard input: framed in pieces, UTF-8 split between reads kept whole, larger than one request line", async () => {
  const dir = tmp();
  const sock = join(dir, "d.sock");
  const srv = await echoServer(sock);
  try {
    // The raw framing: header, pieces, end of input; the command starts only at the end.
    const lines = await raw(sock, [{ argv: ["sh"], stdinFollows: true }, { in: "echo " }, { in: "hi\n" }, { eof: true }].map((m) => JSON.stringify(m) + "\n").join(""));
    assert.deepEqual(lines, [JSON.stringify({ out: "echo hi\n" }), JSON.stringify({ exit: 0 })]);
    assert.deepEqual(srv.seen.at(-1), { argv: ["sh"], stdin: "echo hi\n" });
    // "é" is two bytes; the stream cuts between them.
    const e = Buffer.from("caf\u00e9\n");
    const r = await controlRequest(sock, { argv: ["cat"], stdin: Readable.from([e.subarray(0, 4), e.subarray(4)]) });
    assert.deepEqual(r, { stdout: "caf\u00e9\n", stderr: "", code: 0 });
    // Three times what one protocol line may hold, from a stream and from a string.
    const big = Array.from({ length: 3 * MAX_REQUEST_BYTES / 32 }, (_, i) => `-a -t 10.0.0.1:80 -r ${i % 250}\n`.padEnd(32, "#")).join("");
    const chunks = Array.from({ length: Math.ceil(big.length / 65536) }, (_, i) => Buffer.from(big.slice(i * 65536, (i + 1) * 65536)));
    assert.equal((await controlRequest(sock, { argv: ["ipvsadm", "-R"], stdin: Readable.from(chunks) })).stdout, big);
    assert.equal((await controlRequest(sock, { argv: ["ipvsadm", "-R"], stdin: big })).stdout, big);
    // An empty pipe is an empty standard input; no stdin at all is none.
    assert.equal((await controlRequest(sock, { argv: ["cat"], stdin: Readable.from([]) })).stdout, "");
    assert.equal((await controlRequest(sock, { argv: ["cat"] })).stdout, "(none)");
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("standard input past the bound is refused by the client and by the server; Ctrl-C while it is read ends with 130", async () => {
  const dir = tmp();
  const sock = join(dir, "d.sock");
  const srv = await echoServer(sock);
  try {
    await assert.rejects(controlRequest(sock, { argv: ["cat"], stdin: Readable.from([Buffer.alloc(600, 97), Buffer.alloc(600, 97)]) }, { maxStdinBytes: 1000 }), {
      message: stdinTooLargeMessage(1000),
    });
    // A client that does not count: the server stops it at MAX_STDIN_BYTES.
    const piece = JSON.stringify({ in: "x".repeat(1 << 19) }) + "\n";
    const over = await raw(sock, JSON.stringify({ argv: ["cat"], stdinFollows: true }) + "\n" + piece.repeat(MAX_STDIN_BYTES / (1 << 19) + 1) + JSON.stringify({ eof: true }) + "\n");
    assert.deepEqual(over, [JSON.stringify({ err: `lvslab director: ${stdinTooLargeMessage()}\n` }), JSON.stringify({ exit: 2 })]);
    // Input that never ends (a pipe whose writer waits): Ctrl-C ends the request, the
    // command never ran, and the stream is let go.
    const endless = new Readable({ read() {} });
    endless.push("partial");
    let fire!: () => void;
    const intr = new Promise<void>((r) => (fire = r));
    const p = controlRequest(sock, { argv: ["ipvsadm", "-R"], stdin: endless }, { interrupt: intr });
    setTimeout(fire, 50);
    assert.deepEqual(await p, { stdout: "", stderr: "", code: 130 });
    assert.equal(endless.destroyed, true);
    assert.equal(srv.seen.length, 0, "neither command ran");
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
