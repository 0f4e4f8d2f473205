/**
 * `lvslab exec LAB vip -- CMD` on a lab that is up, where vip is lvslab's own director (the
 * command runs in its shell through the control socket), behaves as a command on a real
 * host: standard input from a file or a pipe reaches it (none from a terminal), Ctrl-C
 * interrupts it — tcpdump prints its summary as the real tcpdump does on the other end of
 * the same wire — and the exit status, stdout and stderr are what the simulator's
 * `lvslab exec` gives for the same command. Needs root, `ip`, python3 and tcpdump.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLab } from "../src/lab/load.js";
import { headOne, repoPath } from "./helpers.js";
import { downAll, ENV, lvslab, MAIN, realSkipReason, STATE_DIR, type Run } from "./real-helpers.js";

const LAB = "labs/lvs-nat.yaml";
const VIP = "192.168.75.131";
const skip = realSkipReason(["ip", "python3", "tcpdump", "curl"]);
/** The simulator's `lvslab exec`: a state directory where no lab is up. */
const SIM_ENV = { ...process.env, LVSLAB_STATE_DIR: `${STATE_DIR}-none` };

/** `lvslab exec LAB HOST -- CMD` with standard input from `input` (text through a pipe, or a file's path). */
function exec(host: string, cmd: string[], input: { text: string } | { file: string } | "none", env = ENV): Run {
  const args = [MAIN, "exec", LAB, host, "--", ...cmd];
  const fd = typeof input === "object" && "file" in input ? openSync(input.file, "r") : undefined;
  try {
    const stdin = fd ?? (input === "none" ? "ignore" : "pipe");
    const r = spawnSync(process.execPath, args, { cwd: repoPath(), env, encoding: "utf8", timeout: 60_000, stdio: [stdin, "pipe", "pipe"], ...(typeof input === "object" && "text" in input ? { input: input.text } : {}) });
    return { code: r.status ?? -1, out: r.stdout ?? "", err: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Start `lvslab exec` in the background; resolves once `line` shows on its stderr (bounded). */
function startExec(host: string, cmd: string[], line: string, stdin: "ignore" | "pipe" = "ignore"): Promise<{ p: ChildProcess; done: Promise<Run>; out: () => string }> {
  const p = spawn(process.execPath, [MAIN, "exec", LAB, host, "--", ...cmd], { cwd: repoPath(), env: ENV, stdio: [stdin, "pipe", "pipe"] });
  let out = "";
  let err = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<Run>((res) => p.on("exit", (code, sig) => res({ code: code ?? (sig ? -1 : -2), out, err })));
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no ${JSON.stringify(line)} in 10 s: ${err}`)), 10_000);
    const poll = setInterval(() => {
      if (line === "" || err.includes(line)) {
        clearTimeout(t);
        clearInterval(poll);
        res({ p, done, out: () => out });
      }
    }, 20);
    void done.then((r) => {
      clearInterval(poll);
      clearTimeout(t);
      if (line !== "" && !r.err.includes(line)) rej(new Error(`exited early (${r.code}): ${r.err}`));
    });
  });
}

/** Ctrl-C as a terminal sends it, and what the command left; bounded. */
async function interrupt(x: { p: ChildProcess; done: Promise<Run> }): Promise<Run> {
  x.p.kill("SIGINT");
  const t = setTimeout(() => x.p.kill("SIGKILL"), 10_000);
  const r = await x.done;
  clearTimeout(t);
  return r;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/**
 * Connections to the director's control socket from this network namespace (an accepted
 * unix socket belongs to the connecting side's namespace and is listed with the path).
 */
function controlConnections(): number {
  const path = join(STATE_DIR, "lvs-nat", "vip.sock");
  return readFileSync("/proc/net/unix", "utf8").split("\n").filter((l) => l.endsWith(` ${path}`)).length;
}

describe("lvslab exec on the userspace director: standard input, Ctrl-C, exit status", { skip, timeout: 180_000 }, () => {
  let dir = "";
  before(() => {
    const up = lvslab(["up", LAB]);
    assert.equal(up.code, 0, up.err + up.out);
    assert.match(up.out, /vip +\S+ +\(no kernel address\) +lvslab director/);
    dir = mkdtempSync(join(tmpdir(), "lvslab-exec-"));
  });
  after(() => {
    downAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("ipvsadm -R < FILE restores the rules, ipvsadm -S -n gives them back", () => {
    const rules = "-A -t 192.168.75.131:80 -s wrr\n-a -t 192.168.75.131:80 -r 192.168.1.185:80 -m -w 1\n-a -t 192.168.75.131:80 -r 192.168.1.190:80 -m -w 2\n";
    const file = join(dir, "rules");
    writeFileSync(file, rules);
    assert.deepEqual(exec("vip", ["ipvsadm", "-C"], "none"), { code: 0, out: "", err: "" });
    assert.deepEqual(exec("vip", ["ipvsadm", "-R"], { file }), { code: 0, out: "", err: "" });
    assert.deepEqual(exec("vip", ["ipvsadm", "-S", "-n"], "none"), { code: 0, out: rules, err: "" });
    // The restored service forwards: real curl from the client gets wrr's first pick.
    assert.equal(exec("vip", ["sysctl", "-w", "net.ipv4.ip_forward=1"], "none").code, 0);
    const curl = exec("client", ["curl", "-sS", "-m", "3", VIP], "none");
    assert.deepEqual([curl.code, curl.out], [0, "2222222222222slave\n"], curl.err);
    // A bad line: ipvsadm's own message on stderr, its status, and the lines before it kept.
    writeFileSync(file, "-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.2:80 -s nosuch\n");
    const bad = exec("vip", ["ipvsadm", "-R"], { file });
    assert.deepEqual(bad, { code: 255, out: "", err: "Scheduler or persistence engine not found\n" });
    assert.match(exec("vip", ["ipvsadm", "-S", "-n"], "none").out, /^-A -t 10\.0\.0\.1:80 -s rr\n/m);
  });

  test("sh from a pipe runs the seed's lvs_nat.sh; /proc/sys writes take effect; a terminal gives end of input", () => {
    const lab = loadLab(readFileSync(repoPath(LAB), "utf8"), LAB);
    assert.ok(lab.ok);
    const script = lab.lab.hosts.find((h) => h.name === "vip")!.files.find((f) => f.path === "/usr/local/sbin/lvs_nat.sh")!.content;
    // Undo what the script does, to see it done again.
    assert.equal(exec("vip", ["sh", "-c", "ipvsadm -C; sysctl -q -w net.ipv4.ip_forward=0 net.ipv4.conf.all.send_redirects=1"], "none").code, 0);
    assert.deepEqual(exec("vip", ["sh"], { text: script }), { code: 0, out: "", err: "" });
    assert.deepEqual(exec("vip", ["ipvsadm", "-S", "-n"], "none"), {
      code: 0,
      out: "-A -t 192.168.75.131:80 -s wrr\n-a -t 192.168.75.131:80 -r 192.168.1.185:80 -m -w 1\n-a -t 192.168.75.131:80 -r 192.168.1.190:80 -m -w 2\n",
      err: "",
    });
    assert.deepEqual(exec("vip", ["sysctl", "-n", "net.ipv4.ip_forward", "net.ipv4.conf.all.send_redirects"], "none"), { code: 0, out: "1\n0\n", err: "" });
    const sysctl = exec("vip", ["sh"], { text: "echo 0 > /proc/sys/net/ipv4/ip_forward\ncat /proc/sys/net/ipv4/ip_forward\necho 1 > /proc/sys/net/ipv4/ip_forward\nsysctl net.ipv4.ip_forward\n" });
    assert.deepEqual(sysctl, { code: 0, out: "0\nnet.ipv4.ip_forward = 1\n", err: "" });
    // `while read` and a command in the loop share the input, as in bash.
    // (bash's read fails on a last line without newline: "3 three" is read but not echoed.)
    const loop = exec("vip", ["bash", "-c", "while read a b; do echo \"$b-$a\"; done; echo end"], { text: "1 one\n2 two\n3 three" });
    assert.deepEqual(loop, { code: 0, out: "one-1\ntwo-2\nend\n", err: "" });
    // Multibyte text across the pipe's reads comes out whole; 2 MB is more than one protocol line.
    const big = "é".repeat(1 << 20);
    assert.deepEqual(exec("vip", ["wc", "-c"], { text: big }), { code: 0, out: `${2 << 20}\n`, err: "" });
    // A terminal is not read: the command sees end of input at once (as `cat` typed at a
    // prompt would after Ctrl-D), and its status comes back through the pty.
    const pty = spawnSync("python3", ["-c", "import os,pty,sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))", process.execPath, MAIN, "exec", LAB, "vip", "--", "sh", "-c", "cat; echo done; exit 4"], {
      cwd: repoPath(), env: ENV, encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"],
    });
    assert.deepEqual([pty.status, pty.stdout], [4, "done\r\n"], pty.stderr);
  });

  test("exit status, stdout and stderr are the simulator's for the same command and input", () => {
    const cases: Array<{ cmd: string[]; input: { text: string } | "none" }> = [
      { cmd: ["ipvsadm", "-D", "-t", "1.1.1.1:80"], input: "none" },
      { cmd: ["ipvsadm", "-A", "-t", "10.9.9.9:80", "-s", "nosuch"], input: "none" },
      { cmd: ["nosuchcommand"], input: "none" },
      { cmd: ["sh"], input: { text: "echo out\necho err >&2\nipvsadm -a -t 10.9.9.9:80 -r 1.2.3.4\nexit 3\n" } },
      { cmd: ["sh", "-c", "ipvsadm -C; ipvsadm -R; ipvsadm -S -n"], input: { text: "-A -u 192.168.75.131:53 -s sh\n-a -u 192.168.75.131:53 -r 192.168.1.185:53 -m\n" } },
      { cmd: ["ipvsadm", "-R"], input: { text: "-A -t 10.9.9.9:80\n-E -t 10.9.9.8:80\n" } },
      { cmd: ["cat", "-"], input: { text: "no newline at the end" } },
      { cmd: ["grep", "-c", "x"], input: { text: "" } },
    ];
    for (const c of cases) {
      const real = exec("vip", c.cmd, c.input);
      const sim = exec("vip", c.cmd, c.input, SIM_ENV);
      assert.deepEqual(real, sim, `${c.cmd.join(" ")}: real mode vs the simulator`);
    }
    // What they gave, so the comparison cannot pass on two equally wrong answers.
    assert.deepEqual(exec("vip", ["ipvsadm", "-D", "-t", "1.1.1.1:80"], "none"), { code: 255, out: "", err: "No such service\n" });
    assert.deepEqual(exec("vip", ["sh"], { text: "echo out\necho err >&2\nexit 3\n" }), { code: 3, out: "out\n", err: "err\n" });
    assert.deepEqual(exec("vip", ["nosuchcommand"], "none"), { code: 127, out: "", err: "bash: nosuchcommand: command not found\n" });
  });

  test("Ctrl-C: tcpdump on the director prints its summary as real tcpdump on the other end of the wire does", async () => {
    assert.equal(exec("vip", ["sh", "/usr/local/sbin/lvs_nat.sh"], "none").code, 0);
    const filter = "host 192.168.75.150 and tcp port 80";
    // The same frames on both ends of one veth pair: the client's eth0 (the kernel, real
    // tcpdump) and the director's eth1 (lvslab's tcpdump). -t: no timestamps to differ.
    const real = await startExec("client", ["tcpdump", "-t", "-nn", "-i", "eth0", filter], "listening on eth0");
    const ours = await startExec("vip", ["tcpdump", "-t", "-nn", "-i", "eth1", filter], "listening on eth1");
    try {
      const curl = exec("client", ["curl", "-sS", "-m", "3", VIP], "none");
      assert.equal(curl.code, 0, curl.err);
      // Real tcpdump hands packets over in blocks (up to 1 s late): wait until it has printed
      // as many as ours, and nothing more came for a while (bounded).
      const lines = (x: { out: () => string }): number => x.out().split("\n").length;
      let settled = 0;
      for (let i = 0; i < 100 && settled < 6; i++) {
        const before = [lines(real), lines(ours)];
        await pause(100);
        settled = before[0] === lines(real) && before[1] === lines(ours) && lines(real) === lines(ours) ? settled + 1 : 0;
      }
    } finally {
      const [r, o] = await Promise.all([interrupt(real), interrupt(ours)]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /Flags \[S\]/);
      assert.match(r.err, /\n(\d+) packets captured\n\1 packets received by filter\n0 packets dropped by kernel\n$/);
      assert.deepEqual(o, { ...r, err: r.err.replace("listening on eth0", "listening on eth1") });
    }
  });

  test("Ctrl-C: a command that was interrupted exits 130, as real sleep does; so does one still waiting for its input", async () => {
    const cmd = ["sh", "-c", "echo ready >&2; exec sleep 30"];
    const real = await startExec("client", cmd, "ready");
    const ours = await startExec("vip", cmd, "ready");
    const [r, o] = await Promise.all([interrupt(real), interrupt(ours)]);
    assert.deepEqual(r, { code: 130, out: "", err: "ready\n" });
    assert.deepEqual(o, r);
    // Standard input that never ends (its writer holds the pipe open): Ctrl-C still ends it.
    const before = controlConnections();
    const waiting = await startExec("vip", ["ipvsadm", "-R"], "", "pipe");
    waiting.p.stdin!.write("-A -t 10.7.7.7:80\n");
    for (let i = 0; i < 200 && controlConnections() === before; i++) await pause(50);
    assert.equal(controlConnections(), before + 1, "lvslab exec connected to the director");
    const w = await interrupt(waiting);
    assert.deepEqual(w, { code: 130, out: "", err: "" });
    assert.doesNotMatch(exec("vip", ["ipvsadm", "-S", "-n"], "none").out, /10\.7\.7\.7/, "the command did not run");
  });

  test("shell on the lab that is up: lines run on the director and, after ssh, in a host's namespace; Ctrl-C interrupts", async () => {
    const input = [
      "ipvsadm -S -n | head -1", // the director's shell, its pipes included
      "ssh client",
      "hostname; curl -sS -m 3 http://192.168.75.131/ >/dev/null; echo curl $?",
      "cat /proc/sys/net/ipv4/ip_forward", // the client's kernel, not the director
      "exit",
      "ssh nohost",
      "nosuchcmd",
      "exit",
      "echo not reached",
    ].join("\n") + "\n";
    const r = spawnSync(process.execPath, [MAIN, "shell", LAB, "vip"], { cwd: repoPath(), env: ENV, encoding: "utf8", timeout: 60_000, input });
    assert.equal(r.stdout, [
      'lvslab shell: lab lvs-nat (up, real); hosts: vip, real_server1, real_server2, client. "ssh HOST" switches, "exit" leaves.',
      "[root@vip ~]# ipvsadm -S -n | head -1",
      "-A -t 192.168.75.131:80 -s wrr",
      "[root@vip ~]# ssh client",
      "[root@client ~]# hostname; curl -sS -m 3 http://192.168.75.131/ >/dev/null; echo curl $?",
      "client",
      "curl 0",
      "[root@client ~]# cat /proc/sys/net/ipv4/ip_forward",
      "0",
      "[root@client ~]# exit",
      "logout",
      "Connection to client closed.",
      "[root@vip ~]# ssh nohost",
      "ssh: Could not resolve hostname nohost: Name or service not known",
      "[root@vip ~]# nosuchcmd",
      "[root@vip ~]# exit",
      "",
    ].join("\n"));
    assert.equal(r.stderr, "bash: nosuchcmd: command not found\n");
    // A host the lab does not have: one line naming the lab's hosts, exit 2, no prompt.
    const bad = spawnSync(process.execPath, [MAIN, "shell", LAB, "nohost"], { cwd: repoPath(), env: ENV, encoding: "utf8", timeout: 30_000, input: "" });
    assert.deepEqual([bad.status, bad.stdout, bad.stderr], [2, "", 'lvslab: no host "nohost" in lab lvs-nat (hosts: vip, real_server1, real_server2, client)\n']);
    assert.equal(r.status, 127, "the last command's status, as bash's exit gives it");
    // Ctrl-C reaches the command that runs, on the director and on a kernel host alike.
    const sh = spawn(process.execPath, [MAIN, "shell", LAB, "vip"], { cwd: repoPath(), env: ENV, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    sh.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const done = new Promise<number>((res) => sh.on("exit", (c) => res(c ?? -1)));
    const until = async (text: string): Promise<void> => {
      for (let i = 0; i < 500 && !out.includes(text); i++) await pause(20);
      assert.ok(out.includes(text), `no ${JSON.stringify(text)} in ${JSON.stringify(out)}`);
    };
    sh.stdin!.write("sleep 30; echo slept\n");
    await until("sleep 30; echo slept\n");
    await pause(300);
    sh.kill("SIGINT");
    sh.stdin!.write("ssh client\nsleep 30\n");
    await until("[root@client ~]# sleep 30\n");
    await pause(300);
    sh.kill("SIGINT");
    sh.stdin!.end("echo back\n");
    const t = setTimeout(() => sh.kill("SIGKILL"), 20_000);
    const code = await done;
    clearTimeout(t);
    assert.equal(code, 0);
    assert.doesNotMatch(out, /^slept$/m, "Ctrl-C ended the whole line, as in bash");
    assert.match(out, /\[root@client ~\]# echo back\nback\n/);
  });

  test("output into a pipe nobody reads any more (| head -1) ends exec with 141, as SIGPIPE ends the real command", async () => {
    const loop = ["sh", "-c", "while true; do echo y; sleep 0.1; done"];
    const codes = await Promise.all(["client", "vip"].map((host) => headOne(spawn(process.execPath, [MAIN, "exec", LAB, host, "--", ...loop], { cwd: repoPath(), env: ENV, stdio: ["ignore", "pipe", "pipe"] }))));
    assert.deepEqual(codes, [141, 141]);
  });
});
