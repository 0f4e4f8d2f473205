/**
 * MTU handling of the IPv4 path outside IPVS: a router refuses a DF packet that does not
 * fit its next hop ("fragmentation needed" with that hop's MTU), the sender learns the path
 * MTU, a packet without DF is fragmented and reassembled at its destination, and
 * `ip link set dev X mtu N` changes what fits. Client 10.0.1.2 — router 10.0.1.1 / 10.0.2.1
 * (eth1 MTU 1400) — server 10.0.2.2 (MTU 1400).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSteps } from "../src/lab/runner.js";
import { buildLabText, transcriptBlocks } from "./helpers.js";

const LAB = `
lab: mtu-router
seed: 3
segments:
  a: { type: switch, latency: 50us }
  b: { type: switch, latency: 50us }
hosts:
  client:
    nics:
      eth0: { segment: a, addrs: [10.0.1.2/24] }
    routes:
      - { to: default, via: 10.0.1.1 }
  router:
    nics:
      eth0: { segment: a, addrs: [10.0.1.1/24] }
      eth1: { segment: b, addrs: [10.0.2.1/24], mtu: 1400 }
  server:
    nics:
      eth0: { segment: b, addrs: [10.0.2.2/24], mtu: 1400 }
    routes:
      - { to: default, via: 10.0.2.1 }
steps:
  - { on: router, run: "sysctl -q -w net.ipv4.ip_forward=1", expect: { exit: 0 } }
  - { on: router, run: "tcpdump -nn -i eth1 -v icmp", background: true, name: cap }
  - { on: client, run: "ping -c 2 -s 1472 10.0.2.2" }
  - { on: client, run: "ip route get 10.0.2.2" }
  - { on: client, run: "ping -c 1 -s 1000 10.0.2.2" }
  - { on: router, run: "ip link set dev eth1 mtu 1300" }
  - { on: router, run: "ip link show eth1" }
  - { sleep: 1s }
  - { stop: cap }
  - { on: router, run: "cat /proc/net/snmp" }
  - { on: server, run: "cat /proc/net/snmp" }
`;

async function run(): Promise<{ out: (cmd: string, host?: string) => string; lab: ReturnType<typeof buildLabText> }> {
  const lab = buildLabText(LAB, "mtu-router.yaml");
  let t = "";
  const report = await runSteps(lab, { out: (s) => (t += s) });
  assert.deepEqual(report.steps.filter((s) => !s.ok), []);
  const blocks = transcriptBlocks(t);
  return {
    lab,
    out: (cmd, host = "client") => blocks.filter((b) => b.prompt === `[root@${host} ~]# ${cmd}`).at(-1)?.output ?? "",
  };
}

test("a router answers a DF packet too big for its next hop with 'Frag needed and DF set (mtu = 1400)'; the next echo goes in fragments", async () => {
  const { out, lab } = await run();
  const ping = out("ping -c 2 -s 1472 10.0.2.2");
  assert.match(ping, /^PING 10\.0\.2\.2 \(10\.0\.2\.2\) 1472\(1500\) bytes of data\.\nFrom 10\.0\.1\.1 icmp_seq=1 Frag needed and DF set \(mtu = 1400\)\n1480 bytes from 10\.0\.2\.2: icmp_seq=2 ttl=63 time=/);
  assert.match(ping, /2 packets transmitted, 1 received, \+1 errors, 50% packet loss/);
  assert.match(out("ip route get 10.0.2.2"), /^10\.0\.2\.2 via 10\.0\.1\.1 dev eth0 src 10\.0\.1\.2 uid 0 \n    cache expires 59\dsec mtu 1400 \n$/);
  const client = lab.hosts.get("client")!;
  const server = lab.hosts.get("server")!;
  const router = lab.hosts.get("router")!;
  // The client cut the second request (no DF: it no longer fits) in two: 1376 + 104 bytes
  // of ICMP data behind 20-byte headers; the server put it together and answered in two.
  assert.deepEqual([client.ip.FragOKs, client.ip.FragCreates], [1, 2]);
  assert.deepEqual([server.ip.ReasmReqds, server.ip.ReasmOKs, server.ip.FragOKs, server.ip.FragCreates], [2, 1, 1, 2]);
  assert.deepEqual([client.ip.ReasmReqds, client.ip.ReasmOKs], [2, 1]);
  assert.equal(router.ip.FragFails, 1);
  assert.deepEqual([router.icmpStats.OutDestUnreachs, client.icmpStats.InDestUnreachs], [1, 1]);
  // /proc/net/snmp shows them in Linux's columns.
  const snmp = out("cat /proc/net/snmp", "server").split("\n");
  const names = snmp[0]!.split(" ");
  const vals = snmp[1]!.split(" ");
  const col = (n: string) => Number(vals[names.indexOf(n)]);
  assert.deepEqual([col("ReasmReqds"), col("ReasmOKs"), col("FragOKs"), col("FragCreates")], [2, 1, 1, 2]);
});

test("fragments on the wire as tcpdump -v prints them; a small ping keeps DF; ip link set mtu takes effect", async () => {
  const { out } = await run();
  const cap = out("tcpdump -nn -i eth1 -v icmp", "router");
  assert.match(cap, /IP \(tos 0x0, ttl 63, id (\d+), offset 0, flags \[\+\], proto ICMP \(1\), length 1396\)\n    10\.0\.1\.2 > 10\.0\.2\.2: ICMP echo request, id \d+, seq 2, length 1376\n/);
  assert.match(cap, /IP \(tos 0x0, ttl 63, id \d+, offset 1376, flags \[none\], proto ICMP \(1\), length 124\)\n    10\.0\.1\.2 > 10\.0\.2\.2: ip-proto-1\n/);
  assert.match(out("ping -c 1 -s 1000 10.0.2.2"), /1008 bytes from 10\.0\.2\.2: icmp_seq=1 ttl=63/);
  assert.match(out("ip link show eth1", "router"), /^\d+: eth1: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP> mtu 1300 /);
});
