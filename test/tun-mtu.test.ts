/**
 * LVS-TUN and the MTU against the real kernel (test/golden/kernel/lvs-tun-mtu.sh -> .out):
 * a full-size client segment plus the 20-byte IPIP header exceeds the director's MTU, IPVS
 * answers "fragmentation needed (mtu 1480)", the client learns the path MTU and resends at
 * the new MSS (labs/lvs-tun-mtu.yaml); with that ICMP dropped by the director's firewall the
 * connection stalls (labs/lvs-tun-mtu-blackhole.yaml).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { explainLab, formatExplanation } from "../src/explain/index.js";
import { explainDrop } from "../src/explain/rules.js";
import { assertCapturesMatch, buildLabFile, captureOf, goldenSections, lastOutput, runLabFile, transcriptBlocks } from "./helpers.js";

const GOLDEN = "test/golden/kernel/lvs-tun-mtu.out";

/**
 * The one place lvslab and the recording part on purpose: in the first connection the
 * client resends the lost segment as two pieces back to back, and real_server2's tunl0
 * (GRO through gro_cells) merged them before TCP saw them, so the kernel ACKed once
 * ("ack 1449"); lvslab models no GRO and also ACKs the first piece ("ack 1429"), as the
 * kernel did in the second connection, whose pieces came 42 ms apart. Pure ACKs of 1429
 * are left out of both sides.
 */
const noAck1429 = (text: string) => text.split("\n").filter((l) => !/Flags \[\.\], ack 1429, /.test(l)).join("\n");

/**
 * And one lvslab does not reproduce yet: 5 s after the ICMP the kernel's director probes the
 * client's MAC (its neighbour entry went DELAY when the ICMP used it, and nothing confirmed
 * it). lvslab's neighbour table counts any frame received from a neighbour as confirmation
 * (the NAT recording, seed-nat, needs that), so it sends no probe. The golden's trailing
 * unicast ARP request/reply between director and client is left out.
 */
const noDirectorProbe = (lines: string[]) =>
  lines.filter((l) => !/^00:0c:29:00:01:(86 > 00:0c:29:00:01:50, ethertype ARP .*Request who-has 192\.168\.1\.150 tell 192\.168\.1\.186|50 > 00:0c:29:00:01:86, ethertype ARP .*Reply 192\.168\.1\.150 is-at)/.test(l));

test("lvs-tun-mtu: every step passes its expectations", async () => {
  const { report } = await runLabFile("labs/lvs-tun-mtu.yaml");
  assert.deepEqual(report.steps.filter((s) => !s.ok), []);
});

test("lvs-tun-mtu: tcpdump -e on every host matches the real kernel's, ICMP need-to-frag included", async () => {
  const { transcript } = await runLabFile("labs/lvs-tun-mtu.yaml");
  const blocks = transcriptBlocks(transcript);
  const golden = goldenSections(GOLDEN);
  assertCapturesMatch(blocks, (g) => golden.get(`tcpdump -nn -e -r ${g}-eth0`) ?? "", { moreThan: 5, raw: noAck1429, want: noDirectorProbe });
  const client = captureOf(blocks, "client");
  assert.match(client, /192\.168\.1\.100 > 192\.168\.1\.150: ICMP 192\.168\.1\.100 unreachable - need to frag \(mtu 1480\), length 556\n/);
});

test("lvs-tun-mtu: the client's route learns mtu 1480 for 600 s; ipvsadm counts as the kernel does", async () => {
  const { lab, transcript } = await runLabFile("labs/lvs-tun-mtu.yaml");
  const blocks = transcriptBlocks(transcript);
  const golden = goldenSections(GOLDEN);
  const gets = blocks.filter((b) => b.prompt === "[root@client ~]# ip route get 192.168.1.100").map((b) => b.output);
  assert.equal(gets[0], golden.get("ip route get 192.168.1.100 (client, before)"));
  assert.equal(gets[1], golden.get("ip route get 192.168.1.100 (client, between)"));
  const secs = (s: string | undefined) => (s ?? "").replace(/expires \d+sec/, "expires Nsec");
  assert.equal(secs(lastOutput(blocks, "client", "ip route show cache")), secs(golden.get("ip route show cache (client)")));
  const trim = (s: string | undefined) => (s ?? "").trimEnd();
  assert.equal(trim(lastOutput(blocks, "director", "ipvsadm -L -n --stats")), trim(golden.get("ipvsadm -L -n --stats")));
  assert.equal(lastOutput(blocks, "director", "ipvsadm -L -n"), golden.get("ipvsadm -L -n"));
  const pages = blocks.filter((b) => b.prompt === "[root@client ~]# curl -sS -m 3 -H @/root/pad.txt 192.168.1.100").map((b) => b.output);
  assert.deepEqual(pages, [1, 2].map((i) => golden.get(`curl -sS -m 3 -H @/tmp/pad.txt 192.168.1.100 #${i}`)!.replace(/exit=0\n$/, "")));
  // nstat: the director sent one ICMP destination unreachable, the client received it.
  const dir = lab.hosts.get("director")!;
  const client = lab.hosts.get("client")!;
  assert.deepEqual([dir.icmpStats.OutMsgs, dir.icmpStats.OutDestUnreachs, dir.icmpStats.outType.get(3)], [1, 1, 1]);
  assert.deepEqual([client.icmpStats.InMsgs, client.icmpStats.InDestUnreachs], [1, 1]);
  assert.equal(client.tcp.snmp().RetransSegs, 2);
});

const BLACKHOLE = "labs/lvs-tun-mtu-blackhole.yaml";

test("lvs-tun-mtu-blackhole: with the ICMP dropped by the director's OUTPUT chain the request stalls, as on the real kernel", async () => {
  const { lab, report, transcript } = await runLabFile(BLACKHOLE);
  assert.deepEqual(report.steps.filter((s) => !s.ok), []);
  const blocks = transcriptBlocks(transcript);
  const golden = goldenSections(GOLDEN);
  // The kernel's retransmission times differ (a tail loss probe first, RACK after the SACK
  // of the FIN; lvslab has plain RTO backoff) and so do the counts: compare the frames each
  // side shows, in order of first sight.
  assertCapturesMatch(blocks, (g) => golden.get(`blackhole: tcpdump -nn -e -r ${g}-eth0`) ?? "", { moreThan: 2, label: "blackhole ", distinct: true });
  assert.doesNotMatch(captureOf(blocks, "client"), /ICMP/);
  const curl = blocks.find((b) => b.prompt === "[root@client ~]# curl -sS -m 5 -H @/root/pad.txt 192.168.1.100")!.output;
  // curl's own clock: the kernel run printed 5000 ms, an earlier one 5001; lvslab 5001.
  const ms = (t: string) => t.replace(/after 500\d milliseconds/, "after 500x milliseconds");
  assert.equal(ms(curl), ms(golden.get("blackhole: curl -sS -m 5 -H @/tmp/pad.txt 192.168.1.100 #1")!.replace(/exit=28\n$/, "")));
  for (const when of ["before", "after"]) {
    assert.equal(lastOutput(blocks, "client", "ip route get 192.168.1.100"), golden.get(`blackhole: ip route get 192.168.1.100 (client, ${when})`));
  }
  // Every refused 1500-byte segment was answered with a 576-byte ICMP, counted by IPVS as
  // outgoing traffic and then dropped by iptables: the kernel's InPkts = 3 + OutPkts (SYN,
  // ACK, FIN), InBytes = 164 + 1500 × OutPkts, OutBytes = 576 × OutPkts = the DROP rule's bytes.
  const row = (s: string) => s.split("\n").find((l) => l.startsWith("TCP  192.168.1.100:80"))!.trim().split(/\s+/).slice(2).map(Number);
  const shape = ([conns, inP, outP, inB, outB]: number[]) => [conns, inP! - outP!, inB! - 1500 * outP!, outB! / outP!];
  const ours = row(lastOutput(blocks, "director", "ipvsadm -L -n --stats"));
  const theirs = row(golden.get("blackhole: ipvsadm -L -n --stats")!);
  assert.deepEqual(shape(ours), shape(theirs));
  assert.deepEqual(shape(ours), [1, 3, 164, 576]);
  const drops = (s: string) => s.split("\n").find((l) => l.includes("DROP"))!.trim().split(/\s+/).slice(0, 2).map(Number);
  assert.deepEqual(drops(lastOutput(blocks, "director", "iptables -L OUTPUT -v -n")), [ours[2], ours[4]]);
  assert.deepEqual(drops(golden.get("blackhole: iptables -L OUTPUT -v -n (dir)")!), [theirs[2], theirs[4]]);
  const dir = lab.hosts.get("director")!;
  assert.equal(dir.icmpStats.OutDestUnreachs, ours[2]);
  assert.equal(lab.hosts.get("client")!.icmpStats.InMsgs, 0);
});

test("lvslab explain: the refused segment is IPVS's tunnel MTU drop, the ICMP about it the firewall's", async () => {
  const x = await explainLab(buildLabFile(BLACKHOLE));
  const text = formatExplanation(x);
  assert.match(text, /data \(1448 bytes\) \[P\.\]\n.*client +sent on eth0.*\n.*director +received on eth0, dropped it\n +why: the IPIP tunnel to 192\.168\.1\.190 adds a 20-byte header, so only 1480 of the route's 1500-byte MTU are left; the packet \(1500 bytes\) says "don't fragment", so IPVS dropped it and told 192\.168\.1\.150 "fragmentation needed \(mtu 1480\)" \[ipvs-tunnel-mtu\]\n/);
  assert.match(text, /ICMP fragmentation needed \(mtu 1480\) about 192\.168\.1\.150:\d+ > 192\.168\.1\.100:80\n.*director +made it \(route 192\.168\.1\.0\/24 dev eth0\), but did not send it\n +why: .*iptables.*filter\/OUTPUT rule 1 \(-A OUTPUT -p icmp -j DROP\).* \[iptables\]\n/);
  assert.deepEqual(explainDrop("1500-byte packet with DF does not fit the MTU 1400 of eth1: ICMP fragmentation needed (mtu 1400) to 10.0.1.2").rule, "mtu");
  assert.deepEqual(explainDrop("IPVS: 1500-byte packet with DF does not fit the route to real server 192.168.1.185 (MTU 1400): ICMP fragmentation needed (mtu 1400) to 192.168.1.150").rule, "ipvs-mtu");
});
