/** net-tools (route, ifconfig, arp, netstat), hostname, modprobe/lsmod, dmesg. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arp } from "./arp.js";
import { dmesg } from "./dmesg.js";
import { hostname } from "./hostname.js";
import { ifconfig } from "./ifconfig.js";
import { ip } from "./ip.js";
import { lsmod, modprobe } from "./modprobe.js";
import { netstat } from "./netstat.js";
import { route } from "./route.js";
import { director, ip4, mac, run } from "./testing.test-helper.js";

describe("net-tools", () => {
  it("route -n and route (net-tools 2.10 layout)", async () => {
    const h = director();
    await run(h, ip, ["ip", "route", "add", "10.9.9.9", "dev", "eth0"]);
    await run(h, ip, ["ip", "route", "add", "172.16.0.0/16", "dev", "eth1", "metric", "100"]);
    const head = "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n";
    assert.equal(
      (await run(h, route, ["route", "-n"])).out,
      head +
        "0.0.0.0         192.168.75.2    0.0.0.0         UG    0      0        0 eth1\n" +
        "10.9.9.9        0.0.0.0         255.255.255.255 UH    0      0        0 eth0\n" +
        "172.16.0.0      0.0.0.0         255.255.0.0     U     100    0        0 eth1\n" +
        "192.168.1.0     0.0.0.0         255.255.255.0   U     0      0        0 eth0\n" +
        "192.168.75.0    0.0.0.0         255.255.255.0   U     0      0        0 eth1\n",
    );
    assert.match((await run(h, route, ["route"])).out, /\ndefault         192\.168\.75\.2    0\.0\.0\.0         UG    0      0        0 eth1\n/);
  });

  it("ifconfig", async () => {
    const h = director();
    const eth0 = h.nics.get("eth0")!;
    Object.assign(eth0.stats, { rxPackets: 24, rxBytes: 1952, txPackets: 37, txBytes: 2094 });
    assert.equal(
      (await run(h, ifconfig, ["ifconfig", "eth0"])).out,
      `eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        inet 192.168.1.186  netmask 255.255.255.0  broadcast 192.168.1.255
        ether 00:0c:29:d1:a5:01  txqueuelen 1000  (Ethernet)
        RX packets 24  bytes 1952 (1.9 KiB)
        RX errors 0  dropped 0  overruns 0  frame 0
        TX packets 37  bytes 2094 (2.0 KiB)
        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0

`,
    );
    await run(h, ip, ["ip", "link", "set", "lo", "down"]);
    const all = (await run(h, ifconfig, ["ifconfig", "-a"])).out;
    assert.ok(all.endsWith(
      `lo: flags=8<LOOPBACK>  mtu 65536
        inet 127.0.0.1  netmask 255.0.0.0
        loop  txqueuelen 1000  (Local Loopback)
        RX packets 0  bytes 0 (0.0 B)
        RX errors 0  dropped 0  overruns 0  frame 0
        TX packets 0  bytes 0 (0.0 B)
        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0

`));
    assert.ok(!(await run(h, ifconfig, ["ifconfig"])).out.includes("lo:"));
    assert.deepEqual(await run(h, ifconfig, ["ifconfig", "eth9"]), { code: 1, out: "", err: "eth9: error fetching interface information: Device not found\n" });
  });

  it("arp -n and arp -an", async () => {
    const h = director();
    h.neigh.addPermanent("eth0", ip4("192.168.1.7"), mac("00:0c:29:00:00:07"));
    h.neigh.resolve("eth0", ip4("192.168.1.1"), () => undefined);
    assert.equal(
      (await run(h, arp, ["arp", "-n"])).out,
      "Address                  HWtype  HWaddress           Flags Mask            Iface\n" +
        "192.168.1.7              ether   00:0c:29:00:00:07   CM                    eth0\n" +
        "192.168.1.1                      (incomplete)                              eth0\n",
    );
    assert.equal(
      (await run(h, arp, ["arp", "-an"])).out,
      "? (192.168.1.7) at 00:0c:29:00:00:07 [ether] PERM on eth0\n? (192.168.1.1) at <incomplete> on eth0\n",
    );
  });

  it("netstat -tn / -tan", async () => {
    const h = director();
    h.tcp.listen({ addr: 0, port: 80, backlog: 511 }, () => undefined);
    const r = await run(h, netstat, ["netstat", "-tan"]);
    assert.equal(
      r.out,
      "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \n" +
        "tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN     \n",
    );
    assert.equal((await run(h, netstat, ["netstat", "-tn"])).out, "Active Internet connections (w/o servers)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \n");
  });
});

describe("hostname, modprobe, lsmod, dmesg", () => {
  it("hostname prints and sets kernel.hostname", async () => {
    const h = director();
    assert.deepEqual(await run(h, hostname, ["hostname"]), { code: 0, out: "vip\n", err: "" });
    assert.deepEqual(await run(h, hostname, ["hostname", "-I"]), { code: 0, out: "192.168.1.186 192.168.75.131 \n", err: "" });
    await run(h, hostname, ["hostname", "director"]);
    assert.equal(h.sysctl.get("kernel.hostname"), "director");
  });

  it("modprobe ip_vs enables IPVS unless the lab forbids it", async () => {
    const h = director();
    assert.equal((await run(h, lsmod, ["lsmod"])).out, "Module                  Size  Used by\n");
    assert.deepEqual(await run(h, modprobe, ["modprobe", "ip_vs"]), { code: 0, out: "", err: "" });
    assert.ok(h.ipvs);
    assert.match((await run(h, lsmod, ["lsmod"])).out, /\nip_vs                 196608  0\n/);
    assert.deepEqual(await run(h, modprobe, ["modprobe", "nosuch"]), { code: 1, out: "", err: "modprobe: FATAL: Module nosuch not found in directory /lib/modules/6.1.0-28-amd64\n" });
    const g = director();
    g["ipvsAllowed"] = false;
    assert.equal((await run(g, modprobe, ["modprobe", "ip_vs"])).code, 1);
    assert.equal(g.ipvs, undefined);
  });

  it("dmesg", async () => {
    const h = director();
    h.klog("IPVS: Registered protocols (TCP, UDP, SCTP, AH, ESP)");
    assert.equal((await run(h, dmesg, ["dmesg"])).out, "[    0.000000] IPVS: Registered protocols (TCP, UDP, SCTP, AH, ESP)\n");
  });
});
