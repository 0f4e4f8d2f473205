import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { CASES } from "./cases.test-helper.js";
import { coreTools, runScript, sh, ShellState, type ScriptOptions } from "./index.js";
import { directorSysctls, harness, MemVfs, type HarnessOptions } from "./testing.test-helper.js";

const SEED = readFileSync(new URL("../../../../src/tools/sh/fixtures/lvs_nat.sh", import.meta.url), "utf8");
const SEED_PATH = "/usr/local/sbin/lvs_nat.sh";

const SEED_IPVSADM = [
  ["ipvsadm", "-C"],
  ["ipvsadm", "-A", "-t", "192.168.75.131:80", "-s", "wrr"],
  ["ipvsadm", "-a", "-t", "192.168.75.131:80", "-r", "192.168.1.185:80", "-m", "-w", "1"],
  ["ipvsadm", "-a", "-t", "192.168.75.131:80", "-r", "192.168.1.190:80", "-m", "-w", "2"],
];
const SEED_IPTABLES = [
  ["iptables", "-F"],
  ["iptables", "-t", "nat", "-F"],
  ["iptables", "-t", "nat", "-X"],
];
const SEED_SYSCTL_WRITES = [
  ["net.ipv4.ip_forward", "1"],
  ["net.ipv4.conf.all.send_redirects", "0"],
  ["net.ipv4.conf.default.send_redirects", "0"],
  ["net.ipv4.conf.eth0.send_redirects", "0"],
  ["net.ipv4.conf.eth1.send_redirects", "0"],
];

function director(ifaces?: string[]): MemVfs {
  return new MemVfs({ [SEED_PATH]: SEED }, directorSysctls(ifaces));
}

/** Runs `text` as the script t.sh (bash wording unless told). */
async function script(text: string, opts: ScriptOptions & HarnessOptions = {}) {
  const h = harness(["bash"], opts);
  const code = await runScript(text, h.ctx, { name: "t.sh", ...opts });
  return { code, out: h.out(), err: h.err(), calls: h.calls, fs: h.fs };
}

/** Runs a tool line (argv) as the host would. */
async function tool(argv: string[], opts: HarnessOptions = {}) {
  const h = harness(argv, opts);
  const code = await sh(h.ctx);
  return { code, out: h.out(), err: h.err(), calls: h.calls, fs: h.fs };
}

describe("sh: the seed script, verbatim", () => {
  it("the fixture is the seed's text, Chinese comments and `#! /bin/bash` included", () => {
    assert.ok(SEED.startsWith("#! /bin/bash\n# director 服务器上开启路由转发功能:\necho 1 > /proc/sys/net/ipv4/ip_forward\n"));
    assert.ok(SEED.includes("#ipvsadm -A -t 192.168.75.131:80 -s rr -p 300 #-p 300 长链接300秒(会导致5分钟不更换服务器)\n"));
  });

  for (const [label, argv] of [
    ["sh FILE", ["sh", SEED_PATH]],
    ["bash FILE", ["bash", SEED_PATH]],
    ["sh -c PATH (run by path through its #! line)", ["sh", "-c", SEED_PATH]],
  ] as const) {
    it(`${label}: sysctl writes, then iptables and the 4 ipvsadm calls in order`, async () => {
      const r = await tool([...argv], { fs: director() });
      assert.equal(r.err, "");
      assert.equal(r.out, "");
      assert.equal(r.code, 0);
      assert.deepEqual(r.fs.sysctlWrites, SEED_SYSCTL_WRITES);
      assert.deepEqual(r.calls, [...SEED_IPTABLES, ...SEED_IPVSADM]);
      assert.equal(r.fs.sysctls.get("/proc/sys/net/ipv4/ip_forward"), "1");
    });
  }

  it("typed at the prompt by path, from its directory, and found on $PATH", async () => {
    for (const line of [SEED_PATH, "cd /usr/local/sbin && ./lvs_nat.sh", "lvs_nat.sh"]) {
      const r = await script(line, { fs: director(), mode: "interactive", name: "bash" });
      assert.equal(r.err, "", line);
      assert.deepEqual(r.calls, [...SEED_IPTABLES, ...SEED_IPVSADM], line);
    }
  });

  it("on a director without eth1: bash's error for line 8, the rest still runs", async () => {
    const r = await tool(["bash", SEED_PATH], { fs: director(["eth0"]) });
    assert.equal(r.err, `${SEED_PATH}: line 8: /proc/sys/net/ipv4/conf/eth1/send_redirects: No such file or directory\n`);
    assert.equal(r.code, 0);
    assert.deepEqual(r.calls, [...SEED_IPTABLES, ...SEED_IPVSADM]);
    assert.deepEqual(r.fs.sysctlWrites, SEED_SYSCTL_WRITES.slice(0, 4));
  });

  it("the same under dash (sh on Debian)", async () => {
    const r = await tool(["sh", SEED_PATH], { fs: director(["eth0"]) });
    // `sh FILE` ignores the #! line: dash runs it.
    assert.equal(r.err, `${SEED_PATH}: 8: cannot create /proc/sys/net/ipv4/conf/eth1/send_redirects: Directory nonexistent\n`);
    assert.equal(r.code, 0);
  });

  it("a missing /proc path at the prompt: bash: prefix, status 1", async () => {
    const r = await script("echo 0 > /proc/sys/net/ipv4/conf/eth9/send_redirects; echo $?", { fs: director(), mode: "interactive", name: "bash" });
    assert.equal(r.err, "bash: /proc/sys/net/ipv4/conf/eth9/send_redirects: No such file or directory\n");
    assert.equal(r.out, "1\n");
  });

  it("a value the sysctl refuses: echo's write error", async () => {
    const r = await script("echo abc > /proc/sys/net/ipv4/ip_forward; echo $?", { fs: director() });
    assert.equal(r.err, "t.sh: line 1: echo: write error: Invalid argument\n");
    assert.equal(r.out, "1\n");
  });
});

describe("sh: language (each case as real bash 5.2 prints it)", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const r = await script(c.script, { args: c.args ?? [] });
      assert.equal(r.out, c.out, r.err);
      assert.equal(r.code, c.code ?? 0, r.err);
    });
  }
});

describe("sh: redirections", () => {
  it("> creates (0644), >> appends, < reads, cat shows", async () => {
    const r = await script("echo one > /tmp/f; echo two >> /tmp/f; cat < /tmp/f; wc -l /tmp/f; ls -l /tmp/f");
    assert.equal(r.fs.files.get("/tmp/f"), "one\ntwo\n");
    assert.match(r.out, /^one\ntwo\n2 \/tmp\/f\n-rw-r--r-- 1 root root 8 /);
  });

  it("2>&1, 2>/dev/null, >/dev/null, &>, >&2", async () => {
    const r = await script("fail 2>&1 | cat; fail 2>/dev/null; echo x >/dev/null; fail &> /tmp/e; echo to-err >&2; cat /tmp/e");
    assert.equal(r.out, "fail: failed\nfail: failed\n");
    assert.equal(r.err, "to-err\n");
  });

  it("a missing input file and a missing directory: bash's and dash's texts", async () => {
    const b = await script("cat < /nosuch; echo $?; echo x > /no/dir/f; echo $?");
    assert.equal(b.err, "t.sh: line 1: /nosuch: No such file or directory\nt.sh: line 1: /no/dir/f: No such file or directory\n");
    assert.equal(b.out, "1\n1\n");
    const d = await script("cat < /nosuch; echo $?; echo x > /no/dir/f; echo $?; echo x > /tmp", { dialect: "dash" });
    assert.equal(d.err, "t.sh: 1: cannot open /nosuch: No such file\nt.sh: 1: cannot create /no/dir/f: Directory nonexistent\nt.sh: 1: cannot create /tmp: Is a directory\n");
    assert.equal(d.out, "2\n2\n");
  });
});

describe("sh: command not found", () => {
  it("in a bash script: NAME: line N: ...: command not found, 127", async () => {
    const r = await script("echo a\nfoo bar\necho $?");
    assert.equal(r.err, "t.sh: line 2: foo: command not found\n");
    assert.equal(r.out, "a\n127\n");
  });

  it("dash, bash -c, the prompt, and paths", async () => {
    assert.equal((await script("\nfoo", { dialect: "dash" })).err, "t.sh: 2: foo: not found\n");
    assert.equal((await tool(["bash", "-c", "foo"])).err, "bash: foo: command not found\n");
    assert.equal((await tool(["sh", "-c", "foo"])).err, "sh: 1: foo: not found\n");
    const i = await script("foo", { mode: "interactive", name: "bash" });
    assert.equal(i.err, "bash: foo: command not found\n");
    assert.equal(i.code, 127);
    assert.equal((await script("./nosuch", { mode: "interactive", name: "bash" })).err, "bash: ./nosuch: No such file or directory\n");
  });

  it("missing script files: dash's and bash's wording", async () => {
    const d = await tool(["sh", "nosuch.sh"]);
    assert.equal(d.err, "sh: 0: cannot open nosuch.sh: No such file\n");
    assert.equal(d.code, 2);
    const b = await tool(["bash", "nosuch.sh"]);
    assert.equal(b.err, "bash: nosuch.sh: No such file or directory\n");
    assert.equal(b.code, 127);
  });

  it("a host that answers 127 itself is not 'not found'", async () => {
    const r = await script("x; echo $?", { hostCommands: { x: 127 } });
    assert.equal(r.err, "");
    assert.equal(r.out, "127\n");
  });
});

describe("sh: scripts run by path", () => {
  it("a file written by the shell needs chmod +x", async () => {
    const r = await script("printf '#!/bin/sh\\necho \"hi $1\"\\n' > /tmp/x.sh; /tmp/x.sh a; echo $?; chmod +x /tmp/x.sh; /tmp/x.sh b", { mode: "interactive", name: "bash" });
    assert.equal(r.err, "bash: /tmp/x.sh: Permission denied\n");
    assert.equal(r.out, "126\nhi b\n");
  });

  it("sh -c with $0 and arguments; sh reading a script on stdin", async () => {
    assert.equal((await tool(["sh", "-c", 'echo "$0 $1 $#"', "name", "one"])).out, "name one 1\n");
    assert.equal((await tool(["sh"], { stdin: "echo from stdin\n" })).out, "from stdin\n");
  });

  it("syntax errors: bash's two lines, dash's one; earlier lines ran", async () => {
    const text = "echo first\nif true; then\necho x\nfi fi\necho after\n";
    const b = await script(text);
    assert.equal(b.out, "first\n");
    assert.equal(b.err, "t.sh: line 4: syntax error near unexpected token `fi'\nt.sh: line 4: `fi fi'\n");
    assert.equal(b.code, 2);
    const d = await script(text, { dialect: "dash" });
    assert.equal(d.err, 't.sh: 4: Syntax error: "fi" unexpected\n');
    const q = await script('echo "abc\n');
    assert.equal(q.err, "t.sh: line 1: unexpected EOF while looking for matching `\"'\n");
  });
});

describe("sh: set -x and set -e", () => {
  it("xtrace: bash quotes and nests, dash does not", async () => {
    const text = `set -x; echo "a b" c > /dev/null; x=$(echo a); echo "it's" ""`;
    assert.equal((await script(text)).err, "+ echo 'a b' c\n++ echo a\n+ x=a\n+ echo 'it'\\''s' ''\n");
    assert.equal((await script(text, { dialect: "dash" })).err, "+ echo a b c\n+ echo a\n+ x=a\n+ echo it's \n");
  });

  it("sh -e stops at the first failing host command, with its status", async () => {
    const r = await tool(["sh", "-e", "-c", "ipvsadm -C; fail; ipvsadm -L"]);
    assert.deepEqual(r.calls, [["ipvsadm", "-C"], ["fail"]]);
    assert.equal(r.code, 1);
  });
});

describe("sh: environment and state", () => {
  it("exported variables reach host commands; assignments before a command are temporary", async () => {
    const seen: string[] = [];
    const h = harness(["bash"]);
    const ctx = { ...h.ctx, run: async (argv: string[], _io: unknown, env?: Map<string, string>) => (seen.push(`${argv[0]} A=${env?.get("A")} B=${env?.get("B")}`), 0) };
    await runScript("A=1; export A; B=2 cmd; cmd", ctx);
    assert.deepEqual(seen, ["cmd A=1 B=2", "cmd A=1 B=undefined"]);
  });

  it("an interactive session keeps the directory and variables between lines", async () => {
    const h = harness(["bash"]);
    const state = ShellState.fromEnv(h.ctx.env);
    await runScript("cd /tmp; X=5", h.ctx, { mode: "interactive", state });
    await runScript("pwd; echo $X; cd /nosuch", h.ctx, { mode: "interactive", state });
    assert.equal(h.out(), "/tmp\n5\n");
    assert.equal(h.err(), "bash: cd: /nosuch: No such file or directory\n");
  });

  it("globbing over the Vfs, including /proc/sys", async () => {
    const r = await script("for f in /proc/sys/net/ipv4/conf/*/send_redirects; do echo $f; done; echo /nomatch*", { fs: director() });
    assert.equal(
      r.out,
      ["all", "default", "eth0", "eth1", "lo"].map((i) => `/proc/sys/net/ipv4/conf/${i}/send_redirects\n`).join("") + "/nomatch*\n",
    );
  });

  it("coreTools holds the shell and its commands", () => {
    for (const n of ["sh", "bash", "echo", "printf", "cat", "true", "false", "test", "[", "sleep", "pwd", "ls", "mkdir", "rm", "touch", "chmod", "grep", "head", "tail", "wc", "seq", "tee", "env", "which", "date", "uname", "id", "whoami"]) {
      assert.equal(typeof coreTools[n], "function", n);
    }
  });
});
