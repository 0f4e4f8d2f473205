import assert from "node:assert/strict";
import { test } from "node:test";
import { ETHERTYPE_IPV4, parseEthernet } from "./ethernet.js";
import { parseIpv4 } from "./ipv4.js";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, parseTcp, tcpChecksumOk } from "./tcp.js";
import {
  buildFrame, buildTcpPacket, describePacket, fromHex, hex, tcpFlagsFromText, tcpFlagsToText, tcpOptionsFromText,
  tcpOptionsToText,
} from "./testing.js";

test("flags in tcpdump letters", () => {
  assert.equal(tcpFlagsFromText("S"), TCP_SYN);
  assert.equal(tcpFlagsFromText("S."), TCP_SYN | TCP_ACK);
  assert.equal(tcpFlagsFromText("P."), TCP_PSH | TCP_ACK);
  assert.equal(tcpFlagsToText(TCP_FIN | TCP_ACK), "F.");
  assert.equal(tcpFlagsToText(0), "none");
  assert.equal(tcpFlagsToText(0xff), "FSRP.UEW");
  assert.throws(() => tcpFlagsFromText("X"));
});

test("options text round trip", () => {
  const t = "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7,toa 192.168.1.10:54321,sack {1:2}{3:4},unknown-200 0x0102,eol";
  assert.equal(tcpOptionsToText(tcpOptionsFromText(t)), t);
  assert.throws(() => tcpOptionsFromText("mss"));
});

test("a frame built around a packet parses back", () => {
  const pkt = buildTcpPacket({ src: "10.0.0.1", sport: 1234, dst: "10.0.0.2", dport: 80, flags: "P.", seq: 5, ack: 9, payload: "GET / HTTP/1.1\r\n\r\n" });
  const f = buildFrame({ src: "02:00:00:00:00:01", dst: "02:00:00:00:00:02", payload: pkt });
  const e = parseEthernet(f);
  assert.ok(e.ok && e.value.ethertype === ETHERTYPE_IPV4);
  const ip = parseIpv4(e.value.payload);
  assert.ok(ip.ok);
  assert.ok(tcpChecksumOk(ip.value.payload, ip.value.header.src, ip.value.header.dst));
  const t = parseTcp(ip.value.payload);
  assert.ok(t.ok);
  assert.equal(new TextDecoder().decode(t.value.payload), "GET / HTTP/1.1\r\n\r\n");
  assert.equal(describePacket(pkt), "10.0.0.1.1234 > 10.0.0.2.80: tcp [P.] seq 5 ack 9 win 64240 length 18 ttl 64");
  pkt[pkt.length - 1] ^= 1;
  assert.equal(describePacket(pkt), "10.0.0.1.1234 > 10.0.0.2.80: tcp [P.] seq 5 ack 9 win 64240 length 18 [bad tcp cksum] ttl 64");
});

test("hex helpers", () => {
  assert.equal(hex(fromHex("0x45 00:3c")), "45 00 3c");
  assert.throws(() => fromHex("abc"));
});
