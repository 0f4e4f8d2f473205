/**
 * The connection table's lookup indexes against the kernel's definition of a lookup: walk
 * the key's hash chain from its head and take the first entry that matches. Random
 * inserts (many duplicate keys, templates among them), removals and index growth, all
 * checked after every step on every key in play.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONN_F_TEMPLATE, ConnTable, NIL } from "./conn.js";

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** The chain walk ip_vs_conn_in_get / out_get / ct_in_get do. */
function walk(t: ConnTable, proto: number, caddr: number, cport: number, match: (i: number) => boolean): number {
  let found = NIL;
  t.forEach((i) => {
    if (found === NIL && t.proto[i] === proto && t.caddr[i] === caddr && t.cport[i] === cport && match(i)) found = i;
  });
  return found;
}

test("conn table: indexed lookups equal the chain walk through inserts, duplicates, removals and growth", () => {
  const rnd = xorshift(12345);
  // Small bucket count (2^8) so chains are long; few distinct values so keys repeat.
  const t = new ConnTable(8, 0xdecafbad, 4);
  const live: number[] = [];
  const pick = (n: number) => rnd() % n;
  const key = () => ({ proto: pick(2) ? 6 : 17, caddr: 0x0a000000 + pick(40), cport: 1000 + pick(3), vaddr: 0xc0a84b83 + pick(2), vport: 80 + pick(2), daddr: 0xc0a801b9 + pick(2), dport: 80 + pick(2) });
  let checks = 0;
  for (let step = 0; step < 6000; step++) {
    if (live.length === 0 || rnd() % 100 < 60) {
      const k = key();
      const tpl = rnd() % 5 === 0;
      const i = t.alloc(k.proto, k.caddr, tpl ? 0 : k.cport, k.vaddr, k.vport, k.daddr, k.dport, tpl ? CONN_F_TEMPLATE : 0, 0, 0);
      t.hash(i);
      live.push(i);
    } else {
      const j = pick(live.length);
      const i = live[j]!;
      live.splice(j, 1);
      t.unhash(i);
      t.free(i);
    }
    if (step % 7 !== 0) continue;
    for (let q = 0; q < 40; q++) {
      const k = key();
      const inWant = walk(t, k.proto, k.caddr, k.cport, (i) => t.vaddr[i] === k.vaddr && t.vport[i] === k.vport && !(t.flags[i]! & CONN_F_TEMPLATE));
      assert.equal(t.inLookup(k.proto, k.caddr, k.cport, k.vaddr, k.vport), inWant, `in lookup, step ${step}`);
      const outWant = walk(t, k.proto, k.caddr, k.cport, (i) => t.daddr[i] === k.daddr && t.dport[i] === k.dport && !(t.flags[i]! & CONN_F_TEMPLATE));
      assert.equal(t.outLookup(k.proto, k.daddr, k.dport, k.caddr, k.cport), outWant, `out lookup, step ${step}`);
      const tplWant = walk(t, k.proto, k.caddr, 0, (i) => t.vaddr[i] === k.vaddr && t.vport[i] === k.vport && (t.flags[i]! & CONN_F_TEMPLATE) !== 0);
      assert.equal(t.templateLookup(k.proto, k.caddr, k.vaddr, k.vport), tplWant, `template lookup, step ${step}`);
      checks++;
    }
  }
  assert.ok(checks > 30_000);
  assert.ok(live.length > 500, "the table grew well past its first index size");
});
