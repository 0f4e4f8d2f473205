/**
 * Replays test/golden/kernel/persistence.sh — IPVS persistent services on a real Linux 6.1
 * LVS-NAT director: -p (360 s), -p 30, -M 255.255.255.0, --persistent-conn, a template
 * re-armed with 60 s while a connection lives, a port-0 service, a fwmark service (iptables
 * mangle MARK), expire_quiescent_template — on test/labs/persistence.yaml with the same
 * commands, and compares every section with the golden.
 *
 * The script's held connection (busybox nc) is a client socket that sends nothing.
 *
 * Normalisation, ports and timing only:
 * - client ports in `ipvsadm -L -n -c` rows are ephemeral (PORT); rows are sorted without
 *   their countdown (the kernel lists them in hash order);
 * - countdowns: the real script spends time starting each command (sh, ip netns exec,
 *   curl: up to a few tenths of a second on the emulated VM) which the simulation does not
 *   model — each command here starts 5 ms after the previous one — so a countdown may
 *   read up to 5 s more than the golden's, never less.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCommand, sleepWorld } from "../src/lab/runner.js";
import { parseIp4 } from "../src/wire/addr.js";
import { buildLabFile, goldenSections } from "./helpers.js";

const GOLDEN = "test/golden/kernel/persistence.out";
const V = "192.168.75.131";
const STEP_US = 5_000;

const ROW = /^(TCP|UDP|IP) +(\d\d):(\d\d) +/;

/** Conn rows compared as (normalised text, seconds); other lines as they are. */
function sameSection(got: string, want: string): boolean {
  const split = (t: string) => {
    const rows: { key: string; secs: number }[] = [];
    const other: string[] = [];
    for (const l of t.split("\n")) {
      const m = ROW.exec(l);
      if (!m) {
        other.push(l);
        continue;
      }
      const key = `${m[1]} ${l.slice(m[0].length).replace(/(\d+\.\d+\.\d+\.\d+):\d{4,5}\b/, "$1:PORT").replace(/\s+/g, " ")}`;
      rows.push({ key, secs: Number(m[2]) * 60 + Number(m[3]) });
    }
    rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.secs - b.secs));
    return { rows, other: other.join("\n") };
  };
  const g = split(got);
  const w = split(want);
  if (g.other !== w.other || g.rows.length !== w.rows.length) return false;
  return g.rows.every((r, i) => r.key === w.rows[i]!.key && r.secs - w.rows[i]!.secs >= 0 && r.secs - w.rows[i]!.secs <= 5);
}

test("persistence golden: templates, netmask, port 0, fwmark, re-arm and quiescent dests as on Linux 6.1", async () => {
  const golden = goldenSections(GOLDEN);
  const lab = buildLabFile("test/labs/persistence.yaml");
  const vip = lab.hosts.get("vip")!;
  const client = lab.hosts.get("client")!;
  let out = "";
  const diffs: string[] = [];
  const run = async (line: string, host = vip): Promise<string> => {
    const r = await runCommand(host, line);
    await sleepWorld(lab.world, STEP_US);
    assert.equal(r.io.stderrText, "", `${line}: ${r.io.stderrText}`);
    return r.io.stdoutText;
  };
  const say = async (line: string) => void (out += await run(line));
  const echo = (s: string) => void (out += s + "\n");
  const svc = async (vp: string, args: string) => {
    await run(`ipvsadm -A -t ${vp} ${args}`);
    await run(`ipvsadm -a -t ${vp} -r 192.168.1.185:80 -m`);
    await run(`ipvsadm -a -t ${vp} -r 192.168.1.190:80 -m`);
  };
  const req = async (src: string, vp: string) => {
    const r = await runCommand(client, `curl -s -m 3 --interface ${src} ${vp}/id`);
    await sleepWorld(lab.world, STEP_US);
    out += `${src}=${r.exit === 0 ? r.io.stdoutText.trim() : "FAIL"} `;
  };
  const conns = async (re: RegExp) => {
    const rows = (await run("ipvsadm -L -n -c")).split("\n").filter((l) => re.test(l));
    out += rows.sort().map((l) => l + "\n").join("");
  };
  const section = (title: string) => {
    if (title !== "") {
      const want = golden.get(title);
      if (want === undefined) diffs.push(`golden has no section "${title}"`);
      else if (!sameSection(out, want)) diffs.push(`### ${title}\n--- got\n${out}--- want\n${want}`);
    }
    out = "";
  };

  await svc(`${V}:80`, "-s rr -p");
  await say(`ipvsadm -L -n -t ${V}:80`);
  for (const s of ["150", "150", "151", "151", "150"]) await req(`192.168.75.${s}`, `${V}:80`);
  echo("");
  await conns(/192\.168\.75\.131:80 /);
  section("p-default: -p (no value)");

  await svc(`${V}:81`, "-s rr -p 30");
  await say(`ipvsadm -L -n -t ${V}:81`);
  for (const i of [2, 3, 4, 2, 3, 4]) await req(`192.168.75.15${i}`, `${V}:81`);
  echo("");
  await conns(/192\.168\.75\.131:81 /);
  section("p-30: -p 30");

  await svc(`${V}:82`, "-s rr -p 30 -M 255.255.255.0");
  await say(`ipvsadm -L -n -t ${V}:82`);
  for (const s of ["192.168.75.150", "192.168.75.157", "192.168.76.150", "192.168.75.155", "192.168.76.150"]) await req(s, `${V}:82`);
  echo("");
  await conns(/192\.168\.75\.131:82 /);
  section("netmask: -p 30 -M 255.255.255.0");

  await say("ipvsadm -L -n --persistent-conn");
  section("persistent-conn");

  await svc(`${V}:83`, "-s rr -p 3");
  const held = client.tcp.connect({ dst: parseIp4(V)!, dport: 83 });
  await sleepWorld(lab.world, 1_000_000);
  echo("--- after 1 s");
  await conns(/192\.168\.75\.131:83 /);
  await sleepWorld(lab.world, 4_000_000);
  echo("--- after 5 s (template fired at 3 s with a controlled connection)");
  await conns(/192\.168\.75\.131:83 /);
  await req("192.168.75.150", `${V}:83`);
  await req("192.168.75.151", `${V}:83`);
  echo("");
  echo("--- after a new connection through the re-armed template");
  await conns(/192\.168\.75\.131:83 /);
  section("rearm: -p 3, a connection held open from 192.168.75.150");

  await run("ipvsadm -A -t 192.168.75.132:0 -s rr -p 30");
  await run("ipvsadm -a -t 192.168.75.132:0 -r 192.168.1.185 -m");
  await run("ipvsadm -a -t 192.168.75.132:0 -r 192.168.1.190 -m");
  await say("ipvsadm -L -n -t 192.168.75.132:0");
  await req("192.168.75.150", "192.168.75.132:80");
  await req("192.168.75.151", "192.168.75.132:80");
  await req("192.168.75.151", "192.168.75.132:8080");
  await req("192.168.75.150", "192.168.75.132:80");
  echo("");
  await req("192.168.75.152", "192.168.75.132:8080");
  echo("");
  await conns(/192\.168\.75\.132:/);
  section("port0: -t 192.168.75.132:0 -p 30, dests without a port");

  await run("iptables -t mangle -A PREROUTING -d 192.168.75.133 -p tcp --dport 80 -j MARK --set-mark 1");
  await run("ipvsadm -A -f 1 -s rr -p");
  await run("ipvsadm -a -f 1 -r 192.168.1.185 -m");
  await run("ipvsadm -a -f 1 -r 192.168.1.190 -m");
  await say("ipvsadm -L -n -f 1");
  for (const s of ["150", "150", "151"]) await req(`192.168.75.${s}`, "192.168.75.133");
  echo("");
  await conns(/192\.168\.75\.133:|0\.0\.0\.1:/);
  section("fwmark: iptables MARK 1 for 192.168.75.133:80, -A -f 1 -s rr -p");

  await svc(`${V}:85`, "-s rr -p 30");
  await req("192.168.75.156", `${V}:85`);
  echo("");
  await run(`ipvsadm -e -t ${V}:85 -r 192.168.1.190:80 -m -w 0`);
  echo(`--- expire_quiescent_template=${(await run("sysctl -n net.ipv4.vs.expire_quiescent_template")).trim()}`);
  await req("192.168.75.156", `${V}:85`);
  await req("192.168.75.157", `${V}:85`);
  echo("");
  await run("sysctl -q -w net.ipv4.vs.expire_quiescent_template=1");
  echo("--- expire_quiescent_template=1");
  await req("192.168.75.156", `${V}:85`);
  await req("192.168.75.156", `${V}:85`);
  echo("");
  await conns(/192\.168\.75\.131:85 /);
  await say(`ipvsadm -L -n -t ${V}:85`);
  section("quiescent: -p 30; the template's dest set to weight 0");

  // The real run spent over 10 s (emulated VM) between the port-0 section and the final
  // listings: its two CLOSE entries (10 s) had expired, so the port-0 dests count one
  // inactive connection less each. The simulation gets there in milliseconds; it waits
  // the 10 s (timing normalisation; no template or TIME_WAIT entry expires meanwhile).
  await sleepWorld(lab.world, 10_000_000);
  await say("ipvsadm -L -n");
  section("ipvsadm -L -n (all)");
  await say("ipvsadm -L -n --persistent-conn");
  section("ipvsadm -L -n --persistent-conn (all)");
  held.close();

  assert.deepEqual(diffs, []);
});
