import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseIp4 } from "../wire/addr.js";
import { emitIpv4 } from "../wire/ipv4.js";
import { TCP_ACK, TCP_SYN, emitTcp } from "../wire/tcp.js";
import type { TcpSocket } from "./socket.js";
import { TestNet, maskTs } from "./testing.js";

const CIP = parseIp4("192.168.75.150")!;
const VIP = parseIp4("192.168.75.131")!;

const REQ = "GET / HTTP/1.1\r\nHost: 192.168.75.131\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
const RESP = "x".repeat(255);

/** The seed exchange: curl-like client, nginx-like server answering 1 ms after the request. */
function seedExchange(net: TestNet, respLen = 255) {
  const client = net.addHost(CIP);
  const server = net.addHost(VIP);
  const events: string[] = [];
  server.listen({ port: 80 }, (s) => {
    s.onData = () => {
      server.schedule(server.now() + 1000, () => s.send("y".repeat(respLen)));
    };
    s.onEnd = () => s.close();
    s.onClose = (e) => events.push(`server closed ${e ?? "ok"}`);
  });
  let got = 0;
  const c = client.connect({ dst: VIP, dport: 80, noDelay: true });
  c.onConnect = () => {
    events.push("connected");
    c.send(REQ);
  };
  c.onData = (b) => {
    got += b.length;
    if (got === respLen) client.schedule(client.now() + 10_000, () => c.close());
  };
  c.onClose = (e) => events.push(`client closed ${e ?? "ok"}`);
  return { client, server, c, events };
}

describe("TcpStack path MTU", () => {
  it("an established connection follows its route's MTU on the next send (tcp_current_mss), down and back up", () => {
    const net = new TestNet();
    let mtu = 1500;
    const client = net.addHost(CIP, { mtu: () => mtu });
    const server = net.addHost(VIP);
    server.listen({ port: 80 }, () => {});
    const c = client.connect({ dst: VIP, dport: 80, noDelay: true });
    net.run(10_000);
    const sizes = () => net.capture.filter((x) => x.src === CIP && x.seg.payload.length > 0).map((x) => x.seg.payload.length);
    c.send("a".repeat(3000));
    net.run(50_000);
    assert.deepEqual(sizes(), [1448, 1448, 104]);
    // Another socket learnt a path MTU of 1400 for this destination.
    mtu = 1400;
    c.send("b".repeat(3000));
    net.run(100_000);
    assert.deepEqual(sizes().slice(3), [1348, 1348, 304]);
    // It expired.
    mtu = 1500;
    c.send("c".repeat(1500));
    net.run(150_000);
    assert.deepEqual(sizes().slice(6), [1448, 52]);
  });
});

describe("TcpStack handshake and close", () => {
  it("matches the real kernel's flag sequence, options and windows (seed-nat golden)", () => {
    const net = new TestNet();
    const { c, events } = seedExchange(net);
    net.run(1_000_000);
    const lines = net.lines().map(maskTs);
    const port = c.localPort;
    const golden = [
      `IP 192.168.75.150.${port} > 192.168.75.131.80: Flags [S], seq S1, win 64240, options [mss 1460,sackOK,TS val _ ecr 0,nop,wscale 7], length 0`,
      `IP 192.168.75.131.80 > 192.168.75.150.${port}: Flags [S.], seq S2, ack S1+1, win 65160, options [mss 1460,sackOK,TS val _ ecr _,nop,wscale 7], length 0`,
      `IP 192.168.75.150.${port} > 192.168.75.131.80: Flags [.], ack 1, win 502, options [nop,nop,TS val _ ecr _], length 0`,
      `IP 192.168.75.150.${port} > 192.168.75.131.80: Flags [P.], seq 1:79, ack 1, win 502, options [nop,nop,TS val _ ecr _], length 78`,
      `IP 192.168.75.131.80 > 192.168.75.150.${port}: Flags [.], ack 79, win 509, options [nop,nop,TS val _ ecr _], length 0`,
      `IP 192.168.75.131.80 > 192.168.75.150.${port}: Flags [P.], seq 1:256, ack 79, win 509, options [nop,nop,TS val _ ecr _], length 255`,
      `IP 192.168.75.150.${port} > 192.168.75.131.80: Flags [.], ack 256, win 501, options [nop,nop,TS val _ ecr _], length 0`,
      `IP 192.168.75.150.${port} > 192.168.75.131.80: Flags [F.], seq 79, ack 256, win 501, options [nop,nop,TS val _ ecr _], length 0`,
      `IP 192.168.75.131.80 > 192.168.75.150.${port}: Flags [F.], seq 256, ack 80, win 509, options [nop,nop,TS val _ ecr _], length 0`,
      `IP 192.168.75.150.${port} > 192.168.75.131.80: Flags [.], ack 257, win 501, options [nop,nop,TS val _ ecr _], length 0`,
    ];
    const syn = net.capture[0]!.seg;
    const synack = net.capture[1]!.seg;
    const norm = (l: string) =>
      l.replace(`seq ${syn.seq}`, "seq S1").replace(`seq ${synack.seq}`, "seq S2").replace(`ack ${(syn.seq + 1) >>> 0}`, "ack S1+1");
    assert.deepEqual(lines.map(norm), golden);
    assert.deepEqual(events, ["connected", "client closed ok", "server closed ok"]);
  });

  it("echoes TS values and uses one TS offset per address pair", () => {
    const net = new TestNet();
    seedExchange(net);
    net.run(1_000_000);
    const ts = net.capture.map((c) => c.seg.options.find((o) => o.kind === "timestamp")!);
    const t = (i: number) => ts[i] as { val: number; ecr: number };
    assert.equal(t(1).ecr, t(0).val);
    assert.equal(t(2).ecr, t(1).val);
    assert.equal(t(4).ecr, t(3).val);
    // The server's FIN echoes the client's FIN.
    assert.equal(t(8).ecr, t(7).val);
    // A second connection between the same pair keeps the same offset (ms clock + offset).
    const net2 = new TestNet();
    const a = seedExchange(net2);
    net2.run(1_000_000);
    net2.q.runUntil(5_000_000);
    const c2 = a.client.connect({ dst: VIP, dport: 80 });
    net2.run(5_100_000);
    const syn2 = net2.capture.find((c) => c.seg.srcPort === c2.localPort)!;
    const ts2 = syn2.seg.options.find((o) => o.kind === "timestamp") as { val: number };
    const ts1 = net2.capture[0]!.seg.options.find((o) => o.kind === "timestamp") as { val: number };
    assert.equal((ts2.val - ts1.val) >>> 0, 5000);
  });

  it("enters TIME_WAIT on the active closer for 60 s", () => {
    const net = new TestNet();
    const { client, server } = seedExchange(net);
    net.run(1_000_000);
    assert.deepEqual(client.sockets().map((s) => s.state), ["TIME_WAIT"]);
    assert.deepEqual(server.sockets().map((s) => s.state), ["LISTEN"]);
    net.run(61_100_000);
    assert.deepEqual(client.sockets(), []);
    const snmp = client.snmp();
    assert.equal(snmp.ActiveOpens, 1);
    assert.equal(server.snmp().PassiveOpens, 1);
    assert.equal(snmp.OutSegs, 6);
    assert.equal(server.snmp().OutSegs, 4);
    assert.equal(snmp.InSegs, 4);
  });

  it("ephemeral ports are even and inside ip_local_port_range", () => {
    const net = new TestNet();
    const client = net.addHost(CIP);
    net.addHost(VIP).listen({ port: 80 }, () => {});
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(client.connect({ dst: VIP, dport: 80 }).localPort);
    for (const p of ports) {
      assert.equal(p % 2, 0);
      assert.ok(p >= 32768 && p <= 60999);
    }
    assert.equal(new Set(ports).size, ports.length);
    // Consecutive picks for one destination move forward by small even steps (2..16).
    for (let i = 1; i < ports.length; i++) {
      const d = (ports[i]! - ports[i - 1]! + 28232) % 28232;
      assert.ok(d >= 2 && d <= 16, `step ${d}`);
    }
  });

  it("larger responses are cut at the MSS, PSH on the last segment; receiver ACKs every other", () => {
    const net = new TestNet();
    seedExchange(net, 5000);
    net.run(1_000_000);
    const data = net.capture.filter((c) => c.src === VIP && c.seg.payload.length > 0);
    assert.deepEqual(data.map((c) => c.seg.payload.length), [1448, 1448, 1448, 656]);
    assert.deepEqual(data.map((c) => c.seg.flags), [TCP_ACK, TCP_ACK, TCP_ACK, TCP_ACK | 8]);
    // Quick-ack mode at connection start: each segment is acknowledged.
    const acks = net.capture.filter((c) => c.src === CIP && c.seg.flags === TCP_ACK && c.seg.ack !== net.capture[1]!.seg.seq + 1);
    assert.ok(acks.length >= 2);
  });
});

describe("TcpStack resets and errors", () => {
  it("answers a SYN to a closed port with RST,ACK (ack = seq + 1); connect fails ECONNREFUSED", async () => {
    const net = new TestNet();
    const client = net.addHost(CIP);
    const server = net.addHost(VIP);
    const c = client.connect({ dst: VIP, dport: 81 });
    const r = c.connected();
    await net.drive(() => c.state === "CLOSED");
    assert.equal(await r, "ECONNREFUSED");
    const rst = net.capture[1]!;
    assert.equal(rst.seg.flags, 0x14);
    assert.equal(rst.seg.seq, 0);
    assert.equal(rst.seg.ack, (net.capture[0]!.seg.seq + 1) >>> 0);
    assert.equal(rst.seg.window, 0);
    assert.deepEqual(rst.seg.options, []);
    assert.equal(server.snmp().OutRsts, 1);
    assert.equal(client.snmp().AttemptFails, 1);
  });

  it("answers a stray ACK with a bare RST (seq = its ack)", () => {
    const net = new TestNet();
    net.addHost(CIP);
    const server = net.addHost(VIP);
    server.input(CIP, VIP, emitTcp({ srcPort: 40000, dstPort: 80, seq: 10, ack: 12345, flags: TCP_ACK, window: 100 }, CIP, VIP));
    const rst = net.capture[0]!.seg;
    assert.equal(rst.flags, 4);
    assert.equal(rst.seq, 12345);
  });

  it("drops segments with a bad checksum and counts InErrs/InCsumErrors", () => {
    const net = new TestNet();
    const server = net.addHost(VIP);
    server.listen({ port: 80 }, () => {});
    const seg = emitTcp({ srcPort: 40000, dstPort: 80, seq: 10, flags: TCP_SYN, window: 100 }, CIP, VIP);
    seg[16] ^= 0xff;
    server.input(CIP, VIP, seg);
    assert.equal(net.capture.length, 0);
    const s = server.snmp();
    assert.equal(s.InSegs, 1);
    assert.equal(s.InErrs, 1);
    assert.equal(s.InCsumErrors, 1);
  });

  it("retransmits the SYN at 1, 3, 7, 15, 31, 63 s and fails with ETIMEDOUT at 127 s", async () => {
    const net = new TestNet();
    const client = net.addHost(CIP);
    net.blackholes.add(VIP);
    const c = client.connect({ dst: VIP, dport: 80 });
    const r = c.connected();
    let endAt = 0;
    c.onClose = () => (endAt = net.q.now());
    await net.drive(() => c.state === "CLOSED");
    assert.equal(await r, "ETIMEDOUT");
    assert.deepEqual(net.capture.map((x) => x.t / 1e6), [0, 1, 3, 7, 15, 31, 63]);
    assert.ok(net.capture.every((x) => x.seg.seq === net.capture[0]!.seg.seq));
    assert.equal(endAt, 127_000_000);
    assert.equal(client.snmp().RetransSegs, 6);
    assert.equal(client.snmp().AttemptFails, 1);
  });

  it("honours tcp_syn_retries", async () => {
    const net = new TestNet();
    const client = net.addHost(CIP, { sysctl: { "net.ipv4.tcp_syn_retries": "2" } });
    net.blackholes.add(VIP);
    const c = client.connect({ dst: VIP, dport: 80 });
    await net.drive(() => c.state === "CLOSED");
    assert.equal(c.error, "ETIMEDOUT");
    assert.equal(net.q.now(), 7_000_000);
  });

  it("maps ICMP port/host unreachable to ECONNREFUSED/EHOSTUNREACH for SYN_SENT", () => {
    for (const [code, err] of [[3, "ECONNREFUSED"], [1, "EHOSTUNREACH"], [0, "ENETUNREACH"]] as const) {
      const net = new TestNet();
      const client = net.addHost(CIP);
      net.blackholes.add(VIP);
      const c = client.connect({ dst: VIP, dport: 80 });
      const synBytes = emitTcp({ srcPort: c.localPort, dstPort: 80, seq: net.capture[0]!.seg.seq, flags: TCP_SYN }, CIP, VIP);
      const ip = emitIpv4({ id: 1, ttl: 64, protocol: 6, src: CIP, dst: VIP }, synBytes);
      let closed: string | undefined;
      c.onClose = (e) => (closed = e);
      client.icmpError(3, code, ip.subarray(0, 28));
      assert.equal(c.state, "CLOSED");
      assert.equal(closed, err);
    }
  });

  it("abort() sends RST,ACK and the peer sees ECONNRESET", () => {
    const net = new TestNet();
    const client = net.addHost(CIP);
    const server = net.addHost(VIP);
    let srv: TcpSocket | undefined;
    let err: string | undefined;
    server.listen({ port: 80 }, (s) => {
      srv = s;
      s.onClose = (e) => (err = e);
    });
    const c = client.connect({ dst: VIP, dport: 80 });
    net.run(10_000);
    c.abort();
    net.run(20_000);
    assert.equal(srv!.state, "CLOSED");
    assert.equal(err, "ECONNRESET");
    assert.equal(net.capture[net.capture.length - 1]!.seg.flags, 0x14);
    assert.equal(server.snmp().EstabResets, 1);
  });

  it("retransmits lost data after the RTO and recovers", () => {
    const net = new TestNet();
    let dropped = false;
    net.drop = (c) => {
      if (!dropped && c.src === VIP && c.seg.payload.length > 0) {
        dropped = true;
        return true;
      }
      return false;
    };
    const { client } = seedExchange(net);
    net.run(2_000_000);
    const data = net.capture.filter((c) => c.src === VIP && c.seg.payload.length > 0);
    assert.equal(data.length, 2);
    const gap = data[1]!.t - data[0]!.t;
    assert.ok(gap >= 200_000 && gap < 300_000, `rto ${gap}`);
    assert.deepEqual(client.sockets().map((s) => s.state), ["TIME_WAIT"]);
  });
});

describe("TcpStack TOA", () => {
  it("getpeername() returns the TOA address of the handshake-completing ACK when the module is on", () => {
    const net = new TestNet();
    const lip = parseIp4("192.168.1.186")!;
    const rs = net.addHost(VIP);
    rs.toaEnabled = true;
    let peer: { addr: number; port: number } | undefined;
    let acc: TcpSocket | undefined;
    rs.listen({ port: 80 }, (s) => {
      acc = s;
      peer = s.getpeername();
    });
    rs.input(lip, VIP, emitTcp({ srcPort: 5001, dstPort: 80, seq: 1000, flags: TCP_SYN, window: 64240,
      options: [{ kind: "toa", port: 54321, addr: CIP }, { kind: "mss", value: 1460 }] }, lip, VIP));
    const synack = net.capture[0]!.seg;
    assert.equal(synack.flags, TCP_SYN | TCP_ACK);
    rs.input(lip, VIP, emitTcp({ srcPort: 5001, dstPort: 80, seq: 1001, ack: synack.seq + 1, flags: TCP_ACK, window: 502,
      options: [{ kind: "toa", port: 54321, addr: CIP }] }, lip, VIP));
    assert.deepEqual(peer, { addr: CIP, port: 54321 });
    assert.equal(acc!.remoteAddr, lip);
    assert.equal(acc!.synOptions[0]!.kind, "toa");
    assert.equal(rs.toaStats.syn_recv_sock_toa, 1);
    rs.toaEnabled = false;
    assert.deepEqual(acc!.getpeername(), { addr: lip, port: 5001 });
  });
});

describe("TcpStack data path", () => {
  function bulk(net: TestNet, size: number, read: boolean) {
    const client = net.addHost(CIP);
    const server = net.addHost(VIP);
    server.listen({ port: 80 }, (s) => {
      s.onData = () => s.send(new Uint8Array(size).fill(7));
      s.onEnd = () => s.close();
    });
    const c = client.connect({ dst: VIP, dport: 80 });
    let got = 0;
    c.onConnect = () => c.send("GET");
    if (read) c.onData = (b) => (got += b.length);
    return { client, server, c, got: () => got };
  }

  it("moves 1 MB, growing the advertised window", () => {
    const net = new TestNet();
    const b = bulk(net, 1_000_000, true);
    net.run(1_000_000);
    assert.equal(b.got(), 1_000_000);
    const wins = net.capture.filter((c) => c.src === CIP && !(c.seg.flags & TCP_SYN)).map((c) => c.seg.window);
    assert.ok(Math.max(...wins) > 1000, `window grew to ${Math.max(...wins)}`);
  });

  it("recovers two losses by fast retransmit and a NewReno partial ACK (no RTO)", () => {
    const net = new TestNet();
    let n = 0;
    net.drop = (c) => c.src === VIP && c.seg.payload.length > 0 && (++n === 30 || n === 31);
    const b = bulk(net, 200_000, true);
    net.run(50_000);
    assert.equal(b.got(), 200_000);
    assert.equal(b.server.snmp().RetransSegs, 2);
    assert.equal(b.server.ext.TCPTimeouts, 0);
    // The receiver sent duplicate ACKs carrying SACK blocks.
    assert.ok(net.capture.some((c) => c.src === CIP && c.seg.options.some((o) => o.kind === "sack")));
  });

  it("a receiver that does not read closes the window; probes follow; reading reopens it", async () => {
    const net = new TestNet();
    const b = bulk(net, 300_000, false);
    net.run(2_000_000);
    const fromClient = net.capture.filter((c) => c.src === CIP);
    assert.equal(fromClient[fromClient.length - 1]!.seg.window, 0);
    const probes = net.capture.filter((c) => c.src === VIP && c.t > 100_000);
    assert.ok(probes.length >= 2, "zero-window probes");
    let total = 0;
    for (;;) {
      const p = b.c.read();
      await net.drive(() => false, net.q.now() + 5_000);
      const r = await p;
      if (r === null) break;
      total += r.length;
      if (total >= 300_000) break;
    }
    assert.equal(total, 300_000);
  });
});
