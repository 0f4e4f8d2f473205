/** `iptables` against iptables v1.8.9 (nf_tables) output captured on Debian 12. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { iptables } from "./iptables.js";
import { director, run } from "./testing.test-helper.js";

const TRY = "Try `iptables -h' or 'iptables --help' for more information.\n";

async function setup() {
  const h = director();
  const ok = async (...a: string[]) => assert.deepEqual(await run(h, iptables, ["iptables", ...a]), { code: 0, out: "", err: "" }, a.join(" "));
  await ok("-t", "nat", "-A", "POSTROUTING", "-s", "192.168.1.0/24", "-j", "MASQUERADE");
  await ok("-t", "nat", "-A", "POSTROUTING", "-s", "192.168.1.0/24", "-o", "eth1", "-j", "SNAT", "--to-source", "192.168.75.131");
  await ok("-t", "nat", "-A", "PREROUTING", "-d", "192.168.75.131", "-p", "tcp", "--dport", "80", "-j", "DNAT", "--to-destination", "192.168.1.185:80");
  await ok("-t", "mangle", "-A", "PREROUTING", "-d", "192.168.75.131/32", "-p", "tcp", "-m", "tcp", "--dport", "80", "-j", "MARK", "--set-mark", "1");
  await ok("-A", "INPUT", "-p", "tcp", "--sport", "80", "-j", "ACCEPT");
  await ok("-A", "INPUT", "!", "-s", "10.0.0.0/8", "-i", "eth0", "-p", "udp", "--dport", "53", "-j", "DROP");
  await ok("-A", "INPUT", "-p", "icmp", "-j", "REJECT");
  await ok("-N", "MYCHAIN");
  await ok("-A", "MYCHAIN", "-d", "1.2.3.4", "-j", "RETURN");
  await ok("-A", "FORWARD", "-j", "MYCHAIN");
  await ok("-A", "OUTPUT", "-p", "tcp", "--sport", "80", "--tcp-flags", "FIN", "FIN", "-j", "DROP");
  await ok("-A", "OUTPUT", "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-j", "ACCEPT");
  await ok("-A", "OUTPUT", "-p", "tcp", "--dport", "1000:2000", "-j", "ACCEPT");
  await ok("-A", "OUTPUT", "-o", "eth1", "-j", "ACCEPT");
  await ok("-A", "OUTPUT", "-p", "all", "-j", "ACCEPT");
  await ok("-A", "OUTPUT", "-p", "tcp", "!", "--dport", "22", "-j", "ACCEPT");
  return { h, ok };
}

describe("iptables", () => {
  it("-S prints what was stored", async () => {
    const { h } = await setup();
    assert.equal(
      (await run(h, iptables, ["iptables", "-S"])).out,
      `-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N MYCHAIN
-A INPUT -p tcp -m tcp --sport 80 -j ACCEPT
-A INPUT ! -s 10.0.0.0/8 -i eth0 -p udp -m udp --dport 53 -j DROP
-A INPUT -p icmp -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -j MYCHAIN
-A OUTPUT -p tcp -m tcp --sport 80 --tcp-flags FIN FIN -j DROP
-A OUTPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
-A OUTPUT -p tcp -m tcp --dport 1000:2000 -j ACCEPT
-A OUTPUT -o eth1 -j ACCEPT
-A OUTPUT -j ACCEPT
-A OUTPUT -p tcp -m tcp ! --dport 22 -j ACCEPT
-A MYCHAIN -d 1.2.3.4/32 -j RETURN
`,
    );
    assert.equal(
      (await run(h, iptables, ["iptables", "-t", "nat", "-S"])).out,
      `-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-A PREROUTING -d 192.168.75.131/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 192.168.1.185:80
-A POSTROUTING -s 192.168.1.0/24 -j MASQUERADE
-A POSTROUTING -s 192.168.1.0/24 -o eth1 -j SNAT --to-source 192.168.75.131
`,
    );
    assert.equal(
      (await run(h, iptables, ["iptables", "-t", "mangle", "-S", "PREROUTING"])).out,
      "-P PREROUTING ACCEPT\n-A PREROUTING -d 192.168.75.131/32 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x1/0xffffffff\n",
    );
    const nat = h.netfilter.table("nat").get("POSTROUTING")!.rules;
    assert.equal(nat[0]!.target, "MASQUERADE");
    assert.equal(nat[1]!.targetArgs["to-source"], "192.168.75.131");
    assert.deepEqual(nat[1]!.outIf, { name: "eth1", neg: false });
  });

  it("-L, -L -n, -v, --line-numbers", async () => {
    const { h } = await setup();
    assert.equal(
      (await run(h, iptables, ["iptables", "-L"])).out,
      `Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
ACCEPT     tcp  --  anywhere             anywhere             tcp spt:http
DROP       udp  -- !10.0.0.0/8           anywhere             udp dpt:domain
REJECT     icmp --  anywhere             anywhere             reject-with icmp-port-unreachable

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         
MYCHAIN    all  --  anywhere             anywhere            

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
DROP       tcp  --  anywhere             anywhere             tcp spt:http flags:FIN/FIN
ACCEPT     tcp  --  anywhere             anywhere             multiport dports http,https
ACCEPT     tcp  --  anywhere             anywhere             tcp dpts:1000:cisco-sccp
ACCEPT     all  --  anywhere             anywhere            
ACCEPT     all  --  anywhere             anywhere            
ACCEPT     tcp  --  anywhere             anywhere             tcp dpt:!ssh

Chain MYCHAIN (1 references)
target     prot opt source               destination         
RETURN     all  --  anywhere             1.2.3.4             
`,
    );
    assert.equal(
      (await run(h, iptables, ["iptables", "-L", "-n"])).out,
      `Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            tcp spt:80
DROP       17   -- !10.0.0.0/8           0.0.0.0/0            udp dpt:53
REJECT     1    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-port-unreachable

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         
MYCHAIN    0    --  0.0.0.0/0            0.0.0.0/0           

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
DROP       6    --  0.0.0.0/0            0.0.0.0/0            tcp spt:80 flags:0x01/0x01
ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            multiport dports 80,443
ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            tcp dpts:1000:2000
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0           
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0           
ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:!22

Chain MYCHAIN (1 references)
target     prot opt source               destination         
RETURN     0    --  0.0.0.0/0            1.2.3.4             
`,
    );
    assert.equal(
      (await run(h, iptables, ["iptables", "-t", "nat", "-L", "-n"])).out,
      `Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         
DNAT       6    --  0.0.0.0/0            192.168.75.131       tcp dpt:80 to:192.168.1.185:80

Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain POSTROUTING (policy ACCEPT)
target     prot opt source               destination         
MASQUERADE  0    --  192.168.1.0/24       0.0.0.0/0           
SNAT       0    --  192.168.1.0/24       0.0.0.0/0            to:192.168.75.131
`,
    );
    assert.equal(
      (await run(h, iptables, ["iptables", "-t", "mangle", "-L", "PREROUTING", "-n"])).out,
      `Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         
MARK       6    --  0.0.0.0/0            192.168.75.131       tcp dpt:80 MARK set 0x1
`,
    );
    const input = h.netfilter.table("filter").get("INPUT")!;
    input.rules[2]!.pkts = 4;
    input.rules[2]!.bytes = 378;
    assert.equal(
      (await run(h, iptables, ["iptables", "-L", "INPUT", "-n", "-v"])).out,
      `Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp spt:80
    0     0 DROP       17   --  eth0   *      !10.0.0.0/8           0.0.0.0/0            udp dpt:53
    4   378 REJECT     1    --  *      *       0.0.0.0/0            0.0.0.0/0            reject-with icmp-port-unreachable
`,
    );
    assert.equal(
      (await run(h, iptables, ["iptables", "-L", "INPUT", "-v"])).out,
      `Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 ACCEPT     tcp  --  any    any     anywhere             anywhere             tcp spt:http
    0     0 DROP       udp  --  eth0   any    !10.0.0.0/8           anywhere             udp dpt:domain
    4   378 REJECT     icmp --  any    any     anywhere             anywhere             reject-with icmp-port-unreachable
`,
    );
    assert.equal(
      (await run(h, iptables, ["iptables", "-L", "OUTPUT", "-n", "--line-numbers"])).out,
      `Chain OUTPUT (policy ACCEPT)
num  target     prot opt source               destination         
1    DROP       6    --  0.0.0.0/0            0.0.0.0/0            tcp spt:80 flags:0x01/0x01
2    ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            multiport dports 80,443
3    ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            tcp dpts:1000:2000
4    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0           
5    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0           
6    ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:!22
`,
    );
    const post = h.netfilter.table("nat").get("POSTROUTING")!;
    post.rules[0]!.pkts = 3;
    post.rules[0]!.bytes = 200;
    assert.equal(
      (await run(h, iptables, ["iptables", "-t", "nat", "-L", "POSTROUTING", "-n", "-v", "--line-numbers"])).out,
      `Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        3   200 MASQUERADE  0    --  *      *       192.168.1.0/24       0.0.0.0/0           
2        0     0 SNAT       0    --  *      eth1    192.168.1.0/24       0.0.0.0/0            to:192.168.75.131
`,
    );
  });

  it("-F, -X, -Z, -P, -I, -D, -R and the seed's flush lines", async () => {
    const { h, ok } = await setup();
    await ok("-F");
    await ok("-t", "nat", "-F");
    await ok("-t", "nat", "-X");
    await ok("-X");
    assert.equal((await run(h, iptables, ["iptables", "-S"])).out, "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n");
    await ok("-P", "FORWARD", "DROP");
    assert.equal((await run(h, iptables, ["iptables", "-L", "FORWARD"])).out, "Chain FORWARD (policy DROP)\ntarget     prot opt source               destination         \n");
    assert.equal((await run(h, iptables, ["iptables", "-S", "FORWARD"])).out, "-P FORWARD DROP\n");
    await ok("-P", "FORWARD", "ACCEPT");
    await ok("-A", "INPUT", "-s", "1.2.3.4", "-j", "ACCEPT");
    await ok("-I", "INPUT", "-d", "5.6.7.8", "-j", "DROP");
    await ok("-I", "INPUT", "2", "-p", "tcp", "-j", "ACCEPT");
    assert.equal(
      (await run(h, iptables, ["iptables", "-S", "INPUT"])).out,
      "-P INPUT ACCEPT\n-A INPUT -d 5.6.7.8/32 -j DROP\n-A INPUT -p tcp -j ACCEPT\n-A INPUT -s 1.2.3.4/32 -j ACCEPT\n",
    );
    await ok("-D", "INPUT", "-s", "1.2.3.4/32", "-j", "ACCEPT");
    await ok("-D", "INPUT", "1");
    await ok("-R", "INPUT", "1", "-p", "udp", "-j", "ACCEPT");
    assert.equal((await run(h, iptables, ["iptables", "-S", "INPUT"])).out, "-P INPUT ACCEPT\n-A INPUT -p udp -j ACCEPT\n");
    assert.equal((await run(h, iptables, ["iptables", "-S", "INPUT", "1"])).out, "-A INPUT -p udp -j ACCEPT\n");
    await ok("-A", "INPUT", "-p", "tcp", "-m", "tcp", "--sport", "1:1023", "--dport", "8080", "-j", "ACCEPT");
    await ok("-A", "INPUT", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset");
    await ok("-A", "INPUT", "-j", "MARK", "--set-mark", "0x10");
    await ok("-A", "INPUT", "-j", "LOG");
    assert.equal(
      (await run(h, iptables, ["iptables", "-L", "INPUT", "-n"])).out,
      `Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
ACCEPT     17   --  0.0.0.0/0            0.0.0.0/0           
ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            tcp spts:1:1023 dpt:8080
REJECT     6    --  0.0.0.0/0            0.0.0.0/0            reject-with tcp-reset
MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x10
LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4
`,
    );
    assert.equal(
      (await run(h, iptables, ["iptables", "-S", "INPUT"])).out,
      `-P INPUT ACCEPT
-A INPUT -p udp -j ACCEPT
-A INPUT -p tcp -m tcp --sport 1:1023 --dport 8080 -j ACCEPT
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -j MARK --set-xmark 0x10/0xffffffff
-A INPUT -j LOG
`,
    );
    h.netfilter.table("filter").get("INPUT")!.rules[0]!.pkts = 9;
    await ok("-Z");
    assert.equal(h.netfilter.table("filter").get("INPUT")!.rules[0]!.pkts, 0);
    await ok("-N", "EMPTY");
    assert.equal((await run(h, iptables, ["iptables", "-L", "EMPTY"])).out, "Chain EMPTY (0 references)\ntarget     prot opt source               destination         \n");
    assert.equal(
      (await run(h, iptables, ["iptables", "-L", "EMPTY", "-v"])).out,
      "Chain EMPTY (0 references)\n pkts bytes target     prot opt in     out     source               destination         \n",
    );
  });

  it("errors and exit codes", async () => {
    const { h } = await setup();
    const e = async (code: number, err: string, ...a: string[]) => assert.deepEqual(await run(h, iptables, ["iptables", ...a]), { code, out: "", err }, a.join(" "));
    const V = "iptables v1.8.9 (nf_tables): ";
    await e(1, `${V}chain \`FOO' in table \`filter' is incompatible, use 'nft' tool.\n`, "-L", "FOO");
    await e(1, "iptables: No chain/target/match by that name.\n", "-A", "FOO", "-j", "ACCEPT");
    await e(2, `${V}unknown option "--foo"\n${TRY}`, "--foo");
    await e(2, `${V}Chain 'FOO' does not exist\n${TRY}`, "-A", "INPUT", "-j", "FOO");
    await e(1, "iptables: Bad rule (does a matching rule exist in that chain?).\n", "-D", "INPUT", "-p", "tcp", "--dport", "99", "-j", "ACCEPT");
    await e(1, "iptables: Index of deletion too big.\n", "-D", "INPUT", "9");
    await e(4, `${V} CHAIN_DEL failed (Device or resource busy): chain INPUT\n`, "-X", "INPUT");
    await e(4, `${V} CHAIN_DEL failed (Device or resource busy): chain MYCHAIN\n`, "-X", "MYCHAIN");
    await e(4, `${V} CHAIN_DEL failed (Device or resource busy): chain MYCHAIN\n`, "-X");
    await e(1, "iptables: Chain already exists.\n", "-N", "MYCHAIN");
    await e(1, "iptables: Bad built-in chain name.\n", "-P", "MYCHAIN", "DROP");
    await e(1, "iptables: Bad policy name. Run `dmesg' for more information.\n", "-P", "INPUT", "FOO");
    await e(3, `${V}table 'foo' does not exist\nPerhaps iptables or your kernel needs to be upgraded.\n`, "-t", "foo", "-L");
    await e(1, "iptables: Index of insertion too big.\n", "-I", "INPUT", "9", "-j", "ACCEPT");
    await e(1, "iptables: Index of replacement too big.\n", "-R", "INPUT", "9", "-j", "ACCEPT");
    await e(2, `${V}host/network \`1.2.3.300' not found\n${TRY}`, "-A", "INPUT", "-s", "1.2.3.300", "-j", "ACCEPT");
    await e(2, `${V}unknown protocol "foo" specified\n${TRY}`, "-A", "INPUT", "-p", "foo", "-j", "ACCEPT");
    await e(2, `${V}unknown option "--dport"\n${TRY}`, "-A", "INPUT", "--dport", "80", "-j", "ACCEPT");
    await e(2, `${V}option "-A" requires an argument\n${TRY}`, "-A");
    await e(4, `${V} RULE_APPEND failed (Invalid argument): rule in chain INPUT\n`, "-A", "INPUT", "-j", "SNAT", "--to-source", "1.1.1.1");
    await e(2, `${V}SNAT: option "--to-source" must be specified\n\n${TRY}`, "-t", "nat", "-A", "POSTROUTING", "-j", "SNAT");
    await e(1, "iptables: No chain/target/match by that name.\n", "-F", "FOO");
    await e(1, "iptables: No chain/target/match by that name.\n", "-Z", "FOO");
    await e(2, `${V}no command specified\n${TRY}`);
    await e(2, `${V}Cannot use -A with -L\n${TRY}`, "-L", "-A", "INPUT");
    await e(2, `Bad argument \`extra'\n${TRY}`, "-A", "INPUT", "-j", "ACCEPT", "extra");
  });
});
