/**
 * Property tests of the schedulers, driving the real engine (services and dests added
 * through IpvsEngine, so list order is the kernel's: newest first) over random weights,
 * connection counts and arrival orders. Each property is the kernel's rule (ip_vs_*.c,
 * reference §2): the minimising formula with its tie-break, wrr's per-cycle counts, the
 * hashing schedulers' stability, Maglev's minimal disruption, rr's cycle, weight 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { destSpec, newEngine, svcSpec, tcpKey } from "../test_util.js";
import type { IpvsEngine } from "../engine.js";
import type { Dest, Service } from "../service.js";
import { DEST_F_OVERLOAD } from "../service.js";
import { overhead } from "./types.js";

const KEY = tcpKey("10.0.0.100", 80);
const PKT = { proto: 6, saddr: 0x0a000001, daddr: 0x0a000064, sport: 12345, dport: 80 };
const addrOf = (i: number) => `10.1.${i >> 8}.${(i & 0xff) + 1}`;

interface DestGen {
  weight: number;
  active: number;
  inact: number;
  overloaded: boolean;
}

const destGen = (maxW = 8): fc.Arbitrary<DestGen> =>
  fc.record({
    weight: fc.integer({ min: 0, max: maxW }),
    // Small counts make ties (where the list-order tie-break shows) common.
    active: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 6 })),
    inact: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 600 })),
    overloaded: fc.integer({ min: 0, max: 9 }).map((x) => x < 2),
  });

/** dests[i] is added in arrival order `order` (a permutation); returns the engine and service. */
function build(sched: string, dests: DestGen[], order: number[], flags = 0): { e: IpvsEngine; svc: Service } {
  const { e } = newEngine();
  assert.equal(e.addService(svcSpec(KEY, sched, { flags })), undefined);
  for (const i of order) assert.equal(e.addDest(KEY, destSpec(addrOf(i), 80, { weight: dests[i]!.weight })), undefined);
  const svc = e.serviceObjects()[0]!;
  for (const d of svc.dests) {
    const g = dests[(d.addr & 0xffff) - 1]!;
    d.activeConns = g.active;
    d.inactConns = g.inact;
    if (g.overloaded) d.flags |= DEST_F_OVERLOAD;
  }
  return { e, svc };
}

/** A random list of dests with a random arrival order. */
const destsAndOrder = (maxW = 8, maxN = 7) =>
  fc
    .array(destGen(maxW), { minLength: 1, maxLength: maxN })
    .chain((ds) => fc.tuple(fc.constant(ds), fc.shuffledSubarray(ds.map((_, i) => i), { minLength: ds.length, maxLength: ds.length })));

function pick(svc: Service, p = PKT): Dest | undefined {
  const r = svc.sched.schedule(svc, p);
  return typeof r === "string" ? undefined : r;
}

/**
 * The kernel's minimum: the first eligible dest in list order, replaced only by a later
 * one that is strictly smaller (cost compared as a fraction num/den by cross products).
 */
function expectedMin(svc: Service, eligible: (d: Dest) => boolean, cost: (d: Dest) => [number, number]): Dest | undefined {
  let best: Dest | undefined;
  for (const d of svc.dests) {
    if (!eligible(d)) continue;
    if (best === undefined) {
      best = d;
      continue;
    }
    const [bn, bd] = cost(best);
    const [dn, dd] = cost(d);
    if (dn * bd < bn * dd) best = d;
  }
  return best;
}

const usable = (d: Dest) => !d.overloaded && d.weight > 0;

test("lc/wlc/sed/nq choose a dest minimising their formula, first in list order on ties", () => {
  const formulas: Record<string, (d: Dest) => [number, number]> = {
    lc: (d) => [overhead(d, true), 1],
    wlc: (d) => [overhead(d, true), d.weight],
    sed: (d) => [d.activeConns + 1, d.weight],
    nq: (d) => [d.activeConns + 1, d.weight],
  };
  fc.assert(
    fc.property(destsAndOrder(), fc.constantFrom("lc", "wlc", "sed", "nq"), ([ds, order], s) => {
      const { svc } = build(s, ds, order);
      const got = pick(svc);
      let want: Dest | undefined;
      if (s === "nq") want = svc.dests.find((d) => usable(d) && d.activeConns === 0);
      want ??= expectedMin(svc, usable, formulas[s]!);
      assert.equal(got, want, `${s}: ${JSON.stringify(svc.dests.map((d) => [d.weight, d.activeConns, d.inactConns, d.overloaded]))}`);
      // The minimum is a true minimum: no eligible dest has a strictly smaller cost.
      if (got !== undefined) {
        const [gn, gd] = formulas[s]!(got);
        for (const d of svc.dests) {
          if (!usable(d)) continue;
          const [n, dd] = formulas[s]!(d);
          if (s !== "nq" || got.activeConns !== 0) assert.ok(!(n * gd < gn * dd), `${s} picked a non-minimal dest`);
        }
      }
    }),
    { numRuns: 400 },
  );
});

test("wrr: over one full cycle each dest is picked weight/gcd times, and the cycle repeats", () => {
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  fc.assert(
    fc.property(destsAndOrder(10, 6), fc.integer({ min: 0, max: 30 }), ([ds, order], skip) => {
      for (const d of ds) d.overloaded = false;
      const { svc } = build("wrr", ds, order);
      const ws = svc.dests.map((d) => d.weight);
      const sum = ws.reduce((a, b) => a + b, 0);
      if (sum === 0) return pick(svc) === undefined;
      const g = ws.reduce((a, w) => (w > 0 ? gcd(a, w) : a), 0);
      const cycle = sum / g;
      // Any starting point after the first pass (which runs at the first-added dest's
      // weight, see sched.test.ts) sees whole cycles.
      for (let i = 0; i < cycle + skip; i++) pick(svc);
      const seq: (Dest | undefined)[] = [];
      for (let i = 0; i < cycle * 2; i++) seq.push(pick(svc));
      for (const d of svc.dests) {
        const n = seq.slice(0, cycle).filter((x) => x === d).length;
        if (n !== d.weight / g) return false;
      }
      return seq.slice(0, cycle).every((d, i) => d === seq[i + cycle]);
    }),
    { numRuns: 200 },
  );
});

test("rr cycles through the eligible dests in list order", () => {
  fc.assert(
    fc.property(destsAndOrder(3), fc.integer({ min: 0, max: 10 }), ([ds, order], skip) => {
      const { svc } = build("rr", ds, order);
      const elig = svc.dests.filter(usable);
      for (let i = 0; i < skip; i++) pick(svc);
      if (elig.length === 0) return pick(svc) === undefined;
      const first = pick(svc)!;
      let k = elig.indexOf(first);
      if (k < 0) return false;
      for (let i = 0; i < elig.length * 2; i++) {
        k = (k + 1) % elig.length;
        if (pick(svc) !== elig[k]) return false;
      }
      return true;
    }),
    { numRuns: 200 },
  );
});

test("no scheduler that skips weight 0 ever chooses a weight-0 dest", () => {
  const scheds = ["rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "sh", "dh", "mh", "lblc", "lblcr"];
  fc.assert(
    fc.property(destsAndOrder(3), fc.constantFrom(...scheds), fc.array(fc.nat(), { minLength: 1, maxLength: 20 }), ([ds, order], s, srcs) => {
      const { svc } = build(s, ds, order);
      for (const x of srcs) {
        const d = pick(svc, { ...PKT, saddr: x >>> 0, daddr: (x * 7) >>> 0 });
        if (d !== undefined && (d.weight === 0 || d.overloaded)) return false;
        if (d !== undefined) d.activeConns++;
      }
      return true;
    }),
    { numRuns: 300 },
  );
});

test("sh (source) / dh (destination) / mh (source) map one address to one server until the set changes", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("sh", "dh", "mh"),
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
      (s, ws, addrs) => {
        const ds = ws.map((weight) => ({ weight, active: 0, inact: 0, overloaded: false }));
        const { e, svc } = build(s, ds, ds.map((_, i) => i));
        const key = (a: number) => (s === "dh" ? { ...PKT, daddr: a >>> 0 } : { ...PKT, saddr: a >>> 0, sport: a & 0xffff });
        const first = new Map<number, Dest | undefined>();
        for (const a of addrs) first.set(a, pick(svc, key(a)));
        // Load, other clients and repeated asks change nothing.
        for (const d of svc.dests) d.activeConns += 3;
        for (const a of [...addrs].reverse()) if (pick(svc, key(a)) !== first.get(a)) return false;
        if ([...first.values()].some((d) => d === undefined)) return false;
        // Adding a dest rebuilds the table; the mapping is again stable afterwards.
        e.addDest(KEY, destSpec("10.9.9.9", 80, { weight: 2 }));
        const second = new Map(addrs.map((a) => [a, pick(svc, key(a))]));
        return addrs.every((a) => pick(svc, key(a)) === second.get(a));
      },
    ),
    { numRuns: 150 },
  );
});

test("mh: removing one of N servers moves about 1/N of 5,000 sources; the survivors' sources stay", () => {
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 9 }), fc.nat(), fc.nat(), (n, victimSeed, base) => {
      const ds = Array.from({ length: n }, () => ({ weight: 1, active: 0, inact: 0, overloaded: false }));
      const { e, svc } = build("mh", ds, ds.map((_, i) => i));
      const victim = svc.dests[victimSeed % n]!;
      const srcs = Array.from({ length: 5000 }, (_, i) => (base + i * 2654435761) >>> 0);
      const before = srcs.map((a) => pick(svc, { ...PKT, saddr: a }));
      e.delDest(KEY, victim.addr, 80);
      const after = srcs.map((a) => pick(svc, { ...PKT, saddr: a }));
      let moved = 0;
      let survivors = 0;
      let survivorsMoved = 0;
      for (let i = 0; i < srcs.length; i++) {
        if (before[i] !== after[i]) moved++;
        if (before[i] !== victim) {
          survivors++;
          if (before[i] !== after[i]) survivorsMoved++;
        }
        if (after[i] === victim || after[i] === undefined) return false;
      }
      const frac = moved / srcs.length;
      // The victim's own sources (~1/N) must move; Maglev moves few others.
      return frac <= 1 / n + 0.06 && survivorsMoved / survivors <= 0.06;
    }),
    { numRuns: 12 },
  );
});
