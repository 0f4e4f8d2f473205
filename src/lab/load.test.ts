import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import fc from "fast-check";
import { formatIp4, formatMac, parseIp4 } from "../wire/addr.js";
import {
  closest, editDistance, formatDiagnostic, generateMac, loadLab, parseClock, parseDuration,
} from "./load.js";
import type { Diagnostic, LabSpec, RunStep } from "./schema.js";
import { checkExpect } from "./runner.js";

// Tests run from dist/src/lab; the sources sit four levels up from there.
const ROOT = new URL("../../../", import.meta.url);
const read = (rel: string) => readFileSync(new URL(rel, ROOT), "utf8");

function ok(text: string, file = "t.yaml"): LabSpec {
  const r = loadLab(text, file);
  if (!r.ok) assert.fail(r.diagnostics.map(formatDiagnostic).join("\n"));
  return r.lab;
}

function bad(text: string, file = "t.yaml"): Diagnostic[] {
  const r = loadLab(text, file);
  assert.equal(r.ok, false, "expected diagnostics");
  return r.ok ? [] : r.diagnostics;
}

const MINIMAL = `lab: t
segments:
  lan: {}
hosts:
  a:
    nics:
      eth0: { segment: lan, addrs: [10.0.0.1/24] }
  b:
    nics:
      eth0: { segment: lan, addrs: [10.0.0.2/24] }
`;

test("every shipped lab loads without diagnostics", () => {
  const files = readdirSync(new URL("labs/", ROOT)).filter((f) => f.endsWith(".yaml"));
  assert.ok(files.length >= 3, `labs found: ${files.join(", ")}`);
  for (const f of files) ok(read(`labs/${f}`), `labs/${f}`);
});

test("the example in docs/lab-format.md loads", () => {
  const doc = read("docs/lab-format.md");
  const m = /```yaml\n([\s\S]*?)```/.exec(doc);
  assert.ok(m);
  const lab = ok(m[1]!, "docs/lab-format.md");
  assert.deepEqual(lab.hosts.map((h) => h.name), ["vip", "real_server1", "client"]);
});

test("each broken lab gives exactly the expected diagnostics", () => {
  const files = readdirSync(new URL("labs/broken/", ROOT)).filter((f) => f.endsWith(".yaml"));
  assert.ok(files.length >= 3);
  for (const f of files) {
    const name = `labs/broken/${f}`;
    const r = loadLab(read(name), name);
    assert.equal(r.ok, false, `${name} should not load`);
    const got = r.ok ? "" : r.diagnostics.map(formatDiagnostic).join("\n") + "\n";
    assert.equal(got, read(name.replace(/\.yaml$/, ".expected")), name);
  }
});

test("the brief's example diagnostic, field by field", () => {
  const name = "labs/broken/bad-address.yaml";
  const r = loadLab(read(name), name);
  assert.ok(!r.ok);
  assert.deepEqual(r.diagnostics[0], {
    file: name, line: 12, column: 37, path: "hosts.vip.nics.eth1.addrs[0]",
    message: '"192.168.75.300/24" is not an IPv4 address with a prefix (like 192.168.75.131/24)',
  });
});

test("lvs-nat.yaml is the seed's environment", () => {
  const lab = ok(read("labs/lvs-nat.yaml"), "labs/lvs-nat.yaml");
  assert.equal(lab.name, "lvs-nat");
  assert.deepEqual(lab.hosts.map((h) => h.name), ["vip", "real_server1", "real_server2", "client"]);
  const vip = lab.hosts[0]!;
  assert.equal(vip.ipvs, true);
  assert.deepEqual(vip.nics.map((n) => [n.name, n.segment, n.addrs.map((a) => a.text)]),
    [["eth0", "lan", ["192.168.1.186/24"]], ["eth1", "wan", ["192.168.75.131/24"]]]);
  // The seed's script, byte for byte (the sh tests keep the same text as a fixture).
  const script = vip.files.find((f) => f.path === "/usr/local/sbin/lvs_nat.sh");
  assert.equal(script?.content, read("src/tools/sh/fixtures/lvs_nat.sh"));
  const seedFile = new URL("../shared/seed/000_c03a33b35e79ed8f.txt", ROOT);
  if (existsSync(seedFile)) {
    const seed = readFileSync(seedFile, "utf8").split("\n");
    assert.equal(script?.content, seed.slice(seed.indexOf("#! /bin/bash"), seed.indexOf("2.执行脚本")).join("\n") + "\n");
  }
  for (const [host, page] of [["real_server1", "1111111111111master\n"], ["real_server2", "2222222222222slave\n"]] as const) {
    const h = lab.hosts.find((x) => x.name === host)!;
    assert.deepEqual(h.routes.map((r) => [r.to.text, formatIp4(r.via!)]), [["default", "192.168.1.186"]]);
    assert.deepEqual(h.files, [{ path: "/usr/share/nginx/html/index.html", content: page }]);
    assert.deepEqual(h.services, [{ kind: "nginx", root: "/usr/share/nginx/html", port: 80, index: "index.html", proxyProtocol: false }]);
  }
  const client = lab.hosts[3]!;
  assert.equal(formatMac(client.nics[0]!.mac), "00:0c:29:5a:c3:3e");
  assert.equal(client.nics[0]!.macGenerated, false);
  // wrr 1:2 as the real kernel served it (test/golden/kernel/seed-nat.out).
  const pages = lab.steps.filter((s): s is RunStep => s.kind === "run" && s.on === "client").map((s) => s.expect?.stdout?.[0]);
  assert.deepEqual(pages, ["2", "1", "2", "2", "1", "2"]);
  assert.equal(lab.segments.find((s) => s.name === "lan")?.type, "switch");
  assert.equal(ok(read("labs/lvs-nat-hub.yaml")).segments.find((s) => s.name === "lan")?.type, "hub");
});

test("defaults are filled in", () => {
  const lab = ok(MINIMAL);
  assert.equal(lab.seed, 1);
  assert.equal(lab.timezone, "UTC");
  assert.equal(lab.clockEpochUs, Date.UTC(2026, 10, 24, 1, 0, 0) * 1000);
  assert.equal(lab.description, "");
  assert.deepEqual(lab.segments, [{ name: "lan", type: "switch", latencyUs: 50 }]);
  const a = lab.hosts[0]!;
  assert.equal(a.hostname, "a");
  assert.equal(a.ipvs, false);
  assert.equal(a.nics[0]!.mtu, 1500);
  assert.deepEqual(a.nics[0]!.addrs, [{ addr: parseIp4("10.0.0.1"), prefix: 24, text: "10.0.0.1/24" }]);
  assert.deepEqual(lab.steps, []);
  assert.equal(lab.source, "t.yaml");
});

test("durations parse to integer microseconds", () => {
  const cases: [string, number | undefined][] = [
    ["50us", 50], ["1ms", 1000], ["0.2ms", 200], ["1s", 1_000_000], ["1.5s", 1_500_000],
    ["2m", 120_000_000], ["0us", 0], ["0.5m", 30_000_000], ["1.000001s", 1_000_001],
    ["0.1us", undefined], ["0.0001ms", undefined], ["1", undefined], ["1 s", undefined],
    ["-1s", undefined], ["1h", undefined], ["s", undefined], ["1.s", undefined], ["", undefined],
    ["99999999999999999s", undefined],
  ];
  for (const [s, us] of cases) assert.equal(parseDuration(s), us, s);
  const lab = ok(MINIMAL + "steps:\n  - { sleep: 0.25s }\n  - { sleep: 3m }\n");
  assert.deepEqual(lab.steps.map((s) => s.kind === "sleep" && s.durationUs), [250_000, 180_000_000]);
  const d = bad(MINIMAL + "steps:\n  - { sleep: 0.5us }\n");
  assert.equal(formatDiagnostic(d[0]!), 't.yaml:12:14: steps[0].sleep: "0.5us" is not a duration\n  hint: it must be a whole number of microseconds');
});

test("clock times and zones", () => {
  assert.equal(parseClock("1970-01-01T00:00:00Z"), 0);
  assert.equal(parseClock("2026-11-24T01:00:00.000250Z"), Date.UTC(2026, 10, 24, 1) * 1000 + 250);
  assert.equal(parseClock("2026-11-24T09:00:00+08:00"), Date.UTC(2026, 10, 24, 1) * 1000);
  assert.equal(parseClock("2026-02-30T00:00:00Z"), undefined);
  assert.equal(parseClock("2026-11-24T24:00:00Z"), undefined);
  assert.equal(parseClock("2026-11-24 01:00"), undefined);
  const lab = ok(`clock: "2026-11-24T00:58:58Z"\ntimezone: Asia/Shanghai\n` + MINIMAL);
  assert.equal(lab.clockEpochUs, Date.UTC(2026, 10, 24, 0, 58, 58) * 1000);
  assert.equal(lab.timezone, "Asia/Shanghai");
  const d = bad(`clock: yesterday\ntimezone: Mars/Olympus\n` + MINIMAL);
  assert.deepEqual(d.map((x) => [x.line, x.path]), [[1, "clock"], [2, "timezone"]]);
});

test("generated MACs are deterministic, unicast, unique, and never steal a given one", () => {
  const a = ok(MINIMAL);
  const b = ok(MINIMAL.replace("lab: t", "lab: other\nseed: 7"));
  assert.deepEqual(a.hosts.map((h) => h.nics[0]!.mac), b.hosts.map((h) => h.nics[0]!.mac));
  assert.equal(a.hosts[0]!.nics[0]!.mac, generateMac("a", "eth0"));
  assert.equal(a.hosts[0]!.nics[0]!.macGenerated, true);
  assert.match(formatMac(generateMac("vip", "eth0")), /^00:0c:29:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
  assert.notEqual(generateMac("vip", "eth0"), generateMac("vip", "eth1"));
  assert.notEqual(generateMac("a", "eth0", 1), generateMac("a", "eth0"));
  // A MAC written in the file that equals a's generated one: b keeps it, a gets another.
  const taken = formatMac(generateMac("a", "eth0"));
  const lab = ok(MINIMAL.replace("eth0: { segment: lan, addrs: [10.0.0.2/24] }", `eth0: { segment: lan, mac: "${taken}", addrs: [10.0.0.2/24] }`));
  assert.equal(formatMac(lab.hosts[1]!.nics[0]!.mac), taken);
  assert.equal(lab.hosts[0]!.nics[0]!.mac, generateMac("a", "eth0", 1));
});

test("unknown keys get a did-you-mean hint, or the list of known keys", () => {
  const d = bad("lab: t\nhots: {}\nsegments: { lan: { typ: hub, colour: red } }\n");
  assert.deepEqual(d.map((x) => [x.path, x.message, x.hint]), [
    ["hots", 'unknown field "hots"', 'did you mean "hosts"?'],
    ["segments.lan.typ", 'unknown field "typ"', 'did you mean "type"?'],
    ["segments.lan.colour", 'unknown field "colour"', "known fields: type, latency"],
  ]);
  assert.equal(editDistance("segmnet", "segment"), 1);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(closest("ngnix", ["nginx"]), "nginx");
  assert.equal(closest("zzz", ["nginx"]), undefined);
});

test("all errors are collected, in file order, and formatted with the path", () => {
  const d = bad(`lab: t
segments:
  lan: { type: hub }
hosts:
  "bad host":
    nics: {}
  vip:
    hostname: "vip!"
    nics:
      eth0: { segment: lan, mac: "00:0c:29:a1:b2", addrs: [10.0.0.1/33], mtu: 20 }
    routes:
      - { to: default }
    sysctl: { "net/ipv4/ip_forward": 1 }
    files:
      /etc/x: { content: "x", mode: 755 }
steps:
  - { on: vip }
  - { run: ls }
  - {}
`);
  assert.deepEqual(d.map((x) => `${x.line}:${x.column} ${x.path}`), [
    "5:3 hosts[\"bad host\"]",
    "8:15 hosts.vip.hostname",
    "10:34 hosts.vip.nics.eth0.mac",
    "10:60 hosts.vip.nics.eth0.addrs[0]",
    "10:79 hosts.vip.nics.eth0.mtu",
    "12:9 hosts.vip.routes[0]",
    "13:15 hosts.vip.sysctl[\"net/ipv4/ip_forward\"]",
    "15:37 hosts.vip.files[\"/etc/x\"].mode",
    "17:5 steps[0]",
    "18:5 steps[1]",
    "19:5 steps[2]",
  ]);
  assert.equal(d[7]!.hint, 'quote it: mode: "0755"');
  assert.equal(d[8]!.message, "a step needs one of run, sleep, stop or note");
  assert.equal(d[9]!.message, 'missing field "on"');
});

test("routes: destinations, gateways and devices", () => {
  const lab = ok(MINIMAL.replace("  b:\n", `    routes:
      - { to: default, via: 10.0.0.254 }
      - { to: 172.16.0.0/12, via: 10.0.0.9, dev: eth0, metric: 10 }
      - { to: 192.168.9.9, dev: eth0 }
  b:
`));
  assert.deepEqual(lab.hosts[0]!.routes.map((r) => [r.to.text, r.via === undefined ? "-" : formatIp4(r.via), r.dev ?? "-", r.metric ?? "-"]), [
    ["default", "10.0.0.254", "-", "-"],
    ["172.16.0.0/12", "10.0.0.9", "eth0", 10],
    ["192.168.9.9/32", "-", "eth0", "-"],
  ]);
  const d = bad(MINIMAL.replace("  b:\n", `    routes:
      - { to: default, via: 10.0.0.254/24 }
      - { to: default, via: 10.0.0.1, dev: eth9 }
      - { to: 10.1.0.0/16, via: 10.0.0.3 }
      - { to: 10.1.0.0/16, via: 10.0.0.4 }
  b:
`));
  assert.deepEqual(d.map((x) => x.message), [
    '"10.0.0.254/24" is not an IPv4 address (like 192.168.1.186)',
    'this host has no interface "eth9"',
    "a route to 10.1.0.0/16 is already given at hosts.a.routes[2]",
  ]);
});

test("steps: run with expectations, background, stop, note", () => {
  const lab = ok(MINIMAL + `steps:
  - { on: a, run: "tcpdump -nn -i eth0", background: true, name: cap }
  - { note: hello }
  - on: b
    run: curl 10.0.0.1
    timeout: 10s
    expect: { exit: 0, stdout: "x\\n", contains: one, not_contains: [two, three] }
  - { stop: cap }
`);
  const [cap, note, curl, stop] = lab.steps;
  assert.deepEqual(cap, { kind: "run", index: 0, pos: { file: "t.yaml", line: 12, column: 5 }, on: "a", run: "tcpdump -nn -i eth0", background: true, name: "cap" });
  assert.deepEqual(note, { kind: "note", index: 1, pos: { file: "t.yaml", line: 13, column: 5 }, note: "hello" });
  assert.ok(curl?.kind === "run");
  assert.equal(curl.timeoutUs, 10_000_000);
  assert.deepEqual(curl.expect, { exit: 0, stdout: "x\n", contains: ["one"], notContains: ["two", "three"], matches: [] });
  assert.deepEqual(stop, { kind: "stop", index: 3, pos: { file: "t.yaml", line: 18, column: 5 }, stop: "cap" });
  const d = bad(MINIMAL + `steps:
  - { on: a, run: "x", background: true, name: cap }
  - { on: a, run: "y", name: cap }
  - { stop: cap }
  - { stop: cap }
  - { on: a, run: " ", expect: { exit: 256 } }
  - { on: a, run: "z", expect: { matches: ["^ok$", "(unclosed"] } }
  - { on: a, run: "z", expect: { matches: 7 } }
`);
  assert.deepEqual(d.map((x) => x.message), [
    'step name "cap" is already used by steps[0]',
    'step "cap" is already stopped at steps[2]',
    "the command line is empty",
    "expected an exit status (an integer 0..255), found the number 256",
    "not a regular expression: /(unclosed/m: Unterminated group",
    "expected a regular expression or a list of them, found the number 7",
  ]);
  assert.deepEqual(d.slice(4).map((x) => `${x.line} ${x.path}`), ["17 steps[5].expect.matches[1]", "18 steps[6].expect.matches"]);
});

test("matches: regular expressions stdout must match, ^ and $ at every line", () => {
  const lab = ok(MINIMAL + `steps:
  - on: a
    run: "cat /var/log/nginx/access.log"
    expect: { matches: '^10\\.0\\.0\\.2 - - \\[\\d{2}/\\w{3}/\\d{4}:[\\d:]{8} \\+0000\\] "GET / ' }
`);
  const step = lab.steps[0]!;
  assert.ok(step.kind === "run" && step.expect);
  const log = "10.0.0.9 - - [24/Nov/2026:00:58:01 +0000] \"GET / HTTP/1.1\" 200 2\n10.0.0.2 - - [25/Nov/2026:01:32:20 +0000] \"GET / HTTP/1.1\" 200 2\n";
  assert.deepEqual(checkExpect(step.expect, 0, log, ""), []);
  const other = log.replace("10.0.0.2 ", "10.0.0.3 ");
  assert.deepEqual(checkExpect(step.expect, 0, other, ""), [`stdout ${JSON.stringify(other)} does not match /${step.expect.matches[0]!.source}/`]);
});

test("YAML syntax errors and non-lab documents are diagnostics", () => {
  for (const [text, msg] of [
    ["", "the lab file is empty"],
    ["lab: [", "YAML: "],
    ["- a\n- b\n", "expected a map with lab, hosts, segments and steps, found a list"],
    ["lab: t\nlab: u\nhosts: {}\n", "YAML: Map keys must be unique"],
    ["--- 1\n--- 2\n", "YAML: "],
  ] as const) {
    const d = bad(text);
    assert.ok(d[0]!.message.startsWith(msg), `${JSON.stringify(text)}: ${d[0]!.message}`);
    assert.ok(d[0]!.line >= 1 && d[0]!.column >= 1);
  }
  assert.ok(bad("lab: t\nhosts: *nope\n").some((x) => x.message === "YAML: no anchor &nope before this alias"));
  const d = bad("lab: t\nhosts: {}\n");
  assert.deepEqual(d.map(formatDiagnostic), ["t.yaml:2:8: hosts: a lab needs at least one host"]);
});

test("absurdly deep nesting is a diagnostic, not a crash", () => {
  for (const t of ["lab: t\nhosts: " + "[".repeat(20000), "- ".repeat(5000) + "x", "{a: ".repeat(20000)]) {
    const d = bad(t);
    assert.equal(d[0]!.message, "YAML: nested too deeply");
  }
  assert.equal(bad("lab: t\nhosts: " + "[".repeat(20000))[0]!.line, 2);
});

test("aliases are followed", () => {
  const lab = ok(`lab: t
segments: { lan: &sw { type: hub, latency: 1ms }, wan: *sw }
hosts:
  a: { nics: { eth0: { segment: lan, addrs: [10.0.0.1/24] } } }
`);
  assert.deepEqual(lab.segments.map((s) => [s.name, s.type, s.latencyUs]), [["lan", "hub", 1000], ["wan", "hub", 1000]]);
});

test("random YAML-ish text never throws", () => {
  const pieces = fc.constantFrom(
    "lab: ", "hosts:", "segments:", "steps:", "nics:", "eth0:", "segment: ", "addrs: ", "mac: ",
    "routes:", "- ", "{", "}", "[", "]", ",", ": ", "\n", "  ", "    ", "vip", "lan", "10.0.0.1/24",
    "300.1.1.1/8", "00:0c:29:00:00:01", "default", "via: ", "to: ", "on: ", "run: ", "sleep: ", "1s",
    "stop: ", "note: ", "expect: ", "exit: ", "&a ", "*a", "!!str ", "\"", "'", "|", ">", "#", "null",
    "true", "1", "-1", "0.5", "~", "?", "\t", "files:", "/x: ", "services:", "nginx", "sysctl:",
  );
  const text = fc.oneof(
    fc.array(pieces, { maxLength: 60 }).map((xs) => xs.join("")),
    fc.string({ maxLength: 200 }),
    fc.constant(MINIMAL).chain((m) => fc.tuple(fc.nat(m.length), fc.string({ maxLength: 8 }))
      .map(([i, s]) => m.slice(0, i) + s + m.slice(i))),
  );
  fc.assert(fc.property(text, (t) => {
    const r = loadLab(t, "f.yaml");
    if (!r.ok) {
      assert.ok(r.diagnostics.length > 0);
      for (const d of r.diagnostics) {
        assert.ok(Number.isInteger(d.line) && d.line >= 1 && Number.isInteger(d.column) && d.column >= 1);
        formatDiagnostic(d);
      }
    }
  }), { numRuns: 2000 });
});

test("nginx proxy_protocol and log_format load, and an unknown log variable is named", () => {
  const svc = (s: string) => MINIMAL.replace("      eth0: { segment: lan, addrs: [10.0.0.2/24] }\n", `      eth0: { segment: lan, addrs: [10.0.0.2/24] }\n    services:\n      - nginx: ${s}\n`);
  const lab = ok(svc(`{ port: 8080, proxy_protocol: true, log_format: '$proxy_protocol_addr "$request"' }`));
  assert.deepEqual(lab.hosts.find((h) => h.name === "b")!.services, [
    { kind: "nginx", root: "/usr/share/nginx/html", port: 8080, index: "index.html", proxyProtocol: true, logFormat: '$proxy_protocol_addr "$request"' },
  ]);
  const d = bad(svc(`{ log_format: '$remote_addr $proxy_addr' }`));
  assert.equal(d.length, 1);
  assert.match(formatDiagnostic(d[0]!), /^t\.yaml:12:\d+: hosts\.b\.services\[0\]\.nginx\.log_format: unknown "proxy_addr" variable/);
});
