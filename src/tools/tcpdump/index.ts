/**
 * # src/tools/tcpdump — capture, print, filter, save
 *
 * What users read to learn LVS are captures, so this folder reproduces tcpdump 4.99.3 /
 * libpcap 1.10.3 byte for byte for the packets a lab produces:
 *
 * - `print.ts`: frame bytes → tcpdump's lines (Ethernet, Linux cooked v2, ARP, IPv4,
 *   IP-in-IP, TCP with relative sequence numbers and options, UDP, ICMP, dumps), reading
 *   every field with bounds checks so malformed and truncated frames print as tcpdump does.
 * - `filter.ts`: the pcap-filter language (`compileFilter`), with libpcap's precedence,
 *   qualifier inheritance and error texts.
 * - `pcap.ts`: classic pcap writer (`PcapWriter`, µs or ns, EN10MB or LINUX_SLL2) and reader.
 * - `tcpdump.ts`: the command (`-i`, `-r`, `-w`, `-c`, `-n`, `-e`, `-v`, `-x`, `-t` …).
 *
 * Differences from the real program are listed in README.md.
 */
export { tcpdump } from "./tcpdump.js";
export { compileFilter, type FilterResult, type FilterOptions, type CompiledFilter, type FilterNames } from "./filter.js";
export {
  PcapWriter, readPcap, toSll2, linktypeText, type PcapWriterOptions, type PcapFile, type PcapRecord,
  LINKTYPE_EN10MB, LINKTYPE_SLL2, DEFAULT_SNAPLEN, ARPHRD_ETHER, ARPHRD_LOOPBACK,
} from "./pcap.js";
export { Printer, type PrintOptions, type PacketRecord } from "./print.js";
export type { TcpdumpNames } from "./names.js";
