/**
 * arp_announce and arp_ignore modes beyond what the lvs-dr golden exercises (net/ipv4/arp.c):
 * the sender address of an ARP request follows the packet waiting for it (arp_solicit), and
 * the answer to a request depends on where the target address is configured (arp_ignore,
 * inet_confirm_addr).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSteps } from "../src/lab/runner.js";
import { buildLabText, transcriptBlocks } from "./helpers.js";

async function run(steps: string): Promise<ReturnType<typeof transcriptBlocks>> {
  const lab = buildLabText(`
lab: arp
segments: { lan: {} }
hosts:
  a:
    nics:
      eth0: { segment: lan, addrs: [192.168.1.185/24] }
  b:
    nics:
      eth0: { segment: lan, addrs: [192.168.1.150/24] }
steps:
${steps}
`);
  let t = "";
  await runSteps(lab, { out: (s) => (t += s) });
  return transcriptBlocks(t);
}

function arpLines(blocks: ReturnType<typeof transcriptBlocks>): string[] {
  const cap = blocks.find((b) => b.prompt.includes("tcpdump"));
  assert.ok(cap);
  return cap.output.split("\n").filter((l) => l.includes("ARP,")).map((l) => l.replace(/^\S+ /, ""));
}

/** a sends a SYN from `src` (on lo) to b; returns the ARP request b sees. */
async function solicitFrom(src: string, announce: number): Promise<string> {
  const blocks = await run(`
  - { on: a, run: "ip addr add ${src}/32 dev lo" }
  - { on: a, run: "sysctl -q -w net.ipv4.conf.all.arp_announce=${announce}" }
  - { on: b, run: "tcpdump -nn -i eth0 arp", background: true, name: cap }
  - { on: a, run: "curl -sS -m 1 --interface ${src} http://192.168.1.150/" }
  - { stop: cap }
`);
  return arpLines(blocks)[0]!;
}

test("arp_announce 0: the waiting packet's local source address", async () => {
  assert.equal(await solicitFrom("192.168.1.100", 0), "ARP, Request who-has 192.168.1.150 tell 192.168.1.100, length 28");
  assert.equal(await solicitFrom("10.0.0.1", 0), "ARP, Request who-has 192.168.1.150 tell 10.0.0.1, length 28");
});

test("arp_announce 1: the source only if a subnet of the device holds it and the target", async () => {
  // 192.168.1.100 lies in eth0's 192.168.1.0/24 (inet_addr_onlink): still announced.
  assert.equal(await solicitFrom("192.168.1.100", 1), "ARP, Request who-has 192.168.1.150 tell 192.168.1.100, length 28");
  assert.equal(await solicitFrom("10.0.0.1", 1), "ARP, Request who-has 192.168.1.150 tell 192.168.1.185, length 28");
});

test("arp_announce 2: always the device's best address for the target", async () => {
  assert.equal(await solicitFrom("192.168.1.100", 2), "ARP, Request who-has 192.168.1.150 tell 192.168.1.185, length 28");
});

/** b asks who-has `vip`; which replies does it get from a? */
async function answersFor(setup: string, ignore: number): Promise<string[]> {
  const blocks = await run(`
  - { on: a, run: "${setup}" }
  - { on: a, run: "sysctl -q -w net.ipv4.conf.eth0.arp_ignore=${ignore}" }
  - { on: b, run: "tcpdump -nn -i eth0 arp", background: true, name: cap }
  - { on: b, run: "ping -c 1 -W 1 192.168.1.100" }
  - { stop: cap }
`);
  return arpLines(blocks).filter((l) => l.includes("Reply"));
}

test("arp_ignore: 0 answers for any local address, 1 only for the NIC's, 2 also wants a shared subnet, 8 never", async () => {
  const reply = ["ARP, Reply 192.168.1.100 is-at"];
  const got = async (setup: string, mode: number) => (await answersFor(setup, mode)).map((l) => l.slice(0, reply[0]!.length));
  assert.deepEqual(await got("ip addr add 192.168.1.100/32 dev lo", 0), reply);
  assert.deepEqual(await got("ip addr add 192.168.1.100/32 dev lo", 1), []);
  assert.deepEqual(await got("ip addr add 192.168.1.100/32 dev eth0", 1), reply);
  // Mode 2: the /32 itself holds no sender, but eth0's 192.168.1.0/24 holds both (confirm_addr_indev).
  assert.deepEqual(await got("ip addr add 192.168.1.100/32 dev eth0", 2), reply);
  assert.deepEqual(await got("ip addr add 192.168.1.100/32 dev eth0", 8), []);
});
