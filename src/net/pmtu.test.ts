import { test } from "node:test";
import assert from "node:assert/strict";
import { PmtuCache } from "./pmtu.js";

test("PmtuCache: only lowers, clamps below min_pmtu to 552 locked, expires after mtu_expires", () => {
  let now = 0;
  const sys = new Map<string, number>();
  const c = new PmtuCache(() => now, (n, d) => sys.get(n) ?? d);
  assert.equal(c.update(1, 1600, 1500), false);
  assert.equal(c.update(1, 1480, 1500), true);
  assert.deepEqual(c.get(1), { mtu: 1480, expires: 600_000_000, locked: false });
  // The same value again refreshes only once half the expiry has gone.
  now = 100_000_000;
  assert.equal(c.update(1, 1480, 1480), false);
  now = 301_000_000;
  assert.equal(c.update(1, 1480, 1480), true);
  assert.equal(c.get(1)!.expires, 901_000_000);
  assert.equal(c.update(2, 300, 1500), true);
  assert.deepEqual(c.get(2), { mtu: 552, expires: 901_000_000, locked: true });
  now = 901_000_000;
  assert.equal(c.get(1), undefined);
  assert.deepEqual(c.list(), []);
  sys.set("net.ipv4.route.mtu_expires", 10);
  c.update(3, 1400, 1500);
  assert.equal(c.get(3)!.expires, now + 10_000_000);
  c.flush();
  assert.equal(c.get(3), undefined);
});
