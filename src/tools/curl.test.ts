import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startHttpServer } from "../apps/http-server.js";
import type { TcpStack } from "../tcp/index.js";
import { TestNet } from "../tcp/testing.js";
import { parseIp4 } from "../wire/addr.js";
import { curl } from "./curl.js";
import type { ToolContext, Vfs } from "./types.js";

const CIP = parseIp4("192.168.75.150")!;
const VIP = parseIp4("192.168.75.131")!;
const T0 = Date.UTC(2026, 10, 24, 17, 45, 29) * 1000;
const enc = new TextEncoder();

function memFs(files: Map<string, Uint8Array>): Vfs {
  return {
    read: (p) => files.get(p) ?? "ENOENT",
    readText: (p) => (files.has(p) ? new TextDecoder().decode(files.get(p)) : "ENOENT"),
    write: (p, d, o) => {
      const b = typeof d === "string" ? enc.encode(d) : d;
      const old = o?.append ? files.get(p) ?? new Uint8Array(0) : new Uint8Array(0);
      const n = new Uint8Array(old.length + b.length);
      n.set(old);
      n.set(b, old.length);
      files.set(p, n);
      return true;
    },
    exists: (p) => files.has(p),
    isDir: () => false,
    list: () => [],
    mkdirp: () => {},
    remove: (p) => (files.delete(p) ? true : "ENOENT"),
  };
}

interface Lab {
  net: TestNet;
  client: TcpStack;
  server: TcpStack;
  files: Map<string, Uint8Array>;
  log: string[];
  run(argv: string[], opts?: { tty?: boolean }): Promise<{ code: number; out: string; err: string; took: number }>;
}

function lab(opts: { serve?: boolean } = {}): Lab {
  const net = new TestNet();
  const client = net.addHost(CIP);
  const server = net.addHost(VIP);
  const log: string[] = [];
  const files = new Map<string, Uint8Array>([["/etc/hosts", enc.encode("127.0.0.1\tlocalhost\n192.168.75.131\tvip\n")]]);
  if (opts.serve !== false) {
    startHttpServer({
      tcp: server,
      readFile: (p) => (p === "/usr/share/nginx/html/index.html" ? { data: enc.encode("2222222222222slave\n"), mtime: 0x6b05cd20 } : undefined),
      epochMicros: (t) => T0 + t,
      log: (l) => log.push(l),
    });
  }
  const run = async (argv: string[], o: { tty?: boolean } = {}) => {
    let out = "";
    let err = "";
    const t0 = net.q.now();
    const ctx: ToolContext = {
      argv,
      io: Object.assign({ stdout: (s: string) => (out += s), stderr: (s: string) => (err += s) }, o.tty === false ? { stdoutIsTty: false } : {}),
      env: new Map([["PWD", "/root"]]),
      host: { name: "client", fs: memFs(files), capture: { interfaces: () => [], tap: () => "ENODEV" as const }, tcp: client },
      now: () => net.q.now(),
      epochMicros: (t) => T0 + t,
      sleep: (us) => new Promise((r) => net.q.after(us, () => r())),
      interrupted: new Promise(() => {}),
      isInterrupted: () => false,
    };
    let code: number | undefined;
    void curl(ctx).then((c) => (code = c));
    await net.drive(() => code !== undefined);
    // Let the close sequence finish.
    net.q.runUntil(net.q.now() + 100_000);
    return { code: code!, out, err, took: net.q.now() - t0 };
  };
  return { net, client, server, files, log, run };
}

const REQUEST = "GET / HTTP/1.1\r\nHost: 192.168.75.131\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

describe("curl", () => {
  it("fetches the page; request bytes and the wire match the seed capture", async () => {
    const l = lab();
    const r = await l.run(["curl", "192.168.75.131"]);
    assert.equal(r.code, 0);
    assert.equal(r.out, "2222222222222slave\n");
    assert.equal(r.err, "");
    const req = l.net.capture.find((c) => c.src === CIP && c.seg.payload.length > 0)!;
    assert.equal(new TextDecoder().decode(req.seg.payload), REQUEST);
    assert.deepEqual(l.net.flags(), ["S", "S.", ".", "P.", ".", "P.", ".", "F.", "F.", "."]);
    assert.deepEqual(l.log, ['192.168.75.150 - - [24/Nov/2026:17:45:29 +0000] "GET / HTTP/1.1" 200 19 "-" "curl/7.88.1"']);
  });

  it("-H @FILE sends each line of the file as a header; a missing file is a warning", async () => {
    const l = lab();
    l.files.set("/root/h.txt", enc.encode("X-One: 1\r\n\nX-Two: 2\n"));
    const r = await l.run(["curl", "-H", "@h.txt", "-H", "X-Three: 3", "192.168.75.131"]);
    assert.equal(r.code, 0);
    const req = l.net.capture.find((c) => c.src === CIP && c.seg.payload.length > 0)!;
    assert.equal(new TextDecoder().decode(req.seg.payload), REQUEST.replace("\r\n\r\n", "\r\nX-One: 1\r\nX-Two: 2\r\nX-Three: 3\r\n\r\n"));
    const m = await lab().run(["curl", "-H", "@/nonexistent", "192.168.75.131"]);
    assert.deepEqual([m.code, m.err, m.out], [0, "Warning: Failed to open /nonexistent!\n", "2222222222222slave\n"]);
    const s = await lab().run(["curl", "-s", "-H", "@/nonexistent", "192.168.75.131"]);
    assert.equal(s.err, "");
  });

  it("-v prints curl 7.88.1's trace", async () => {
    const l = lab();
    const r = await l.run(["curl", "-v", "192.168.75.131"]);
    assert.equal(r.err,
      "*   Trying 192.168.75.131:80...\n" +
      "* Connected to 192.168.75.131 (192.168.75.131) port 80 (#0)\n" +
      "> GET / HTTP/1.1\r\n> Host: 192.168.75.131\r\n> User-Agent: curl/7.88.1\r\n> Accept: */*\r\n> \r\n" +
      "< HTTP/1.1 200 OK\r\n< Server: nginx/1.22.1\r\n< Date: Tue, 24 Nov 2026 17:45:29 GMT\r\n" +
      "< Content-Type: text/html\r\n< Content-Length: 19\r\n< Last-Modified: Tue, 24 Nov 2026 17:45:04 GMT\r\n" +
      "< Connection: keep-alive\r\n< ETag: \"6b05cd20-13\"\r\n< Accept-Ranges: bytes\r\n< \r\n" +
      "* Connection #0 to host 192.168.75.131 left intact\n");
    const nt = await lab().run(["curl", "-v", "192.168.75.131"], { tty: false });
    assert.ok(nt.err.includes("< \r\n{ [19 bytes data]\n* Connection #0"));
  });

  it("-sI and -s -D - print the headers as received", async () => {
    const l = lab();
    const r = await l.run(["curl", "-sI", "192.168.75.131"]);
    assert.equal(r.out,
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 24 Nov 2026 17:45:29 GMT\r\nContent-Type: text/html\r\n" +
      "Content-Length: 19\r\nLast-Modified: Tue, 24 Nov 2026 17:45:04 GMT\r\nConnection: keep-alive\r\n" +
      "ETag: \"6b05cd20-13\"\r\nAccept-Ranges: bytes\r\n\r\n");
    const d = await l.run(["curl", "-s", "-D", "-", "192.168.75.131"]);
    assert.ok(d.out.endsWith("Accept-Ranges: bytes\r\n\r\n2222222222222slave\n"));
  });

  it("resolves names through /etc/hosts; unknown names exit 6", async () => {
    const l = lab();
    const r = await l.run(["curl", "-s", "-w", "%{http_code} %{remote_ip}\\n", "http://vip/"]);
    assert.equal(r.code, 0);
    assert.equal(r.out, "2222222222222slave\n200 192.168.75.131\n");
    const bad = await l.run(["curl", "http://nohost/"]);
    assert.equal(bad.code, 6);
    assert.equal(bad.err, "curl: (6) Could not resolve host: nohost\n");
  });

  it("--interface binds the source address; an address not on the host exits 45", async () => {
    const l = lab();
    const r = await l.run(["curl", "-s", "--interface", "192.168.75.150", "-w", "%{local_ip}\\n", "http://192.168.75.131/"]);
    assert.equal(r.code, 0);
    assert.equal(r.out, "2222222222222slave\n192.168.75.150\n");
    const bad = await l.run(["curl", "--interface", "10.9.9.9", "http://192.168.75.131/"]);
    assert.equal(bad.code, 45);
    assert.equal(bad.err, "curl: (45) bind failed with errno 99: Cannot assign requested address\n");
  });

  it("connection refused: RST from the server, exit 7 with curl's text", async () => {
    const l = lab({ serve: false });
    const r = await l.run(["curl", "192.168.75.131"]);
    assert.equal(r.code, 7);
    assert.equal(r.err, "curl: (7) Failed to connect to 192.168.75.131 port 80 after 1 ms: Couldn't connect to server\n");
    assert.deepEqual(l.net.flags(), ["S", "R."]);
    const v = await l.run(["curl", "-v", "192.168.75.131"]);
    assert.equal(v.err,
      "*   Trying 192.168.75.131:80...\n" +
      "* connect to 192.168.75.131 port 80 failed: Connection refused\n" +
      "* Failed to connect to 192.168.75.131 port 80 after 1 ms: Couldn't connect to server\n" +
      "* Closing connection 0\n" +
      "curl: (7) Failed to connect to 192.168.75.131 port 80 after 1 ms: Couldn't connect to server\n");
    const s = await l.run(["curl", "-s", "192.168.75.131"]);
    assert.equal(s.err, "");
    assert.equal(s.code, 7);
  });

  it("--connect-timeout against a black hole: SYN retransmitted at 1 s and 3 s, exit 28", async () => {
    const l = lab();
    l.net.blackholes.add(VIP);
    const r = await l.run(["curl", "--connect-timeout", "5", "192.168.75.131"]);
    assert.equal(r.code, 28);
    assert.equal(r.err, "curl: (28) Connection timed out after 5001 milliseconds\n");
    assert.deepEqual(l.net.capture.map((c) => c.t / 1e6), [0, 1, 3]);
  });

  it("without a timeout the kernel gives up after 127 s: exit 28, Couldn't connect", async () => {
    const l = lab();
    l.net.blackholes.add(VIP);
    const r = await l.run(["curl", "192.168.75.131"]);
    assert.equal(r.code, 28);
    assert.equal(r.err, "curl: (28) Failed to connect to 192.168.75.131 port 80 after 127000 ms: Couldn't connect to server\n");
  });

  it("-m: operation timeout when the server never answers", async () => {
    const l = lab({ serve: false });
    l.server.listen({ port: 80 }, () => {});
    const r = await l.run(["curl", "-m", "2", "192.168.75.131"]);
    assert.equal(r.code, 28);
    assert.equal(r.err, "curl: (28) Operation timed out after 2001 milliseconds with 0 bytes received\n");
  });

  it("empty reply (52) and reset (56)", async () => {
    const l = lab({ serve: false });
    l.server.listen({ port: 80 }, (s) => {
      s.onData = () => s.close();
    });
    const r = await l.run(["curl", "192.168.75.131"]);
    assert.equal(r.code, 52);
    assert.equal(r.err, "curl: (52) Empty reply from server\n");
    const l2 = lab({ serve: false });
    l2.server.listen({ port: 80 }, (s) => {
      s.onData = () => s.abort();
    });
    const r2 = await l2.run(["curl", "192.168.75.131"]);
    assert.equal(r2.code, 56);
    assert.equal(r2.err, "curl: (56) Recv failure: Connection reset by peer\n");
  });

  it("two URLs reuse the kept-alive connection", async () => {
    const l = lab();
    const r = await l.run(["curl", "-sv", "192.168.75.131", "192.168.75.131/"]);
    assert.equal(r.out, "2222222222222slave\n2222222222222slave\n");
    assert.ok(r.err.includes("* Re-using existing connection #0 with host 192.168.75.131\n"));
    assert.equal(l.net.capture.filter((c) => c.seg.flags === 2).length, 1);
    assert.equal(l.log.length, 2);
  });

  it("-o writes the body to a file; -f fails on 404", async () => {
    const l = lab();
    const r = await l.run(["curl", "-s", "-o", "page.html", "192.168.75.131"]);
    assert.equal(r.out, "");
    assert.equal(new TextDecoder().decode(l.files.get("/root/page.html")), "2222222222222slave\n");
    const f = await l.run(["curl", "-sSf", "192.168.75.131/x"]);
    assert.equal(f.code, 22);
    assert.equal(f.err, "curl: (22) The requested URL returned error: 404\n");
  });

  it("usage errors: no URL, unknown option, bad URL, other protocols", async () => {
    const l = lab();
    assert.deepEqual(await l.run(["curl"]).then((r) => [r.code, r.err]),
      [2, "curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information\n"]);
    assert.deepEqual(await l.run(["curl", "--bogus", "x"]).then((r) => [r.code, r.err]),
      [2, "curl: option --bogus: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n"]);
    assert.deepEqual(await l.run(["curl", "http://:80/"]).then((r) => [r.code, r.err]),
      [3, "curl: (3) URL using bad/illegal format or missing URL\n"]);
    assert.deepEqual(await l.run(["curl", "ftp://x/"]).then((r) => [r.code, r.err]),
      [1, "curl: (1) Protocol \"ftp\" not supported or disabled in libcurl\n"]);
  });
});
