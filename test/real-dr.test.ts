/**
 * LVS-DR for real: `lvslab up labs/lvs-dr.yaml`, the lab's real-server script (VIP on lo,
 * arp_ignore/arp_announce) run by the real kernel and its director script by lvslab's
 * director; the client's requests reach the real servers in the simulator's rr order, the
 * client still has the director's MAC for the VIP, and nginx logs the client's own address
 * (the director only rewrote the destination MAC). Root only.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { runLabFile, transcriptBlocks } from "./helpers.js";
import { downAll, lvslab, realSkipReason } from "./real-helpers.js";

const LAB = "labs/lvs-dr.yaml";
const VIP = "192.168.1.100";
after(downAll);

test("LVS-DR on network namespaces answers in the simulator's order", { skip: realSkipReason(["ip", "nginx", "curl", "python3"]), timeout: 90_000 }, async () => {
  const sim = await runLabFile(LAB);
  const simCurls = transcriptBlocks(sim.transcript).filter((b) => b.prompt === `[root@client ~]# curl -sS -m 3 ${VIP}`).map((b) => b.output);
  assert.equal(simCurls.length, 4);
  const up = lvslab(["up", LAB]);
  try {
    assert.equal(up.code, 0, up.err + up.out);
    for (const rs of ["real_server1", "real_server2"]) {
      const r = lvslab(["exec", LAB, rs, "--", "sh", "/usr/local/sbin/lvs_dr_rs.sh"]);
      assert.deepEqual([r.code, r.out, r.err], [0, "", ""]);
    }
    const d = lvslab(["exec", LAB, "director", "--", "sh", "/usr/local/sbin/lvs_dr.sh"]);
    assert.deepEqual([d.code, d.out, d.err], [0, "", ""]);
    const real: string[] = [];
    for (let i = 0; i < simCurls.length; i++) {
      const r = lvslab(["exec", LAB, "client", "--", "curl", "-sS", "-m", "3", VIP]);
      assert.equal(r.code, 0, r.err);
      real.push(r.out);
    }
    assert.deepEqual(real, simCurls);
    const neigh = lvslab(["exec", LAB, "client", "--", "ip", "neigh", "show", "dev", "eth0"]).out;
    assert.match(neigh, /^192\.168\.1\.100 lladdr 00:0c:29:00:01:86 /m);
    for (const rs of ["real_server1", "real_server2"]) {
      const log = lvslab(["exec", LAB, rs, "--", "cat", "/var/log/nginx/access.log"]).out.trim().split("\n");
      assert.equal(log.length, 2);
      for (const l of log) assert.match(l, /^192\.168\.1\.150 - - /);
    }
  } finally {
    assert.equal(lvslab(["down", LAB]).code, 0);
  }
});
