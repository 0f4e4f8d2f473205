/**
 * Differential test against the real tcpdump (4.99.3 on Debian 12, as CI installs it):
 * pcaps written by PcapWriter, printed by `tcpdump -r` and by our Printer, must be
 * byte-identical for every option set below; a few filters are re-checked as well.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINKTYPE_RAW, PcapWriter, readPcap } from "./pcap.js";
import { Printer, type PrintOptions } from "./print.js";
import { compileFilter } from "./filter.js";
import { extra, misc, tcp80, tunnels } from "./samples.test-helper.js";

const which = spawnSync("sh", ["-c", "command -v tcpdump"], { encoding: "utf8" });
const version = which.status === 0 ? spawnSync("tcpdump", ["--version"], { encoding: "utf8" }).stdout : "";
const skip = which.status !== 0 ? "tcpdump is not installed"
  : !version.startsWith("tcpdump version 4.99.3") ? `installed tcpdump is not 4.99.3: ${version.split("\n")[0]}` : false;

const FLAGS: [string[], PrintOptions][] = [
  [["-nn"], { numeric: 2 }],
  [["-nn", "-e"], { numeric: 2, link: true }],
  [["-nn", "-v"], { numeric: 2, verbose: 1 }],
  [["-nn", "-vv"], { numeric: 2, verbose: 2 }],
  [["-nn", "-e", "-v"], { numeric: 2, link: true, verbose: 1 }],
  [["-nn", "-x"], { numeric: 2, hex: 1 }],
  [["-nn", "-xx"], { numeric: 2, hex: 2 }],
  [["-nn", "-X"], { numeric: 2, hexAscii: 1 }],
  [["-nn", "-XX"], { numeric: 2, hexAscii: 2 }],
  [["-nn", "-A"], { numeric: 2, ascii: 1 }],
  [["-nn", "-S"], { numeric: 2, absoluteSeq: true }],
  [["-nn", "-q"], { numeric: 2, quiet: 1 }],
  [["-nn", "-q", "-e"], { numeric: 2, quiet: 1, link: true }],
  [["-nn", "-tt"], { numeric: 2, tsFormat: 2 }],
  [["-nn", "-ttt"], { numeric: 2, tsFormat: 3 }],
  [["-nn", "-tttt"], { numeric: 2, tsFormat: 4 }],
  [["-nn", "-ttttt"], { numeric: 2, tsFormat: 5 }],
];

test("our printer and the real tcpdump -r print identical text", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "lvslab-tcpdump-"));
  try {
    for (const snaplen of [262144, 54, 40]) {
      const w = new PcapWriter({ snaplen });
      for (const s of [...tcp80(), ...misc(), ...extra(), ...tunnels()]) w.add(s.usec, s.frame, s.origLen);
      const file = join(dir, `s${snaplen}.pcap`);
      writeFileSync(file, w.bytes());
      const parsed = readPcap(w.bytes());
      assert.ok(typeof parsed !== "string");
      for (const [args, opts] of FLAGS) {
        const real = spawnSync("tcpdump", [...args, "-r", file], { env: { TZ: "UTC" }, encoding: "latin1" });
        assert.equal(real.status, 0, real.stderr);
        const p = new Printer({ ...opts, tz: "UTC" });
        const ours = parsed.records.map((r) => p.format(r)).join("");
        assert.equal(ours, real.stdout, `${args.join(" ")} -s ${snaplen}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a few filters select the same packets as the real tcpdump", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "lvslab-tcpdump-"));
  try {
    const samples = [...tcp80(), ...misc(), ...extra()];
    const w = new PcapWriter();
    samples.forEach((s, i) => w.add(1700000000_000000 + i * 1000, s.frame, s.origLen));
    const file = join(dir, "all.pcap");
    writeFileSync(file, w.bytes());
    for (const expr of ["host 192.168.1.10 and ! port 22", "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "port 80 or 9000 and not arp", "icmp or vlan"]) {
      const real = spawnSync("tcpdump", ["-nn", "-tt", "-r", file, expr], { encoding: "utf8" });
      const want = real.stdout.split("\n").filter((l) => /^\d+\.\d+ /.test(l)).map((l) => Math.round((Number(l.split(" ")[0]) - 1700000000) * 1000));
      const f = compileFilter(expr);
      assert.ok(f.ok);
      const got = samples.map((s, i) => (f.match(s.frame, s.origLen ?? s.frame.length) ? i : -1)).filter((i) => i >= 0);
      assert.deepEqual(got, want, expr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("raw IP captures (tunnel devices, LINKTYPE_RAW): our printer and the real tcpdump -r agree", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "lvslab-tcpdump-"));
  try {
    const w = new PcapWriter({ linktype: LINKTYPE_RAW });
    // The IPv4 packets of the Ethernet samples, without their Ethernet header.
    for (const s of [...tcp80(), ...misc(), ...tunnels()]) {
      if (s.frame.length > 14 && s.frame[12] === 0x08 && s.frame[13] === 0x00) w.add(s.usec, s.frame.subarray(14));
    }
    const file = join(dir, "raw.pcap");
    writeFileSync(file, w.bytes());
    const parsed = readPcap(w.bytes());
    if (typeof parsed === "string") assert.fail(parsed);
    const records = parsed.records;
    assert.ok(records.length > 10);
    for (const [args, opts] of FLAGS) {
      const real = spawnSync("tcpdump", [...args, "-r", file], { env: { TZ: "UTC" }, encoding: "latin1" });
      assert.equal(real.status, 0, real.stderr);
      const p = new Printer({ ...opts, tz: "UTC" }, LINKTYPE_RAW);
      assert.equal(records.map((r) => p.format(r)).join(""), real.stdout, args.join(" "));
    }
    for (const expr of ["tcp port 80", "ip and host 192.168.1.10", "icmp", "ip proto 47"]) {
      const real = spawnSync("tcpdump", ["-nn", "-tt", "-r", file, expr], { encoding: "utf8" });
      const f = compileFilter(expr, { linktype: LINKTYPE_RAW });
      assert.ok(f.ok);
      const ours: number = records.filter((r) => f.match(r.data, r.origLen)).length;
      assert.equal(ours, real.stdout.split("\n").filter((l) => /^\d+\.\d+ /.test(l)).length, expr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
