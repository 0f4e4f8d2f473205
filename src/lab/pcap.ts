/**
 * Packet captures of a whole lab: one classic pcap (EN10MB, µs) per non-loopback NIC of
 * every host, as `lvslab run --pcap DIR` writes them. Attach before the lab runs; the
 * returned function gives the files so far, named `HOST-NIC.pcap`.
 */
import { PcapWriter } from "../tools/tcpdump/index.js";
import type { BuiltLab } from "./build.js";

export function attachPcaps(lab: BuiltLab): () => Map<string, Uint8Array> {
  const writers = new Map<string, PcapWriter>();
  for (const [name, host] of lab.hosts) {
    for (const nic of host.nics.values()) {
      if (nic.isLoopback) continue;
      const w = new PcapWriter({});
      writers.set(`${name}-${nic.name}.pcap`, w);
      host.capture.tap(nic.name, (f) => w.add(lab.world.epochUs + f.ts, f.frame));
    }
  }
  return () => new Map([...writers].map(([k, w]) => [k, w.bytes()]));
}
