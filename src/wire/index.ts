/**
 * # src/wire — bytes ↔ values
 *
 * This layer turns packet bytes into values and back: Ethernet, ARP, IPv4, TCP (with its
 * options, including the LVS TOA option), UDP and ICMP, the Internet checksum, and the
 * PROXY protocol header a proxy puts first in a TCP stream (`proxy.ts`). It has
 * no state (apart from the slab `allocBytes` carves packet bytes from), no clock and imports
 * nothing outside this folder.
 *
 * Its guarantees:
 * - **Parsing never throws.** `parseX(bytes)` returns a `WireResult`: the value, or a short
 *   stable error name ("truncated", "bad-version", "bad-ihl", "bad-checksum", …) that the
 *   network layer uses as the drop reason. Parsed values hold views into the input bytes
 *   (payloads, options), not copies.
 * - **Parse and emit are a pair.** `emitX(value)` returns fresh bytes with lengths and
 *   checksums computed; `parseX(emitX(v))` gives `v` back, which the tests check for every
 *   codec. Emit throws only on values no header can hold (a bug in the caller).
 * - **Two forms per protocol.** Besides the value types there are fast readers and in-place
 *   writers on raw bytes (`ip4Dst`, `tcpDstPort`, `ip4DecTtl`, `natRewriteDst`, …) for the
 *   forwarding path: they allocate nothing, assume the packet was validated, and keep every
 *   checksum right incrementally (RFC 1624).
 *
 * Addresses are numbers (`Ip4`, `Mac`); text forms are for the edges (`formatIp4`).
 * `testing.ts` (import it directly; it is not re-exported here) builds readable packets
 * for tests: `buildTcpPacket`, `buildUdpPacket`, `buildPing`, `buildFrame`, `buildArpFrame`.
 *
 * Not here (yet): IPv6, 802.1Q tag decoding (a tagged frame parses with ethertype 0x8100),
 * interpretation of IPv4 options, TCP MD5/AO/MPTCP options (kept as `unknown`), and
 * IP-in-IP helpers (an IPIP packet is `emitIpv4` with protocol 4 around the inner packet).
 */
export * from "./result.js";
export * from "./addr.js";
export * from "./alloc.js";
export * from "./checksum.js";
export * from "./ethernet.js";
export * from "./arp.js";
export * from "./ipv4.js";
export * from "./tcp.js";
export * from "./udp.js";
export * from "./icmp.js";
export * from "./proxy.js";
