/** `ping` between simulated hosts; texts as iputils 20221126 prints them. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Host } from "../../net/host.js";
import { World } from "../../net/world.js";
import { ping } from "./ping.js";
import { ip4, mac, run } from "./testing.test-helper.js";

function pair() {
  const world = new World();
  const seg = world.addSegment("lan", "switch", 50);
  const mk = (name: string, addr: string, m: string) => {
    const h = new Host(world, name);
    const nic = h.addNic("eth0", mac(m));
    seg.attach(nic);
    nic.segment = seg;
    h.addAddress("eth0", ip4(addr), 24);
    return h;
  };
  const a = mk("rs1", "192.168.1.185", "00:0c:29:00:00:85");
  const b = mk("vip", "192.168.1.186", "00:0c:29:00:00:86");
  return { world, a, b };
}

describe("ping", () => {
  it("replies, statistics and exit 0", async () => {
    const { a } = pair();
    const r = await run(a, ping, ["ping", "-c", "3", "192.168.1.186"]);
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      `PING 192.168.1.186 (192.168.1.186) 56(84) bytes of data.
64 bytes from 192.168.1.186: icmp_seq=1 ttl=64 time=0.200 ms
64 bytes from 192.168.1.186: icmp_seq=2 ttl=64 time=0.100 ms
64 bytes from 192.168.1.186: icmp_seq=3 ttl=64 time=0.100 ms

--- 192.168.1.186 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 2000ms
rtt min/avg/max/mdev = 0.100/0.133/0.200/0.048 ms
`,
    );
  });

  it("-q -s -i, and a local address", async () => {
    const { a } = pair();
    const r = await run(a, ping, ["ping", "-q", "-c", "2", "-i", "0.2", "-s", "1000", "192.168.1.185"]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^PING 192\.168\.1\.185 \(192\.168\.1\.185\) 1000\(1028\) bytes of data\.\n\n--- 192\.168\.1\.185 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 200ms\nrtt min\/avg\/max\/mdev = /);
  });

  it("Destination Host Unreachable from ARP failure, pipe, exit 1", async () => {
    const { a } = pair();
    const r = await run(a, ping, ["ping", "-c", "3", "-i", "0.3", "192.168.1.77"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.out,
      `PING 192.168.1.77 (192.168.1.77) 56(84) bytes of data.
From 192.168.1.185 icmp_seq=1 Destination Host Unreachable
From 192.168.1.185 icmp_seq=2 Destination Host Unreachable
From 192.168.1.185 icmp_seq=3 Destination Host Unreachable

--- 192.168.1.77 ping statistics ---
3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 600ms
pipe 3
`,
    );
  });

  it("no answer: -W, the empty rtt line; -w deadline", async () => {
    const { a, b } = pair();
    b.sysctl.set("net.ipv4.icmp_echo_ignore_all", "1");
    const r = await run(a, ping, ["ping", "-c", "1", "-W", "1", "192.168.1.186"]);
    assert.deepEqual(r, {
      code: 1,
      err: "",
      out: "PING 192.168.1.186 (192.168.1.186) 56(84) bytes of data.\n\n--- 192.168.1.186 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n",
    });
    b.sysctl.set("net.ipv4.icmp_echo_ignore_all", "0");
    const w = await run(a, ping, ["ping", "-w", "1", "-i", "0.3", "192.168.1.186"]);
    assert.equal(w.code, 0);
    assert.match(w.out, /\n4 packets transmitted, 4 received, 0% packet loss, time 900ms\n/);
  });

  it("usage errors, exit 2", async () => {
    const { a } = pair();
    assert.deepEqual(await run(a, ping, ["ping"]), { code: 2, out: "", err: "ping: usage error: Destination address required\n" });
    assert.deepEqual(await run(a, ping, ["ping", "-c1", "foo.invalid"]), { code: 2, out: "", err: "ping: foo.invalid: Temporary failure in name resolution\n" });
    assert.deepEqual(await run(a, ping, ["ping", "-c", "1", "10.99.99.99"]), { code: 2, out: "", err: "ping: connect: Network is unreachable\n" });
    assert.deepEqual(await run(a, ping, ["ping", "-c", "1", "-I", "eth9", "1.1.1.1"]), { code: 2, out: "", err: "ping: SO_BINDTODEVICE eth9: No such device\n" });
    assert.deepEqual(await run(a, ping, ["ping", "-c", "0", "1.1.1.1"]), {
      code: 2, out: "", err: "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n",
    });
  });

  it("-I names the source in the banner; Ctrl-C ends it", async () => {
    const { a } = pair();
    let stop!: (s: "SIGINT") => void;
    const intr = new Promise<"SIGINT" | "SIGTERM">((res) => (stop = res));
    a.world.queue.after(2_500_000, () => {
      stop("SIGINT");
      a.world.wake();
    });
    const r = await run(a, ping, ["ping", "-I", "eth0", "192.168.1.186"], { interrupt: intr });
    assert.equal(r.code, 0);
    assert.match(r.out, /^PING 192\.168\.1\.186 \(192\.168\.1\.186\) from 192\.168\.1\.185 eth0: 56\(84\) bytes of data\.\n/);
    assert.match(r.out, /\n3 packets transmitted, 3 received, 0% packet loss, time 2000ms\n/);
  });
});
