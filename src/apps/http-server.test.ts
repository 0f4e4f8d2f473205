import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TestNet, maskTs } from "../tcp/testing.js";
import { parseIp4 } from "../wire/addr.js";
import { emitProxyV2 } from "../wire/proxy.js";
import { type HttpServerOptions, httpDate, nginxErrorPage, startHttpServer, unknownLogVariables } from "./http-server.js";

const CIP = parseIp4("192.168.75.150")!;
const RIP = parseIp4("192.168.1.190")!;
/** 24 Nov 2026 17:45:22 UTC, the golden capture's Date. */
const T0 = Date.UTC(2026, 10, 24, 17, 45, 22) * 1000;
const MTIME = 0x6b05cd20; // Last-Modified: Tue, 24 Nov 2026 17:45:04 GMT

const enc = new TextEncoder();
const dec = new TextDecoder();

function setup(extra: Partial<HttpServerOptions> = {}) {
  const net = new TestNet();
  const client = net.addHost(CIP);
  const tcp = net.addHost(RIP);
  const log: string[] = [];
  const files = new Map<string, Uint8Array>([
    ["/usr/share/nginx/html/index.html", enc.encode("2222222222222slave\n")],
    ["/usr/share/nginx/html/a.txt", enc.encode("hello")],
  ]);
  const srv = startHttpServer({
    tcp,
    readFile: (p) => {
      const d = files.get(p);
      return d && { data: d, mtime: MTIME };
    },
    isDir: (p) => p === "/usr/share/nginx/html/dir",
    epochMicros: (t) => T0 + t,
    log: (l) => log.push(l),
    ...extra,
  });
  if (typeof srv === "string") throw new Error(srv);
  /** Sends `reqs` one after the other on one connection; collects the response bytes. */
  const exchange = (reqs: string[], opts: { closeAfter?: boolean } = {}) => {
    const c = client.connect({ dst: RIP, dport: 80, noDelay: true });
    let got = "";
    let ended = false;
    c.onConnect = () => c.send(reqs.shift()!);
    c.onData = (b) => {
      got += dec.decode(b);
      if (reqs.length > 0) c.send(reqs.shift()!);
      else if (opts.closeAfter !== false) client.schedule(client.now() + 5000, () => c.close());
    };
    c.onEnd = () => {
      ended = true;
      c.close();
    };
    return { c, result: () => ({ got, ended }) };
  };
  return { net, client, tcp, srv, log, exchange };
}

const GET = "GET / HTTP/1.1\r\nHost: 192.168.75.131\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

describe("nginx-like HTTP server", () => {
  it("answers GET / with nginx 1.22.1's exact header bytes (seed-nat golden)", () => {
    const { net, exchange, log } = setup();
    const x = exchange([GET]);
    net.run(1_000_000);
    assert.equal(x.result().got,
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 24 Nov 2026 17:45:22 GMT\r\n" +
      "Content-Type: text/html\r\nContent-Length: 19\r\nLast-Modified: Tue, 24 Nov 2026 17:45:04 GMT\r\n" +
      "Connection: keep-alive\r\nETag: \"6b05cd20-13\"\r\nAccept-Ranges: bytes\r\n\r\n2222222222222slave\n");
    assert.deepEqual(log, [
      '192.168.75.150 - - [24/Nov/2026:17:45:22 +0000] "GET / HTTP/1.1" 200 19 "-" "curl/7.88.1"',
    ]);
    // 255 bytes in one segment, as in the golden capture (header + body in one write).
    const data = net.capture.filter((c) => c.src === RIP && c.seg.payload.length > 0);
    assert.deepEqual(data.map((c) => c.seg.payload.length), [255]);
  });

  it("puts the seed's flag sequence on the wire: S, S., ., P., ., P., ., F., F., .", () => {
    const { net, exchange } = setup();
    exchange([GET]);
    net.run(1_000_000);
    assert.deepEqual(net.flags(), ["S", "S.", ".", "P.", ".", "P.", ".", "F.", "F.", "."]);
    const wins = net.lines().map(maskTs).map((l) => /win (\d+)/.exec(l)![1]);
    assert.deepEqual(wins, ["64240", "65160", "502", "502", "509", "509", "501", "501", "509", "501"]);
  });

  it("HEAD gives the headers only and logs 0 bytes", () => {
    const { net, exchange, log } = setup();
    const x = exchange([GET.replace("GET", "HEAD")]);
    net.run(1_000_000);
    assert.ok(x.result().got.endsWith("Accept-Ranges: bytes\r\n\r\n"));
    assert.match(log[0]!, /"HEAD \/ HTTP\/1.1" 200 0 /);
  });

  it("keeps the connection alive across requests and logs each", () => {
    const { net, exchange, log, srv } = setup();
    const x = exchange([GET, GET.replace("GET /", "GET /a.txt")]);
    net.run(1_000_000);
    const got = x.result().got;
    assert.equal(got.split("HTTP/1.1 200 OK").length, 3);
    assert.ok(got.includes("Content-Type: text/plain\r\nContent-Length: 5\r\n"));
    assert.equal(log.length, 2);
    assert.equal(srv.connections, 1);
    assert.equal(net.capture.filter((c) => c.seg.flags === 2).length, 1);
  });

  it("404 and 405 pages as nginx prints them, keep-alive", () => {
    const { net, exchange, log } = setup();
    const x = exchange([GET.replace("GET /", "GET /nope"), GET.replace("GET", "POST")]);
    net.run(1_000_000);
    const page404 = nginxErrorPage(404);
    assert.equal(page404, "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n");
    assert.equal(page404.length, 153);
    const got = x.result().got;
    assert.ok(got.startsWith("HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\nDate: Tue, 24 Nov 2026 17:45:22 GMT\r\nContent-Type: text/html\r\nContent-Length: 153\r\nConnection: keep-alive\r\n\r\n" + page404));
    assert.ok(got.includes("HTTP/1.1 405 Not Allowed\r\n"));
    assert.ok(got.includes("<center><h1>405 Not Allowed</h1></center>"));
    assert.match(log[0]!, /"GET \/nope HTTP\/1.1" 404 153 /);
    assert.match(log[1]!, /"POST \/ HTTP\/1.1" 405 157 /);
  });

  it("400 for a garbage request line, with Connection: close and a server FIN", () => {
    const { net, exchange, log } = setup();
    const x = exchange(["hello\r\n\r\n"], { closeAfter: false });
    net.run(1_000_000);
    const r = x.result();
    assert.ok(r.got.startsWith("HTTP/1.1 400 Bad Request\r\n"));
    assert.ok(r.got.includes("Connection: close\r\n"));
    assert.ok(r.ended);
    assert.match(log[0]!, /"hello" 400 157 "-" "-"$/);
  });

  it("301 for a directory without the slash; 304 for a matching ETag", () => {
    const { net, exchange } = setup();
    const x = exchange([GET.replace("GET /", "GET /dir"), GET.replace("\r\n\r\n", '\r\nIf-None-Match: "6b05cd20-13"\r\n\r\n')]);
    net.run(1_000_000);
    const got = x.result().got;
    assert.ok(got.includes("HTTP/1.1 301 Moved Permanently\r\n"));
    assert.ok(got.includes("Content-Length: 169\r\nLocation: http://192.168.75.131/dir/\r\nConnection: keep-alive\r\n"));
    assert.ok(got.includes("HTTP/1.1 304 Not Modified\r\nServer: nginx/1.22.1\r\nDate: Tue, 24 Nov 2026 17:45:22 GMT\r\nLast-Modified: Tue, 24 Nov 2026 17:45:04 GMT\r\nConnection: keep-alive\r\nETag: \"6b05cd20-13\"\r\n\r\n"));
  });

  it("closes an idle keep-alive connection after 75 s", () => {
    const { net, exchange } = setup();
    const x = exchange([GET], { closeAfter: false });
    net.run(70_000_000);
    assert.equal(x.result().ended, false);
    net.run(80_000_000);
    assert.equal(x.result().ended, true);
  });

  it("uses the TOA address in the access log when the toa module is loaded", () => {
    const { net, exchange, log, tcp } = setup();
    tcp.toaEnabled = true; // no TOA option carried: the real peer is logged
    exchange([GET]);
    net.run(1_000_000);
    assert.match(log[0]!, /^192\.168\.75\.150 /);
  });

  it("formats dates like nginx", () => {
    assert.equal(httpDate(MTIME), "Tue, 24 Nov 2026 17:45:04 GMT");
  });

  it("listen ... proxy_protocol: a v1 line, then the request; $proxy_protocol_addr in the log_format", () => {
    const { net, exchange, log } = setup({
      proxyProtocol: true,
      logFormat: '$proxy_protocol_addr:$proxy_protocol_port -> $proxy_protocol_server_addr:$proxy_protocol_server_port via $remote_addr "$request" $status',
    });
    const x = exchange(["PROXY TCP4 10.1.2.3 192.168.75.131 40000 80\r\n" + GET]);
    net.run(1_000_000);
    assert.match(x.result().got, /^HTTP\/1\.1 200 OK\r\n/);
    assert.deepEqual(log, ['10.1.2.3:40000 -> 192.168.75.131:80 via 192.168.75.150 "GET / HTTP/1.1" 200']);
  });

  it("proxy_protocol: a v2 header (binary, as HAProxy or DPVS send it) works the same", () => {
    const { net, client, log } = setup({ proxyProtocol: true, logFormat: "$proxy_protocol_addr $remote_addr $status" });
    const c = client.connect({ dst: RIP, dport: 80, noDelay: true });
    let got = "";
    c.onConnect = () => {
      const h = emitProxyV2(parseIp4("172.16.0.9")!, parseIp4("192.168.75.131")!, 1234, 80);
      const b = new Uint8Array(h.length + GET.length);
      b.set(h);
      b.set(enc.encode(GET), h.length);
      c.send(b);
    };
    c.onData = (b) => void (got += dec.decode(b));
    net.run(1_000_000);
    assert.match(got, /^HTTP\/1\.1 200 OK/);
    assert.deepEqual(log, ["172.16.0.9 192.168.75.150 200"]);
  });

  it("proxy_protocol without a header: \"broken header\" in the error log, the connection closed unanswered", () => {
    const errors: string[] = [];
    const { net, exchange, log } = setup({ proxyProtocol: true, errorLog: (l) => errors.push(l), pid: 4242 });
    const x = exchange([GET], { closeAfter: false });
    net.run(1_000_000);
    assert.deepEqual(x.result(), { got: "", ended: true });
    assert.deepEqual(log, []);
    assert.deepEqual(errors, [`2026/11/24 17:45:22 [error] 4242#4242: *1 broken header: "${GET}" while reading PROXY protocol, client: 192.168.75.150, server: 0.0.0.0:80`]);
  });

  it("a log_format with a variable nginx does not know is refused by name", () => {
    assert.deepEqual(unknownLogVariables('$remote_addr ${proxy_protocol_addr} $http_x_forwarded_for $bogus'), ["bogus"]);
  });
});
