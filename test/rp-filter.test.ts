/**
 * rp_filter (fib_validate_source): the larger of conf/all and conf/<in-dev>; 1 (strict) wants
 * the route back to the source to leave by the interface the packet came in on, 2 (loose)
 * any route back; failures are dropped and counted (TcpExtIPReversePathFilter). With 0, a
 * packet claiming one of the host's own addresses is still a martian.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSteps } from "../src/lab/runner.js";
import { buildLabText } from "./helpers.js";

async function run(rpf: { all: number; eth0: number }, src: string): Promise<{ rpDrops: number; syns: number }> {
  const lab = buildLabText(`
lab: rpf
segments: { lan: {}, side: {} }
hosts:
  a:
    nics:
      eth0: { segment: lan, addrs: [192.168.1.185/24] }
  b:
    nics:
      eth0: { segment: lan, addrs: [192.168.1.150/24] }
      eth1: { segment: side, addrs: [10.0.0.2/24] }
    sysctl: { net.ipv4.conf.all.rp_filter: ${rpf.all}, net.ipv4.conf.eth0.rp_filter: ${rpf.eth0} }
    services: [nginx]
steps:
  - { on: a, run: "ip addr add ${src}/32 dev lo" }
  - { on: a, run: "curl -sS -m 1 --interface ${src} http://192.168.1.150/" }
`);
  await runSteps(lab, { out: () => undefined });
  const b = lab.hosts.get("b")!;
  return { rpDrops: b.ipExt.IPReversePathFilter, syns: b.tcp.counters.PassiveOpens ?? 0 };
}

test("rp_filter 1 drops a source whose route back leaves by another interface; 2 and 0 let it in", async () => {
  // b's route to 10.0.0.5 is eth1 (10.0.0.0/24), the SYN arrives on eth0.
  const strict = await run({ all: 0, eth0: 1 }, "10.0.0.5");
  assert.ok(strict.rpDrops >= 1);
  const strictAll = await run({ all: 1, eth0: 0 }, "10.0.0.5");
  assert.ok(strictAll.rpDrops >= 1, "the larger of all and the device counts");
  const loose = await run({ all: 2, eth0: 0 }, "10.0.0.5");
  assert.equal(loose.rpDrops, 0);
  const off = await run({ all: 0, eth0: 0 }, "10.0.0.5");
  assert.equal(off.rpDrops, 0);
});

test("rp_filter 2 drops a source with no route back at all; 1 passes a source routed by the in-device", async () => {
  const loose = await run({ all: 2, eth0: 2 }, "172.16.0.9");
  assert.ok(loose.rpDrops >= 1);
  const strictOk = await run({ all: 1, eth0: 1 }, "192.168.1.99");
  assert.equal(strictOk.rpDrops, 0);
});
