/**
 * Malformed packets are dropped and counted, never a crash: random frames and randomly
 * damaged copies of real ones are thrown at every host of the seed lab while its IPVS
 * service is up.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { buildLabFile } from "./helpers.js";
import { runCommand } from "../src/lab/runner.js";
import { buildFrame, buildTcpPacket } from "../src/wire/testing.js";
import { parseMac } from "../src/wire/index.js";

test("random and damaged frames never crash a host; bad headers are counted", async () => {
  const lab = buildLabFile("labs/lvs-nat.yaml");
  const vip = lab.hosts.get("vip")!;
  assert.equal((await runCommand(vip, "sh /usr/local/sbin/lvs_nat.sh")).exit, 0);
  const eth1 = vip.nics.get("eth1")!;
  const client = lab.hosts.get("client")!;
  const syn = buildFrame({
    src: parseMac("00:0c:29:5a:c3:3e")!,
    dst: eth1.mac,
    payload: buildTcpPacket({ src: "192.168.75.150", sport: 40000, dst: "192.168.75.131", dport: 80, flags: "S", seq: 1 }),
  });
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.array(fc.tuple(fc.nat(99), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (junk, flips) => {
      for (const h of lab.hosts.values()) for (const n of h.nics.values()) n.receive(junk.slice());
      const damaged = syn.slice();
      for (const [i, v] of flips) if (i < damaged.length) damaged[i] = v;
      eth1.receive(damaged);
      lab.world.queue.runUntil(lab.world.now() + 1000);
    }),
    { numRuns: 500, seed: 42 },
  );
  // A frame with a broken IPv4 header checksum is counted as a header error.
  const bad = syn.slice();
  bad[14 + 10] ^= 0xff;
  const before = vip.ip.InHdrErrors;
  eth1.receive(bad);
  assert.equal(vip.ip.InHdrErrors, before + 1);
  assert.ok([...lab.world.trace.drops.keys()].some((k) => k.startsWith("vip: IPv4 header checksum is wrong")));
  // The lab still works afterwards.
  const r = await runCommand(client, "curl -s 192.168.75.131");
  assert.equal(r.exit, 0);
  assert.match(r.io.stdoutText, /^(1111111111111master|2222222222222slave)\n$/);
});
