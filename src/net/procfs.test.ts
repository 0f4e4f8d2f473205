import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Host } from "./host.js";
import { mountProc } from "./procfs.js";
import { World } from "./world.js";
import { bytesText } from "./vfs.js";

const A = (s: string) => s.split(".").reduce((a, x) => ((a << 8) | Number(x)) >>> 0, 0);

function host(): Host {
  const h = new Host(new World(), "rs1");
  h.addNic("eth0", 0x000c2900_0001);
  h.addAddress("eth0", A("192.168.1.185"), 24);
  h.routes.add({ dst: 0, plen: 0, gateway: A("192.168.1.186"), dev: "eth0", metric: 0, proto: "boot", scope: "global" });
  mountProc(h);
  return h;
}

const text = (h: Host, p: string) => {
  const r = h.fs.read(p);
  return typeof r === "string" ? r : bytesText(r);
};

describe("procfs", () => {
  it("/proc/sys reads, writes, lists and refuses", () => {
    const h = host();
    assert.equal(text(h, "/proc/sys/net/ipv4/ip_forward"), "0\n");
    assert.equal(h.fs.write("/proc/sys/net/ipv4/ip_forward", "1\n"), true);
    assert.equal(h.sysctl.get("net.ipv4.ip_forward"), "1");
    assert.equal(h.fs.write("/proc/sys/net/ipv4/conf/eth0/send_redirects", "0"), true);
    assert.equal(h.sysctl.get("net.ipv4.conf.eth0.send_redirects"), "0");
    assert.equal(h.fs.write("/proc/sys/net/ipv4/nosuch", "1"), "ENOENT");
    assert.equal(h.fs.write("/proc/sys/net/ipv4/ip_forward", "abc"), "EINVAL");
    assert.equal(text(h, "/proc/sys/kernel/hostname"), "rs1\n");
    assert.equal(h.fs.read("/proc/sys/net/ipv4"), "EISDIR");
    assert.ok(h.fs.isDir("/proc/sys/net/ipv4/conf"));
    assert.deepEqual(h.fs.list("/proc/sys/net/ipv4/conf"), ["all", "default", "eth0", "lo"]);
    assert.equal(h.fs.read("/proc/sys/net/nosuch/x"), "ENOENT");
  });

  it("/proc/net/ip_vs* exist once ip_vs is loaded", () => {
    const h = host();
    assert.equal(h.fs.read("/proc/net/ip_vs"), "ENOENT");
    assert.deepEqual(h.fs.list("/proc/net"), ["arp", "dev", "route", "snmp"]);
    h.enableIpvs();
    assert.match(text(h, "/proc/net/ip_vs"), /^IP Virtual Server version 1\.2\.1/);
    assert.match(text(h, "/proc/net/ip_vs_conn"), /^Pro FromIP/);
    assert.match(text(h, "/proc/net/ip_vs_stats"), /Total Incoming Outgoing/);
  });

  it("/proc/net/route, arp, snmp, dev layouts (Linux 6.1)", () => {
    const h = host();
    h.neigh.addPermanent("eth0", A("192.168.1.7"), 0x000c2900_0007);
    assert.equal(
      text(h, "/proc/net/arp"),
      "IP address       HW type     Flags       HW address            Mask     Device\n" +
        "192.168.1.7      0x1         0x6         00:0c:29:00:00:07     *        eth0\n",
    );
    const route = text(h, "/proc/net/route").split("\n");
    assert.equal(route[0], "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT".padEnd(127));
    assert.equal(route[1], "eth0\t00000000\tBA01A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0".padEnd(127));
    assert.equal(route[2], "eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0".padEnd(127));
    const snmp = text(h, "/proc/net/snmp").split("\n");
    assert.equal(snmp[0], "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates");
    assert.equal(snmp[1], "Ip: 2 64 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0");
    assert.equal(snmp[5], "Tcp: 1 200 120000 -1 0 0 0 0 0 0 0 0 0 0 0");
    const dev = text(h, "/proc/net/dev").split("\n");
    assert.equal(dev[2], "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0");
  });
});
