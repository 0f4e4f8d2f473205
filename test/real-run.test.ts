/**
 * `lvslab run LAB --real`: a lab's own steps and expectations on network namespaces —
 * the seed's lab and LVS-DR pass as they do in the simulator, with the same transcript
 * (prompt for prompt); a failing expectation, a step over its time limit and Ctrl-C end
 * it as they should; nothing is left behind; a lab that is up already is not touched.
 * Root only.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { repoPath, runLabFile, transcriptBlocks } from "./helpers.js";
import { downAll, ENV, expectedPrefix, lvslab, MAIN, namespaces, nsInodes, processesIn, realSkipReason, STATE_DIR } from "./real-helpers.js";

const skip = realSkipReason(["ip", "nginx", "curl", "tcpdump", "python3"]);
after(() => {
  // A run beside a lab that is up keeps its copy in STATE_DIR-run-PID: remove those too.
  for (const d of readdirSync(dirname(STATE_DIR)).filter((n) => n.startsWith(`${basename(STATE_DIR)}-run-`))) {
    const env = { ...ENV, LVSLAB_STATE_DIR: join(dirname(STATE_DIR), d) };
    for (const lab of readdirSync(env.LVSLAB_STATE_DIR)) lvslab(["down", lab], { env });
    rmSync(env.LVSLAB_STATE_DIR, { recursive: true, force: true });
  }
  downAll();
});

interface Outcome {
  code: number | null;
  out: string;
  err: string;
  /** `net:[inode]` of the lab's namespaces, taken while the steps ran. */
  inodes: Set<string>;
}

/**
 * `lvslab run LAB --real ARGS` in the background; while it runs, note its namespaces;
 * `whileRunning` is called once the transcript contains `when` (then its namespaces exist).
 */
function runReal(lab: string, labName: string, args: string[] = [], o: { when?: string; whileRunning?: (pid: number) => void; closeOutput?: boolean; closeStderr?: boolean; timeoutMs?: number } = {}): Promise<Outcome> {
  const p = spawn(process.execPath, [MAIN, "run", lab, "--real", ...args], { env: ENV, stdio: ["ignore", "pipe", "pipe"] });
  if (o.closeStderr) p.stderr.destroy(); // as `2>&1 | head` does once it has its lines
  let out = "";
  let err = "";
  let inodes = new Set<string>();
  let seen = false;
  const when = o.when ?? "[root@";
  p.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (!seen && out.includes(when)) {
      seen = true;
      const prefix = expectedPrefix(labName);
      inodes = nsInodes(namespaces().filter((n) => n.startsWith(prefix)));
      o.whileRunning?.(p.pid!);
      if (o.closeOutput) p.stdout.destroy(); // as `| head` does once it has its lines
    }
  });
  if (!o.closeStderr) p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((res) => {
    const t = setTimeout(() => p.kill("SIGKILL"), o.timeoutMs ?? 150_000);
    p.on("close", (code) => {
      clearTimeout(t);
      res({ code, out, err, inodes });
    });
  });
}

/** Nothing of the lab is left: no namespace, no process in its namespaces, no state. */
function assertGone(labName: string, r: Outcome): void {
  assert.ok(r.inodes.size > 0, "the lab's namespaces were seen while it ran");
  const prefix = expectedPrefix(labName);
  assert.deepEqual(namespaces().filter((n) => n.startsWith(prefix)), []);
  assert.deepEqual(processesIn(r.inodes), []);
  assert.equal(existsSync(join(STATE_DIR, labName)), false);
}

/** The commands typed, in order (not the `#` lines). */
const prompts = (t: string): string[] => transcriptBlocks(t).map((b) => b.prompt).filter((p) => p.startsWith("[root@"));

describe("lvslab run --real", { skip, timeout: 600_000 }, () => {
  test("the seed's lab passes for real, every expectation met, with the simulator's transcript; down leaves nothing", async () => {
    const sim = await runLabFile("labs/lvs-nat.yaml");
    const r = await runReal("labs/lvs-nat.yaml", "lvs-nat");
    assert.equal(r.code, 0, r.err + r.out);
    assert.doesNotMatch(r.err, /steps failed/);
    assert.deepEqual(prompts(r.out), prompts(sim.transcript));
    const blocks = transcriptBlocks(r.out);
    const curls = blocks.filter((b) => b.prompt === "[root@client ~]# curl 192.168.75.131").map((b) => b.output);
    assert.deepEqual(curls, ["2222222222222slave\n", "1111111111111master\n", "2222222222222slave\n", "2222222222222slave\n", "1111111111111master\n", "2222222222222slave\n"]);
    // Real tcpdump on real_server1, stopped with SIGINT: its packets, then its summary.
    const rs1 = blocks.find((b) => b.prompt.startsWith("[root@real_server1 ~]# tcpdump"))!.output;
    assert.match(rs1, /^listening on eth0, link-type EN10MB/m);
    assert.match(rs1, /> 192\.168\.1\.185\.80: Flags \[S\]/);
    assert.match(rs1, /\^C\n\d+ packets captured\n/);
    assert.match(r.err, /lvslab: lab lvs-nat is up /);
    assert.match(r.err, /lvslab: lab lvs-nat is down \(5 network namespaces removed\)/);
    assertGone("lvs-nat", r);
  });

  /**
   * A bundled lab run for real: exit 0, no failed step, the simulator's commands in the
   * same order (the lab's prompts), and nothing left behind; the transcript for more checks.
   */
  const passesForReal = async (name: string): Promise<string> => {
    const file = `labs/${name}.yaml`;
    const r = await runReal(file, name);
    assert.equal(r.code, 0, r.err + r.out);
    assert.doesNotMatch(r.err, /steps failed/);
    assert.deepEqual(prompts(r.out), prompts((await runLabFile(file)).transcript));
    assertGone(name, r);
    return r.out;
  };

  test("LVS-DR passes for real", async () => {
    await passesForReal("lvs-dr");
  });

  test("the ARP race of LVS-DR without arp_ignore comes out as in the simulator: the bridge floods in the lab's order of hosts", async () => {
    // Three answers to the client's ARP for the VIP; real_server2's, the first, is kept.
    assert.match(await passesForReal("lvs-dr-arp-problem"), /192\.168\.1\.100 lladdr 00:0c:29:00:01:90 /);
  });

  test("LVS-FullNAT passes for real: nginx logs the director's local address, the PROXY protocol v1 and v2 tell it the client", async () => {
    // Real nginx's log lines, with the real time in them (the lab's expectations match them by pattern).
    assert.match(await passesForReal("lvs-fullnat"), /^192\.168\.1\.200 - - \[\d\d\/\w{3}\/\d{4}:/m);
  });

  const dir = mkdtempSync(join(tmpdir(), "lvslab-run-real-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tiny = (name: string, steps: string): string => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, `lab: ${name}
segments:
  lan: {}
hosts:
  web:
    nics: { eth0: { segment: lan, addrs: [10.0.0.1/24] } }
    files: { /usr/share/nginx/html/index.html: "hello\\n" }
    services: [nginx]
  client:
    nics: { eth0: { segment: lan, addrs: [10.0.0.2/24] } }
steps:
  - { on: web, run: "tcpdump -nn -i eth0 tcp port 80", background: true, name: cap, expect: { contains: "10.0.0.2." } }
  - { on: client, run: "curl -sS -m 3 10.0.0.1", expect: { stdout: "hello\\n" } }
${steps}`);
    return file;
  };

  test("a failing expectation and a step over its time limit: exit 1, each named by file, line and command", async () => {
    const file = tiny("run-real-fail", `  - { on: client, run: "curl -sS -m 3 10.0.0.1", expect: { stdout: "goodbye\\n" } }
  - { on: client, run: "echo out; echo err >&2; exit 3", expect: { exit: 3, stdout: "out\\n", stderr: "err\\n" } }
  - { on: client, run: "sleep 30", timeout: 1s }
  - { on: client, run: "modprobe toa", expect: { exit: 0 } }
`);
    const toaHere = existsSync("/sys/module/toa") || spawnSync("modinfo", ["toa"]).status === 0;
    const t0 = Date.now();
    const r = await runReal(file, "run-real-fail");
    assert.equal(r.code, 1, r.err);
    assert.ok(Date.now() - t0 < 60_000, "the 30 s sleep was cut short");
    assert.ok(r.err.includes(`\nlvslab: ${toaHere ? 2 : 3} of 6 steps failed:\n`), r.err);
    assert.ok(r.err.includes(`  ${file}:14: [client] curl -sS -m 3 10.0.0.1: stdout was "hello\\n", expected "goodbye\\n"\n`), r.err);
    assert.ok(r.err.includes(`  ${file}:16: [client] sleep 30: did not finish in time and was interrupted; exited with status 130\n`), r.err);
    // stdout and stderr apart, and in the transcript in the order printed; the capture saw the client.
    assert.ok(r.out.includes("[root@client ~]# echo out; echo err >&2; exit 3\nout\nerr\n"), r.out);
    assert.ok(r.out.includes("[root@client ~]# sleep 30\n^C\n"), r.out);
    // A module the simulator's hosts have and this kernel lacks: said before the step, which is judged as it really went.
    const caveat = "# lvslab --real: this machine's kernel has no toa module; the simulator's hosts have it, so this step cannot mean the same thing here\n[root@client ~]# modprobe toa\n";
    assert.equal(r.out.includes(caveat), !toaHere, r.out);
    assert.equal(r.err.includes(`  ${file}:17: [client] modprobe toa: exit status `), !toaHere, r.err);
    assert.match(r.out, /\[root@web ~\]# tcpdump -nn -i eth0 tcp port 80\n(.*\n)*.*IP 10\.0\.0\.2\.\d+ > 10\.0\.0\.1\.80: Flags \[S\]/);
    assertGone("run-real-fail", r);
    // The simulator judges the same steps the same way.
    const sim = lvslab(["run", file]);
    assert.equal(sim.code, 1);
    assert.deepEqual(prompts(sim.out), prompts(r.out));
    const failed = (err: string): string[] => err.split("\n").filter((l) => l.startsWith(`  ${file}:`)).map((l) => l.split(": ")[0]!);
    // The simulator's client has the toa module: there that step passes.
    assert.deepEqual(failed(sim.err), failed(r.err).filter((l) => !l.endsWith(":17")));
    assert.equal(failed(sim.err).length, 2);
  });

  test("Ctrl-C stops the commands, runs no further step and takes the lab down", async () => {
    const file = tiny("run-real-int", `  - { sleep: 60s }
  - { on: client, run: "echo never" }
`);
    const t0 = Date.now();
    const r = await runReal(file, "run-real-int", [], { when: "hello\n", whileRunning: (pid) => setTimeout(() => process.kill(pid, "SIGINT"), 500) });
    assert.equal(r.code, 130, r.err);
    assert.ok(Date.now() - t0 < 45_000);
    assert.match(r.err, /lvslab: interrupted; stopping the commands and taking the lab down/);
    assert.doesNotMatch(r.out, /echo never/);
    assert.match(r.out, /\[root@web ~\]# tcpdump -nn -i eth0 tcp port 80\n(.*\n)*\^C\n\d+ packets captured\n/);
    assertGone("run-real-int", r);
  });

  test("output into a pipe whose reader left: exit 141, no further step, the lab taken down", async () => {
    const file = tiny("run-real-pipe", `  - { sleep: 2s }
  - { on: client, run: "echo after" }
  - { sleep: 60s }
`);
    const t0 = Date.now();
    const r = await runReal(file, "run-real-pipe", [], { when: "hello\n", closeOutput: true });
    assert.equal(r.code, 141, r.err);
    assert.ok(Date.now() - t0 < 45_000, "the 60 s sleep did not run");
    assert.doesNotMatch(r.err, /EPIPE|Unhandled/);
    assertGone("run-real-pipe", r);
  });

  test("notes into a pipe whose reader left (2>&1 | head): exit 141, the lab taken down", async () => {
    const file = tiny("run-real-pipe2", `  - { sleep: 60s }
`);
    const t0 = Date.now();
    const r = await runReal(file, "run-real-pipe2", [], { closeStderr: true });
    assert.equal(r.code, 141, r.out);
    assert.ok(Date.now() - t0 < 45_000, "the 60 s sleep did not run");
    assert.deepEqual(namespaces().filter((n) => n.startsWith(expectedPrefix("run-real-pipe2"))), []);
    assert.equal(existsSync(join(STATE_DIR, "run-real-pipe2")), false);
  });

  test("a lab that is up already is left alone: the run builds a copy of its own; --keep leaves that up", async () => {
    // Real tcpdump gets packets from the kernel in blocks, up to 1 s late: wait before it is stopped.
    const file = tiny("run-real-up", "  - { sleep: 2s }\n");
    const up = lvslab(["up", file]);
    assert.equal(up.code, 0, up.err);
    const mine = namespaces().filter((n) => n.startsWith(expectedPrefix("run-real-up")));
    assert.equal(mine.length, 3);
    const r = await runReal(file, "run-real-up", ["--keep"]);
    assert.equal(r.code, 0, r.err);
    const own = `${STATE_DIR}-run-`;
    assert.match(r.err, new RegExp(`lab run-real-up is up already; leaving it alone and running a copy with its state in ${own}\\d+`));
    const ownDir = /running a copy with its state in (\S+)/.exec(r.err)![1]!;
    assert.match(r.err, new RegExp(`--keep\\): LVSLAB_STATE_DIR=${ownDir} lvslab exec run-real-up HOST -- CMD`));
    // The user's lab: the same namespaces, still answering.
    assert.deepEqual(namespaces().filter((n) => n.startsWith(expectedPrefix("run-real-up"))), mine);
    const curl = lvslab(["exec", file, "client", "--", "curl", "-sS", "-m", "3", "10.0.0.1"]);
    assert.equal(curl.out, "hello\n", curl.err);
    // The kept copy, reached through its state directory, then removed the same way.
    const env = { ...ENV, LVSLAB_STATE_DIR: ownDir };
    const kept = lvslab(["exec", file, "client", "--", "curl", "-sS", "-m", "3", "10.0.0.1"], { env });
    assert.equal(kept.out, "hello\n", kept.err);
    assert.equal(lvslab(["down", "run-real-up"], { env }).code, 0);
    assert.equal(existsSync(ownDir), false);
    assert.equal(lvslab(["down", "run-real-up"]).code, 0);
    assertGone("run-real-up", r);
  });

  test("bad use: --pcap, --keep without --real", () => {
    const a = lvslab(["run", "lvs-nat", "--real", "--pcap", "/tmp/x"]);
    assert.deepEqual([a.code, a.err], [2, "lvslab: --pcap is for the simulator; with --real, run tcpdump -w in the lab's steps\n"]);
    const b = lvslab(["run", "lvs-nat", "--keep"]);
    assert.deepEqual([b.code, b.err], [2, "lvslab: --keep goes with --real (it keeps the real lab up after its steps)\n"]);
  });
});

const noSetpriv = spawnSync("setpriv", ["--version"]).status === 0 ? undefined : "setpriv is not installed";
test("lvslab run --real without root says so in one line and exits 77, as up does", { skip: process.getuid?.() === 0 ? noSetpriv : "needs root to drop it", timeout: 30_000 }, async () => {
  const r = await new Promise<{ code: number | null; err: string }>((res) => {
    const p = spawn("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", process.execPath, MAIN, "run", repoPath("labs", "lvs-nat.yaml"), "--real"], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("close", (code) => res({ code, err }));
  });
  assert.equal(r.err, "lvslab: real mode needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces; run it as root or with sudo\n");
  assert.equal(r.code, 77);
});
