/**
 * `ip` against text captured from iproute2 6.1 (Debian 12) in a scratch network namespace
 * (veth names there carried "@peer"; the layouts are otherwise identical).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ip } from "./ip.js";
import { director, ip4, mac, run } from "./testing.test-helper.js";

describe("ip addr", () => {
  it("prints the iproute2 layout", async () => {
    const h = director();
    const r = await run(h, ip, ["ip", "addr"]);
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 00:0c:29:d1:a5:01 brd ff:ff:ff:ff:ff:ff
    inet 192.168.1.186/24 brd 192.168.1.255 scope global eth0
       valid_lft forever preferred_lft forever
3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 00:0c:29:d1:a5:0b brd ff:ff:ff:ff:ff:ff
    inet 192.168.75.131/24 brd 192.168.75.255 scope global eth1
       valid_lft forever preferred_lft forever
`,
    );
    assert.equal((await run(h, ip, ["ip", "a"])).out, r.out);
  });

  it("add/del, secondaries, brd + and the kernel's errors", async () => {
    const h = director();
    assert.equal((await run(h, ip, ["ip", "addr", "add", "192.168.1.200/24", "dev", "eth0"])).code, 0);
    assert.equal((await run(h, ip, ["ip", "addr", "add", "192.168.1.201/32", "dev", "eth0"])).code, 0);
    assert.equal((await run(h, ip, ["ip", "addr", "add", "10.1.2.1/24", "brd", "+", "dev", "eth0"])).code, 0);
    const r = await run(h, ip, ["ip", "-4", "a", "show", "eth0"]);
    assert.equal(
      r.out,
      `2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    inet 192.168.1.186/24 brd 192.168.1.255 scope global eth0
       valid_lft forever preferred_lft forever
    inet 192.168.1.201/32 scope global eth0
       valid_lft forever preferred_lft forever
    inet 10.1.2.1/24 brd 10.1.2.255 scope global eth0
       valid_lft forever preferred_lft forever
    inet 192.168.1.200/24 scope global secondary eth0
       valid_lft forever preferred_lft forever
`,
    );
    assert.deepEqual(await run(h, ip, ["ip", "addr", "add", "192.168.1.200/24", "dev", "eth0"]), {
      code: 2, out: "", err: "Error: ipv4: Address already assigned.\n",
    });
    assert.deepEqual(await run(h, ip, ["ip", "addr", "add", "1.2.3.4/24", "dev", "eth9"]), { code: 1, out: "", err: 'Cannot find device "eth9"\n' });
    assert.deepEqual(await run(h, ip, ["ip", "addr", "del", "1.2.3.9/24", "dev", "eth0"]), { code: 2, out: "", err: "Error: ipv4: Address not found.\n" });
    assert.deepEqual(await run(h, ip, ["ip", "addr", "add", "foo", "dev", "eth0"]), {
      code: 1, out: "", err: 'Error: any valid prefix is expected rather than "foo".\n',
    });
    assert.deepEqual(await run(h, ip, ["ip", "addr", "add", "1.2.3.4/24"]), {
      code: 1, out: "", err: 'Not enough information: "dev" argument is required.\n',
    });
    assert.deepEqual(await run(h, ip, ["ip", "addr", "show", "dev", "eth9"]), { code: 1, out: "", err: 'Device "eth9" does not exist.\n' });
    assert.deepEqual(await run(h, ip, ["ip", "addr", "foo"]), { code: 255, out: "", err: 'Command "foo" is unknown, try "ip address help".\n' });
    assert.equal((await run(h, ip, ["ip", "addr", "del", "10.1.2.1/24", "dev", "eth0"])).code, 0);
    assert.ok(!h.routes.list().some((x) => x.dst === ip4("10.1.2.0")));
  });

  it("-br", async () => {
    const h = director();
    assert.equal(
      (await run(h, ip, ["ip", "-br", "addr"])).out,
      "lo               UNKNOWN        127.0.0.1/8 \neth0             UP             192.168.1.186/24 \neth1             UP             192.168.75.131/24 \n",
    );
    assert.equal(
      (await run(h, ip, ["ip", "-br", "link"])).out,
      "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n" +
        "eth0             UP             00:0c:29:d1:a5:01 <BROADCAST,MULTICAST,UP,LOWER_UP> \n" +
        "eth1             UP             00:0c:29:d1:a5:0b <BROADCAST,MULTICAST,UP,LOWER_UP> \n",
    );
  });
});

describe("ip link", () => {
  it("show, -s, set down/up and mtu", async () => {
    const h = director();
    h.nics.get("eth0")!.stats.rxBytes = 90;
    h.nics.get("eth0")!.stats.rxPackets = 1;
    h.nics.get("eth0")!.stats.txBytes = 90;
    h.nics.get("eth0")!.stats.txPackets = 1;
    assert.equal(
      (await run(h, ip, ["ip", "-s", "link", "show", "eth0"])).out,
      `2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000
    link/ether 00:0c:29:d1:a5:01 brd ff:ff:ff:ff:ff:ff
    RX:  bytes packets errors dropped  missed   mcast           
            90       1      0       0       0       0 
    TX:  bytes packets errors dropped carrier collsns           
            90       1      0       0       0       0 
`,
    );
    assert.equal((await run(h, ip, ["ip", "link", "set", "dev", "eth1", "down"])).code, 0);
    assert.equal(
      (await run(h, ip, ["ip", "link", "show", "eth1"])).out,
      "3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc fq_codel state DOWN mode DEFAULT group default qlen 1000\n    link/ether 00:0c:29:d1:a5:0b brd ff:ff:ff:ff:ff:ff\n",
    );
    // Linux drops every route through a device that goes down, and restores only the connected ones.
    assert.equal((await run(h, ip, ["ip", "route"])).out, "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.186 \n");
    await run(h, ip, ["ip", "link", "set", "eth1", "up", "mtu", "1400"]);
    assert.equal(h.nics.get("eth1")!.mtu, 1400);
    assert.equal(
      (await run(h, ip, ["ip", "route"])).out,
      "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.186 \n192.168.75.0/24 dev eth1 proto kernel scope link src 192.168.75.131 \n",
    );
    assert.deepEqual(await run(h, ip, ["ip", "link", "set", "dev", "eth1", "foo"]), {
      code: 255, out: "", err: 'Error: either "dev" is duplicate, or "foo" is a garbage.\n',
    });
    assert.deepEqual(await run(h, ip, ["ip", "link", "set", "eth9", "up"]), { code: 1, out: "", err: 'Cannot find device "eth9"\n' });
    assert.deepEqual(await run(h, ip, ["ip", "link", "set", "eth1", "mtu", "99999"]), { code: 2, out: "", err: "Error: mtu greater than device maximum.\n" });
  });

  it("set mtu/promisc with bad values: iproute2-6.1's messages and exit codes", async () => {
    // Recorded with `ip link set dev v0 ...` (iproute2-6.1.0) on a veth in a scratch namespace.
    const h = director();
    const bad = async (args: string[], code: number, err: string) =>
      assert.deepEqual(await run(h, ip, ["ip", "link", "set", "dev", "eth1", ...args]), { code, out: "", err }, args.join(" "));
    await bad(["mtu", "0"], 2, "Error: mtu less than device minimum.\n");
    await bad(["mtu", "67"], 2, "Error: mtu less than device minimum.\n");
    await bad(["mtu", "-1"], 2, "Error: mtu less than device minimum.\n"); // get_integer takes it; the kernel refuses
    await bad(["mtu", "70000"], 2, "Error: mtu greater than device maximum.\n");
    await bad(["mtu", "abc"], 255, 'Error: argument "abc" is wrong: Invalid "mtu" value\n\n');
    await bad(["mtu", "1400x"], 255, 'Error: argument "1400x" is wrong: Invalid "mtu" value\n\n');
    await bad(["mtu", "4294967295"], 255, 'Error: argument "4294967295" is wrong: Invalid "mtu" value\n\n');
    await bad(["mtu"], 255, 'Command line is not complete. Try option "help"\n');
    await bad(["mtu", "1400", "mtu", "1300"], 255, 'Error: duplicate "mtu": "1300" is the second value.\n');
    await bad(["promisc", "maybe"], 1, 'Error: argument of "promisc" must be "on" or "off", not "maybe"\n');
    await bad(["promisc"], 255, 'Command line is not complete. Try option "help"\n');
    assert.equal(h.nics.get("eth1")!.mtu, 1500, "no failed command changed the MTU");
    // strtol base 0: hex, and blanks before the number
    assert.deepEqual(await run(h, ip, ["ip", "link", "set", "dev", "eth1", "mtu", "0x5dc"]), { code: 0, out: "", err: "" });
    assert.equal(h.nics.get("eth1")!.mtu, 1500);
    assert.deepEqual(await run(h, ip, ["ip", "link", "set", "dev", "eth1", "mtu", " 1400"]), { code: 0, out: "", err: "" });
    assert.equal(h.nics.get("eth1")!.mtu, 1400);
  });

  it("usage errors", async () => {
    const h = director();
    assert.deepEqual(await run(h, ip, ["ip", "foo"]), { code: 1, out: "", err: 'Object "foo" is unknown, try "ip help".\n' });
    assert.deepEqual(await run(h, ip, ["ip", "-x", "addr"]), { code: 255, out: "", err: 'Option "-x" is unknown, try "ip -help".\n' });
    assert.deepEqual(await run(h, ip, ["ip", "route", "blah"]), { code: 255, out: "", err: 'Command "blah" is unknown, try "ip route help".\n' });
    // iproute2 6.1: one device at most, for link and addr alike; a bare "dev" is incomplete.
    const garbage = { code: 255, out: "", err: 'Error: either "dev" is duplicate, or "eth1" is a garbage.\n' };
    assert.deepEqual(await run(h, ip, ["ip", "link", "show", "eth0", "eth1"]), garbage);
    assert.deepEqual(await run(h, ip, ["ip", "link", "show", "dev", "eth0", "dev", "eth1"]), garbage);
    assert.deepEqual(await run(h, ip, ["ip", "addr", "show", "dev", "eth0", "eth1"]), garbage);
    const incomplete = { code: 255, out: "", err: 'Command line is not complete. Try option "help"\n' };
    assert.deepEqual(await run(h, ip, ["ip", "link", "show", "dev"]), incomplete);
    assert.deepEqual(await run(h, ip, ["ip", "addr", "show", "dev"]), incomplete);
  });
});

describe("ip route", () => {
  it("show, add, replace, del and get", async () => {
    const h = director();
    const ok = async (...a: string[]) => assert.deepEqual(await run(h, ip, ["ip", ...a]), { code: 0, out: "", err: "" });
    await ok("route", "del", "default");
    await ok("route", "add", "default", "via", "192.168.1.185");
    await ok("route", "add", "10.0.0.0/8", "via", "192.168.1.1");
    await ok("route", "add", "172.16.0.0/16", "dev", "eth1", "metric", "100");
    await ok("route", "add", "172.17.0.0/16", "via", "192.168.1.2", "src", "192.168.1.186", "metric", "5");
    await ok("route", "add", "10.9.9.9", "dev", "eth0");
    await ok("route", "replace", "default", "via", "192.168.1.5");
    assert.equal(
      (await run(h, ip, ["ip", "route"])).out,
      `default via 192.168.1.5 dev eth0 
10.0.0.0/8 via 192.168.1.1 dev eth0 
10.9.9.9 dev eth0 scope link 
172.16.0.0/16 dev eth1 scope link metric 100 
172.17.0.0/16 via 192.168.1.2 dev eth0 src 192.168.1.186 metric 5 
192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.186 
192.168.75.0/24 dev eth1 proto kernel scope link src 192.168.75.131 
`,
    );
    assert.equal(
      (await run(h, ip, ["ip", "route", "show", "dev", "eth0"])).out,
      `default via 192.168.1.5 
10.0.0.0/8 via 192.168.1.1 
10.9.9.9 scope link 
172.17.0.0/16 via 192.168.1.2 src 192.168.1.186 metric 5 
192.168.1.0/24 proto kernel scope link src 192.168.1.186 
`,
    );
    assert.equal((await run(h, ip, ["ip", "route", "get", "10.0.0.1"])).out, "10.0.0.1 via 192.168.1.1 dev eth0 src 192.168.1.186 uid 0 \n    cache \n");
    assert.equal((await run(h, ip, ["ip", "route", "get", "192.168.75.150"])).out, "192.168.75.150 dev eth1 src 192.168.75.131 uid 0 \n    cache \n");
    assert.equal((await run(h, ip, ["ip", "route", "get", "192.168.1.186"])).out, "local 192.168.1.186 dev lo src 192.168.1.186 uid 0 \n    cache <local> \n");
    assert.equal((await run(h, ip, ["ip", "r", "get", "192.168.1.255"])).out, "broadcast 192.168.1.255 dev eth0 src 192.168.1.186 uid 0 \n    cache <local,brd> \n");
  });

  it("errors", async () => {
    const h = director();
    const e = async (code: number, err: string, ...a: string[]) => assert.deepEqual(await run(h, ip, ["ip", ...a]), { code, out: "", err: err + "\n" });
    await e(2, "Error: Nexthop has invalid gateway.", "route", "add", "10.0.0.0/8", "via", "9.9.9.9");
    await e(2, "Error: Nexthop has invalid gateway.", "route", "add", "10.0.0.0/8", "via", "192.168.1.1", "dev", "eth1");
    await e(2, "RTNETLINK answers: File exists", "route", "add", "default", "via", "192.168.1.5");
    await e(2, "RTNETLINK answers: No such process", "route", "del", "11.0.0.0/8");
    await e(2, "RTNETLINK answers: No such device", "route", "add", "10.0.0.0/8");
    await e(2, "Error: Invalid prefsrc address.", "route", "add", "10.0.0.0/8", "via", "192.168.1.1", "src", "1.1.1.1");
    await e(1, 'Cannot find device "eth9"', "route", "add", "10.0.0.0/8", "dev", "eth9");
    await e(1, 'Error: any valid prefix is expected rather than "foo".', "route", "add", "foo", "via", "1.1.1.1");
    await e(1, 'Error: any valid prefix is expected rather than "10.0.0.0/33".', "route", "add", "10.0.0.0/33", "dev", "eth0");
    await e(2, "Error: Invalid prefix for given prefix length.", "route", "add", "10.0.0.1/8", "dev", "eth0");
    await e(1, 'Error: any valid prefix is expected rather than "300.1.1.1".', "route", "get", "300.1.1.1");
    await e(1, "need at least a destination address", "route", "get");
    await run(h, ip, ["ip", "route", "del", "default"]);
    await e(2, "RTNETLINK answers: Network is unreachable", "route", "get", "10.99.1.1");
  });
});

describe("ip neigh", () => {
  it("add, show, del, flush", async () => {
    const h = director();
    const ok = async (...a: string[]) => assert.deepEqual(await run(h, ip, ["ip", ...a]), { code: 0, out: "", err: "" });
    await ok("neigh", "add", "192.168.1.7", "lladdr", "00:0c:29:00:00:07", "dev", "eth0");
    await ok("neigh", "add", "192.168.75.150", "lladdr", "00:0c:29:5a:c3:3e", "dev", "eth1", "nud", "stale");
    assert.equal(
      (await run(h, ip, ["ip", "neigh"])).out,
      "192.168.1.7 dev eth0 lladdr 00:0c:29:00:00:07 PERMANENT \n192.168.75.150 dev eth1 lladdr 00:0c:29:5a:c3:3e STALE \n",
    );
    assert.equal((await run(h, ip, ["ip", "n", "show", "dev", "eth1"])).out, "192.168.75.150 lladdr 00:0c:29:5a:c3:3e STALE \n");
    const e = async (code: number, err: string, ...a: string[]) => assert.deepEqual(await run(h, ip, ["ip", ...a]), { code, out: "", err: err + "\n" });
    await e(2, "RTNETLINK answers: File exists", "neigh", "add", "192.168.1.7", "lladdr", "00:0c:29:00:00:07", "dev", "eth0");
    await e(2, "RTNETLINK answers: No such file or directory", "neigh", "del", "192.168.1.99", "dev", "eth0");
    await e(2, "Error: No link layer address given.", "neigh", "add", "1.2.3.4", "dev", "eth0");
    await e(255, "Device and destination are required arguments.", "neigh", "del", "192.168.75.150");
    await e(1, '"zz" is invalid lladdr.', "neigh", "add", "192.168.1.50", "lladdr", "zz", "dev", "eth0");
    await ok("neigh", "flush", "all");
    assert.equal((await run(h, ip, ["ip", "neigh"])).out, "192.168.1.7 dev eth0 lladdr 00:0c:29:00:00:07 PERMANENT \n");
    await ok("neigh", "del", "192.168.1.7", "dev", "eth0");
    assert.equal((await run(h, ip, ["ip", "neigh"])).out, "");
    void mac;
  });
});
