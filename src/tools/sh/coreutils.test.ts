import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyMode, formatDate } from "./coreutils.js";
import { runScript } from "./index.js";
import { harness, MemVfs } from "./testing.test-helper.js";

async function run(text: string, fs = new MemVfs()) {
  const h = harness(["bash"], { fs, env: { TZ: "UTC" } });
  const code = await runScript(text, h.ctx, { name: "t.sh" });
  return { code, out: h.out(), err: h.err(), fs: h.fs, ctx: h.ctx };
}

describe("coreutils", () => {
  it("grep -v -c -i -q -E and its statuses", async () => {
    const fs = new MemVfs({ "/tmp/l": "TCP 1.1.1.1:80 wrr\n  -> 10.0.0.1:80 Masq 1\n  -> 10.0.0.2:80 Masq 2\n" });
    const r = await run("grep -c Masq /tmp/l; grep -v -- '->' /tmp/l; grep -qi tcp /tmp/l && echo q; grep -E 'Masq (1|3)$' /tmp/l; grep nothing /tmp/l; echo $?; grep x /nosuch; echo $?", fs);
    assert.equal(r.out, "2\nTCP 1.1.1.1:80 wrr\nq\n  -> 10.0.0.1:80 Masq 1\n1\n2\n");
    assert.equal(r.err, "grep: /nosuch: No such file or directory\n");
  });

  it("head, tail, wc, seq, sort, uniq, cut, tr", async () => {
    const r = await run("seq 5 | head -n 2; seq 5 | tail -2; seq 10 | wc -l; seq 2 2 6; printf 'b\\na\\nb\\n' | sort | uniq -c; echo a:b:c | cut -d: -f2; echo abc | tr a-c A-C");
    assert.equal(r.out, "1\n2\n4\n5\n10\n2\n4\n6\n      1 a\n      2 b\nb\nABC\n");
  });

  it("mkdir -p, touch, rm, ls, test -f/-d, error texts", async () => {
    const r = await run("mkdir -p /a/b; touch /a/b/f; ls /a/b; [ -f /a/b/f ] && [ -d /a ] && echo yes; rm /a/b/f; rm /a/b/f; mkdir /a; ls /zz; echo $?");
    assert.equal(r.out, "f\nyes\n2\n");
    assert.equal(r.err, "rm: cannot remove '/a/b/f': No such file or directory\nmkdir: cannot create directory '/a': File exists\nls: cannot access '/zz': No such file or directory\n");
  });

  it("test's integer error carries the script prefix", async () => {
    const r = await run("[ 1 -eq a ]; echo $?; [ 1 = 1");
    assert.equal(r.err, "t.sh: line 1: [: a: integer expression expected\nt.sh: line 1: [: missing `]'\n");
    assert.equal(r.out, "2\n");
  });

  it("sleep advances virtual time; date, uname, id, whoami, which, env", async () => {
    const r = await run("sleep 1.5; date +%s.%N; uname -r; uname -a; id; whoami; which ipvsadm cat nosuch; echo $?; X=1 env | grep '^X='; sleep x");
    assert.equal(
      r.out,
      "1700000001.500000000\n6.1.0-18-amd64\nLinux director 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) x86_64 GNU/Linux\n" +
        "uid=0(root) gid=0(root) groups=0(root)\nroot\n/usr/sbin/ipvsadm\n/usr/bin/cat\n1\nX=1\n",
    );
    assert.equal(r.err, "sleep: invalid time interval 'x'\nTry 'sleep --help' for more information.\n");
    assert.equal(r.ctx.now(), 1_500_000);
  });

  it("date's default format and TZ", () => {
    const us = Date.UTC(2024, 0, 5, 3, 4, 5) * 1000;
    assert.equal(formatDate(us, "%a %b %e %H:%M:%S %Z %Y", undefined), "Fri Jan  5 03:04:05 UTC 2024");
    assert.equal(formatDate(us, "%a %b %e %H:%M:%S %Z %Y", "Asia/Shanghai"), "Fri Jan  5 11:04:05 CST 2024");
    assert.equal(formatDate(us, "%F %T %z", "America/New_York"), "2024-01-04 22:04:05 -0500");
  });

  it("chmod modes", () => {
    assert.equal(applyMode(0o644, "+x"), 0o755);
    assert.equal(applyMode(0o755, "go-rx"), 0o700);
    assert.equal(applyMode(0o000, "u=rw,g=r"), 0o640);
    assert.equal(applyMode(0o644, "755"), 0o755);
    assert.equal(applyMode(0o644, "z"), undefined);
  });
});
