/**
 * The seed's lab for real: `lvslab up labs/lvs-nat.yaml` (namespaces, bridges, real nginx,
 * lvslab's director), the seed's lvs_nat.sh run verbatim on the director, real curl from
 * the client's namespace and real tcpdump on real_server1 — compared with the simulator
 * running the same lab in this process. Then the faults: a real server whose nginx is
 * stopped, and malformed frames thrown at the director. Root only.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { buildLabText, captureOf, lastOutput, normalizeCapture, repoPath, runLabFile, transcriptBlocks } from "./helpers.js";
import { downAll, ENV, labPrefix, lvslab, MAIN, malformedFrames, namespaces, nsInodes, processesIn, realSkipReason, sh } from "./real-helpers.js";
import { runCommand, sleepWorld } from "../src/lab/runner.js";

const LAB = "labs/lvs-nat.yaml";
const VIP = "192.168.75.131";
const skip = realSkipReason(["ip", "nginx", "curl", "tcpdump", "python3"]);

/** Start a long-running `lvslab exec` (tcpdump); resolves once `line` shows on stderr (bounded). */
function startExec(args: string[], line: string, ms = 10_000): Promise<{ p: ChildProcess; out: () => string; err: () => string }> {
  const p = spawn(process.execPath, [MAIN, "exec", ...args], { env: ENV, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no ${JSON.stringify(line)} in ${ms} ms: ${err}`)), ms);
    p.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes(line)) {
        clearTimeout(t);
        res({ p, out: () => out, err: () => err });
      }
    });
    p.on("exit", () => rej(new Error(`exited early: ${err}`)));
  });
}

function stop(p: ChildProcess, ms = 5_000): Promise<void> {
  return new Promise((res) => {
    if (p.exitCode !== null || p.signalCode !== null) return res();
    const t = setTimeout(() => {
      p.kill("SIGKILL");
      res();
    }, ms);
    p.once("exit", () => {
      clearTimeout(t);
      res();
    });
    p.kill("SIGINT");
  });
}

const curl = (): { code: number; out: string; err: string } => lvslab(["exec", LAB, "client", "--", "curl", "-sS", "-m", "3", VIP]);
const onDirector = (...cmd: string[]): { code: number; out: string; err: string } => lvslab(["exec", LAB, "vip", "--", ...cmd]);
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("the seed's LVS-NAT lab on network namespaces", { skip, timeout: 180_000 }, () => {
  let prefix = "";
  before(() => {
    const up = lvslab(["up", LAB]);
    assert.equal(up.code, 0, up.err + up.out);
    assert.match(up.out, /vip +\S+ +\(no kernel address\) +lvslab director/);
    prefix = labPrefix("lvs-nat");
  });
  after(downAll);

  test("lvs_nat.sh runs verbatim on the director; curl, tcpdump and ipvsadm agree with the simulator", async () => {
    const sim = await runLabFile(LAB);
    const simBlocks = transcriptBlocks(sim.transcript);
    const simCurls = simBlocks.filter((b) => b.prompt === `[root@client ~]# curl ${VIP}`).map((b) => b.output);
    assert.equal(simCurls.length, 6);

    const cap = await startExec([LAB, "real_server1", "--", "tcpdump", "-nn", "-i", "eth0", "host 192.168.75.150 and ! port 22"], "listening on eth0");
    try {
      const script = onDirector("sh", "/usr/local/sbin/lvs_nat.sh");
      assert.deepEqual([script.code, script.out, script.err], [0, "", ""]);
      const simListing = simBlocks.find((b) => b.prompt === "[root@vip ~]# ipvsadm -L -n")!.output;
      assert.equal(onDirector("ipvsadm", "-L", "-n").out, simListing);
      const real: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = curl();
        assert.equal(r.code, 0, r.err);
        real.push(r.out);
        await pause(100); // the simulated client waits 1 s; a short pause lets each connection close first
      }
      assert.deepEqual(real, simCurls, "the real servers answer in the simulator's wrr order");
      // The counters --stats shows are summed at the estimator's 2 s tick (Linux 6.1); and
      // tcpdump hands packets over in blocks (up to 1 s without --immediate-mode).
      await pause(2100);
      assert.equal(onDirector("ipvsadm", "-L", "-n", "--stats").out, lastOutput(simBlocks, "vip", "ipvsadm -L -n --stats"));
    } finally {
      await stop(cap.p);
    }
    const realShapes = normalizeCapture(cap.out());
    const simShapes = normalizeCapture(captureOf(simBlocks, "real_server1"));
    assert.equal(realShapes.length, 20, cap.out());
    assert.deepEqual(realShapes, simShapes);

    // NAT: real_server1's nginx saw the client's own address.
    const log = lvslab(["exec", LAB, "real_server1", "--", "cat", "/var/log/nginx/access.log"]).out.trim().split("\n");
    assert.equal(log.length, 2);
    for (const l of log) assert.match(l, /^192\.168\.75\.150 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 20 "-" "curl\/7\.88\.1"$/);
  });

  test("nginx stopped on real_server1: its turns are refused as the kernel's IPVS refuses them (no health check)", async () => {
    // The simulator's verdict for the same configuration, with no web server on real_server1.
    const yaml = readFileSync(repoPath(LAB), "utf8");
    const rs1At = yaml.indexOf("  real_server1:");
    const noNginx = yaml.slice(0, rs1At) + yaml.slice(rs1At).replace("    services: [nginx]\n", "");
    const lab = buildLabText(noNginx, "lvs-nat.yaml");
    await runCommand(lab.hosts.get("vip")!, "sh /usr/local/sbin/lvs_nat.sh");
    const simRuns: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await runCommand(lab.hosts.get("client")!, `curl -sS -m 3 ${VIP}`);
      simRuns.push(`${r.exit} ${r.io.stdoutText}${r.io.stderrText.replace(/after \d+ ms/, "after N ms")}`);
      await sleepWorld(lab.world, 1_000_000);
    }
    assert.ok(simRuns.some((s) => s.startsWith("7 curl: (7) Failed to connect")), simRuns.join("\n"));

    const stopped = lvslab(["exec", LAB, "real_server1", "--", "nginx", "-s", "stop"]);
    assert.equal(stopped.code, 0, stopped.err);
    for (let i = 0; i < 50 && processesIn(nsInodes([`${prefix}-real_server1`])).length > 0; i++) await pause(50);
    // A fresh table, as the simulated run starts with one.
    assert.equal(onDirector("sh", "/usr/local/sbin/lvs_nat.sh").code, 0);
    const realRuns: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = curl();
      realRuns.push(`${r.code} ${r.out}${r.err.replace(/after \d+ ms/, "after N ms")}`);
      await pause(100);
    }
    assert.deepEqual(realRuns, simRuns);
    const conns = onDirector("ipvsadm", "-L", "-n", "-c").out;
    assert.match(conns, /TCP \d\d:\d\d {2}CLOSE +192\.168\.75\.150:\d+ +192\.168\.75\.131:80 +192\.168\.1\.185:80/);
  });

  test("malformed frames sent at the director are dropped and counted; it keeps serving", async () => {
    // Raw frames from the client's eth0 to the director's MAC (learned by ARP above).
    const mac = lvslab(["exec", LAB, "client", "--", "ip", "neigh", "show", VIP]).out.match(/lladdr (\S+)/)?.[1];
    assert.ok(mac, "the client knows the VIP's MAC");
    const drops = (): Map<string, number> => {
      const r = onDirector("lvslab-drops");
      assert.equal(r.code, 0, r.err);
      return new Map([...r.out.matchAll(/^vip: (.*?) +(\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
    };
    const before = drops();
    const sent = lvslab(["exec", LAB, "client", "--", ...malformedFrames("eth0", mac, 5, ["ipv4-truncated", "ihl-6-no-options", "bad-checksum", "version-6", "arp-truncated"])]);
    assert.equal(sent.code, 0, sent.err);
    assert.equal(sent.out.trim(), "25");
    let delta = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      await pause(100);
      const now = drops();
      delta = new Map([...now].map(([k, v]) => [k, v - (before.get(k) ?? 0)]).filter(([, v]) => v !== 0) as Array<[string, number]>);
      if ([...delta.values()].reduce((a, b) => a + b, 0) >= 25) break;
    }
    assert.deepEqual(Object.fromEntries(delta), {
      "IPv4 header checksum is wrong": 5,
      "IPv4 header malformed or truncated": 15,
      "malformed ARP (truncated)": 5,
    });
    // Still serving (real_server2 still has nginx).
    const ok = [curl(), curl(), curl()].filter((r) => r.code === 0 && r.out === "2222222222222slave\n");
    assert.ok(ok.length >= 1);
  });

  test("down leaves no namespace, interface or process behind", () => {
    const mine = namespaces().filter((n) => n.startsWith(prefix));
    assert.equal(mine.length, 5);
    const inodes = nsInodes(mine);
    assert.ok(processesIn(inodes).length >= 3, "the director and real_server2's nginx (master and worker) run");
    const r = lvslab(["down", LAB]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(namespaces().filter((n) => n.startsWith(prefix)), []);
    assert.deepEqual(processesIn(inodes), []);
    assert.equal(sh("ip", ["-o", "link", "show"]).out.includes(prefix), false);
  });
});
