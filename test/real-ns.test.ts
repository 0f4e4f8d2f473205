/**
 * Real mode, the namespace side: `lvslab up` builds a lab from network namespaces with
 * real nginx (or lvslab's own web server), `exec` runs real commands in them, and `down`
 * removes all of it — also after `up` was killed with SIGKILL halfway. Root only.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { downAll, expectedPrefix, labPrefix, lvslab, MAIN, namespaces, nsInodes, processesIn, realSkipReason, rootLinks, sh, STATE_DIR, ENV } from "./real-helpers.js";

const LAB = "test/labs/real-pair.yaml";
const skip = realSkipReason();
after(downAll);

test("up builds a namespace per host on a bridge; exec runs real commands there; down removes it all", { skip, timeout: 60_000 }, () => {
  const linksBefore = rootLinks();
  const up = lvslab(["up", LAB]);
  try {
    assert.equal(up.code, 0, up.err + up.out);
    assert.match(up.out, /^lvslab: lab real-pair is up/m);
    assert.match(up.out, /web .*nginx \(nginx\/1\./);
    // kernel.panic is the machine's, not the namespace's: not applied, and said so.
    assert.match(up.out, /warning: web: sysctl kernel\.panic=5 is not per network namespace; not applied/);
    const prefix = labPrefix("real-pair");
    assert.equal(prefix, expectedPrefix("real-pair"));
    const mine = namespaces().filter((n) => n.startsWith(prefix));
    assert.deepEqual(mine.sort(), [prefix, `${prefix}-client`, `${prefix}-web`].sort());
    assert.deepEqual(rootLinks(), linksBefore, "up created no interface in the namespace it ran in");

    const curl = lvslab(["exec", LAB, "client", "--", "curl", "-s", "-m", "5", "http://10.9.0.2/"]);
    assert.equal(curl.code, 0, curl.err);
    assert.equal(curl.out, "web one\n");
    // The lab's /var/log/nginx/access.log, at its lab path, with the client's address.
    const log = lvslab(["exec", "real-pair", "web", "--", "cat", "/var/log/nginx/access.log"]);
    assert.equal(log.code, 0, log.err);
    assert.match(log.out, /^10\.9\.0\.1 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 8 "-" "curl\/[\d.]+"$/m);
    const ipa = lvslab(["exec", LAB, "web", "--", "sh", "-c", "hostname; ip -o -4 addr show dev eth0; ip -o link show dev eth0; cat /proc/sys/net/ipv4/conf/all/arp_ignore; ethtool -k eth0"]);
    assert.equal(ipa.code, 0, ipa.err);
    assert.match(ipa.out, /^web-1$/m);
    assert.match(ipa.out, /inet 10\.9\.0\.2\/24 brd 10\.9\.0\.255 scope global eth0/);
    assert.match(ipa.out, /link\/ether 00:0c:29:00:09:02/);
    assert.match(ipa.out, /^1$/m);
    for (const k of ["tx-checksumming", "tcp-segmentation-offload", "generic-segmentation-offload", "generic-receive-offload"]) {
      assert.match(ipa.out, new RegExp(`^${k}: off`, "m"), `${k} is off`);
    }
    // The exit status of the real command comes back.
    assert.equal(lvslab(["exec", LAB, "client", "--", "sh", "-c", "exit 3"]).code, 3);
    const bad = lvslab(["exec", LAB, "nosuch", "--", "true"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /no host "nosuch" in lab real-pair \(hosts: client, web\)/);
    assert.match(lvslab(["status"]).out, /^real-pair: up/m);
    const again = lvslab(["up", LAB]);
    assert.equal(again.code, 1);
    assert.equal(again.err, "lvslab: lab real-pair is already up (lvslab down real-pair removes it)\n");

    const inodes = nsInodes(mine);
    assert.equal(inodes.size, 3);
    assert.ok(processesIn(inodes).length >= 2, "nginx master and worker run in the web namespace");
    const down = lvslab(["down", LAB]);
    assert.equal(down.code, 0, down.err);
    assert.equal(down.out, "lvslab: lab real-pair is down (3 network namespaces removed)\n");
    assert.deepEqual(namespaces().filter((n) => n.startsWith(prefix)), []);
    assert.deepEqual(processesIn(inodes), [], "no process left in the lab's namespaces");
    assert.deepEqual(rootLinks(), linksBefore);
    assert.ok(!existsSync(join(STATE_DIR, "real-pair")), "the lab's state directory is gone");
    const again2 = lvslab(["down", LAB]);
    assert.equal(again2.code, 0);
    assert.equal(again2.out, "lvslab: lab real-pair is not up\n");
  } finally {
    lvslab(["down", "real-pair"]);
  }
});

test("down removes everything after up was killed with SIGKILL halfway", { skip, timeout: 60_000 }, async () => {
  // Other test files make namespaces at the same time: only this lab's prefix counts.
  const prefix = expectedPrefix("real-pair");
  const before = new Set(namespaces());
  const linksBefore = rootLinks();
  const child = spawn(process.execPath, [MAIN, "up", LAB], { env: ENV, stdio: "ignore" });
  try {
    // Kill it as soon as it has made its second namespace (bounded: 15 s).
    let made: string[] = [];
    for (let i = 0; i < 1500 && made.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
      made = namespaces().filter((n) => !before.has(n) && n.startsWith(prefix));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    assert.ok(made.length >= 2, "up got as far as creating namespaces");
    const inodes = nsInodes(namespaces().filter((n) => n.startsWith(prefix)));
    const st = lvslab(["status"]);
    assert.match(st.out, /^real-pair: half up/m);
    const again = lvslab(["up", LAB]);
    assert.equal(again.code, 1);
    assert.match(again.err, /was left half up by an interrupted lvslab up; run lvslab down real-pair first/);
    const down = lvslab(["down", "real-pair"]);
    assert.equal(down.code, 0, down.err);
    assert.deepEqual(namespaces().filter((n) => n.startsWith(prefix)), [], "no namespace left");
    assert.deepEqual(processesIn(inodes), []);
    assert.deepEqual(rootLinks(), linksBefore);
    assert.ok(!existsSync(join(STATE_DIR, "real-pair")));
  } finally {
    child.kill("SIGKILL");
    lvslab(["down", "real-pair"]);
  }
});

test("up --httpd serves the lab's files with lvslab's own web server, a real process", { skip: realSkipReason(["ip", "curl"]), timeout: 60_000 }, () => {
  const up = lvslab(["up", LAB, "--httpd"]);
  try {
    assert.equal(up.code, 0, up.err + up.out);
    assert.match(up.out, /web .*lvslab httpd \(nginx is not installed\)|web .*lvslab httpd/);
    const curl = lvslab(["exec", LAB, "client", "--", "curl", "-s", "-i", "-m", "5", "http://10.9.0.2/"]);
    assert.equal(curl.code, 0, curl.err);
    assert.match(curl.out, /^HTTP\/1\.1 200 OK\r\nServer: nginx\/1\.22\.1\r\n/);
    assert.ok(curl.out.endsWith("\r\n\r\nweb one\n"), curl.out);
    const nf = lvslab(["exec", LAB, "client", "--", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5", "http://10.9.0.2/nope"]);
    assert.equal(nf.out, "404");
    const log = lvslab(["exec", LAB, "web", "--", "cat", "/var/log/nginx/access.log"]);
    assert.match(log.out, /^10\.9\.0\.1 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 8 "-" "curl\//m);
    assert.match(log.out, /"GET \/nope HTTP\/1\.1" 404 /);
  } finally {
    assert.equal(lvslab(["down", LAB]).code, 0);
  }
});

test("without root, real mode says so in one line and exits 77", { skip: spawnSync("setpriv", ["--version"]).status === 0 ? undefined : "setpriv is not installed", timeout: 30_000 }, () => {
  const r = sh("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", process.execPath, MAIN, "up", LAB]);
  if (process.getuid?.() !== 0) assert.equal(r.code, 77);
  else {
    assert.equal(r.code, 77, r.err);
    assert.equal(r.err, "lvslab: real mode needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces; run it as root or with sudo\n");
  }
});
