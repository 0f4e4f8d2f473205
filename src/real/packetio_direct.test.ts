import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, constants as fsc, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { FDS_ENV, ERROR_ENV, IO_ENV, LAUNCH_PY, inheritedPacketFds, launchArgv, openDirectPacketIo, wantsLaunch } from "./packetio_direct.js";
import { TxRing } from "./packetio_tx.js";

function frame(port: number, i: number): Uint8Array {
  // Lengths from 1 to 1514, so records pad differently and the ring wraps at odd places.
  const len = 1 + ((i * 397) % 1514);
  return new Uint8Array(len).map((_, k) => (i + k * 31 + port * 7) & 0xff);
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("the transmit ring writes every frame once, in order, per port, across many wraps", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lvslab-txring-"));
  const files = [join(dir, "p0"), join(dir, "p1")];
  const fds = files.map((f) => openSync(f, "a"));
  const errors: Error[] = [];
  const ring = new TxRing(fds, (e) => errors.push(e));
  try {
    const want: Uint8Array[][] = [[], []];
    let full = 0;
    // About 12 MiB through a 4 MiB ring: it wraps at least twice, and fills up.
    for (let i = 0; i < 16_000; i++) {
      const port = i % 3 === 0 ? 1 : 0;
      const f = frame(port, i);
      while (!ring.push(port, f)) {
        full++;
        await new Promise((r) => setTimeout(r, 1));
      }
      want[port]!.push(f);
    }
    await until(() => ring.counter(0, "sent") + ring.counter(1, "sent") === 16_000);
    assert.equal(ring.ringFull, full);
    for (const port of [0, 1]) {
      assert.equal(ring.counter(port, "sent"), want[port]!.length);
      assert.equal(ring.counter(port, "full") + ring.counter(port, "err"), 0);
      assert.deepEqual(new Uint8Array(readFileSync(files[port]!)), new Uint8Array(Buffer.concat(want[port]!)), `port ${port}: bytes and order`);
    }
    assert.deepEqual(errors, []);
  } finally {
    ring.close();
    for (const fd of fds) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a frame the socket refuses is counted, and the next ones still go", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lvslab-txring-"));
  const good = openSync(join(dir, "good"), "a");
  const readOnly = openSync(join(dir, "good"), "r"); // write() fails with EBADF
  const ring = new TxRing([readOnly, good], () => undefined);
  try {
    assert.equal(ring.push(1, new Uint8Array(0x10000)), false, "longer than a record can say");
    ring.push(0, frame(0, 1));
    ring.push(1, frame(1, 2));
    ring.push(0, frame(0, 3));
    await until(() => ring.counter(1, "sent") === 1 && ring.counter(0, "err") === 2);
    assert.equal(ring.counter(0, "sent"), 0);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, "good"))), frame(1, 2));
  } finally {
    ring.close();
    closeSync(good);
    closeSync(readOnly);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("received frames keep their bytes, per socket, while reading goes on across many slabs; end of input stops the I/O", { skip: spawnSync("mkfifo", ["--version"]).status !== 0 ? "no mkfifo" : false }, async () => {
  // Two FIFOs stand in for the packet sockets: a read returns what one write put there
  // when each frame is written only after the one before was taken.
  const dir = mkdtempSync(join(tmpdir(), "lvslab-rx-"));
  const paths = [join(dir, "a"), join(dir, "b")];
  for (const f of paths) assert.equal(spawnSync("mkfifo", [f]).status, 0);
  const readers = paths.map((f) => openSync(f, fsc.O_RDONLY | fsc.O_NONBLOCK));
  const writers = paths.map((f) => openSync(f, fsc.O_WRONLY));
  const io = openDirectPacketIo(["a", "b"], new Map([["a", { rx: readers[0]!, tx: readers[0]! }], ["b", { rx: readers[1]!, tx: readers[1]! }]]));
  try {
    await io.ready;
    const got: Array<[number, Uint8Array]> = [];
    let batches = 0;
    const exits: string[] = [];
    let wake: () => void = () => undefined;
    io.onFrame = (port, f) => {
      got.push([port, f]);
      wake();
    };
    io.onBatch = () => batches++;
    io.onExit = (why) => exits.push(why);
    const sent: Array<[number, Uint8Array]> = [];
    // About 2.3 MB per socket: its 1 MiB slab runs out twice.
    for (let i = 0; i < 6000; i++) {
      const port = i % 2;
      const f = frame(port, i);
      writeSync(writers[port]!, f);
      sent.push([port, f]);
      if (got.length < sent.length) await new Promise<void>((r) => (wake = r));
    }
    assert.equal(batches, sent.length, "each read is a batch");
    // Compared only now: a frame handed on earlier must not have been written over since.
    for (let i = 0; i < sent.length; i++) {
      assert.equal(got[i]![0], sent[i]![0], `frame ${i}: port`);
      assert.deepEqual(got[i]![1], sent[i]![1], `frame ${i}: bytes`);
    }
    assert.deepEqual(io.stats.rx, [3000, 3000]);
    assert.deepEqual(exits, []);
    closeSync(writers[1]!);
    writers[1] = -1;
    await until(() => exits.length === 1);
    assert.deepEqual(exits, ["b: end of file"]);
  } finally {
    io.close();
    for (const fd of writers) if (fd >= 0) closeSync(fd); // the readers went with the I/O
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the launcher's hand-over: sockets by interface, its failure as the error the bridge gives", () => {
  assert.equal(inheritedPacketFds({}), undefined);
  assert.deepEqual(
    inheritedPacketFds({ [FDS_ENV]: "eth0=3:4,eth1=5:6,bad,x=1,y=7:1,z=8:9:10,w=:9,eth2=11" }),
    new Map([["eth0", { rx: 3, tx: 4 }], ["eth1", { rx: 5, tx: 6 }]]),
  );
  const e = inheritedPacketFds({ [ERROR_ENV]: "eth1: Operation not permitted|1" });
  assert.ok(e instanceof Error);
  assert.equal(e.message, "cannot open a raw socket on eth1: Operation not permitted (real mode needs root, or CAP_NET_RAW and CAP_NET_ADMIN)");
  const e2 = inheritedPacketFds({ [ERROR_ENV]: "eth9: No such device|19" });
  assert.equal((e2 as Error).message, "cannot open a raw socket on eth9: No such device");
  assert.equal(wantsLaunch({ [IO_ENV]: "bridge" }), false);
  assert.equal(wantsLaunch({ [FDS_ENV]: "eth0=3" }), false);
  assert.equal(wantsLaunch({ [ERROR_ENV]: "x|1" }), false);
  assert.equal(wantsLaunch({}), true);
  assert.deepEqual(launchArgv(["eth0"], ["node", "x.js"]).slice(3), ["eth0", "--", "node", "x.js"]);
  assert.deepEqual(launchArgv(["eth0"], ["node"], { pdeathsig: true }).slice(3), ["--pdeathsig", "eth0", "--", "node"]);
});

test("the launcher runs the program with the reason when it cannot open a socket", { skip: spawnSync("python3", ["-V"]).status !== 0 ? "no python3" : false }, () => {
  // An interface that does not exist: the program still runs, told why (ENODEV, or EPERM without root).
  const r = spawnSync("python3", ["-c", LAUNCH_PY, "lvslab-no-such-if0", "--", "sh", "-c", `echo "$${FDS_ENV}|$${ERROR_ENV}"`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\|lvslab-no-such-if0: (No such device|Operation not permitted)\|(19|1)\n$/);
});
