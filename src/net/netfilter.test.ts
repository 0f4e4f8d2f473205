import { test } from "node:test";
import assert from "node:assert/strict";
import { Netfilter, type PacketInfo, type Rule } from "./netfilter.js";

const base: PacketInfo = { proto: 6, src: 0xc0a80155, dst: 0xc0a84b96, sport: 80, dport: 40000, tcpFlags: 0x11, inIf: "", outIf: "eth0", length: 52 };
function rule(r: Partial<Rule>): Rule {
  return { target: "DROP", targetArgs: {}, spec: "", pkts: 0, bytes: 0, ...r };
}

test("--tcp-flags FIN FIN drops only segments carrying FIN", () => {
  const nf = new Netfilter();
  nf.table("filter").get("OUTPUT")!.rules.push(rule({ proto: { value: 6, neg: false }, sport: { lo: 80, hi: 80, neg: false }, tcpFlags: { mask: 1, comp: 1, neg: false } }));
  assert.equal(nf.evaluate("filter", "OUTPUT", base).verdict, "DROP");
  assert.equal(nf.evaluate("filter", "OUTPUT", { ...base, tcpFlags: 0x10 }).verdict, "ACCEPT");
  assert.equal(nf.evaluate("filter", "OUTPUT", { ...base, proto: 17, tcpFlags: -1 }).verdict, "ACCEPT");
});

test("! --syn and multiport lists and ranges", () => {
  const nf = new Netfilter();
  const chain = nf.table("filter").get("INPUT")!;
  chain.rules.push(rule({ tcpFlags: { mask: 0x17, comp: 0x02, neg: true }, target: "ACCEPT" }));
  chain.rules.push(rule({ multiport: { dir: "dports", ports: ["22", "8000:8080"], neg: false } }));
  chain.policy = "ACCEPT";
  assert.equal(nf.evaluate("filter", "INPUT", { ...base, tcpFlags: 0x10 }).verdict, "ACCEPT");
  assert.equal(nf.evaluate("filter", "INPUT", { ...base, tcpFlags: 0x02, dport: 8042 }).verdict, "DROP");
  assert.equal(nf.evaluate("filter", "INPUT", { ...base, tcpFlags: 0x02, dport: 22 }).verdict, "DROP");
  assert.equal(nf.evaluate("filter", "INPUT", { ...base, tcpFlags: 0x02, dport: 8081 }).verdict, "ACCEPT");
  assert.equal(nf.evaluate("filter", "INPUT", { ...base, tcpFlags: 0x02, sport: 22, dport: 1 }).verdict, "ACCEPT");
});
