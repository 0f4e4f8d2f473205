/**
 * A real server's tunnel set-up commands against the real Linux 6.1 kernel and iproute2 6.1
 * (test/golden/kernel/tunnel-devices.{sh,out}): `ip fou` with and without the fou module,
 * its errors and its listing, the fallback devices `modprobe ip_gre` and `modprobe ipip` make,
 * and gre0 and tunl0 once up with an address; and `ip -o`, against the real `ip` in a
 * namespace of the test's own. The simulated host runs the same commands in
 * the same order; lsmod and ss are left out (lvslab's lsmod lists IPVS only; its ss has no
 * UDP sockets), and so is the kernel's IPv6 link-local line on gre0 (no IPv6 here).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { buildLabFile, buildLabText, normalizeCapture, repoPath, transcriptBlocks } from "./helpers.js";
import { realSkipReason } from "./real-helpers.js";
import { runCommand, runSteps } from "../src/lab/runner.js";
import { buildFrame, buildTcpPacket } from "../src/wire/testing.js";
import { emitIpv4 } from "../src/wire/index.js";
import { ip } from "../src/ipvs/test_util.js";

function sections(text: string): Map<string, string> {
  const m = new Map<string, string>();
  let cur: string | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("### ")) m.set((cur = line.slice(4)), "");
    else if (cur !== undefined) m.set(cur, m.get(cur)! + line + "\n");
  }
  return m;
}

test("tunnel devices and ip fou: the simulated host prints what the kernel recording printed", async () => {
  const script = readFileSync(repoPath("test/golden/kernel/tunnel-devices.sh"), "utf8");
  const kernel = sections(readFileSync(repoPath("test/golden/kernel/tunnel-devices.out"), "utf8"));
  // The recording's commands, without its namespace wrapper and the sections left out.
  const body = script
    .split("\n")
    .filter((l) => !l.startsWith("#") && !/^(set |ip netns add|ns\(\)|ns ip link set lo up)/.test(l))
    .filter((l) => !/lsmod|ss -uan|ip -d link/.test(l))
    .map((l) => l.replace(/\bns /g, ""))
    .join("\n");
  const lab = buildLabText("lab: tunnels\nhosts:\n  rs: {}\n", "tunnels.yaml");
  const host = lab.hosts.get("rs")!;
  host.fs.write("/root/t.sh", body);
  const r = await runCommand(host, "sh /root/t.sh 2>&1");
  assert.equal(r.exit, 0);
  const ours = sections(r.io.stdoutText);
  assert.ok(ours.size >= 20, `sections: ${[...ours.keys()].join(", ")}`);
  for (const [title, got] of ours) {
    const want = kernel.get(title);
    assert.ok(want !== undefined, `no section ${title} in the recording`);
    const drop = (t: string) => t.replace(/    inet6 fe80::.*\n.*\n/g, "");
    assert.equal(got, drop(want!), title);
  }
});

test("tunnel receive: what the kernel refuses is dropped and said, what it takes is taken apart", async () => {
  const lab = buildLabText(`lab: tunnels
segments:
  lan: { type: switch }
hosts:
  rs:
    nics:
      eth0: { segment: lan, addrs: [192.168.1.190/24] }
    services: [nginx]
  peer:
    nics:
      eth0: { segment: lan, addrs: [192.168.1.186/24] }
`, "tunnels.yaml");
  const rs = lab.hosts.get("rs")!;
  const setup = "modprobe ipip; modprobe ip_gre; modprobe fou; ip link set tunl0 up; ip link set gre0 up; " +
    "ip addr add 192.168.1.100/32 dev tunl0; ip addr add 192.168.1.101/32 dev gre0; ip fou add port 6080 gue; ip fou add port 5555 ipproto 47; " +
    "sysctl -q -w net.ipv4.conf.all.rp_filter=0";
  assert.equal((await runCommand(rs, setup)).exit, 0);
  const eth0 = rs.nics.get("eth0")!;
  const peerMac = lab.hosts.get("peer")!.nics.get("eth0")!.mac;
  const syn = (vip: string) => buildTcpPacket({ src: "192.168.1.186", sport: 40000, dst: vip, dport: 80, flags: "S", seq: 1 });
  const send = (protocol: number, payload: Uint8Array): void => {
    eth0.receive(buildFrame({ src: peerMac, dst: eth0.mac, payload: emitIpv4({ id: 1, ttl: 64, protocol, src: ip("192.168.1.186"), dst: ip("192.168.1.190") }, payload) }));
    lab.world.queue.runUntil(lab.world.now() + 1000);
  };
  const udp = (dport: number, body: Uint8Array, len = 8 + body.length) => new Uint8Array([0x9c, 0x40, dport >> 8, dport & 255, len >> 8, len & 255, 0, 0, ...body]);
  const drops = () => [...lab.world.trace.drops.keys()].filter((k) => k.startsWith("rs: ")).map((k) => k.slice(4));
  const taken = () => rs.nics.get("tunl0")!.stats.rxPackets + rs.nics.get("gre0")!.stats.rxPackets;

  // Taken: GRE to gre0; GUE (IPIP inside) to tunl0; FOU port 5555 carrying GRE to gre0.
  send(47, new Uint8Array([0, 0, 8, 0, ...syn("192.168.1.101")]));
  send(17, udp(6080, new Uint8Array([0, 4, 0, 0, ...syn("192.168.1.100")])));
  send(17, udp(5555, new Uint8Array([0, 0, 8, 0, ...syn("192.168.1.101")])));
  assert.equal(taken(), 3);
  assert.deepEqual(drops(), []);
  // Refused: GRE with the routing bit, GRE version 1, a GRE checksum that is wrong, GUE flags it
  // does not know, a GUE control message, UDP whose length field is more than it holds.
  send(47, new Uint8Array([0x40, 0, 8, 0, 0, 0, 0, 0, ...syn("192.168.1.101")]));
  send(47, new Uint8Array([0, 1, 8, 0, ...syn("192.168.1.101")]));
  send(47, new Uint8Array([0x80, 0, 8, 0, 0x12, 0x34, 0, 0, ...syn("192.168.1.101")]));
  send(17, udp(6080, new Uint8Array([0, 4, 0x80, 0, ...syn("192.168.1.100")])));
  send(17, udp(6080, new Uint8Array([0x20, 4, 0, 0, ...syn("192.168.1.100")])));
  send(17, udp(6080, new Uint8Array([0, 4, 0, 0, ...syn("192.168.1.100")]), 200));
  assert.equal(taken(), 3);
  assert.deepEqual(drops(), [
    "GRE header truncated, not version 0 or with routing",
    "GRE checksum is wrong",
    "GUE on UDP port 6080: flags it does not know or longer than its options",
    "GUE on UDP port 6080: a control message",
    "UDP length 200 does not fit the 52-byte datagram",
  ]);
  // GUE carrying a protocol nothing handles is named by that protocol.
  send(17, udp(6080, new Uint8Array([0, 99, 0, 0, ...syn("192.168.1.100")])));
  assert.ok(drops().includes("no handler for IP protocol 99"), drops().join(" | "));
});

test("tcpdump on tunl0: raw IP, the packets that came out of the tunnel, as the kernel's capture (lvs-tun, and rp_filter's drops)", async () => {
  const withTunCapture = (rel: string): string =>
    readFileSync(repoPath(rel), "utf8")
      .replace(/(\n  - \{ on: real_server2, run: "tcpdump -nn -e -i eth0 [^\n]*name: cap-rs2 \}\n)/, `$1  - { on: real_server2, run: "tcpdump -nn -i tunl0", background: true, name: cap-tun }\n`)
      .replace(/(\n  - \{ stop: cap-rs2 \}\n)/, "$1  - { stop: cap-tun }\n");
  const kernel = spawnSync("tcpdump", ["-nn", "-r", repoPath("test/golden/kernel/lvs-tun.ok.rs2-tunl0.pcap")], { encoding: "utf8" });
  const recorded = kernel.status === 0 ? normalizeCapture(kernel.stdout) : undefined;
  for (const [rel, want] of [["labs/lvs-tun.yaml", recorded?.slice(0, 12)], ["labs/lvs-tun-rp-filter.yaml", recorded?.slice(12)]] as const) {
    const text = withTunCapture(rel);
    assert.ok(text.includes("name: cap-tun"), rel);
    const lab = buildLabText(text, rel);
    let transcript = "";
    const report = await runSteps(lab, { out: (s) => (transcript += s) });
    assert.ok(report.steps.every((s) => s.ok), rel);
    const block = transcriptBlocks(transcript).find((b) => b.prompt.includes("tcpdump -nn -i tunl0"))!.output;
    assert.match(block, /^listening on tunl0, link-type RAW \(Raw IP\), snapshot length 262144 bytes$/m);
    const ours = normalizeCapture(block);
    assert.ok(ours.length >= 4, rel);
    // The recording's pcaps (tcpdump 4.99.3 -nn -r) when tcpdump is installed: the first 12
    // packets are the working lab's two connections, the last 4 the broken lab's SYNs.
    if (want) assert.deepEqual(rel.includes("rp-filter") ? ours.slice(0, 4) : ours, want, rel);
  }
});

test("ip -o: one record per line as the real iproute2 6.1 prints it (compared in a namespace of our own)", { skip: realSkipReason(["ip"]) }, async () => {
  const ns = `lvslab-iponeline-${process.pid}`;
  const real = (args: string[]): string => {
    const r = spawnSync("ip", ["-n", ns, ...args], { encoding: "utf8" });
    assert.equal(r.status, 0, `ip ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    assert.equal(spawnSync("ip", ["netns", "add", ns]).status, 0);
    real(["link", "set", "lo", "up"]);
    real(["link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"]);
    real(["link", "set", "eth0", "address", "00:0c:29:00:01:50"]);
    real(["addr", "add", "192.168.1.150/24", "brd", "+", "dev", "eth0"]);
    real(["addr", "add", "192.168.1.100/32", "dev", "lo"]);
    const lab = buildLabFile("labs/lvs-tun.yaml");
    const client = lab.hosts.get("client")!;
    assert.equal((await runCommand(client, "ip addr add 192.168.1.100/32 dev lo")).exit, 0);
    const noV6 = (t: string) => t.split("\n").filter((l) => !l.includes(" inet6 ")).join("\n");
    // The namespace's second NIC is eth0's peer: the interface indexes are made to agree.
    const ours = async (cmd: string) => (await runCommand(client, cmd)).io.stdoutText.replace(/^2: /gm, "IDX: ");
    const theirs = (args: string[]) => noV6(real(args)).replace(/^\d+: eth0/gm, "IDX: eth0");
    for (const args of [["-o", "addr", "show"], ["-o", "-4", "addr", "show"], ["-o", "-4", "addr", "show", "dev", "eth0"], ["-oneline", "address", "show", "lo"]])
      assert.equal(await ours(`ip ${args.join(" ")}`), theirs(args), args.join(" "));
    // Links: the same shape, "\" before the link line.
    const link = real(["-o", "link", "show", "lo"]);
    assert.equal((await runCommand(client, "ip -o link show lo")).io.stdoutText, link);
  } finally {
    spawnSync("ip", ["netns", "del", ns]);
  }
});

test("ip fou help / ip fou with nothing: iproute2's usage, exit 255, with or without the module", { skip: realSkipReason(["ip"]) }, async () => {
  const real = spawnSync("ip", ["fou", "help"], { encoding: "utf8" });
  assert.equal(real.status, 255);
  assert.match(real.stderr, /^Usage: ip fou add port PORT/);
  const lab = buildLabText("lab: tunnels\nhosts:\n  rs: {}\n", "tunnels.yaml");
  const rs = lab.hosts.get("rs")!;
  for (const cmd of ["ip fou help", "ip fou", "modprobe fou; ip fou help"]) {
    const r = await runCommand(rs, cmd);
    assert.deepEqual([r.exit, r.io.stdoutText, r.io.stderrText], [255, "", real.stderr], cmd);
  }
});
