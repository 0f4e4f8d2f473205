import { test } from "node:test";
import assert from "node:assert/strict";
import { compileFilter } from "./filter.js";
import { BAD, GOOD } from "./filter_cases.js";
import { extra, misc, tcp80 } from "./samples.test-helper.js";
import { toSll2 } from "./pcap.js";

const SAMPLES = [...tcp80(), ...misc(), ...extra()];

function selection(expr: string): number[] | string {
  const f = compileFilter(expr);
  if (!f.ok) return f.error;
  return SAMPLES.map((s, i) => (f.match(s.frame, s.origLen ?? s.frame.length) ? i : -1)).filter((i) => i >= 0);
}

test(`${GOOD.length} expressions select what tcpdump 4.99.3 selected`, () => {
  assert.ok(GOOD.length >= 100);
  for (const [expr, want] of GOOD) assert.deepEqual(selection(expr), want, expr);
});

test(`${BAD.length} bad expressions fail with libpcap's exact message`, () => {
  assert.ok(BAD.length >= 20);
  for (const [expr, msg] of BAD) assert.deepEqual(selection(expr), msg, expr);
});

test("empty expression accepts everything", () => {
  const f = compileFilter("");
  assert.ok(f.ok && f.match(new Uint8Array(0)));
});

test("the seed's filter: host 192.168.75.150 and ! port 22", () => {
  const f = compileFilter("host 192.168.75.150 and ! port 22");
  assert.ok(f.ok);
  const g = compileFilter("host 192.168.1.10 and ! port 22");
  assert.ok(g.ok);
  const hits = SAMPLES.filter((s) => g.match(s.frame)).length;
  assert.equal(hits, (selection("host 192.168.1.10") as number[]).length);
});

test("loads past the captured bytes reject the packet", () => {
  const f = compileFilter("tcp[13] = 2 or arp");
  assert.ok(f.ok);
  const syn = tcp80()[0]!.frame;
  assert.equal(f.match(syn), true);
  assert.equal(f.match(syn.subarray(0, 40), syn.length), false);
});

test("Linux cooked v2 offsets; MAC filters refused there", () => {
  const f = compileFilter("tcp port 80 and host 10.0.0.100", { linktype: 276 });
  assert.ok(f.ok);
  assert.equal(f.match(toSll2(tcp80()[0]!.frame, 2, 4)), true);
  assert.equal(f.match(toSll2(misc()[0]!.frame, 2, 0)), false);
  const o = compileFilter("outbound", { linktype: 276 });
  assert.ok(o.ok && o.match(toSll2(tcp80()[0]!.frame, 2, 4)) && !o.match(toSll2(tcp80()[0]!.frame, 2, 0)));
  assert.deepEqual(compileFilter("ether host 02:00:00:00:00:01", { linktype: 276 }),
    { ok: false, error: "ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel" });
});

test("live captures: inbound/outbound use the frame direction", () => {
  const f = compileFilter("inbound", { live: true });
  assert.ok(f.ok);
  assert.equal(f.match(tcp80()[0]!.frame, undefined, "in"), true);
  assert.equal(f.match(tcp80()[0]!.frame, undefined, "out"), false);
});
