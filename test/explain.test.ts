/**
 * `lvslab explain`: for every broken lab the diagnosis names the real cause (the host, the
 * addresses, the rule), the hop-by-hop diff of the seed's lab is exactly what the director
 * did, and a working lab gets a summary and no false alarm.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { buildLab } from "../src/lab/build.js";
import { loadLab } from "../src/lab/load.js";
import { standardSetup } from "../src/lab/setup.js";
import { explainLab, explanationJson, formatExplanation, type Explanation } from "../src/explain/index.js";
import { hostDiff } from "../src/explain/diagnose.js";
import { changeText, pktName } from "../src/explain/packet.js";
import { formatMac } from "../src/wire/index.js";
import { buildLabFile, repoPath } from "./helpers.js";

const cache = new Map<string, Promise<Explanation>>();
function explain(lab: string): Promise<Explanation> {
  let p = cache.get(lab);
  if (!p) cache.set(lab, (p = explainLab(buildLabFile(`labs/${lab}.yaml`))));
  return p;
}

const failures = (x: Explanation) => x.diagnosis.filter((d) => d.finding.severity === "failure");
const warnings = (x: Explanation) => x.diagnosis.filter((d) => d.finding.severity === "warning");
const macOf = (x: Explanation, host: string, nic: string) => formatMac(x.view.nics.find((n) => n.host === host && n.name === nic)!.mac);

test("explain lvs-nat-no-gateway: the real server replied through its own gateway, the client reset it", async () => {
  const x = await explain("lvs-nat-no-gateway");
  const f = failures(x);
  assert.equal(f.length, 1, JSON.stringify(x.diagnosis));
  const d = f[0]!.finding;
  assert.equal(d.kind, "wrong-source");
  assert.equal(d.host, "real_server2");
  for (const s of ["real_server2 sent its SYN-ACK", "default gateway 192.168.1.1 (router)", "not back through the director vip",
    "source stayed 192.168.1.190:80", "SYN to 192.168.75.131:80", "RST"]) assert.ok(d.sentence.includes(s), `${s} in: ${d.sentence}`);
  assert.equal(x.conversations.length, 1);
  assert.equal(x.conversations[0]!.answered, false);
  const text = formatExplanation(x);
  assert.match(text, /^Diagnosis: real_server2 sent its SYN-ACK to its default gateway 192\.168\.1\.1 \(router\)/m);
});

test("explain lvs-nat-one-armed: each real server answered the client straight on their shared LAN", async () => {
  const x = await explain("lvs-nat-one-armed");
  const f = failures(x);
  assert.deepEqual(f.map((d) => [d.finding.kind, d.finding.host, d.conns]), [
    ["wrong-source", "real_server2", [1, 3]],
    ["wrong-source", "real_server1", [2, 4]],
  ]);
  const s = f[0]!.finding.sentence;
  for (const w of ["straight to 192.168.1.150", "own network 192.168.1.0/24", "source stayed 192.168.1.190:80 instead of 192.168.1.100:80", "RST"]) {
    assert.ok(s.includes(w), `${w} in: ${s}`);
  }
  assert.ok(x.conversations.every((c) => !c.answered && c.director === "director" && c.method === "NAT"));
});

test("explain lvs-tun-rp-filter: strict rp_filter on tunl0 drops the decapsulated SYN", async () => {
  const x = await explain("lvs-tun-rp-filter");
  const f = failures(x);
  assert.deepEqual(f.map((d) => [d.finding.kind, d.finding.host]), [["dropped", "real_server2"], ["dropped", "real_server1"]]);
  const s = f[0]!.finding.sentence;
  for (const w of ["real_server2 dropped the client's SYN after taking it out of the IPIP tunnel", "rp_filter=1", "on tunl0",
    "source 192.168.1.150", "leaves by eth0", "timed out"]) assert.ok(s.includes(w), `${w} in: ${s}`);
  // The hop diff at the real server: the outer header came off.
  const c = x.conversations[0]!;
  const rs = c.stories[0]!.passages.find((p) => p.host === "real_server2")!;
  assert.equal(rs.fate, "dropped");
  assert.deepEqual(hostDiff(rs).map(changeText), ["IPIP outer header 192.168.1.186 > 192.168.1.190 removed"]);
});

test("explain lvs-dr-arp-problem: real_server2 answered ARP for the VIP first and the director is bypassed", async () => {
  const x = await explain("lvs-dr-arp-problem");
  assert.equal(failures(x).length, 0);
  const w = warnings(x);
  assert.equal(w.length, 1, JSON.stringify(x.diagnosis));
  assert.equal(w[0]!.finding.kind, "bypass");
  assert.equal(w[0]!.finding.host, "real_server2");
  assert.deepEqual(w[0]!.conns, [1, 2, 3, 4]);
  const s = w[0]!.finding.sentence;
  for (const p of ["VIP 192.168.1.100", "real_server2's MAC 00:0c:29:00:01:90", "never saw it", "arp_ignore=0 on eth0",
    "3 hosts answered", "(real_server2, real_server1, director)", "kept the first answer"]) assert.ok(s.includes(p), `${p} in: ${s}`);
  assert.ok(x.conversations.every((c) => c.answered && c.server === "real_server2" && c.director === undefined));
});

test("explain lvs-dr-arp-announce: real_server2's ARP request from the VIP poisons the client", async () => {
  const x = await explain("lvs-dr-arp-announce");
  const w = warnings(x);
  assert.ok(w.length >= 1);
  assert.ok(w.every((d) => d.finding.kind === "bypass" && d.finding.host === "real_server2"));
  const s = w[0]!.finding.sentence;
  for (const p of ['"who-has 192.168.1.150 tell 192.168.1.100"', "arp_announce=0 on eth0", "the client took that as the VIP's new MAC",
    "saw only the start of this connection"]) assert.ok(s.includes(p), `${p} in: ${s}`);
  // Only the first connection's SYN reached the director; it balanced it with DR.
  assert.equal(x.conversations[0]!.director, "director");
  assert.equal(x.conversations[0]!.method, "DR");
  assert.ok(x.conversations.slice(1).every((c) => c.director === undefined));
});

test("explain lvs-nat-one-armed-router: the director's redirects, and why the real servers ignored them", async () => {
  const x = await explain("lvs-nat-one-armed-router");
  assert.equal(failures(x).length, 0);
  assert.ok(x.conversations.every((c) => c.answered));
  const w = warnings(x);
  // Phase A (connections 1, 2) sends redirects; phase B (send_redirects=0) none.
  assert.deepEqual(w.map((d) => [d.finding.kind, d.finding.host, d.conns]), [["redirect", "director", [1]], ["redirect", "director", [2]]]);
  const s = w[0]!.finding.sentence;
  for (const p of ["real_server2's SYN-ACK for 10.0.0.150 out of eth0, the interface it came in on", "send_redirects=1",
    '"use 192.168.1.1 for 10.0.0.150"', "real_server2 ignored it because", "request socket"]) assert.ok(s.includes(p), `${p} in: ${s}`);
});

test("explain lvs-nat-hub: no failure, and the note says why a real server sees the other's frames", async () => {
  const x = await explain("lvs-nat-hub");
  assert.equal(failures(x).length + warnings(x).length, 0);
  const notes = x.diagnosis.filter((d) => d.finding.kind === "overheard");
  assert.ok(notes.some((d) => d.finding.host === "real_server1" && /real_server2's MAC .*lan is a hub/.test(d.finding.sentence)));
});

for (const [lab, method, servers] of [
  ["lvs-nat", "LVS-NAT", ["4 by real_server2 (192.168.1.190:80)", "2 by real_server1 (192.168.1.185:80)"]],
  ["lvs-dr", "LVS-DR", ["2 by real_server1 (192.168.1.185:80)", "2 by real_server2 (192.168.1.190:80)"]],
  ["lvs-tun", "LVS-TUN", ["2 by real_server2 (192.168.1.190:80)", "1 by real_server1 (192.168.1.185:80)"]],
] as const) {
  test(`explain ${lab}: a working lab gets a summary and no failure or warning`, async () => {
    const x = await explain(lab);
    assert.deepEqual(x.diagnosis.filter((d) => d.finding.severity !== "info"), []);
    assert.ok(x.conversations.length > 0 && x.conversations.every((c) => c.answered && c.director !== undefined));
    assert.equal(x.summary.length, 1);
    assert.match(x.summary[0]!, new RegExp(`all \\d+ answered`));
    assert.ok(x.summary[0]!.includes(method), x.summary[0]);
    for (const s of servers) assert.ok(x.summary[0]!.includes(s), `${s} in ${x.summary[0]}`);
    assert.match(formatExplanation(x, { brief: true }), /^Diagnosis: no problem found/m);
  });
}

test("explain lvs-nat: the director's hop diff both ways is exactly the NAT rewrite", async () => {
  const x = await explain("lvs-nat");
  const c = x.conversations[0]!;
  assert.equal(c.director, "vip");
  assert.equal(c.server, "real_server2");
  const syn = c.stories[0]!;
  assert.equal(pktName(syn.first!), "SYN");
  assert.deepEqual(syn.passages.map((p) => [p.host, p.inIf ?? "", p.outs.map((o) => o.ifname).join(","), p.fate]), [
    ["client", "", "eth0", "sent"],
    ["vip", "eth1", "eth0", "sent"],
    ["real_server2", "eth0", "", "delivered"],
  ]);
  const client = macOf(x, "client", "eth0");
  const vip0 = macOf(x, "vip", "eth0");
  const vip1 = macOf(x, "vip", "eth1");
  const rs2 = macOf(x, "real_server2", "eth0");
  assert.deepEqual(hostDiff(syn.passages[1]!).map(changeText), [
    "dst 192.168.75.131:80 -> 192.168.1.190:80",
    "TTL 64 -> 63",
    `src MAC ${client} -> ${vip0}`,
    `dst MAC ${vip1} -> ${rs2}`,
  ]);
  const synAck = c.stories[1]!;
  assert.equal(pktName(synAck.first!), "SYN-ACK");
  assert.deepEqual(synAck.passages.map((p) => p.host), ["real_server2", "vip", "client"]);
  assert.equal(synAck.passages[0]!.origin?.route?.via, "192.168.1.186");
  assert.deepEqual(hostDiff(synAck.passages[1]!).map(changeText), [
    "src 192.168.1.190:80 -> 192.168.75.131:80",
    "TTL 64 -> 63",
    `src MAC ${rs2} -> ${vip1}`,
    `dst MAC ${vip0} -> ${client}`,
  ]);
  // Every packet of the connection crossed the director, and each one was delivered.
  for (const s of c.stories) {
    assert.ok(s.passages.some((p) => p.host === "vip"), `story ${s.id}`);
    assert.equal(s.passages.at(-1)!.fate, "delivered");
  }
});

test("explain lvs-tun: the director adds the IPIP header and leaves the inner addresses alone", async () => {
  const x = await explain("lvs-tun");
  const syn = x.conversations[0]!.stories[0]!;
  const dir = syn.passages.find((p) => p.host === "director")!;
  assert.deepEqual(hostDiff(dir).map(changeText).slice(0, 1), ["IPIP added: outer header 192.168.1.186 > 192.168.1.190"]);
  assert.ok(hostDiff(dir).every((c) => !/^(src|dst) \d/.test(changeText(c))), "the inner addresses stay");
  assert.equal(x.conversations[0]!.method, "TUN");
});

test("explain: the diagnosis follows the packets, not the names in the lab", async () => {
  // The no-gateway lab with every host renamed: the sentence names the new hosts.
  const text = readFileSync(repoPath("labs/lvs-nat-no-gateway.yaml"), "utf8")
    .replace(/real_server2/g, "web2").replace(/real_server1/g, "web1").replace(/\brouter\b/g, "gw").replace(/\bvip\b/g, "lb")
    .replace(/^lab: .*$/m, "lab: renamed");
  const r = loadLab(text, "renamed.yaml");
  assert.ok(r.ok, JSON.stringify(!r.ok && r.diagnostics));
  const x = await explainLab(buildLab(r.lab, { setupHost: standardSetup }));
  const f = failures(x);
  assert.equal(f.length, 1);
  assert.match(f[0]!.finding.sentence, /^web2 sent its SYN-ACK to its default gateway 192\.168\.1\.1 \(gw\), not back through the director lb/);
});

test("explain: the same lab and seed give the same text; --conn and --flow select, JSON has the facts", async () => {
  const a = formatExplanation(await explain("lvs-nat-no-gateway"));
  const b = formatExplanation(await explainLab(buildLabFile("labs/lvs-nat-no-gateway.yaml")));
  assert.equal(a, b);
  const x = await explain("lvs-nat");
  const one = formatExplanation(x, { conn: 2 });
  assert.match(one, /^Connection 2: TCP 192\.168\.75\.150:\d+ \(client\) -> 192\.168\.75\.131:80, balanced by vip \(NAT\) to real_server1 192\.168\.1\.185:80$/m);
  assert.doesNotMatch(one, /^Connection 1:/m);
  const port = x.conversations[2]!.clientAddr;
  assert.match(formatExplanation(x, { flow: port }), new RegExp(`^Connection 3: TCP ${port.replace(/\./g, "\\.")} `, "m"));
  assert.throws(() => formatExplanation(x, { conn: 99 }), /no connection 99 in lab lvs-nat \(it has 6\)/);
  const j = explanationJson(x, { conn: 1 }) as { connections: { packets: { hops: { host: string; changes: { field: string }[] }[] }[] }[] };
  assert.equal(j.connections.length, 1);
  assert.deepEqual(j.connections[0]!.packets[0]!.hops[1]!.changes.map((c) => c.field), ["dst", "TTL", "src MAC", "dst MAC"]);
});

test("lvslab explain on the command line: exit 0, the diagnosis, and bad options rejected", () => {
  const main = repoPath("dist", "src", "cli", "main.js");
  const r = spawnSync(process.execPath, [main, "explain", "lvs-tun-rp-filter", "--brief"], { cwd: repoPath(), encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Diagnosis \(connections 1, 3\): real_server2 dropped the client's SYN/m);
  const bad = spawnSync(process.execPath, [main, "explain", "lvs-nat", "--conn", "x"], { cwd: repoPath(), encoding: "utf8", timeout: 60_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--conn needs a connection number/);
  const j = spawnSync(process.execPath, [main, "explain", "lvs-nat-no-gateway", "--json", "--brief"], { cwd: repoPath(), encoding: "utf8", timeout: 60_000 });
  assert.equal(j.status, 0, j.stderr);
  const v = JSON.parse(j.stdout) as { diagnosis: { kind: string; host: string }[] };
  assert.deepEqual(v.diagnosis.map((d) => [d.kind, d.host]), [["wrong-source", "real_server2"]]);
});

test("docs/explain.md's example is what lvslab explain prints", async () => {
  const doc = readFileSync(repoPath("docs/explain.md"), "utf8");
  const start = doc.indexOf("lvslab explain: lab lvs-nat-no-gateway");
  const cut = doc.indexOf("\n  ...\n", start);
  assert.ok(start > 0 && cut > start);
  const text = formatExplanation(await explain("lvs-nat-no-gateway"));
  assert.ok(text.startsWith(doc.slice(start, cut + 1)), "the example's packets");
  const tail = doc.slice(cut + "\n  ...\n".length, doc.indexOf("```", cut));
  assert.ok(text.endsWith(tail), "the example's outcome, summary and diagnosis");
});

test("explain lvs-fullnat-toa: the client's address is lost under FullNAT, and the toa module gets it back", async () => {
  const x = await explain("lvs-fullnat-toa");
  assert.equal(failures(x).length, 0);
  assert.ok(x.conversations.every((c) => c.answered && c.method === "FullNAT" && c.director === "vip"));
  const byHost = new Map(x.diagnosis.map((d) => [d.finding.host, d.finding]));
  const lost = byHost.get("real_server2")!;
  assert.equal(lost.kind, "client-hidden");
  assert.equal(lost.severity, "warning");
  for (const p of ["replaced the client's address 192.168.75.150 with its local address 192.168.1.200", "TOA option",
    "real_server2 has no toa module", "see 192.168.1.200 as the peer"]) assert.ok(lost.sentence.includes(p), `${p} in: ${lost.sentence}`);
  const kept = byHost.get("real_server1")!;
  assert.equal(kept.kind, "toa");
  assert.equal(kept.severity, "info");
  assert.match(kept.sentence, /real_server1 has the toa module loaded, so its applications see the client 192\.168\.75\.150 as the peer/);
  // The director's diff on the SYN: both ends rewritten, TOA added.
  const c = x.conversations[0]!;
  const dir = c.stories[0]!.passages.find((p) => p.host === "vip")!;
  const ch = hostDiff(dir).map(changeText);
  assert.ok(ch.includes(`src ${c.clientAddr} -> 192.168.1.200:5001`), ch.join("; "));
  assert.ok(ch.includes("dst 192.168.75.131:80 -> 192.168.1.190:80"), ch.join("; "));
  assert.ok(ch.includes(`TCP option TOA ${c.clientAddr} added`), ch.join("; "));
});

test("explain lvs-fullnat: a PROXY protocol header names the client; without it the server closes with no reply", async () => {
  const x = await explain("lvs-fullnat");
  const proxied = x.diagnosis.find((d) => d.finding.kind === "proxy-protocol");
  assert.ok(proxied, JSON.stringify(x.diagnosis));
  assert.match(proxied.finding.sentence, /client's data starts with a PROXY protocol v1 header naming 192\.168\.75\.150/);
  const empty = failures(x);
  assert.deepEqual(empty.map((d) => [d.finding.kind, d.finding.host]), [["empty-reply", "real_server1"]]);
  assert.match(empty[0]!.finding.sentence, /^real_server1 accepted the connection to 192\.168\.75\.131:8080 but closed it without answering the \d+ bytes the client sent\.$/);
  const c = x.conversations.find((k) => k.id === empty[0]!.conns[0])!;
  assert.equal(c.answered, false);
  assert.equal(c.target, "192.168.75.131:8080");
});

test("docs/explain.md's --brief outputs of the other labs are what lvslab explain prints", async () => {
  const doc = readFileSync(repoPath("docs/explain.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Example: what the other labs come to"), doc.indexOf("## How it works"));
  const blocks = [...section.matchAll(/^`([a-z0-9-]+)`:\n\n```\n([\s\S]*?)```$/gm)];
  assert.ok(blocks.length >= 8);
  for (const [, lab, text] of blocks) {
    const want = formatExplanation(await explain(lab!), { brief: true }).split("\n").slice(2).join("\n");
    assert.equal(text, want, lab);
  }
});

test("explain: a real server with nothing listening refuses the connection (no 'answered' for a RST)", async () => {
  // lvs-nat with nginx not started on real_server2.
  let text = readFileSync(repoPath("labs/lvs-nat.yaml"), "utf8");
  const rs2 = text.indexOf("  real_server2:");
  const svc = text.indexOf("    services: [nginx]\n", rs2);
  text = text.slice(0, svc) + text.slice(svc + "    services: [nginx]\n".length);
  const r = loadLab(text, "refused.yaml");
  assert.ok(r.ok);
  const x = await explainLab(buildLab(r.lab, { setupHost: standardSetup }));
  assert.deepEqual(failures(x).map((d) => [d.finding.kind, d.finding.host, d.conns]), [["refused", "real_server2", [1, 3, 4, 6]]]);
  assert.equal(failures(x)[0]!.finding.sentence,
    "real_server2 has nothing listening on 192.168.1.190:80: it answered the client's SYN with a RST, so the client's connection to 192.168.75.131:80 was refused.");
  assert.deepEqual(x.conversations.map((c) => c.answered), [false, true, false, false, true, false]);
});

test("explain lvs-tun-mtu: the tunnel's 20 bytes make a full segment too big; the client learns the MTU and recovers", async () => {
  const x = await explain("lvs-tun-mtu");
  assert.equal(failures(x).length, 0);
  assert.ok(x.conversations.every((c) => c.answered && c.method === "TUN"));
  const w = warnings(x);
  assert.deepEqual(w.map((d) => [d.finding.kind, d.finding.host, d.conns]), [["dropped", "director", [1]]]);
  const s = w[0]!.finding.sentence;
  for (const p of ["director dropped the client's data", "20-byte header", "1480", '"don\'t fragment"',
    "the client took the ICMP fragmentation needed (mtu 1480), sent the data again in packets of at most 1480 bytes, and got its answer"]) {
    assert.ok(s.includes(p), `${p} in: ${s}`);
  }
});

test("explain lvs-tun-mtu-blackhole: the director's own firewall drops the ICMP, a path-MTU black hole", async () => {
  const x = await explain("lvs-tun-mtu-blackhole");
  const f = failures(x);
  assert.deepEqual(f.map((d) => [d.finding.kind, d.finding.host]), [["dropped", "director"]]);
  const s = f[0]!.finding.sentence;
  for (const p of ["fragmentation needed (mtu 1480)", "never reached the client", "iptables rule filter/OUTPUT rule 1 (-A OUTPUT -p icmp -j DROP)",
    "kept resending the same 1500-byte packet", "timed out (a path-MTU black hole)"]) assert.ok(s.includes(p), `${p} in: ${s}`);
  assert.equal(x.conversations[0]!.answered, false);
});
