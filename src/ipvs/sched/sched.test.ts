import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { destSpec, newEngine, svcSpec, tcpKey } from "../test_util.js";
import type { IpvsEngine } from "../engine.js";
import { findScheduler } from "./index.js";
import type { Service } from "../service.js";
import { SourceHash } from "./sh.js";
import { Maglev } from "./mh.js";

const KEY = tcpKey("10.0.0.100", 80);
const PKT = { proto: 6, saddr: 0x0a000001, daddr: 0x0a000064, sport: 12345, dport: 80 };

/** A service whose dests were added in `order` (so the list is reversed: newest first). */
function setup(sched: string, adds: [string, number][], flags = 0): { e: IpvsEngine; svc: Service } {
  const { e } = newEngine({ twos: sched === "twos" });
  assert.equal(e.addService(svcSpec(KEY, sched, { flags })), undefined);
  for (const [a, w] of adds) assert.equal(e.addDest(KEY, destSpec(a, 80, { weight: w })), undefined);
  return { e, svc: e.serviceObjects()[0]! };
}

function picks(svc: Service, n: number, name: (a: number) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = svc.sched.schedule(svc, PKT);
    out.push(typeof r === "string" ? "-" : name(r.addr));
  }
  return out;
}

const ABC: Record<number, string> = { 0x01010101: "A", 0x02020202: "B", 0x03030303: "C" };
const nm = (a: number) => ABC[a] ?? "?";

test("rr: add A, B, C picks C, B, A repeating (§13)", () => {
  const { svc } = setup("rr", [["1.1.1.1", 1], ["2.2.2.2", 1], ["3.3.3.3", 1]]);
  assert.deepEqual(picks(svc, 7, nm).join(""), "CBACBAC");
});

test("rr: weight-0 dest is skipped (§13)", () => {
  const { svc } = setup("rr", [["1.1.1.1", 1], ["2.2.2.2", 0], ["3.3.3.3", 1]]);
  assert.equal(picks(svc, 6, nm).join(""), "CACACA");
});

test("rr: deleting the cursor dest moves the cursor to its predecessor", () => {
  const { e, svc } = setup("rr", [["1.1.1.1", 1], ["2.2.2.2", 1], ["3.3.3.3", 1]]);
  assert.equal(picks(svc, 2, nm).join(""), "CB"); // cursor at B
  e.delDest(KEY, 0x02020202, 80); // list C, A; cursor -> C
  assert.equal(picks(svc, 3, nm).join(""), "ACA");
});

test("rr: adds do not move the cursor; a new head is reached after the wrap", () => {
  const { e, svc } = setup("rr", [["1.1.1.1", 1], ["2.2.2.2", 1]]);
  assert.equal(picks(svc, 1, nm).join(""), "B");
  e.addDest(KEY, destSpec("3.3.3.3", 80)); // list C, B, A; cursor B
  assert.equal(picks(svc, 4, nm).join(""), "ACBA");
});

test("rr: none eligible -> no destination available", () => {
  const { svc } = setup("rr", [["1.1.1.1", 0]]);
  assert.equal(svc.sched.schedule(svc, PKT), "no destination available");
});

const W = (ws: number[]): [string, number][] => {
  // List order A, B, C means adding C first, A last.
  const names = ["1.1.1.1", "2.2.2.2", "3.3.3.3"].slice(0, ws.length);
  return names.map((a, i) => [a, ws[i]!] as [string, number]).reverse();
};

// Dests are added one by one after the service (as ipvsadm does), and each add keeps cw
// from before it (ip_vs_wrr_dest_changed: cw is only lowered to mw), so the first pass
// runs at the weight of the first dest added; after it the §13 cycle repeats.
for (const [ws, warmup, seq] of [
  [[4, 3, 2], "ABC", "AABABCABC"],
  [[2, 4, 6], "ABC", "CBCABC"],
  [[1, 1, 0], "", "AB"],
  [[5, 1], "AB", "AAAAAB"],
] as [number[], string, string][]) {
  test(`wrr: weights ${ws.join(",")} give ${seq} repeating (§13)`, () => {
    const { svc } = setup("wrr", W(ws));
    assert.equal(picks(svc, warmup.length + seq.length * 3, nm).join(""), warmup + seq.repeat(3));
  });
}

test("wrr: a service whose scheduler is bound with the dests in place starts with the cycle", () => {
  const { e, svc } = setup("rr", W([4, 3, 2]));
  e.editService(svcSpec(KEY, "wrr"));
  assert.equal(picks(svc, 18, nm).join(""), "AABABCABC".repeat(2));
});

test("wrr: all overloaded / all zero", () => {
  const { svc } = setup("wrr", W([0, 0]));
  assert.equal(svc.sched.schedule(svc, PKT), "no destination available");
  const s2 = setup("wrr", W([2, 1]));
  for (const d of s2.svc.dests) d.flags |= 2;
  assert.equal(s2.svc.sched.schedule(s2.svc, PKT), "no destination available: all destinations are overloaded");
});

test("wrr: an edit resets the cursor to the head", () => {
  const { e, svc } = setup("wrr", W([4, 3, 2]));
  assert.equal(picks(svc, 2, nm).join(""), "AB"); // cw = 2, cursor at B
  e.editDest(KEY, destSpec("3.3.3.3", 80, { weight: 2 }));
  // Without the reset the next picks would be C, then A at cw = 1.
  assert.equal(picks(svc, 2, nm).join(""), "AB");
});

test("wrr: picks are proportional to weights over a cycle (property)", () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 6 }), (ws) => {
    const { e } = newEngine();
    e.addService(svcSpec(KEY, "wrr"));
    ws.forEach((w, i) => e.addDest(KEY, destSpec(`10.1.0.${i + 1}`, 80, { weight: w })));
    const svc = e.serviceObjects()[0]!;
    const sum = ws.reduce((a, b) => a + b, 0);
    if (sum === 0) return typeof svc.sched.schedule(svc, PKT) === "string";
    let g = 0;
    const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
    for (const w of ws) if (w > 0) g = gcd(g, w);
    const cycle = sum / g;
    const count = new Map<number, number>();
    for (let i = 0; i < cycle * 2; i++) {
      const r = svc.sched.schedule(svc, PKT);
      if (typeof r === "string") return false;
      count.set(r.addr, (count.get(r.addr) ?? 0) + 1);
    }
    return ws.every((w, i) => (count.get(0x0a010000 + i + 1) ?? 0) === (2 * w) / g);
  }), { numRuns: 60 });
});

test("lc / wlc / sed / nq / fo / ovf basic choices", () => {
  const lc = setup("lc", [["1.1.1.1", 1], ["2.2.2.2", 1], ["3.3.3.3", 1]]);
  lc.svc.dests[0]!.activeConns = 1; // C busy
  assert.equal(nm((lc.svc.sched.schedule(lc.svc, PKT) as { addr: number }).addr), "B");
  const fo = setup("fo", [["1.1.1.1", 3], ["2.2.2.2", 5], ["3.3.3.3", 5]]);
  assert.equal(nm((fo.svc.sched.schedule(fo.svc, PKT) as { addr: number }).addr), "C");
  const ovf = setup("ovf", [["1.1.1.1", 3], ["2.2.2.2", 5]]);
  ovf.svc.dests[0]!.activeConns = 6;
  assert.equal(nm((ovf.svc.sched.schedule(ovf.svc, PKT) as { addr: number }).addr), "A");
  const nq = setup("nq", [["1.1.1.1", 1], ["2.2.2.2", 9]]);
  nq.svc.dests[0]!.activeConns = 1;
  assert.equal(nm((nq.svc.sched.schedule(nq.svc, PKT) as { addr: number }).addr), "A");
});

test("wlc: D3 (w2, 1 active), D2 (w1, 10 inactive), D1 idle -> D1 (§13)", () => {
  const s = setup("wlc", [["1.1.1.1", 1], ["2.2.2.2", 1], ["3.3.3.3", 2]]);
  const [d3, d2] = s.svc.dests;
  d3!.activeConns = 1;
  d2!.inactConns = 10;
  assert.equal(nm((s.svc.sched.schedule(s.svc, PKT) as { addr: number }).addr), "A");
});

test("wlc tie: classic keeps A, current (totalconns) picks B (§13)", () => {
  for (const [flavour, want] of [["classic", "A"], ["current", "B"]] as const) {
    const { e } = newEngine({ flavour, overhead: flavour === "current" ? "totalconns" : undefined });
    e.addService(svcSpec(KEY, "wlc"));
    e.addDest(KEY, destSpec("2.2.2.2", 80));
    e.addDest(KEY, destSpec("1.1.1.1", 80)); // list A, B
    const svc = e.serviceObjects()[0]!;
    svc.dests[0]!.activeConns = 1;
    svc.dests[1]!.inactConns = 256;
    const r = svc.sched.schedule(svc, PKT) as { addr: number };
    assert.equal(nm(r.addr), want, flavour);
  }
  // The default (Linux 6.1, as the real-kernel goldens show): the overhead without totalconns.
  const { e } = newEngine();
  e.addService(svcSpec(KEY, "wlc"));
  e.addDest(KEY, destSpec("2.2.2.2", 80));
  e.addDest(KEY, destSpec("1.1.1.1", 80));
  const svc = e.serviceObjects()[0]!;
  svc.dests[0]!.activeConns = 1;
  svc.dests[1]!.inactConns = 256;
  assert.equal(nm((svc.sched.schedule(svc, PKT) as { addr: number }).addr), "A", "default");
});

test("sh: bucket fill and client lookups (§13)", () => {
  const { svc } = setup("sh", [["192.168.1.1", 3], ["192.168.1.2", 2], ["192.168.1.3", 1]]);
  const sh = svc.sched as SourceHash;
  const last = (d: { addr: number } | undefined) => String(d!.addr & 0xff);
  assert.deepEqual(sh.buckets.slice(0, 12).map(last), ["3", "2", "2", "1", "1", "1", "3", "2", "2", "1", "1", "1"]);
  const ipn = (s: string) => s.split(".").reduce((a, x) => a * 256 + Number(x), 0);
  for (const [c, bucket, d] of [["10.0.0.1", 39, "1"], ["10.0.0.2", 137, "1"], ["172.16.5.9", 115, "2"], ["203.0.113.7", 124, "1"]] as const) {
    assert.equal(sh.hashKey(ipn(c), 0, 0), bucket, c);
    const r = svc.sched.schedule(svc, { ...PKT, saddr: ipn(c) }) as { addr: number };
    assert.equal(String(r.addr & 0xff), d, c);
  }
  assert.equal(sh.hashKey(ipn("10.0.0.1"), 12345, 0), 134);
});

test("mh: permutation, slot counts and lookups (§13)", () => {
  const ipn = (s: string) => s.split(".").reduce((a, x) => a * 256 + Number(x), 0);
  const { svc } = setup("mh", [["192.168.1.1", 1], ["192.168.1.2", 1], ["192.168.1.3", 1]]);
  const setupv = Maglev.setup(svc).map((x) => [x.offset, x.skip]);
  assert.deepEqual(setupv, [[1446, 594], [183, 1302], [2684, 2584]]);
  const mh = svc.sched as Maglev;
  const counts = new Map<string, number>();
  for (const d of mh.lookup) counts.set(String(d!.addr & 0xff), (counts.get(String(d!.addr & 0xff)) ?? 0) + 1);
  assert.deepEqual([counts.get("3"), counts.get("2"), counts.get("1")], [1365, 1364, 1364]);
  for (const [c, slot, d] of [["10.0.0.1", 3711, "2"], ["10.0.0.2", 1884, "1"], ["172.16.5.9", 3538, "2"], ["203.0.113.7", 1705, "2"]] as const) {
    assert.equal(mh.slotFor(ipn(c), 0), slot, c);
    const r = svc.sched.schedule(svc, { ...PKT, saddr: ipn(c) }) as { addr: number };
    assert.equal(String(r.addr & 0xff), d, c);
  }
  const w = setup("mh", [["192.168.1.1", 3], ["192.168.1.2", 2], ["192.168.1.3", 1]]);
  const c2 = new Map<string, number>();
  for (const d of (w.svc.sched as Maglev).lookup) c2.set(String(d!.addr & 0xff), (c2.get(String(d!.addr & 0xff)) ?? 0) + 1);
  assert.deepEqual([c2.get("3"), c2.get("2"), c2.get("1")], [683, 1364, 2046]);
});

test("registry knows every scheduler of §2", () => {
  for (const n of ["rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "twos", "sh", "dh", "lblc", "lblcr", "mh"]) {
    assert.ok(findScheduler(n), n);
  }
  assert.equal(findScheduler("nope"), undefined);
});

test("twos: picks only eligible dests, deterministic with the injected RNG", () => {
  const { svc } = setup("twos", [["1.1.1.1", 1], ["2.2.2.2", 0], ["3.3.3.3", 2]]);
  const seen = new Set(picks(svc, 50, nm));
  assert.ok(!seen.has("B"));
  assert.ok(seen.has("A") && seen.has("C"));
});

test("dh / lblc / lblcr map one destination address to one server", () => {
  for (const s of ["dh", "lblc", "lblcr"]) {
    const { svc } = setup(s, [["1.1.1.1", 1], ["2.2.2.2", 1], ["3.3.3.3", 1]]);
    const a = picks(svc, 5, nm);
    assert.equal(new Set(a).size, s === "dh" ? 1 : 1, s);
  }
});
