/**
 * Packet captures of a whole lab: one classic pcap (EN10MB, µs) per non-loopback NIC of
 * every host, as `lvslab run --pcap DIR` writes them. Attach before the lab runs; the
 * returned function gives the files so far, named `HOST-NIC.pcap`.
 */
import { LINKTYPE_EN10MB, LINKTYPE_RAW, PcapWriter } from "../tools/tcpdump/pcap.js";
import { ARPHRD_ETHER } from "../wire/ethernet.js";
import type { BuiltLab } from "./build.js";

export function attachPcaps(lab: BuiltLab): () => Map<string, Uint8Array> {
  const writers = new Map<string, PcapWriter>();
  for (const [name, host] of lab.hosts) {
    for (const nic of host.nics.values()) {
      if (nic.isLoopback) continue;
      // A tunnel device has no link header: raw IP (LINKTYPE_RAW), as tcpdump -i tunl0 writes.
      const w = new PcapWriter({ linktype: nic.hatype === ARPHRD_ETHER ? LINKTYPE_EN10MB : LINKTYPE_RAW });
      writers.set(`${name}-${nic.name}.pcap`, w);
      host.capture.tap(nic.name, (f) => w.add(lab.world.epochUs + f.ts, f.frame));
    }
  }
  return () => new Map([...writers].map(([k, w]) => [k, w.bytes()]));
}
