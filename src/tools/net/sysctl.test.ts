/** `sysctl` against procps-ng 4.0.2 (Debian 12) texts and exit codes. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mountProc } from "../../net/procfs.js";
import { sysctl } from "./sysctl.js";
import { director, run } from "./testing.test-helper.js";

describe("sysctl", () => {
  it("reads and writes, with dots or slashes, -w or not", async () => {
    const h = director();
    assert.deepEqual(await run(h, sysctl, ["sysctl", "net.ipv4.ip_forward"]), { code: 0, out: "net.ipv4.ip_forward = 0\n", err: "" });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-n", "net.ipv4.ip_forward"]), { code: 0, out: "0\n", err: "" });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-w", "net.ipv4.ip_forward=1"]), { code: 0, out: "net.ipv4.ip_forward = 1\n", err: "" });
    assert.equal(h.sysctl.get("net.ipv4.conf.eth0.forwarding"), "1");
    assert.deepEqual(await run(h, sysctl, ["sysctl", "net/ipv4/ip_forward=0"]), { code: 0, out: "net.ipv4.ip_forward = 0\n", err: "" });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]), { code: 0, out: "", err: "" });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-n", "-w", "net.ipv4.ip_forward=1"]), { code: 0, out: "1\n", err: "" });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-w", "net.ipv4.ip_forward = 1"]), { code: 0, out: "net.ipv4.ip_forward = 1\n", err: "" });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "net.ipv4.ip_local_port_range"]), {
      code: 0, out: "net.ipv4.ip_local_port_range = 32768\t60999\n", err: "",
    });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-n", "kernel.hostname", "net.ipv4.ip_forward"]), { code: 0, out: "vip\n1\n", err: "" });
  });

  it("errors", async () => {
    const h = director();
    const stat = "sysctl: cannot stat /proc/sys/net/ipv4/nosuch: No such file or directory\n";
    assert.deepEqual(await run(h, sysctl, ["sysctl", "net.ipv4.nosuch"]), { code: 1, out: "", err: stat });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-w", "net.ipv4.nosuch=1"]), { code: 1, out: "", err: stat });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-q", "net.ipv4.nosuch"]), { code: 1, out: "", err: stat });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-e", "net.ipv4.nosuch"]), { code: 0, out: "", err: "" });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-w", "net.ipv4.ip_forward=abc"]), {
      code: 1, out: "", err: 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument\n',
    });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-w", "net.ipv4.ip_forward"]), {
      code: 1, out: "", err: "sysctl: command line(0): invalid syntax, continuing...\n",
    });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-w", "net.ipv4.ip_local_port_range=2000 1000"]), {
      code: 1, out: "", err: 'sysctl: setting key "net.ipv4.ip_local_port_range": Invalid argument\n',
    });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "net.ipv4.ip_forward", "net.ipv4.nosuch", "net.ipv4.ip_default_ttl"]), {
      code: 1, out: "net.ipv4.ip_forward = 0\nnet.ipv4.ip_default_ttl = 64\n", err: stat,
    });
    const none = await run(h, sysctl, ["sysctl"]);
    assert.equal(none.code, 1);
    assert.match(none.err, /^\nUsage:\n sysctl \[options\] \[variable\[=value\] \.\.\.\]\n/);
  });

  it("-a, a directory, -p", async () => {
    const h = director();
    const all = await run(h, sysctl, ["sysctl", "-a"]);
    const lines = all.out.trimEnd().split("\n");
    assert.deepEqual([...lines].sort(), lines);
    assert.ok(lines.includes("kernel.hostname = vip"));
    assert.ok(lines.includes("net.ipv4.conf.eth1.send_redirects = 1"));
    const dir = await run(h, sysctl, ["sysctl", "net.ipv4.conf.lo"]);
    assert.ok(dir.out.startsWith("net.ipv4.conf.lo.accept_local = 0\n"));
    h.fs.mkdirp("/tmp");
    h.fs.write(
      "/tmp/s.conf",
      "net.ipv4.ip_forward = 1\n# comment\n; c2\n\nnet.ipv4.conf.all.send_redirects=0\nnet.ipv4.nosuch = 3\n-net.ipv4.nosuch2 = 3\nbogus line\n",
    );
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-p", "/tmp/s.conf"]), {
      code: 1,
      out: "net.ipv4.ip_forward = 1\nnet.ipv4.conf.all.send_redirects = 0\n",
      err:
        "sysctl: /tmp/s.conf(8): invalid syntax, continuing...\n" +
        "sysctl: cannot stat /proc/sys/net/ipv4/nosuch: No such file or directory\n" +
        "sysctl: cannot stat /proc/sys/net/ipv4/nosuch2: No such file or directory\n",
    });
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-p", "/tmp/nofile"]), { code: 1, out: "", err: 'sysctl: cannot open "/tmp/nofile": No such file or directory\n' });
    h.fs.mkdirp("/etc");
    h.fs.write("/etc/sysctl.conf", "net.ipv4.conf.eth0.send_redirects = 0\n");
    assert.deepEqual(await run(h, sysctl, ["sysctl", "-p"]), { code: 0, out: "net.ipv4.conf.eth0.send_redirects = 0\n", err: "" });
  });

  it("sees writes made through /proc/sys", async () => {
    const h = director();
    mountProc(h);
    assert.equal(h.fs.write("/proc/sys/net/ipv4/ip_forward", "1\n"), true);
    assert.deepEqual(await run(h, sysctl, ["sysctl", "net.ipv4.ip_forward"]), { code: 0, out: "net.ipv4.ip_forward = 1\n", err: "" });
  });
});
