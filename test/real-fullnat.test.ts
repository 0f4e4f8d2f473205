/**
 * FullNAT for real: `lvslab up labs/lvs-fullnat.yaml`, the lab's director script through
 * the control socket, and real curl, tcpdump and nginx compared with the simulator: the
 * same real-server order, the same packet shapes on real_server1's wire (the local address
 * 192.168.1.200 and its ports, the TOA option in the first packets), and nginx logging the
 * director's local address instead of the client's. Root only.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { normalizeCapture, buildLabFile } from "./helpers.js";
import { downAll, ENV, lvslab, MAIN, realSkipReason } from "./real-helpers.js";
import { runCommand, sleepWorld, startCommand, Transcript, drive } from "../src/lab/runner.js";

const LAB = "labs/lvs-fullnat.yaml";
const VIP = "192.168.75.131";
const CAPTURE = "tcpdump -nn -i eth0 tcp port 80";
const SCRIPT = "sh /usr/local/sbin/lvs_fullnat.sh";
const CURLS = 3;
const skip = realSkipReason(["ip", "nginx", "curl", "tcpdump", "python3"]);

/** The TOA option's first bytes are the client's port: tcpdump prints them as the option's ExID. */
const shapes = (cap: string): string[] => normalizeCapture(cap).map((l) => l.replace(/exp-[0-9a-f]{4}/g, "exp-TOA"));

async function simulate(): Promise<{ curls: string[]; capture: string; logs: string[] }> {
  const lab = buildLabFile(LAB);
  const h = (n: string) => lab.hosts.get(n)!;
  const io = new Transcript();
  const cap = startCommand(h("real_server1"), CAPTURE, io);
  await drive(lab.world, () => false, lab.world.now());
  assert.equal((await runCommand(h("vip"), SCRIPT)).exit, 0);
  const curls: string[] = [];
  for (let i = 0; i < CURLS; i++) {
    curls.push((await runCommand(h("client"), `curl -sS -m 3 ${VIP}`)).io.stdoutText);
    await sleepWorld(lab.world, 1_000_000);
  }
  cap.interrupt();
  await drive(lab.world, () => cap.exit !== undefined, lab.world.now() + 1_000_000);
  const logs = ["real_server1", "real_server2"].map((n) => {
    const r = h(n).fs.read("/var/log/nginx/access.log");
    return typeof r === "string" ? "" : new TextDecoder().decode(r);
  });
  return { curls, capture: io.stdoutText, logs };
}

describe("LVS-FullNAT on network namespaces", { skip, timeout: 120_000 }, () => {
  before(() => {
    const up = lvslab(["up", LAB]);
    assert.equal(up.code, 0, up.err + up.out);
  });
  after(downAll);

  test("the local address reaches the real servers, with TOA, as in the simulator; nginx logs the local address", async () => {
    const sim = await simulate();
    const p = spawn(process.execPath, [MAIN, "exec", LAB, "real_server1", "--", ...CAPTURE.split(" ")], { env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    try {
      for (let i = 0; i < 100 && !err.includes("listening on"); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(err, /listening on eth0/);
      const s = lvslab(["exec", LAB, "vip", "--", ...SCRIPT.split(" ")]);
      assert.deepEqual([s.code, s.out, s.err], [0, "", ""]);
      const curls: string[] = [];
      for (let i = 0; i < CURLS; i++) {
        const r = lvslab(["exec", LAB, "client", "--", "curl", "-sS", "-m", "3", VIP]);
        assert.equal(r.code, 0, r.err);
        curls.push(r.out);
        await new Promise((r2) => setTimeout(r2, 100));
      }
      assert.deepEqual(curls, sim.curls);
      // tcpdump hands packets over in blocks (up to 1 s without --immediate-mode): as the
      // lab's own steps do, let a second pass before stopping it.
      await new Promise((r2) => setTimeout(r2, 1500));
    } finally {
      await new Promise<void>((res) => {
        const t = setTimeout(() => (p.kill("SIGKILL"), res()), 5000);
        p.once("exit", () => (clearTimeout(t), res()));
        p.kill("SIGINT");
      });
    }
    const real = shapes(out);
    assert.equal(real.length, 10, out);
    assert.deepEqual(real, shapes(sim.capture));
    assert.match(real[0]!, /^IP 192\.168\.1\.200\.PORT > 192\.168\.1\.185\.80: Flags \[S\], seq N, win 64240, options \[exp-TOA,mss 1460,/);
    for (const [i, host] of ["real_server1", "real_server2"].entries()) {
      const log = lvslab(["exec", LAB, host, "--", "cat", "/var/log/nginx/access.log"]).out;
      const addrs = log.trim().split("\n").map((l) => l.split(" ")[0]);
      assert.deepEqual(addrs, sim.logs[i]!.trim().split("\n").map((l) => l.split(" ")[0]));
      assert.ok(addrs.every((a) => a === "192.168.1.200"), log);
    }
  });
});
