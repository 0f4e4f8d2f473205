import { test } from "node:test";
import assert from "node:assert/strict";
import { World } from "../../net/world.js";
import { RealTimeDriver } from "./realtime.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("events fire at their real time, virtual time is elapsed real time, and nothing spins meanwhile", async () => {
  const world = new World();
  const d = new RealTimeDriver(world);
  const fired: { want: number; at: number; real: number }[] = [];
  for (const want of [30_000, 120_000, 250_000]) {
    world.queue.after(want, () => fired.push({ want, at: world.now(), real: d.realNow() }));
  }
  d.pump();
  const cpu0 = process.cpuUsage();
  await sleep(400);
  const cpu = process.cpuUsage(cpu0);
  d.stop();
  assert.equal(fired.length, 3);
  for (const f of fired) {
    assert.ok(f.at >= f.want, `fired at virtual ${f.at} before ${f.want}`);
    assert.ok(f.real >= f.want && f.real - f.want < 80_000, `event for ${f.want} us ran at real ${f.real} us`);
    assert.ok(f.real - f.at < 80_000, "virtual time keeps up with real time");
  }
  // Waiting 400 ms for three timers must not burn the CPU (a busy loop would take ~400 ms).
  assert.ok((cpu.user + cpu.system) / 1000 < 150, `used ${(cpu.user + cpu.system) / 1000} ms of CPU while idle`);
});

test("an event scheduled outside a pump (a command's continuation) wakes the driver", async () => {
  const world = new World();
  const d = new RealTimeDriver(world);
  d.pump();
  await sleep(20);
  let ran = -1;
  // As a tool does after an await: no pump is running, nobody calls pump().
  await Promise.resolve();
  world.queue.after(10_000, () => (ran = d.realNow()));
  const t0 = d.realNow();
  await sleep(150);
  d.stop();
  assert.ok(ran >= t0 + 10_000 && ran < t0 + 100_000, `ran at ${ran}, scheduled at ${t0}`);
});

test("a burst of events is run in slices so I/O gets in between", async () => {
  const world = new World();
  const d = new RealTimeDriver(world);
  let n = 0;
  for (let i = 0; i < 50_000; i++) world.queue.after(0, () => n++);
  let ioTurns = 0;
  const iv = setInterval(() => ioTurns++, 0);
  d.pump();
  assert.ok(n < 50_000, "the first pump does not run them all");
  for (let i = 0; i < 100 && n < 50_000; i++) await sleep(5);
  clearInterval(iv);
  d.stop();
  assert.equal(n, 50_000);
  assert.ok(ioTurns >= 1);
});

test("an event that throws is reported and the queue goes on", async () => {
  const world = new World();
  const d = new RealTimeDriver(world);
  const errors: unknown[] = [];
  d.onError = (e) => errors.push(e);
  const ran: number[] = [];
  world.queue.after(1000, () => ran.push(1));
  world.queue.after(2000, () => {
    throw new Error("bad packet");
  });
  world.queue.after(3000, () => ran.push(3));
  d.pump();
  for (let i = 0; i < 50 && ran.length < 2; i++) await sleep(5);
  d.stop();
  assert.deepEqual(ran, [1, 3]);
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, "bad packet");
});
