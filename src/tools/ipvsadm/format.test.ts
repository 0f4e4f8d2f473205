import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FwdMethod, SVC_F_PERSISTENT, type ConnEntry, type DestEntry, type ServiceEntry } from "../../ipvs/api.js";
import {
  cmpDests,
  formatConns,
  formatDaemons,
  formatListAll,
  formatListService,
  formatSave,
  formatTimeout,
  glibcSort,
  largenum,
  sortDests,
} from "./format.js";
import { inetAton, resolverFromFiles } from "./resolver.js";

const ip = (s: string): number => inetAton(s)!;
const zs = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
const zr = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };

function dest(addr: string, port: number, over: Partial<DestEntry> = {}): DestEntry {
  return {
    addr: ip(addr),
    port,
    fwd: FwdMethod.Masq,
    weight: 1,
    uThreshold: 0,
    lThreshold: 0,
    tunType: "ipip",
    tunPort: 0,
    tunFlags: 0,
    activeConns: 0,
    inactConns: 0,
    persistConns: 0,
    stats: zs,
    rates: zr,
    ...over,
  };
}

function tcpService(addr: string, port: number, dests: DestEntry[], over: Partial<ServiceEntry> = {}): ServiceEntry {
  return {
    key: { fwmark: 0, protocol: 6, addr: ip(addr), port },
    scheduler: "wrr",
    flags: 0,
    timeout: 0,
    netmask: 0xffffffff,
    pe: "",
    dests,
    stats: zs,
    rates: zr,
    ...over,
  };
}

const R = resolverFromFiles();
const INFO = { version: "1.2.1", connTabSize: 4096 };

/** The seed lab after six curls, counters as in test/golden/kernel/seed-nat.out. */
function seedAfter(): ServiceEntry {
  return tcpService(
    "192.168.75.131",
    80,
    [
      dest("192.168.1.190", 80, {
        weight: 2,
        inactConns: 4,
        stats: { conns: 4, inpkts: 24, outpkts: 16, inbytes: 1592, outbytes: 1884 },
        rates: { cps: 0, inpps: 2, outpps: 1, inbps: 102, outbps: 121 },
      }),
      dest("192.168.1.185", 80, {
        inactConns: 2,
        stats: { conns: 2, inpkts: 12, outpkts: 8, inbytes: 796, outbytes: 944 },
        rates: { cps: 0, inpps: 1, outpps: 0, inbps: 44, outbps: 52 },
      }),
    ],
    {
      stats: { conns: 6, inpkts: 36, outpkts: 24, inbytes: 2388, outbytes: 2828 },
      rates: { cps: 0, inpps: 2, outpps: 1, inbps: 146, outbps: 173 },
    },
  );
}

describe("ipvsadm format: the seed-nat golden listings", () => {
  it("-L -n", () => {
    assert.equal(
      formatListAll(INFO, [seedAfter()], { numeric: true }, R),
      "IP Virtual Server version 1.2.1 (size=4096)\n" +
        "Prot LocalAddress:Port Scheduler Flags\n" +
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
        "TCP  192.168.75.131:80 wrr\n" +
        "  -> 192.168.1.185:80             Masq    1      0          2         \n" +
        "  -> 192.168.1.190:80             Masq    2      0          4         \n",
    );
  });

  it("-L -n --stats", () => {
    assert.equal(
      formatListAll(INFO, [seedAfter()], { numeric: true, stats: true }, R),
      "IP Virtual Server version 1.2.1 (size=4096)\n" +
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n" +
        "  -> RemoteAddress:Port\n" +
        "TCP  192.168.75.131:80                   6       36       24     2388     2828\n" +
        "  -> 192.168.1.185:80                    2       12        8      796      944\n" +
        "  -> 192.168.1.190:80                    4       24       16     1592     1884\n",
    );
  });

  it("-L -n --rate", () => {
    assert.equal(
      formatListAll(INFO, [seedAfter()], { numeric: true, rate: true }, R),
      "IP Virtual Server version 1.2.1 (size=4096)\n" +
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n" +
        "  -> RemoteAddress:Port\n" +
        "TCP  192.168.75.131:80                   0        2        1      146      173\n" +
        "  -> 192.168.1.185:80                    0        1        0       44       52\n" +
        "  -> 192.168.1.190:80                    0        2        1      102      121\n",
    );
  });

  it("-L -n -c (kernel order, addresses wider than the column)", () => {
    const c = (cport: number, d: string, exp: number): ConnEntry => ({
      protocolName: "TCP",
      caddr: ip("192.168.75.150"),
      cport,
      vaddr: ip("192.168.75.131"),
      vport: 80,
      daddr: ip(d),
      dport: 80,
      state: "TIME_WAIT",
      expiresSec: exp,
      flags: 0,
      peName: "",
      peData: "",
    });
    assert.equal(
      formatConns([c(44222, "192.168.1.190", 115), c(54018, "192.168.1.185", 110)], { numeric: true }, R),
      "IPVS connection entries\n" +
        "pro expire state       source             virtual            destination\n" +
        "TCP 01:55  TIME_WAIT   192.168.75.150:44222 192.168.75.131:80  192.168.1.190:80\n" +
        "TCP 01:50  TIME_WAIT   192.168.75.150:54018 192.168.75.131:80  192.168.1.185:80\n",
    );
  });

  it("-L --timeout", () => {
    assert.equal(formatTimeout({ tcp: 900, tcpfin: 120, udp: 300 }), "Timeout (tcp tcpfin udp): 900 120 300\n");
  });
});

describe("ipvsadm format: numbers", () => {
  it("largenum scales at 10^8, 10^9, 10^11, 10^14", () => {
    assert.equal(largenum(0), "        0");
    assert.equal(largenum(99_999_999), " 99999999");
    assert.equal(largenum(100_000_000), "  100000K");
    assert.equal(largenum(999_999_999), "  999999K");
    assert.equal(largenum(1_000_000_000), "    1000M");
    assert.equal(largenum(99_999_999_999), "   99999M");
    assert.equal(largenum(100_000_000_000), "     100G");
    assert.equal(largenum(99_999_999_999_999), "   99999G");
    assert.equal(largenum(100_000_000_000_000), "     100T");
  });

  it("--exact widens past 8 digits", () => {
    assert.equal(largenum(12345678, true), " 12345678");
    assert.equal(largenum(123456789, true), " 123456789");
    assert.equal(largenum(1234567890123, true), " 1234567890123");
  });

  it("--rate dest columns CPS/InPPS/OutPPS are exact, bytes scaled", () => {
    const s = tcpService("10.0.0.100", 80, [
      dest("192.168.1.1", 80, { rates: { cps: 123456789, inpps: 1, outpps: 2, inbps: 5_000_000_000, outbps: 3 } }),
    ]);
    assert.equal(
      formatListService(s, { numeric: true, rate: true }, R).split("\n")[3],
      "  -> 192.168.1.1:80               123456789        1        2    5000M        3",
    );
  });
});

describe("ipvsadm format: sorting", () => {
  it("(int)(a - b): 192.168.0.1 sorts before 10.0.0.1", () => {
    const d = sortDests([dest("10.0.0.1", 80), dest("192.168.0.1", 80)]);
    assert.deepEqual(
      d.map((x) => x.addr),
      [ip("192.168.0.1"), ip("10.0.0.1")],
    );
  });

  it("merge sort order, not a generic stable sort, for a non-transitive comparator", () => {
    // glibc msort by hand: [100,0] -> [0,100]; [200,50] -> [200,50] (200-50 wraps negative);
    // merge: 0 vs 200 wraps positive -> 200; 0 vs 50 -> 0; 100 vs 50 -> 50; then 100.
    const list = [dest("100.0.0.1", 1), dest("0.0.0.1", 1), dest("200.0.0.1", 1), dest("50.0.0.1", 1)];
    const got = glibcSort(list, cmpDests).map((x) => x.addr >>> 24);
    assert.deepEqual(got, [200, 0, 50, 100]);
  });

  it("services: fwmark 0 first, then protocol, address, port; --nosort keeps kernel order", () => {
    const a = tcpService("10.0.0.2", 80, []);
    const b = tcpService("10.0.0.1", 443, []);
    const u: ServiceEntry = { ...tcpService("10.0.0.1", 53, []), key: { fwmark: 0, protocol: 17, addr: ip("10.0.0.1"), port: 53 } };
    const f: ServiceEntry = { ...tcpService("0.0.0.0", 0, []), key: { fwmark: 7 } };
    const body = (x: string) => x.split("\n").slice(3).join("\n");
    assert.equal(
      body(formatListAll(INFO, [f, u, a, b], { numeric: true }, R)),
      "TCP  10.0.0.1:443 wrr\nTCP  10.0.0.2:80 wrr\nUDP  10.0.0.1:53 wrr\nFWM  7 wrr\n",
    );
    assert.equal(
      body(formatListAll(INFO, [f, u, a, b], { numeric: true, nosort: true }, R)),
      "FWM  7 wrr\nUDP  10.0.0.1:53 wrr\nTCP  10.0.0.2:80 wrr\nTCP  10.0.0.1:443 wrr\n",
    );
  });
});

describe("ipvsadm format: variants", () => {
  const tun = tcpService(
    "10.0.0.100",
    80,
    [
      dest("192.168.2.1", 80, { fwd: FwdMethod.Tunnel, tunType: "gue", tunPort: 6080, tunFlags: 4, weight: 3 }),
      dest("192.168.2.2", 80, { fwd: FwdMethod.Tunnel, tunType: "gre", tunFlags: 2 }),
      dest("192.168.2.3", 80, { fwd: FwdMethod.Route, uThreshold: 100, lThreshold: 50, activeConns: 7, inactConns: 8, persistConns: 2 }),
    ],
    { scheduler: "wlc", flags: SVC_F_PERSISTENT, timeout: 300, netmask: ip("255.255.0.0"), pe: "sip" },
  );

  it("--tun-info", () => {
    assert.equal(
      formatListService(tun, { numeric: true, tunInfo: true }, R),
      "Prot LocalAddress:Port Scheduler Flags\n" +
        "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n" +
        "TCP  10.0.0.100:80 wlc persistent 300 mask 255.255.0.0 pe sip\n" +
        "  -> 192.168.2.1:80               Tunnel  gue:6080:r+c  3      0          0         \n" +
        "  -> 192.168.2.2:80               Tunnel  gre:+c        1      0          0         \n" +
        "  -> 192.168.2.3:80               Route   n/a           1      7          8         \n",
    );
  });

  it("--thresholds and --persistent-conn", () => {
    assert.equal(
      formatListService(tun, { numeric: true, thresholds: true }, R).split("\n").slice(0, 3).concat(formatListService(tun, { numeric: true, thresholds: true }, R).split("\n")[5]!).join("\n"),
      "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n" +
        "  -> RemoteAddress:Port\n" +
        "TCP  10.0.0.100:80 wlc persistent 300 mask 255.255.0.0 pe sip\n" +
        "  -> 192.168.2.3:80               100        50         7          8         ",
    );
    assert.equal(
      formatListService(tun, { numeric: true, persistentConn: true }, R).split("\n")[5],
      "  -> 192.168.2.3:80               1         2           7          8         ",
    );
  });

  it("-S keeps --pe, drops thresholds, and names tunnel options", () => {
    assert.equal(
      formatSave([tun], true, R),
      "-A -t 10.0.0.100:80 -s wlc -p 300 -M 255.255.0.0 --pe sip\n" +
        "-a -t 10.0.0.100:80 -r 192.168.2.1:80 -i -w 3 --tun-type gue --tun-port 6080 --tun-remcsum\n" +
        "-a -t 10.0.0.100:80 -r 192.168.2.2:80 -i -w 1 --tun-type gre --tun-csum\n" +
        "-a -t 10.0.0.100:80 -r 192.168.2.3:80 -g -w 1\n",
    );
  });

  it("names without -n, cut at 33 (service) and 28 (dest) columns", () => {
    const r = resolverFromFiles("10.0.0.100 a-very-long-virtual-host-name.example.com\n192.168.2.3 a-long-real-server-name.example.com\n");
    const out = formatListService(tun, {}, r).split("\n");
    assert.equal(out[2], "TCP  a-very-long-virtual-host-nam wlc persistent 300 mask 255.255.0.0 pe sip");
    assert.equal(out[5], "  -> a-long-real-server-name.exam Route   1      7          8         ");
    assert.equal(formatSave([tun], false, r).split("\n")[3], "-a -t a-very-long-virtual-host-name.example.com:http -r a-long-real-server-name.example.com:http -g -w 1");
  });

  it("-c --persistent-conn: pe columns only on rows that carry pe data", () => {
    const base: ConnEntry = {
      protocolName: "UDP",
      caddr: ip("10.0.0.7"),
      cport: 5060,
      vaddr: ip("10.0.0.100"),
      vport: 5060,
      daddr: ip("192.168.1.3"),
      dport: 5060,
      state: "UDP",
      expiresSec: 299,
      flags: 0,
      peName: "",
      peData: "",
    };
    assert.equal(
      formatConns([{ ...base, peName: "sip", peData: "abc@host" }, base], { numeric: true, persistentConn: true }, R),
      "IPVS connection entries\n" +
        "pro expire state       source             virtual            destination        pe name          pe_data\n" +
        "UDP 04:59  UDP         10.0.0.7:5060      10.0.0.100:5060    192.168.1.3:5060 sip                abc@host\n" +
        "UDP 04:59  UDP         10.0.0.7:5060      10.0.0.100:5060    192.168.1.3:5060\n",
    );
    assert.equal(
      formatConns([{ ...base, protocolName: "IP", state: "ASSURED", expiresSec: 3600, cport: 0, vaddr: 1, vport: 0, dport: 0 }], {}, R).split("\n")[2],
      "IP  60:00  ASSURED     10.0.0.7:0         0.0.0.1:0          192.168.1.3:0",
    );
    assert.equal(formatConns([base], {}, R).split("\n")[2], "UDP 04:59  UDP         10.0.0.7:sip       10.0.0.100:sip     192.168.1.3:sip");
  });

  it("--daemon", () => {
    assert.equal(formatDaemons([]), "");
    assert.equal(
      formatDaemons([
        { state: "backup", mcastIfn: "eth1", syncId: 3, maxLen: 0, group: 0, port: 0, ttl: 0 },
        { state: "master", mcastIfn: "eth0", syncId: 0, maxLen: 1472, group: ip("224.0.0.81"), port: 8848, ttl: 1 },
      ]),
      "master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n" +
        "backup sync daemon (mcast=eth1, syncid=3)\n",
    );
  });
});
