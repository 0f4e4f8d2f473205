/**
 * Replays test/golden/kernel/thresholds.sh — upper/lower connection thresholds (-x/-y) and
 * OVERLOAD on real Linux 6.1 — on labs/lvs-nat.yaml and compares every count and listing.
 *
 * The script's datagrams (bash's /dev/udp from the client, a new source port each) are
 * client.udpSend() calls with fresh source ports; each makes one UDP connection entry
 * unless the scheduler finds no destination. Timing: commands here start 5 ms apart; the
 * "hyst" section sends at the times the recording printed (its [seconds] after t0, less
 * 0.1 s for the listing that followed the send), since there entries expire 10 s after
 * their datagram and the counts depend on when.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCommand, sleepWorld } from "../src/lab/runner.js";
import { parseIp4 } from "../src/wire/addr.js";
import { buildLabFile, goldenSections } from "./helpers.js";

const GOLDEN = "test/golden/kernel/thresholds.out";
const V = "192.168.75.131";
const R1 = "192.168.1.185:9";
const R2 = "192.168.1.190:9";
const SCHEDULERS = ["rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "sh", "dh", "mh", "lblc", "lblcr"];

test("thresholds golden: OVERLOAD set, cleared, edited, per scheduler, with persistence, and the listings", async () => {
  const g = goldenSections(GOLDEN);
  const sec = (t: string) => { const v = g.get(t); assert.ok(v !== undefined, `golden has no "### ${t}"`); return v; };
  const lab = buildLabFile("labs/lvs-nat.yaml");
  const { world } = lab;
  const vip = lab.hosts.get("vip")!;
  const client = lab.hosts.get("client")!;
  const out = async (line: string) => {
    await sleepWorld(world, 5_000);
    const r = await runCommand(vip, line);
    assert.equal(r.exit, 0, `${line}: ${r.io.text}`);
    return r.io.stdoutText;
  };
  let sport = 40000;
  const u = async (port: number) => {
    await sleepWorld(world, 5_000);
    client.udpSend(undefined, sport++, parseIp4(V)!, port, new TextEncoder().encode("x\n"));
    await sleepWorld(world, 5_000);
  };
  /** The script's c(): " ADDR:PORT=Active/InAct" per dest of the service. */
  const c = async (port: number) => {
    const rows = (await out(`ipvsadm -L -n -u ${V}:${port}`)).split("\n").filter((l) => l.startsWith("  -> ") && !l.includes("RemoteAddress"));
    return rows.map((l) => { const f = l.trim().split(/\s+/); return ` ${f[1]}=${f[4]}/${f[5]}`; }).join("");
  };
  const diffs: string[] = [];
  const same = (what: string, got: string, want: string) => { if (got !== want) diffs.push(`${what}:\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`); };

  await out("sysctl -q -w net.ipv4.ip_forward=1");
  // sched: rs1 -x 1 added first, rs2 -x 2 second, weight 1; four datagrams each.
  let port = 100;
  const schedLines = sec("sched").split("\n").filter(Boolean);
  for (const s of SCHEDULERS) {
    port++;
    await out(`ipvsadm -A -u ${V}:${port} -s ${s}`);
    await out(`ipvsadm -a -u ${V}:${port} -r ${R1} -m -x 1`);
    await out(`ipvsadm -a -u ${V}:${port} -r ${R2} -m -x 2`);
    let line = `${s}:`;
    for (let i = 1; i <= 4; i++) {
      await u(port);
      line += ` ${i}:${await c(port)}`;
    }
    same(`sched ${s}`, line, schedLines.find((l) => l.startsWith(`${s}:`)) ?? "(missing)");
  }
  same("--thresholds of the rr service", await out(`ipvsadm -L -n --thresholds -u ${V}:101`), sec("sched-thresholds-listing"));
  // edit: thresholds changed with entries in place.
  const edit = sec("edit").split("\n");
  const e = (i: number) => edit[i]!;
  await out(`ipvsadm -A -u ${V}:201 -s rr`);
  await out(`ipvsadm -a -u ${V}:201 -r ${R1} -m`);
  for (let i = 0; i < 3; i++) await u(201);
  same("edit 0", `3 sent:${await c(201)}`, e(0));
  const step = async (k: number, svc: number, opts: string, label: string) => {
    await out(`ipvsadm -e -u ${V}:${svc} -r ${R1} -m ${opts}`);
    await u(svc);
    same(`edit ${k}`, `${label}, 1 sent:${await c(svc)}`, e(k));
  };
  await step(1, 201, "-x 2", "-x 2");
  await step(2, 201, "-x 10", "-x 10");
  await out(`ipvsadm -A -u ${V}:202 -s rr`);
  await out(`ipvsadm -a -u ${V}:202 -r ${R1} -m -x 4`);
  for (let i = 0; i < 5; i++) await u(202);
  same("edit 3", `-x 4, 5 sent:${await c(202)}`, e(3));
  await step(4, 202, "-x 5", "-x 5");
  await step(5, 202, "-x 6 -y 2", "-x 6 -y 2");
  await step(6, 202, "-x 0", "-x 0");
  await step(7, 202, "-x 3 -y 1", "-x 3 -y 1");
  // persist: templates keep sending to an OVERLOAD dest.
  await out(`ipvsadm -A -u ${V}:203 -s rr -p 60`);
  await out(`ipvsadm -a -u ${V}:203 -r ${R1} -m -x 2`);
  await out(`ipvsadm -a -u ${V}:203 -r ${R2} -m -x 2`);
  for (let i = 0; i < 4; i++) await u(203);
  same("persist", `4 sent:${await c(203)}\n` + (await out(`ipvsadm -L -n --persistent-conn -u ${V}:203`)), sec("persist"));
  // hyst: udp timeout 10 s, -x 4 (lower 0: cleared below 3).
  await out("ipvsadm --set 0 0 10");
  await out(`ipvsadm -A -u ${V}:204 -s rr`);
  await out(`ipvsadm -a -u ${V}:204 -r ${R1} -m -x 4`);
  const t0 = world.now();
  for (const line of sec("hyst").split("\n").filter((l) => l.startsWith("t+"))) {
    const m = /^(t\+\d+)( (\d) sent)?:.* \[(\d+\.\d+)\]$/.exec(line);
    assert.ok(m, line);
    const at = t0 + Math.round((Number(m[4]) - (m[2] ? 0.1 : 0)) * 1e6);
    if (world.now() < at) await sleepWorld(world, at - world.now());
    for (let i = 0; i < Number(m[3] ?? 0); i++) await u(204);
    same(`hyst ${line}`, `${m[1]}${m[2] ?? ""}:${await c(204)}`, line.replace(/ \[[\d.]+\]$/, ""));
  }
  // list: every service's thresholds, -L -n and -S (which leaves thresholds out).
  const list = sec("list");
  const listing = (await out("ipvsadm -L -n --thresholds")) + (await out(`ipvsadm -L -n -u ${V}:202`)) + (await out("ipvsadm -S -n"));
  same("list", listing, list.replace(/\n+$/, "\n"));
  assert.deepEqual(diffs, []);
});
