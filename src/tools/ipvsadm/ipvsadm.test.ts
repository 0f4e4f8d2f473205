import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeControl, fakeCtx } from "./fake-control.test-helper.js";
import { makeIpvsadm, makeIpvsadmRestore, makeIpvsadmSave } from "./index.js";

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(ctl: FakeControl | undefined, line: string, stdin?: string): Promise<Run> {
  const argv = line.split(" ").filter((w) => w !== "");
  const t = fakeCtx(argv, stdin);
  const name = argv[0];
  const tool =
    name === "ipvsadm-save" ? makeIpvsadmSave(() => ctl) : name === "ipvsadm-restore" ? makeIpvsadmRestore(() => ctl) : makeIpvsadm(() => ctl);
  const code = await tool(t.ctx);
  return { code, out: t.out(), err: t.err() };
}

async function ok(ctl: FakeControl, line: string): Promise<string> {
  const r = await run(ctl, line);
  assert.equal(r.err, "", `stderr of ${line}`);
  assert.equal(r.code, 0, `exit of ${line}`);
  return r.out;
}

async function seedLab(): Promise<FakeControl> {
  const ctl = new FakeControl();
  await ok(ctl, "ipvsadm -C");
  await ok(ctl, "ipvsadm -A -t 192.168.75.131:80 -s wrr");
  await ok(ctl, "ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.185:80 -m -w 1");
  await ok(ctl, "ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.190:80 -m -w 2");
  return ctl;
}

const SEED_LN =
  "IP Virtual Server version 1.2.1 (size=4096)\n" +
  "Prot LocalAddress:Port Scheduler Flags\n" +
  "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
  "TCP  192.168.75.131:80 wrr\n" +
  "  -> 192.168.1.185:80             Masq    1      0          0         \n" +
  "  -> 192.168.1.190:80             Masq    2      0          0         \n";

describe("ipvsadm: the seed lab", () => {
  it("builds the NAT service and lists it exactly as the kernel golden shows", async () => {
    const ctl = await seedLab();
    assert.equal(await ok(ctl, "ipvsadm -L -n"), SEED_LN);
    assert.equal(await ok(ctl, "ipvsadm -Ln"), SEED_LN);
    assert.equal(await ok(ctl, "ipvsadm -ln"), SEED_LN);
    assert.equal(await ok(ctl, "ipvsadm --list --numeric"), SEED_LN);
    assert.deepEqual(ctl.calls.slice(0, 2), [
      "flush",
      'addService {"key":{"fwmark":0,"protocol":6,"addr":3232254851,"port":80},"scheduler":"wrr","flags":0,"timeout":0,"netmask":4294967295,"pe":""}',
    ]);
    assert.equal(
      ctl.calls[2],
      'addDest {"fwmark":0,"protocol":6,"addr":3232254851,"port":80} {"addr":3232235961,"port":80,"fwd":0,"weight":1,"uThreshold":0,"lThreshold":0,"tunType":"ipip","tunPort":0,"tunFlags":0}',
    );
  });

  it("resolves names without -n (and `ipvsadm` alone lists the same way)", async () => {
    const ctl = await seedLab();
    const named = SEED_LN.replace("192.168.75.131:80 wrr", "192.168.75.131:http wrr")
      .replace("192.168.1.185:80   ", "192.168.1.185:http ")
      .replace("192.168.1.190:80   ", "192.168.1.190:http ");
    assert.equal(await ok(ctl, "ipvsadm -L"), named);
    assert.equal(await ok(ctl, "ipvsadm"), named);
  });

  it("accepts service names and hostnames in arguments", async () => {
    const ctl = new FakeControl();
    await ok(ctl, "ipvsadm -A -t localhost:https");
    await ok(ctl, "ipvsadm -A -u 10.1:domain -s rr");
    assert.equal(
      await ok(ctl, "ipvsadm -Ln"),
      "IP Virtual Server version 1.2.1 (size=4096)\n" +
        "Prot LocalAddress:Port Scheduler Flags\n" +
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
        "TCP  127.0.0.1:443 wlc\n" +
        "UDP  10.0.0.1:53 rr\n",
    );
    assert.equal(await ok(ctl, "ipvsadm -S"), "-A -t localhost:https -s wlc\n-A -u 10.0.0.1:domain -s rr\n");
  });
});

describe("ipvsadm: validation failures print ipvsadm's text, exit 2 and touch nothing", () => {
  const cases: Array<[string, string]> = [
    ["ipvsadm -A -t 1.2.3.4", "Zero port specified for non-persistent service"],
    ["ipvsadm -A -t 1.2.3.4:80 -o", "One-Packet Scheduling is only for UDP virtual services"],
    ["ipvsadm -A -t 80", "illegal virtual server address[:port] specified"],
    ["ipvsadm -A -t nosuchhost:80", "illegal virtual server address[:port] specified"],
    ["ipvsadm -A -t 1.2.3.4:nosuchport", "illegal virtual server address[:port] specified"],
    ["ipvsadm -A -t 1.2.3.4:65536", "illegal virtual server address[:port] specified"],
    ["ipvsadm -A -f 0", "invalid fwmark value `0' specified"],
    ["ipvsadm -A -f 12x", "invalid fwmark value `12x' specified"],
    ["ipvsadm -A -t 1.2.3.4:80 -p 0", "invalid timeout value `0' specified"],
    ["ipvsadm -A -t 1.2.3.4:80 -p 2678401", "invalid timeout value `2678401' specified"],
    ["ipvsadm -A -t 1.2.3.4:80 -p 60 -M foo", "illegal virtual server persistent mask specified"],
    ["ipvsadm -A -t 1.2.3.4:80 -b flag-9", "invalid scheduler flag `flag-9'"],
    ["ipvsadm -A -t 1.2.3.4:80 -b sh-port", "incompatible scheduler flag `sh-port'"],
    ["ipvsadm -A -t 1.2.3.4:80 -s sh -b mh-port", "incompatible scheduler flag `mh-port'"],
    ["ipvsadm -A -t 1.2.3.4:80 -6", "-6 used before -f\n"],
    ["ipvsadm -A -t 1.2.3.4:80 -t 1.2.3.5:80", "multiple 'service-address' options specified"],
    ["ipvsadm -A -t 1.2.3.4:80 -f 1", "multiple 'service-address' options specified"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -m -g", "multiple 'forwarding-method' options specified"],
    ["ipvsadm -A -s rr", "You need to supply the 'service-address' option for the 'add-service' command"],
    ["ipvsadm -a -t 1.2.3.4:80", "You need to supply the 'real-server' option for the 'add-server' command"],
    ["ipvsadm -A -t 1.2.3.4:80 -w 3", "Illegal 'weight' option with the 'add-service' command"],
    ["ipvsadm -D -t 1.2.3.4:80 -s rr", "Illegal 'scheduler' option with the 'delete-service' command"],
    ["ipvsadm -C -n", "Illegal 'numeric' option with the 'flush' command"],
    ["ipvsadm -L -c -t 1.2.3.4:80", "The option 'service-address' conflicts with the 'connection' option in the 'list' command"],
    ["ipvsadm -L --timeout --daemon", "The option 'daemon' conflicts with the 'timeout' option in the 'list' command"],
    ["ipvsadm -L -c --stats", "options conflicts in the list command"],
    ["ipvsadm -L --timeout --persistent-conn", "options conflicts in the list command"],
    ["ipvsadm -L -s rr", "Illegal 'scheduler' option with the 'list' command"],
    ["ipvsadm -S -c", "Illegal 'connection' option with the 'save' command"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -w 2147483648", "illegal weight specified"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -w -1", "illegal weight specified"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -x 2147483648", "illegal u_threshold specified"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -y abc", "illegal l_threshold specified"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1:x", "illegal real server address[:port] specified"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -m --tun-type gue", "Tunnel options conflict with forward method"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 --tun-type vxlan", "illegal tunnel type specified"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-port 0", "illegal tunnel port specified"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-type gue", "You need to supply the 'tun-port' option for the 'gue' tunnel type"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-port 6080", "Illegal 'tun-port' option with the 'ipip' tunnel type"],
    ["ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-type gre --tun-remcsum", "Illegal 'tun-remcsum' option with the 'gre' tunnel type"],
    [
      "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-type gue --tun-port 6080 --tun-csum --tun-nocsum",
      "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type",
    ],
    ["ipvsadm -a -t 1.2.3.4:80 -r [2001:db8::1]:80 -m", "Different address family is allowed only for tunneling servers"],
    ["ipvsadm --set 1 2", "--set option requires 3 timeout values"],
    ["ipvsadm --set 1 2 x", "invalid timeout value `x' specified"],
    ["ipvsadm --set 1 2 3 4", "unexpected argument 4"],
    ["ipvsadm -L foo", "unexpected argument foo"],
    ["ipvsadm --start-daemon primary", "illegal start-daemon parameter specified"],
    ["ipvsadm --stop-daemon primary", "illegal start_daemon specified"],
    ["ipvsadm --start-daemon master --syncid 256", "illegal syncid specified"],
    ["ipvsadm --start-daemon master --mcast-group 10.0.0.1", "invalid IPv4 mcast-group `10.0.0.1'"],
    ["ipvsadm --start-daemon master --mcast-group 2001::1", "invalid IPv6 mcast-group `2001::1'"],
    ["ipvsadm --start-daemon master --mcast-port 0", "illegal mcast-port specified"],
    ["ipvsadm --start-daemon master --mcast-ttl 256", "illegal mcast-ttl specified"],
    ["ipvsadm --start-daemon master --sync-maxlen 65508", "illegal sync-maxlen specified"],
    ["ipvsadm --stop-daemon master --mcast-port 1", "Illegal 'mcast-port' option with the 'stop-daemon' command"],
    ["ipvsadm -L -A", "invalid option `-A'"],
    ["ipvsadm -LZ", "invalid option `-LZ'"],
    ["ipvsadm -L -h", "invalid option `-h'"],
    ["ipvsadm -R -n", "Illegal 'numeric' option with the 'restore' command"],
  ];
  for (const [line, msg] of cases) {
    it(line, async () => {
      const ctl = await seedLab();
      const before = ctl.calls.length;
      const r = await run(ctl, line);
      assert.equal(r.err, msg + "\n");
      assert.equal(r.out, "");
      assert.equal(r.code, 2);
      assert.equal(ctl.calls.length, before, "the control plane was called");
      assert.equal(await ok(ctl, "ipvsadm -Ln"), SEED_LN);
    });
  }
});

describe("ipvsadm: popt errors and usage", () => {
  const tryHelp = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";
  const cases: Array<[string, string, number]> = [
    ["ipvsadm -n -L", tryHelp, 255],
    ["ipvsadm -t 1.2.3.4:80", tryHelp, 255],
    ["ipvsadm foo", tryHelp, 255],
    ["ipvsadm -q", tryHelp, 255],
    ["ipvsadm --foo", tryHelp, 255],
    ["ipvsadm -L --foo", "--foo: unknown option\n", 255],
    ["ipvsadm -L --foo=1", "--foo=1: unknown option\n", 255],
    ["ipvsadm -Lq", "-Lq: unknown option\n", 255],
    ["ipvsadm -A -t", "-t: missing argument\n", 255],
    ["ipvsadm -L --numeric=1", "--numeric=1: option does not take an argument\n", 255],
    ["ipvsadm --list-all", tryHelp, 255],
    ["ipvsadm --start-daemon", tryHelp, 255],
  ];
  for (const [line, err, code] of cases) {
    it(line, async () => {
      const ctl = await seedLab();
      const before = ctl.calls.length;
      const r = await run(ctl, line);
      assert.equal(r.err, err);
      assert.equal(r.out, "");
      assert.equal(r.code, code);
      assert.equal(ctl.calls.length, before);
    });
  }

  it("-h prints the usage with argv[0], -v the version; both exit 0", async () => {
    const h = await run(new FakeControl(), "/sbin/ipvsadm -h");
    assert.equal(h.code, 0);
    assert.ok(h.out.startsWith("ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\nUsage:\n  /sbin/ipvsadm -A|E virtual-service"));
    assert.ok(h.out.endsWith("  --mcast-ttl ttl                     Multicast TTL (default=1)\n"));
    assert.equal(h.out.split("\n").length, 83);
    const v = await run(new FakeControl(), "ipvsadm --version");
    assert.deepEqual(v, { code: 0, out: "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n", err: "" });
    const hv = await run(new FakeControl(), "ipvsadm -h -v");
    assert.equal(hv.code, 0);
  });

  it("without the ip_vs module every command fails to initialize, -h included", async () => {
    for (const line of ["ipvsadm", "ipvsadm -h", "ipvsadm -L -n"]) {
      const r = await run(undefined, line);
      assert.deepEqual(r, {
        code: 2,
        out: "",
        err: "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
      });
    }
  });
});

describe("ipvsadm: kernel errors print ipvs_strerror and exit 255", () => {
  const cases: Array<[string, string]> = [
    ["ipvsadm -A -t 192.168.75.131:80", "Service already exists"],
    ["ipvsadm -A -t 192.168.75.131:81 -s nope", "Scheduler or persistence engine not found"],
    ["ipvsadm -A -t 192.168.75.131:81 --pe foo", "Scheduler or persistence engine not found"],
    ["ipvsadm -E -t 192.168.75.131:81", "No such service"],
    ["ipvsadm -E -t 192.168.75.131:80 -s nope", "Scheduler or persistence engine not found"],
    ["ipvsadm -D -t 192.168.75.131:81", "No such service"],
    ["ipvsadm -Z -t 192.168.75.131:81", "No such service"],
    ["ipvsadm -a -t 192.168.75.131:81 -r 1.1.1.1", "Service not defined"],
    ["ipvsadm -e -t 192.168.75.131:81 -r 1.1.1.1", "Service not defined"],
    ["ipvsadm -d -t 192.168.75.131:81 -r 1.1.1.1", "Service not defined"],
    ["ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.185 -m", "Destination already exists"],
    ["ipvsadm -e -t 192.168.75.131:80 -r 192.168.1.186", "No such destination"],
    ["ipvsadm -d -t 192.168.75.131:80 -r 192.168.1.186", "No such destination"],
    ["ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.186 -y 5", "Numerical result out of range"],
    ["ipvsadm --stop-daemon backup", "No daemon is running"],
    ["ipvsadm -A -t [2001:db8::1]:80", "Operation not supported with specified address family"],
  ];
  for (const [line, msg] of cases) {
    it(line, async () => {
      const ctl = await seedLab();
      const r = await run(ctl, line);
      assert.deepEqual(r, { code: 255, out: "", err: msg + "\n" });
      assert.equal(await ok(ctl, "ipvsadm -Ln"), SEED_LN);
    });
  }

  it("listing an unknown service prints No such service and exits 1", async () => {
    const ctl = await seedLab();
    assert.deepEqual(await run(ctl, "ipvsadm -L -t 1.2.3.4:80"), { code: 1, out: "", err: "No such service\n" });
  });

  it("a second start of the same daemon: Daemon has already run", async () => {
    const ctl = new FakeControl();
    await ok(ctl, "ipvsadm --start-daemon master");
    assert.deepEqual(await run(ctl, "ipvsadm --start-daemon master"), { code: 255, out: "", err: "Daemon has already run\n" });
  });
});

describe("ipvsadm: semantics", () => {
  it("-p takes an optional argument: -p, -p 600, -p600, --persistent=600, -p before -M", async () => {
    const ctl = new FakeControl();
    await ok(ctl, "ipvsadm -A -t 10.0.0.1:80 -p");
    await ok(ctl, "ipvsadm -A -t 10.0.0.2:80 -p 600");
    await ok(ctl, "ipvsadm -A -t 10.0.0.3:80 -p600");
    await ok(ctl, "ipvsadm -A -t 10.0.0.4:80 --persistent=600");
    await ok(ctl, "ipvsadm -A -t 10.0.0.5:0 -p -M 255.255.255.0");
    await ok(ctl, "ipvsadm -A -u 10.0.0.6:53 -s sh -b sh-fallback,sh-port -o");
    assert.equal(
      await ok(ctl, "ipvsadm -Ln"),
      "IP Virtual Server version 1.2.1 (size=4096)\n" +
        "Prot LocalAddress:Port Scheduler Flags\n" +
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
        "TCP  10.0.0.1:80 wlc persistent 360\n" +
        "TCP  10.0.0.2:80 wlc persistent 600\n" +
        "TCP  10.0.0.3:80 wlc persistent 600\n" +
        "TCP  10.0.0.4:80 wlc persistent 600\n" +
        "TCP  10.0.0.5:0 wlc persistent 360 mask 255.255.255.0\n" +
        "UDP  10.0.0.6:53 sh (sh-fallback,sh-port) ops\n",
    );
  });

  it("-E sends a complete definition; -e resets the forwarding method to -g", async () => {
    const ctl = await seedLab();
    await ok(ctl, "ipvsadm -E -t 192.168.75.131:80");
    await ok(ctl, "ipvsadm -e -t 192.168.75.131:80 -r 192.168.1.185:8080 -w 5");
    assert.equal(
      await ok(ctl, "ipvsadm -Ln"),
      "IP Virtual Server version 1.2.1 (size=4096)\n" +
        "Prot LocalAddress:Port Scheduler Flags\n" +
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
        "TCP  192.168.75.131:80 wlc\n" +
        "  -> 192.168.1.185:80             Route   5      0          0         \n" +
        "  -> 192.168.1.190:80             Masq    2      0          0         \n",
    );
  });

  it("-m keeps the given real-server port, a port-less -r takes the service's", async () => {
    const ctl = new FakeControl();
    await ok(ctl, "ipvsadm -A -t 10.0.0.1:80");
    await ok(ctl, "ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m");
    await ok(ctl, "ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.2");
    await ok(ctl, "ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.3:8080 -i");
    assert.equal(
      await ok(ctl, "ipvsadm -S -n"),
      "-A -t 10.0.0.1:80 -s wlc\n" +
        "-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 1\n" +
        "-a -t 10.0.0.1:80 -r 10.1.0.2:80 -g -w 1\n" +
        "-a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 1 --tun-type ipip\n",
    );
    await ok(ctl, "ipvsadm -d -t 10.0.0.1:80 -r 10.1.0.1:8080");
    await ok(ctl, "ipvsadm -D -t 10.0.0.1:80");
    assert.equal(await ok(ctl, "ipvsadm -S -n"), "");
  });

  it("--set, --timeout, --start-daemon, --daemon, --stop-daemon", async () => {
    const ctl = new FakeControl();
    await ok(ctl, "ipvsadm --set 600 60 0");
    assert.equal(await ok(ctl, "ipvsadm -L --timeout"), "Timeout (tcp tcpfin udp): 600 60 300\n");
    await ok(ctl, "ipvsadm --start-daemon master --syncid 5 --mcast-interface eth1");
    await ok(ctl, "ipvsadm --start-daemon backup");
    assert.equal(
      await ok(ctl, "ipvsadm -L --daemon"),
      "master sync daemon (mcast=eth1, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n" +
        "backup sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n",
    );
    await ok(ctl, "ipvsadm --stop-daemon master");
    assert.equal(ctl.calls.at(-1), "stopDaemon master");
  });

  it("-Z zeroes one service or everything", async () => {
    const ctl = await seedLab();
    await ok(ctl, "ipvsadm -Z");
    await ok(ctl, "ipvsadm -Z -t 192.168.75.131:80");
    assert.deepEqual(ctl.calls.slice(-2), ["zero null", 'zero {"fwmark":0,"protocol":6,"addr":3232254851,"port":80}']);
  });

  it("lists one service without the version line", async () => {
    const ctl = await seedLab();
    assert.equal(await ok(ctl, "ipvsadm -L -n -t 192.168.75.131:80"), SEED_LN.split("\n").slice(1).join("\n"));
  });
});

describe("ipvsadm: save and restore", () => {
  it("-S output restored with -R rebuilds the same table", async () => {
    const ctl = await seedLab();
    await ok(ctl, "ipvsadm -A -u 10.0.0.100:53 -s rr -p 360 -M 255.255.255.0");
    await ok(ctl, "ipvsadm -a -u 10.0.0.100:53 -r 192.168.1.3:53 -g -w 1 -x 10");
    await ok(ctl, "ipvsadm -A -f 1 -s sh -p 300 -b sh-fallback,sh-port");
    await ok(ctl, "ipvsadm -a -f 1 -r 192.168.2.1:0 -i -w 2");
    await ok(ctl, "ipvsadm -a -f 1 -r 192.168.2.2:0 -i -w 2 --tun-type gue --tun-port 6080 --tun-remcsum");
    await ok(ctl, "ipvsadm -a -f 1 -r 192.168.2.3:0 -i -w 2 --tun-type gre --tun-csum");
    const saved = await ok(ctl, "ipvsadm -S -n");
    assert.equal(
      saved,
      "-A -t 192.168.75.131:80 -s wrr\n" +
        "-a -t 192.168.75.131:80 -r 192.168.1.185:80 -m -w 1\n" +
        "-a -t 192.168.75.131:80 -r 192.168.1.190:80 -m -w 2\n" +
        "-A -u 10.0.0.100:53 -s rr -p 360 -M 255.255.255.0\n" +
        "-a -u 10.0.0.100:53 -r 192.168.1.3:53 -g -w 1\n" +
        "-A -f 1 -s sh -p 300 -b sh-fallback,sh-port\n" +
        "-a -f 1 -r 192.168.2.1:0 -i -w 2 --tun-type ipip\n" +
        "-a -f 1 -r 192.168.2.2:0 -i -w 2 --tun-type gue --tun-port 6080 --tun-remcsum\n" +
        "-a -f 1 -r 192.168.2.3:0 -i -w 2 --tun-type gre --tun-csum\n",
    );
    assert.equal((await run(ctl, "ipvsadm-save -n")).out, saved);

    const fresh = new FakeControl();
    const r = await run(fresh, "ipvsadm -R", saved);
    assert.deepEqual(r, { code: 0, out: "", err: "" });
    assert.equal(await ok(fresh, "ipvsadm -S -n"), saved);
    const fresh2 = new FakeControl();
    assert.equal((await run(fresh2, "ipvsadm-restore", saved)).code, 0);
    assert.equal(await ok(fresh2, "ipvsadm -S -n"), saved);
  });

  it("-R: lines may start with ipvsadm, kernel errors continue, status of the last line", async () => {
    const ctl = new FakeControl();
    const input = "ipvsadm -A -t 10.0.0.1:80\n\n-A -t 10.0.0.1:80\n  -a -t 10.0.0.1:80 -r 10.0.0.2\t-m\r\n-L -n";
    const r = await run(ctl, "ipvsadm -R", input);
    assert.equal(r.err, "Service already exists\n");
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      "IP Virtual Server version 1.2.1 (size=4096)\n" +
        "Prot LocalAddress:Port Scheduler Flags\n" +
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
        "TCP  10.0.0.1:80 wlc\n" +
        "  -> 10.0.0.2:80                  Masq    1      0          0         \n",
    );
    const r2 = await run(new FakeControl(), "ipvsadm -R", "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n");
    assert.deepEqual(r2, { code: 255, out: "", err: "Service already exists\n" });
  });

  it("-R: a validation failure aborts the whole restore; # is not a comment; no -R inside", async () => {
    const ctl = new FakeControl();
    const r = await run(ctl, "ipvsadm -R", "-A -t 10.0.0.1:80\n-A -t 10.0.0.2\n-A -t 10.0.0.3:80\n");
    assert.deepEqual(r, { code: 2, out: "", err: "Zero port specified for non-persistent service\n" });
    assert.equal(await ok(ctl, "ipvsadm -S -n"), "-A -t 10.0.0.1:80 -s wlc\n");
    const c = await run(new FakeControl(), "ipvsadm -R", "# comment\n");
    assert.deepEqual(c, { code: 255, out: "", err: "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n" });
    const c2 = await run(new FakeControl(), "ipvsadm -R", "-C # comment\n");
    assert.deepEqual(c2, { code: 2, out: "", err: "unexpected argument #\n" });
    const rr = await run(new FakeControl(), "ipvsadm -R", "-R\n");
    assert.deepEqual(rr, { code: 255, out: "", err: "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n" });
    const pe = await run(new FakeControl(), "ipvsadm -R", "-L --bad\n-A -t 1.1.1.1:80\n");
    assert.deepEqual(pe, { code: 0, out: "", err: "--bad: unknown option\n" });
  });
});
